"""The quick budget: each variant trains with its own validated learning rate, and ``QUICK``'s
Burgers settings are the ones the committed validation sweep chose."""

import json
from pathlib import Path

import pytest

from fno_conserve._experiments import cases, quick_sweep
from fno_conserve._experiments.config import FULL, QUICK, CaseConfig, Config
from fno_conserve._experiments.reproduce import reproduce

SWEEP = Path(__file__).parents[1] / "results" / "quick_sweep_3seeds_cpu_2026-12-07.json"
FULL_SWEEP = Path(__file__).parents[1] / "results" / "lr_sweep_full_scale_cpu_2026-12-07.json"
EXTRA_SWEEP = Path(__file__).parents[1] / "results" / "quick_sweep_extra_cpu_2026-12-07.json"

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


def _record(path):
    if not path.exists():  # the isolated wheel test copies only the tests folder
        pytest.skip("results/ is not next to the tests")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def sweep_record():
    return _record(SWEEP)


@pytest.fixture(scope="module", params=["quick", "full", "extra"])
def any_sweep_record(request):
    return _record({"quick": SWEEP, "full": FULL_SWEEP, "extra": EXTRA_SWEEP}[request.param])


@pytest.fixture(scope="module")
def full_sweep_record():
    return _record(FULL_SWEEP)


def test_full_burgers_learning_rates_are_the_full_sweeps_validated_ones(full_sweep_record):
    (budget,) = full_sweep_record["budgets"]
    f = FULL.burgers
    assert (f.epochs, f.batch, f.width, f.modes) == tuple(
        budget[k] for k in ("epochs", "batch", "width", "modes")
    )
    s = full_sweep_record["settings"]
    assert (f.n, f.train, f.val, f.test) == (s["n"], s["train"], s["val"], s["test"])
    assert {v: f.lr_of(v) for v in quick_sweep.TRAINED} == {
        v: budget["chosen"][v]["lr"] for v in quick_sweep.TRAINED
    }


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


def test_sweep_chooses_each_learning_rate_on_validation(any_sweep_record):
    """Per budget and variant, the chosen rate has the lowest validation error (mean over the
    selection seeds)."""
    sweep_record = any_sweep_record
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


def test_extra_sweep_rows_were_trained_with_their_budgets_settings():
    """Every row of the extra budgets (width 32, 16 modes, constant rate) has the settings of the
    module's budget of that name, the schedule included."""
    record = _record(EXTRA_SWEEP)
    budgets = {b.name: b for b in quick_sweep.BUDGETS}
    for row in record["rows"]:
        b = budgets[row["budget"]]
        assert (row["epochs"], row["batch"], row["width"], row["modes"], row["schedule"]) == (
            b.epochs,
            b.batch,
            b.width,
            b.modes,
            b.schedule,
        )
    assert {r["schedule"] for r in record["rows"]} == {"cosine", "constant"}


TINY_SCALE = quick_sweep.Scale(n=32, train=8, val=4, test=4)


def test_sweep_chooses_the_rate_with_the_lowest_mean_validation_error():
    """A live run of the sweep on a tiny budget: each variant's chosen rate minimises its mean
    validation error over the selection seeds; the test split is scored only for that rate."""
    tiny = quick_sweep.Budget("tiny", epochs=1, batch=8, width=4, modes=2)
    record = quick_sweep.sweep((tiny,), select_seeds=(0, 1), scale=TINY_SCALE)
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


def test_merged_sweeps_choose_as_one_sweep_over_every_rate():
    """Two runs over parts of a rate grid, merged, choose what one run over the whole grid
    chooses (rates, validation and test errors), and hold every row of both."""
    tiny = quick_sweep.Budget("tiny", epochs=1, batch=8, width=4, modes=2)
    kw = {"select_seeds": (0,), "scale": TINY_SCALE}
    whole = quick_sweep.sweep((tiny,), lrs=(3e-3, 1e-2, 3e-2), **kw)
    parts = [quick_sweep.sweep((tiny,), lrs=lrs, **kw) for lrs in ((3e-3,), (1e-2, 3e-2))]
    settings = {
        "n": 32, "train": 8, "val": 4, "test": 4, "data_seed": 0, "penalty_weight": 1.0,
        "select_seeds": [0],
    }  # fmt: skip
    for part, lrs in zip(parts, ((3e-3,), (1e-2, 3e-2)), strict=True):
        part |= {"settings": settings | {"lrs": list(lrs)}, "command": "c", "commit": "x"}
        part["machine"] = "m"
    merged = quick_sweep.merge_sweeps(parts)
    (got,), (want,) = merged["budgets"], whole["budgets"]
    timeless = {"lr", "val_rel_l2", "test_rel_l2"}  # train_cpu_s is a measured time

    def strip(chosen):
        return {v: {k: c[k] for k in timeless} for v, c in chosen.items()}

    assert strip(got["chosen"]) == strip(want["chosen"])
    assert got["learns"] == want["learns"]
    assert len(merged["rows"]) == len(whole["rows"])
    assert merged["settings"]["lrs"] == [3e-3, 1e-2, 3e-2]


_A = {
    "complete": True,
    "settings": {"n": 32, "train": 8, "val": 4, "test": 4, "data_seed": 0},
    "budgets": [{"budget": "tiny"}],
    "reference": {"val_rel_l2": 0.3},
}
_A["settings"] |= {"penalty_weight": 1.0, "select_seeds": [0], "lrs": [1e-2]}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"settings": _A["settings"] | {"n": 64}}, "'n'"),
        ({"complete": False}, "complete"),
        ({"budgets": [{"budget": "other"}]}, "budgets"),
        ({"reference": {"val_rel_l2": 0.4}}, "reference"),
        ({"settings": _A["settings"] | {"lrs": [3e-2, 1e-2]}}, "twice"),
    ],
)
def test_merge_refuses_records_that_are_not_one_sweep(change, match):
    other = {**_A, "settings": _A["settings"] | {"lrs": [3e-2]}} | change
    with pytest.raises(ValueError, match=match):
        quick_sweep.merge_sweeps([_A, other])


def test_merge_takes_no_sweep_options(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        quick_sweep.main(["--out", str(tmp_path / "m.json"), "--merge", "a.json", "b.json",
                          "--lrs", "0.1"])  # fmt: skip
    assert exc.value.code == 2
    assert "--merge" in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize(
    ("config", "per_variant"),
    [(QUICK, True), (FULL, False), (TINY, True)],
    ids=["quick", "full", "tiny"],
)
def test_settings_title_says_the_learning_rate_is_shared_only_when_it_is(config, per_variant):
    title = config.settings_title()
    assert ("lr, epochs" in title) is not per_variant
    assert ("own validated lr in burgers" in title) is per_variant
