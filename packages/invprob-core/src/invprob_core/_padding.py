"""Padding as an explicit index map, so that its adjoint (folding the border back) is exact."""

from __future__ import annotations

import typing
from typing import Literal

import torch
import torch.nn.functional as F

from sciml_core import InputError

Boundary = Literal["circular", "zero", "reflect", "replicate"]
"""How an image is extended beyond its border (periodic, zeros, mirrored, edge copied)."""
BOUNDARIES: tuple[Boundary, ...] = typing.get_args(Boundary)


def pad_index(h: int, w: int, pads: tuple[int, int, int, int], mode: Boundary) -> torch.Tensor:
    """Flat source index of every padded pixel (``-1`` for zero padding), shape ``(H', W')``.

    ``pads = (left, right, top, bottom)``. Padding ``P`` copies pixel ``idx[i]`` of the input to
    position ``i``; its adjoint sums each padded value back onto its source pixel.
    """
    if mode not in BOUNDARIES:
        raise InputError(f"boundary: expected one of {BOUNDARIES}, got {mode!r}")
    left, right, top, bottom = pads
    if (mode == "reflect" and max(left, right) >= w) or (
        mode == "reflect" and max(top, bottom) >= h
    ):
        raise InputError(
            f"boundary: reflect padding of {pads} needs an image larger than the kernel, "
            f"got {h}x{w}"
        )
    src = torch.arange(h * w, dtype=torch.float64).reshape(1, 1, h, w)
    if mode == "zero":
        out = F.pad(src + 1, pads, mode="constant", value=0.0) - 1
    else:
        out = F.pad(src, pads, mode=mode)
    return out[0, 0].round().long()


def pad(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Apply the padding given by ``idx`` to the trailing two dimensions of ``x``."""
    lead = x.shape[:-2]
    flat = x.reshape(*lead, -1)
    valid = idx >= 0
    gathered = flat[..., idx.clamp(min=0).reshape(-1)].reshape(*lead, *idx.shape)
    if bool(valid.all()):
        return gathered
    return gathered * valid.to(x.dtype)


def pad_adjoint(y: torch.Tensor, idx: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Adjoint of :func:`pad`: sum every padded value back onto its source pixel."""
    lead = y.shape[:-2]
    flat = y.reshape(-1, idx.numel())
    valid = (idx >= 0).reshape(-1)
    src = idx.reshape(-1)[valid]
    out = torch.zeros(flat.shape[0], h * w, dtype=y.dtype, device=y.device)
    out.index_add_(1, src, flat[:, valid])
    return out.reshape(*lead, h, w)


def max_multiplicity(idx: torch.Tensor, h: int, w: int) -> int:
    """Largest number of padded copies of one input pixel: ``||P||^2`` since ``P*P`` is diagonal."""
    src = idx.reshape(-1)
    src = src[src >= 0]
    return int(torch.bincount(src, minlength=h * w).max())
