"""The torch paths on CUDA: results equal the CPU ones, timing synchronises for real."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from sciml_core import (
    adjoint_test,
    as_torch_generator,
    compare_timing,
    estimate_operator_norm,
    gradient_check,
    load_checkpoint,
    psnr,
    relative_l2,
    resolve_device,
    save_checkpoint,
    ssim,
)

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


def test_auto_device_is_cuda() -> None:
    assert resolve_device("auto").type == "cuda"
    assert resolve_device("cuda:0") == torch.device("cuda:0")


def test_metrics_on_cuda_equal_cpu() -> None:
    rng = np.random.default_rng(0)
    ref = rng.random((2, 32, 32))
    x = ref + 0.05 * rng.standard_normal(ref.shape)
    rc, xc = torch.from_numpy(ref).cuda(), torch.from_numpy(x).cuda()
    assert ssim(xc, rc, data_range=1.0) == pytest.approx(ssim(x, ref, data_range=1.0), abs=1e-12)
    assert psnr(xc, rc, data_range=1.0) == pytest.approx(psnr(x, ref, data_range=1.0), abs=1e-9)
    per = relative_l2(xc, rc, batched=True)
    assert per.device.type == "cuda"
    np.testing.assert_allclose(per.cpu().numpy(), relative_l2(x, ref, batched=True), rtol=1e-12)


def test_checks_and_norms_on_cuda() -> None:
    g = torch.Generator().manual_seed(0)
    A = torch.randn(20, 10, generator=g, dtype=torch.float64).cuda()
    x = torch.randn(10, generator=g, dtype=torch.float64).cuda()
    y = torch.randn(20, generator=g, dtype=torch.float64).cuda()
    assert adjoint_test(lambda v: A @ v, lambda w: A.T @ w, x, y) < 1e-14
    est = estimate_operator_norm(lambda v: A @ v, lambda w: A.T @ w, x, tol=1e-10)
    true = float(torch.linalg.matrix_norm(A.cpu(), ord=2))
    assert est.lower <= true and est.lower == pytest.approx(true, rel=1e-8)
    cert = estimate_operator_norm(A, None, x)
    assert cert.certified and cert.lower <= true <= cert.upper
    assert gradient_check(lambda t: (t.sin() * t).sum(), x) < 1e-8


def test_cuda_generator() -> None:
    a = torch.rand(4, device="cuda", generator=as_torch_generator(3, device="cuda"))
    b = torch.rand(4, device="cuda", generator=as_torch_generator(3, device="cuda"))
    assert torch.equal(a, b)


def test_timing_on_cuda_records_the_device() -> None:
    a = torch.randn(256, 256, device="cuda")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        c = compare_timing(lambda: a @ a, lambda: a @ a @ a, repeats=5, device="cuda")
    assert c.device == "cuda" and c.t_ours > 0 and c.t_peer > 0


def test_checkpoint_from_cuda_loads_on_cpu(tmp_path: Path) -> None:
    w = torch.randn(3, device="cuda")
    path = save_checkpoint(tmp_path / "m.pt", {"w": w}, config={}, package="d", version="0.1.0")
    ckpt = load_checkpoint(path, package="d", version="0.1.0")
    assert ckpt.state_dict["w"].device.type == "cpu"
    assert torch.equal(ckpt.state_dict["w"], w.cpu())
