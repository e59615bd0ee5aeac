"""``lipres reproduce``: the registered studies, in order, into one ``result.json``."""

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
) -> Path:
    """Run ``studies`` (default: all, in registry order), write ``result.json``, return its path.

    Raises:
        InputError: ``studies`` names a study that is not registered.
    """
    names = list(STUDIES) if studies is None else list(studies)
    unknown = [name for name in names if name not in STUDIES]
    if unknown:
        raise InputError(f"studies: unknown {unknown}; registered: {list(STUDIES)}")
    result = Result("lipres", __version__, seed=seed, device=device, quick=quick)
    ctx = Context(result, Path(out_dir), config_for(quick), seed, device)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for name in progress(names, desc="reproduce", unit="study"):
        start = time.perf_counter()
        STUDIES[name].run(ctx)
        ctx.seconds[name] = time.perf_counter() - start
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    result.add_table(
        "run",
        "Run conditions: seconds per study, threads, load average",
        ["study", "seconds", "threads", "load_avg"],
        [[n, ctx.seconds[n], torch.get_num_threads(), load] for n in names],
    )
    return result.save(out_dir)
