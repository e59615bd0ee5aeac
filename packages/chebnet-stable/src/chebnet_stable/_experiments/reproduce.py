"""``chebnet-stable reproduce``: the paper's spectral claims and long-range tasks at laptop scale.

Studies (:data:`~.registry.STUDIES`, in this order): ``spectrum`` (no training: damping kernel,
Theorem 3 on three graphs, the Jacobian spread with K, exact k-hop transfer, one-layer gains),
``stability`` (per-step gains and end-to-end Jacobian norms against depth), ``barbell``
(Table 2), ``ring`` (RingTransfer, Fig. 3), ``transfer`` (SWAN's graph transfer) and
``graphprop`` (full run only), each trained task with MLP, GCN, A-DGN, ChebNet and Stable-ChebNet
side by side. Every claim states the paper's ordering and ``holds`` is what this run measured.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sciml_core import InputError, Result, resolve_device
from sciml_core.cli import progress

from ..__about__ import __version__
from .config import PKG, config_for
from .registry import STUDIES, STUDY_NAMES, Context, StudyName

__all__ = ["reproduce"]


def _studies(names: Sequence[str] | None) -> list[StudyName]:
    """The requested studies in registry order (all by default); unknown names are refused."""
    if names is None:
        return list(STUDY_NAMES)
    bad = [t for t in names if t not in STUDY_NAMES]
    if bad:
        raise InputError(f"tasks: expected names from {STUDY_NAMES}, got {bad}")
    return [s for s in STUDY_NAMES if s in names]


def reproduce(
    out_dir: Path,
    *,
    quick: bool,
    seed: int,
    device: str = "cpu",
    studies: Sequence[str] | None = None,
) -> Path:
    """Run the reproduction studies and write ``result.json`` plus PNG figures into ``out_dir``.

    Args:
        out_dir: output folder (created).
        quick: the < 1 minute budget (:data:`~.config.QUICK`) instead of :data:`~.config.FULL`.
        seed: root seed of data and initialisations.
        device: ``'cpu'`` or ``'auto'`` (runs on the CPU: these graphs are tiny); any other
            device is refused rather than silently replaced.
        studies: names from :data:`~.registry.STUDY_NAMES` (default: all); they run in registry
            order whatever order they are given in.

    Returns:
        The path of ``result.json``.

    Raises:
        InputError: an unknown study name or a device other than the CPU.
    """
    auto = device is None or (isinstance(device, str) and device.strip().lower() == "auto")
    if resolve_device(device).type != "cpu" and not auto:
        raise InputError(f"device: reproduce runs on the CPU (its graphs are tiny), got {device!r}")
    names = _studies(studies)
    config = config_for(quick)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = Result(PKG, __version__, seed=seed, device="cpu", quick=quick)
    ctx = Context(result=res, out_dir=out, config=config, seed=seed, device="cpu")
    timings: list[list[Any]] = []
    for name in progress(names, desc="reproduce", unit="study"):
        t0 = time.perf_counter()
        STUDIES[name].run(ctx)
        timings.append([name, time.perf_counter() - t0])
    epochs = [(name, config.epochs(name)) for name in names]
    res.add_table(
        "epochs",
        "Fixed training epochs per task, the same for every model (no wall-clock budget); "
        f"GraphProp stops early after {config.graphprop_patience} epochs without validation gain",
        ["task", "epochs"],
        [[name, e] for name, e in epochs if e is not None],
    )
    res.add_table(
        "wall_time",
        "CPU wall time per task (s); GraphProp runs in the full run only",
        ["task", "seconds"],
        timings,
    )
    return res.save(out)
