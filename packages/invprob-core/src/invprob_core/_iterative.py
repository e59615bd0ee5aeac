"""Landweber and CGLS with early stopping by the discrepancy principle."""

from __future__ import annotations

import torch

from sciml_core import InputError

from ._operator import LinearOperator
from ._result import (
    Callback,
    SolverResult,
    check_count,
    check_data,
    check_iterate,
    check_like,
    check_operator,
    check_positive,
    sqnorm_upper,
)


def _stop_rule(delta: float | None, tau_dp: float) -> float | None:
    if delta is None:
        return None
    delta = check_positive(delta, "delta")
    tau_dp = check_positive(tau_dp, "tau_dp")
    if tau_dp <= 1.0:
        raise InputError(f"tau_dp: expected tau_dp > 1, got {tau_dp}")
    return tau_dp * delta


def landweber(
    A: LinearOperator,
    y: torch.Tensor,
    step: float | None = None,
    delta: float | None = None,
    tau_dp: float = 1.1,
    max_iter: int = 1000,
    *,
    x0: torch.Tensor | None = None,
    callback: Callback | None = None,
) -> SolverResult:
    r"""Landweber iteration :math:`x_{k+1} = x_k - \omega A^*(A x_k - y)`.

    Converges for :math:`0 < \omega < 2/\|A\|^2`; the check uses the certified upper value of
    ``A.sqnorm()`` (so it may refuse a few admissible steps, never accept a divergent one).
    Default :math:`\omega = 1/\|A\|^2_{\mathrm{upper}}`. With ``delta`` it stops at the first
    ``k`` with :math:`\|A x_k - y\| \le \tau\delta` (the stopping index is the regulariser).
    The residual is non-increasing for admissible steps. ``callback(k)`` is called after
    iteration ``k`` (progress reporting).

    Returns:
        :class:`SolverResult`; ``history["residual"][k]`` is :math:`\|A x_k - y\|`, ``k = 0..``.
    """
    A = check_operator(A)
    y = check_data(A, y)
    target = _stop_rule(delta, tau_dp)
    bound = sqnorm_upper(A, y)
    if step is None:
        step = 1.0 / bound
    step = check_positive(step, "step")
    if step >= 2.0 / bound:
        raise InputError(
            f"step: Landweber needs 0 < step < 2/||A||^2 = {2.0 / bound:.6g} (certified bound), "
            f"got {step}"
        )
    ref = torch.zeros_like(A._adj(y))
    check_like(x0, ref)
    x = ref if x0 is None else x0.clone()
    r = A._fwd(x) - y
    hist = [float(torch.linalg.vector_norm(r))]
    converged = target is not None and hist[0] <= target
    k = 0
    max_iter = check_count(max_iter, "max_iter")
    while not converged and k < max_iter:
        k += 1
        x = x - step * A._adj(r)
        check_iterate(x, k, "landweber")
        r = A._fwd(x) - y
        hist.append(float(torch.linalg.vector_norm(r)))
        converged = target is not None and hist[-1] <= target
        if callback is not None:
            callback(k)
    return SolverResult(x, k, converged, {"residual": hist})


def cgls(
    A: LinearOperator,
    y: torch.Tensor,
    delta: float | None = None,
    tau_dp: float = 1.1,
    max_iter: int = 100,
    *,
    x0: torch.Tensor | None = None,
    tol: float = 0.0,
    callback: Callback | None = None,
) -> SolverResult:
    r"""CGLS (conjugate gradients on :math:`A^*A x = A^*y`, in residual form), early stopped.

    Each iterate minimises :math:`\|Ax - y\|` over a growing Krylov space, so the residual is
    non-increasing and reaches :math:`\tau\delta` (``delta`` given) in fewer steps than
    Landweber. Without ``delta`` it stops when :math:`\|A^*r\| \le` ``tol`` :math:`\|A^*y\|`.
    ``callback(k)`` is called after iteration ``k`` (progress reporting).

    Returns:
        :class:`SolverResult`; ``history["residual"][k]`` is :math:`\|A x_k - y\|`.
    """
    A = check_operator(A)
    y = check_data(A, y)
    target = _stop_rule(delta, tau_dp)
    ref = torch.zeros_like(A._adj(y))
    check_like(x0, ref)
    x = ref if x0 is None else x0.clone()
    r = y - A._fwd(x)
    s = A._adj(r)
    p = s.clone()
    gamma = float(torch.sum(s * s))
    g0 = gamma
    hist = [float(torch.linalg.vector_norm(r))]
    converged = target is not None and hist[0] <= target
    k = 0
    max_iter = check_count(max_iter, "max_iter")
    while not converged and k < max_iter:
        if gamma == 0.0:
            converged = target is None
            break
        k += 1
        q = A._fwd(p)
        qq = float(torch.sum(q * q))
        if qq == 0.0:
            break
        a = gamma / qq
        x = x + a * p
        r = r - a * q
        check_iterate(x, k, "cgls")
        s = A._adj(r)
        gamma_new = float(torch.sum(s * s))
        p = s + (gamma_new / gamma) * p
        gamma = gamma_new
        hist.append(float(torch.linalg.vector_norm(r)))
        if callback is not None:
            callback(k)
        if target is not None:
            converged = hist[-1] <= target
        elif tol > 0:
            converged = gamma <= (tol**2) * g0
    return SolverResult(x, k, converged, {"residual": hist})
