r"""Empirical checks that can falsify a bound or a certificate (spec §4 item 6).

Each returns a *lower* bound on the true quantity: a Lipschitz estimate found by search can only
under-estimate (deel-lip #30: sampled estimates "can be heavily underestimated in high dimensional
space"), so it is compared with the certified bound, never used as one.

* ``"jacobian"``: power iteration on :math:`J(x)^TJ(x)` at every point (``torch.func`` jvp/vjp),
  the largest :math:`\|J(x)v\|/\|v\|`.
* ``"pairs"``: random pairs (data pairs and local perturbations of 0.05-0.5 in ℓ2), ratio
  :math:`\|f(a) - f(b)\|/\|a - b\|` formed in float64, separations >= 0.05 so that float32
  rounding of the outputs (~1e-7) moves the ratio by less than ~1e-5 (spec §4 item 6).
* ``"ascent"``: Adam ascent on :math:`\log\|f(a) - f(b)\| - \log\|a - b\|` from the best random
  pairs, separations kept >= 0.05.

:func:`pgd_l2` is projected gradient ascent on the worst margin inside an ℓ2 ball (Madry et
al. 2018) with restarts: a point it flips inside a certified radius disproves the certificate.
"""

from __future__ import annotations

import math
import typing
from typing import Literal

import torch
from torch import Tensor, nn

from sciml_core import InputError, SeedLike, as_torch_generator, check_finite

from ._common import check_choice, check_int, check_label_range

__all__ = ["EMPIRICAL_METHODS", "EmpiricalMethod", "empirical_lipschitz", "pgd_l2"]

EmpiricalMethod = Literal["jacobian", "pairs", "ascent"]
EMPIRICAL_METHODS: tuple[EmpiricalMethod, ...] = typing.get_args(EmpiricalMethod)

_MIN_SEP = 0.05


def _flat(out: Tensor) -> Tensor:
    return out.reshape(out.shape[0], -1)


def _ratio(model: nn.Module, a: Tensor, b: Tensor) -> Tensor:
    num = torch.linalg.vector_norm(_flat(model(a)).double() - _flat(model(b)).double(), dim=1)
    den = torch.linalg.vector_norm(_flat(a).double() - _flat(b).double(), dim=1)
    return num / den


def _jacobian(model: nn.Module, x: Tensor, n_iter: int, gen: torch.Generator) -> float:
    v = torch.randn(x.shape, generator=gen, dtype=torch.float64).to(x)
    best = 0.0
    for _ in range(n_iter):
        v = v / torch.linalg.vector_norm(_flat(v), dim=1).reshape(-1, *[1] * (x.dim() - 1))
        # J v by the double-vjp trick (u -> J^T u is linear; its vjp with v is J v), then J^T J v.
        xg = x.detach().requires_grad_(True)
        out = model(xg)
        u = torch.zeros_like(out, requires_grad=True)
        (jtu,) = torch.autograd.grad(out, xg, u, create_graph=True)
        (jv,) = torch.autograd.grad(jtu, u, v)
        (jtjv,) = torch.autograd.grad(out, xg, jv)
        ratio = torch.linalg.vector_norm(_flat(jv).double(), dim=1)
        best = max(best, float(ratio.max()))
        v = jtjv.detach()
        if float(torch.linalg.vector_norm(_flat(v))) == 0.0:
            break
    return best


def _random_pairs(x: Tensor, n: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    b = x.shape[0]
    i = torch.randint(0, b, (n,), generator=gen).to(x.device)
    j = torch.randint(0, b, (n,), generator=gen).to(x.device)
    a = x[i]
    other = x[j]
    half = n // 2
    direction = torch.randn(a.shape, generator=gen, dtype=torch.float64).to(x)
    direction = direction / torch.linalg.vector_norm(_flat(direction), dim=1).reshape(
        -1, *[1] * (x.dim() - 1)
    )
    radius = _MIN_SEP + (0.5 - _MIN_SEP) * torch.rand(n, generator=gen, dtype=torch.float64)
    local = a + direction * radius.to(x).reshape(-1, *[1] * (x.dim() - 1))
    partner = torch.cat([other[:half], local[half:]])
    sep = torch.linalg.vector_norm(_flat(partner - a).double(), dim=1)
    partner = torch.where((sep < _MIN_SEP).reshape(-1, *[1] * (x.dim() - 1)), local, partner)
    return a, partner


def _ascent(model: nn.Module, x: Tensor, n_iter: int, gen: torch.Generator) -> float:
    a, b = _random_pairs(x, max(256, 4 * x.shape[0]), gen)
    with torch.no_grad():
        r = _ratio(model, a, b)
    keep = r.argsort(descending=True)[: min(64, r.numel())]
    a = a[keep].clone().requires_grad_(True)
    d = (b[keep] - a.detach()).clone().requires_grad_(True)
    opt = torch.optim.Adam([a, d], lr=1e-2)
    best = float(r.max())
    shape = (-1, *[1] * (x.dim() - 1))
    for _ in range(n_iter):
        opt.zero_grad()
        ratio = _ratio(model, a, a + d)
        best = max(best, float(ratio.detach().max()))
        (-torch.log(ratio.clamp_min(1e-300)).sum()).backward()
        opt.step()
        with torch.no_grad():
            sep = torch.linalg.vector_norm(_flat(d), dim=1).clamp_min(1e-30)
            d.mul_((_MIN_SEP / sep).clamp(min=1.0).reshape(shape).to(d.dtype))
    with torch.no_grad():
        best = max(best, float(_ratio(model, a, a + d).max()))
    return best


def empirical_lipschitz(
    model: nn.Module,
    x: Tensor,
    *,
    method: EmpiricalMethod = "pairs",
    n_iter: int = 50,
    n_pairs: int = 10_000,
    seed: SeedLike = 0,
) -> float:
    """A lower bound on the ℓ2 Lipschitz constant of ``model`` near the points ``x``.

    Args:
        model: Maps ``[B, ...]`` to ``[B, ...]`` (row-wise; no batch coupling).
        x: ``[B, ...]`` points (at least 2 rows).
        method: ``"jacobian"``, ``"pairs"`` or ``"ascent"`` (module docstring).
        n_iter: power steps (jacobian) or ascent steps (ascent).
        n_pairs: number of random pairs (pairs).
        seed: seeds the random vectors and pairs.

    Returns:
        The largest ratio found (float).

    Examples:
        >>> lin = nn.Linear(3, 2, bias=False).double()
        >>> x = torch.randn(20, 3, dtype=torch.float64)
        >>> s = float(torch.linalg.matrix_norm(lin.weight.detach(), 2))
        >>> abs(empirical_lipschitz(lin, x, method="jacobian", n_iter=200) - s) < 1e-8
        True
    """
    check_choice(method, "method", EMPIRICAL_METHODS)
    check_int(n_iter, "n_iter", minimum=1)
    check_int(n_pairs, "n_pairs", minimum=1)
    check_finite(x, "x")
    if x.dim() < 2 or x.shape[0] < 2:
        raise InputError(f"x: expected at least two points [B >= 2, ...], got {tuple(x.shape)}")
    gen = as_torch_generator(seed)
    was = model.training
    model.eval()
    try:
        if method == "jacobian":
            return _jacobian(model, x.detach(), n_iter, gen)
        if method == "ascent":
            return _ascent(model, x.detach(), n_iter, gen)
        with torch.no_grad():
            best = 0.0
            for start in range(0, n_pairs, 4096):
                a, b = _random_pairs(x.detach(), min(4096, n_pairs - start), gen)
                best = max(best, float(_ratio(model, a, b).max()))
            return best
    finally:
        model.train(was)


def pgd_l2(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    eps: float,
    *,
    steps: int = 50,
    restarts: int = 1,
    step_size: float | None = None,
    bounds: tuple[float, float] | None = None,
    seed: SeedLike = 0,
) -> Tensor:
    r"""Projected gradient ascent on the worst margin inside the ℓ2 ball of radius ``eps``.

    Maximises :math:`\max_{j\ne y} f_j - f_y` by normalised-gradient steps of ``step_size``
    (default :math:`2.5\,\varepsilon/\text{steps}`), projecting on the ball (and on ``bounds``);
    the first restart starts at ``x``, the others at random points of the ball. Returns, per
    point, the first misclassifying input found, else the last iterate of the best restart.

    Args:
        model: Logits ``[B, K]`` from ``[B, ...]``.
        x: ``[B, ...]`` inputs.
        y: ``[B]`` labels.
        eps: ball radius > 0.
        steps: steps per restart (>= 1).
        restarts: restarts (>= 1).
        step_size: step length (default ``2.5 eps / steps``).
        bounds: optional box ``(low, high)`` the inputs must stay in (e.g. pixels in [0, 1]).
        seed: seeds the random starts.

    Returns:
        ``[B, ...]`` adversarial inputs, each within ``eps`` of ``x`` (ℓ2).

    Raises:
        InputError: ``eps`` not a finite number > 0, bad ``steps`` / ``restarts``, NaN inputs,
            labels outside ``[0, K - 1]`` for the model's ``K`` logits.

    Examples:
        >>> lin = nn.Linear(2, 2).double()
        >>> with torch.no_grad():
        ...     _ = lin.weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0]])); _ = lin.bias.zero_()
        >>> x = torch.tensor([[0.5, 0.0]], dtype=torch.float64)
        >>> adv = pgd_l2(lin, x, torch.tensor([0]), 0.6, steps=20)
        >>> int(lin(adv).argmax()), float((adv - x).norm()) <= 0.6 + 1e-12
        (1, True)
    """
    if not (isinstance(eps, int | float) and math.isfinite(eps) and eps > 0):
        raise InputError(f"eps: expected a finite number > 0, got {eps!r}")
    check_int(steps, "steps", minimum=1)
    check_int(restarts, "restarts", minimum=1)
    check_finite(x, "x")
    alpha = 2.5 * eps / steps if step_size is None else float(step_size)
    gen = as_torch_generator(seed)
    y = torch.as_tensor(y, device=x.device).long()
    shape = (-1, *[1] * (x.dim() - 1))
    x = x.detach()
    best = x.clone()
    best_gap = torch.full((x.shape[0],), -math.inf, dtype=torch.float64, device=x.device)
    was = model.training
    model.eval()

    def gap(z: Tensor) -> Tensor:
        f = model(z)
        fy = f.gather(1, y[:, None]).squeeze(1)
        other = f.scatter(1, y[:, None], -math.inf).amax(dim=1)
        return other - fy

    def project(z: Tensor) -> Tensor:
        delta = z - x
        norm = torch.linalg.vector_norm(_flat(delta), dim=1).clamp_min(1e-30)
        delta = delta * (eps / norm).clamp(max=1.0).reshape(shape)
        z = x + delta
        if bounds is not None:
            z = z.clamp(bounds[0], bounds[1])
        return z

    try:
        with torch.no_grad():
            check_label_range(y, model(x[:1]).shape[1])  # the logits' K, before any ascent
        for r in range(restarts):
            if r == 0:
                z = x.clone()
            else:
                noise = torch.randn(x.shape, generator=gen, dtype=torch.float64).to(x)
                noise = noise / torch.linalg.vector_norm(_flat(noise), dim=1).reshape(shape)
                u = torch.rand(x.shape[0], generator=gen, dtype=torch.float64).to(x)
                z = project(x + noise * (eps * u.reshape(shape)))
            for _ in range(steps):
                z = z.detach().requires_grad_(True)
                g_val = gap(z)
                (grad,) = torch.autograd.grad(g_val.sum(), z)
                with torch.no_grad():
                    better = (g_val.double() > best_gap) & (best_gap <= 0)
                    best[better] = z.detach()[better]
                    best_gap = torch.where(better, g_val.double(), best_gap)
                    gnorm = torch.linalg.vector_norm(_flat(grad), dim=1).clamp_min(1e-30)
                    z = project(z + alpha * grad / gnorm.reshape(shape))
            with torch.no_grad():
                g_val = gap(z).double()
                better = (g_val > best_gap) & (best_gap <= 0)
                best[better] = z[better]
                best_gap = torch.where(better, g_val, best_gap)
    finally:
        model.train(was)
    return best
