"""Trainers: cost accounting, evaluation outside the clock, resume, DDP."""

import itertools

import mlmc_ops._trainer as trainer_module
import pytest
import torch
from mlmc_ops import (
    CurriculumTrainer,
    MLMCTrainer,
    MultiLevelData,
    SingleLevelTrainer,
    step_cost,
)
from mlmc_ops._experiments import ddp_check

from sciml_core import InputError, save_checkpoint


@pytest.fixture
def small(fine_pool):
    x, y = (t[:96] for t in fine_pool)
    return x, y, MultiLevelData.from_fine(x, y, (4, 8, 16), n_samples=(48, 32, 16), seed=0)


def _make(kind, small, make_cnn, loss_fn, seed=0):
    x, y, data = small
    model = make_cnn(seed)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    if kind == "mlmc":
        return MLMCTrainer(model, data, loss_fn, opt, batch_sizes=(12, 6, 3), seed=seed)
    if kind == "single":
        return SingleLevelTrainer(model, x, y, loss_fn, opt, batch_size=6, seed=seed)
    coarse = {8: (data.levels[1].x_coarse.new_zeros(0), None)}
    del coarse
    from fno_conserve import restrict

    by_res = {
        4: (restrict(x, 4, "average"), restrict(y, 4, "average")),
        8: (restrict(x, 2, "average"), restrict(y, 2, "average")),
        16: (x, y),
    }
    return CurriculumTrainer(
        model, by_res, loss_fn, opt, batch_size=6, schedule=((4, 2), (8, 2), (16, 2)), seed=seed
    )


EXPECTED_UNITS = {
    "mlmc": 6 * step_cost((4, 8, 16), (12, 6, 3), 2),
    "single": 6 * 6 * 256,
    "curriculum": 2 * 6 * (16 + 64 + 256),
}


@pytest.mark.parametrize("kind", sorted(EXPECTED_UNITS))
def test_cost_accounting(kind, small, make_cnn, loss_fn):
    t = _make(kind, small, make_cnn, loss_fn)
    t.fit(steps=6)
    assert t.cost_units == EXPECTED_UNITS[kind]
    assert t.history.steps[-1]["cost_units"] == EXPECTED_UNITS[kind]


@pytest.mark.parametrize("kind", sorted(EXPECTED_UNITS))
def test_cost_budget_is_never_exceeded(kind, small, make_cnn, loss_fn):
    t = _make(kind, small, make_cnn, loss_fn)
    t.fit(cost_budget=EXPECTED_UNITS[kind] - 1)
    assert t.step_count == 5 and t.cost_units <= EXPECTED_UNITS[kind] - 1


@pytest.mark.parametrize("kind", sorted(EXPECTED_UNITS))
def test_evaluation_time_is_excluded_from_training_seconds(
    kind, small, make_cnn, loss_fn, monkeypatch
):
    clock = itertools.count()
    now = {"t": 0.0}

    def fake_clock():
        now["t"] += 1.0 + 0 * next(clock)  # every read advances the clock by one second
        return now["t"]

    def slow_eval(model):
        now["t"] += 1000.0
        return 0.5

    monkeypatch.setattr(trainer_module.time, "perf_counter", fake_clock)
    t = _make(kind, small, make_cnn, loss_fn)
    t.fit(steps=3, eval_fn=slow_eval, eval_every=1)
    assert len(t.history.evals) == 3
    assert t.seconds == 3.0  # one second per step, the 3000 s of evaluation not counted


@pytest.mark.parametrize("kind", sorted(EXPECTED_UNITS))
def test_trainer_resume_equals_an_uninterrupted_run(kind, small, make_cnn, loss_fn, tmp_path):
    full = _make(kind, small, make_cnn, loss_fn)
    full.fit(steps=6)
    first = _make(kind, small, make_cnn, loss_fn)
    first.fit(steps=3)
    first.save(tmp_path / "ckpt.pt")
    resumed = _make(kind, small, make_cnn, loss_fn, seed=1)  # other init and seed: all restored
    resumed.load(tmp_path / "ckpt.pt")
    resumed.fit(steps=6)
    for a, b in zip(full.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert resumed.cost_units == full.cost_units
    assert [s["loss"] for s in resumed.history.steps] == [s["loss"] for s in full.history.steps]


@pytest.mark.parametrize(
    ("package", "version", "match"),
    [
        ("mlmc-ops", "0.9.0", "written by mlmc-ops 0.9.0, this is mlmc-ops 0.1"),
        ("fno-conserve", "0.1.0", "written by fno-conserve 0.1.0"),
    ],
)
def test_a_checkpoint_of_another_package_or_version_is_refused(
    package, version, match, small, make_cnn, loss_fn, tmp_path
):
    t = _make("mlmc", small, make_cnn, loss_fn)
    path = save_checkpoint(
        tmp_path / "c.pt", {"w": torch.ones(1)}, config={}, package=package, version=version
    )
    with pytest.raises(InputError, match=match):
        t.load(path)


def test_a_checkpoint_of_another_configuration_is_refused(small, make_cnn, loss_fn, tmp_path):
    t = _make("mlmc", small, make_cnn, loss_fn)
    t.save(tmp_path / "c.pt")
    data = small[2]
    other = MLMCTrainer(
        t.model, data, loss_fn, t.optimizer, batch_sizes=(12, 6, 3), weighting="sum"
    )
    with pytest.raises(InputError, match="weighting"):
        other.load(tmp_path / "c.pt")


def test_giles_batch_sizes_are_allocated_from_a_pilot_and_recorded(small, make_cnn, loss_fn):
    data = small[2]
    model = make_cnn()
    t = MLMCTrainer(
        model,
        data,
        loss_fn,
        torch.optim.Adam(model.parameters(), 1e-2),
        batch_sizes="giles",
        step_budget=600.0,
        n_pilot=8,
        reallocate_every=2,
    )
    t.fit(steps=4)
    allocs = [a for a in t.history.allocations if a["reason"] == "giles"]
    assert [a["step"] for a in allocs] == [0, 2]
    assert all(step_cost((4, 8, 16), a["batch_sizes"], 2) <= 600.0 for a in allocs)


def test_levels_shard_with_too_few_work_items_is_refused():
    from mlmc_ops._distributed import shard_items

    with pytest.raises(InputError, match="fewer than"):
        shard_items([1, 1], [1.0, 1.0], 3, 0, "levels")


@pytest.mark.slow
@pytest.mark.parametrize("shard", ["samples", "levels"])
def test_ddp_equals_single_process(shard, tmp_path):
    result = ddp_check.max_difference(3, shard, 2, tmp_path)
    assert result["max_abs_difference"] <= 1e-12
