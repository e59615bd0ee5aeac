"""Readers for images, masks and label images that keep the data's dtype.

The reference loads everything through Pillow's ``convert('L')``, which saturates 16-bit values
above 255 and truncates floats. These readers never convert image data: a 16-bit PNG or TIFF
comes back as ``uint16`` with its values. ``.npy``/``.npz`` need no extra; PNG and TIFF need the
``[io]`` extra (Pillow, tifffile), imported only when such a file is read.
"""

from __future__ import annotations

import os
import typing
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sciml_core import InputError, require_extra

__all__ = ["GRAY_MODES", "GrayMode", "read_image", "read_labels", "read_masks"]

GrayMode = Literal["pil"]
"""``"pil"``: Pillow's 8-bit luma conversion (``convert('L')``), as the reference scripts load."""
GRAY_MODES: tuple[GrayMode, ...] = typing.get_args(GrayMode)

_TIFF = {".tif", ".tiff"}
_NUMPY = {".npy", ".npz"}


def _path(path: str | os.PathLike[str], name: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{name}: file {str(p)!r} does not exist")
    return p


def _read_numpy(p: Path) -> np.ndarray:
    try:
        data = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read {str(p)!r} as a numpy file: {err}") from err
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            keys = list(data.keys())
            key = "image" if "image" in keys else (keys[0] if len(keys) == 1 else None)
            if key is None:
                raise InputError(
                    f"{str(p)!r}: an .npz needs a key 'image' (or one array); got {keys}"
                )
            return np.asarray(data[key])
    return np.asarray(data)


def _read_tiff(p: Path) -> np.ndarray:
    tifffile = require_extra("tifffile", extra="io", package="potcontrast")
    try:
        with tifffile.TiffFile(p) as tif:
            series = tif.series[0]
            axes = series.axes
            arr = series.asarray()
    except (OSError, ValueError, IndexError) as err:  # TiffFileError is a ValueError
        raise InputError(f"cannot read TIFF {str(p)!r}: {err}") from err
    if arr.ndim == 3 and not axes.endswith("S"):
        arr = np.moveaxis(arr, 0, -1)  # pages are bands: (B, H, W) -> (H, W, B)
    return np.asarray(arr)


def _read_pil(p: Path, gray: GrayMode | None) -> np.ndarray:
    pil = require_extra("PIL.Image", extra="io", package="potcontrast")
    try:
        with pil.open(p) as im:
            im.load()
            mode = im.mode
            if gray == "pil":
                if mode not in ("L", "P", "RGB", "RGBA", "LA", "1"):
                    raise InputError(
                        f"--gray pil reproduces Pillow's 8-bit luma and needs an 8-bit image; "
                        f"{str(p)!r} has mode {mode}"
                    )
                return np.asarray(im.convert("L"))
            if mode == "P":
                im = im.convert("RGBA" if "transparency" in im.info else "RGB")
                mode = im.mode
            arr = np.asarray(im)
    except OSError as err:
        raise InputError(f"cannot read image {str(p)!r}: {err}") from err
    if mode == "1":
        arr = arr.astype(np.uint8)
    if mode in ("I", "I;16", "I;16B") and arr.size and arr.min() >= 0 and arr.max() < 65536:
        arr = arr.astype(np.uint16)  # a 16-bit PNG that Pillow opened as 32-bit
    if mode in ("LA", "RGBA"):
        warnings.warn(f"{p.name}: alpha channel dropped", UserWarning, stacklevel=3)
        arr = arr[..., :-1]
        if mode == "LA":
            arr = arr[..., 0]
    return arr


def read_image(path: str | os.PathLike[str], *, gray: GrayMode | None = None) -> np.ndarray:
    """Read an image or a stack, keeping its dtype and values.

    Args:
        path: ``.npy``, ``.npz`` (key ``image``), ``.png`` (8/16-bit grey, RGB(A): three bands,
            alpha dropped with a warning), or ``.tif``/``.tiff`` (multi-page: one band per page).
        gray: ``None`` (default) keeps every band; ``"pil"`` applies Pillow's 8-bit luma
            conversion (``convert('L')``), for bit-for-bit agreement with the reference scripts.

    Returns:
        ``(H, W)`` or ``(H, W, B)``.

    Raises:
        InputError: Missing or unreadable file, unknown extension.
        MissingExtraError: PNG/TIFF without the ``[io]`` extra.
    """
    p = _path(path, "image")
    if gray is not None and gray not in GRAY_MODES:
        raise InputError(f"gray must be None or one of {GRAY_MODES}; got {gray!r}")
    ext = p.suffix.lower()
    if ext in _NUMPY:
        arr = _read_numpy(p)
    elif ext in _TIFF:
        arr = _read_tiff(p)
    else:
        arr = _read_pil(p, gray)
    if gray == "pil" and arr.ndim != 2:
        raise InputError(f"gray='pil' applies to PNG-like files only; {str(p)!r} gave {arr.shape}")
    if arr.ndim not in (2, 3):
        raise InputError(f"image {str(p)!r} must be 2-D or 3-D; got shape {arr.shape}")
    return arr


def _mask_from_file(p: Path, invert: bool) -> np.ndarray:
    if p.suffix.lower() in _NUMPY | _TIFF:
        arr = read_image(p)
        mask = arr != 0 if arr.ndim == 2 else np.any(arr != 0, axis=-1)
    else:
        pil = require_extra("PIL.Image", extra="io", package="potcontrast")
        try:
            with pil.open(p) as im:
                if im.mode in ("I", "I;16", "I;16B", "F"):
                    mask = np.asarray(im) != 0
                else:  # colour masks: the reference's luma
                    mask = np.asarray(im.convert("L")) != 0
        except OSError as err:
            raise InputError(f"masks: cannot read {str(p)!r} as an image: {err}") from err
    return ~mask if invert else mask


def read_masks(paths: Any, *, invert: bool = False) -> np.ndarray:
    """Read ``K`` mask files: a pixel is selected where its value is non-zero.

    Args:
        paths: ``K`` file paths (PNG, TIFF, ``.npy``).
        invert: Select the zero pixels instead (the reference's ``invertMasks``).

    Returns:
        bool ``(K, H, W)``.
    """
    masks = [_mask_from_file(_path(x, "masks"), invert) for x in paths]
    shapes = {m.shape for m in masks}
    if len(shapes) != 1:
        raise InputError(f"masks must all have the same shape; got {[m.shape for m in masks]}")
    return np.stack(masks)


def read_labels(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an integer label image ``(H, W)`` (PNG, TIFF or ``.npy``).

    Raises:
        InputError: The file holds a float or multi-band image.
    """
    arr = read_image(path)
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer):
        raise InputError(
            f"labels {str(path)!r} must be an integer (H, W) image; got shape {arr.shape} dtype "
            f"{arr.dtype}"
        )
    return arr
