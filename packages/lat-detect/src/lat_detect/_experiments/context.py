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

    ``values`` holds every measured number by a stable key tuple (claims read them by key);
    ``store`` passes results from one study to the next (each seed's relabelled sources, packed
    as annotations: :func:`.zoo.pack`); ``progress`` shows training bars; ``workers`` is the
    number of single-threaded worker processes the independent units run on
    (:func:`sciml_core.run_jobs`; 1: this process).
    """

    result: Result
    out_dir: Path
    config: Config
    seed: int
    device: str
    values: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    store: dict[str, Any] = field(default_factory=dict)
    progress: bool = True
    workers: int = 1


@dataclass(frozen=True)
class Study:
    """One table or figure of the paper, reproduced: ``run(ctx)`` adds its rows and claims."""

    name: str
    title: str
    run: Callable[[Context], None]
