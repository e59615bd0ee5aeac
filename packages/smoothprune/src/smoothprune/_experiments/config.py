"""Every number a run depends on, one frozen dataclass per mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["quick", "full"]


@dataclass(frozen=True)
class Config:
    """Sizes and budgets of one ``reproduce`` mode.

    Attributes:
        mode: ``"quick"`` (under a minute on two cores) or ``"full"`` (the laptop-scale run).
    """

    mode: Mode


QUICK = Config(mode="quick")
FULL = Config(mode="full")


def config_for(quick: bool) -> Config:
    """The configuration of ``--quick`` (True) or ``--full`` (False)."""
    return QUICK if quick else FULL
