"""``reproduce --workers N``: jobs come back in job order, failures name the job, and two
single-threaded workers write the same numbers as one."""

import json
import math
import os

import pytest
from brain_hyda._experiments.config import METHODS, Config
from brain_hyda._experiments.reproduce import reproduce
from brain_hyda._experiments.workers import Job, WorkerError, run_jobs
from brain_hyda.cli import main

from sciml_core import InputError

TINY = Config(
    mode="full",
    size=16,
    pretrain_subjects=4,
    pretrain_epochs=1,
    methods=METHODS,
    train_sizes=(2,),
    seeds=(0,),
    n_val=2,
    n_test=4,
    steps=2,
    eval_at=(1, 2),
    lrs={m: (1e-3, 3e-3) for m in METHODS},
    tune_size=2,
    controls=True,
    cls_train_sizes=(2, 4),
    cls_seeds=(0, 1),
    cls_n_val=4,
    cls_n_test=6,
    cls_tune_size=4,
)


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_job_order_whoever_finishes_first(workers):
    jobs = [
        Job("long", sum, (range(2_000_000),)),
        Job("short", abs, (-3,)),
        Job("min", min, (4, 2)),
    ]
    assert run_jobs(jobs, workers=workers) == [sum(range(2_000_000)), 3, 2]


def test_a_job_that_raises_in_a_worker_is_an_error_naming_the_job():
    jobs = [Job("fine", abs, (-1,)), Job("sqrt of -1", math.sqrt, (-1.0,))]
    with pytest.raises(WorkerError, match=r"job 'sqrt of -1' failed .*ValueError"):
        run_jobs(jobs, workers=2)


def test_a_worker_that_dies_is_an_error_not_a_hang():
    jobs = [Job("fine", abs, (-1,)), Job("exits", os._exit, (3,))]
    with pytest.raises(WorkerError, match="worker process died"):
        run_jobs(jobs, workers=2)


def test_each_worker_runs_one_torch_thread_whatever_the_parent_has(monkeypatch):
    import torch

    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.setenv("MKL_NUM_THREADS", "2")
    jobs = [Job(f"threads {i}", torch.get_num_threads) for i in range(2)]
    assert run_jobs(jobs, workers=2) == [1, 1]
    assert os.environ["OMP_NUM_THREADS"] == os.environ["MKL_NUM_THREADS"] == "2"


def test_jobs_run_here_on_one_torch_thread_and_the_count_is_restored():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert run_jobs([Job(f"threads {i}", torch.get_num_threads) for i in range(2)]) == [1, 1]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("workers", [0, -1, True, 1.5])
def test_reproduce_refuses_bad_workers_before_any_work(workers, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(InputError, match="workers: expected an integer >= 1"):
        reproduce(out, quick=True, seed=0, workers=workers)
    assert not out.exists()


@pytest.mark.parametrize("value", ["0", "two"])
def test_the_cli_refuses_bad_workers_with_exit_2(value, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["reproduce", "--quick", "--workers", value, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1
    assert "--workers" in err and "expected an integer >= 1" in err
    assert not out.exists()


def _tables(path):
    """Tables without their wall-clock columns, and the claims."""
    data = json.loads(path.read_text())
    tables = {}
    for t in data["tables"]:
        keep = [i for i, c in enumerate(t["columns"]) if c != "seconds"]
        tables[t["id"]] = [[row[i] for i in keep] for row in t["rows"]]
    return tables, data["claims"]


@pytest.mark.slow  # spawns 2 workers four times (each imports torch)
def test_two_workers_write_the_same_numbers_as_one(tmp_path):
    one = _tables(reproduce(tmp_path / "w1", quick=False, seed=0, config=TINY, workers=1))
    two = _tables(reproduce(tmp_path / "w2", quick=False, seed=0, config=TINY, workers=2))
    assert list(one[0]) == list(two[0])
    assert {"tuning", "segmentation", "classification_tuning", "classification"} <= set(one[0])
    for name in one[0]:
        assert one[0][name] == two[0][name], name
    assert one[1] == two[1]
