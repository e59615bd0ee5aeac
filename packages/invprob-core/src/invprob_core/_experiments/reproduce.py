"""``invprob-core reproduce``: the registered studies, in order, into one ``result.json``."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from sciml_core import InputError, Result, resolve_device
from sciml_core.cli import progress

from ..__about__ import __version__
from . import figures
from .config import config_for
from .registry import STUDIES, Context


def reproduce(
    out_dir: str | Path,
    *,
    quick: bool = True,
    seed: int = 0,
    device: str = "auto",
    studies: Sequence[str] | None = None,
) -> Path:
    """Run ``studies`` (default: every study of the mode, in registry order) and write
    ``result.json`` and figures.

    The critics train on ``device``; every reconstruction runs on the CPU. After the studies come
    the ``budgets`` table (the mode's sizes) and the ``stages`` table (wall time per study).

    Args:
        out_dir: output folder (created).
        quick: ``QUICK`` (about 70 s on one thread) or ``FULL`` (about an hour) budgets.
        seed: root seed of every draw.
        device: where the critics train: ``auto``, ``cpu``, ``cuda``, ...
        studies: names of :data:`~.registry.STUDIES` to run.

    Returns:
        The path of ``result.json``.

    Raises:
        InputError: ``studies`` names a study that is not registered or not of this mode.
    """
    cfg = config_for(quick)
    names = [n for n in STUDIES if STUDIES[n].runs_in(cfg)] if studies is None else list(studies)
    unknown = [name for name in names if name not in STUDIES]
    if unknown:
        raise InputError(f"studies: unknown {unknown}; registered: {list(STUDIES)}")
    other = [name for name in names if not STUDIES[name].runs_in(cfg)]
    if other:
        mode = "--quick" if quick else "the full run"
        raise InputError(f"studies: {other} do not run in {mode}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures.pyplot()  # a missing [plot] extra fails here, before any work
    dev = resolve_device(device)
    res = Result("invprob-core", __version__, seed=seed, device=str(dev), quick=quick)
    ctx = Context(res, out, cfg, seed, str(dev))
    stages = []
    for name in progress(names, desc="reproduce", unit="study"):
        t0 = time.perf_counter()
        STUDIES[name].run(ctx)
        stages.append([STUDIES[name].title, round(time.perf_counter() - t0, 1)])
    res.add_table(
        "budgets",
        "Budgets of this run (" + ("--quick" if quick else "full") + ")",
        ["setting", "value"],
        cfg.budget_rows(),
    )
    res.add_table(
        "stages",
        f"Wall time per part (s): critics trained on {dev}, everything else on the CPU",
        ["part", "seconds"],
        stages,
    )
    return res.save(out)
