"""The correction's guarantees, one per test: exact laws, feasible outputs fixed, idempotence,
projection optimality, gradients, the penalty's formula, errors that name the argument."""

from collections.abc import Callable

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
from sciml_core import InputError

DTYPES = [torch.float32, torch.float64]
LINEAR_METHODS = ["projection", "posthoc", "adaptive-s", "adaptive-V"]


def _worst_eps(u_star, x, laws):
    """max_j |C u* - b|_j / (sum_i |w_i phi_j u*_i| + |b_j|) in units of eps(u*.dtype)."""
    eps = torch.finfo(u_star.dtype).eps
    u64 = u_star.to(torch.float64)
    x64 = None if x is None else x.to(torch.float64)
    worst = 0.0
    for law in laws:
        r = law.residual(u64, x64).abs()
        worst = max(worst, float((r / law.scale(u64, x64)).max()) / eps)
    return worst


def _correct_linear(method, law, u, s, V):
    if method == "projection":
        return ConservationCorrection(law, mode="projection")(u)[0]
    if method == "posthoc":
        return posthoc_projection(u, None, law)
    if method == "adaptive-s":
        return ConservationCorrection(law, mode="adaptive")(u, s=s)[0]
    return ConservationCorrection(law, mode="adaptive")(u, V=V)[0]


@st.composite
def linear_cases(draw):
    rule = draw(st.sampled_from(["periodic", "trapezoid", "cells"]))
    n = draw(st.integers(4, 300))
    m = draw(st.integers(1, 3))
    length = draw(st.floats(0.5, 3.0))
    seed = draw(st.integers(0, 2**31 - 1))
    return rule, n, m, length, seed


def _linear_case(case, dtype):
    """A random law with m rows (moments) and random u, s > 0, V for one hypothesis case."""
    rule, n, m, length, seed = case
    g = torch.Generator().manual_seed(seed)
    b_true = torch.randn(3, m, generator=g, dtype=torch.float64) * 3
    law = LinearConstraint.moments(m - 1, rule=rule, lengths=length, target=lambda _x: b_true)
    u = (torch.randn(3, 1, n, generator=g, dtype=torch.float64) * 2 + 1).to(dtype)
    s = (torch.rand(3, 1, n, generator=g, dtype=torch.float64) * 5 + 0.01).to(dtype)
    V = torch.randn(3, 2, 1, n, generator=g, dtype=torch.float64).to(dtype)
    return law, u, s, V


@pytest.mark.parametrize("method", LINEAR_METHODS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(case=linear_cases())
def test_linear_correction_is_exact_in_float32_and_float64(case, dtype, method):
    """|C u* - b|_j <= 10 eps (sum_i |w_i phi_j u*_i| + |b_j|) for every rule, N, m, direction."""
    law, u, s, V = _linear_case(case, dtype)
    out = _correct_linear(method, law, u, s, V)
    assert _worst_eps(out, None, [law]) <= 10, case


@pytest.mark.parametrize("method", LINEAR_METHODS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_correction_returns_the_input_dtype(dtype, method):
    law, u, s, V = _linear_case(("periodic", 32, 2, 1.0, 0), dtype)
    assert _correct_linear(method, law, u, s, V).dtype == dtype


def _several_laws(dtype):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 2, 24, 20, generator=g, dtype=torch.float64).to(dtype)
    u = torch.randn(4, 2, 24, 20, generator=g, dtype=torch.float64).to(dtype)
    laws = [
        LinearConstraint.mass(channel=(0, 1)),
        LinearConstraint.moment(1, axis=1, channel=0),
        LinearConstraint.moment(2, axis=0, channel=1),
    ]
    s = torch.rand(4, 2, 24, 20, generator=g, dtype=torch.float64).to(dtype) + 0.1
    return x, u, laws, s


@pytest.mark.parametrize("mode", ["projection", "adaptive"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_correction_is_exact_for_several_laws_and_channels(dtype, mode):
    x, u, laws, s = _several_laws(dtype)
    kwargs = {"s": s} if mode == "adaptive" else {}
    out, info = ConservationCorrection(laws, mode=mode)(u, x, **kwargs)
    assert float(info["residual_before"].max()) > 1e-3  # the input really violated the laws
    assert _worst_eps(out, x, laws) <= 10


def test_info_reports_one_residual_per_law_row():
    x, u, laws, _ = _several_laws(torch.float64)
    _, info = ConservationCorrection(laws, mode="projection")(u, x)
    assert info["residual_before"].shape == (4, 4)  # 2 masses + 2 moments
    assert info["residual_after"].shape == (4, 4)


def _quadratic_inputs(dtype):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(6, 2, 64, generator=g, dtype=torch.float64).to(dtype)
    u = torch.randn(6, 2, 64, generator=g, dtype=torch.float64).to(dtype)
    s = torch.rand(6, 1, 64, generator=g, dtype=torch.float64).to(dtype) + 0.05
    return x, u, s


Q1 = QuadraticConstraint((0, 1), lengths=2 * np.pi)


def _quadratic_scheme(scheme, u):
    """(laws, mode, uses s) of each quadratic scheme; targets that depend on ``u`` are fixed."""
    if scheme == "q1":
        return [Q1], "adaptive", False
    if scheme == "q2":
        return [QuadraticConstraint((0, 1), mode="adaptive", lengths=2 * np.pi)], "adaptive", True
    if scheme == "q2-fallback":
        # a target far below e - beta^2/a has no real root: every sample falls back to Q1
        small = QuadraticConstraint((0, 1), mode="adaptive", target=lambda xx: 1e-3 * Q1.value(u))
        return [small], "adaptive", True
    lin = LinearConstraint.mass(channel=(0, 1), lengths=2 * np.pi)
    big = QuadraticConstraint((0, 1), target=lambda xx: 2.0 * Q1.value(u), lengths=2 * np.pi)
    return [lin, big], scheme.removeprefix("q3-"), scheme == "q3-adaptive"


QUADRATIC_SCHEMES = ["q1", "q2", "q2-fallback", "q3-projection", "q3-adaptive"]


@pytest.mark.parametrize("scheme", QUADRATIC_SCHEMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_quadratic_correction_is_exact(dtype, scheme):
    """|Q(u*) - c| <= 10 eps (Q(u*) + c) for Q1, Q2 (also when it falls back) and Q3."""
    x, u, s = _quadratic_inputs(dtype)
    laws, mode, uses_s = _quadratic_scheme(scheme, u)
    out, _ = ConservationCorrection(laws, mode=mode)(u, x, **({"s": s} if uses_s else {}))
    assert _worst_eps(out, x, laws[-1:]) <= 10


@pytest.mark.parametrize("mode", ["projection", "adaptive"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_q3_also_meets_the_linear_bound(dtype, mode):
    x, u, s = _quadratic_inputs(dtype)
    laws, mode, uses_s = _quadratic_scheme(f"q3-{mode}", u)
    out, _ = ConservationCorrection(laws, mode=mode)(u, x, **({"s": s} if uses_s else {}))
    assert _worst_eps(out, x, laws[:1]) <= 10


@pytest.mark.parametrize("dtype", DTYPES)
def test_q2_uses_the_adaptive_root_when_one_exists(dtype):
    x, u, s = _quadratic_inputs(dtype)
    laws, mode, _ = _quadratic_scheme("q2", u)
    assert ConservationCorrection(laws, mode=mode)(u, x, s=s)[1]["fallbacks"] == 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_q2_falls_back_to_q1_when_no_real_root_exists(dtype):
    x, u, s = _quadratic_inputs(dtype)
    laws, mode, _ = _quadratic_scheme("q2-fallback", u)
    assert ConservationCorrection(laws, mode=mode)(u, x, s=s)[1]["fallbacks"] == 6


def test_q2_with_unit_scale_equals_q1():
    g = torch.Generator().manual_seed(3)
    u = torch.randn(3, 1, 40, generator=g, dtype=torch.float64)
    law = QuadraticConstraint((0,), mode="adaptive", target=1.0)
    ones = torch.ones(3, 1, 40, dtype=torch.float64)
    q2 = ConservationCorrection(law)(u, s=ones)[0]
    q1 = ConservationCorrection(QuadraticConstraint((0,), target=1.0))(u)[0]
    torch.testing.assert_close(q2, q1, rtol=1e-13, atol=1e-13)


def test_q2_takes_the_root_of_smallest_modulus():
    """The chosen lambda is the root closest to zero: the other root moves u further."""
    g = torch.Generator().manual_seed(3)
    u = torch.randn(3, 1, 40, generator=g, dtype=torch.float64)
    law = QuadraticConstraint((0,), mode="adaptive", target=1.0)
    s = torch.rand(3, 1, 40, generator=g, dtype=torch.float64) + 0.1
    out = ConservationCorrection(law)(u, s=s)[0]
    lam = ((out - u) / (u * s)).mean(-1).squeeze(1)
    w = law.weights((40,), dtype=torch.float64, device="cpu")
    a = (w * s**2 * u**2).sum((1, 2))
    beta = (w * s * u**2).sum((1, 2))
    other = -2 * beta / a - lam  # sum of roots = -2 beta / a
    assert bool((lam.abs() < other.abs()).all())


FEASIBLE_LIN = LinearConstraint.moments(1, channel=0)
FEASIBLE_QUAD = QuadraticConstraint((0, 1))
# (laws, mode, direction keyword) of every correction checked on feasible outputs
CORRECTIONS: dict[str, tuple[list, str, str | None]] = {
    "linear-projection": ([FEASIBLE_LIN], "projection", None),
    "linear-adaptive-s": ([FEASIBLE_LIN], "adaptive", "s"),
    "linear-adaptive-V": ([FEASIBLE_LIN], "adaptive", "V"),
    "q1": ([FEASIBLE_QUAD], "adaptive", None),
    "q2": ([QuadraticConstraint((0, 1), mode="adaptive")], "adaptive", "s"),
    "q3": ([FEASIBLE_LIN, FEASIBLE_QUAD], "adaptive", "s"),
}


def _feasible(dtype, name):
    """A field made feasible in float64 (projection, then Q3), cast to ``dtype``; the correction
    ``name`` and its keyword arguments."""
    g = torch.Generator().manual_seed(4)
    x = torch.randn(3, 2, 48, generator=g, dtype=torch.float64)
    u = torch.randn(3, 2, 48, generator=g, dtype=torch.float64) * 3
    u = ConservationCorrection([FEASIBLE_LIN, FEASIBLE_QUAD], mode="projection")(u, x)[0]
    s = torch.rand(3, 2, 48, generator=g, dtype=torch.float64).to(dtype) + 0.1
    V = torch.randn(3, 2, 2, 48, generator=g, dtype=torch.float64).to(dtype)
    laws, mode, direction = CORRECTIONS[name]
    kwargs = {} if direction is None else {direction: {"s": s, "V": V}[direction]}
    return u.to(dtype), x.to(dtype), ConservationCorrection(laws, mode=mode), kwargs


@pytest.mark.parametrize("name", sorted(CORRECTIONS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_correction_leaves_feasible_outputs_unchanged(dtype, name):
    u, x, corr, kwargs = _feasible(dtype, name)
    once = corr(u, x, **kwargs)[0]
    assert float((once - u).abs().max() / u.abs().max()) <= 10 * torch.finfo(dtype).eps


@pytest.mark.parametrize("name", sorted(CORRECTIONS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_correction_applied_twice_equals_applied_once(dtype, name):
    u, x, corr, kwargs = _feasible(dtype, name)
    once = corr(u, x, **kwargs)[0]
    twice = corr(once, x, **kwargs)[0]
    assert float((twice - once).abs().max() / once.abs().max()) <= 10 * torch.finfo(dtype).eps


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


def _moments_case():
    g = torch.Generator().manual_seed(6)
    laws = LinearConstraint.moments(2, rule="trapezoid")
    x = torch.randn(3, 1, 33, generator=g, dtype=torch.float64)
    u = torch.randn(3, 1, 33, generator=g, dtype=torch.float64)
    s = torch.rand(3, 1, 33, generator=g, dtype=torch.float64) + 0.1
    return laws, x, u, s


def test_unit_scale_adaptive_equals_projection():
    laws, x, u, _ = _moments_case()
    adaptive = ConservationCorrection(laws)(u, x, s=torch.ones(3, 1, 33, dtype=torch.float64))[0]
    proj = ConservationCorrection(laws, mode="projection")(u, x)[0]
    torch.testing.assert_close(adaptive, proj, rtol=0, atol=1e-14)


def test_non_constant_scale_gives_another_output_than_the_projection():
    laws, x, u, s = _moments_case()
    other = ConservationCorrection(laws)(u, x, s=s)[0]
    proj = ConservationCorrection(laws, mode="projection")(u, x)[0]
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


PENALTY_LAWS = [LinearConstraint.moments(1), QuadraticConstraint((0,))]


def _penalty_case():
    g = torch.Generator().manual_seed(8)
    x = torch.randn(4, 1, 32, generator=g, dtype=torch.float64)
    y = torch.randn(4, 1, 32, generator=g, dtype=torch.float64)
    u = torch.randn(4, 1, 32, generator=g, dtype=torch.float64)
    return x, y, u, ConservationPenalty(PENALTY_LAWS, weight=2.5, eps=1e-8)


def test_penalty_matches_formula():
    x, y, u, pen = _penalty_case()
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


def test_penalty_vanishes_on_feasible_outputs():
    x, y, u, pen = _penalty_case()
    feasible = ConservationCorrection(PENALTY_LAWS, mode="projection")(u, x)[0]
    assert float(pen(feasible, x, y)) < 1e-25


NEARLY_MEAN_LAWS = [LinearConstraint.mass(channel=(0, 1)), QuadraticConstraint((0, 1))]


@pytest.mark.parametrize("law", [0, 1], ids=["mass", "norm"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_q3_is_exact_when_the_output_is_nearly_its_mean(dtype, law):
    """Q3 rescales the remainder v = u - m by up to ~1e3 here: cancellation in v must not leak."""
    g = torch.Generator().manual_seed(9)
    x = torch.randn(4, 2, 256, generator=g, dtype=torch.float64).to(dtype)
    u = (0.07 + 1e-3 * torch.randn(4, 2, 256, generator=g, dtype=torch.float64)).to(dtype)
    s = torch.rand(4, 1, 256, generator=g, dtype=torch.float64).to(dtype) + 0.1
    out, _ = ConservationCorrection(NEARLY_MEAN_LAWS)(u, x, s=s)
    assert _worst_eps(out, x, [NEARLY_MEAN_LAWS[law]]) <= 10


def _adaptive_rescale():
    g = torch.Generator().manual_seed(10)
    u = torch.randn(3, 2, 40, generator=g, dtype=torch.float64)
    raw = torch.randn(3, 1, 40, generator=g, dtype=torch.float64, requires_grad=True)
    target = torch.randn(3, 2, 40, generator=g, dtype=torch.float64)
    corr = ConservationCorrection(QuadraticConstraint((0, 1), mode="adaptive", target=1.0))
    out, info = corr(u, s=corr.positive(raw))
    assert info["fallbacks"] == 0  # the adaptive root was used, not the Q1 fallback
    return u, raw, target, out


def test_adaptive_rescale_with_non_constant_s_is_not_q1():
    """An implementation that ignored s would return Q1's output."""
    u, _, _, out = _adaptive_rescale()
    q1 = ConservationCorrection(QuadraticConstraint((0, 1), target=1.0))(u)[0]
    rel = float(((out - q1).norm() / (q1 - u).norm()).detach())
    assert rel >= 1e-3, rel


def test_adaptive_rescale_sends_finite_nonzero_gradients_to_s():
    _, raw, target, out = _adaptive_rescale()
    ((out - target) ** 2).sum().backward()
    assert raw.grad is not None and bool(torch.isfinite(raw.grad).all())
    assert float(raw.grad.abs().max()) > 0


BAD_INPUTS: dict[str, tuple[Callable[[], object], str]] = {
    "law channel beyond u": (
        lambda: ConservationCorrection(LinearConstraint.mass(channel=2), mode="projection")(
            torch.ones(1, 1, 8), torch.ones(1, 3, 8)
        ),
        "channel",
    ),
    "negative box length": (
        lambda: LinearConstraint.mass(lengths=-1.0).residual(
            torch.ones(1, 1, 8), torch.ones(1, 1, 8)
        ),
        "lengths",
    ),
    "dependent test functions": (
        lambda: ConservationCorrection(
            LinearConstraint([lambda c: c[0], lambda c: 2 * c[0]]), mode="projection"
        )(torch.ones(1, 1, 8), torch.ones(1, 1, 8)),
        "linearly dependent",
    ),
    "Q(u) = 0 in Q1": (
        lambda: ConservationCorrection(QuadraticConstraint((0,), target=1.0))(torch.zeros(1, 1, 8)),
        "Q\\(u\\) = 0",
    ),
    "adaptive without a direction": (
        lambda: ConservationCorrection(LinearConstraint.mass())(
            torch.ones(1, 1, 8), torch.ones(1, 1, 8)
        ),
        "s",
    ),
    "s of the wrong shape": (
        lambda: ConservationCorrection(LinearConstraint.mass())(
            torch.ones(2, 1, 8), torch.ones(2, 1, 8), s=torch.ones(2, 1, 4)
        ),
        "s",
    ),
    "negative s": (
        lambda: ConservationCorrection(LinearConstraint.mass())(
            torch.ones(2, 1, 8), torch.ones(2, 1, 8), s=-torch.ones(2, 1, 8)
        ),
        "positive",
    ),
    "s zero at one point": (
        lambda: ConservationCorrection(LinearConstraint.mass())(
            torch.ones(2, 1, 8),
            torch.ones(2, 1, 8),
            s=torch.ones(2, 1, 8).index_fill(2, torch.tensor([3]), 0.0),
        ),
        "positive",
    ),
    "s NaN at one point": (
        lambda: ConservationCorrection(LinearConstraint.mass())(
            torch.ones(2, 1, 8),
            torch.ones(2, 1, 8),
            s=torch.ones(2, 1, 8).index_fill(2, torch.tensor([5]), float("nan")),
        ),
        "positive",
    ),
    "x of another batch": (
        lambda: ConservationCorrection(LinearConstraint.mass(), mode="projection")(
            torch.ones(2, 1, 8), torch.ones(3, 1, 8)
        ),
        "x",
    ),
    "Q2 with linear laws": (
        lambda: ConservationCorrection(
            [LinearConstraint.mass(), QuadraticConstraint((0,), mode="adaptive")]
        ),
        "adaptive",
    ),
    "unknown mode": (
        lambda: ConservationCorrection(LinearConstraint.mass(), mode="oblique"),
        "mode",
    ),
    "unknown target": (lambda: LinearConstraint(target="output"), "target"),
    "negative quadratic target": (lambda: QuadraticConstraint(target=-1.0), "target"),
    "unknown direction": (
        lambda: ConservationCorrection(LinearConstraint.mass(), direction="sideways"),
        "direction",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_raises_input_error_naming_the_argument(case):
    make, name = BAD_INPUTS[case]
    with pytest.raises(InputError, match=name):
        make()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("channels", [1, 2])
def test_adaptive_mass_correction_is_the_formula_with_its_gradients(channels, dtype):
    """``u* = u - s (sum w u - b) / sum w s`` on the law's channel, output and gradients to ``u``
    and ``s``: with mass on the only channel (every test function 1, where ``s * phi`` is skipped
    as ``s`` itself) and on one of two channels (the product kept)."""
    torch.manual_seed(0)
    corr = ConservationCorrection(LinearConstraint.mass(channel=channels - 1), mode="adaptive")
    u = torch.randn(3, channels, 40, dtype=dtype, requires_grad=True)
    raw = torch.randn(3, 1, 40, dtype=dtype, requires_grad=True)
    x = torch.randn(3, channels, 40, dtype=dtype)
    out, _ = corr(u, x, s=corr.positive(raw), residuals=False)
    c = channels - 1
    s, w = corr.positive(raw)[:, 0], 1.0 / 40  # periodic rule on the unit box
    alpha = ((u[:, c] * w).sum(-1) - (x[:, c] * w).sum(-1)) / (s * w).sum(-1)
    ref = u.clone()
    ref[:, c] = u[:, c] - s * alpha[:, None]
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    assert torch.allclose(out, ref, rtol=tol, atol=tol)
    g = torch.randn_like(out)
    for a, b in zip(
        torch.autograd.grad(out, [u, raw], g), torch.autograd.grad(ref, [u, raw], g), strict=True
    ):
        assert torch.allclose(a, b, rtol=tol, atol=tol)
