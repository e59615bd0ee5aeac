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

__all__ = ["ClassIndex", "class_index"]


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
    flat = np.flatnonzero(labels != background)
    values = labels.reshape(-1)[flat]
    uniq = np.unique(values)
    class_id = np.searchsorted(uniq, values).astype(np.intp)
    return ClassIndex(flat.astype(np.intp), class_id, uniq)


def _one_class(item: Any, k: int, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(item)
    if arr.dtype == np.bool_:
        if arr.shape != shape:
            raise InputError(
                f"classes[{k}]: mask shape {arr.shape} does not match the image's spatial shape "
                f"{shape}"
            )
        return np.flatnonzero(arr).astype(np.intp)
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
            # one 1-D flatnonzero per mask: several times faster than a 2-D np.nonzero
            parts = [np.flatnonzero(m) for m in classes.reshape(classes.shape[0], -1)]
            ci = ClassIndex(
                np.concatenate(parts).astype(np.intp),
                np.repeat(np.arange(len(parts), dtype=np.intp), [p.size for p in parts]),
                np.arange(classes.shape[0]),
            )
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
