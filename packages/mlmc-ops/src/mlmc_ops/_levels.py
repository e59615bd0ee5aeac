"""Validation of a resolution hierarchy ``n_0 < n_1 < ... < n_L``."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from sciml_core import InputError

__all__ = ["check_resolutions"]


def check_resolutions(
    resolutions: Sequence[int], *, nested: bool = False, argument: str = "resolutions"
) -> tuple[int, ...]:
    """Return ``resolutions`` as a tuple after checking they are integers, strictly increasing and
    (with ``nested``) each a divisor of the finest (restriction by block averages needs it).

    Raises:
        InputError: naming ``argument``, what was expected and what came.

    Examples:
        >>> check_resolutions([16, 32, 64], nested=True)
        (16, 32, 64)
    """
    try:
        levels = tuple(resolutions)
    except TypeError:
        raise InputError(
            f"{argument}: expected a sequence of integers, got {resolutions!r}"
        ) from None
    if not levels or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in levels):
        raise InputError(f"{argument}: expected positive integers, got {list(levels)!r}")
    if any(b <= a for a, b in itertools.pairwise(levels)):
        raise InputError(
            f"{argument}: expected strictly increasing resolutions, got {list(levels)}"
        )
    if nested and any(levels[-1] % n for n in levels):
        raise InputError(
            f"{argument}: every level must divide the finest ({levels[-1]}) to restrict, "
            f"got {list(levels)}"
        )
    return levels
