"""``--workers N``: units run on spawned single-threaded processes, results in unit order, a
failing unit or a dying worker stops the run with an error naming it (never a hang)."""

import math
import os

import pytest
from lat_detect._experiments.workers import Unit, WorkerError, run_units


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_unit_order_whoever_finishes_first(workers):
    # The first unit is by far the longest: with two workers the second finishes first.
    units = [
        Unit("long", sum, (range(3_000_000),)),
        Unit("short", sum, (range(4),)),
        Unit("shorter", abs, (-7,)),
    ]
    assert run_units(units, workers=workers, progress=False) == [sum(range(3_000_000)), 6, 7]


def test_a_unit_that_raises_in_a_worker_is_an_error_naming_the_unit():
    units = [Unit("fine", abs, (-1,)), Unit("sqrt of -1", math.sqrt, (-1.0,))]
    with pytest.raises(WorkerError, match=r"unit 'sqrt of -1' failed .*ValueError: math domain"):
        run_units(units, workers=2, progress=False)


def test_a_worker_that_dies_is_an_error_not_a_hang():
    units = [Unit("fine", abs, (-1,)), Unit("exits", os._exit, (3,))]
    with pytest.raises(WorkerError, match=r"worker process died.*'exits'"):
        run_units(units, workers=2, progress=False)


def test_workers_below_one_is_refused():
    with pytest.raises(ValueError, match="workers must be >= 1; got 0"):
        run_units([Unit("a", abs, (1,))], workers=0, progress=False)


@pytest.mark.slow  # each worker imports torch: ~15 s on a loaded machine
def test_each_worker_runs_one_torch_thread():
    import torch

    units = [Unit(f"threads {i}", torch.get_num_threads) for i in range(2)]
    assert run_units(units, workers=2, progress=False) == [1, 1]
