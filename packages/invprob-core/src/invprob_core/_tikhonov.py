"""Tikhonov regularisation and the discrepancy principle for its parameter."""

from __future__ import annotations

import math
import typing
from typing import Literal

import torch

from sciml_core import InputError

from ._blur import Blur
from ._operator import Identity, LinearOperator
from ._result import (
    Callback,
    SolverResult,
    check_count,
    check_data,
    check_operator,
    check_positive,
    conjugate_gradient,
)

TikhonovMethod = Literal["auto", "cg", "fourier"]
"""How Tikhonov is solved: Fourier when possible, CG on the normal equations, or Fourier."""
METHODS: tuple[TikhonovMethod, ...] = typing.get_args(TikhonovMethod)


def _fourier_ok(A: LinearOperator, L: LinearOperator | None) -> bool:
    def circ(op: LinearOperator | None) -> bool:
        return (
            op is None
            or isinstance(op, Identity)
            or (isinstance(op, Blur) and op.boundary == "circular")
        )

    return circ(A) and circ(L) and not isinstance(A, type(None))


def _multiplier(
    op: LinearOperator | None, shape: tuple[int, int], ref: torch.Tensor
) -> torch.Tensor | None:
    if op is None or isinstance(op, Identity):
        return None
    assert isinstance(op, Blur)
    return op._multiplier(shape[0], shape[1], ref)


def tikhonov(
    A: LinearOperator,
    y: torch.Tensor,
    alpha: float,
    L: LinearOperator | None = None,
    method: TikhonovMethod = "auto",
    *,
    max_iter: int = 1000,
    tol: float = 1e-10,
    callback: Callback | None = None,
) -> SolverResult:
    r"""Tikhonov solution :math:`x_\alpha = (A^*A + \alpha L^*L)^{-1} A^* y`.

    It minimises :math:`\tfrac12\|Ax - y\|^2 + \tfrac\alpha2\|Lx\|^2` (default :math:`L = I`:
    spectral filter :math:`\sigma/(\sigma^2 + \alpha)`). ``method="fourier"`` solves in closed
    form when ``A`` and ``L`` are circular blurs or the identity (all diagonal in the DFT);
    ``"cg"`` runs conjugate gradients on the normal equations; ``"auto"`` picks Fourier when it
    applies.

    Args:
        A: forward operator.
        y: data ``(..., *A.out_shape)``.
        alpha: regularisation parameter, ``> 0``.
        L: optional regularisation operator (default identity).
        method: ``"auto"``, ``"cg"`` or ``"fourier"``.
        max_iter: CG iterations.
        tol: CG relative residual tolerance.
        callback: called after each CG iteration with its number (progress reporting; the
            Fourier solve does not call it).

    Returns:
        :class:`SolverResult` (CG residual history; Fourier: one iteration).

    Examples:
        >>> import torch
        >>> from invprob_core import Identity
        >>> tikhonov(Identity(), torch.ones(1, 2, 2), 1.0).x.flatten().tolist()
        [0.5, 0.5, 0.5, 0.5]
    """
    A = check_operator(A)
    if L is not None:
        check_operator(L, "L")
    y = check_data(A, y)
    alpha = check_positive(alpha, "alpha")
    if method not in METHODS:
        raise InputError(f"method: expected one of {METHODS}, got {method!r}")
    use_fourier = method == "fourier" or (method == "auto" and _fourier_ok(A, L))
    if use_fourier:
        if not _fourier_ok(A, L):
            raise InputError(
                "method: 'fourier' needs A and L to be circular Blur or Identity operators"
            )
        h, w = y.shape[-2:]
        ka, kl = _multiplier(A, (h, w), y), _multiplier(L, (h, w), y)
        ya = torch.fft.rfft2(y)
        num = ya if ka is None else ka.conj() * ya
        den_a = 1.0 if ka is None else ka.abs() ** 2
        den_l = 1.0 if kl is None else kl.abs() ** 2
        x = torch.fft.irfft2(num / (den_a + alpha * den_l), s=(h, w))
        res = float(torch.linalg.vector_norm(A._fwd(x) - y))
        return SolverResult(x, 1, True, {"residual": [res]})

    def normal(v: torch.Tensor) -> torch.Tensor:
        out = A._adj(A._fwd(v))
        reg = v if L is None else L._adj(L._fwd(v))
        return out + alpha * reg

    max_iter = check_count(max_iter, "max_iter")
    out = conjugate_gradient(normal, A._adj(y), max_iter=max_iter, tol=tol, callback=callback)
    return out


def _residual(A: LinearOperator, x: torch.Tensor, y: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(A._fwd(x) - y))


def discrepancy_alpha(
    A: LinearOperator,
    y: torch.Tensor,
    delta: float,
    tau_dp: float = 1.1,
    *,
    L: LinearOperator | None = None,
    rtol: float = 1e-4,
    max_bisections: int = 100,
    alpha0: float | None = None,
    callback: Callback | None = None,
) -> tuple[float, SolverResult]:
    r"""Tikhonov parameter by Morozov's discrepancy principle: :math:`\|A x_\alpha - y\| =
    \tau\delta`.

    The residual :math:`\alpha \mapsto \|A x_\alpha - y\|` is non-decreasing, so the target is
    bracketed by doubling/halving :math:`\log\alpha` and then bisected until it is met to
    ``rtol`` relative. ``delta`` is the noise norm of the whole of ``y``.

    Args:
        A: forward operator.
        y: noisy data.
        delta: noise level :math:`\|y^\delta - y\|`, ``> 0``.
        tau_dp: :math:`\tau > 1`.
        L: optional regularisation operator.
        rtol: relative tolerance on the residual.
        max_bisections: bisection steps.
        alpha0: starting guess (default :math:`\|A\|^2` upper value).
        callback: called after each Tikhonov solve (bracketing and bisection) with the number
            of solves so far (progress reporting).

    Returns:
        ``(alpha, result)``; ``result.history["residual"]`` ends at about :math:`\tau\delta`.

    Raises:
        InputError: ``tau_dp <= 1``, or :math:`\tau\delta \ge \|y\|` (then :math:`x = 0` already
        satisfies the principle), or the target lies below the least-squares residual.
    """
    A = check_operator(A)
    y = check_data(A, y)
    delta = check_positive(delta, "delta")
    tau_dp = check_positive(tau_dp, "tau_dp")
    if tau_dp <= 1.0:
        raise InputError(f"tau_dp: expected tau_dp > 1, got {tau_dp}")
    target = tau_dp * delta
    ynorm = float(torch.linalg.vector_norm(y))
    if target >= ynorm:
        raise InputError(
            f"delta: tau_dp * delta = {target:.4g} >= ||y|| = {ynorm:.4g}; "
            "x = 0 already fits the data"
        )

    solves = 0

    def solve(alpha: float) -> tuple[float, SolverResult]:
        nonlocal solves
        r = tikhonov(A, y, alpha, L=L, tol=1e-12 if y.dtype == torch.float64 else 1e-6)
        solves += 1
        if callback is not None:
            callback(solves)
        return _residual(A, r.x, y), r

    from ._result import sqnorm_upper

    a = float(alpha0) if alpha0 is not None else sqnorm_upper(A, y)
    res, sol = solve(a)
    lo = hi = None
    for _ in range(60):
        if res < target:
            lo = (a, sol)
            a *= 10.0
        else:
            hi = (a, sol)
            a /= 10.0
        if lo is not None and hi is not None:
            break
        res, sol = solve(a)
    if lo is None or hi is None:
        raise InputError(
            f"delta: could not bracket tau_dp * delta = {target:.4g} "
            f"(residual {res:.4g} at alpha={a:.3g})"
        )
    la, lb = math.log(lo[0]), math.log(hi[0])
    hist: list[float] = []
    best_a, best_sol = lo
    for _ in range(max_bisections):
        mid = 0.5 * (la + lb)
        res, sol = solve(math.exp(mid))
        hist.append(res)
        best_a, best_sol = math.exp(mid), sol
        if abs(res - target) <= rtol * target:
            break
        if res < target:
            la = mid
        else:
            lb = mid
    converged = abs(hist[-1] - target) <= rtol * target
    return best_a, SolverResult(best_sol.x, len(hist), converged, {"residual": hist})
