"""What a study is and what it is given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sciml_core import Result

from .config import Config


@dataclass(frozen=True)
class Context:
    """What every study gets: the result it adds to, where figures go, the mode's config, and
    ``values``, the measured numbers keyed by stable ids (claims read them by key)."""

    result: Result
    out_dir: Path
    config: Config
    seed: int
    device: str
    values: dict[tuple[Any, ...], float] = field(default_factory=dict)
    arrays: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    """Figure data that no table holds (numpy arrays), e.g. ``("prediction", target, model)``."""
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Study:
    """One table or figure of the paper, reproduced: ``run(ctx)`` adds its rows and claims."""

    name: str
    title: str
    run: Callable[[Context], None]
