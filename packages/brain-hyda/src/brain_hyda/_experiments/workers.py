"""``reproduce --workers N``: independent training runs on ``N`` single-threaded processes.

A :class:`Job` is a module-level function and picklable arguments (the backbone travels as its
``state_dict``, never as a live module; data as tensors). :func:`run_jobs` returns the jobs'
results in the order the jobs were given, whichever process finished first, so a study that
builds its tables from them writes the same numbers for every ``N``. Every job seeds all its
random streams itself (model builders, the trainer's ``torch.Generator``), so where it runs does
not change its numbers. ``N = 1`` runs the jobs here, one after the other; ``N > 1`` starts that
many ``spawn``-ed processes with ``OMP_NUM_THREADS=1`` and ``MKL_NUM_THREADS=1`` (torch reads
them when a worker imports it: one intra-op thread, the spec's "two worker processes, one thread
each"). A job that raises, or a process that dies, stops the run with a :class:`WorkerError`
naming the job.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from sciml_core.cli import progress

__all__ = ["Job", "WorkerError", "run_jobs"]

#: Environment of the spawned processes: one OpenMP/MKL thread each.
_ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class WorkerError(RuntimeError):
    """A job failed in a worker process, or a worker process died."""


@dataclass(frozen=True)
class Job:
    """One independent run: ``fn(*args)``; ``name`` labels it in errors."""

    name: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()


def run_jobs(jobs: Sequence[Job], *, workers: int = 1, desc: str = "jobs") -> list[Any]:
    """Run ``jobs`` (none reads another's result) and return their results in job order.

    Args:
        jobs: The jobs.
        workers: ``1``: here, in order, on one torch thread; ``> 1``: that many spawned
            single-threaded processes (never more than there are jobs).
        desc: Label of the progress bar over finished jobs (stderr; off under ``--quiet``).

    Raises:
        ValueError: ``workers < 1``.
        WorkerError: A job raised in a worker (its type and message kept, the error chained),
            or a worker process died.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1; got {workers}")
    if workers == 1 or len(jobs) <= 1:
        # one thread here too, as in a worker: multi-threaded reductions could change the floats
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return [job.fn(*job.args) for job in progress(jobs, desc=desc, unit="run", leave=False)]
        finally:
            torch.set_num_threads(threads)
    old = {k: os.environ.get(k) for k in _ONE_THREAD}
    os.environ.update(_ONE_THREAD)  # read by the spawned interpreters when torch loads
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(jobs)),
        mp_context=multiprocessing.get_context("spawn"),
    )
    done: dict[int, Any] = {}
    try:
        futures: dict[Future[Any], int] = {
            pool.submit(job.fn, *job.args): i for i, job in enumerate(jobs)
        }
        bar = progress(
            as_completed(futures),
            total=len(jobs),
            desc=f"{desc} ({workers} workers)",
            unit="run",
            leave=False,
        )
        for fut in bar:
            i = futures[fut]
            try:
                done[i] = fut.result()
            except BrokenProcessPool as err:
                left = [jobs[j].name for j in range(len(jobs)) if j not in done]
                raise WorkerError(
                    f"a worker process died (killed, out of memory or crashed); unfinished: {left}"
                ) from err
            except Exception as err:
                raise WorkerError(
                    f"job {jobs[i].name!r} failed in a worker process: {type(err).__name__}: {err}"
                ) from err
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        pool.shutdown(wait=True, cancel_futures=True)
    return [done[i] for i in range(len(jobs))]
