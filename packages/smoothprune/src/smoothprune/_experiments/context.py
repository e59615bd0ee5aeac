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
    """What every study gets: the result it adds to, where figures go, the mode's config.

    ``cifar10`` is the user's CIFAR-10 folder (``--cifar10 ROOT``) or None; ``values`` collects
    measured numbers by stable keys for the claims.
    """

    result: Result
    out_dir: Path
    config: Config
    seed: int
    device: str
    cifar10: Path | None = None
    values: dict[tuple[Any, ...], float] = field(default_factory=dict)


@dataclass(frozen=True)
class Study:
    """One table or figure of the paper, reproduced: ``run(ctx)`` adds its rows and claims."""

    name: str
    title: str
    run: Callable[[Context], None]
