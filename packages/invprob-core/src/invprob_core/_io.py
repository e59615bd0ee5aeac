"""Reading inputs (.npy, .npz, TIFF) and writing outputs (.npy plus an 8-bit PNG preview)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from sciml_core import InputError, atomic_write_bytes, require_extra


def read_array(path: str | Path, key: str | None = None) -> np.ndarray:
    """Load ``.npy``, ``.npz`` (its single array, or ``key``) or ``.tif``/``.tiff`` (``[io]``)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"INPUT: file not found: {p}")
    suffix = p.suffix.lower()
    if suffix == ".npy":
        arr = np.load(p, allow_pickle=False)
    elif suffix == ".npz":
        with np.load(p, allow_pickle=False) as z:
            names = list(z.keys())
            if key is None:
                if len(names) != 1:
                    raise InputError(f"--key: {p.name} holds {names}; name the array with --key")
                key = names[0]
            if key not in names:
                raise InputError(f"--key: {key!r} not in {p.name} (has {names})")
            arr = z[key]
    elif suffix in (".tif", ".tiff"):
        tifffile = require_extra("tifffile", extra="io", package="invprob-core")
        arr = tifffile.imread(p)
    else:
        raise InputError(f"INPUT: expected .npy, .npz or .tif/.tiff, got {p.name}")
    arr = np.asarray(arr)
    if arr.dtype.kind not in "fiu":
        raise InputError(f"INPUT: expected a real numeric array, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise InputError("INPUT: contains NaN or inf")
    return arr.astype(np.float64)


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
