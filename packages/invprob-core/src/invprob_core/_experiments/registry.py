"""The studies of ``invprob-core reproduce``, by name, in the order they run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sciml_core import Result

from .config import Config


@dataclass(frozen=True)
class Context:
    """What every study gets.

    Attributes:
        result: the ``result.json`` being built; a study adds its tables, figures and claims.
        out_dir: folder the figures are written to (exists when a study runs).
        config: the mode's sizes, budgets and seed offsets.
        seed: the run's ``--seed``.
        device: resolved torch device of the critic training (``"cpu"``, ``"cuda"``, ...);
            every reconstruction runs on the CPU.
    """

    result: Result
    out_dir: Path
    config: Config
    seed: int
    device: str


@dataclass(frozen=True)
class Study:
    """One table or figure of the reproduction: ``run(ctx)`` adds its rows, figures and claims.

    Attributes:
        name: key in :data:`STUDIES` (``reproduce(studies=...)`` selects by it).
        title: the study's row in the ``stages`` wall-time table.
        run: the study.
        runs_in: whether the study belongs to a mode (default: every mode).
    """

    name: str
    title: str
    run: Callable[[Context], None]
    runs_in: Callable[[Config], bool] = lambda cfg: True


def _registry() -> dict[str, Study]:
    from . import ar_shipped, convergence, ct, deblurring

    studies = [
        Study("ct", "CT table", ct.run),
        Study("convergence", "convergence plot", convergence.run),
        Study("deblurring", "deblurring", deblurring.run),
        Study(
            "ar_shipped",
            "AR with the shipped critic",
            ar_shipped.run,
            lambda cfg: cfg.shipped_ar is not None,
        ),
    ]
    return {study.name: study for study in studies}


STUDIES: dict[str, Study] = _registry()
"""Every study, in run order: the CT table, the convergent-regularisation plot, deblurring, and
(``--quick`` only) AR with the shipped critic."""
