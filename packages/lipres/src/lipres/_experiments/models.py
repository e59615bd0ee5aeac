"""Shared experiment helpers: the model zoo by name, block statistics, empirical maxima."""

from __future__ import annotations

import typing
from typing import Literal

from torch import Tensor, nn

import lipres
from lipres._networks import Architecture

ModelName = Literal["fixed-width", "gradient", "cpl", "spectral", "unconstrained"]


def regressor(name: ModelName, d: int, width: int, depth: int) -> nn.Module:
    """A scalar model of the approximation study."""
    if name == "unconstrained":
        return lipres.UnconstrainedResNet(d, 1, width, depth)
    if name == "cpl":
        return lipres.LipResNet(d, width, depth, step="max")
    return lipres.LipResNet(d, width, depth, architecture=_arch(name))


def classifier(name: ModelName, d: int, k: int, width: int, depth: int) -> nn.Module:
    """A classifier of the digits study."""
    if name == "unconstrained":
        return lipres.UnconstrainedResNet(d, k, width, depth)
    if name == "spectral":
        return lipres.SpectralNormMLP(d, k, width, depth)
    if name == "cpl":
        return lipres.LipResNetClassifier(d, k, width, depth, step="max")
    return lipres.LipResNetClassifier(d, k, width, depth, architecture=_arch(name))


def _arch(name: ModelName) -> Architecture:
    if name not in ("gradient", "fixed-width"):
        raise ValueError(f"not a LipResNet architecture: {name!r}")
    return typing.cast(Architecture, name)


def fraction_below_cap(model: nn.Module) -> float | None:
    """Fraction of gradient blocks whose step sits strictly below its exact cap (None: none)."""
    steps = [m for m in model.modules() if isinstance(m, lipres.GradientStep)]
    if not steps:
        return None
    below = 0
    for m in steps:
        s = lipres.spectral_norm(m.weight).upper
        h = float(m.step_size(exact=True).detach())
        below += h < lipres.GradientStep.cap_for(s) * (1 - 1e-6)
    return below / len(steps)


def empirical_max(model: nn.Module, x: Tensor, *, quick: bool, seed: int) -> dict[str, float]:
    """The three empirical Lipschitz estimates (lower bounds) on the points ``x``."""
    model = model.double()
    xd = x.double()
    n_iter = 10 if quick else 30
    out = {
        "jacobian": lipres.empirical_lipschitz(
            model, xd[:128], method="jacobian", n_iter=n_iter, seed=seed
        ),
        "pairs": lipres.empirical_lipschitz(
            model, xd, method="pairs", n_pairs=2000 if quick else 10_000, seed=seed
        ),
        "ascent": lipres.empirical_lipschitz(model, xd, method="ascent", n_iter=n_iter, seed=seed),
    }
    model.float()
    return out


def bound_of(model: nn.Module) -> float:
    return float(model.lipschitz_bound())  # type: ignore[operator]
