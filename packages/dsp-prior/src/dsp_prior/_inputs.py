"""The fixed network input ``z`` of DIP (``utils/common_utils.py:get_noise`` of the reference)."""

from __future__ import annotations

import typing
from typing import Literal

import torch

from sciml_core import InputError, SeedLike, as_torch_generator

InputKind = Literal["uniform", "normal", "meshgrid"]
INPUT_KINDS: tuple[InputKind, ...] = typing.get_args(InputKind)


def noise_input(
    channels: int,
    size: tuple[int, int],
    *,
    kind: InputKind = "uniform",
    scale: float = 0.1,
    seed: SeedLike = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    r"""DIP's input :math:`z`, ``(1, channels, H, W)``.

    ``"uniform"``: :math:`z \sim \mathcal U(0, \text{scale})` i.i.d. (the reference's ``'noise'``
    input with ``var = 1/10``, used by every restoration notebook); ``"normal"``:
    :math:`\text{scale} \cdot \mathcal N(0, 1)`; ``"meshgrid"``: two channels holding the column and
    row coordinates in :math:`[0, 1]` (the large-hole inpainting notebook; ``channels`` must be 2,
    ``scale`` and ``seed`` are unused).

    Args:
        channels: input channels of the network.
        size: ``(H, W)``.
        kind: ``"uniform"``, ``"normal"`` or ``"meshgrid"``.
        scale: amplitude of the noise (0.1 in the reference).
        seed: seed of the draw (``sciml_core`` seed types).
        device: device of ``z``.
        dtype: floating dtype of ``z``.

    Returns:
        ``z`` of shape ``(1, channels, H, W)``.

    Examples:
        >>> z = noise_input(32, (8, 8), seed=0)
        >>> tuple(z.shape), bool(z.min() >= 0 and z.max() <= 0.1)
        ((1, 32, 8, 8), True)
    """
    if kind not in INPUT_KINDS:
        raise InputError(f"kind: expected one of {INPUT_KINDS}, got {kind!r}")
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise InputError(f"channels: expected a positive integer, got {channels!r}")
    if len(size) != 2 or any(isinstance(s, bool) or int(s) < 1 for s in size):
        raise InputError(f"size: expected (H, W) with positive sizes, got {size!r}")
    h, w = int(size[0]), int(size[1])
    if kind == "meshgrid":
        if channels != 2:
            raise InputError(f"channels: a meshgrid input has 2 channels, got {channels}")
        rows = torch.linspace(0.0, 1.0, h, dtype=torch.float64)
        cols = torch.linspace(0.0, 1.0, w, dtype=torch.float64)
        grid = torch.stack([cols[None, :].expand(h, w), rows[:, None].expand(h, w)])
        return grid[None].to(device=device, dtype=dtype)
    if not (isinstance(scale, int | float) and scale > 0 and scale < float("inf")):
        raise InputError(f"scale: expected a positive finite number, got {scale!r}")
    gen = as_torch_generator(seed)
    draw = torch.rand if kind == "uniform" else torch.randn
    z = draw((1, channels, h, w), generator=gen, dtype=torch.float64)
    return (float(scale) * z).to(device=device, dtype=dtype)
