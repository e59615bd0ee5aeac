import math

import numpy as np
import pytest
import torch
from zoo import dense_matrix, random_pair, zoo

import invprob_core as ip
import sciml_core

ZOO = zoo()


@pytest.mark.parametrize("dtype,bound", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
@pytest.mark.parametrize("name", sorted(ZOO))
def test_adjoint_identity_holds_for_every_operator(name, dtype, bound):
    op = ZOO[name]
    for seed in range(3):
        x, y = random_pair(op, dtype, seed)
        err = ip.adjoint_test(op, op.adjoint, x, y)
        assert err <= bound, f"{name}: {err:.3g}"


def test_every_exported_operator_is_in_the_zoo():
    exported = {
        getattr(ip, n)
        for n in ip.__all__
        if isinstance(getattr(ip, n), type) and issubclass(getattr(ip, n), ip.LinearOperator)
    }
    covered = {type(op) for op in ZOO.values()}
    # DeepinvOperator wraps the optional deepinv's physics: its adjoint, norm and leading-dimension
    # tests are in test_deepinv.py (skipped without deepinv)
    covered.add(ip.DeepinvOperator)
    missing = {c.__name__ for c in exported - covered - {ip.LinearOperator}}
    assert not missing, f"operators missing from the zoo: {missing}"


@pytest.mark.parametrize(
    "name", ["ray", "blur_reflect", "downsample_lanczos2", "mri", "vstack", "gradient"]
)
def test_operators_are_twice_differentiable(name):
    small = zoo(8)[name]
    x, y = random_pair(small, torch.float64, 1, batch=(1,))
    x.requires_grad_(True)
    y = y.detach().requires_grad_(True)
    assert torch.autograd.gradcheck(small, (x,))
    assert torch.autograd.gradgradcheck(small, (x,))
    assert torch.autograd.gradcheck(small.adjoint, (y,))
    assert torch.autograd.gradgradcheck(small.adjoint, (y,))


def test_second_derivative_through_ray_transform_matches_finite_differences():
    # f(x) = sum(sin(A x)): Hessian-vector product H v = A* (-sin(Ax) * (A v)) by double backward
    A = ip.RayTransform(8, angles=5)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(1, 8, 8, generator=g, dtype=torch.float64, requires_grad=True)
    v = torch.randn(1, 8, 8, generator=g, dtype=torch.float64)

    def grad(z):
        z = z.detach().requires_grad_(True)
        return torch.autograd.grad(torch.sin(A(z)).sum(), z)[0]

    (gx,) = torch.autograd.grad(torch.sin(A(x)).sum(), x, create_graph=True)
    (hv,) = torch.autograd.grad((gx * v).sum(), x)
    eps = 1e-5
    fd = (grad(x + eps * v) - grad(x - eps * v)) / (2 * eps)
    assert float((hv - fd).norm() / fd.norm()) < 1e-7
    exact = A.adjoint(-torch.sin(A(x.detach())) * A(v))
    assert float((hv - exact).norm() / exact.norm()) < 1e-12


@pytest.mark.parametrize(
    "name",
    [
        "ray",
        "blur_zero",
        "blur_reflect",
        "blur_circular",
        "mri",
        "gradient",
        "downsample_box",
        "vstack",
        "composed",
    ],
)
def test_norm_matches_dense_svd(name):
    op = zoo(16)[name]
    mat = dense_matrix(op)
    if op.complex_range:
        mat = torch.cat([mat.real, mat.imag], dim=0)
    true = float(torch.linalg.matrix_norm(mat, ord=2))
    est = op.norm(n_iter=3000, tol=1e-12)
    assert est.lower <= true * (1 + 1e-12)
    assert est.lower >= true * (1 - 1e-4)
    assert est.certified and est.upper >= true * (1 - 1e-12)
    sq = op.sqnorm(n_iter=3000, tol=1e-12)
    assert sq.lower == est.lower**2 and sq.upper == est.upper**2 and sq.certified == est.certified


def test_norm_helpers_are_sciml_core_objects():
    assert ip.NormEstimate is sciml_core.NormEstimate
    assert ip.adjoint_test is sciml_core.adjoint_test
    assert ip.psnr is sciml_core.psnr and ip.ssim is sciml_core.ssim
    assert ip.relative_l2 is sciml_core.relative_l2


def test_circular_and_zero_blur_agree_away_from_the_border():
    k = ip.gaussian_kernel(1.0)
    x = torch.randn(1, 1, 20, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    a, b = ip.Blur(k, "circular")(x), ip.Blur(k, "zero")(x)
    assert torch.allclose(a[..., 4:-4, 4:-4], b[..., 4:-4, 4:-4], atol=1e-12)
    # circular blur is the cyclic convolution sum_m k_m x_{i+c-m}
    i, j = 0, 0
    c = 3
    ref = sum(
        k[m, n] * x[0, 0, (i + c - m) % 20, (j + c - n) % 20] for m in range(7) for n in range(7)
    )
    assert abs(float(a[0, 0, i, j] - ref)) < 1e-12


def test_box_downsample_averages_blocks():
    x = torch.randn(2, 3, 12, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for f in (2, 3, 4):
        blocks = x.reshape(2, 3, 12 // f, f, 12 // f, f).mean(dim=(3, 5))
        assert torch.allclose(ip.Downsample(f, "box")(x), blocks, atol=1e-12)


def test_gradient_adjoint_is_minus_divergence_and_constants_are_its_kernel():
    x = torch.full((1, 5, 7), 3.0, dtype=torch.float64)
    assert float(ip.Gradient()(x).abs().max()) == 0.0
    assert ip.Gradient().upper_bound() ** 2 == pytest.approx(8.0)


def test_ray_transform_row_sums_are_chord_lengths():
    # A applied to the constant 1 on the disc-supported grid gives sum of dt * interpolation
    # weights ~ chord length of the square, exact for the central horizontal-ish ray through pixels
    n = 64
    A = ip.RayTransform(n, angles=1)
    y = A(torch.ones(1, n, n, dtype=torch.float64))[0, 0]
    # angle 0: rays are vertical lines x = s; inside the square the chord has length 2
    assert torch.allclose(y[1:-1], torch.full_like(y[1:-1], 2.0), atol=2.0 / n)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_operators_return_the_input_dtype(dtype):
    for name, op in ZOO.items():
        x, y = random_pair(op, dtype)
        out = op(x)
        expect = (
            (torch.complex64 if dtype == torch.float32 else torch.complex128)
            if op.complex_range
            else dtype
        )
        assert out.dtype == expect, name
        back = op.adjoint(y)
        assert back.dtype == (x.dtype), name


def test_ray_matrix_is_cached_per_geometry(tmp_path):
    a = ip.RayTransform(10, angles=np.array([0.1, 0.7, 1.3]), cache_dir=tmp_path)
    assert a.loaded_from in ("built", "memory")
    from invprob_core import _ray

    _ray._MEMORY_CACHE.clear()
    b = ip.RayTransform(10, angles=np.array([0.1, 0.7, 1.3]), cache_dir=tmp_path)
    assert b.loaded_from == "disk"
    c = ip.RayTransform(10, angles=np.array([0.1, 0.7, 1.3]))
    assert c.loaded_from == "memory"
    x = torch.randn(1, 10, 10)
    assert torch.equal(a(x), b(x)) and torch.equal(a(x), c(x))
    assert len(list(tmp_path.glob("*.pt"))) == 1
    assert a.nnz > 0 and a.matrix_bytes >= a.nnz * 8


def test_twice_applied_adjoint_is_bitwise_deterministic():
    A = ip.RayTransform(16, angles=9)
    y = torch.randn(3, 9, 16, generator=torch.Generator().manual_seed(0))
    assert torch.equal(A.adjoint(y), A.adjoint(y))
    assert math.isfinite(float(A.adjoint(y).sum()))
