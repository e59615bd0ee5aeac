import dataclasses
import json

import pytest
from smoothprune._experiments import digits
from smoothprune._experiments.config import FULL, QUICK, RUN_NAMES
from smoothprune._experiments.context import Context
from smoothprune._experiments.reproduce import reproduce

from sciml_core import Result, validate_result

# the claims spec section 6.3 says `--quick` shows
QUICK_CLAIMS = (
    "smooth_full_accuracy_cost",
    "svd_per_layer_smooth_gain",
    "global_budget_beats_per_layer",
    "svd_monotone_in_budget",
)


@pytest.mark.parametrize(
    ("scores", "best_plain", "eligible", "chosen"),
    [
        # the best compressed accuracy among the values within 0.03 of the best plain run
        ([(0.90, 0.70), (0.89, 0.80), (0.88, 0.75)], 0.90, [0, 1, 2], 1),
        # a value that loses more than 0.03 uncompressed is not chosen, however well it compresses
        ([(0.90, 0.70), (0.85, 0.95)], 0.90, [0], 0),
        # eligibility is measured against the best plain run, not the run's own best value
        ([(0.80, 0.70), (0.79, 0.90)], 0.90, [], 0),
        # ties go to the first value of the grid
        ([(0.90, 0.80), (0.90, 0.80)], 0.90, [0, 1], 0),
        # a grid of one value is taken as it is, eligible or not
        ([(0.10, 0.10)], 0.90, [], 0),
    ],
)
def test_tuning_rule_chooses_by_compressed_validation_accuracy_among_eligible(
    scores, best_plain, eligible, chosen
):
    assert digits.choose(scores, best_plain, 0.03) == (eligible, chosen)


def test_full_config_makes_every_run_of_the_spec_and_quick_a_subset():
    assert FULL.runs == RUN_NAMES
    assert set(QUICK.runs) <= set(FULL.runs)
    assert FULL.runs.index("smooth-out1") < FULL.runs.index("smooth-in1")
    for arch in FULL.models:
        assert len(FULL.second_order[arch]) > 1 and len(FULL.first_order[arch]) > 1
        assert len(FULL.nuclear[arch]) > 1


@pytest.fixture(scope="module")
def tiny_full(tmp_path_factory):
    """The full study's code path (every run, tuning, two seeds) at a tiny budget."""
    pytest.importorskip("sklearn")
    cfg = dataclasses.replace(
        FULL,
        models=("smallcnn",),
        epochs=1,
        plain_weight_decays=(5e-4, 5e-2),
        second_order={"smallcnn": (1e-3, 1e-2)},
        first_order={"smallcnn": (3e-4, 3e-3)},
        nuclear={"smallcnn": (1e-3,)},
        seeds=(0, 1),
        keep=(0.1,),
        params=(0.1,),
        model_params=(),
        peer_params=(0.1,),
        channels=(0.5,),
        unstructured=(0.9,),
        n_train=128,
        n_val=64,
    )
    result = Result("smoothprune", "0", seed=0, device="cpu", quick=False)
    ctx = Context(result, tmp_path_factory.mktemp("tiny"), cfg, 0, "cpu")
    digits.run(ctx)
    return ctx, json.loads(json.dumps(result.to_dict()))


def _table(data, table_id):
    table = next(t for t in data["tables"] if t["id"] == table_id)
    return [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]


@pytest.mark.slow
def test_tiny_full_study_writes_a_valid_result_with_the_axis_claim(tiny_full):
    _, data = tiny_full
    assert validate_result(data) == []
    assert "out_axis_beats_in_axis" in [c["name"] for c in data["claims"]]
    runs = {(r["run"], r["seed"]) for r in _table(data, "digits_accuracy")}
    assert runs == {(run, seed) for run in RUN_NAMES for seed in (0, 1)}


@pytest.mark.slow
def test_tiny_full_study_compares_the_peers_at_the_svd_target(tiny_full):
    pytest.importorskip("torch_pruning")
    pytest.importorskip("tensorly")
    ctx, data = tiny_full
    rows = _table(data, "digits_peers")
    keys = {(r["run"], r["seed"], r["method"]) for r in rows}
    assert keys == {
        (run, seed, method)
        for run in ("plain", "smooth-out2")
        for seed in (0, 1)
        for method in ("svd-global", "torch-pruning", "tucker2")
    }
    for r in rows:
        assert r["parameters"] <= r["target"] and 0.0 <= r["accuracy"] <= 1.0
    assert "svd_vs_peers_at_equal_params" in [c["name"] for c in data["claims"]]
    files = [f["file"] for f in data["figures"]]
    assert "digits_accuracy_vs_params.png" in files
    assert all((ctx.out_dir / f).is_file() for f in files)


@pytest.mark.slow
def test_smooth_in1_reuses_the_first_order_lambda_chosen_for_smooth_out1(tiny_full):
    _, data = tiny_full
    tuning = _table(data, "digits_tuning")
    out1 = [r for r in tuning if r["run"] == "smooth-out1" and r["chosen"]]
    in1 = [r for r in tuning if r["run"] == "smooth-in1"]
    assert len(out1) == 1 and len(in1) == 1
    assert in1[0]["lambda1"] == out1[0]["lambda1"] and in1[0]["axis"] == "in"
    assert out1[0]["axis"] == "out"


@pytest.mark.slow
def test_every_seed_of_a_run_uses_its_chosen_value(tiny_full):
    _, data = tiny_full
    chosen = {r["run"]: r for r in _table(data, "digits_tuning") if r["chosen"]}
    for row in _table(data, "digits_accuracy"):
        for key in ("weight_decay", "lambda2", "lambda1", "lambda_nuclear", "axis"):
            assert row[key] == chosen[row["run"]][key]


@pytest.mark.slow
def test_quick_reproduce_writes_a_valid_result_whose_quick_claims_hold(tmp_path):
    pytest.importorskip("sklearn")
    data = json.loads(reproduce(tmp_path, quick=True, seed=0).read_text())
    assert validate_result(data) == []
    holds = {c["name"]: c["holds"] for c in data["claims"]}
    for name in QUICK_CLAIMS:
        assert holds[name], name
    (conditions,) = _table(data, "run_conditions")
    assert conditions["cpu_s"] > 0 and conditions["threads"] == 1
