"""Dice with stated empty cases, the soft Dice + cross-entropy loss, accuracy and ROC AUC.

Per class ``c`` (background ``0`` left out unless ``include_background``), with ``P_c`` and ``G_c``
the predicted and true voxel sets, ``Dice_c = 2|P_c ∩ G_c| / (|P_c| + |G_c|)``. When both are
empty the value is 1 (``empty="one"``) or NaN (``empty="nan"``, MONAI's ``ignore_empty=True``
convention); when ``G_c`` is empty and ``P_c`` is not it is 0. Reductions: ``"pooled"`` sums the
counts over the whole set before dividing (one number per class), ``"mean"`` averages per-volume
Dice (NaNs left out), ``"none"`` returns ``(N, K')``. Where both sets are non-empty this is
exactly MONAI's ``DiceMetric(include_background=...)`` on one-hot inputs (tested against it).
"""

from __future__ import annotations

import typing
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from sciml_core import InputError

__all__ = ["EMPTY", "REDUCTIONS", "accuracy", "dice", "dice_ce_loss", "roc_auc"]

Empty = Literal["one", "nan"]
EMPTY: tuple[Empty, ...] = typing.get_args(Empty)
Reduction = Literal["pooled", "mean", "none"]
REDUCTIONS: tuple[Reduction, ...] = typing.get_args(Reduction)


def _labels(x: Tensor, name: str, num_classes: int) -> Tensor:
    if x.dtype.is_floating_point or x.dtype == torch.bool or x.is_complex():
        if x.dtype == torch.bool:
            return x.long()
        raise InputError(f"{name}: expected integer labels; got dtype {x.dtype}")
    if x.numel() and (int(x.min()) < 0 or int(x.max()) >= num_classes):
        raise InputError(
            f"{name}: labels must lie in [0, {num_classes}); got [{int(x.min())}, {int(x.max())}]"
        )
    return x.long()


def dice(
    pred: Tensor,
    target: Tensor,
    *,
    num_classes: int,
    include_background: bool = False,
    empty: Empty = "one",
    reduction: Reduction = "pooled",
) -> Tensor:
    """Dice of integer label volumes (see the module docstring).

    Args:
        pred: Predicted labels ``(N, *spatial)``.
        target: True labels, same shape.
        num_classes: ``K``; labels must lie in ``[0, K)``.
        include_background: Score class 0 too.
        empty: Value when a class is absent from both: ``"one"`` or ``"nan"``.
        reduction: ``"pooled"`` -> ``(K',)``, ``"mean"`` -> ``(K',)``, ``"none"`` -> ``(N, K')``.

    Examples:
        >>> p = torch.tensor([[0, 1, 1, 0]]); g = torch.tensor([[0, 1, 0, 0]])
        >>> round(float(dice(p, g, num_classes=2)[0]), 6)  # 2·1 / (2 + 1)
        0.666667
        >>> dice(torch.zeros(1, 4, dtype=torch.long), torch.zeros(1, 4, dtype=torch.long),
        ...      num_classes=2, empty="nan").isnan().tolist()
        [True]
    """
    if empty not in EMPTY:
        raise InputError(f"empty: expected one of {EMPTY}; got {empty!r}")
    if reduction not in REDUCTIONS:
        raise InputError(f"reduction: expected one of {REDUCTIONS}; got {reduction!r}")
    if pred.shape != target.shape or pred.ndim < 2:
        raise InputError(
            f"pred, target: expected the same shape (N, ...); got {tuple(pred.shape)} and "
            f"{tuple(target.shape)}"
        )
    p = _labels(pred, "pred", num_classes).flatten(1)
    g = _labels(target, "target", num_classes).flatten(1)
    classes = range(0 if include_background else 1, num_classes)
    inter = torch.stack([((p == c) & (g == c)).sum(1) for c in classes], dim=1).double()
    sizes = torch.stack([(p == c).sum(1) + (g == c).sum(1) for c in classes], dim=1).double()
    if reduction == "pooled":
        inter, sizes = inter.sum(0, keepdim=True), sizes.sum(0, keepdim=True)
    fill = 1.0 if empty == "one" else float("nan")
    value = torch.where(sizes > 0, 2 * inter / sizes.clamp_min(1), torch.full_like(sizes, fill))
    value = value.float()
    if reduction == "pooled":
        return value[0]
    if reduction == "mean":
        return value.nanmean(0)
    return value


def dice_ce_loss(
    logits: Tensor, target: Tensor, *, weight: Tensor | None = None, eps: float = 1e-5
) -> Tensor:
    """Soft Dice (foreground classes, pooled over the batch, ``ε = 1e-5``) plus cross-entropy.

    ``1 − mean_c (2 Σ p_c g_c + ε) / (Σ p_c + Σ g_c + ε) + CE(logits, target; weight)``.

    Shapes:
        logits: ``(B, K, *spatial)``, target: ``(B, *spatial)`` -> scalar.
    """
    k = logits.shape[1]
    prob = logits.softmax(1)
    onehot = F.one_hot(target.long(), k).movedim(-1, 1).to(prob)
    dims = (0, *range(2, logits.ndim))
    inter = (prob * onehot).sum(dims)[1:]
    size = (prob + onehot).sum(dims)[1:]
    soft = 1 - ((2 * inter + eps) / (size + eps)).mean()
    return soft + F.cross_entropy(logits, target.long(), weight=weight)


def accuracy(pred: Tensor, target: Tensor) -> float:
    """Fraction of equal labels."""
    return float((pred == target).float().mean())


def roc_auc(scores: np.ndarray | Tensor, labels: np.ndarray | Tensor) -> float:
    """ROC AUC by ranks (Mann-Whitney U), ties averaged; NaN with one class only.

    Examples:
        >>> roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
        0.75
    """
    from scipy.stats import rankdata

    s = np.asarray(scores, dtype=float).ravel()
    y = np.asarray(labels).ravel().astype(bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
