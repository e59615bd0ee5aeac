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

    ``values`` collects the measured numbers by stable key (``("denoising", "dip", "final_psnr")``
    and so on): claims read them from there, never from a table's display label. ``not_tested``
    collects ``(claim, reason)`` for the claims this mode cannot test.
    """

    result: Result
    out_dir: Path
    config: Config
    seed: int
    device: str
    values: dict[tuple[str, ...], Any] = field(default_factory=dict)
    not_tested: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Study:
    """One table or figure of the paper, reproduced: ``run(ctx)`` adds its rows and claims."""

    name: str
    title: str
    run: Callable[[Context], None]
