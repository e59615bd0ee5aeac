"""reproduce trains for fixed epoch counts: no wall-clock budget, same seed -> same numbers."""

import inspect
import json

import torch

from chebnet_stable import _reproduce
from chebnet_stable._datasets import make_barbell
from chebnet_stable._train import TrainResult, train_model


def test_reproduce_passes_no_time_budget_and_equal_epochs_to_every_model(tmp_path, monkeypatch):
    # a static check covers the full-run-only GraphProp task too
    assert "time_budget_s" not in inspect.getsource(_reproduce)
    calls = []

    def fake_train(model, *splits, **kwargs):
        calls.append((type(model).__name__, kwargs))
        r = TrainResult(train=0.5, val=0.5, test=0.5, best_epoch=1, epochs=kwargs["epochs"])
        r.update(wall_s=0.0, state={})
        return r

    monkeypatch.setattr(_reproduce, "train_model", fake_train)
    tasks = ["barbell", "ring", "transfer"]
    _reproduce.reproduce(tmp_path, quick=True, seed=0, tasks=tasks)
    assert calls and all(kw.get("time_budget_s") is None for _, kw in calls)
    expected = {
        "barbell": _reproduce.BARBELL_EPOCHS[True],
        "ring": _reproduce.RING_EPOCHS[True],
        "transfer": _reproduce.TRANSFER_EPOCHS[True],
    }
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


def test_reproduce_training_is_bit_identical_for_the_same_seed():
    splits = [make_barbell(4, 8, seed=10 + i) for i in range(3)]
    zoo = _reproduce._model_zoo("barbell", 4, 1, 1, hidden=8)

    def run(name):
        torch.manual_seed(3)
        r = train_model(zoo[name](), *splits, task_type="regression", epochs=3, lr=1e-2, seed=3)
        state = r.pop("state")
        r.pop("wall_s")
        return dict(r), state

    for name in ("ChebNet", "Stable-ChebNet"):
        (m1, s1), (m2, s2) = run(name), run(name)
        assert m1 == m2 and m1["epochs"] == 3, name
        assert all(torch.equal(s1[k], s2[k]) for k in s1), name
