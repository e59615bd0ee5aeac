"""``lat-detect reproduce``: the registered studies, in order, into one ``result.json``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sciml_core import InputError, Result
from sciml_core.cli import progress

from ..__about__ import __version__
from .config import Config, config_for
from .context import Context
from .registry import STUDIES


def reproduce(
    out_dir: Path,
    *,
    quick: bool,
    seed: int,
    device: str = "cpu",
    studies: Sequence[str] | None = None,
    workers: int = 1,
    extended: bool = False,
    config: Config | None = None,
) -> Path:
    """Run ``studies`` (default: all, in registry order), write ``result.json``, return its path.

    Args:
        out_dir: Where ``result.json`` and the figures go.
        quick: The quick mode (else the full protocol).
        seed: Root seed.
        device: Only ``"cpu"`` is run.
        studies: Registered study names (default: all).
        workers: Single-threaded worker processes for the independent units (seeds, methods,
            learning rates, ablations); the tables are the same numbers for any value.
        extended: The ``--extended`` protocol (overrides ``quick``).
        config: A configuration to run instead of the mode's (tests use a tiny one).

    Raises:
        InputError: ``studies`` names a study that is not registered, or ``workers < 1``.
    """
    names = list(STUDIES) if studies is None else list(studies)
    unknown = [name for name in names if name not in STUDIES]
    if unknown:
        raise InputError(f"studies: unknown {unknown}; registered: {list(STUDIES)}")
    if workers < 1:
        raise InputError(f"--workers: expected an integer >= 1; got {workers}")
    if quick and extended:
        raise InputError("extended: the --extended protocol extends --full; not with quick=True")
    cfg = config if config is not None else config_for(quick, extended=extended)
    result = Result("lat-detect", __version__, seed=seed, device=device, quick=quick)
    ctx = Context(result, Path(out_dir), cfg, seed, device, workers=workers)
    for name in progress(names, desc="reproduce", unit="study"):
        STUDIES[name].run(ctx)
    return result.save(out_dir)
