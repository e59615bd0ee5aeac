"""Parameter counts: stored, non-zero, trainable."""

from __future__ import annotations

from torch import nn

__all__ = ["count_parameters"]


def count_parameters(
    model: nn.Module, *, nonzero: bool = False, trainable_only: bool = False
) -> int:
    """Number of parameters of ``model`` (each shared tensor once).

    Args:
        model: Any module.
        nonzero: Count only non-zero entries (what unstructured pruning leaves; storage is
            unchanged by it).
        trainable_only: Count only parameters with ``requires_grad``.

    Returns:
        The count.

    Examples:
        >>> count_parameters(nn.Linear(3, 2)), count_parameters(nn.Linear(3, 2, bias=False))
        (8, 6)
    """
    total = 0
    for p in model.parameters():
        if trainable_only and not p.requires_grad:
            continue
        total += int((p != 0).sum()) if nonzero else p.numel()
    return total
