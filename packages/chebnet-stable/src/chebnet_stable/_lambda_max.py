r"""Per-graph bounds on the largest Laplacian eigenvalue :math:`\lambda_{\max}(L)`.

Why it matters: :math:`\hat L = 2L/\lambda - I` has its spectrum in :math:`[-1, 1]` iff
:math:`\lambda \ge \lambda_{\max}(L)`. Outside, :math:`|T_K(x)| = \cosh(K\,\mathrm{arccosh}\,x)`
grows exponentially in K (``T_500(1.01) ≈ 2e30``), so an under-estimate is a silent blow-up at large
K, while an over-estimate only costs spectral resolution. Power and Lanczos Rayleigh quotients
approach
:math:`\lambda_{\max}` from *below*; only the analytic bound and an exact eigensolver are marked
``certified``.
"""

from __future__ import annotations

import typing
from typing import Any, Literal, NamedTuple

import numpy as np
import torch
from torch import Tensor

from sciml_core import InputError

from ._graph import as_edges
from ._laplacian import Laplacian, Normalization, build_laplacian, check_normalization

__all__ = ["LAMBDA_MAX_METHODS", "LambdaMaxEstimate", "LambdaMaxMethod", "lambda_max_bound"]

LambdaMaxMethod = Literal["analytic", "exact", "lanczos", "power"]
"""How λ_max is bounded; only ``'analytic'`` and ``'exact'`` certify the upper bound."""
LAMBDA_MAX_METHODS: tuple[LambdaMaxMethod, ...] = typing.get_args(LambdaMaxMethod)
_EXACT_REL, _EXACT_ABS = 1e-6, 1e-9
_ITER_REL = 1e-2


class LambdaMaxEstimate(NamedTuple):
    """Per-graph bounds on :math:`\\lambda_{\\max}(L)` (the fields of ``sciml_core.NormEstimate``).

    ``lower`` is a Rayleigh-quotient lower bound (always ≤ the true value), ``upper`` is what the
    scaling uses, ``certified[g]`` is True only where ``upper[g]`` is proven ≥ the true value.
    """

    lower: Tensor  # float64 [num_graphs]
    upper: Tensor  # float64 [num_graphs]
    certified: Tensor  # bool [num_graphs]


def _segment_sum(v: Tensor, batch: Tensor | None, num_graphs: int) -> Tensor:
    if batch is None:
        return v.sum(0, keepdim=True)
    return torch.zeros((num_graphs, *v.shape[1:]), dtype=v.dtype, device=v.device).index_add_(
        0, batch, v
    )


def _segment_max(v: Tensor, batch: Tensor | None, num_graphs: int) -> Tensor:
    if batch is None:
        return v.max().reshape(1) if v.numel() else torch.zeros(1, dtype=v.dtype)
    out = torch.full((num_graphs,), -torch.inf, dtype=v.dtype, device=v.device)
    return out.scatter_reduce_(0, batch, v, reduce="amax")


def _analytic(lap: Laplacian) -> Tensor:
    """2 for ``'sym'``/``'rw'`` (Gershgorin); 2·max weighted degree per graph for ``None``."""
    if lap.normalization is not None:
        return torch.full((lap.num_graphs,), 2.0, dtype=torch.float64)
    up = 2.0 * _segment_max(lap.diag, lap.batch, lap.num_graphs).cpu()
    # an edgeless graph has L = 0: any positive value scales it to -I; use 2 as for 'sym'
    return torch.where(up > 0, up, torch.full_like(up, 2.0))


def _cheap_lower(lap: Laplacian) -> Tensor:
    """Rayleigh quotients at e_i and (e_i - e_j)/√2 for every edge: a lower bound in O(E)."""
    m = lap.diag
    node_q = m
    lower = _segment_max(node_q, lap.batch, lap.num_graphs)
    if lap.dst.numel():
        if lap.normalization is None:
            edge_q = 0.5 * (m[lap.src] + m[lap.dst]) + lap.sym_val.abs()
        else:  # a unit diagonal: 0.5 * (1 + 1) is exactly 1, no gathers needed
            edge_q = lap.sym_val.abs() + 1.0
        eb = None if lap.batch is None else lap.batch[lap.src]
        lower = torch.maximum(lower, _segment_max(edge_q, eb, lap.num_graphs))
    return lower.clamp_min(0.0).cpu()


def _sym_apply(lap: Laplacian, v: Tensor) -> Tensor:
    """The symmetric matrix with L's spectrum (D - A, or the sym-normalised L) times ``v``."""
    out = lap.diag.unsqueeze(1) * v
    return out.index_add(0, lap.dst, lap.sym_val.unsqueeze(1) * v.index_select(0, lap.src))


def _start_vector(n: int, device: torch.device) -> Tensor:
    gen = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, generator=gen, dtype=torch.float64).add_(0.5).to(device)


def _rayleigh(lap: Laplacian, y: Tensor) -> tuple[Tensor, Tensor]:
    """Per-graph Rayleigh quotient θ and residual norm ‖Ly − θy‖/‖y‖ of a vector ``y`` [N, 1]."""
    b, g = lap.batch, lap.num_graphs
    ly = _sym_apply(lap, y)
    yy = _segment_sum(y * y, b, g).squeeze(1).clamp_min(1e-300)
    theta = _segment_sum(y * ly, b, g).squeeze(1) / yy
    node_theta = theta[b] if b is not None else theta.expand(lap.num_nodes)
    r = ly - node_theta.unsqueeze(1) * y
    rn = (_segment_sum(r * r, b, g).squeeze(1) / yy).sqrt()
    return theta.cpu(), rn.cpu()


def _power(lap: Laplacian, iters: int) -> tuple[Tensor, Tensor]:
    b, g = lap.batch, lap.num_graphs
    v = _start_vector(lap.num_nodes, lap.diag.device)
    for _ in range(iters):
        v = _sym_apply(lap, v)
        nrm = _segment_sum(v * v, b, g).sqrt().clamp_min(1e-300)
        v = v / (nrm[b] if b is not None else nrm)
    return _rayleigh(lap, v)


def _lanczos(lap: Laplacian, steps: int) -> tuple[Tensor, Tensor]:
    """Lanczos with full reorthogonalisation, run on every graph of the batch at once.

    The block-diagonal operator keeps the graphs' Krylov spaces apart as long as every inner product
    is taken per graph; each graph gets its own tridiagonal matrix and top Ritz pair.
    """
    b, g, n = lap.batch, lap.num_graphs, lap.num_nodes

    def per_node(s: Tensor) -> Tensor:  # [g] or [g, c] -> [n, ...]
        return s[b] if b is not None else s.expand(n, *s.shape[1:])

    def normalise(v: Tensor) -> tuple[Tensor, Tensor]:
        nrm = _segment_sum(v * v, b, g).squeeze(1).sqrt()
        safe = torch.where(nrm > 1e-12, nrm, torch.ones_like(nrm))
        return v / per_node(safe).unsqueeze(1), nrm

    v, _ = normalise(_start_vector(n, lap.diag.device))
    basis = [v]
    alphas, betas = [], []
    for _ in range(min(steps, n)):
        w = _sym_apply(lap, basis[-1])
        alphas.append(_segment_sum(basis[-1] * w, b, g).squeeze(1))
        mat = torch.cat(basis, dim=1)  # [n, j]
        for _ in range(2):  # twice is enough (Kahan–Parlett)
            coef = _segment_sum(mat * w, b, g)  # [g, j]
            w = w - (mat * per_node(coef)).sum(1, keepdim=True)
        w, beta = normalise(w)
        betas.append(beta)
        # a graph whose Krylov space is exhausted gets a zero vector: it stays out of later steps
        w = w * per_node((beta > 1e-12).to(w.dtype)).unsqueeze(1)
        basis.append(w)
    m = len(alphas)
    t = torch.zeros(g, m, m, dtype=torch.float64, device=lap.diag.device)
    idx = torch.arange(m)
    t[:, idx, idx] = torch.stack(alphas, 1)
    if m > 1:
        off = torch.stack(betas[:-1], 1)
        t[:, idx[:-1], idx[1:]] = off
        t[:, idx[1:], idx[:-1]] = off
    _, vecs = torch.linalg.eigh(t)
    top = vecs[:, :, -1]  # [g, m]
    y = (torch.cat(basis[:m], dim=1) * per_node(top)).sum(1, keepdim=True)
    return _rayleigh(lap, y)


def _exact(lap: Laplacian) -> Tensor:
    """Largest eigenvalue per graph: dense ``eigvalsh`` up to 2048 nodes, else scipy's ``eigsh``."""
    dst, src = lap.dst.cpu(), lap.src.cpu()
    val, diag = lap.sym_val.cpu(), lap.diag.cpu()
    batch = (
        lap.batch.cpu() if lap.batch is not None else torch.zeros(lap.num_nodes, dtype=torch.long)
    )
    out = torch.zeros(lap.num_graphs, dtype=torch.float64)
    ebatch = batch[src]
    for gi in range(lap.num_graphs):
        nodes = torch.nonzero(batch == gi).squeeze(1)
        k = int(nodes.numel())
        if k == 0:
            continue
        local = torch.full((lap.num_nodes,), -1, dtype=torch.long)
        local[nodes] = torch.arange(k)
        sel = ebatch == gi
        r, c, v = local[dst[sel]].numpy(), local[src[sel]].numpy(), val[sel].numpy()
        d = diag[nodes].numpy()
        if k <= 2048:
            mat = np.zeros((k, k))
            np.add.at(mat, (r, c), v)
            mat[np.arange(k), np.arange(k)] += d
            out[gi] = float(np.linalg.eigvalsh(mat)[-1])
        else:
            from sciml_core import require_extra

            sp = require_extra("scipy.sparse", extra="graphs", package="chebnet-stable")
            spl = require_extra("scipy.sparse.linalg", extra="graphs", package="chebnet-stable")
            mat = sp.coo_matrix((v, (r, c)), shape=(k, k)) + sp.diags(d)
            out[gi] = float(spl.eigsh(mat.tocsr(), k=1, which="LA", tol=1e-10)[0][0])
    return out


def check_method(method: object) -> LambdaMaxMethod:
    """``method`` as a :data:`LambdaMaxMethod`, or an ``InputError`` naming the allowed ones."""
    for known in LAMBDA_MAX_METHODS:
        if method == known:
            return known
    raise InputError(f"method: expected one of {LAMBDA_MAX_METHODS}, got {method!r}")


def estimate_lambda_max(
    lap: Laplacian, method: LambdaMaxMethod = "analytic", *, iters: int = 30
) -> LambdaMaxEstimate:
    """Bounds of :math:`\\lambda_{\\max}` per graph of an unscaled :class:`Laplacian`."""
    method = check_method(method)
    analytic = _analytic(lap)
    cheap = _cheap_lower(lap)
    if method != "analytic" and not lap.symmetric:
        raise InputError(
            f"method: {method!r} needs a symmetric Laplacian; the graph is directed "
            "(symmetrize=False), only 'analytic' applies"
        )
    if method == "analytic":
        # Gershgorin holds for the symmetric Laplacian; a directed operator has no such guarantee
        certified = torch.full((lap.num_graphs,), lap.symmetric, dtype=torch.bool)
        return LambdaMaxEstimate(torch.minimum(cheap, analytic), analytic, certified)
    if method == "exact":
        theta = _exact(lap)
        upper = theta * (1 + _EXACT_REL) + _EXACT_ABS
        lower = torch.maximum(torch.minimum(cheap, theta), theta - 1e-12 * theta.abs().clamp_min(1))
        return LambdaMaxEstimate(lower, upper, torch.ones(lap.num_graphs, dtype=torch.bool))
    theta, res = _power(lap, iters) if method == "power" else _lanczos(lap, iters)
    candidate = theta * (1 + _ITER_REL) + res
    # the analytic cap is always a valid bound; use it where the iteration gives no usable one
    # (an edgeless graph without normalisation has L = 0, so theta = res = 0: a zero "bound"
    # would scale L by 2/0 and turn the operator into NaN)
    usable = torch.isfinite(candidate) & (candidate > 0)
    certified = (analytic <= candidate) | ~usable
    upper = torch.where(certified, analytic, candidate)
    lower = torch.maximum(cheap, theta - 1e-12 * theta.abs().clamp_min(1))
    lower = torch.where(torch.isfinite(lower), lower, cheap)
    return LambdaMaxEstimate(torch.minimum(lower, upper), upper, certified)


def resolve_lambda_max(lap: Laplacian, lambda_max: Any) -> LambdaMaxEstimate:
    """Turn the ``lambda_max=`` argument (None, number, tensor, method name) into an estimate."""
    if lambda_max is None:
        return estimate_lambda_max(lap, "analytic")
    if isinstance(lambda_max, str):
        return estimate_lambda_max(lap, check_method(lambda_max))
    lam = torch.as_tensor(lambda_max).detach().to(device="cpu", dtype=torch.float64).reshape(-1)
    if lam.numel() == 1:
        lam = lam.expand(lap.num_graphs).clone()
    if lam.numel() != lap.num_graphs:
        raise InputError(
            f"lambda_max: expected a scalar or one value per graph ({lap.num_graphs}), "
            f"got {lam.numel()} values"
        )
    if not bool(torch.isfinite(lam).all()) or bool((lam <= 0).any()):
        raise InputError(f"lambda_max: expected finite positive values, got {lam.tolist()}")
    est = estimate_lambda_max(lap, "analytic")
    if lap.symmetric:
        low = est.lower
        bad = lam < low * (1 - 1e-6)
        if bool(bad.any()):
            g = int(torch.nonzero(bad)[0])
            raise InputError(
                f"lambda_max: {float(lam[g]):.6g} for graph {g} is below a Rayleigh lower bound "
                f"{float(low[g]):.6g} of the true largest eigenvalue; spec(L̂) would leave [-1, 1]"
            )
    return LambdaMaxEstimate(est.lower, lam, lam >= est.upper)


def lambda_max_bound(
    graph: Any,
    *,
    normalization: Normalization | None = "sym",
    method: LambdaMaxMethod = "analytic",
    batch: Tensor | None = None,
    symmetrize: bool | None = None,
    iters: int = 30,
) -> LambdaMaxEstimate:
    r"""Lower and upper bounds on :math:`\lambda_{\max}(L)` for every graph of a batch.

    Methods:

    * ``'analytic'`` (default, certified): 2 for ``'sym'``/``'rw'`` (exact iff a component is
      bipartite), 2·max weighted degree per graph for ``None`` (Gershgorin).
    * ``'exact'`` (certified): a dense/sparse symmetric eigensolver per graph, returned as
      :math:`\theta(1 + 10^{-6}) + 10^{-9}`.
    * ``'lanczos'``/``'power'``: ``iters`` steps per graph (all graphs at once); ``upper`` is
      :math:`\min(\text{analytic}, \theta(1 + 10^{-2}) + \|r\|)` with Rayleigh quotient θ and
      residual r, certified only where the analytic cap is the minimum: θ + ‖r‖ bounds the
      eigenvalue *nearest* θ, not necessarily the largest.

    ``lower`` is always a Rayleigh quotient (of a unit vector, an edge vector or a Ritz vector),
    hence a true lower bound.

    Args:
        graph: any graph form :func:`as_edges` accepts.
        normalization: ``'sym'``, ``'rw'`` or ``None``.
        method: one of ``'analytic'``, ``'exact'``, ``'lanczos'``, ``'power'``.
        batch: graph id per node.
        symmetrize: see :meth:`ScaledLaplacian.from_graph`.
        iters: steps of the iterative methods.

    Returns:
        :class:`LambdaMaxEstimate` of ``Tensor[num_graphs]`` fields.

    Examples:
        >>> ring = torch.tensor([[0, 1, 2, 1, 2, 0], [1, 2, 0, 0, 1, 2]])   # odd ring, λ_max = 1.5
        >>> est = lambda_max_bound(ring, method="exact")
        >>> round(float(est.lower[0]), 6), bool(est.certified[0])
        (1.5, True)
        >>> float(lambda_max_bound(ring).upper[0])
        2.0
    """
    normalization = check_normalization(normalization)
    lap = build_laplacian(as_edges(graph, batch=batch), normalization, symmetrize=symmetrize)
    if not isinstance(iters, int) or iters < 1:
        raise InputError(f"iters: expected an integer >= 1, got {iters!r}")
    return estimate_lambda_max(lap, method, iters=iters)
