"""``brain-hyda reproduce``: the registered studies, in order, into one ``result.json``."""

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
    config: Config | None = None,
) -> Path:
    """Run ``studies`` (default: all, in registry order), write ``result.json``, return its path.

    Args:
        out_dir: Folder of ``result.json``.
        quick: The ``--quick`` configuration (else ``--full``).
        seed: Root seed of the data.
        device: Torch device.
        studies: Names of the studies to run, in registry order by default.
        workers: Single-threaded worker processes for the independent training runs (the
            segmentation and classification runs after the backbone is pre-trained); the numbers
            are the same for every value.
        config: Replaces the mode's configuration (tests run tiny ones).

    Raises:
        InputError: ``studies`` names a study that is not registered, or ``workers < 1``.
    """
    names = list(STUDIES) if studies is None else list(studies)
    unknown = [name for name in names if name not in STUDIES]
    if unknown:
        raise InputError(f"studies: unknown {unknown}; registered: {list(STUDIES)}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"workers: expected an integer >= 1; got {workers!r}")
    result = Result("brain-hyda", __version__, seed=seed, device=device, quick=quick)
    cfg = config_for(quick) if config is None else config
    Path(out_dir).mkdir(parents=True, exist_ok=True)  # the studies draw their figures into it
    ctx = Context(result, Path(out_dir), cfg, seed, device, workers=workers)
    for name in progress(names, desc="reproduce", unit="study"):
        STUDIES[name].run(ctx)
    return result.save(out_dir)
