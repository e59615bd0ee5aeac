"""Readers for images, masks and label images that keep the data's dtype, and image layouts.

The reference loads everything through Pillow's ``convert('L')``, which saturates 16-bit values
above 255 and truncates floats. These readers never convert image data: a 16-bit PNG or TIFF
comes back as ``uint16`` with its values. Every file goes through sciml-core's readers, so a
missing, empty, truncated or junk file, or a ``.npy`` of Python objects, is one ``InputError``
naming the argument, the file and the cause. ``.npy``/``.npz`` need no extra; PNG and TIFF need
the ``[io]`` extra (Pillow, tifffile), imported only when such a file is read.

Layouts. :func:`read_image_axes` gives an image in the file's own axis order with its axes named
in tifffile's letters (``Y``, ``X`` rows and columns; ``S`` samples stored with each pixel, e.g.
RGB or an ``(H, W, B)`` TIFF written contiguously; a leading page axis such as ``Q`` or ``I`` for
a multi-page TIFF), and :func:`bands_last` turns it into ``(H, W)`` or ``(H, W, B)``. The band
axis is the one the caller names (an index into the file's axes), else the ``S`` axis, else the
first axis that is not ``Y`` or ``X`` (the pages of a multi-page TIFF); a numpy array carries no
axis names and has its bands last unless told otherwise.
"""

from __future__ import annotations

import os
import typing
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np

import sciml_core
from sciml_core import InputError, read_archive, read_array, read_user_file, require_extra

__all__ = [
    "GRAY_MODES",
    "GrayMode",
    "bands_last",
    "default_band_axis",
    "labels_from_file",
    "masks_from_files",
    "read_image",
    "read_image_axes",
    "read_labels",
    "read_masks",
]

GrayMode = Literal["pil"]
"""``"pil"``: Pillow's 8-bit luma conversion (``convert('L')``), as the reference scripts load."""
GRAY_MODES: tuple[GrayMode, ...] = typing.get_args(GrayMode)

_TIFF = {".tif", ".tiff"}
_NUMPY = {".npy", ".npz"}
_ALPHA_MODES = ("LA", "PA", "RGBA")


def _read_numpy(p: Path, argument: str) -> np.ndarray:
    if p.suffix.lower() == ".npy":
        return read_array(p, argument=argument)
    arrays = read_archive(p, argument=argument)
    if "image" in arrays:
        return arrays["image"]
    if len(arrays) == 1:
        return next(iter(arrays.values()))
    raise InputError(
        f"{argument}: {str(p)!r} needs an array 'image' (or just one array); it holds "
        f"{', '.join(repr(k) for k in arrays) or 'nothing'}"
    )


def _has_alpha(p: Path) -> bool:
    """Whether Pillow opens ``p`` with an alpha channel (that sciml-core's reader keeps)."""
    pil = require_extra("PIL.Image", extra="io", package="potcontrast")
    with pil.open(p) as im:
        return im.mode in _ALPHA_MODES or (im.mode == "P" and "transparency" in im.info)


def _read_pil_gray(p: Path, argument: str) -> np.ndarray:
    pil = require_extra("PIL.Image", extra="io", package="potcontrast")

    def decode(f: Path) -> np.ndarray:
        with pil.open(f) as im:
            im.load()
            if im.mode not in ("L", "P", "RGB", "RGBA", "LA", "1"):
                raise InputError(
                    f"--gray pil reproduces Pillow's 8-bit luma and needs an 8-bit image; the "
                    f"file has mode {im.mode}"
                )
            return np.asarray(im.convert("L"))

    return read_user_file(p, argument=argument, decode=decode, what="an 8-bit image")


def read_image_axes(
    path: str | os.PathLike[str], *, argument: str = "image", gray: GrayMode | None = None
) -> tuple[np.ndarray, str | None]:
    """Read an image or stack in the file's own axis order, with its axes named.

    Args:
        path: ``.npy``, ``.npz`` (key ``image``, or its only array), ``.tif``/``.tiff``, or any
            image Pillow reads (``.png``, ...; RGBA/LA: alpha dropped with a warning).
        argument: How the caller named the file, for error messages.
        gray: ``None`` keeps every band; ``"pil"`` applies Pillow's 8-bit luma conversion.

    Returns:
        ``(array, axes)``: ``axes`` has one tifffile letter per axis (``"YX"``, ``"YXS"``,
        ``"QYX"``, ...), or is None for a numpy file (no axis names).

    Raises:
        InputError: Missing, unreadable, empty, truncated or undecodable file, an object array.
        MissingExtraError: PNG/TIFF without the ``[io]`` extra.
    """
    p = Path(path)
    if gray is not None and gray not in GRAY_MODES:
        raise InputError(f"gray must be None or one of {GRAY_MODES}; got {gray!r}")
    ext = p.suffix.lower()
    if gray == "pil" and ext not in _NUMPY | _TIFF:
        return _read_pil_gray(p, argument), "YX"
    if ext in _NUMPY:
        arr: np.ndarray = _read_numpy(p, argument)
        axes: str | None = None
    else:
        arr, axes = _read_image_file(p, argument)
    if gray == "pil" and arr.ndim != 2:
        raise InputError(f"gray='pil' applies to PNG-like files only; {str(p)!r} gave {arr.shape}")
    return arr, axes


def _read_image_file(p: Path, argument: str) -> tuple[np.ndarray, str]:
    """A TIFF or Pillow image through sciml-core; a Pillow alpha channel dropped, with a warning."""
    ext = p.suffix.lower()
    # sciml-core's reader (this module's own read_image is the public one of potcontrast)
    arr, axes = sciml_core.read_image(p, argument=argument, package="potcontrast", extra="io")
    if ext in _TIFF:
        return arr, axes
    if arr.dtype == np.bool_:  # a 1-bit image
        arr = arr.astype(np.uint8)
    if arr.dtype == np.int32 and arr.size and arr.min() >= 0 and arr.max() < 65536:
        arr = arr.astype(np.uint16)  # a 16-bit image that Pillow opened as 32-bit
    if axes.endswith("S") and arr.shape[-1] in (2, 4) and _has_alpha(p):
        warnings.warn(f"{p.name}: alpha channel dropped", UserWarning, stacklevel=4)
        arr = arr[..., :-1]
        if arr.shape[-1] == 1:  # LA: the grey band alone
            arr, axes = arr[..., 0], axes[:-1]
    return arr, axes


def default_band_axis(axes: str | None, ndim: int) -> int | None:
    """The band axis a file's axes imply: ``S``, else the first axis not ``Y``/``X``.

    Args:
        axes: The file's axes (tifffile letters), or None for a numpy array.
        ndim: Number of dimensions of the array.

    Returns:
        None for a 2-D image (one band); for a numpy array the last axis.

    Examples:
        >>> default_band_axis("QYX", 3), default_band_axis("YXS", 3), default_band_axis(None, 3)
        (0, 2, 2)
    """
    if ndim == 2:
        return None
    if axes is None:
        return ndim - 1
    if "S" in axes:
        return axes.index("S")
    return next(i for i, a in enumerate(axes) if a not in "YX")


def _describe(axes: str | None, shape: tuple[int, ...]) -> str:
    return f"shape {shape}" if axes is None else f"axes {axes}, shape {shape}"


def bands_last(
    arr: np.ndarray,
    axes: str | None,
    band_axis: int | None = None,
    *,
    what: str = "image",
    flag: str = "band_axis",
) -> np.ndarray:
    """``(H, W)`` or ``(H, W, B)`` from an image in its file's own layout.

    Args:
        arr: The array as read (:func:`read_image_axes`).
        axes: Its axes, or None (numpy file).
        band_axis: Index of the band axis among the file's axes (negative counts from the end),
            or None for :func:`default_band_axis`.
        what: The image, for error messages (e.g. ``"IMAGE 'stack.tif'"``).
        flag: How the caller names ``band_axis``, for error messages.

    Returns:
        A view with the bands last (a 2-D image unchanged).

    Raises:
        InputError: ``band_axis`` for a 2-D image or out of range; not 2-D or 3-D.

    Examples:
        >>> bands_last(np.zeros((4, 40, 50)), "QYX").shape
        (40, 50, 4)
        >>> bands_last(np.zeros((40, 50, 7)), "QYX", 2).shape
        (40, 50, 7)
    """
    shape = tuple(arr.shape)
    if arr.ndim == 2:
        if band_axis is not None:
            raise InputError(
                f"{flag} {band_axis}: {what} is one band ({_describe(axes, shape)}); "
                f"{flag} applies to a 3-D stack"
            )
        return arr
    if arr.ndim != 3:
        raise InputError(
            f"{what} must be one band (2 axes) or a stack of bands (3 axes); got "
            f"{_describe(axes, shape)}"
        )
    if band_axis is None:
        axis = default_band_axis(axes, 3)
        assert axis is not None
    else:
        if not -3 <= band_axis < 3:
            raise InputError(
                f"{flag} {band_axis}: {what} has 3 axes ({_describe(axes, shape)}); give 0, 1 or "
                "2 (or -3 to -1), counted in the file's own axes"
            )
        axis = band_axis % 3
    return np.moveaxis(arr, axis, -1)


def read_image(path: str | os.PathLike[str], *, gray: GrayMode | None = None) -> np.ndarray:
    """Read an image or a stack, keeping its dtype and values.

    Args:
        path: ``.npy``, ``.npz`` (key ``image``), ``.png`` (8/16-bit grey, RGB(A): three bands,
            alpha dropped with a warning), or ``.tif``/``.tiff`` (multi-page: one band per page).
        gray: ``None`` (default) keeps every band; ``"pil"`` applies Pillow's 8-bit luma
            conversion (``convert('L')``), for bit-for-bit agreement with the reference scripts.

    Returns:
        ``(H, W)`` or ``(H, W, B)``: the bands are the file's samples (``S``) or its pages (see
        :func:`default_band_axis`); a 3-D ``.npy`` is returned as it is.

    Raises:
        InputError: Missing or unreadable file, an unknown format, not 2-D or 3-D.
        MissingExtraError: PNG/TIFF without the ``[io]`` extra.
    """
    arr, axes = read_image_axes(path, argument="image", gray=gray)
    return bands_last(arr, axes, what=f"image {str(path)!r}")


def _mask_from_file(p: Path, invert: bool, argument: str) -> np.ndarray:
    if p.suffix.lower() in _NUMPY | _TIFF:
        arr, axes = read_image_axes(p, argument=argument)
        stack = bands_last(arr, axes, what=f"{argument} {str(p)!r}")
        mask = stack != 0 if stack.ndim == 2 else np.any(stack != 0, axis=-1)
    else:
        pil = require_extra("PIL.Image", extra="io", package="potcontrast")

        def decode(f: Path) -> np.ndarray:
            with pil.open(f) as im:
                if im.mode in ("I", "I;16", "I;16B", "F"):
                    return np.asarray(im) != 0
                return np.asarray(im.convert("L")) != 0  # colour masks: the reference's luma

        mask = read_user_file(p, argument=argument, decode=decode, what="a mask image")
    return ~mask if invert else mask


def read_masks(paths: Any, *, invert: bool = False) -> np.ndarray:
    """Read ``K`` mask files: a pixel is selected where its value is non-zero.

    Args:
        paths: ``K`` file paths (PNG, TIFF, ``.npy``).
        invert: Select the zero pixels instead (the reference's ``invertMasks``).

    Returns:
        bool ``(K, H, W)``.
    """
    return masks_from_files(paths, invert=invert, argument="masks")


def masks_from_files(paths: Any, *, invert: bool, argument: str) -> np.ndarray:
    """:func:`read_masks`, its errors naming ``argument`` (e.g. ``"--masks"``)."""
    masks = [_mask_from_file(Path(x), invert, argument) for x in paths]
    shapes = {m.shape for m in masks}
    if len(shapes) != 1:
        raise InputError(
            f"{argument}: the masks must all have the same shape; got {[m.shape for m in masks]}"
        )
    return np.stack(masks)


def read_labels(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an integer label image ``(H, W)`` (PNG, TIFF or ``.npy``).

    Raises:
        InputError: The file holds a float or multi-band image.
    """
    return labels_from_file(path, argument="labels")


def labels_from_file(path: str | os.PathLike[str], *, argument: str) -> np.ndarray:
    """:func:`read_labels`, its errors naming ``argument`` (e.g. ``"--labels"``)."""
    arr, _ = read_image_axes(path, argument=argument)
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer):
        raise InputError(
            f"{argument} {str(path)!r} must be an integer (H, W) image; got shape {arr.shape} "
            f"dtype {arr.dtype}"
        )
    return arr
