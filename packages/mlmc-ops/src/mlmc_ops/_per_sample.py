"""Per-sample gradients ``grad_theta l(theta; w_i)`` by ``torch.func.vmap(grad(...))``."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from sciml_core import InputError

from ._estimator import LossFn

__all__ = ["iter_per_sample_gradients", "per_sample_gradients"]


def iter_per_sample_gradients(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: LossFn,
    *,
    chunk_size: int = 8,
) -> Iterator[torch.Tensor]:
    """Yield per-sample gradients chunk by chunk, each ``(b, P)`` (``b <= chunk_size``), the
    parameters flattened in ``model.named_parameters()`` order (those with ``requires_grad``).
    Memory ``O(chunk_size * P)``."""
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise InputError(f"chunk_size: expected a positive integer, got {chunk_size!r}")
    if x.shape[0] != y.shape[0]:
        raise InputError(f"y: expected {x.shape[0]} samples like x, got {y.shape[0]}")
    params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}
    buffers = {k: v.detach() for k, v in model.named_buffers()}
    names = list(params)

    def loss_one(p: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        out = loss_fn(functional_call(model, (p, buffers), (xi[None],)), yi[None])
        return out.reshape(-1)[0]

    per_sample = vmap(grad(loss_one), in_dims=(None, 0, 0))
    for start in range(0, x.shape[0], chunk_size):
        g = per_sample(params, x[start : start + chunk_size], y[start : start + chunk_size])
        b = min(chunk_size, x.shape[0] - start)
        yield torch.cat([g[k].reshape(b, -1) for k in names], dim=1)


def per_sample_gradients(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: LossFn,
    *,
    chunk_size: int = 8,
) -> torch.Tensor:
    """Per-sample gradients ``(B, P)`` of ``loss_fn(model(x_i), y_i)``.

    Args:
        model: a module without batch statistics (each sample is run alone under ``vmap``).
        x, y: ``(B, ...)`` inputs and targets.
        loss_fn: per-sample loss ``(prediction, target) -> (B,)``.
        chunk_size: samples per ``vmap`` call.

    Examples:
        >>> model = torch.nn.Linear(3, 1).double()
        >>> x, y = torch.randn(5, 3, dtype=torch.float64), torch.zeros(5, 1, dtype=torch.float64)
        >>> loss = lambda p, t: ((p - t) ** 2).sum(dim=1)
        >>> g = per_sample_gradients(model, x, y, loss, chunk_size=2)
        >>> g.shape, bool(torch.allclose(g.mean(0)[:3], torch.autograd.grad(
        ...     loss(model(x), y).mean(), model.weight)[0].reshape(-1)))
        (torch.Size([5, 4]), True)
    """
    return torch.cat(
        list(iter_per_sample_gradients(model, x, y, loss_fn, chunk_size=chunk_size)), dim=0
    )
