"""Choices of the ``reproduce`` command line, defined once (the CLI offers them, the
experiments type their options with them)."""

from __future__ import annotations

import typing
from typing import Literal

__all__ = ["COST_KINDS", "HIERARCHY_CHOICES", "CostKind", "HierarchyChoice"]

CostKind = Literal["measured", "grid"]
COST_KINDS: tuple[CostKind, ...] = typing.get_args(CostKind)
"""Costs of Giles' allocation in ``reproduce``: measured seconds or grid points."""

HierarchyChoice = Literal["restrict", "resolve", "both"]
HIERARCHY_CHOICES: tuple[HierarchyChoice, ...] = typing.get_args(HierarchyChoice)
"""Which hierarchies ``reproduce`` trains on: (R), (S) or both."""
