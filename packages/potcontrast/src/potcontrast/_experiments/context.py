"""What a study is and what it is given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sciml_core import Result

from .config import Config

__all__ = ["Context", "Study"]


@dataclass(frozen=True)
class Context:
    """What every study gets.

    Attributes:
        result: The run's result; a study adds its tables, claims and figures.
        out_dir: Where figures go (``result.json`` is written there at the end).
        config: The mode's configuration.
        seed: The run's seed.
        device: Recorded in the metadata (potcontrast runs on the CPU).
        pyplot: ``matplotlib.pyplot``, or None without the ``[plot]`` extra (no figures).
        figures_not_drawn: ``(file, caption)`` of every figure left out for want of
            matplotlib (:func:`.figures.add_figure` fills it; ``reproduce`` reports it).
    """

    result: Result
    out_dir: Path
    config: Config
    seed: int
    device: str
    pyplot: Any | None
    figures_not_drawn: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Study:
    """One section of the reproduction: ``run(ctx)`` adds its tables, claims and figures."""

    name: str
    title: str
    run: Callable[[Context], None]
