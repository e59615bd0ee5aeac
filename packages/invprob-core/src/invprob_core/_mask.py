"""Pixel masks (inpainting) and seeded mask generators."""

from __future__ import annotations

import numpy as np
import torch

from sciml_core import InputError, root_seed, sample_generator

from ._operator import Diagonal

SeedLike = int | np.random.Generator | torch.Generator | None


class Mask(Diagonal):
    r"""Inpainting mask :math:`y = m \odot x` (self-adjoint, :math:`\|M\| = \max |m|`).

    Args:
        mask: ``(H, W)`` tensor of weights (usually 0/1), bool allowed.

    Shapes:
        x: ``(..., H, W)`` -> ``(..., H, W)``.

    Examples:
        >>> import torch
        >>> m = Mask(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        >>> m(torch.ones(1, 2, 2)).sum().item()
        2.0
    """

    def __init__(self, mask: torch.Tensor) -> None:
        if isinstance(mask, torch.Tensor) and mask.dtype == torch.bool:
            mask = mask.to(torch.float64)
        super().__init__(mask)

    def _min_ndim(self) -> int:
        return 2


def _shape2(shape: tuple[int, int]) -> tuple[int, int]:
    if len(shape) != 2 or any(int(s) < 1 for s in shape):
        raise InputError(f"shape: expected (H, W) with positive sizes, got {shape!r}")
    return int(shape[0]), int(shape[1])


def random_pixel_mask(
    shape: tuple[int, int], p_keep: float, n_masks: int = 1, *, seed: SeedLike = None
) -> torch.Tensor:
    """Bernoulli(``p_keep``) 0/1 masks ``(n_masks, H, W)``; mask ``i`` from ``SeedSequence(seed,
    (i,))``.

    Examples:
        >>> m = random_pixel_mask((64, 64), 0.5, seed=0)
        >>> m.shape, abs(float(m.mean()) - 0.5) < 0.05
        (torch.Size([1, 64, 64]), True)
    """
    h, w = _shape2(shape)
    if not 0.0 <= p_keep <= 1.0:
        raise InputError(f"p_keep: expected a probability in [0, 1], got {p_keep}")
    base = root_seed(seed)
    out = [sample_generator(base, i).uniform(size=(h, w)) < p_keep for i in range(int(n_masks))]
    return torch.from_numpy(np.stack(out).astype(np.float32))


def block_mask(
    shape: tuple[int, int],
    block: int,
    n_blocks: int = 1,
    n_masks: int = 1,
    *,
    seed: SeedLike = None,
) -> torch.Tensor:
    """Masks ``(n_masks, H, W)`` with ``n_blocks`` random ``block x block`` holes (0) each."""
    h, w = _shape2(shape)
    if not 1 <= block <= min(h, w):
        raise InputError(f"block: expected 1 <= block <= {min(h, w)}, got {block}")
    base = root_seed(seed)
    out = np.ones((int(n_masks), h, w), dtype=np.float32)
    for i in range(int(n_masks)):
        rng = sample_generator(base, i)
        for _ in range(int(n_blocks)):
            r, c = rng.integers(0, h - block + 1), rng.integers(0, w - block + 1)
            out[i, r : r + block, c : c + block] = 0.0
    return torch.from_numpy(out)


def stroke_mask(
    shape: tuple[int, int],
    n_strokes: int = 4,
    width: float = 2.0,
    n_masks: int = 1,
    *,
    seed: SeedLike = None,
) -> torch.Tensor:
    """Masks ``(n_masks, H, W)`` with ``n_strokes`` random straight strokes (0) of ``width`` px.

    Each stroke joins two uniform random points; pixels closer than ``width / 2`` to the segment
    are masked. Mask ``i`` draws from ``SeedSequence(seed, spawn_key=(i,))``.

    Examples:
        >>> m = stroke_mask((32, 32), 3, seed=0)
        >>> m.shape, bool(0.0 < float(m.mean()) < 1.0)
        (torch.Size([1, 32, 32]), True)
    """
    h, w = _shape2(shape)
    if not width > 0:
        raise InputError(f"width: expected a positive number, got {width!r}")
    base = root_seed(seed)
    rr, cc = np.meshgrid(np.arange(h) + 0.5, np.arange(w) + 0.5, indexing="ij")
    out = np.ones((int(n_masks), h, w), dtype=np.float32)
    for i in range(int(n_masks)):
        rng = sample_generator(base, i)
        for _ in range(int(n_strokes)):
            (r0, r1), (c0, c1) = rng.uniform(0, h, 2), rng.uniform(0, w, 2)
            dr, dc = r1 - r0, c1 - c0
            t = np.clip(((rr - r0) * dr + (cc - c0) * dc) / max(dr * dr + dc * dc, 1e-12), 0, 1)
            dist = np.hypot(rr - (r0 + t * dr), cc - (c0 + t * dc))
            out[i][dist < width / 2] = 0.0
    return torch.from_numpy(out)
