"""Compiled class-map kernels, used when numba (the ``[fast]`` extra) is installed.

The numpy class map of a uint16 band whose bins are ``v >> s`` is a chain of whole-chunk passes
(the shift into a uint8 buffer, the conversion of pixel pairs to ``intp`` indices, ``np.take``
through a 65,536-entry pair table): several reads and writes of every pixel, even in cache. The
kernel here does it in one pass per chunk: each pixel is read, shifted, looked up in the
256-entry class-of-bin table (it stays in L1) and written, and a chunk's range check is its
maximum, read just before while the chunk is in cache. Same classes, bit for bit (tested against
the numpy path). numba compiles it on first use in a process (about a second), not at import.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

__all__ = ["available", "enabled", "shifted_classes"]

_CHUNK = 1 << 16
"""Pixels per range-checked chunk (128 KiB of uint16: in L2 with the table and the output)."""

_compiled: list[Any] = []


def available() -> bool:
    """True when numba is installed (the kernels compile at their first call)."""
    return importlib.util.find_spec("numba") is not None


_ENABLED = available()
"""Whether the class map uses the kernels (tests switch it off to check the numpy path)."""


def enabled() -> bool:
    """True when the class map uses the compiled kernels."""
    return _ENABLED


def _kernel() -> Any:
    """The compiled kernel, or None when numba is installed but does not import (e.g. built for
    another numpy): the kernels are then switched off and the numpy path runs."""
    global _ENABLED
    if not _compiled:
        try:
            import numba
        except Exception:  # a broken install must not break the class map
            _ENABLED = False
            return None

        @numba.njit(nogil=True, boundscheck=False, cache=False)
        def shifted(
            src: np.ndarray,
            shift: int,
            table: np.ndarray,
            hi: int,
            checked: bool,
            dst: np.ndarray,
            flagged: np.ndarray,
        ) -> int:
            n = src.size
            count = 0
            for start in range(0, n, _CHUNK):
                end = min(n, start + _CHUNK)
                values, out = src[start:end], dst[start:end]  # views: a loop LLVM vectorises
                if checked and values.max() >= hi:  # outside the range: the caller maps it
                    flagged[count] = start
                    count += 1
                    continue
                for i in range(values.size):
                    out[i] = table[values[i] >> shift]
            return count

        _compiled.append(shifted)
    return _compiled[0]


def shifted_classes(
    src: np.ndarray, shift: int, table: np.ndarray, hi: int | None, dst: np.ndarray
) -> list[tuple[int, int]] | None:
    """``dst[i] = table[src[i] >> shift]`` for a 1-D contiguous uint16 ``src``, chunk by chunk.

    Args:
        src: The band's values, 1-D C-contiguous uint16.
        shift: Bin of a value: ``v >> shift`` (below ``table.size``).
        table: Class of each bin (256 entries, int8).
        hi: Values at or above ``hi`` lie outside the range; a chunk holding one is left
            unwritten and returned. None: every value of the dtype is in range.
        dst: Output, 1-D C-contiguous, ``src.size`` entries of ``table``'s dtype.

    Returns:
        ``(start, end)`` of each chunk left for the caller (those holding a value ``>= hi``), or
        None, having written nothing, when numba does not import.
    """
    kernel = _kernel()
    if kernel is None:
        return None
    flagged = np.empty(src.size // _CHUNK + 1, dtype=np.int64)
    limit = 0 if hi is None else int(hi)
    count = kernel(src, int(shift), table, limit, hi is not None, dst, flagged)
    return [(int(s), min(src.size, int(s) + _CHUNK)) for s in flagged[:count]]
