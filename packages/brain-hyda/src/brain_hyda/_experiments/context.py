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

    ``values`` collects measured numbers by stable keys (the claims read them by key);
    ``store`` passes objects between studies (the pre-trained backbone); ``workers`` is the
    number of single-threaded processes the independent training runs go to
    (:func:`sciml_core.run_jobs`).
    """

    result: Result
    out_dir: Path
    config: Config
    seed: int
    device: str
    workers: int = 1
    values: dict[tuple[Any, ...], float] = field(default_factory=dict)
    store: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Study:
    """One table or figure of the paper, reproduced: ``run(ctx)`` adds its rows and claims."""

    name: str
    title: str
    run: Callable[[Context], None]
