"""Small training loops: full-batch regression (Adam + cosine) and mini-batch classification.

Every constrained map normalises its raw weight inside ``forward`` with exact float64 norms, and
the normalisation is differentiated as a parametrisation (:func:`~lipres._affine.rescale`): the
optimiser sees the projected gradient, so it is not needed to store the constrained values
after each step. By default (``project=False``) the loops re-cap only the step sizes τ after
each step; ``project=True`` additionally stores every constrained weight
(:func:`~lipres.constrain_`, the official code's "normalise after each gradient step"). Measured
on A1 (``|x|``, fixed-width, width 8, depth 4, 300 steps at 5e-2, seed 0): max error 0.144 with
the projection and a constant rescaling factor (the first version of these loops), 0.054 with
the differentiated normalisation and no projection (the spec's prototype: 0.047); see the
CHANGELOG for the sweep.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from sciml_core import InputError, SeedLike, as_torch_generator, check_finite
from sciml_core.cli import progress

from ._common import check_int, check_label_range, check_number
from ._constraints import constrain_
from ._conv import GradientConv2d
from ._gradient_step import GradientStep
from ._losses import MarginLoss

__all__ = ["fit_classifier", "fit_regressor"]


def _after_step(model: nn.Module, project: bool) -> None:
    """Re-cap every step size τ exactly; with ``project`` store every constraint."""
    if project:
        constrain_(model)
        return
    for module in model.modules():
        if isinstance(module, GradientStep | GradientConv2d):
            module.constrain_()


def fit_regressor(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    *,
    steps: int,
    lr: float,
    project: bool = False,
    show_progress: bool = False,
) -> list[float]:
    """Full-batch MSE with Adam and cosine decay to 0; returns the loss per step.

    ``project``: store every constrained weight after each step (:func:`~lipres.constrain_`);
    by default only the step sizes are re-capped (module docstring).

    ``show_progress``: a progress bar over the steps on stderr (``sciml_core.cli.progress``,
    silenced by the command line's ``--quiet``).

    Shapes:
        x: ``[N, d]``, y: ``[N]``.
    """
    check_int(steps, "steps", minimum=1)
    check_number(lr, "lr", strict=True)
    check_finite(x, "x")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    losses = []
    model.train()
    for _ in progress(
        range(steps), desc="fit", unit="step", leave=False, disable=not show_progress
    ):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        _after_step(model, project)
        sched.step()
        losses.append(float(loss.detach()))
    model.eval()
    return losses


def fit_classifier(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 3e-3,
    margin: float | None = 0.25,
    temperature: float = 0.25,
    weight_decay: float = 0.0,
    seed: SeedLike = 0,
    project: bool = False,
    show_progress: bool = False,
) -> list[float]:
    """Adam + cosine, shuffled mini-batches; :class:`MarginLoss` (``margin`` not None) or CE.

    ``project``: store every constrained weight after each step (:func:`~lipres.constrain_`);
    by default only the step sizes are re-capped (module docstring).

    ``show_progress``: a progress bar over the epochs on stderr (``sciml_core.cli.progress``,
    silenced by the command line's ``--quiet``).

    The margin table of a :class:`~lipres.LipResNetClassifier` (``training_margin_table()``) is
    used when the model has one, else :math:`\\sqrt 2` (a 1-Lipschitz logit map).

    Returns:
        The mean loss per epoch.

    Raises:
        InputError: bad sizes, NaN inputs, labels that are not integers or do not fit the
            model's logits (``[0, K - 1]``, ``K`` from one evaluation forward without
            gradients, before any step).
    """
    check_int(epochs, "epochs", minimum=1)
    check_int(batch_size, "batch_size", minimum=1)
    check_number(lr, "lr", strict=True)
    check_number(weight_decay, "weight_decay")
    check_finite(x, "x")
    if y.dtype not in (torch.int64, torch.int32) or y.shape != (x.shape[0],):
        raise InputError(
            f"y: expected integer labels of shape [{x.shape[0]}], got {y.dtype} {tuple(y.shape)}"
        )
    # the logits' width from an evaluation forward without gradients (no step size, power
    # iteration state or running statistic moves), so bad labels leave the model as it was
    was_training = model.training
    model.eval()
    with torch.no_grad():
        k = model(x[:1]).shape[1]
    model.train(was_training)
    check_label_range(y, k)
    gen = as_torch_generator(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    n = x.shape[0]
    per_epoch = math.ceil(n / batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * per_epoch)
    loss_fn = MarginLoss(margin, temperature) if margin is not None else None
    table_fn = getattr(model, "training_margin_table", None)
    history = []
    model.train()
    for _ in progress(
        range(epochs), desc="fit", unit="epoch", leave=False, disable=not show_progress
    ):
        order = torch.randperm(n, generator=gen)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            logits = model(x[idx])
            if loss_fn is None:
                loss = nn.functional.cross_entropy(logits, y[idx].long())
            else:
                table = table_fn() if callable(table_fn) else None
                loss = loss_fn(logits, y[idx].long(), table)
            loss.backward()
            opt.step()
            _after_step(model, project)
            sched.step()
            total += float(loss.detach()) * idx.numel()
        history.append(total / n)
    model.eval()
    return history
