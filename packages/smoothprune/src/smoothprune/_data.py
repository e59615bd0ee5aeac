"""``digits20``: scikit-learn's bundled 8x8 digits, upsampled, shifted and noised, offline.

The 1 797 images of ``sklearn.datasets.load_digits`` are scaled to [0, 1] (divided by 16),
bilinearly upsampled to 16x16 (``align_corners=False``), and copied ``copies`` times: sample ``i``
is copy ``i // 1797`` of digit ``i % 1797``, pasted into a zero 20x20 canvas at offset
``(dy, dx) ~ U{0..max_offset}^2`` with ``N(0, noise^2)`` noise, both drawn from
``sciml_core.sample_generator(seed, i)`` (so sample ``i`` never depends on how many are made).
A seeded permutation puts 4 500 in train and the rest (891 with three copies) in test.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from sciml_core import InputError, require_extra, sample_generator

__all__ = ["DIGITS", "N_TRAIN", "digits20", "render_digits20"]

DIGITS = 1797
N_TRAIN = 4500
_SIDE = 20
_INNER = 16
_SPLIT_KEY = 2**31 - 1  # spawn key of the split permutation, apart from every sample's


def _base_images() -> tuple[np.ndarray, np.ndarray]:
    datasets = require_extra("sklearn.datasets", extra="data", package="smoothprune")
    digits = datasets.load_digits()
    x = torch.from_numpy(digits.images.astype(np.float32) / 16.0)[:, None]
    up = F.interpolate(x, size=(_INNER, _INNER), mode="bilinear", align_corners=False)
    return np.asarray(up[:, 0].numpy()), np.asarray(digits.target, dtype=np.int64)


def render_digits20(
    n: int, *, seed: int = 0, noise: float = 0.35, max_offset: int = 4
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``n`` samples: images ``(n, 20, 20)`` float32, labels, offsets ``(n, 2)``."""
    if not 0 <= max_offset <= _SIDE - _INNER:
        raise InputError(f"max_offset must be in [0, {_SIDE - _INNER}]; got {max_offset}")
    if not noise >= 0:
        raise InputError(f"noise must be >= 0; got {noise}")
    images, labels = _base_images()
    out = np.zeros((n, _SIDE, _SIDE), dtype=np.float32)
    offsets = np.zeros((n, 2), dtype=np.int64)
    for i in range(n):
        rng = sample_generator(seed, i)
        dy, dx = rng.integers(0, max_offset + 1, size=2)
        out[i, dy : dy + _INNER, dx : dx + _INNER] = images[i % DIGITS]
        out[i] += rng.normal(0.0, noise, size=(_SIDE, _SIDE)).astype(np.float32)
        offsets[i] = (dy, dx)
    return out, labels[np.arange(n) % DIGITS], offsets


def digits20(
    *, copies: int = 3, noise: float = 0.35, max_offset: int = 4, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x_train, y_train, x_test, y_test)``; images ``(N, 1, 20, 20)`` float32, labels int64.

    Needs the ``[data]`` extra (scikit-learn, whose digits ship inside the wheel).
    """
    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 3:
        raise InputError(f"copies must be an int >= 3 (4 500 training samples); got {copies!r}")
    n = copies * DIGITS
    x, y, _ = render_digits20(n, seed=seed, noise=noise, max_offset=max_offset)
    perm = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_SPLIT_KEY,))).permutation(
        n
    )
    tr, te = perm[:N_TRAIN], perm[N_TRAIN:]
    xt = torch.from_numpy(x)[:, None]
    yt = torch.from_numpy(y)
    return xt[tr], yt[tr], xt[te], yt[te]
