"""Primal-dual hybrid gradient (Chambolle-Pock) and isotropic total variation."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from sciml_core import InputError

from ._gradient import Gradient
from ._operator import LinearOperator, VStack
from ._result import (
    Callback,
    SolverResult,
    check_count,
    check_data,
    check_iterate,
    check_like,
    check_operator,
    check_positive,
    image_shape,
)


def pdhg(
    K: LinearOperator,
    prox_f_conj: Callable[[torch.Tensor, float], torch.Tensor],
    prox_g: Callable[[torch.Tensor, float], torch.Tensor],
    x0: torch.Tensor,
    tau: float,
    sigma: float,
    norm_bound: float,
    max_iter: int = 500,
    tol: float = 0.0,
    objective: Callable[[torch.Tensor], float] | None = None,
    *,
    callback: Callback | None = None,
) -> SolverResult:
    r"""PDHG for :math:`\min_x f(Kx) + g(x)` (Chambolle and Pock 2011, Algorithm 1, :math:`\theta =
    1`).

    :math:`v \leftarrow \mathrm{prox}_{\sigma f^*}(v + \sigma K\bar x)`,
    :math:`x^+ \leftarrow \mathrm{prox}_{\tau g}(x - \tau K^* v)`, :math:`\bar x \leftarrow 2x^+ -
    x`.
    Converges for :math:`\tau\sigma\|K\|^2 < 1`, checked against ``norm_bound`` (an upper bound
    on :math:`\|K\|`). Stops when :math:`\|x^+ - x\| \le` ``tol`` :math:`\|x^+\|`.
    ``callback(k)`` is called after iteration ``k`` (progress reporting).
    """
    tau = check_positive(tau, "tau")
    sigma = check_positive(sigma, "sigma")
    if tau * sigma * norm_bound**2 >= 1.0:
        raise InputError(
            f"tau, sigma: PDHG needs tau * sigma * ||K||^2 < 1, got {tau:.4g} * {sigma:.4g} * "
            f"{norm_bound**2:.4g} = {tau * sigma * norm_bound**2:.4g}"
        )
    x = x0.clone()
    xbar = x.clone()
    v = torch.zeros_like(K._fwd(x))
    hist: dict[str, list[float]] = {"change": []}
    if objective is not None:
        hist["objective"] = []
    converged = False
    k = 0
    max_iter = check_count(max_iter, "max_iter")
    for k in range(1, max_iter + 1):
        v = prox_f_conj(v + sigma * K._fwd(xbar), sigma)
        x_new = prox_g(x - tau * K._adj(v), tau)
        check_iterate(x_new, k, "pdhg")
        change = float(torch.linalg.vector_norm(x_new - x))
        xbar = 2 * x_new - x
        x = x_new
        hist["change"].append(change)
        if objective is not None:
            hist["objective"].append(objective(x))
        if callback is not None:
            callback(k)
        if tol > 0 and change <= tol * float(torch.linalg.vector_norm(x)):
            converged = True
            break
    return SolverResult(x, k, converged, hist)


def total_variation(x: torch.Tensor) -> torch.Tensor:
    r"""Isotropic TV :math:`\sum_{ij}\|(\nabla x)_{ij}\|_2` (forward differences, Neumann)."""
    g = Gradient()._fwd(x)
    return torch.sqrt(g[..., 0, :, :] ** 2 + g[..., 1, :, :] ** 2).sum(dim=(-2, -1))


def pdhg_tv(
    A: LinearOperator,
    y: torch.Tensor,
    alpha: float,
    nonneg: bool = False,
    tau: float | None = None,
    sigma: float | None = None,
    max_iter: int = 500,
    tol: float = 0.0,
    *,
    x0: torch.Tensor | None = None,
    callback: Callback | None = None,
) -> SolverResult:
    r"""TV-regularised reconstruction :math:`\min_x \tfrac12\|Ax - y\|^2 + \alpha\,\mathrm{TV}(x)\
    (+\iota_{x \ge 0})`.

    PDHG with :math:`K = [A; \nabla]`: :math:`p \leftarrow (p + \sigma(A\bar x - y))/(1 + \sigma)`,
    :math:`q \leftarrow \Pi_{\|q_{ij}\|_2 \le \alpha}(q + \sigma\nabla\bar x)`,
    :math:`x^+ \leftarrow \Pi_{\ge 0}(x - \tau(A^*p + \nabla^*q))`. The bound
    :math:`\|K\|^2 \le \|A\|^2 + 8` uses the upper value of ``A.norm()``; by default
    :math:`\tau = \sigma = 0.99/\|K\|`. TV is isotropic with forward differences and Neumann
    boundary, summed over all images of the batch. ``callback(k)`` is called after PDHG
    iteration ``k`` (progress reporting).

    Returns:
        :class:`SolverResult` with ``history["objective"]`` per iteration.
    """
    A = check_operator(A)
    y = check_data(A, y)
    alpha = check_positive(alpha, "alpha", allow_zero=True)
    shape = image_shape(A, y)
    grad = Gradient(shape)
    K = VStack([A, grad], shape=shape)
    a_up = A.norm(shape=None if A.in_shape is not None else shape).upper
    k_bound = math.sqrt(a_up**2 + 8.0)
    tau = 0.99 / k_bound if tau is None else tau
    sigma = 0.99 / k_bound if sigma is None else sigma
    ref = torch.zeros_like(A._adj(y))
    check_like(x0, ref)
    x_init = ref if x0 is None else x0
    m = K.sizes[0]
    lead = y.shape[: y.ndim - len(A.out_shape or y.shape[-2:])]
    yf = y.reshape(*lead, m)

    def prox_f_conj(v: torch.Tensor, s: float) -> torch.Tensor:
        p, q = v[..., :m], v[..., m:]
        p = (p - s * yf) / (1.0 + s)
        q = q.reshape(*q.shape[:-1], 2, -1)
        nrm = torch.sqrt(q[..., 0, :] ** 2 + q[..., 1, :] ** 2)
        q = q / torch.clamp(nrm / alpha, min=1.0)[..., None, :] if alpha > 0 else q * 0
        return torch.cat([p, q.reshape(*q.shape[:-2], -1)], dim=-1)

    def prox_g(x: torch.Tensor, t: float) -> torch.Tensor:
        return x.clamp(min=0) if nonneg else x

    def objective(x: torch.Tensor) -> float:
        r = A._fwd(x) - y
        return float(0.5 * torch.sum(r * r) + alpha * total_variation(x).sum())

    return pdhg(
        K,
        prox_f_conj,
        prox_g,
        x_init,
        tau,
        sigma,
        k_bound,
        max_iter,
        tol,
        objective,
        callback=callback,
    )
