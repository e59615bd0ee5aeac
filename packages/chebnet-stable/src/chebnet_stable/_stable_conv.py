r"""Stable-ChebNet: a forward-Euler step of an antisymmetric Chebyshev ODE (§3.3, eqs. 7, 9)."""

from __future__ import annotations

import math
import typing
import warnings
from collections.abc import Callable
from typing import Any, Literal

import torch
from torch import Tensor, nn

from sciml_core import InputError

from ._cheb_conv import INITS, Init, as_laplacian
from ._chebyshev import _check_k, cheb_filter
from ._laplacian import Normalization

__all__ = [
    "DAMPINGS",
    "EPSILON_SCALINGS",
    "INTEGRATORS",
    "PARAMS",
    "Damping",
    "EpsilonScaling",
    "Integrator",
    "Param",
    "StableChebConv",
    "damping_kernel",
    "damping_weights",
]

Damping = Literal["per_order", "identity", "fejer"]
"""Where γ enters: every order (the paper's), T_0 only, or Fejér-weighted orders."""
DAMPINGS: tuple[Damping, ...] = typing.get_args(Damping)
Param = Literal["triu", "full"]
"""Parametrisation of A_k: V_k − V_kᵀ from a strictly upper V_k (official) or a free V_k."""
PARAMS: tuple[Param, ...] = typing.get_args(Param)
EpsilonScaling = Literal["none", "inv_sqrt_K"]
"""The Euler step used: ε, or ε/√K."""
EPSILON_SCALINGS: tuple[EpsilonScaling, ...] = typing.get_args(EpsilonScaling)
Integrator = Literal["euler", "cayley"]
"""The time step: forward Euler (the paper's) or the Cayley map / implicit midpoint (ours)."""
INTEGRATORS: tuple[Integrator, ...] = typing.get_args(Integrator)


def _check_damping(damping: Any) -> None:
    if damping not in DAMPINGS:
        raise InputError(f"damping: expected one of {DAMPINGS}, got {damping!r}")


def damping_weights(K: int, damping: Damping = "per_order") -> Tensor:
    """Weights c_k of γ per order: ``per_order`` 1, ``identity`` δ_{k0}, ``fejer`` 1 − k/K."""
    _check_k(K)
    _check_damping(damping)
    k = torch.arange(K, dtype=torch.float64)
    if damping == "per_order":
        return torch.ones(K, dtype=torch.float64)
    if damping == "identity":
        return (k == 0).to(torch.float64)
    return 1.0 - k / K


def damping_kernel(K: int, mu: Tensor | float, *, damping: Damping = "per_order") -> Tensor:
    r"""The damping profile :math:`s_c(\mu) = \sum_{k<K} c_k T_k(\mu)` on the spectrum of L̂.

    The official layer subtracts γ in every order (``'per_order'``), so eigenmode μ of
    :math:`\hat L` is damped by :math:`\gamma s(\mu)` with the Dirichlet-type kernel
    :math:`s = \sum_{k<K} T_k`, which is **negative on a quarter of [−1, 1] for every K ≥ 3**: there
    γ > 0 *amplifies*. Exact values:

    ====  ======================  ==========
    K     fraction with s < 0     min s
    ====  ======================  ==========
    2     0                       0.000
    3     0.25                    −0.125
    4     0.25                    −0.316
    8     0.25                    −1.154
    10    0.25                    −1.583
    20    0.25                    −3.745
    ====  ======================  ==========

    ``'identity'`` (γ on T_0 only) gives s ≡ 1; ``'fejer'`` (c_k = 1 − k/K) gives s ≥ 1/2.

    Args:
        K: number of terms.
        mu: points of [−1, 1].
        damping: ``'per_order'``, ``'identity'`` or ``'fejer'``.

    Returns:
        :math:`s_c(\mu)`, float64, the shape of ``mu``.

    Examples:
        >>> mu = torch.linspace(-1, 1, 2001, dtype=torch.float64)
        >>> round(float(damping_kernel(3, mu).min()), 4)
        -0.125
        >>> float(damping_kernel(5, mu, damping="fejer").min()) >= 0.5
        True
    """
    mu = torch.as_tensor(mu, dtype=torch.float64)
    c = damping_weights(K, damping)
    t0, t1 = torch.ones_like(mu), mu
    s = c[0] * t0
    for k in range(1, K):
        s = s + c[k] * t1
        t0, t1 = t1, 2 * mu * t1 - t0
    return s


class StableChebConv(nn.Module):
    r"""One Stable-ChebNet step: forward Euler on an antisymmetric Chebyshev ODE (eqs. 7, 9).

    .. math::
        X^{(l+1)} = X^{(l)} + \varepsilon\Big[\sum_{k=0}^{K-1} T_k(\hat L)\,X^{(l)}
        (A_k - \gamma c_k I) + b\Big],\qquad A_k = V_k - V_k^T,

    with :math:`V_k` strictly upper triangular (``param='triu'``, the official parametrisation) or
    free (``param='full'``, A-DGN's :math:`W - W^T`). As in the authors' layer the bias sits inside
    the ε-scaled update and the activation is applied by the model *after* the step.

    At γ = 0 the linear ODE's Jacobian :math:`\sum_k A_k^T \otimes T_k(\hat L)` has purely imaginary
    eigenvalues (Theorem 3, sym-normalised :math:`\hat L`). Damping per order (``c_k``, see
    :func:`damping_kernel`) shifts mode μ's eigenvalues by :math:`-\gamma s_c(\mu)`; the default
    ``'per_order'`` is the paper's and anti-damps where :math:`s_c < 0`. An Euler step multiplies a
    mode by :math:`|1 + \varepsilon\lambda|`: at γ = 0 that is
    :math:`\sqrt{1 + \varepsilon^2\omega^2} > 1`, and ω grows like √K, so
    ``epsilon_scaling='inv_sqrt_K'`` (ε/√K) or ``init='variance_preserving'`` keep deep, large-K
    stacks bounded (see :func:`euler_step_gain`).

    Args:
        channels: feature size d (input = output).
        K: number of Chebyshev terms (K − 1 hops).
        epsilon: Euler step ε > 0 (the official default 0.1).
        gamma: dissipation γ ≥ 0.
        damping: ``'per_order'`` (official), ``'identity'`` (γ once: −εγX), ``'fejer'``.
        param: ``'triu'`` (official) or ``'full'``.
        bias: learn a bias (inside the step).
        init: ``'glorot'`` on V_k (official) or ``'variance_preserving'`` (times √(2/(K+1))).
        epsilon_scaling: ``'none'`` or ``'inv_sqrt_K'`` (the step is ε/√K).
        inner_act: optional activation inside the step, ``X + ε·σ(…)`` (A-DGN's form).
        normalization: Laplacian normalisation (``'sym'``; Theorem 3 needs it).
        memory_efficient: recompute the recursion in the backward.
        integrator: ``'euler'`` (the paper's forward Euler, default) or ``'cayley'`` (below).
        solver_tol: ``'cayley'``: stop the linear solve when its normal-equation residual is
            below ``solver_tol`` times that of the right-hand side.
        solver_max_iter: ``'cayley'``: at most this many solver iterations per step.

    **The Cayley step** (``integrator='cayley'``, beyond the paper). With the linear operator
    :math:`M X = \sum_k T_k(\hat L) X W_k` and :math:`h = \varepsilon/2`, the implicit midpoint
    rule :math:`X^+ = X + \varepsilon[M\tfrac{X + X^+}{2} + b]` gives

    .. math:: (I - hM)\,X^+ = (I + hM)\,X + \varepsilon b .

    At γ = 0 with a symmetric :math:`\hat L` (``'sym'``, undirected) :math:`M` is skew
    (:math:`A_k^T = -A_k`, :math:`T_k(\hat L)^T = T_k(\hat L)`), so the linear part
    :math:`(I - hM)^{-1}(I + hM)` is the Cayley transform of a skew operator: **orthogonal**, a
    gain of exactly 1 per step for every ε and K, up to the solve's tolerance (forward Euler's
    gain is :math:`\sqrt{1 + \varepsilon^2\omega^2} > 1`). With γ > 0 and a non-negative
    damping kernel (``'identity'``, ``'fejer'``) it contracts. The system is solved by conjugate
    gradients on the normal equations :math:`(I - hM)^T(I - hM) = I + h^2M^TM` (SPD, condition
    :math:`1 + h^2\|M\|^2`), started from the right-hand side; each iteration applies :math:`M`
    and :math:`M^T` (two filters, :math:`2(K - 1)` sparse products), so a step costs
    ``2 * iterations + 1`` Euler steps. Gradients flow through the iterations (autograd). The
    nonlinear ``inner_act`` form has no such linear solve and is refused with ``'cayley'``.

    Shapes:
        x: ``[N, d]`` -> ``[N, d]``.

    Examples:
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> step = StableChebConv(3, K=4, epsilon=0.1)
        >>> a = step.antisymmetric_weights()
        >>> bool(torch.equal(a, -a.transpose(1, 2)))
        True
    """

    def __init__(
        self,
        channels: int,
        K: int,
        *,
        epsilon: float = 0.1,
        gamma: float = 0.0,
        damping: Damping = "per_order",
        param: Param = "triu",
        bias: bool = True,
        init: Init = "glorot",
        epsilon_scaling: EpsilonScaling = "none",
        inner_act: Callable[[Tensor], Tensor] | None = None,
        normalization: Normalization | None = "sym",
        memory_efficient: bool = False,
        integrator: Integrator = "euler",
        solver_tol: float = 1e-6,
        solver_max_iter: int = 100,
    ) -> None:
        super().__init__()
        _check_k(K)
        if integrator not in INTEGRATORS:
            raise InputError(f"integrator: expected one of {INTEGRATORS}, got {integrator!r}")
        if integrator == "cayley" and inner_act is not None:
            raise InputError(
                "inner_act: the Cayley step solves a linear system; it has no inner activation "
                "(use integrator='euler' for A-DGN's form)"
            )
        if not (isinstance(solver_tol, int | float) and math.isfinite(solver_tol)) or not (
            0 < solver_tol < 1
        ):
            raise InputError(f"solver_tol: expected a number in (0, 1), got {solver_tol!r}")
        if (
            isinstance(solver_max_iter, bool)
            or not isinstance(solver_max_iter, int)
            or (solver_max_iter < 1)
        ):
            raise InputError(f"solver_max_iter: expected an integer >= 1, got {solver_max_iter!r}")
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise InputError(f"channels: expected an integer >= 1, got {channels!r}")
        if not (isinstance(epsilon, int | float) and math.isfinite(epsilon) and epsilon > 0):
            raise InputError(f"epsilon: expected a finite number > 0, got {epsilon!r}")
        if not (isinstance(gamma, int | float) and math.isfinite(gamma) and gamma >= 0):
            raise InputError(f"gamma: expected a finite number >= 0, got {gamma!r}")
        _check_damping(damping)
        if param not in PARAMS:
            raise InputError(f"param: expected one of {PARAMS}, got {param!r}")
        if init not in INITS:
            raise InputError(f"init: expected one of {INITS}, got {init!r}")
        if epsilon_scaling not in EPSILON_SCALINGS:
            raise InputError(
                f"epsilon_scaling: expected one of {EPSILON_SCALINGS}, got {epsilon_scaling!r}"
            )
        self.channels, self.K = channels, K
        self.epsilon, self.gamma = float(epsilon), float(gamma)
        self.damping, self.param, self.init = damping, param, init
        self.epsilon_scaling, self.inner_act = epsilon_scaling, inner_act
        self.normalization = normalization
        self.memory_efficient = memory_efficient
        self.integrator: Integrator = integrator
        self.solver_tol, self.solver_max_iter = float(solver_tol), solver_max_iter
        self.last_iterations = 0
        """Solver iterations of the last ``'cayley'`` step (0 for Euler)."""
        self.V = nn.Parameter(torch.empty(K, channels, channels))
        self.bias = nn.Parameter(torch.empty(channels)) if bias else None
        self._c: Tensor
        self.register_buffer("_c", damping_weights(K, damping).to(torch.get_default_dtype()))
        self.reset_parameters()

    @property
    def effective_epsilon(self) -> float:
        """The step used: ε, or ε/√K under ``epsilon_scaling='inv_sqrt_K'``."""
        if self.epsilon_scaling == "inv_sqrt_K":
            return self.epsilon / math.sqrt(self.K)
        return self.epsilon

    def reset_parameters(self) -> None:
        """Glorot-uniform V_k (the strictly upper part is what the triu form uses), zero bias."""
        d = self.channels
        bound = math.sqrt(6.0 / (2 * d))
        if self.init == "variance_preserving":
            bound *= math.sqrt(2.0 / (self.K + 1))
        with torch.no_grad():
            self.V.uniform_(-bound, bound)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def antisymmetric_weights(self) -> Tensor:
        """:math:`A_k = V_k - V_k^T` (``[K, d, d]``)."""
        v = self.V.triu(1) if self.param == "triu" else self.V
        return v - v.transpose(1, 2)

    def weights(self) -> Tensor:
        """The matrices the filter applies, :math:`A_k - \\gamma c_k I` (``[K, d, d]``)."""
        a = self.antisymmetric_weights()
        if self.gamma == 0:
            return a
        eye = torch.eye(self.channels, dtype=a.dtype, device=a.device)
        return a - self.gamma * self._c.to(a.dtype)[:, None, None] * eye

    def forward(
        self, x: Tensor, graph: Any, *, batch: Tensor | None = None, lambda_max: Any = None
    ) -> Tensor:
        """One step: Euler ``x + ε·[Σ_k T_k(L̂) x W_k + b]`` or Cayley (see the class docstring).

        Shapes:
            x: ``[N, channels]``; batch: ``[N]``; lambda_max: a scalar or ``[num_graphs]``;
            output: ``[N, channels]``.
        """
        if x.dim() != 2 or x.shape[1] != self.channels:
            raise InputError(
                f"x: expected [N, {self.channels}], got {tuple(getattr(x, 'shape', ()))}"
            )
        lap = as_laplacian(
            graph, x, normalization=self.normalization, batch=batch, lambda_max=lambda_max
        )
        if self.integrator == "cayley":
            return self._cayley_step(lap, x)
        h = cheb_filter(lap, x, self.weights(), self.bias, memory_efficient=self.memory_efficient)
        if self.inner_act is not None:
            h = self.inner_act(h)
        return x + self.effective_epsilon * h

    def _cayley_step(self, lap: Any, x: Tensor) -> Tensor:
        """Solve ``(I − hM) y = (I + hM) x + ε b`` by CG on the normal equations."""
        eps = self.effective_epsilon
        h = 0.5 * eps
        w = self.weights()
        wt = w.transpose(1, 2)
        me = self.memory_efficient

        def op(z: Tensor) -> Tensor:  # (I - hM) z
            return z - h * cheb_filter(lap, z, w, memory_efficient=me)

        def op_t(z: Tensor) -> Tensor:  # (I - hM)^T z = z - h M^T z, M^T z = sum_k T_k z W_k^T
            return z - h * cheb_filter(lap, z, wt, memory_efficient=me)

        rhs = x + h * cheb_filter(lap, x, w, memory_efficient=me)
        if self.bias is not None:
            rhs = rhs + eps * self.bias
        y = rhs
        r = op_t(rhs - op(y))
        p = r
        rr = (r * r).sum()
        stop = self.solver_tol**2 * float((op_t(rhs) ** 2).sum().detach())
        iterations = 0
        while iterations < self.solver_max_iter and float(rr.detach()) > stop:
            q = op_t(op(p))
            alpha = rr / (p * q).sum()
            y = y + alpha * p
            r = r - alpha * q
            rr_new = (r * r).sum()
            p = r + (rr_new / rr) * p
            rr = rr_new
            iterations += 1
        self.last_iterations = iterations
        if float(rr.detach()) > stop:
            warnings.warn(
                f"StableChebConv: the Cayley solve stopped at solver_max_iter="
                f"{self.solver_max_iter} with relative residual "
                f"{math.sqrt(float(rr.detach()) / max(stop, 1e-300)) * self.solver_tol:.2g} "
                f"> solver_tol={self.solver_tol:g}; raise solver_max_iter or lower epsilon",
                RuntimeWarning,
                stacklevel=3,
            )
        return y

    def extra_repr(self) -> str:
        extra = (
            ""
            if self.integrator == "euler"
            else f", integrator='cayley', solver_tol={self.solver_tol}, "
            f"solver_max_iter={self.solver_max_iter}"
        )
        return (
            f"{self.channels}, K={self.K}, epsilon={self.epsilon}, gamma={self.gamma}, "
            f"damping={self.damping!r}, param={self.param!r}, "
            f"epsilon_scaling={self.epsilon_scaling!r}{extra}"
        )
