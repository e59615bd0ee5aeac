"""The hypergraph over patients: kNN hyperedges per modality and HGNN propagation.

**Hyperedges** (Gao et al., HGNN+; the construction of dhg's ``from_feature_kNN`` and of the
HyDA authors' ``construct_H_with_KNN_from_distance``). In one feature space ``Z ∈ R^{V×d}`` the
hyperedge centred on vertex ``q`` holds the ``k`` vertices nearest to ``q`` in Euclidean distance,
``q`` itself included (ties broken by the smaller index, ``q`` forced in). ``H ∈ {0,1}^{V×E}``
has ``H[v, e] = 1`` when ``v ∈ e``. The probabilistic form writes, for a member ``v`` of the
hyperedge centred on ``q``, ``H[v, e] = exp(-d(v, q)² / (m_prob · d̄_q)²)`` with ``d̄_q`` the
mean distance of ``q`` to all vertices. With several modalities one group is built per modality
space and the groups are concatenated, ``H = [H_1 | … | H_M]``; identical hyperedges (same vertex
set, binary form) are merged.

**Propagation** (HGNN, Feng et al. 2019, eq. 10; HGNN+'s mean ``v2v``). With ``W_e = diag(w)``
(default ``I``), ``D_v = diag(H w)``, ``D_e = diag(Hᵀ 1)``:

* ``norm="mean"``: ``P = D_v⁻¹ H W_e D_e⁻¹ Hᵀ`` (row-stochastic: every vertex averages the means of
  its hyperedges);
* ``norm="sym"``: ``P = D_v^{-1/2} H W_e D_e⁻¹ Hᵀ D_v^{-1/2}`` (symmetric, spectrum in [0, 1], top
  eigenvector ``D_v^{1/2} 1``).

The code is ours; dhg is an optional peer for parity tests only (its hard dependencies include
optuna, requests and scikit-learn, and its ``HGNNConv`` applies dropout 0.5 by default).
"""

from __future__ import annotations

import typing
from typing import Literal

import torch
from torch import Tensor, nn

from sciml_core import InputError

__all__ = [
    "NORMS",
    "HGNNConv",
    "HypergraphNorm",
    "hgnn_propagate",
    "knn_incidence",
    "multi_incidence",
]

HypergraphNorm = Literal["mean", "sym"]
NORMS: tuple[HypergraphNorm, ...] = typing.get_args(HypergraphNorm)


def knn_incidence(z: Tensor, k: int, *, prob: bool = False, m_prob: float = 1.0) -> Tensor:
    """Incidence matrix of the ``V`` kNN hyperedges of the vertices ``z`` (one per centre).

    Args:
        z: Vertex features ``(V, d)``.
        k: Vertices per hyperedge, centre included; capped at ``V``.
        prob: Probabilistic weights ``exp(-d² / (m_prob · d̄)²)`` instead of ones.
        m_prob: Scale of the probabilistic weights.

    Returns:
        ``H`` of shape ``(V, V)``: column ``q`` is the hyperedge centred on vertex ``q``.

    Raises:
        InputError: ``k < 1`` or ``z`` is not a non-empty 2-D tensor.

    Examples:
        >>> z = torch.tensor([[0.0], [1.0], [5.0]])
        >>> knn_incidence(z, 2).int().tolist()
        [[1, 1, 0], [1, 1, 1], [0, 0, 1]]
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"k: expected an integer >= 1; got {k!r}")
    if z.ndim != 2 or z.shape[0] < 1:
        raise InputError(f"z: expected a (V, d) tensor with V >= 1; got shape {tuple(z.shape)}")
    v = z.shape[0]
    kk = min(k, v)
    dist = torch.cdist(z, z)
    # Stable ordering: distance first, then index; the centre (distance 0) is forced first.
    key = dist.clone()
    key.fill_diagonal_(-1.0)
    order = torch.sort(key, dim=1, stable=True).indices[:, :kk]  # (V centres, kk members)
    h = torch.zeros(v, v, dtype=z.dtype, device=z.device)
    centres = torch.arange(v, device=z.device)[:, None].expand(-1, kk)
    if prob:
        mean_d = dist.mean(dim=1, keepdim=True).clamp_min(torch.finfo(z.dtype).tiny)
        w = torch.exp(-(dist.gather(1, order) ** 2) / (m_prob * mean_d) ** 2)
        h[order, centres] = w
    else:
        h[order, centres] = 1.0
    return h


def multi_incidence(
    spaces: list[Tensor], k: int, *, prob: bool = False, dedup: bool = True
) -> Tensor:
    """``[H_1 | … | H_M]``: one kNN group per modality space, duplicates merged.

    Args:
        spaces: ``M`` tensors ``(V, d_m)`` (the same ``V`` vertices in each space).
        k: Vertices per hyperedge.
        prob: Probabilistic weights.
        dedup: Merge hyperedges with the same vertex set (binary form only).

    Returns:
        ``H`` of shape ``(V, E)``, ``E ≤ M·V``.
    """
    h = torch.cat([knn_incidence(z, k, prob=prob) for z in spaces], dim=1)
    if dedup and not prob:
        _, first = _unique_columns(h)
        h = h[:, first]
    return h


def _unique_columns(h: Tensor) -> tuple[Tensor, Tensor]:
    cols = h.T.contiguous()
    uniq, inverse = torch.unique(cols, dim=0, return_inverse=True)
    first = torch.full((uniq.shape[0],), h.shape[1], dtype=torch.long, device=h.device)
    first.scatter_reduce_(0, inverse, torch.arange(h.shape[1], device=h.device), "amin")
    return uniq, torch.sort(first).values


def hgnn_propagate(
    x: Tensor, h: Tensor, *, edge_weight: Tensor | None = None, norm: HypergraphNorm = "mean"
) -> Tensor:
    """``P X`` with the HGNN operator ``P`` of ``norm`` (see the module docstring).

    Args:
        x: Vertex features ``(V, C)``.
        h: Incidence ``(V, E)``; every vertex must lie in some hyperedge.
        edge_weight: ``w`` of shape ``(E,)`` (default ones).
        norm: ``"mean"`` or ``"sym"``.

    Shapes:
        x: ``(V, C)``, h: ``(V, E)`` -> ``(V, C)``.

    Examples:
        >>> h = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
        >>> hgnn_propagate(torch.tensor([[3.0], [1.0], [5.0]]), h).flatten().tolist()
        [2.0, 2.5, 3.0]
    """
    if norm not in NORMS:
        raise InputError(f"norm: expected one of {NORMS}; got {norm!r}")
    w = (
        torch.ones(h.shape[1], dtype=h.dtype, device=h.device)
        if edge_weight is None
        else edge_weight
    )
    de = h.sum(0).clamp_min(torch.finfo(h.dtype).tiny)
    dv = (h * w).sum(1)
    if bool((dv <= 0).any()):
        raise InputError("h: every vertex must belong to a hyperedge of positive weight")
    if norm == "mean":
        return (h * w / de) @ (h.T @ x) / dv[:, None]
    s = dv.rsqrt()[:, None]
    return s * ((h * w / de) @ (h.T @ (s * x)))


class HGNNConv(nn.Module):
    """One hypergraph convolution ``act(P X Θ + b)`` without dropout (``act`` identity by default).

    Shapes:
        forward: x ``(V, C_in)``, h ``(V, E)`` -> ``(V, C_out)``.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        *,
        norm: HypergraphNorm = "mean",
        bias: bool = True,
        act: Literal["none", "relu"] = "none",
    ) -> None:
        super().__init__()
        if norm not in NORMS:
            raise InputError(f"norm: expected one of {NORMS}; got {norm!r}")
        self.theta = nn.Linear(in_dim, out_dim, bias=bias)
        self.norm: HypergraphNorm = norm
        self.act = act

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        """Propagate then project.

        Shapes:
            x: ``(V, C_in)``, h: ``(V, E)`` -> ``(V, C_out)``.
        """
        y = self.theta(hgnn_propagate(x, h, norm=self.norm))
        return torch.relu(y) if self.act == "relu" else y
