"""``smoothprune reproduce``: the registered studies, in order, into one ``result.json``."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from sciml_core import InputError, Result
from sciml_core.cli import progress

from ..__about__ import __version__
from .config import config_for
from .context import Context
from .registry import STUDIES


def reproduce(
    out_dir: Path,
    *,
    quick: bool,
    seed: int,
    device: str = "cpu",
    studies: Sequence[str] | None = None,
    cifar10: Path | None = None,
) -> Path:
    """Run ``studies`` (default: all, in registry order), write ``result.json``, return its path.

    ``cifar10`` is a folder holding ``cifar-10-batches-py`` (the CIFAR study runs only with it).

    Raises:
        InputError: ``studies`` names a study that is not registered.
    """
    names = list(STUDIES) if studies is None else list(studies)
    unknown = [name for name in names if name not in STUDIES]
    if unknown:
        raise InputError(f"studies: unknown {unknown}; registered: {list(STUDIES)}")
    result = Result("smoothprune", __version__, seed=seed, device=device, quick=quick)
    ctx = Context(result, Path(out_dir), config_for(quick), seed, device, cifar10=cifar10)
    load_start, cpu_start = _load_average(), time.process_time()
    for name in progress(names, desc="reproduce", unit="study"):
        STUDIES[name].run(ctx)
    result.add_table(
        "run_conditions",
        "how the run was made: CPU seconds of this process (wall time is in meta), 1-minute "
        "load average at start and end, torch threads",
        ["cpu_s", "load_average_start", "load_average_end", "threads"],
        [
            [
                round(time.process_time() - cpu_start, 1),
                load_start,
                _load_average(),
                torch.get_num_threads(),
            ]
        ],
    )
    return result.save(out_dir)


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None
