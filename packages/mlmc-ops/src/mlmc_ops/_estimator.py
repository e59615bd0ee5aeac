"""The telescoping MLMC loss whose gradient estimates the fine-resolution risk gradient.

With per-sample losses ``l_l(theta; w)`` at resolution ``n_l`` (Rowbottom et al. 2025, the MLMC
objective; Giles 2008, eq. (1)):

    E l_L = E l_0 + sum_{l=1}^{L} E[l_l - l_{l-1}]
    L_MLMC = mean_{S_0} l_0 + sum_{l>=1} mean_{S_l} (l_l - l_{l-1})

``g_hat = grad L_MLMC`` is unbiased for ``g = grad E l_L`` for any coupling of the sets, because
each correction evaluates the same sample at both resolutions and ``E`` is linear. One backward
pass. If every ``S_l`` is the same set, ``L_MLMC = mean l_L`` exactly (the telescoping identity).

``weighting="sum"`` (the authors' Darcy sweep, ``loss_reduction: sum``) sums each term over its
batch; its expectation is ``sum_{l<L} (b_l - b_{l+1}) E l_l + b_L E l_L`` (nested batches), a
mixture of every level's risk: it is **not** unbiased for ``g`` and is offered to reproduce those
runs only.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple

import torch
from torch import nn

from sciml_core import InputError

from ._sampler import LevelBatch, MLMCBatch

__all__ = ["WEIGHTINGS", "LossFn", "MLMCLoss", "Weighting", "check_deterministic", "mlmc_loss"]

Weighting = Literal["mean", "sum"]
WEIGHTINGS: tuple[Weighting, ...] = typing.get_args(Weighting)
"""``"mean"`` (unbiased) or ``"sum"`` (the authors' sweep setting, biased)."""

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``loss_fn(prediction, target) -> (B,)`` per-sample losses (``reduction="none"``)."""


class MLMCLoss(NamedTuple):
    """Value of the MLMC loss and its parts.

    Attributes:
        value: scalar tensor with the graph (call ``.backward()``).
        level_terms: ``(L+1,)`` detached: ``mean_{S_0} l_0`` and ``mean_{S_l}(l_l - l_{l-1})``.
        coarse_on_corrections: ``(L+1,)`` detached: ``mean_{S_l} l_{l-1}`` (NaN for ``l = 0``),
            to compare with ``mean_{S_{l-1}} l_{l-1}``: a growing gap warns that the finite-set
            objective is being driven down by raising coarse losses on correction samples.
        fine_on_levels: ``(L+1,)`` detached: ``mean_{S_l} l_l``.
    """

    value: torch.Tensor
    level_terms: torch.Tensor
    coarse_on_corrections: torch.Tensor
    fine_on_levels: torch.Tensor


def check_deterministic(model: nn.Module) -> None:
    """Refuse dropout and batch statistics in training mode: they break the coupling of the two
    halves of a correction (different noise at the two resolutions)."""
    for name, m in model.named_modules():
        stochastic = (isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0) or isinstance(
            m, nn.modules.batchnorm._BatchNorm
        )
        if stochastic and m.training:
            raise InputError(
                f"model: module {name or type(m).__name__!r} ({type(m).__name__}) is stochastic "
                "in training mode, which breaks the coupling of the MLMC corrections; use "
                "model.eval() for it, remove it, or pass allow_stochastic=True"
            )


def per_sample_loss(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn
) -> torch.Tensor:
    """``loss_fn(model(x), y)`` checked to be one loss per sample, shape ``(B,)``."""
    out = loss_fn(model(x), y)
    if not isinstance(out, torch.Tensor) or out.shape != (x.shape[0],):
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise InputError(
            f"loss_fn: expected per-sample losses of shape ({x.shape[0]},) "
            f"(reduction='none'), got {got}; a batch-reduced loss cannot be telescoped"
        )
    return out


def level_sums(
    model: nn.Module, batch: LevelBatch, loss_fn: LossFn
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``sum_S (l_l - l_{l-1})`` (with graph), ``sum_S l_{l-1}`` and ``sum_S l_l`` (detached)
    of one level batch; for level 0 the first is ``sum l_0`` and the second NaN."""
    fine = per_sample_loss(model, batch.x, batch.y, loss_fn)
    if batch.x_coarse is None or batch.y_coarse is None:
        return fine.sum(), fine.new_tensor(float("nan")), fine.detach().sum()
    coarse = per_sample_loss(model, batch.x_coarse, batch.y_coarse, loss_fn)
    return (fine - coarse).sum(), coarse.detach().sum(), fine.detach().sum()


def mlmc_loss(
    model: nn.Module,
    batch: MLMCBatch,
    loss_fn: LossFn,
    *,
    weighting: Weighting = "mean",
    allow_stochastic: bool = False,
    scales: Sequence[float] | None = None,
) -> MLMCLoss:
    """The telescoping MLMC loss of one step (module docstring).

    Args:
        model: any module mapping inputs at every level's resolution to outputs there.
        batch: the level batches (:class:`~mlmc_ops.MLMCSampler`).
        loss_fn: per-sample loss, ``(prediction, target) -> (B,)``.
        weighting: ``"mean"`` or ``"sum"``.
        allow_stochastic: skip the dropout/batch-norm check.
        scales: weight of each level's *sum* (overrides ``weighting``; a distributed shard uses
            the global ``1/N_l``).

    Returns:
        :class:`MLMCLoss`.

    Raises:
        InputError: ``loss_fn`` reduces over the batch, a stochastic module is in training mode,
            or ``weighting`` is unknown.

    Examples:
        >>> import torch
        >>> from mlmc_ops import MLMCSampler, MultiLevelData
        >>> x = torch.randn(16, 1, 8, 8, dtype=torch.float64)
        >>> data = MultiLevelData.from_fine(x, 2 * x, (4, 8))
        >>> model = torch.nn.Conv2d(1, 1, 3, padding=1).double()
        >>> loss_fn = lambda p, t: ((p - t) ** 2).mean(dim=(1, 2, 3))
        >>> same = MLMCSampler(data, (8, 8), pairing="nested", seed=0).sample()
        >>> est = mlmc_loss(model, same, loss_fn)  # equal sets: the fine loss exactly
        >>> fine = same.levels[1]
        >>> bool(torch.isclose(est.value, loss_fn(model(fine.x), fine.y).mean()))
        True
    """
    if weighting not in WEIGHTINGS:
        raise InputError(f"weighting: expected one of {WEIGHTINGS}, got {weighting!r}")
    if not allow_stochastic:
        check_deterministic(model)
    if scales is None:
        scales = [1.0 / len(b) if weighting == "mean" else 1.0 for b in batch.levels]
    terms, coarse, fine = [], [], []
    value: torch.Tensor | None = None
    for lev, scale in zip(batch.levels, scales, strict=True):
        diff_sum, coarse_sum, fine_sum = level_sums(model, lev, loss_fn)
        term = diff_sum * scale
        value = term if value is None else value + term
        terms.append(term.detach())
        coarse.append(coarse_sum / len(lev))
        fine.append(fine_sum / len(lev))
    if value is None:
        raise InputError("batch: expected at least one level")
    return MLMCLoss(value, torch.stack(terms), torch.stack(coarse), torch.stack(fine))
