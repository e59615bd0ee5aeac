"""How measured numbers are written into result tables (claims keep the unrounded values)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["cell", "tidy"]


def cell(x: Any, digits: int = 6) -> Any:
    """A table cell for humans: floats to ``digits`` significant digits (0.592, not
    0.5920000000000001); other values unchanged (numpy integers become ints).

    Examples:
        >>> cell(0.5920000000000001), cell(np.int64(3)), cell("uint8")
        (0.592, 3, 'uint8')
    """
    if isinstance(x, bool | int | np.integer | str):
        return x.item() if isinstance(x, np.integer) else x
    v = float(x)
    return float(f"{v:.{digits}g}") if np.isfinite(v) else v


def tidy(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Every cell of ``rows`` through :func:`cell`."""
    return [[cell(c) for c in row] for row in rows]
