"""The studies ``reproduce`` runs, in run order, and the context each one gets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sciml_core import Result

from . import burgers_mass, nls_norm, ns_mean
from .config import Config

Key = tuple[str, str, str]
"""``(case, variant, metric)``: the key of one measured value, e.g.
``("burgers_mass", "adaptive", "rel_l2_mean")``."""


@dataclass(frozen=True)
class Context:
    """What a study gets: the result it adds to, where figures go, the config and the run's seed.

    ``values`` collects every measured number by :data:`Key`, so claims read numbers by key
    (never from a table row found by its display label); ``timings`` collects the rows of the
    ``timings`` table (case, seconds, note).
    """

    result: Result
    out_dir: Path
    config: Config
    seed: int
    device: str
    show_progress: bool = False
    values: dict[Key, float] = field(default_factory=dict)
    timings: list[tuple[str, float, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Study:
    """One registered study: ``run(ctx)`` adds its tables, figures and claims to ``ctx.result``."""

    name: str
    title: str
    run: Callable[[Context], None]


STUDIES: dict[str, Study] = {
    study.name: study
    for study in (
        Study(
            "burgers-mass",
            "1-D Burgers, mass law: plain, penalty, post-hoc, projection, adaptive (headline)",
            burgers_mass.run,
        ),
        Study(
            "nls-norm",
            "NLS, int |psi|^2 law: plain, post-hoc Q1, Q1 in training, adaptive Q2",
            nls_norm.run,
        ),
        Study(
            "ns-mean",
            "2-D Navier-Stokes, zero-mean law (full run only)",
            ns_mean.run,
        ),
    )
}
"""Every study, in run order."""
