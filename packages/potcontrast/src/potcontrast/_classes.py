"""Classes: label images, masks, coordinates -> one flat list of (pixel, class) samples.

Every input form is reduced to the same two arrays, ``flat`` (the flat pixel index into the
``H x W`` grid) and ``class_id`` (``0..K-1``), so all forms give identical results. Masks may
overlap: a pixel in two masks is a sample of both classes, as in the reference scripts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sciml_core import InputError

__all__ = ["ClassIndex", "class_index", "flat_selected"]

_PLAIN = 1 << 15
"""Below this many 8-byte words :func:`_scan` compares entry by entry (one ``np.flatnonzero``)."""


def _scan(a: np.ndarray, fill: Any) -> np.ndarray:
    """``np.flatnonzero(a != fill)`` of a 1-D C-contiguous bool or integer array, word by word.

    Selected entries are usually sparse (thousands among millions). The array is read as 8-byte
    words and each compared with ``fill`` repeated across the word (one comparison per 8 bools, 2
    int32 labels, ...); the words that differ are found by the same scan of that (8 times smaller)
    bool array, recursively, and only they are expanded to entries. Whole-image work is one
    comparison that reads the array once and writes an eighth of its bytes. A dense selection
    falls back to a plain scan.

    Args:
        a: 1-D C-contiguous array of bool or integer dtype (itemsize 1, 2, 4 or 8).
        fill: A scalar of ``a.dtype``: the value of unselected entries.

    Returns:
        ``intp`` indices in increasing order.
    """
    per = 8 // a.itemsize
    nw = a.size // per
    if nw < _PLAIN:
        return np.flatnonzero(a != fill)
    body = a[: nw * per]
    pattern = np.full(per, fill, dtype=a.dtype).view(np.uint64)[0]
    hit = _scan(np.not_equal(body.view(np.uint64), pattern), False)  # words holding a selection
    if per == 1:
        found = hit
    elif 4 * hit.size > nw:  # dense: expanding the words costs more than a plain scan
        return np.flatnonzero(a != fill)
    else:
        inner = np.flatnonzero(body.reshape(nw, per).take(hit, axis=0) != fill)
        shift = per.bit_length() - 1
        found = (hit[inner >> shift] << shift) + (inner & (per - 1))
    if nw * per < a.size:
        found = np.concatenate([found, nw * per + np.flatnonzero(a[nw * per :] != fill)])
    return found


def _fill_value(background: Any, dtype: np.dtype) -> Any:
    """``background`` as a scalar of the labels' integer ``dtype``, or None if it is not one.

    A background the dtype cannot hold (``-1`` or ``300`` for uint8 labels, ``0.5``) selects
    every pixel; the scan then takes numpy's comparison as it is.
    """
    if np.ndim(background) != 0:
        return None
    try:
        fill = dtype.type(background)
    except (OverflowError, TypeError, ValueError):
        return None
    return fill if bool(fill == background) else None


def flat_selected(values: np.ndarray, background: Any = None) -> np.ndarray:
    """Flat indices of the selected entries of a 1-D array, in increasing order.

    Selected: the True entries of a bool mask (``background=None``), or the entries of a label
    image that differ from ``background``. Both are read a word (8 bytes) at a time and only the
    words that hold a selected entry are expanded (:func:`_scan`): one pass over the image, no
    per-chunk Python loop, and the only temporary is an eighth of the image's bytes.

    Args:
        values: 1-D bool mask or integer labels.
        background: Label value of unselected entries, or None for a bool mask.

    Returns:
        ``intp`` indices.

    Examples:
        >>> flat_selected(np.array([0, 3, 0, 0, 0, 0, 0, 0, 0, 2]), 0).tolist()
        [1, 9]
        >>> flat_selected(np.arange(20) % 7 == 0).tolist()
        [0, 7, 14]
    """
    values = np.ascontiguousarray(values)
    fill = False if background is None else _fill_value(background, values.dtype)
    if fill is None or values.itemsize not in (1, 2, 4, 8):
        out = np.flatnonzero(values != background)
    else:
        out = _scan(values, fill)
    return out.astype(np.intp, copy=False)


@dataclass(frozen=True, eq=False)
class ClassIndex:
    """Labelled pixels of ``K`` classes.

    Attributes:
        flat: ``(n,)`` flat pixel indices into the ``H x W`` grid (C order).
        class_id: ``(n,)`` class of each sample, ``0..K-1``.
        labels: ``(K,)`` the class labels (label values for a label image, else ``0..K-1``).
    """

    flat: np.ndarray
    class_id: np.ndarray
    labels: np.ndarray

    @property
    def n_classes(self) -> int:
        """Number of classes ``K``."""
        return int(self.labels.size)


def _from_labels(labels: np.ndarray, shape: tuple[int, ...], background: Any) -> ClassIndex:
    if labels.shape != shape:
        raise InputError(
            f"classes: label image shape {labels.shape} does not match the image's spatial shape "
            f"{shape}"
        )
    flat = flat_selected(labels.reshape(-1), background)
    values = labels.reshape(-1)[flat]
    if values.size and values.min() >= 0 and values.max() < max(1 << 16, values.size):
        # small non-negative labels (the usual case): present labels and class ids by counting
        present = np.bincount(values)
        uniq = np.flatnonzero(present).astype(labels.dtype, copy=False)
        rank = np.cumsum(present > 0) - 1
        class_id = rank.take(values)
    else:
        uniq = np.unique(values)
        class_id = np.searchsorted(uniq, values).astype(np.intp)
    return ClassIndex(flat, class_id, uniq)


def _one_class(item: Any, k: int, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(item)
    if arr.dtype == np.bool_:
        if arr.shape != shape:
            raise InputError(
                f"classes[{k}]: mask shape {arr.shape} does not match the image's spatial shape "
                f"{shape}"
            )
        return flat_selected(arr.reshape(-1))
    if np.issubdtype(arr.dtype, np.integer) and arr.ndim == 2 and arr.shape[1] == 2:
        rows, cols = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64)
        bad = (rows < 0) | (rows >= shape[0]) | (cols < 0) | (cols >= shape[1])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"classes[{k}]: {int(bad.sum())} coordinates lie outside the image of spatial "
                f"shape {shape}, e.g. (row, col) = ({rows[i]}, {cols[i]})"
            )
        return (rows * shape[1] + cols).astype(np.intp)
    if arr.ndim == 0 or (arr.ndim == 2 and arr.shape == shape):
        hint = " (use mask.astype(bool) or mask != 0 for a 0/1 or 0/255 mask)"
    else:
        hint = ""
    raise InputError(
        f"classes[{k}] must be a bool mask of shape {shape} or integer (row, col) coordinates of "
        f"shape (n, 2); got shape {arr.shape} dtype {arr.dtype}{hint}"
    )


def class_index(classes: Any, shape: tuple[int, ...], *, background: Any = 0) -> ClassIndex:
    """Reduce any class input to flat pixel indices and class ids.

    Args:
        classes: An integer label image ``(H, W)`` (classes are the sorted label values other than
            ``background``), bool masks ``(K, H, W)``, or a sequence of ``K`` items each a bool mask
            ``(H, W)`` or integer ``(row, col)`` coordinates ``(n_k, 2)``.
        shape: The image's spatial shape ``(H, W)``.
        background: Label value that marks unlabelled pixels in a label image.

    Returns:
        The :class:`ClassIndex`.

    Raises:
        InputError: Unknown form, shape mismatch, coordinates outside the image, fewer than two
            classes.

    Examples:
        >>> labels = np.array([[0, 1, 1], [2, 0, 2]])
        >>> ci = class_index(labels, (2, 3))
        >>> ci.flat.tolist(), ci.class_id.tolist(), ci.labels.tolist()
        ([1, 2, 3, 5], [0, 0, 1, 1], [1, 2])
    """
    if isinstance(classes, np.ndarray):
        if classes.dtype == np.bool_ and classes.ndim == 3:
            if classes.shape[1:] != shape:
                raise InputError(
                    f"classes: masks of shape {classes.shape} do not match the image's spatial "
                    f"shape {shape} (expected (K, {shape[0]}, {shape[1]}))"
                )
            # one scan of all K masks: position p is pixel p % (H W) of class p // (H W)
            found = flat_selected(classes.reshape(-1))
            n_pixels = shape[0] * shape[1]
            class_id = found // n_pixels
            ci = ClassIndex(found - class_id * n_pixels, class_id, np.arange(classes.shape[0]))
        elif np.issubdtype(classes.dtype, np.integer) and classes.ndim == 2:
            ci = _from_labels(classes, shape, background)
        elif classes.dtype == np.bool_ and classes.ndim == 2:
            raise InputError(
                f"classes: one bool mask of shape {classes.shape} is K = 1 class; need K >= 2 "
                "(pass a list of masks or a (K, H, W) stack)"
            )
        else:
            raise InputError(
                "classes must be an integer label image (H, W), bool masks (K, H, W) or a list of "
                f"K masks or (n, 2) coordinate arrays; got an array of shape {classes.shape} dtype "
                f"{classes.dtype}"
            )
    elif isinstance(classes, Sequence) and not isinstance(classes, str | bytes):
        parts = [_one_class(item, k, shape) for k, item in enumerate(classes)]
        flat = np.concatenate(parts) if parts else np.zeros(0, np.intp)
        class_id = np.repeat(np.arange(len(parts), dtype=np.intp), [p.size for p in parts])
        ci = ClassIndex(flat, class_id, np.arange(len(parts)))
    else:
        raise InputError(
            "classes must be an integer label image, bool masks (K, H, W), or a list of K masks "
            f"or coordinate arrays; got {type(classes).__name__}"
        )
    if ci.n_classes < 2:
        raise InputError(f"classes: need at least 2 classes (K >= 2); got K = {ci.n_classes}")
    return ci
