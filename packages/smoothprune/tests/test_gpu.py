"""Spec section 8 item 15: items 1, 2 and 8 on CUDA (skipped without it)."""

import pytest
import torch
from smoothprune import LowRankConv2d, LowRankLinear, SpatialLowRankConv2d, compress_model
from smoothprune._layers import layer_matrix
from torch import nn

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


@pytest.mark.parametrize("cls", [LowRankConv2d, SpatialLowRankConv2d])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_factorisation_is_exact_at_full_rank_on_cuda(cls, dtype):
    torch.manual_seed(0)
    dense = nn.Conv2d(3, 5, (3, 2), stride=2, padding=1, padding_mode="reflect").to("cuda", dtype)
    m = layer_matrix(dense, "spatial" if cls is SpatialLowRankConv2d else "channel")
    low = cls.from_dense(dense, min(m.shape))
    x = torch.randn(2, 3, 9, 8, dtype=dtype, device="cuda")
    y = dense(x)
    out = low(x)
    assert out.device == y.device and out.dtype == dtype
    tol = 1e-10 if dtype == torch.float64 else 1e-5 * y.abs().max().item()
    assert (out - y).abs().max().item() <= tol


def test_truncation_error_equals_discarded_singular_values_on_cuda():
    torch.manual_seed(0)
    dense = nn.Linear(12, 9).to("cuda", torch.float64)
    low = LowRankLinear.from_dense(dense, 4)
    w = low.to_dense().weight.detach()
    s = torch.linalg.svdvals(dense.weight.detach())
    d = dense.weight.detach() - w
    assert w.device == dense.weight.device
    assert torch.linalg.matrix_norm(d).item() ** 2 == pytest.approx(
        s[4:].square().sum().item(), rel=1e-10
    )
    assert torch.linalg.matrix_norm(d, ord=2).item() == pytest.approx(s[4].item(), rel=1e-10)


def test_compressed_resnet18_runs_on_cuda():
    pytest.importorskip("torchvision")
    from smoothprune import cifar_resnet18

    torch.manual_seed(0)
    model = cifar_resnet18().to("cuda").eval()
    rep = compress_model(model, params=0.3)
    assert rep.params_after <= 0.3 * rep.params_before
    x = torch.randn(2, 3, 32, 32, device="cuda")
    out = rep.model.eval()(x)
    assert out.shape == (2, 10) and out.device == x.device
    full = compress_model(model, energy=1.0).model.eval()
    y = model(x)
    assert (full(x) - y).abs().max().item() <= 1e-4 * y.abs().max().item()
