"""reproduce trains for fixed epoch counts: no wall-clock budget, same seed -> same numbers."""

import inspect
import json
import pkgutil

import pytest
import torch

from chebnet_stable import _experiments
from chebnet_stable._datasets import make_barbell
from chebnet_stable._experiments import zoo
from chebnet_stable._experiments.config import FULL, QUICK, config_for
from chebnet_stable._experiments.registry import STUDIES, STUDY_NAMES, Study
from chebnet_stable._experiments.reproduce import reproduce
from chebnet_stable._train import TrainResult

EXPERIMENT_MODULES = [m.name for m in pkgutil.iter_modules(_experiments.__path__)]


@pytest.mark.parametrize("module", EXPERIMENT_MODULES)
def test_no_experiment_passes_a_time_budget(module):
    # a static check covers the full-run-only GraphProp task too
    source = inspect.getsource(__import__(f"chebnet_stable._experiments.{module}", fromlist=["_"]))
    assert "time_budget_s" not in source


def test_reproduce_passes_no_time_budget_and_equal_epochs_to_every_model(tmp_path, monkeypatch):
    calls = []

    def fake_train(model, *splits, **kwargs):
        calls.append((type(model).__name__, kwargs))
        r = TrainResult(train=0.5, val=0.5, test=0.5, best_epoch=1, epochs=kwargs["epochs"])
        r.update(wall_s=0.0, state={})
        return r

    monkeypatch.setattr(zoo, "train_model", fake_train)
    tasks = ["barbell", "ring", "transfer"]
    reproduce(tmp_path, quick=True, seed=0, studies=tasks)
    assert calls and all(kw.get("time_budget_s") is None for _, kw in calls)
    expected = {"barbell": QUICK.barbell_epochs, "ring": QUICK.ring_epochs}
    expected["transfer"] = QUICK.transfer_epochs
    # barbell (5 models), ring (5), transfer (3 topologies x 6 models), in that order
    sizes = {"barbell": 5, "ring": 5, "transfer": 18}
    i = 0
    for task in tasks:
        epochs = {kw["epochs"] for _, kw in calls[i : i + sizes[task]]}
        assert epochs == {expected[task]}, task
        i += sizes[task]
    assert i == len(calls)
    data = json.loads((tmp_path / "result.json").read_text())
    table = next(t for t in data["tables"] if t["id"] == "epochs")
    assert table["rows"] == [[t, expected[t]] for t in tasks]


@pytest.mark.parametrize("model", ["chebnet", "stable-chebnet"])
def test_reproduce_training_is_bit_identical_for_the_same_seed(model):
    splits = [make_barbell(4, 8, seed=10 + i) for i in range(3)]
    make = zoo.model_zoo("barbell", 4, 1, 1, hidden=8)[model]

    def run():
        _, r = zoo.fit(make, splits, task_type="regression", epochs=3, lr=1e-2, seed=3)
        state = r.pop("state")
        r.pop("wall_s")
        return dict(r), state

    (m1, s1), (m2, s2) = run(), run()
    assert m1 == m2 and m1["epochs"] == 3
    assert all(torch.equal(s1[k], s2[k]) for k in s1)


def test_studies_are_registered_in_run_order():
    assert tuple(STUDIES) == STUDY_NAMES
    assert all(STUDIES[name].name == name for name in STUDY_NAMES)


@pytest.mark.parametrize("quick", [True, False])
def test_config_for_picks_the_frozen_budget(quick):
    cfg = config_for(quick)
    assert cfg is (QUICK if quick else FULL) and cfg.quick is quick
    with pytest.raises(AttributeError):
        cfg.barbell_epochs = 1


def test_quick_runs_no_graphprop_and_full_runs_it():
    assert QUICK.epochs("graphprop") is None and FULL.epochs("graphprop") == FULL.graphprop_epochs
    assert QUICK.epochs("spectrum") is None


def test_reproduce_runs_studies_in_registry_order_whatever_the_request_order(tmp_path, monkeypatch):
    ran = []
    for name in STUDY_NAMES:
        fake = Study(name, STUDIES[name].title, lambda ctx, name=name: ran.append(name))
        monkeypatch.setitem(STUDIES, name, fake)
    path = reproduce(tmp_path, quick=True, seed=0, studies=["ring", "stability", "spectrum"])
    assert ran == ["spectrum", "stability", "ring"]
    timing = next(t for t in json.loads(path.read_text())["tables"] if t["id"] == "wall_time")
    assert [row[0] for row in timing["rows"]] == ran


def test_importing_the_package_does_not_load_the_experiments():
    import subprocess
    import sys

    code = (
        "import sys, chebnet_stable, chebnet_stable.cli; "
        "loaded = [m for m in sys.modules if '_experiments' in m]; "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
