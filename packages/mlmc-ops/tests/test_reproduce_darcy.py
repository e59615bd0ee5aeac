"""The Darcy study on a micro configuration: equal budgets, learning rates chosen on validation
the same way for every method, the flags' effect on which methods run, a valid result."""

import importlib.util
import json
from dataclasses import replace

import pytest
from mlmc_ops import step_cost
from mlmc_ops._experiments.config import QUICK
from mlmc_ops._experiments.reproduce import reproduce

from sciml_core import InputError, validate_result

MICRO = replace(
    QUICK,
    resolutions=(8, 16),
    width=4,
    modes=2,
    pool=48,
    n_val=8,
    n_test=8,
    n_pilot=4,
    batch=4,
    steps=6,
    lrs=(1e-3, 3e-3),
)
G = MICRO.steps * MICRO.batch * 16**2
ALL = ["single-fine", "mlmc-R", "mlmc-geom", "mlmc-S", "coarse-only", "curriculum"]


def _tables(data):
    return {t["id"]: t for t in data["tables"]}


def _rows(table):
    return [dict(zip(table["columns"], r, strict=True)) for r in table["rows"]]


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("micro")
    path = reproduce(
        out, quick=True, seed=0, studies=["darcy"], config=MICRO, cost="grid", methods=ALL
    )
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def flagged_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("micro_flags")
    cfg = replace(MICRO, lrs=(3e-3,))
    path = reproduce(
        out,
        quick=True,
        seed=0,
        studies=["darcy"],
        config=cfg,
        hierarchy="restrict",
        authors_sum=True,
        methods=["mlmc-geom", "mlmc-S", "mlmc-R"],
    )
    return json.loads(path.read_text())


def test_the_result_is_valid_and_has_the_pareto_figures(default_run):
    assert validate_result(default_run) == []
    wanted = {"pareto_units.png", "pareto_seconds.png", "level_variances.png"}
    if importlib.util.find_spec("matplotlib") is None:  # without [plot]: said, not drawn
        rows = _tables(default_run)["figures_not_drawn"]["rows"]
        assert {r[0] for r in rows} == wanted and all("plot" in r[2] for r in rows)
    else:
        assert {f["file"] for f in default_run["figures"]} == wanted


def _max_step_units(method):
    fine = 16**2
    return {
        "single-fine": MICRO.batch * fine,
        "coarse-only": MICRO.batch * 8**2,
        "curriculum": MICRO.batch * fine,
    }.get(method, G)  # an MLMC step costs at most one single-fine step (Giles) or its schedule


def test_every_method_spends_the_same_cost_unit_budget(default_run):
    runs = _rows(_tables(default_run)["runs"])
    final = [r for r in runs if r["f"] == 1.0]
    assert {r["method"] for r in final} == {
        "single-fine",
        "mlmc-R",
        "mlmc-geom",
        "mlmc-S",
        "coarse-only",
        "curriculum",
    }
    geom_step = step_cost((8, 16), (2 * MICRO.batch, MICRO.batch), 2)
    for r in final:
        step = geom_step if r["method"] == "mlmc-geom" else _max_step_units(r["method"])
        assert G - step < r["cost_units"] <= G, r


def test_budget_points_are_the_configured_fractions_in_increasing_cost(default_run):
    runs = _rows(_tables(default_run)["runs"])
    for method in {r["method"] for r in runs}:
        pts = [r for r in runs if r["method"] == method]
        assert [p["f"] for p in pts] == list(MICRO.fractions)
        costs = [p["cost_units"] for p in pts]
        assert costs == sorted(costs) and all(c <= f * G for c, f in zip(costs, MICRO.fractions))


def test_every_method_chooses_its_learning_rate_on_validation(default_run):
    rows = _rows(_tables(default_run)["lr_selection"])
    for method in {r["method"] for r in rows}:
        cand = [r for r in rows if r["method"] == method]
        assert sorted(r["lr"] for r in cand) == sorted(MICRO.lrs)
        chosen = [r for r in cand if r["chosen"]]
        assert len(chosen) == 1
        assert chosen[0]["val_rel_l2"] == min(r["val_rel_l2"] for r in cand)
    runs = _rows(_tables(default_run)["runs"])
    for r in runs:
        assert any(c["chosen"] and c["lr"] == r["lr"] for c in rows if c["method"] == r["method"])


def test_quick_lists_the_full_only_claims_as_not_tested(default_run):
    names = [r[0] for r in _tables(default_run)["not_tested"]["rows"]]
    assert "coarse-only test error > single-fine at f = 1" in names
    assert "mlmc-R Pareto curve left of single-fine's in cost units" in names
    assert "mlmc-R <= mlmc-S at equal training cost (f = 1)" in names


def test_methods_hierarchy_and_authors_sum_flags_choose_the_methods(flagged_run):
    methods = {r[0] for r in _tables(flagged_run)["methods"]["rows"]}
    # single-fine always runs (its trained model gives the pilots); restrict drops mlmc-S
    assert methods == {"single-fine", "mlmc-R", "mlmc-geom", "mlmc-geom-sum"}


@pytest.mark.parametrize("methods", [["nope"], ["mlmc-geom-sum"], []])
def test_unknown_methods_are_refused(methods, tmp_path):
    with pytest.raises(InputError, match="methods"):
        reproduce(tmp_path, quick=True, seed=0, studies=["darcy"], methods=methods)
    assert not (tmp_path / "result.json").exists()


def test_time_to_target_rows_compare_mlmc_with_single_fine_at_its_target():
    from mlmc_ops._experiments.bench import BenchReport, time_to_target

    report = BenchReport()
    time_to_target(report, 0, "cpu", replace(MICRO, steps=4))
    assert [r.label.split(", ")[1].split(" vs")[0] for r in report.rows] == ["mlmc-R", "mlmc-geom"]
    for row in report.rows:  # single-fine reaches its own target by construction
        assert 0 < row.t_peer < float("inf")
        assert row.speedup == (row.t_peer / row.t_ours if row.t_ours < float("inf") else 0.0)
