"""Dtypes and devices, and the bench against PyG."""

import warnings

import pytest
import torch

from chebnet_stable import ChebConv, ScaledLaplacian


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_devices_and_dtypes(dtype):
    ei = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    conv = ChebConv(3, 2, 4).to(dtype)
    lap = ScaledLaplacian.from_graph(ei)  # float32 operator, converted on use
    x = torch.randn(4, 3, dtype=dtype)
    out = conv(x, lap)
    assert out.dtype == dtype
    ref = ChebConv(3, 2, 4).double()
    ref.load_state_dict(conv.state_dict())
    expected = ref(x.double(), ScaledLaplacian.from_graph(ei, dtype=torch.float64))
    assert torch.allclose(out.double(), expected, atol=1e-5 if dtype == torch.float32 else 1e-12)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    ei = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    conv = ChebConv(3, 2, 8)
    x = torch.randn(4, 3)
    cpu = conv(x, ei)
    gpu = conv.cuda()(x.cuda(), ei.cuda())
    assert torch.allclose(gpu.cpu(), cpu, atol=1e-5)


def test_bench_matches_pyg_and_reports_speedup():
    pytest.importorskip("torch_geometric")
    from chebnet_stable._experiments.bench import bench

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a busy shared machine only warns
        rows = bench(quick=True, seed=0, Ks=[3], nodes=[300], repeats=1, cold=False)
    warm, lean = rows
    for row in rows:
        assert row.speedup == pytest.approx(row.t_peer / row.t_ours)
    assert float(warm.label.split("|Δ|=")[1]) <= 1e-5
    assert lean.label.endswith("warm lean")
