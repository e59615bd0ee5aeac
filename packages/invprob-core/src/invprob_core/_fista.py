"""FISTA (Beck and Teboulle 2009) for smooth plus proximable objectives."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._result import SolverResult, check_count, check_iterate, check_positive


def fista(
    grad_f: Callable[[torch.Tensor], torch.Tensor],
    prox_g: Callable[[torch.Tensor, float], torch.Tensor],
    L: float,
    x0: torch.Tensor,
    max_iter: int = 500,
    tol: float = 0.0,
    objective: Callable[[torch.Tensor], float] | None = None,
) -> SolverResult:
    r"""FISTA for :math:`F = f + g`, :math:`\nabla f` ``L``-Lipschitz, step :math:`1/L`.

    :math:`x_k = \mathrm{prox}_{g/L}(z_k - \nabla f(z_k)/L)`,
    :math:`t_{k+1} = (1 + \sqrt{1 + 4t_k^2})/2`,
    :math:`z_{k+1} = x_k + \frac{t_k - 1}{t_{k+1}}(x_k - x_{k-1})`; then
    :math:`F(x_k) - F^* \le 2L\|x_0 - x^*\|^2/(k+1)^2` (Beck and Teboulle, Thm. 4.4).
    For :math:`f = \tfrac12\|Ax - y\|^2` use :math:`L = \|A\|^2` (upper value of ``A.sqnorm()``).

    Args:
        grad_f: gradient of the smooth part.
        prox_g: ``prox_g(v, step)`` = :math:`\mathrm{prox}_{\mathrm{step}\, g}(v)`.
        L: Lipschitz constant of ``grad_f`` (``> 0``).
        x0: start.
        max_iter: iterations.
        tol: stop when :math:`\|x_k - x_{k-1}\| \le` ``tol`` :math:`\|x_k\|`.
        objective: optional ``F`` recorded in ``history["objective"]`` (entry ``k-1`` is
            :math:`F(x_k)`).

    Examples:
        >>> import torch
        >>> r = fista(lambda x: x - 3.0, lambda v, s: v.clamp(max=1.0), 1.0, torch.zeros(1))
        >>> r.x.item()
        1.0
    """
    L = check_positive(L, "L")
    x_prev = x0.clone()
    z = x0.clone()
    t = 1.0
    hist: dict[str, list[float]] = {"change": []}
    if objective is not None:
        hist["objective"] = []
    converged = False
    k = 0
    max_iter = check_count(max_iter, "max_iter")
    for k in range(1, max_iter + 1):
        x = prox_g(z - grad_f(z) / L, 1.0 / L)
        check_iterate(x, k, "fista")
        t_next = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
        z = x + ((t - 1.0) / t_next) * (x - x_prev)
        change = float(torch.linalg.vector_norm(x - x_prev))
        hist["change"].append(change)
        if objective is not None:
            hist["objective"].append(objective(x))
        x_prev, t = x, t_next
        if tol > 0 and change <= tol * float(torch.linalg.vector_norm(x)):
            converged = True
            break
    return SolverResult(x_prev, k, converged, hist)
