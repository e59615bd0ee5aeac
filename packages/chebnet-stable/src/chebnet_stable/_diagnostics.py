r"""Exact, fast diagnostics of Chebyshev layers: Jacobian spectra, Euler-step gains, sensitivities.

With :math:`\hat L = U\,\mathrm{diag}(\mu_i)\,U^T` (symmetric), the Jacobian of the linear map
:math:`X \mapsto \sum_k T_k(\hat L) X W_k` is :math:`J = \sum_k W_k^T \otimes T_k(\hat L)`
(Lemma 3.1) and splits into N blocks :math:`J_i = \sum_k T_k(\mu_i) W_k^T` of size d. For
Stable-ChebNet, :math:`W_k = A_k - \gamma c_k I` with skew :math:`A_k`, so :math:`J_i = S_i -
\gamma s_c(\mu_i) I`
(:math:`S_i` skew): eigenvalues :math:`i\omega - \gamma s_c(\mu_i)`, purely imaginary at γ = 0
(Theorem 3), and :math:`I + \varepsilon J` is a normal matrix whose norm is
:math:`\max|1 + \varepsilon\lambda|`. Cost :math:`O(N^3 + N d^3)` instead of the dense
:math:`O((Nd)^3)`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from sciml_core import InputError

from ._laplacian import ScaledLaplacian
from ._stable_conv import Damping, StableChebConv, _check_damping, damping_weights

__all__ = [
    "dirichlet_energy",
    "euler_step_gain",
    "jacobian_blocks",
    "jacobian_dense",
    "jacobian_spectrum",
    "layer_gain",
    "sensitivity",
]


def _weights_of(weights: Any, gamma: float, damping: Damping) -> Tensor:
    """``W_k = A_k − γ c_k I`` (float64) from a tensor ``[K, d, d]`` or a StableChebConv."""
    if isinstance(weights, StableChebConv):
        return weights.weights().detach().to(torch.float64)
    if (
        not isinstance(weights, Tensor)
        or weights.dim() != 3
        or weights.shape[1] != weights.shape[2]
        or weights.numel() == 0
    ):
        raise InputError(
            "weights: expected a StableChebConv or a tensor [K, d, d] with K, d >= 1, "
            f"got {getattr(weights, 'shape', type(weights))}"
        )
    if not bool(torch.isfinite(weights).all()):
        raise InputError("weights: contain NaN or inf")
    if not (isinstance(gamma, int | float) and math.isfinite(gamma) and gamma >= 0):
        raise InputError(f"gamma: expected a finite number >= 0, got {gamma!r}")
    _check_damping(damping)
    w = weights.detach().to(torch.float64)
    if gamma:
        c = damping_weights(w.shape[0], damping)
        w = w - gamma * c[:, None, None] * torch.eye(w.shape[1], dtype=torch.float64)
    return w


def jacobian_blocks(
    lap: ScaledLaplacian, weights: Any, *, gamma: float = 0.0, damping: Damping = "per_order"
) -> Tensor:
    """The N blocks :math:`J_i = \\sum_k T_k(\\mu_i) W_k^T` of the linear layer's Jacobian.

    Returns ``[N, d, d]``, float64.

    Args:
        lap: a symmetric scaled Laplacian (undirected graph, ``'sym'`` or ``None``).
        weights: a :class:`StableChebConv` (its γ and damping are used) or ``A_k`` ``[K, d, d]``.
        gamma: dissipation (ignored for a module).
        damping: damping form (ignored for a module).
    """
    if not isinstance(lap, ScaledLaplacian):
        raise InputError(f"lap: expected a ScaledLaplacian, got {type(lap).__name__}")
    if not lap.symmetric:
        raise InputError(
            "lap: the block decomposition needs a symmetric L̂ ('sym' or None, undirected graph); "
            "use jacobian_dense for the general case"
        )
    w = _weights_of(weights, gamma, damping)  # [K, d, d]
    mu = torch.linalg.eigvalsh(lap.to(dtype=torch.float64).to_dense().cpu())  # [N]
    t0, t1 = torch.ones_like(mu), mu
    blocks = t0[:, None, None] * w[0].t()
    for k in range(1, w.shape[0]):
        blocks = blocks + t1[:, None, None] * w[k].t()
        t0, t1 = t1, 2 * mu * t1 - t0
    return blocks


def jacobian_spectrum(
    lap: ScaledLaplacian, weights: Any, *, gamma: float = 0.0, damping: Damping = "per_order"
) -> Tensor:
    r"""All eigenvalues of the linear layer's Jacobian :math:`\sum_k W_k^T \otimes T_k(\hat L)`.

    Args:
        lap: a symmetric scaled Laplacian.
        weights: a :class:`StableChebConv` or antisymmetric ``A_k`` ``[K, d, d]``.
        gamma: dissipation γ (for a tensor).
        damping: ``'per_order'``, ``'identity'``, ``'fejer'`` (for a tensor).

    Returns:
        complex128 ``[N·d]``.

    Examples:
        >>> ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> lap = ScaledLaplacian.from_graph((ei, None, 3))
        >>> a = torch.randn(3, 2, 2, dtype=torch.float64); a = a - a.transpose(1, 2)
        >>> float(jacobian_spectrum(lap, a).real.abs().max()) < 1e-12
        True
    """
    return torch.linalg.eigvals(
        jacobian_blocks(lap, weights, gamma=gamma, damping=damping)
    ).reshape(-1)


def euler_step_gain(
    lap: ScaledLaplacian,
    weights: Any,
    *,
    epsilon: float | None = None,
    gamma: float = 0.0,
    damping: Damping = "per_order",
) -> float:
    r"""Spectral norm of one linear Euler step :math:`X + \varepsilon\sum_k T_k(\hat L)XW_k`.

    Computed exactly block by block: :math:`\max_i \|I + \varepsilon J_i\|_2`. For antisymmetric
    weights the blocks are normal and this equals :math:`\max|1 + \varepsilon\lambda|` over
    :func:`jacobian_spectrum` (:math:`\sqrt{1 + \varepsilon^2\omega^2}` at γ = 0). Activations that
    are 1-Lipschitz (tanh, ReLU) cannot increase it, so a stack's end-to-end Jacobian norm is at
    most the product of its steps' gains.

    Args:
        lap: a symmetric scaled Laplacian.
        weights: a :class:`StableChebConv` (its effective ε, γ, damping are used) or ``A_k``.
        epsilon: step (required for a tensor).
        gamma: dissipation (for a tensor).
        damping: damping form (for a tensor).

    Returns:
        The gain (float).
    """
    if isinstance(weights, StableChebConv):
        epsilon = weights.effective_epsilon
    if epsilon is None:
        raise InputError("epsilon: required when weights is a tensor, got None")
    if not (isinstance(epsilon, int | float) and math.isfinite(epsilon) and epsilon > 0):
        raise InputError(f"epsilon: expected a finite number > 0, got {epsilon!r}")
    blocks = jacobian_blocks(lap, weights, gamma=gamma, damping=damping)
    eye = torch.eye(blocks.shape[1], dtype=blocks.dtype)
    return float(torch.linalg.matrix_norm(eye + epsilon * blocks, ord=2).max())


def jacobian_dense(fn: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """Dense Jacobian ``[out.numel(), x.numel()]`` of ``fn`` at ``x`` by autograd (tiny inputs).

    Rows and columns follow row-major flattening (eigen- and singular values do not depend on it).
    """
    if x.numel() > 4096:
        raise InputError(
            f"x: the dense Jacobian is for tiny inputs (<= 4096 values), got {x.numel()}"
        )
    jac = torch.autograd.functional.jacobian(fn, x)
    out_numel = jac.numel() // x.numel()
    return jac.reshape(out_numel, x.numel())


def sensitivity(
    model: Callable[..., Tensor],
    x: Tensor,
    graph: Any,
    source: int,
    *,
    targets: Tensor | None = None,
) -> Tensor:
    r"""Node-pair sensitivity :math:`\|\partial y_v / \partial x_u\|_F` of a model for one source u.

    One Jacobian-vector product per input channel (forward-over-reverse autograd).

    Args:
        model: called as ``model(x, graph)``, returning ``[N, F_out]``.
        x: inputs ``[N, F_in]``.
        graph: passed through to the model.
        source: the node u.
        targets: node indices v to return (default: all).

    Returns:
        ``[len(targets)]`` (or ``[N]``).
    """
    n = x.shape[0]
    if not 0 <= int(source) < n:
        raise InputError(f"source: expected a node index in [0, {n}), got {source}")
    x = x.detach()
    total: Tensor | None = None
    for j in range(x.shape[1]):
        v = torch.zeros_like(x)
        v[int(source), j] = 1.0
        _, jv = torch.autograd.functional.jvp(lambda z: model(z, graph), x, v)
        sq = (jv.reshape(n, -1) ** 2).sum(1)
        total = sq if total is None else total + sq
    assert total is not None
    out = total.sqrt()
    return out if targets is None else out[targets]


def dirichlet_energy(x: Tensor, lap: ScaledLaplacian) -> Tensor:
    r""":math:`\mathrm{tr}(X^T L X)`, :math:`L = \tfrac{\lambda}{2}(\hat L + I)`.

    L is the unscaled Laplacian.
    """
    lam = lap.lambda_max.to(x.dtype).to(x.device)
    node_lam = lam[lap.batch] if lap.batch is not None else lam.expand(x.shape[0])
    lx = (lap @ x + x) * (node_lam / 2).unsqueeze(1)
    return (x * lx).sum()


def layer_gain(module: Callable[..., Tensor], x: Tensor, graph: Any) -> float:
    """``‖module(x, graph)‖_F / ‖x‖_F`` (the empirical one-layer gain of §3.2)."""
    with torch.no_grad():
        return float(module(x, graph).norm() / x.norm())
