"""DeepInverse interop, both directions: our operators as deepinv linear physics and deepinv's as
our LinearOperator, each passing the shared adjoint test; deepinv's solvers on our ray transform."""

import pytest
import torch
from zoo import zoo

import invprob_core as ip
from sciml_core import InputError

dinv = pytest.importorskip("deepinv")

N = 12
REAL_OPS = [name for name, op in zoo(N).items() if not (op.complex_range or op.complex_domain)]


def _gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", REAL_OPS)
def test_our_operators_as_deepinv_physics_have_exact_adjoints(name):
    op = zoo(N)[name]
    physics = ip.to_deepinv(op)
    x = torch.randn(2, 1, *(op.in_shape or (N, N)), dtype=torch.float64, generator=_gen(0))
    y = torch.randn(*physics.A(x).shape, dtype=torch.float64, generator=_gen(1))
    assert ip.adjoint_test(physics.A, physics.A_adjoint, x, y) <= 1e-12
    assert torch.equal(physics.A(x), op(x))
    assert float(physics.adjointness_test(x)) <= 1e-12  # deepinv's own check agrees


def _deepinv_physics():
    gen = _gen(2)
    kern = torch.rand(1, 1, 3, 3, dtype=torch.float64, generator=gen)
    return {
        "blur-circular": dinv.physics.Blur(filter=kern / kern.sum(), padding="circular"),
        "inpainting": dinv.physics.Inpainting(
            img_size=(1, N, N), mask=(torch.rand(1, N, N, generator=gen) > 0.4).double()
        ),
        "downsampling": dinv.physics.Downsampling(
            img_size=(1, N, N), filter="bicubic", factor=2, padding="circular"
        ).double(),
    }


@pytest.mark.parametrize("name", ["blur-circular", "inpainting", "downsampling"])
def test_deepinv_physics_as_our_operators_pass_the_shared_adjoint_test(name):
    op = ip.from_deepinv(_deepinv_physics()[name], (1, N, N))
    x = torch.randn(3, 1, N, N, dtype=torch.float64, generator=_gen(3))
    y = torch.randn(3, *op.out_shape, dtype=torch.float64, generator=_gen(4))
    assert ip.adjoint_test(op, op.adjoint, x, y) <= 1e-12
    # our norm estimate runs on it, and leading dimensions are carried through
    assert op.norm().lower > 0
    assert op(x[:, None]).shape == (3, 1, *op.out_shape)


def test_deepinv_conjugate_gradient_on_our_ray_transform_equals_our_tikhonov():
    A = ip.RayTransform(16, angles=12)
    x, _ = ip.random_ellipses(16, 1, seed=0)
    y = A(x.to(torch.float64))[:, None]  # (B, C, angles, detectors)
    physics = ip.to_deepinv(A)
    alpha = 0.1
    ours = ip.tikhonov(A, y, alpha, method="cg", tol=1e-14).x

    def normal(z):
        return physics.A_adjoint(physics.A(z)) + alpha * z

    # eps: deepinv's guard in the step's denominators (default 1e-8 limits the accuracy to ~1e-6)
    theirs = dinv.optim.linear.conjugate_gradient(
        normal, physics.A_adjoint(y), max_iter=2000, tol=1e-14, eps=1e-30
    )
    assert float((theirs - ours).abs().max()) <= 1e-10 * float(ours.abs().max())


def test_noise_model_of_the_physics_is_deepinvs():
    A = ip.Identity((N, N))
    x = torch.zeros(4, 1, N, N, dtype=torch.float64)
    torch.manual_seed(0)
    y = ip.to_deepinv(A, sigma=0.5)(x)
    assert 0.4 < float(y.std()) < 0.6
    assert torch.equal(ip.to_deepinv(A)(x), x)  # no noise by default


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ip.to_deepinv("not an operator"), "operator: expected a LinearOperator"),
        (lambda: ip.to_deepinv(ip.MaskedFourier(torch.ones(4, 4))), "complex domain or range"),
        (lambda: ip.to_deepinv(ip.Identity((4, 4)), sigma=-1.0), "sigma: expected"),
        (
            lambda: ip.to_deepinv(
                ip.Identity((4, 4)), sigma=0.1, noise_model=dinv.physics.ZeroNoise()
            ),
            "not both",
        ),
        (lambda: ip.from_deepinv(object(), (1, 4, 4)), "physics: expected a deepinv"),
        (lambda: ip.from_deepinv(dinv.physics.Denoising(), (0, 4)), "in_shape"),
    ],
)
def test_bad_interop_arguments_raise_naming_them(call, match):
    with pytest.raises(InputError, match=match):
        call()
