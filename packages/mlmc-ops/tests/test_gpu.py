"""Spec item 13: the telescoping identity and per-sample gradients on CUDA (skipped without it)."""

import pytest
import torch
from mlmc_ops import MLMCSampler, MultiLevelData, mlmc_loss, per_sample_gradients

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


def _flat_grad(model, value):
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(value, list(model.parameters()))])


def _fno():
    from fno_conserve import FNO2d

    torch.manual_seed(0)
    return FNO2d(1, 1, 3, width=4, n_layers=2, grid="cells", padding=0.125).double().cuda()


@pytest.mark.parametrize("which", ["cnn", "fno"])
def test_telescoping_identity_on_cuda(which, make_cnn, fine_pool, loss_fn):
    x, y = (t[:64].cuda() for t in fine_pool)
    data = MultiLevelData.from_fine(x, y, (4, 8, 16))
    model = make_cnn().cuda() if which == "cnn" else _fno()
    batch = MLMCSampler(data, (16, 16, 16), pairing="nested", seed=1).sample()
    fine = batch.levels[-1]
    g_mlmc = _flat_grad(model, mlmc_loss(model, batch, loss_fn).value)
    g_fine = _flat_grad(model, loss_fn(model(fine.x), fine.y).mean())
    assert g_mlmc.is_cuda
    assert torch.allclose(g_mlmc, g_fine, rtol=0, atol=1e-12 * float(g_fine.abs().max()))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("chunk_size", [1, 3, 8])
def test_per_sample_gradients_equal_loop_on_cuda(dtype, chunk_size, make_cnn, fine_pool, loss_fn):
    model = make_cnn().to("cuda", dtype)
    x, y = (t[:7].to("cuda", dtype) for t in fine_pool)
    g = per_sample_gradients(model, x, y, loss_fn, chunk_size=chunk_size)
    tol = 1e-12 if dtype == torch.float64 else 1e-6
    for i in range(7):
        ref = torch.autograd.grad(
            loss_fn(model(x[i : i + 1]), y[i : i + 1]).sum(), list(model.parameters())
        )
        ref = torch.cat([r.reshape(-1) for r in ref])
        assert torch.allclose(g[i], ref, rtol=0, atol=tol * max(1.0, float(ref.abs().max())))
