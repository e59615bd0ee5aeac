"""``brain-hyda reproduce``: the registered studies, in order, into one ``result.json``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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
    result = Result("brain-hyda", __version__, seed=seed, device=device, quick=quick)
    ctx = Context(result, Path(out_dir), config_for(quick), seed, device)
    for name in progress(names, desc="reproduce", unit="study"):
        STUDIES[name].run(ctx)
    return result.save(out_dir)
