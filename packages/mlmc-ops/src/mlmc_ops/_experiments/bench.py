"""``mlmc-ops bench``: the estimator's overhead against a plain training step.

Row ``estimator overhead``: ``mlmc_loss`` with one level against ``loss_fn(model(x), y).mean()``
plus backward, same FNO, batch and data (``speedup = t_plain / t_mlmc``; spec target >= 0.97,
not asserted). The DDP and time-to-target rows of the spec are not implemented yet.
"""

from __future__ import annotations

import warnings

import torch

from sciml_core import Comparison, compare_timing

from .._data import MultiLevelData
from .._estimator import mlmc_loss
from .._sampler import MLMCSampler


def bench(*, quick: bool, seed: int, device: str = "cpu") -> list[Comparison]:
    """Run the benchmark rows and return them."""
    from fno_conserve import FNO2d, RelLpLoss

    dev = torch.device(
        "cuda"
        if device == "auto" and torch.cuda.is_available()
        else ("cpu" if device == "auto" else device)
    )
    n = 32 if quick else 64
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(32, 1, n, n, generator=g)
    data = MultiLevelData.from_fine(x, x.tanh(), (n,)).to(dev)
    torch.manual_seed(seed)
    model = FNO2d(1, 1, 6, width=12, grid="cells", padding=0.125).to(dev)
    loss = RelLpLoss(rule="cells", reduction="none")
    batch = MLMCSampler(data, (16,), seed=seed).sample()
    lev = batch.levels[0]

    def ours() -> None:
        model.zero_grad(set_to_none=True)
        mlmc_loss(model, batch, loss).value.backward()

    def plain() -> None:
        model.zero_grad(set_to_none=True)
        loss(model(lev.x), lev.y).mean().backward()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a loaded machine is marked in the row
        row = compare_timing(
            ours,
            plain,
            repeats=5 if quick else 15,
            device=dev,
            label=f"estimator overhead (one level, {n}^2, batch 16)",
        )
    return [row]
