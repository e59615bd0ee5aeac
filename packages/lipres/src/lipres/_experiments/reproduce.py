"""``lipres reproduce``: the registered studies, in order, into one ``result.json``."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from sciml_core import InputError, MissingExtraError, Result, get_pyplot
from sciml_core.cli import progress

from ..__about__ import __version__
from .approximation import PREDICTED
from .config import config_for
from .context import Context
from .plots import CAPTIONS, PKG, draw_predictions, draw_tables
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

    With the ``[plot]`` extra (matplotlib) the figures of spec §6.1 and §6.3 are drawn into
    ``out_dir`` and listed in the result (max error against depth and predictions on A3 / A5 in
    ``--full``; certified and PGD accuracy against ε); without it none are drawn.

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
    _figures(ctx)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    result.add_table(
        "run",
        "Run conditions: seconds per study, threads, load average",
        ["study", "seconds", "threads", "load_avg"],
        [[n, ctx.seconds[n], torch.get_num_threads(), load] for n in names],
    )
    return result.save(out_dir)


def _figures(ctx: Context) -> None:
    """Draw what the tables and the kept predictions support (nothing without matplotlib)."""
    try:
        get_pyplot(PKG)
    except MissingExtraError:
        return
    for file, caption in draw_tables(ctx.result.tables, ctx.out_dir):
        ctx.result.add_figure(file, caption)
    names = {"circle": "A3 circle", "points": "A5 points"}
    panels = {
        names.get(target, target): (
            ctx.arrays[("grid", target)],
            ctx.arrays[("target", target)],
            {k[2]: a for k, a in ctx.arrays.items() if k[:2] == ("prediction", target)},
        )
        for target in PREDICTED
        if ("grid", target) in ctx.arrays
    }
    if draw_predictions(panels, ctx.out_dir / "predictions.png"):
        ctx.result.add_figure("predictions.png", CAPTIONS["predictions"])
