"""``fno-conserve reproduce``: the paper's headline comparison at laptop scale, measured
honestly."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch

from sciml_core import InputError, Result, resolve_device
from sciml_core.cli import progress

from ..__about__ import __version__
from .config import Config, config_for
from .registry import STUDIES, Context


def reproduce(
    out_dir: str | os.PathLike[str],
    *,
    quick: bool = True,
    seed: int = 0,
    device: str | torch.device = "auto",
    studies: Sequence[str] | None = None,
    show_progress: bool = True,
    threads: int | None = None,
    config: Config | None = None,
) -> Path:
    """Run the registered studies and write ``result.json`` and PNG figures into ``out_dir``.

    Studies (:data:`~fno_conserve._experiments.registry.STUDIES`, always run in that order):
    ``burgers-mass`` (headline): plain, penalty, post-hoc projection, projection in training and
    adaptive correction on 1-D Burgers with the mass law, several seeds, plus an autoregressive
    rollout; ``nls-norm``: plain, post-hoc Q1 rescale, Q1 in training, adaptive Q2 on NLS with its
    ``int |psi|^2`` law; ``ns-mean`` (full run only): 2-D Navier-Stokes with the zero-mean law.
    Claims state the paper's orderings and record whether they held here.

    Args:
        out_dir: output folder (created).
        quick: the ``QUICK`` config (under a minute on two cores) instead of ``FULL``.
        seed: data seed and first model seed.
        device: torch device (``"auto"``: CUDA when available).
        studies: names of the studies to run (default: every registered one).
        show_progress: progress bars on stderr.
        threads: torch intra-op threads for the run (recorded in ``result.json``; restored
            afterwards). ``None`` means one thread for ``quick`` (its models are so small that a
            second thread only adds synchronisation: on a shared two-core machine the quick run
            took about 25 s with one thread and 80 s with two) and torch's default otherwise.
        config: sizes and budgets (default ``config_for(quick)``; the tests pass a tiny one).

    Returns:
        The path of ``result.json``.
    """
    if threads is None:
        threads = 1 if quick else torch.get_num_threads()
    if not isinstance(threads, int) or threads < 1:
        raise InputError(f"threads: expected a positive integer, got {threads!r}")
    names = list(STUDIES) if studies is None else list(studies)
    unknown = [n for n in names if n not in STUDIES]
    if unknown:
        raise InputError(f"studies: expected names from {tuple(STUDIES)}, got {unknown}")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        dev = resolve_device(device)
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        cfg = config if config is not None else config_for(quick)
        result = Result("fno-conserve", __version__, seed=seed, device=str(dev), quick=quick)
        ctx = Context(result, out, cfg, seed, str(dev), show_progress)
        selected = [study for name, study in STUDIES.items() if name in names]
        for study in progress(selected, desc="reproduce", unit="study", disable=not show_progress):
            study.run(ctx)
        result.add_table(
            "settings",
            cfg.settings_title(),
            ["case", "settings"],
            cfg.settings_rows(),
        )
        result.add_table(
            "timings",
            "Wall time per case (seconds)",
            ["case", "seconds", "note"],
            [list(row) for row in ctx.timings],
        )
        return result.save(out)
    finally:
        torch.set_num_threads(previous)
