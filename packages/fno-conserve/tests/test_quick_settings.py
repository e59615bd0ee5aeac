"""The quick budget: each variant trains with its own validated learning rate, and ``QUICK``'s
Burgers settings are the ones the committed validation sweep chose."""

import json
from pathlib import Path

import pytest

from fno_conserve._experiments import cases, quick_sweep
from fno_conserve._experiments.config import QUICK, CaseConfig, Config
from fno_conserve._experiments.reproduce import reproduce

SWEEP = Path(__file__).parents[1] / "results" / "quick_sweep_3seeds_cpu_2026-12-07.json"

LRS = (("plain", 1e-3), ("penalty", 2e-3), ("projection", 3e-3), ("adaptive", 4e-3))
TINY = Config(
    burgers=CaseConfig(
        n=32,
        train=8,
        val=4,
        test=4,
        width=4,
        modes=2,
        epochs=1,
        lr=5e-3,
        batch=4,
        seeds=1,
        rollout=1,
        penalty=(1.0,),
        lrs=LRS,
    ),
    nls=CaseConfig(n=32, train=4, test=4, width=4, modes=2, epochs=1, lr=3e-3, seeds=1, rollout=1),
    ns=None,
    pde_params={"burgers": {"t_final": 0.05}},
)


def test_each_variant_trains_with_its_own_learning_rate(tmp_path, monkeypatch):
    """``CaseConfig.lrs`` reaches the training of every variant (none gets the common ``lr``)."""
    seen: dict[str, float] = {}

    def record(model, cfg, x, y, **kwargs):
        seen[cfg.variant] = cfg.lr
        return {"loss": [], "train_seconds": 0.0}

    monkeypatch.setattr(cases, "train_model", record)
    reproduce(
        tmp_path,
        quick=True,
        seed=0,
        device="cpu",
        show_progress=False,
        config=TINY,
        studies=["burgers-mass"],
    )
    assert seen == dict(LRS)


@pytest.fixture(scope="module")
def sweep_record():
    if not SWEEP.exists():  # the isolated wheel test copies only the tests folder
        pytest.skip("results/ is not next to the tests")
    return json.loads(SWEEP.read_text())


def test_quick_burgers_budget_is_the_sweeps_choice(sweep_record):
    chosen = next(
        b for b in sweep_record["budgets"] if b["budget"] == sweep_record["chosen_budget"]
    )
    q = QUICK.burgers
    assert (q.epochs, q.batch, q.width, q.modes) == (
        chosen["epochs"],
        chosen["batch"],
        chosen["width"],
        chosen["modes"],
    )


def test_quick_burgers_learning_rates_are_the_sweeps_validated_ones(sweep_record):
    chosen = next(
        b for b in sweep_record["budgets"] if b["budget"] == sweep_record["chosen_budget"]
    )
    assert dict(QUICK.burgers.lrs) == {v: chosen["chosen"][v]["lr"] for v in quick_sweep.TRAINED}


def test_quick_burgers_split_is_the_sweeps(sweep_record):
    s = sweep_record["settings"]
    q = QUICK.burgers
    assert (q.n, q.train, q.val, q.test) == (s["n"], s["train"], s["val"], s["test"])


def test_sweep_chooses_each_learning_rate_on_validation(sweep_record):
    """Per budget and variant, the chosen rate has the lowest validation error (mean over the
    selection seeds)."""
    for budget in sweep_record["budgets"]:
        for variant in quick_sweep.TRAINED:
            mean_val = {}
            for lr in sweep_record["settings"]["lrs"]:
                vals = [
                    r["val_rel_l2"]
                    for r in sweep_record["rows"]
                    if r["budget"] == budget["budget"] and r["variant"] == variant and r["lr"] == lr
                ]
                assert len(vals) == len(sweep_record["settings"]["select_seeds"])
                mean_val[lr] = sum(vals) / len(vals)
            assert budget["chosen"][variant]["lr"] == min(mean_val, key=mean_val.get)


def test_sweep_chooses_the_rate_with_the_lowest_mean_validation_error(monkeypatch):
    """A live run of the sweep on a tiny budget: each variant's chosen rate minimises its mean
    validation error over the selection seeds; the test split is scored only for that rate."""
    for name, value in (("N", 32), ("TRAIN", 8), ("VAL", 4), ("TEST", 4)):
        monkeypatch.setattr(quick_sweep, name, value)
    tiny = quick_sweep.Budget("tiny", epochs=1, batch=8, width=4, modes=2)
    record = quick_sweep.sweep((tiny,), select_seeds=(0, 1))
    (budget,) = record["budgets"]
    for variant in quick_sweep.TRAINED:
        mean_val = {}
        for lr in quick_sweep.LRS:
            vals = [
                r["val_rel_l2"] for r in record["rows"] if (r["variant"], r["lr"]) == (variant, lr)
            ]
            assert len(vals) == 2
            mean_val[lr] = sum(vals) / 2
        assert budget["chosen"][variant]["lr"] == min(mean_val, key=mean_val.get)
        assert all("test_rel_l2" not in r for r in record["rows"])
