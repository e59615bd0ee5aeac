"""Giles' allocation, the geometric schedule and cost units."""

import math

import pytest
from mlmc_ops import geometric_schedule, giles_allocation, step_cost

from sciml_core import InputError

V, C = [6.27, 0.736, 0.0337], [4.53, 9.02, 28.41]


def _cp(c):
    return [c[0]] + [c[j] + c[j - 1] for j in range(1, len(c))]


def test_budget_allocation_equals_the_lagrange_closed_form():
    a = giles_allocation(V, C, budget=5000.0)
    cp = _cp(C)
    s = sum(math.sqrt(v * c) for v, c in zip(V, cp, strict=True))
    for n, v, c in zip(a.n, V, cp, strict=True):
        assert n == pytest.approx(5000.0 * math.sqrt(v / c) / s, rel=1e-12)


def test_target_variance_allocation_equals_the_closed_form_and_meets_it():
    a = giles_allocation(V, C, target_variance=0.01)
    cp = _cp(C)
    s = sum(math.sqrt(v * c) for v, c in zip(V, cp, strict=True))
    for n, v, c in zip(a.n, V, cp, strict=True):
        assert n == pytest.approx(math.sqrt(v / c) * s / 0.01, rel=1e-12)
    assert a.variance <= 0.01


@pytest.mark.parametrize("shift", [0.05, 0.2, -0.1])
@pytest.mark.parametrize("level", [0, 1, 2])
def test_perturbed_allocations_at_equal_cost_have_larger_variance(shift, level):
    a = giles_allocation(V, C, budget=5000.0)
    cp = _cp(C)
    n = list(a.n)
    other = (level + 1) % 3
    n[level] *= 1 + shift
    n[other] -= (n[level] - a.n[level]) * cp[level] / cp[other]  # same cost
    assert sum(x * c for x, c in zip(n, cp, strict=True)) == pytest.approx(5000.0)
    assert sum(v / x for v, x in zip(V, n, strict=True)) > sum(
        v / x for v, x in zip(V, a.n, strict=True)
    )


@pytest.mark.parametrize(
    ("v", "v_single", "c", "speedup"),
    [
        ((6.27, 0.736, 0.0337), 6.16, (4.53, 9.02, 28.41), 1.89),
        ((9.30, 1.25, 0.246), 6.16, (4.53, 9.02, 28.41), 0.94),
        ((6.27, 0.736, 0.0337), 6.16, (1, 4, 16), 3.6),
        ((9.30, 1.25, 0.246), 6.16, (1, 4, 16), 1.63),
        ((0.389, 4.8e-4, 1.7e-4), 0.384, (16.9, 18.2, 48), 2.35),
        ((0.468, 7.6e-3, 6.8e-3), 0.384, (16.9, 18.2, 48), 1.15),
        ((0.389, 4.8e-4, 1.7e-4), 0.384, (1, 4, 16), 11.5),
        ((0.468, 7.6e-3, 6.8e-3), 0.384, (1, 4, 16), 3.9),
    ],
)
def test_predicted_speedup_reproduces_the_spec_rows(v, v_single, c, speedup):
    a = giles_allocation(v, c, budget=1e6, v_single=v_single)
    digits = len(str(speedup).split(".")[1])
    assert round(a.predicted_speedup, digits) == speedup


@pytest.mark.parametrize("budget", [500.0, 1000.0, 12345.6])
@pytest.mark.parametrize("min_samples", [1, 4, 8])
def test_allocation_respects_minimums_and_budget(budget, min_samples):
    v = [1.0, 1e-6, 1e-8]  # corrections would get far below the floor
    a = giles_allocation(v, C, budget=budget, min_samples=min_samples)
    assert all(n >= min_samples for n in a.n_int)
    assert a.cost <= budget
    assert a.cost == pytest.approx(sum(n * c for n, c in zip(a.n_int, _cp(C), strict=True)))


def test_levels_at_the_floor_are_fixed_and_the_rest_reallocated():
    a = giles_allocation([1.0, 1e-6, 1e-8], C, budget=1000.0, min_samples=4)
    cp = _cp(C)
    assert a.n[1] == a.n[2] == 4
    assert a.n[0] == pytest.approx((1000.0 - 4 * (cp[1] + cp[2])) / cp[0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(V=V, C=C, budget=10.0, target_variance=1.0), "exactly one"),
        (dict(V=V, C=C), "exactly one"),
        (dict(V=V, C=C, budget=-1.0), "budget: expected a finite positive"),
        (dict(V=[1.0, float("nan"), 1.0], C=C, budget=10.0), "V: expected finite"),
        (dict(V=V, C=[1.0, 0.0, 2.0], budget=10.0), "C: expected finite positive"),
        (dict(V=V, C=[1.0, 2.0], budget=10.0), "C: expected 3 costs"),
        (dict(V=V, C=C, budget=10.0), "cannot pay for min_samples"),
    ],
)
def test_bad_allocation_input_names_the_argument(kwargs, match):
    with pytest.raises(InputError, match=match):
        giles_allocation(**kwargs)


def test_geometric_schedule_halves_per_level_finest_is_base():
    assert geometric_schedule(4, 2, 5) == (40, 20, 10, 5)
    assert geometric_schedule(3, 1, 7) == (7, 7, 7)


def test_step_cost_counts_both_halves_of_every_correction():
    assert step_cost((16, 32, 64), (40, 8, 2), 2) == 40 * 256 + 8 * (1024 + 256) + 2 * (4096 + 1024)
