"""Independent runs of a reproduction on ``N`` single-threaded worker processes (``--workers N``).

A :class:`Job` is a module-level function with picklable arguments; :func:`run_jobs` returns the
jobs' results **in the order the jobs were given**, whichever worker finished first, so a study
that builds its tables from them writes the same numbers for every ``N`` as long as every job
seeds its own random streams. ``N = 1`` runs the jobs here, in order, with torch (when the caller
has imported it) on one intra-op thread, as in a worker; ``N > 1`` starts that many ``spawn``-ed
processes with ``OMP_NUM_THREADS=1`` and ``MKL_NUM_THREADS=1`` in their environment (torch reads
them when a worker imports it). A job that raises, or a worker that dies, stops the run with a
:class:`WorkerError` naming the job; the jobs not yet started are cancelled.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from .cli import progress

__all__ = ["Job", "WorkerError", "run_jobs"]

#: The environment the workers are spawned with: one OpenMP / MKL thread each.
_ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class WorkerError(RuntimeError):
    """A job failed in a worker process, or a worker process died."""


@dataclass(frozen=True)
class Job:
    """One independent run: ``fn(*args)`` (``fn`` importable at module level).

    ``name`` labels it in errors, e.g. ``"tuning probe lr 0.01"``.
    """

    name: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()


@contextlib.contextmanager
def _one_thread_env() -> Iterator[None]:
    """``_ONE_THREAD`` in ``os.environ`` while workers are spawned, then the old values back."""
    old = {k: os.environ.get(k) for k in _ONE_THREAD}
    os.environ.update(_ONE_THREAD)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """torch (if the caller imported it) on one intra-op thread, then the old count back."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def run_jobs(
    jobs: Sequence[Job], *, workers: int = 1, desc: str = "jobs", show_progress: bool = True
) -> list[Any]:
    """Run ``jobs`` (none reads another's result) and return their results in job order.

    Args:
        jobs: The jobs.
        workers: ``1``: here, in order, on one torch thread; ``> 1``: that many spawned
            single-threaded processes (never more than there are jobs).
        desc: Label of the progress bar over finished jobs (stderr; off under ``--quiet``).
        show_progress: Show that bar.

    Raises:
        ValueError: ``workers < 1``.
        WorkerError: A job raised in a worker (its type and message kept, the error chained),
            or a worker process died (e.g. killed for memory).

    Examples:
        >>> run_jobs([Job("abs", abs, (-2,)), Job("max", max, (1, 3))], show_progress=False)
        [2, 3]
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1; got {workers}")
    if workers == 1 or len(jobs) <= 1:
        # one thread here too, as in a worker: multi-threaded reductions could change the floats
        with _one_torch_thread():
            bar = progress(jobs, desc=desc, unit="run", leave=False, disable=not show_progress)
            return [job.fn(*job.args) for job in bar]
    done: dict[int, Any] = {}
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(jobs)),
        mp_context=multiprocessing.get_context("spawn"),
    )
    try:
        with _one_thread_env():  # the workers start inside submit
            futures: dict[Future[Any], int] = {
                pool.submit(job.fn, *job.args): i for i, job in enumerate(jobs)
            }
        bar = progress(
            as_completed(futures),
            total=len(jobs),
            desc=f"{desc} ({workers} workers)",
            unit="run",
            leave=False,
            disable=not show_progress,
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
        pool.shutdown(wait=True, cancel_futures=True)
    return [done[i] for i in range(len(jobs))]
