"""Shared experiment helpers: the model zoo by name, block statistics, empirical maxima, and
the pair ascent on certified margins."""

from __future__ import annotations

import typing
from typing import Literal

import torch
from torch import Tensor, nn

import lipres
from lipres._empirical import _random_pairs
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


def _flat(t: Tensor) -> Tensor:
    return t.reshape(t.shape[0], -1)


def margin_ratio_ascent(
    model: nn.Module, x: Tensor, table: Tensor, *, n_iter: int, seed: int
) -> float:
    r"""Largest :math:`|\Delta(f_y - f_j)| / (M_{yj}\|a - b\|_2)` over classes ``y != j`` found
    by pair ascent in float64 (a lower bound on the true maximum).

    ``table`` is the ``[K, K]`` margin table :math:`M` a certificate rests on
    (:func:`~lipres.certified_radius` divides each margin by it), so a value above 1 is a pair of
    inputs that disproves it. The search starts from the best random pairs (data pairs and local
    perturbations, :func:`lipres._empirical._random_pairs`) and runs Adam on the log ratio with
    separations kept >= 0.05, as :func:`~lipres.empirical_lipschitz`'s ``"ascent"``. The model
    runs in float64 during the search and is returned to its dtype and mode.

    Shapes:
        x: ``[B, d]``, table: ``[K, K]`` -> float.
    """
    was = model.training
    dtype = next(model.parameters()).dtype
    model.eval()
    m = model.double()
    k = table.shape[0]
    inv = torch.where(
        torch.eye(k, dtype=torch.bool), torch.zeros((), dtype=torch.float64), 1.0 / table.double()
    )

    def ratio(a: Tensor, b: Tensor) -> Tensor:
        df = m(a) - m(b)  # [P, K]
        dm = (df[:, :, None] - df[:, None, :]) * inv  # [P, K, K]: normalised margin changes
        return dm.abs().amax(dim=(1, 2)) / torch.linalg.vector_norm(_flat(a - b), dim=1)

    gen = torch.Generator().manual_seed(seed)
    xd = x.detach().double()
    try:
        a, b = _random_pairs(xd, max(256, 4 * xd.shape[0]), gen)
        with torch.no_grad():
            r = ratio(a, b)
        keep = r.argsort(descending=True)[: min(64, r.numel())]
        best = float(r.max())
        a = a[keep].clone().requires_grad_(True)
        d = (b[keep] - a.detach()).clone().requires_grad_(True)
        opt = torch.optim.Adam([a, d], lr=1e-2)
        for _ in range(n_iter):
            opt.zero_grad()
            r = ratio(a, a + d)
            best = max(best, float(r.detach().max()))
            (-torch.log(r.clamp_min(1e-300)).sum()).backward()
            opt.step()
            with torch.no_grad():
                sep = torch.linalg.vector_norm(d, dim=1).clamp_min(1e-30)
                d.mul_((0.05 / sep).clamp(min=1.0)[:, None])
        with torch.no_grad():
            best = max(best, float(ratio(a, a + d).max()))
    finally:
        model.to(dtype)
        model.train(was)
    return best
