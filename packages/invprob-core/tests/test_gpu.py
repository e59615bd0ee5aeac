"""Items 1, 3 and 9 of the acceptance list repeated on CUDA (skipped without a GPU)."""

import pytest
import torch
from zoo import random_pair, zoo

import invprob_core as ip

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


@pytest.mark.parametrize("dtype,bound", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
def test_adjoint_identity_on_cuda(dtype, bound):
    for name, op in zoo().items():
        x, y = random_pair(op, dtype)
        x, y = x.cuda(), y.cuda()
        assert ip.adjoint_test(op, op.adjoint, x, y) <= bound, name


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
def test_ray_is_bitwise_deterministic_and_matches_cpu_on_cuda(dtype, tol):
    A = ip.RayTransform(32, angles=20, deterministic=True)
    g = torch.Generator().manual_seed(0)
    y = torch.randn(4, 20, 32, generator=g, dtype=dtype)
    x = torch.randn(4, 32, 32, generator=g, dtype=dtype)
    a, b = A.adjoint(y.cuda()), A.adjoint(y.cuda())
    f, h = A(x.cuda()), A(x.cuda())
    assert torch.equal(a, b) and torch.equal(f, h)
    ref_a, ref_f = A.adjoint(y), A(x)
    assert float((a.cpu() - ref_a).abs().max()) <= tol * float(ref_a.abs().max())
    assert float((f.cpu() - ref_f).abs().max()) <= tol * float(ref_f.abs().max())
    # the cuSPARSE path (deterministic=False) computes the same products; the default follows
    # torch's global switch
    c = ip.RayTransform(32, angles=20, deterministic=False).adjoint(y.cuda())
    assert float((c - a).abs().max()) <= tol * float(ref_a.abs().max())
    d = ip.RayTransform(32, angles=20)
    previous = torch.are_deterministic_algorithms_enabled()
    try:
        torch.use_deterministic_algorithms(True)
        assert torch.equal(d.adjoint(y.cuda()), a)
    finally:
        torch.use_deterministic_algorithms(previous)


def test_ray_is_twice_differentiable_on_cuda():
    A = ip.RayTransform(8, angles=5)
    x = torch.randn(1, 8, 8, dtype=torch.float64, device="cuda", requires_grad=True)
    assert torch.autograd.gradcheck(A, (x,))
    assert torch.autograd.gradgradcheck(A, (x,))


def test_deterministic_ray_is_differentiable_on_cuda():
    # AR's objective differentiates A._fwd directly: the row-padded path must allow it
    A = ip.RayTransform(16, angles=8, deterministic=True)
    x = torch.randn(2, 16, 16, dtype=torch.float64, device="cuda", requires_grad=True)
    y = torch.randn(2, 8, 16, dtype=torch.float64, device="cuda")
    (g,) = torch.autograd.grad((A._fwd(x) * y).sum(), x)
    assert torch.allclose(g, A.adjoint(y), rtol=0, atol=1e-12)
    assert torch.autograd.gradgradcheck(A, (x[:1].detach().requires_grad_(True),))


def test_pnp_fixed_point_on_cuda():
    n = 16
    A = ip.Blur(ip.gaussian_kernel(1.0), "circular", shape=(n, n))
    D = ip.CirculantDenoiser(torch.full((n, n), 0.6, dtype=torch.float64))
    y = torch.randn(1, n, n, dtype=torch.float64).cuda()
    it = ip.pnp_pgd(A, y, D, max_iter=5000, tol=1e-14).x
    fp = ip.pnp_fixed_point(A, y, D).x
    assert it.is_cuda and float((it - fp).norm() / fp.norm()) < 1e-8
