"""Independent units of a run, on ``N`` single-threaded worker processes (``--workers N``).

A :class:`Unit` is a module-level function with picklable arguments; :func:`run_units` returns
the units' results **in the order the units were given**, whichever worker finished first, so a
study that assembles its tables from them writes the same numbers with any ``N``. Every unit
seeds its own random streams (``torch.manual_seed`` at the start of each training), so running
it in another process changes nothing. ``N = 1`` runs the units here, in order; ``N > 1`` runs
them in ``spawn``-ed processes started with ``OMP_NUM_THREADS=1`` (torch's intra-op pool is
one thread: the spec's "two single-threaded workers, never two threads per process"). A unit
that raises, or a worker that dies, stops the run with a :class:`WorkerError` naming the unit
(the other units are cancelled); nothing waits forever.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from sciml_core.cli import progress as _bar


class WorkerError(RuntimeError):
    """A unit failed in a worker process, or a worker process died."""


@dataclass(frozen=True)
class Unit:
    """One independent piece of work: ``fn(*args)`` (``fn`` importable at module level).

    ``key`` names it in errors and progress, e.g. ``"tune seed 0 lat lr 0.002"``.
    """

    key: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()


#: Set in the environment the workers are spawned with: torch reads it when a worker first
#: imports it, so every worker runs one intra-op thread.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextlib.contextmanager
def _one_thread_env() -> Iterator[None]:
    """``ONE_THREAD`` in ``os.environ`` while workers are spawned, then the old values back."""
    old = {k: os.environ.get(k) for k in ONE_THREAD}
    os.environ.update(ONE_THREAD)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_units(
    units: Sequence[Unit], *, workers: int = 1, desc: str = "units", progress: bool = True
) -> list[Any]:
    """Run ``units`` and return their results in the order of ``units``.

    Args:
        units: The independent units (no unit reads another's result).
        workers: ``1``: in this process, in order; ``> 1``: that many single-threaded spawned
            processes (never more than there are units).
        desc: Label of the progress bar over finished units.
        progress: Show that bar (stderr).

    Raises:
        ValueError: ``workers < 1``.
        WorkerError: A unit raised in a worker (its type and message are kept, the original
            is chained), or a worker process died (e.g. killed for memory).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1; got {workers}")
    if workers == 1 or len(units) <= 1:
        return [u.fn(*u.args) for u in _bar(units, desc=desc, unit="unit", disable=not progress)]
    results: dict[int, Any] = {}
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(units)),
        mp_context=multiprocessing.get_context("spawn"),
    )
    try:
        with _one_thread_env():  # the workers start inside submit
            futures: dict[Future[Any], int] = {
                pool.submit(u.fn, *u.args): i for i, u in enumerate(units)
            }
        bar = _bar(
            as_completed(futures),
            total=len(units),
            desc=f"{desc} ({workers} workers)",
            unit="unit",
            disable=not progress,
        )
        for fut in bar:
            i = futures[fut]
            key = units[i].key
            try:
                results[i] = fut.result()
            except BrokenProcessPool as err:
                unfinished = [units[j].key for j in range(len(units)) if j not in results]
                raise WorkerError(
                    "a worker process died (killed, out of memory or crashed); the run is "
                    f"stopped; units not finished: {unfinished}"
                ) from err
            except Exception as err:
                raise WorkerError(
                    f"unit {key!r} failed in a worker process: {type(err).__name__}: {err}"
                ) from err
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [results[i] for i in range(len(units))]
