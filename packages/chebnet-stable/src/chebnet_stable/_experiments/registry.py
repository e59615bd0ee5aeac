"""The studies of ``chebnet-stable reproduce``, registered by name in run order."""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sciml_core import Result

from . import barbell, cayley, graphprop, ring, spectrum, stability, transfer
from .config import Config

__all__ = ["STUDIES", "STUDY_NAMES", "Context", "Study", "StudyName"]

StudyName = Literal["spectrum", "stability", "cayley", "barbell", "ring", "transfer", "graphprop"]
"""The studies, in run order (``reproduce --tasks`` takes a comma-separated subset)."""
STUDY_NAMES: tuple[StudyName, ...] = typing.get_args(StudyName)


@dataclass(frozen=True)
class Context:
    """What a study gets: the result to add tables, figures and claims to, and the run's settings.

    Attributes:
        result: the ``result.json`` being built.
        out_dir: where figures go (created).
        config: the run's budgets (:data:`~.config.QUICK` or :data:`~.config.FULL`).
        seed: the root seed.
        device: always ``'cpu'`` (the graphs are tiny).
    """

    result: Result
    out_dir: Path
    config: Config
    seed: int
    device: str


@dataclass(frozen=True)
class Study:
    """One table-producing study: ``run(ctx)`` adds its tables, figures and claims."""

    name: StudyName
    title: str
    run: Callable[[Context], None]


def _registry() -> dict[StudyName, Study]:
    studies = (
        Study(
            "spectrum", "damping kernel, Theorems 1 and 3, k-hop transfer, init gains", spectrum.run
        ),
        Study("stability", "end-to-end Jacobian norm against depth", stability.run),
        Study("cayley", "the norm-preserving Cayley step beside forward Euler", cayley.run),
        Study("barbell", "barbell regression (Table 2)", barbell.run),
        Study("ring", "RingTransfer (Fig. 3)", ring.run),
        Study("transfer", "graph transfer, SWAN protocol", transfer.run),
        Study("graphprop", "GraphProp (full run only)", graphprop.run),
    )
    registry = {s.name: s for s in studies}
    if tuple(registry) != STUDY_NAMES:
        raise ValueError(f"STUDIES {tuple(registry)} do not follow STUDY_NAMES {STUDY_NAMES}")
    return registry


STUDIES: dict[StudyName, Study] = _registry()
"""Every study by name, in run order."""
