"""The correction's guarantees: exact laws, feasible outputs fixed, projection optimality,
gradients."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from fno_conserve import (
    ConservationCorrection,
    ConservationPenalty,
    LinearConstraint,
    QuadraticConstraint,
    posthoc_projection,
    quadrature_weights,
)

DTYPES = [torch.float32, torch.float64]


def _bound_ok(u_star, x, laws, k=10.0):
    """|C u* - b|_j <= k eps (sum_i |w_i phi_j u*_i| + |b_j|), evaluated in float64."""
    eps = torch.finfo(u_star.dtype).eps
    u64 = u_star.to(torch.float64)
    x64 = None if x is None else x.to(torch.float64)
    worst = 0.0
    for law in laws:
        r = law.residual(u64, x64).abs()
        scale = law.scale(u64, x64)
        worst = max(worst, float((r / scale).max()) / eps)
    return worst <= k, worst


def _linear_law(rule, length, m, target):
    return LinearConstraint.moments(m - 1, rule=rule, lengths=length, target=target)


@st.composite
def linear_cases(draw):
    rule = draw(st.sampled_from(["periodic", "trapezoid", "cells"]))
    n = draw(st.integers(4, 300))
    m = draw(st.integers(1, 3))
    length = draw(st.floats(0.5, 3.0))
    seed = draw(st.integers(0, 2**31 - 1))
    return rule, n, m, length, seed


@given(linear_cases())
def test_linear_correction_is_exact_in_float32_and_float64(case):
    rule, n, m, length, seed = case
    g = torch.Generator().manual_seed(seed)
    b_true = torch.randn(3, m, generator=g, dtype=torch.float64) * 3
    law = _linear_law(rule, length, m, target=lambda _x: b_true)
    for dtype in DTYPES:
        u = (torch.randn(3, 1, n, generator=g, dtype=torch.float64) * 2 + 1).to(dtype)
        s = (torch.rand(3, 1, n, generator=g, dtype=torch.float64) * 5 + 0.01).to(dtype)
        V = torch.randn(3, 2, 1, n, generator=g, dtype=torch.float64).to(dtype)
        outs = {
            "projection": ConservationCorrection(law, mode="projection")(u)[0],
            "posthoc": posthoc_projection(u, None, law),
            "adaptive-s": ConservationCorrection(law, mode="adaptive")(u, s=s)[0],
            "adaptive-V": ConservationCorrection(law, mode="adaptive")(u, V=V)[0],
        }
        for name, out in outs.items():
            assert out.dtype == dtype
            ok, worst = _bound_ok(out, None, [law])
            assert ok, (name, dtype, rule, n, m, worst)


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_correction_is_exact_for_several_laws_and_channels(dtype):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 2, 24, 20, generator=g, dtype=torch.float64).to(dtype)
    u = torch.randn(4, 2, 24, 20, generator=g, dtype=torch.float64).to(dtype)
    laws = [
        LinearConstraint.mass(channel=(0, 1)),
        LinearConstraint.moment(1, axis=1, channel=0),
        LinearConstraint.moment(2, axis=0, channel=1),
    ]
    s = torch.rand(4, 2, 24, 20, generator=g, dtype=torch.float64).to(dtype) + 0.1
    for mode, kwargs in (("projection", {}), ("adaptive", {"s": s})):
        out, info = ConservationCorrection(laws, mode=mode)(u, x, **kwargs)
        ok, worst = _bound_ok(out, x, laws)
        assert ok, (mode, worst)
        assert info["residual_before"].shape == (4, 4)
        assert float(info["residual_before"].max()) > 1e-3  # the input really violated the laws


@pytest.mark.parametrize("dtype", DTYPES)
def test_quadratic_correction_is_exact(dtype):
    g = torch.Generator().manual_seed(2)
    eps = torch.finfo(dtype).eps
    x = torch.randn(6, 2, 64, generator=g, dtype=torch.float64).to(dtype)
    u = torch.randn(6, 2, 64, generator=g, dtype=torch.float64).to(dtype)
    s = torch.rand(6, 1, 64, generator=g, dtype=torch.float64).to(dtype) + 0.05

    def rel(out, law, xx):
        r = law.residual(out.double(), xx.double()).abs()
        return float((r / law.scale(out.double(), xx.double())).max()) / eps

    q1 = QuadraticConstraint((0, 1), lengths=2 * np.pi)
    assert rel(ConservationCorrection(q1)(u, x)[0], q1, x) <= 10
    q2 = QuadraticConstraint((0, 1), mode="adaptive", lengths=2 * np.pi)
    out, info = ConservationCorrection(q2)(u, x, s=s)
    assert rel(out, q2, x) <= 10
    assert info["fallbacks"] == 0
    # a target far below e - beta^2/a has no real root: the sample must fall back to Q1, still exact
    small = QuadraticConstraint((0, 1), mode="adaptive", target=lambda xx: 1e-3 * q1.value(u))
    out, info = ConservationCorrection(small)(u, x, s=s)
    assert info["fallbacks"] == 6
    assert rel(out, small, x) <= 10
    # Q3: mass of both channels and the quadratic law together
    lin = LinearConstraint.mass(channel=(0, 1), lengths=2 * np.pi)
    big = QuadraticConstraint((0, 1), target=lambda xx: 2.0 * q1.value(u), lengths=2 * np.pi)
    out, _ = ConservationCorrection([lin, big], mode="projection")(u, x)
    assert rel(out, big, x) <= 10
    assert _bound_ok(out, x, [lin])[0]
    out, _ = ConservationCorrection([lin, big], mode="adaptive")(u, x, s=s)
    assert rel(out, big, x) <= 10
    assert _bound_ok(out, x, [lin])[0]


def test_q2_root_has_smallest_modulus_and_unit_scale_equals_q1():
    g = torch.Generator().manual_seed(3)
    u = torch.randn(3, 1, 40, generator=g, dtype=torch.float64)
    law = QuadraticConstraint((0,), mode="adaptive", target=1.0)
    ones = torch.ones(3, 1, 40, dtype=torch.float64)
    q2 = ConservationCorrection(law)(u, s=ones)[0]
    q1 = ConservationCorrection(QuadraticConstraint((0,), target=1.0))(u)[0]
    torch.testing.assert_close(q2, q1, rtol=1e-13, atol=1e-13)
    # the chosen lambda is the root closest to zero: the other root moves u further
    s = torch.rand(3, 1, 40, generator=g, dtype=torch.float64) + 0.1
    out = ConservationCorrection(law)(u, s=s)[0]
    lam = ((out - u) / (u * s)).mean(-1).squeeze(1)
    w = law.weights((40,), dtype=torch.float64, device="cpu")
    a = (w * s**2 * u**2).sum((1, 2))
    beta = (w * s * u**2).sum((1, 2))
    other = -2 * beta / a - lam  # sum of roots = -2 beta / a
    assert bool((lam.abs() < other.abs()).all())


@pytest.mark.parametrize("dtype", DTYPES)
def test_correction_leaves_feasible_outputs_unchanged(dtype):
    g = torch.Generator().manual_seed(4)
    eps = torch.finfo(dtype).eps
    x = torch.randn(3, 2, 48, generator=g, dtype=torch.float64)
    lin = LinearConstraint.moments(1, channel=0)
    quad = QuadraticConstraint((0, 1))
    # make u feasible in float64: project, then apply Q3 (exact in float64)
    u = torch.randn(3, 2, 48, generator=g, dtype=torch.float64) * 3
    u = ConservationCorrection([lin, quad], mode="projection")(u, x)[0]
    u, xd = u.to(dtype), x.to(dtype)
    s = torch.rand(3, 2, 48, generator=g, dtype=torch.float64).to(dtype) + 0.1
    corrections = [
        (ConservationCorrection(lin, mode="projection"), {}),
        (ConservationCorrection(lin, mode="adaptive"), {"s": s}),
        (
            ConservationCorrection(lin, mode="adaptive"),
            {"V": torch.randn(3, 2, 2, 48, dtype=dtype)},
        ),
        (ConservationCorrection(quad), {}),
        (ConservationCorrection(QuadraticConstraint((0, 1), mode="adaptive")), {"s": s}),
        (ConservationCorrection([lin, quad], mode="adaptive"), {"s": s}),
    ]
    for corr, kw in corrections:
        once = corr(u, xd, **kw)[0]
        assert float((once - u).abs().max() / u.abs().max()) <= 10 * eps, corr
        twice = corr(once, xd, **kw)[0]
        assert float((twice - once).abs().max() / once.abs().max()) <= 10 * eps, corr


def test_translation_invariant_direction_equals_projection():
    """Pitfall: a Fourier multiplier maps the constant 1 to phi_hat(0) * 1, so D is the
    projection's."""
    g = torch.Generator().manual_seed(5)
    n = 64
    law = LinearConstraint.mass()
    x = torch.randn(2, 1, n, generator=g, dtype=torch.float64)
    u = torch.randn(2, 1, n, generator=g, dtype=torch.float64)
    k = torch.fft.rfftfreq(n, d=1.0 / n)
    symbol = 1.0 + 3.0 * torch.exp(-((k / 5.0) ** 2))  # positive, even: an SPD convolution
    ones = torch.ones(n, dtype=torch.float64)
    col = torch.fft.irfft(symbol * torch.fft.rfft(ones), n=n)  # A applied to W^{-1} C^T = 1
    D = col.reshape(1, 1, 1, n)
    oblique = ConservationCorrection(law, mode="adaptive")(u, x, D=D)[0]
    proj = ConservationCorrection(law, mode="projection")(u, x)[0]
    torch.testing.assert_close(oblique, proj, rtol=0, atol=1e-14)


def test_unit_scale_adaptive_equals_projection():
    g = torch.Generator().manual_seed(6)
    laws = LinearConstraint.moments(2, rule="trapezoid")
    x = torch.randn(3, 1, 33, generator=g, dtype=torch.float64)
    u = torch.randn(3, 1, 33, generator=g, dtype=torch.float64)
    adaptive = ConservationCorrection(laws)(u, x, s=torch.ones(3, 1, 33, dtype=torch.float64))[0]
    proj = ConservationCorrection(laws, mode="projection")(u, x)[0]
    torch.testing.assert_close(adaptive, proj, rtol=0, atol=1e-14)
    # and a non-constant s really gives a different, still exact, output
    s = torch.rand(3, 1, 33, generator=g, dtype=torch.float64) + 0.1
    other = ConservationCorrection(laws)(u, x, s=s)[0]
    assert float((other - proj).abs().max()) > 1e-3


@given(st.integers(0, 10_000), st.sampled_from(["periodic", "trapezoid", "cells"]))
def test_orthogonal_projection_never_increases_error(seed, rule):
    g = torch.Generator().manual_seed(seed)
    n = 50
    law0 = LinearConstraint.moments(1, rule=rule)
    y = torch.randn(5, 1, n, generator=g, dtype=torch.float64)
    law = LinearConstraint.moments(1, rule=rule, target=lambda _x: law0.apply(y))  # y conserves
    u = y + torch.randn(5, 1, n, generator=g, dtype=torch.float64) * torch.rand(
        5, 1, 1, generator=g
    )
    w = quadrature_weights(n, rule=rule)
    proj = posthoc_projection(u, None, law)

    def err(f):
        return ((f - y) ** 2 * w).sum((1, 2))

    assert bool((err(proj) <= err(u) * (1 + 1e-12)).all())


@pytest.mark.parametrize(
    "laws,mode,direction",
    [
        ("mass2", "projection", None),
        ("mass2", "adaptive", "s"),
        ("mass2", "adaptive", "V"),
        ("q1", "projection", None),
        ("q2", "projection", "s"),
        ("q3", "adaptive", "s"),
    ],
)
def test_corrections_pass_gradcheck_in_float64(laws, mode, direction):
    g = torch.Generator().manual_seed(7)
    law = {
        "mass2": [LinearConstraint.moments(1)],
        "q1": [QuadraticConstraint((0,))],
        "q2": [QuadraticConstraint((0,), mode="adaptive")],
        "q3": [LinearConstraint.mass(), QuadraticConstraint((0,))],
    }[laws]
    corr = ConservationCorrection(law, mode=mode)
    x = torch.randn(2, 1, 8, generator=g, dtype=torch.float64)
    u = torch.randn(2, 1, 8, generator=g, dtype=torch.float64, requires_grad=True)
    if direction == "s":
        raw = torch.randn(2, 1, 8, generator=g, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(
            lambda uu, rr: corr(uu, x, s=corr.positive(rr))[0], (u, raw)
        )
    elif direction == "V":
        V = torch.randn(2, 2, 1, 8, generator=g, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(lambda uu, vv: corr(uu, x, V=vv)[0], (u, V))
    else:
        assert torch.autograd.gradcheck(lambda uu: corr(uu, x)[0], (u,))


def test_penalty_matches_formula_and_vanishes_on_feasible_outputs():
    g = torch.Generator().manual_seed(8)
    laws = [LinearConstraint.moments(1), QuadraticConstraint((0,))]
    x = torch.randn(4, 1, 32, generator=g, dtype=torch.float64)
    y = torch.randn(4, 1, 32, generator=g, dtype=torch.float64)
    u = torch.randn(4, 1, 32, generator=g, dtype=torch.float64)
    pen = ConservationPenalty(laws, weight=2.5, eps=1e-8)
    w = torch.full((32,), 1 / 32, dtype=torch.float64)
    xs = torch.arange(32, dtype=torch.float64) / 32
    expected = torch.zeros(4, dtype=torch.float64)
    for phi in (torch.ones(32, dtype=torch.float64), xs):
        r = (w * phi * u[:, 0]).sum(-1) - (w * phi * x[:, 0]).sum(-1)
        scale = (w * phi * y[:, 0]).abs().sum(-1)
        expected += (r / (scale + 1e-8)) ** 2
    r = (w * u[:, 0] ** 2).sum(-1) - (w * x[:, 0] ** 2).sum(-1)
    expected += (r / ((w * y[:, 0] ** 2).sum(-1) + 1e-8)) ** 2
    torch.testing.assert_close(pen(u, x, y), 2.5 * expected.mean(), rtol=1e-12, atol=0)
    feasible = ConservationCorrection(laws, mode="projection")(u, x)[0]
    assert float(pen(feasible, x, y)) < 1e-25


@pytest.mark.parametrize("dtype", DTYPES)
def test_q3_is_exact_when_the_output_is_nearly_its_mean(dtype):
    """Q3 rescales the remainder v = u - m by up to ~1e3 here: cancellation in v must not leak."""
    g = torch.Generator().manual_seed(9)
    eps = torch.finfo(dtype).eps
    x = torch.randn(4, 2, 256, generator=g, dtype=torch.float64).to(dtype)
    u = (0.07 + 1e-3 * torch.randn(4, 2, 256, generator=g, dtype=torch.float64)).to(dtype)
    laws = [LinearConstraint.mass(channel=(0, 1)), QuadraticConstraint((0, 1))]
    s = torch.rand(4, 1, 256, generator=g, dtype=torch.float64).to(dtype) + 0.1
    out, _ = ConservationCorrection(laws)(u, x, s=s)
    for law in laws:
        r = law.residual(out.double(), x.double()).abs() / law.scale(out.double(), x.double())
        assert float(r.max()) <= 10 * eps, (law, float(r.max()) / eps)


def test_adaptive_rescale_uses_s_and_sends_it_gradients():
    """Q2 with a non-constant s is not Q1 (an implementation that ignored s would be), and a loss
    on u* reaches the parameters that produce s."""
    g = torch.Generator().manual_seed(10)
    u = torch.randn(3, 2, 40, generator=g, dtype=torch.float64)
    raw = torch.randn(3, 1, 40, generator=g, dtype=torch.float64, requires_grad=True)
    corr = ConservationCorrection(QuadraticConstraint((0, 1), mode="adaptive", target=1.0))
    out, info = corr(u, s=corr.positive(raw))
    assert info["fallbacks"] == 0  # the adaptive root was used, not the Q1 fallback
    q1 = ConservationCorrection(QuadraticConstraint((0, 1), target=1.0))(u)[0]
    rel = float(((out - q1).norm() / (q1 - u).norm()).detach())
    assert rel >= 1e-3, rel
    ((out - torch.randn(3, 2, 40, generator=g, dtype=torch.float64)) ** 2).sum().backward()
    assert raw.grad is not None and bool(torch.isfinite(raw.grad).all())
    assert float(raw.grad.abs().max()) > 0
