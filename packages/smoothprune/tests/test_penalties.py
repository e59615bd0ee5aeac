import pytest
import torch
from smoothprune import (
    SmoothnessRegularizer,
    finite_difference,
    nuclear_norm,
    singular_value_threshold,
    smoothness_penalty,
)
from smoothprune._differences import matricize

from sciml_core import InputError

SHAPE = (5, 4, 3, 3)
AXIS_DIM = {"out": 0, "in": 1}


def _ramp(dim, power, shape=SHAPE):
    idx = torch.arange(shape[dim], dtype=torch.float64) ** power
    view = [1] * len(shape)
    view[dim] = shape[dim]
    return idx.reshape(view).expand(shape).clone()


@pytest.mark.parametrize("dim", [0, 1, 2, 3])
@pytest.mark.parametrize("p", [1, 2])
def test_linear_ramp_has_unit_first_difference_and_zero_second(dim, p):
    w = _ramp(dim, 1)
    d1 = smoothness_penalty(w, axes=(dim,), order=1, p=p, reduction="mean")
    d2 = smoothness_penalty(w, axes=(dim,), order=2, p=p, reduction="sum")
    assert d1.item() == pytest.approx(1.0, abs=1e-12)
    assert d2.item() == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("dim", [0, 1, 2, 3])
@pytest.mark.parametrize("p", [1, 2])
def test_square_ramp_has_second_difference_two(dim, p):
    w = _ramp(dim, 2)
    mean = smoothness_penalty(w, axes=(dim,), order=2, p=p, reduction="mean")
    assert mean.item() == pytest.approx(2.0**p, abs=1e-12)
    n = w.numel() // w.shape[dim] * (w.shape[dim] - 2)
    total = smoothness_penalty(w, axes=(dim,), order=2, p=p, reduction="sum")
    assert total.item() == pytest.approx(2.0**p * n, abs=1e-9)


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("axes", [("out",), ("in",), ("spatial",), ("out", "in", "spatial")])
def test_constant_weight_has_zero_penalty(order, axes):
    assert smoothness_penalty(torch.full(SHAPE, 3.0), axes=axes, order=order).item() == 0.0


@pytest.mark.parametrize("axis", ["out", "in"])
@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_penalty_equals_its_definition(axis, order, p, reduction):
    w = torch.randn(SHAPE, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    dim = AXIS_DIM[axis]
    d = w.narrow(dim, 1, w.shape[dim] - 1) - w.narrow(dim, 0, w.shape[dim] - 1)
    if order == 2:
        d = d.narrow(dim, 1, d.shape[dim] - 1) - d.narrow(dim, 0, d.shape[dim] - 1)
    expected = d.abs().pow(p).sum()
    if reduction == "mean":
        expected = expected / d.numel()
    got = smoothness_penalty(w, axes=(axis,), order=order, p=p, reduction=reduction)
    assert torch.allclose(got, expected, rtol=1e-12)
    assert torch.equal(finite_difference(w, axis, order), d)


def test_spatial_axis_sums_both_kernel_dimensions_and_skips_linear_weights():
    w = torch.randn(SHAPE, dtype=torch.float64)
    both = smoothness_penalty(w, axes=("spatial",), order=1)
    assert torch.allclose(
        both, smoothness_penalty(w, axes=(2,), order=1) + smoothness_penalty(w, axes=(3,), order=1)
    )
    assert smoothness_penalty(torch.randn(4, 3), axes=("spatial",), order=1).item() == 0.0


def test_axis_not_longer_than_order_contributes_zero():
    assert smoothness_penalty(torch.randn(2, 5), axes=("out",), order=2).item() == 0.0


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("order", [1, 2])
def test_squared_penalty_gradient_is_two_dt_d_w(axis, order):
    w = torch.randn(SHAPE, dtype=torch.float64, requires_grad=True)
    smoothness_penalty(w, axes=(axis,), order=order).backward()
    n = SHAPE[axis]
    d = torch.diff(torch.eye(n, dtype=torch.float64), n=order, dim=0)  # (n - q) x n
    g = 2 * torch.tensordot(d.T @ d, w.detach(), dims=([1], [axis])).movedim(0, axis)
    assert torch.allclose(w.grad, g, atol=1e-12)


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("axes", [("out",), ("in", "spatial")])
def test_penalty_passes_gradcheck_in_float64(order, p, axes):
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda t: smoothness_penalty(t, axes=axes, order=order, p=p), (w,)
    )


def test_nuclear_norm_is_sum_of_singular_values_with_gradient_u_vt():
    w = torch.randn(6, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    value = nuclear_norm(w)
    assert torch.allclose(value, torch.linalg.svdvals(matricize(w)).sum())
    value.backward()
    u, _, vh = torch.linalg.svd(matricize(w.detach()), full_matrices=False)
    assert torch.allclose(w.grad.reshape(6, -1), u @ vh, atol=1e-10)
    assert torch.autograd.gradcheck(nuclear_norm, (w,))


def test_second_order_null_space_has_rank_two():
    a, b = torch.randn(2, 4 * 9, dtype=torch.float64)
    w = (a + torch.arange(8, dtype=torch.float64)[:, None] * b).reshape(8, 4, 3, 3)
    assert smoothness_penalty(w, order=2).item() == pytest.approx(0.0, abs=1e-20)
    assert torch.linalg.matrix_rank(matricize(w)).item() <= 2
    from smoothprune import LowRankConv2d

    conv = torch.nn.Conv2d(4, 8, 3, padding=1).double()
    with torch.no_grad():
        conv.weight.copy_(w)
    low = LowRankConv2d.from_dense(conv, 2)
    assert torch.allclose(low.to_dense().weight, w, atol=1e-12, rtol=0)


@pytest.mark.parametrize("tau", [0.0, 0.3, 1.5, 100.0])
def test_prox_step_soft_thresholds_singular_values_and_keeps_vectors(tau):
    w = torch.randn(6, 4, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    out = singular_value_threshold(w, tau)
    u, s, vh = torch.linalg.svd(matricize(w), full_matrices=False)
    expected = (u * (s - tau).clamp_min(0)) @ vh
    assert torch.allclose(matricize(out), expected, atol=1e-12)
    assert out.shape == w.shape and out.dtype == w.dtype


def test_regularizer_prox_step_uses_every_times_lr_times_lambda():
    net = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Linear(4, 2)).double()
    reg = SmoothnessRegularizer(net, nuclear=2.0, second_order=0.0, nuclear_mode="prox", every=3)
    w = net[0].weight.detach().clone()
    reg.prox_step(0.05)
    assert torch.allclose(net[0].weight, singular_value_threshold(w, 3 * 0.05 * 2.0), atol=1e-12)


def test_regularizer_sums_its_weighted_terms():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3), torch.nn.Flatten(), torch.nn.Linear(4, 3), torch.nn.Linear(3, 2)
    )
    reg = SmoothnessRegularizer(net, nuclear=0.1, first_order=0.2, second_order=0.3)
    assert [n for n, _ in reg.layers] == ["0", "2"]
    expected = sum(
        0.1 * nuclear_norm(m.weight)
        + 0.2 * smoothness_penalty(m.weight, order=1)
        + 0.3 * smoothness_penalty(m.weight, order=2)
        for m in (net[0], net[2])
    )
    assert torch.allclose(reg(), expected)


@pytest.mark.parametrize(
    "kwargs",
    [{"axes": ("diagonal",)}, {"order": 3}, {"p": 3}, {"reduction": "max"}],
)
def test_bad_penalty_options_are_input_errors(kwargs):
    with pytest.raises(InputError):
        smoothness_penalty(torch.randn(SHAPE), **kwargs)


def test_regularizer_refuses_an_unknown_layer_name():
    with pytest.raises(InputError, match="nope"):
        SmoothnessRegularizer(torch.nn.Linear(2, 2), exclude=["nope"])
