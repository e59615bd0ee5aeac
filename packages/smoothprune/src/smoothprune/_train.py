"""A plain training loop (AdamW, cross-entropy plus the smoothness penalty) and accuracy."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from sciml_core import as_torch_generator
from sciml_core.cli import progress as progress_bar

from ._regularizer import SmoothnessRegularizer

__all__ = ["accuracy", "train_classifier"]


def train_classifier(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    lr: float = 1e-3,
    weight_decay: float = 5e-4,
    batch_size: int = 128,
    regularizer: SmoothnessRegularizer | None = None,
    seed: int = 0,
    progress: bool = False,
    on_epoch: Callable[[int, nn.Module], None] | None = None,
) -> list[float]:
    """Train ``model`` in place with AdamW on ``(x, y)``; return the mean loss of each epoch.

    The loss is cross-entropy plus ``regularizer()``; with ``nuclear_mode="prox"`` the proximal
    step runs after every ``regularizer.every``-th optimiser step. Batches are drawn from a
    generator seeded by ``seed``. ``progress=True`` shows a bar over epochs on stderr
    (``sciml_core.cli.progress``, silenced by ``--quiet``). ``on_epoch(epoch, model)`` runs after
    every epoch (``epoch`` counts from 1) in eval mode; it must not change the model. There is no
    learning-rate schedule, so the model after epoch ``k`` of a longer run is the model of a
    ``k``-epoch run (tested): one run measures every shorter budget.

    Shapes:
        - x: ``(N, C, H, W)``; y: ``(N,)`` int64.
    """
    device = next(model.parameters()).device
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    gen = as_torch_generator(seed)
    model.train()
    history = []
    step = 0
    for _ in progress_bar(range(epochs), desc="train", unit="epoch", disable=not progress):
        perm = torch.randperm(len(x), generator=gen)
        total = 0.0
        for start in range(0, len(x), batch_size):
            idx = perm[start : start + batch_size]
            xb, yb = x[idx].to(device), y[idx].to(device)
            loss = F.cross_entropy(model(xb), yb)
            if regularizer is not None:
                loss = loss + regularizer()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if regularizer is not None and step % regularizer.every == 0:
                regularizer.prox_step(lr)
            total += float(loss.detach()) * len(idx)
        history.append(total / len(x))
        if on_epoch is not None:
            model.eval()
            on_epoch(len(history), model)
            model.train()
    model.eval()
    return history


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 512) -> float:
    """Fraction of ``x`` classified as ``y`` (in eval mode)."""
    was = model.training
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for start in range(0, len(x), batch_size):
        out = model(x[start : start + batch_size].to(device))
        correct += int((out.argmax(1).cpu() == y[start : start + batch_size]).sum())
    model.train(was)
    return correct / max(len(x), 1)
