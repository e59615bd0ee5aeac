"""``run_jobs``: results in job order whoever finishes first, a failing job or a dying worker is
an error naming it (never a hang), every job on one torch thread, here or in a worker."""

import math
import os

import pytest

from sciml_core import Job, WorkerError, run_jobs


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_job_order_whoever_finishes_first(workers):
    # the first job is by far the longest: with two workers the second finishes first
    jobs = [
        Job("long", sum, (range(3_000_000),)),
        Job("short", sum, (range(4),)),
        Job("shorter", abs, (-7,)),
    ]
    assert run_jobs(jobs, workers=workers, show_progress=False) == [sum(range(3_000_000)), 6, 7]


def test_a_job_that_raises_in_a_worker_is_an_error_naming_the_job():
    jobs = [Job("fine", abs, (-1,)), Job("sqrt of -1", math.sqrt, (-1.0,))]
    with pytest.raises(WorkerError, match=r"job 'sqrt of -1' failed .*ValueError: math domain"):
        run_jobs(jobs, workers=2, show_progress=False)


def test_a_worker_that_dies_is_an_error_not_a_hang():
    jobs = [Job("fine", abs, (-1,)), Job("exits", os._exit, (3,))]
    with pytest.raises(WorkerError, match=r"worker process died.*'exits'"):
        run_jobs(jobs, workers=2, show_progress=False)


def test_workers_below_one_is_refused():
    with pytest.raises(ValueError, match="workers must be >= 1; got 0"):
        run_jobs([Job("a", abs, (1,))], workers=0, show_progress=False)


@pytest.mark.slow  # each worker imports torch
def test_each_worker_runs_one_torch_thread_whatever_the_parent_has(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.setenv("MKL_NUM_THREADS", "2")
    jobs = [Job(f"threads {i}", torch.get_num_threads) for i in range(2)]
    assert run_jobs(jobs, workers=2, show_progress=False) == [1, 1]
    assert os.environ["OMP_NUM_THREADS"] == os.environ["MKL_NUM_THREADS"] == "2"


def test_jobs_run_here_on_one_torch_thread_and_the_count_is_restored():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        jobs = [Job(f"threads {i}", torch.get_num_threads) for i in range(2)]
        assert run_jobs(jobs, show_progress=False) == [1, 1]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
