"""scikit-learn's bundled digits (offline), split stratified and seeded (spec §6.3)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from sciml_core import InputError, SeedLike, require_extra, root_seed

__all__ = ["DigitsSplit", "load_digits_split"]


@dataclass(frozen=True)
class DigitsSplit:
    """Train / validation / test: ``x`` ``[N, 64]`` float32 in [0, 1], ``y`` ``[N]`` int64."""

    x_train: Tensor
    y_train: Tensor
    x_val: Tensor
    y_val: Tensor
    x_test: Tensor
    y_test: Tensor


def _stratified(y: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of a ``fraction`` of every class (rounded), shuffled by ``rng``."""
    picked = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        picked.append(idx[: round(fraction * idx.size)])
    return np.sort(np.concatenate(picked))


def load_digits_split(
    *, seed: SeedLike = 0, test_size: float = 0.3, val_size: float = 0.1
) -> DigitsSplit:
    """The 1797 8×8 digits, pixels / 16, stratified: test ``test_size``, then validation
    ``val_size`` of the rest.

    Raises:
        MissingExtraError: scikit-learn is not installed (``pip install 'lipres[data]'``).
        InputError: sizes outside (0, 1).

    Examples:
        >>> split = load_digits_split(seed=0)
        >>> split.x_train.shape[1], float(split.x_train.max()) <= 1.0
        (64, True)
    """
    for name, v in (("test_size", test_size), ("val_size", val_size)):
        if not (isinstance(v, float | int) and 0 < v < 1):
            raise InputError(f"{name}: expected a number in (0, 1), got {v!r}")
    datasets = require_extra("sklearn.datasets", extra="data", package="lipres")
    data = datasets.load_digits()
    x = np.asarray(data.data, dtype=np.float32) / 16.0
    y = np.asarray(data.target, dtype=np.int64)
    rng = np.random.default_rng(root_seed(seed))
    test = _stratified(y, test_size, rng)
    rest = np.setdiff1d(np.arange(y.size), test)
    val = rest[_stratified(y[rest], val_size, rng)]
    train = np.setdiff1d(rest, val)

    def t(idx: np.ndarray) -> tuple[Tensor, Tensor]:
        return torch.from_numpy(x[idx]), torch.from_numpy(y[idx])

    return DigitsSplit(*t(train), *t(val), *t(test))
