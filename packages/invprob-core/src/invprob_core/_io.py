"""Outputs of ``reconstruct`` and ``phantom``: ``.npy``/``.npz`` plus an 8-bit PNG preview.

User files are read through sciml-core's readers (``read_array``, ``read_image``, ...)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from sciml_core import atomic_write_bytes, require_extra


def png_bytes(image: np.ndarray) -> bytes:
    """8-bit PNG of a 2-D array, min-max scaled (``[io]`` extra: Pillow)."""
    pil = require_extra("PIL.Image", extra="io", package="invprob-core")
    a = np.asarray(image, dtype=np.float64)
    lo, hi = float(a.min()), float(a.max())
    scaled = np.zeros_like(a) if hi <= lo else (a - lo) / (hi - lo)
    buf = io.BytesIO()
    pil.fromarray(np.round(255 * scaled).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def write_outputs(path: Path, array: np.ndarray) -> Path:
    """Write ``array`` to ``path`` (.npy) and a PNG preview beside it, both atomically."""
    buf = io.BytesIO()
    np.save(buf, array)
    preview = path.with_suffix(".png")
    img = array.reshape(-1, *array.shape[-2:])[0] if array.ndim >= 2 else array[None]
    png = png_bytes(img)
    atomic_write_bytes(path, buf.getvalue())
    atomic_write_bytes(preview, png)
    return preview
