"""Quadrature rules and the projection they define: every rule's weights measure the box and
integrate what the rule is exact for; the projection correction of a law is the W-orthogonal one."""

import math

import pytest
import torch

from fno_conserve import ConservationCorrection, LinearConstraint, grid, quadrature_weights
from fno_conserve._grid import RULES, rule_grid_kind

SHAPES = [(7,), (16,), (5, 9), (8, 6)]


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("length", [1.0, 2 * math.pi])
def test_weights_sum_to_the_box_volume(rule, shape, length):
    w = quadrature_weights(shape, length, rule)
    assert math.isclose(float(w.sum()), length ** len(shape), rel_tol=1e-13)


@pytest.mark.parametrize("rule", ["trapezoid", "cells"])
@pytest.mark.parametrize("shape", SHAPES)
def test_node_and_cell_rules_integrate_multilinear_functions_exactly(rule, shape):
    lengths = [1.5 + a for a in range(len(shape))]
    w = quadrature_weights(shape, lengths, rule)
    x = grid(shape, rule_grid_kind(rule), lengths)
    volume = math.prod(lengths)
    for a, length in enumerate(lengths):  # int x_a = V L_a / 2
        assert math.isclose(float((w * x[a]).sum()), volume * length / 2, rel_tol=1e-13)
    f = torch.prod(x, dim=0)  # int prod_a x_a = prod_a L_a^2 / 2
    assert math.isclose(float((w * f).sum()), math.prod(v * v / 2 for v in lengths), rel_tol=1e-13)


@pytest.mark.parametrize("n", [8, 15])
def test_periodic_rule_integrates_trigonometric_polynomials_exactly(n):
    # The periodic rule is the rectangle rule on [0, L): exact for e^{2 pi i k x / L}, |k| < n
    # (not for a linear function, which is not periodic).
    length = 3.0
    w = quadrature_weights(n, length, "periodic")
    x = grid(n, "periodic", length)[0]
    for k in range(1, n):
        for f in (torch.cos, torch.sin):
            assert abs(float((w * f(2 * math.pi * k * x / length)).sum())) < 1e-13


def _corrected(law, u):
    u_star, _ = ConservationCorrection(law, mode="projection")(u)
    return u_star


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("shape", [(12,), (6, 7)])
def test_projection_correction_of_mass_is_a_constant_shift(rule, shape):
    g = torch.Generator().manual_seed(0)
    u = torch.randn(3, 1, *shape, generator=g, dtype=torch.float64)
    b = torch.tensor([[0.3], [-1.0], [2.0]], dtype=torch.float64)
    lengths = 2.0
    law = LinearConstraint.mass(rule=rule, lengths=lengths, target=lambda _x: b)
    delta = (_corrected(law, u) - u).flatten(1)
    w = quadrature_weights(shape, lengths, rule)
    volume = lengths ** len(shape)
    expected = (b[:, 0] - (w * u[:, 0]).flatten(1).sum(1)) / volume
    assert float((delta - expected[:, None]).abs().max()) < 1e-13


@pytest.mark.parametrize("rule", RULES)
def test_projection_correction_is_the_w_orthogonal_projection(rule):
    # u* - u lies in the span of the test functions (W^-1 C^T = Phi^T), and C u* = b: together
    # they characterise the W-orthogonal projection onto {C u = b}.
    g = torch.Generator().manual_seed(1)
    n = 20
    b = torch.tensor([[0.5, -0.2, 0.1]], dtype=torch.float64)
    law = LinearConstraint.moments(2, rule=rule, lengths=1.5, target=lambda _x: b)
    u = torch.randn(1, 1, n, generator=g, dtype=torch.float64)
    u_star = _corrected(law, u)
    x = grid(n, rule_grid_kind(rule), 1.5)[0]
    phi = torch.stack([x**0, x, x**2], dim=1)  # (n, 3)
    delta = (u_star - u).reshape(n, 1)
    coef = torch.linalg.lstsq(phi, delta).solution
    assert float((phi @ coef - delta).abs().max()) < 1e-12 * float(delta.abs().max())
    w = quadrature_weights(n, 1.5, rule)
    assert float(((w[:, None] * phi * u_star.reshape(n, 1)).sum(0) - b[0]).abs().max()) < 1e-12
