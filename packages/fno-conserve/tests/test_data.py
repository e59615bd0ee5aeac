"""Generators: seeded, prefix-stable, conserve what the PDE conserves, agree with exact
solutions."""

import functools
import math

import numpy as np
import pytest
import torch

from fno_conserve import RelLpLoss, generate, prolong, quadrature_weights, restrict
from fno_conserve._pdes.burgers import burgers_solve, cole_hopf_solution
from fno_conserve._pdes.darcy import darcy_solve
from fno_conserve._pdes.heat_advection import advection_solve, heat_solve
from fno_conserve._pdes.navier_stokes import navier_stokes_solve
from fno_conserve._pdes.nls import nls_solve, soliton
from sciml_core import InputError

SMALL = {"burgers": 32, "heat": 32, "advection": 32, "nls": 64, "navier-stokes": 16, "darcy": 16}
FAST = {"burgers": {"t_final": 0.1}, "nls": {"t_final": 0.1}, "navier-stokes": {"t_final": 0.2}}


@functools.cache
def _three_draws(pde):
    """Five samples with seed 3, the same again, the first two alone, two with seed 4."""
    n, kw = SMALL[pde], FAST.get(pde, {})
    return [
        generate(pde, k, n, seed=seed, show_progress=False, **kw)
        for k, seed in ((5, 3), (5, 3), (2, 3), (2, 4))
    ]


@pytest.mark.parametrize("pde", sorted(SMALL))
def test_same_seed_is_bitwise_identical(pde):
    a, b, _, _ = _three_draws(pde)
    assert torch.equal(a["x"], b["x"]) and torch.equal(a["y"], b["y"])


@pytest.mark.parametrize("pde", sorted(SMALL))
def test_samples_are_prefix_stable(pde):
    a, _, c, _ = _three_draws(pde)
    assert torch.equal(a["x"][:2], c["x"]) and torch.equal(a["y"][:2], c["y"])


@pytest.mark.parametrize("pde", sorted(SMALL))
def test_another_seed_gives_other_samples(pde):
    a, _, _, d = _three_draws(pde)
    assert not torch.equal(a["x"][:2], d["x"])


@pytest.mark.parametrize("pde", sorted(SMALL))
def test_generate_returns_float64_with_the_asked_sample_count(pde):
    a = _three_draws(pde)[0]
    assert a["x"].dtype == torch.float64 and a["x"].shape[0] == 5


def _rel_drift(q_in, q_out):
    return float(((q_out - q_in).abs() / q_in.abs().clamp_min(1e-300)).max())


W64 = quadrature_weights(64)


def test_burgers_conserves_mass():
    burg = generate("burgers", 4, 64, seed=0, show_progress=False)
    mass_in, mass_out = (burg["x"][:, 0] * W64).sum(-1), (burg["y"][:, 0] * W64).sum(-1)
    scale = (burg["x"][:, 0].abs() * W64).sum(-1)
    assert float(((mass_out - mass_in).abs() / scale).max()) < 1e-13


@pytest.fixture(scope="module")
def advection():
    adv = generate("advection", 4, 64, seed=0, show_progress=False)
    assert float((adv["y"][:, 0] - adv["x"][:, 0]).abs().max()) > 1e-2  # the field did move
    return adv


def test_advection_conserves_the_l2_norm(advection):
    """The spectral shift conserves the discrete L2 norm exactly (Parseval); other L^p norms only
    up to interpolation error on the grid, so they are not asserted."""
    l2_in = (advection["x"][:, 0] ** 2 * W64).sum(-1)
    l2_out = (advection["y"][:, 0] ** 2 * W64).sum(-1)
    assert _rel_drift(l2_in, l2_out) < 1e-13


def test_advection_conserves_mass(advection):
    mass_in = (advection["x"][:, 0] * W64).sum(-1)
    mass_out = (advection["y"][:, 0] * W64).sum(-1)
    assert float((mass_out - mass_in).abs().max()) < 1e-14


def test_nls_conserves_the_norm():
    nls = generate("nls", 4, 128, seed=0, show_progress=False, t_final=0.5)
    wn = quadrature_weights(128, 2 * math.pi)
    n_in = ((nls["x"] ** 2).sum(1) * wn).sum(-1)
    n_out = ((nls["y"] ** 2).sum(1) * wn).sum(-1)
    assert _rel_drift(n_in, n_out) < 1e-11


def test_navier_stokes_keeps_the_mean_vorticity_at_zero():
    ns = generate("navier-stokes", 3, 32, seed=0, show_progress=False, t_final=0.5)
    w2 = quadrature_weights((32, 32))
    mean_out = (ns["y"][:, 0] * w2).sum((-1, -2))
    scale = (ns["y"][:, 0].abs() * w2).sum((-1, -2))
    assert float((mean_out.abs() / scale).max()) < 1e-13


X64 = np.arange(64) / 64
U0 = np.sin(2 * np.pi * 3 * X64) + 0.5 * np.cos(2 * np.pi * 5 * X64 + 0.3)


def test_heat_equals_its_closed_form():
    nu, t = 0.02, 0.7
    exact = np.exp(-nu * (2 * np.pi * 3) ** 2 * t) * np.sin(2 * np.pi * 3 * X64) + 0.5 * np.exp(
        -nu * (2 * np.pi * 5) ** 2 * t
    ) * np.cos(2 * np.pi * 5 * X64 + 0.3)
    np.testing.assert_allclose(heat_solve(U0[None], nu=nu, t=t)[0], exact, atol=1e-13)


def test_advection_equals_its_closed_form():
    c, t = 0.37, 0.7
    x = X64 - c * t
    shifted = np.sin(2 * np.pi * 3 * x) + 0.5 * np.cos(2 * np.pi * 5 * x + 0.3)
    np.testing.assert_allclose(advection_solve(U0[None], c, t=t)[0], shifted, atol=1e-13)


@functools.cache
def _burgers_smooth(dt):
    n = 128
    x = np.arange(n) / n
    u0 = 0.5 * np.sin(2 * np.pi * x) + 0.3 * np.cos(4 * np.pi * x + 1)  # zero mean
    return burgers_solve(u0[None], nu=0.05, t_final=1.0, dt=dt)[0, 0]


def test_burgers_agrees_with_cole_hopf():
    def antiderivative(s):
        return -0.5 * np.cos(2 * np.pi * s) / (2 * np.pi) + 0.3 * np.sin(4 * np.pi * s + 1) / (
            4 * np.pi
        )

    u = _burgers_smooth(1e-3)
    exact = cole_hopf_solution(antiderivative, 0.05, 1.0, 128)
    assert np.linalg.norm(u - exact) / np.linalg.norm(exact) < 1e-8


def test_burgers_converges_in_time():
    u, half = _burgers_smooth(1e-3), _burgers_smooth(5e-4)
    assert np.linalg.norm(u - half) / np.linalg.norm(half) < 1e-8


@functools.cache
def _soliton_errors():
    n, length = 256, 2 * math.pi
    x = np.arange(n) * length / n
    psi0 = soliton(x, 0.0, a=5.0, c=1.0, x0=math.pi)
    exact = soliton(x, 0.5, a=5.0, c=1.0, x0=math.pi)
    return [
        np.linalg.norm(nls_solve(psi0[None], t_final=0.5, dt=dt)[0, 0] - exact)
        / np.linalg.norm(exact)
        for dt in (2e-3, 1e-3)
    ]


def test_nls_matches_the_travelling_soliton():
    assert _soliton_errors()[1] < 1e-3


def test_nls_error_is_second_order_in_dt():
    errs = _soliton_errors()
    assert 3.0 <= errs[0] / errs[1] <= 5.0, errs


@pytest.mark.parametrize("k", [1, 2])
def test_navier_stokes_reproduces_taylor_green_decay(k):
    n, nu, t = 32, 1e-3, 0.5
    x = np.arange(n) / n
    X, Y = np.meshgrid(x, x, indexing="ij")
    w0 = np.sin(2 * np.pi * k * X) * np.sin(2 * np.pi * k * Y)
    w = navier_stokes_solve(w0[None], nu=nu, t_final=t, dt=5e-3, forcing=None)[0, 0]
    exact = w0 * np.exp(-8 * np.pi**2 * k**2 * nu * t)
    assert np.linalg.norm(w - exact) / np.linalg.norm(exact) < 1e-7


def _manufactured_error(n):
    x = (np.arange(n) + 0.5) / n
    X, Y = np.meshgrid(x, x, indexing="ij")
    s, c = np.sin, np.cos
    a = 1 + 0.5 * s(np.pi * X) * c(np.pi * Y)
    ax, ay = 0.5 * np.pi * c(np.pi * X) * c(np.pi * Y), -0.5 * np.pi * s(np.pi * X) * s(np.pi * Y)
    ux, uy = np.pi * c(np.pi * X) * s(np.pi * Y), np.pi * s(np.pi * X) * c(np.pi * Y)
    f = -(ax * ux + ay * uy - 2 * np.pi**2 * a * s(np.pi * X) * s(np.pi * Y))
    return np.sqrt(np.mean((darcy_solve(a, f) - s(np.pi * X) * s(np.pi * Y)) ** 2))


def test_darcy_matches_a_manufactured_solution_at_second_order():
    ratio = _manufactured_error(32) / _manufactured_error(64)
    assert 3.0 <= ratio <= 5.0, ratio


def test_darcy_separate_solves_converge_at_first_order():
    levels = generate(
        "darcy", 3, 128, resolutions=[32, 64, 128], hierarchy="resolve", show_progress=False
    )
    mismatch = []
    for lev in levels[:2]:
        ref = restrict(levels[2]["y"], 128 // lev["y"].shape[-1], "average")
        mismatch.append(float((lev["y"] - ref).norm() / ref.norm()))
    assert 1.6 <= mismatch[0] / mismatch[1] <= 2.5, mismatch


@pytest.fixture(scope="module")
def burgers_levels():
    return generate("burgers", 3, 64, resolutions=[16, 32, 64], show_progress=False, t_final=0.1)


@pytest.mark.parametrize("level", [0, 1], ids=["16", "32"])
def test_coarse_levels_are_the_fine_samples_restricted(burgers_levels, level):
    """The coarse input is the fine one truncated to the frequencies the coarse grid holds."""
    lev, fine = burgers_levels[level], burgers_levels[2]
    f = 64 // lev["x"].shape[-1]
    torch.testing.assert_close(lev["x"], restrict(fine["x"], f), rtol=0, atol=1e-12)


def test_a_level_equals_the_same_samples_generated_alone(burgers_levels):
    alone = generate("burgers", 3, 32, seed=0, show_progress=False, t_final=0.1)
    torch.testing.assert_close(alone["x"], burgers_levels[1]["x"], rtol=0, atol=1e-12)


def test_spectral_restriction_of_a_band_limited_field_equals_subsampling():
    g = torch.Generator().manual_seed(0)
    n = 64
    x = torch.arange(n, dtype=torch.float64) / n
    band = sum(
        torch.randn(1, generator=g, dtype=torch.float64) * torch.cos(2 * math.pi * k * x + k)
        for k in range(8)
    ).reshape(1, 1, n)
    torch.testing.assert_close(restrict(band, 4, "spectral"), band[..., ::4], rtol=0, atol=1e-13)


def test_spectral_restrict_after_prolong_is_the_identity():
    g = torch.Generator().manual_seed(0)
    coarse = torch.randn(2, 3, 16, 16, generator=g, dtype=torch.float64)
    coarse = restrict(prolong(coarse, 2), 2)  # drop the Nyquist frequencies once
    torch.testing.assert_close(restrict(prolong(coarse, 4), 4), coarse, rtol=0, atol=1e-13)


def test_block_averaging_preserves_the_cell_rule_integral():
    g = torch.Generator().manual_seed(0)
    cells = torch.randn(2, 1, 32, 32, generator=g, dtype=torch.float64)
    fine_int = (cells * quadrature_weights((32, 32), rule="cells")).sum()
    coarse_int = (restrict(cells, 4, "average") * quadrature_weights((8, 8), rule="cells")).sum()
    assert abs(float(fine_int - coarse_int)) < 1e-14


def test_injection_keeps_every_factor_th_node():
    nodes = torch.randn(1, 1, 33, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.equal(restrict(nodes, 4, "inject"), nodes[..., ::4])


def _two_fields():
    g = torch.Generator().manual_seed(1)
    u = torch.randn(3, 2, 20, generator=g, dtype=torch.float64)
    y = torch.randn(3, 2, 20, generator=g, dtype=torch.float64)
    return u, y


def test_rel_lp_loss_is_the_quadrature_formula():
    u, y = _two_fields()
    w = quadrature_weights(20, rule="trapezoid")
    expected = (((u - y) ** 2 * w).sum((1, 2)).sqrt() / (y**2 * w).sum((1, 2)).sqrt()).mean()
    torch.testing.assert_close(RelLpLoss(rule="trapezoid")(u, y), expected, rtol=1e-14, atol=0)


def test_rel_lp_loss_is_resolution_independent_for_band_limited_fields():
    u, y = _two_fields()
    coarse_u, coarse_y = restrict(prolong(u, 1), 1), restrict(prolong(y, 1), 1)
    fine_u, fine_y = prolong(coarse_u, 4), prolong(coarse_y, 4)
    torch.testing.assert_close(
        RelLpLoss()(fine_u, fine_y), RelLpLoss()(coarse_u, coarse_y), rtol=1e-12, atol=0
    )


def test_cache_writes_one_npz_file(tmp_path):
    generate("heat", 3, 32, seed=1, cache_dir=tmp_path, show_progress=False)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].suffix == ".npz"


def test_cache_is_read_back_unchanged(tmp_path):
    a = generate("heat", 3, 32, seed=1, cache_dir=tmp_path, show_progress=False)
    b = generate("heat", 3, 32, seed=1, cache_dir=tmp_path, show_progress=False)
    assert len(list(tmp_path.iterdir())) == 1  # the second call read, it did not write
    assert torch.equal(a["x"], b["x"]) and torch.equal(a["y"], b["y"]) and a["meta"] == b["meta"]


def test_cache_keys_on_the_seed(tmp_path):
    generate("heat", 3, 32, seed=1, cache_dir=tmp_path, show_progress=False)
    generate("heat", 3, 32, seed=2, cache_dir=tmp_path, show_progress=False)
    assert len(list(tmp_path.iterdir())) == 2


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"pde": "kdv2"}, "pde"),
        ({"n_samples": 0}, "n_samples"),
        ({"hierarchy": "x"}, "hierarchy"),
        ({"rollout_steps": 0}, "rollout_steps"),
        ({"viscosity": 1.0}, "params"),
        ({"resolutions": [24, 64]}, "resolutions"),
    ],
)
def test_bad_generator_arguments_raise(kwargs, name):
    args = {"pde": "heat", "n_samples": 2, "resolution": 64} | kwargs
    with pytest.raises(InputError, match=name):
        generate(show_progress=False, **args)


@pytest.fixture(scope="module")
def two_steps():
    return generate("burgers", 3, 32, seed=0, rollout_steps=2, show_progress=False, t_final=0.2)


def test_rollout_targets_have_a_step_axis(two_steps):
    assert two_steps["y"].shape == (3, 2, 1, 32)


def test_first_rollout_target_is_the_one_step_target(two_steps):
    one = generate("burgers", 3, 32, seed=0, show_progress=False, t_final=0.2)
    torch.testing.assert_close(two_steps["y"][:, 0], one["y"], rtol=0, atol=1e-13)


def test_rollout_targets_are_the_trajectory_at_multiples_of_t(two_steps):
    again = burgers_solve(two_steps["y"][:, 0, 0].numpy(), nu=0.01, t_final=0.2, dt=1e-3)[:, 0]
    np.testing.assert_allclose(two_steps["y"][:, 1, 0].numpy(), again, rtol=0, atol=1e-12)


def test_resolve_hierarchy_solves_the_same_sample_on_each_grid():
    levels = generate(
        "burgers", 2, 256, resolutions=[128, 256], hierarchy="resolve", show_progress=False
    )
    coarse, fine = levels
    # at nu = 0.01 and T = 1 both grids resolve the solution: separate solves agree (1.5e-10)
    rel = float((coarse["y"] - fine["y"][..., ::2]).norm() / fine["y"].norm())
    assert rel < 1e-9, rel
    assert coarse["meta"]["hierarchy"] == "resolve"
