r"""The scaled graph Laplacian :math:`\hat L = 2L/\lambda_{\max} - I`, built once and cached.

PyG semantics (``torch_geometric.utils.get_laplacian`` and ``ChebConv``): self-loops are removed,
degrees are summed over the source index ``d_i = \sum_{(i \to j)} w_{ij}``, and

* ``'sym'``: :math:`L = I - D^{-1/2} A D^{-1/2}`,
* ``'rw'``: :math:`L = I - D^{-1} A`,
* ``None``: :math:`L = D - A`,

with :math:`D^{-1/2} = D^{-1} = 0` on isolated nodes (a zero row of the normalised adjacency, never
NaN). Messages flow source to target, so the operator applied to node features is :math:`L^T`:
for ``'rw'`` on an undirected graph that is :math:`I - A D^{-1}` (PyG's choice, kept for parity).
"""

from __future__ import annotations

import typing
import warnings
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import torch
from torch import Tensor

from sciml_core import InputError

from ._graph import Edges, as_edges

if TYPE_CHECKING:
    from ._lambda_max import LambdaMaxEstimate

__all__ = [
    "BACKENDS",
    "NORMALIZATIONS",
    "NORMALIZATION_NAMES",
    "Backend",
    "Normalization",
    "NormalizationName",
    "ScaledLaplacian",
    "build_laplacian",
]

Normalization = Literal["sym", "rw"]
"""``'sym'``: I − D^{-1/2}AD^{-1/2}; ``'rw'``: I − D^{-1}A; ``None`` (not in the type): D − A."""
NORMALIZATIONS: tuple[Normalization | None, ...] = (*typing.get_args(Normalization), None)
NormalizationName = Literal["sym", "rw", "none"]
"""The normalisations as strings (``'none'`` for ``None``), as the command line spells them."""
NORMALIZATION_NAMES: tuple[NormalizationName, ...] = typing.get_args(NormalizationName)
Backend = Literal["auto", "csr", "scatter", "dense"]
"""How ``lap @ x`` is computed (see :meth:`ScaledLaplacian.from_graph`)."""
BACKENDS: tuple[Backend, ...] = typing.get_args(Backend)


def check_normalization(normalization: Any) -> Normalization | None:
    """``normalization`` validated (the string ``'none'`` stands for ``None``)."""
    if isinstance(normalization, str) and normalization.lower() == "none":
        return None
    if normalization not in NORMALIZATIONS:
        raise InputError(f"normalization: expected 'sym', 'rw' or None, got {normalization!r}")
    return normalization


class Laplacian(NamedTuple):
    """The unscaled Laplacian as applied to features.

    ``(L^T x)[t] = diag[t] x[t] + sum over edges e into t of val[e] x[src[e]]``.

    ``dst``/``src``/``val`` hold the off-diagonal entries (after self-loop removal and coalescing),
    ``sym_val`` the entries of the symmetric matrix with the same spectrum (the sym-normalised form
    for ``'rw'``), used by the eigenvalue estimators.
    """

    dst: Tensor
    src: Tensor
    val: Tensor  # float64
    diag: Tensor  # float64 [N]
    sym_val: Tensor  # float64
    weight: Tensor  # float64, the coalesced adjacency weight of each off-diagonal entry
    num_nodes: int
    batch: Tensor | None
    num_graphs: int
    symmetric: bool
    normalization: Normalization | None


_INT32_KEYS = 2**31 - 1
"""Sort keys ``src * n + dst`` are int32 while ``n * n`` stays below this (int32 sorts faster)."""
_RADIX_NODES = 2**16
"""Up to this many nodes, a CPU edge list is ordered by numpy's stable sort of uint16 node ids."""


def _keys(ei: Tensor, n: int, *, transposed: bool = False) -> Tensor:
    """Row-major keys ``src * n + dst`` of an edge list (``dst * n + src`` if ``transposed``).

    int32 where ``n * n`` fits (a sort of int32 keys takes about half the time of int64 keys at
    10⁴ nodes), int64 otherwise; only their order is used, so the width never shows.
    """
    e = ei.to(torch.int32) if n * n <= _INT32_KEYS else ei
    major, minor = (e[1], e[0]) if transposed else (e[0], e[1])
    return major * n + minor


def _strictly_increasing(key: Tensor) -> bool:
    return key.numel() < 2 or bool((key[1:] > key[:-1]).all())


def _radix(ei: Tensor, n: int) -> bool:
    """Whether :func:`_stable_order` sorts ``ei``'s node ids by numpy's radix sort."""
    return ei.device.type == "cpu" and n <= _RADIX_NODES


def _stable_order(ids: Tensor) -> Tensor:
    """Indices that sort node ids in ``[0, 2¹⁶)`` (a CPU tensor), ties in input order.

    numpy's stable sort of 16-bit integers is a radix sort, O(E): about ten times faster than
    ``torch.sort`` on the edge lists of the bench (8·10³ to 8·10⁴ entries).
    """
    return torch.from_numpy(np.argsort(ids.numpy().astype(np.uint16), kind="stable"))


def _row_major_order(ei: Tensor, n: int) -> Tensor:
    """A stable order of the edges by ``(src, dst)``."""
    if _radix(ei, n):  # least significant digit first: by dst, then (stably) by src
        by_dst = _stable_order(ei[1])
        return by_dst.index_select(0, _stable_order(ei[0].index_select(0, by_dst)))
    return torch.sort(_keys(ei, n), stable=True).indices


def _coalesce(ei: Tensor, w: Tensor, n: int) -> tuple[Tensor, Tensor, Tensor]:
    """Sum duplicate edges; the result is sorted by ``src * n + dst`` (row-major keys), returned
    with those keys.

    An edge list that is already strictly sorted (PyG's ``coalesce``/``to_undirected`` output,
    or a list this function returned) is returned as is, without a sort.
    """
    key = _keys(ei, n)
    if _strictly_increasing(key):
        return ei, w, key
    uniq, inv = torch.unique(key, return_inverse=True)
    out = torch.zeros(uniq.shape[0], dtype=w.dtype, device=w.device).index_add_(0, inv, w)
    u = uniq.long()
    return torch.stack([u // n, u % n]), out, uniq


def _is_symmetric(ei: Tensor, w: Tensor, n: int, *, uniform: bool = False) -> bool:
    """``ei, w`` coalesced (distinct edges sorted by ``(src, dst)``): True iff A equals its
    transpose (same edges, same weights to 1e-12). ``uniform``: every weight is 1.

    A stable order by ``dst`` lists the edges by ``(dst, src)``, i.e. their mirrors in the
    order of ``ei``: A = Aᵀ iff the edge at each place of that order is the mirror of the edge at
    the same place of ``ei``, with the same weight.
    """
    src, dst = ei[0], ei[1]
    if _radix(ei, n):
        by_dst = _stable_order(dst)
    else:
        by_dst = torch.sort(_keys(ei, n, transposed=True), stable=True).indices
    mirrors = ei.index_select(1, by_dst)
    if not (torch.equal(mirrors[1], src) and torch.equal(mirrors[0], dst)):
        return False
    return uniform or _same_weights(w, w.index_select(0, by_dst))


def _same_weights(w: Tensor, wt: Tensor) -> bool:
    return torch.equal(w, wt) or bool(torch.allclose(w, wt, rtol=1e-12, atol=0.0))


def _coalesce_checked(
    ei: Tensor, w: Tensor, n: int, *, uniform: bool
) -> tuple[Tensor, Tensor, bool, bool]:
    """The coalesced edge list (sorted by ``(src, dst)``, duplicates summed), its weights,
    whether the adjacency is symmetric (exactly: same edges, same weights to 1e-12) and whether
    every weight is still 1 (``uniform`` in, and no duplicate was summed).

    Without duplicates (the usual case) the edges are permuted, not summed: the same sorted list
    and weights as :func:`_coalesce` gives, without ``torch.unique``. On the CPU with up to 2¹⁶
    nodes every sort is numpy's radix sort of 16-bit node ids (two passes to coalesce, skipped
    when the list is sorted already, one for the symmetry check), else ``torch.sort`` of keys.
    """
    key = _keys(ei, n)
    if not _strictly_increasing(key):
        order = _row_major_order(ei, n)
        if not _strictly_increasing(key.index_select(0, order)):  # duplicates: sum them
            ei, w, _ = _coalesce(ei, w, n)
            return ei, w, _is_symmetric(ei, w, n), False
        ei = ei.index_select(1, order)
        w = w if uniform else w.index_select(0, order)
    return ei, w, _is_symmetric(ei, w, n, uniform=uniform), uniform


def build_laplacian(
    edges: Edges, normalization: Normalization | None, *, symmetrize: bool | None = None
) -> Laplacian:
    """Unscaled Laplacian entries in float64 from a validated edge list (self-loops removed)."""
    n = edges.num_nodes
    ei = edges.edge_index
    uniform = edges.edge_weight is None  # every weight 1: degrees by counting, no products by w
    w = (
        torch.ones(ei.shape[1], dtype=torch.float64, device=ei.device)
        if edges.edge_weight is None
        else edges.edge_weight.detach().to(torch.float64)
    )
    loops = ei[0] == ei[1]
    num_loops = int(loops.sum())
    if num_loops:
        warnings.warn(
            f"graph: removed {num_loops} self-loop(s); the Laplacian is defined without them",
            UserWarning,
            stacklevel=4,
        )
        ei, w = ei[:, ~loops], w[~loops]
    ei, w, symmetric, uniform = _coalesce_checked(ei, w, n, uniform=uniform)
    if not symmetric:
        if symmetrize is None:
            raise InputError(
                "graph: the graph is directed (A != A^T); pass symmetrize=True (A := max(A, A^T)) "
                "or symmetrize=False for PyG's directed operator (no stability guarantee)"
            )
        if symmetrize:
            both = torch.cat([ei, ei.flip(0)], dim=1)
            ww = torch.cat([w, w])
            key = both[0] * n + both[1]
            uniq, inv = torch.unique(key, return_inverse=True)
            w = torch.zeros(uniq.shape[0], dtype=w.dtype, device=w.device).scatter_reduce_(
                0, inv, ww, reduce="amax", include_self=False
            )
            ei = torch.stack([uniq // n, uniq % n])
            symmetric = True
    src, dst = ei[0], ei[1]
    if uniform:  # a sum of ones is exact in any order: the same float64 degrees as index_add_
        deg = torch.bincount(src, minlength=n).to(torch.float64)
    else:
        deg = torch.zeros(n, dtype=torch.float64, device=ei.device).index_add_(0, src, w)
    if normalization is None:
        val = -w
        diag = deg
        sym_val = val
    else:
        dinv_sqrt = torch.where(deg > 0, deg.clamp_min(1e-300).rsqrt(), torch.zeros_like(deg))
        # with w = 1 the product by w is exact, so it is left out
        left = -dinv_sqrt.index_select(0, src)
        sym_val = (left if uniform else left * w) * dinv_sqrt.index_select(0, dst)
        if normalization == "sym":
            val = sym_val
        else:
            dinv = torch.where(deg > 0, 1.0 / deg.clamp_min(1e-300), torch.zeros_like(deg))
            val = -dinv.index_select(0, src) if uniform else -w * dinv.index_select(0, src)
        diag = torch.ones(n, dtype=torch.float64, device=ei.device)
    return Laplacian(
        dst, src, val, diag, sym_val, w, n, edges.batch, edges.num_graphs, symmetric, normalization
    )


def _csr(rows: Tensor, cols: Tensor, vals: Tensor, n: int) -> Tensor:
    order = torch.argsort(rows * n + cols)
    rows, cols, vals = rows[order], cols[order], vals[order]
    return _csr_sorted(rows, cols, vals, n)


def _csr_sorted(rows: Tensor, cols: Tensor, vals: Tensor, n: int) -> Tensor:
    """CSR from entries already sorted by ``rows * n + cols``."""
    crow = torch.zeros(n + 1, dtype=torch.long, device=rows.device)
    crow[1:] = torch.cumsum(torch.bincount(rows, minlength=n), 0)
    return _csr_tensor(crow, cols, vals, n)


_CSR_WARNINGS_SEEN = False
"""Whether a CSR tensor was made under the filter below (torch warns once per process)."""


def _csr_tensor(crow: Tensor, cols: Tensor, vals: Tensor, n: int) -> Tensor:
    global _CSR_WARNINGS_SEEN
    if _CSR_WARNINGS_SEEN:  # the filter costs more than the constructor on small graphs
        return torch.sparse_csr_tensor(crow, cols, vals, (n, n), check_invariants=False)
    with warnings.catch_warnings():
        # torch flags the (stable, long-standing) CSR layout as "beta" once per process
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        # some torch releases (2.11 seen) also warn that the skipped invariant check is off: the
        # indices were built and sorted by the caller, so the check is skipped on purpose
        warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")
        out = torch.sparse_csr_tensor(crow, cols, vals, (n, n), check_invariants=False)
    _CSR_WARNINGS_SEEN = True
    return out


def _csr_with_diagonal(
    rows: Tensor, cols: Tensor, vals: Tensor, diag: Tensor, n: int
) -> Tensor | None:
    """CSR of the off-diagonal entries (sorted by ``rows * n + cols``, none on the diagonal) plus
    the diagonal, merged in O(E) by counting instead of a sort; ``None`` if they are not sorted.

    Entry ``e`` moves past the diagonal entries of the rows before it and past its own row's
    when it lies right of the diagonal; diagonal ``i`` sits after row ``i``'s left entries.
    Row ``i`` of the result ends ``i + 1`` places after row ``i`` of the off-diagonal entries.
    """
    if not _strictly_increasing(rows * n + cols):
        return None
    e = rows.numel()
    right = (cols > rows).long()
    counts = torch.bincount(rows, minlength=n)
    n_right = torch.zeros(n, dtype=torch.long, device=rows.device).index_add_(0, rows, right)
    ar = torch.arange(n + 1, device=rows.device)
    ends = torch.cumsum(counts, 0)  # end of row i among the off-diagonal entries
    pos_edge = torch.arange(e, device=rows.device).add_(rows).add_(right)
    pos_diag = ends - n_right + ar[:-1]
    # every position is written once (edges and diagonal fill 0 .. e + n - 1 between them)
    out_cols = torch.empty(e + n, dtype=cols.dtype, device=cols.device)
    out_cols.scatter_(0, pos_edge, cols).scatter_(0, pos_diag, ar[:-1])
    out_vals = torch.empty(e + n, dtype=vals.dtype, device=vals.device)
    out_vals.scatter_(0, pos_edge, vals).scatter_(0, pos_diag, diag)
    crow = torch.cat([ar[:1], ends + ar[1:]])
    return _csr_tensor(crow, out_cols, out_vals, n)


class _SpMM(torch.autograd.Function):
    """``S @ x`` (or ``S^T @ x``) for a cached sparse ``S``; the backward is the other one.

    Written as a function of itself so that it is differentiable any number of times (the
    Jacobian-vector products of :func:`sensitivity` need the double backward).
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, lap: ScaledLaplacian, transpose: bool) -> Tensor:
        """``L̂ x`` (or ``L̂ᵀ x``).

        Shapes:
            x: ``[N, F]`` -> ``[N, F]``.
        """
        ctx.lap, ctx.transpose = lap, transpose
        return lap._apply(x, transpose=transpose)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor, None, None]:
        return _SpMM.apply(g.contiguous(), ctx.lap, not ctx.transpose), None, None


class ScaledLaplacian:
    r"""A graph's (or a batch's) scaled Laplacian :math:`\hat L = 2L/\lambda_{\max} - I`, cached.

    Build it once with :meth:`from_graph` and reuse it across layers, steps and epochs. ``lap @ x``
    applies :math:`\hat L^T` in PyG's source-to-target convention (equal to :math:`\hat L` for
    ``'sym'`` and ``None`` on undirected graphs).

    For every graph ``g`` of a batch, :math:`\hat L` uses that graph's own ``lambda_max[g]``;
    ``spec(L̂) ⊆ [-1, 1]`` holds iff ``lambda_max[g]`` is at least the true largest eigenvalue, which
    the default (a certified analytic bound, see :func:`lambda_max_bound`) guarantees.

    Shapes:
        ``lap @ x``: ``x`` ``[N, F]`` -> ``[N, F]``; ``[B, N, F]`` (B signals on one graph) ->
        ``[B, N, F]``; ``[N]`` -> ``[N]``.

    Examples:
        >>> ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> lap = ScaledLaplacian.from_graph((ei, None, 3))
        >>> lap.lambda_max.tolist(), lap.certified.tolist()
        ([2.0], [True])
        >>> (lap @ torch.ones(3, 1)).squeeze(1)   # -D^{-1/2} A D^{-1/2} 1 at lambda_max = 2
        tensor([-0.7071, -1.4142, -0.7071])
    """

    def __init__(
        self,
        lap: Laplacian,
        estimate: LambdaMaxEstimate,
        *,
        backend: Backend,
        dtype: torch.dtype,
        device: torch.device,
    ) -> None:
        self.laplacian = lap
        self.estimate = estimate
        self.normalization = lap.normalization
        self.num_nodes = lap.num_nodes
        self.num_graphs = lap.num_graphs
        self.batch = lap.batch
        self.symmetric = lap.symmetric and lap.normalization != "rw"
        self.dtype = dtype
        self.device = device
        self.backend = backend
        # the estimate may live on another device than the Laplacian's indices (edges moved to
        # CUDA, bound computed on the CPU): index on the indices' device
        lam = estimate.upper.to(device=lap.src.device, dtype=torch.float64)
        # [N] for a batch; one graph: the same value for every node, broadcast (same products)
        scale = 2.0 / (lam[lap.batch] if lap.batch is not None else lam)
        self._dst = lap.dst.to(device)
        self._src = lap.src.to(device)
        edge_scale = scale[lap.src] if lap.batch is not None else scale
        self._val = (lap.val * edge_scale).to(device=device, dtype=dtype)
        self._diag = (lap.diag * scale - 1.0).to(device=device, dtype=dtype)
        self._csr: Tensor | None = None
        self._csr_t: Tensor | None = None
        self._dense: Tensor | None = None
        self._converted: dict[tuple[torch.device, torch.dtype], ScaledLaplacian] = {}
        self._transposed = False

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_graph(
        cls,
        graph: Any,
        *,
        normalization: Normalization | None = "sym",
        lambda_max: Any = None,
        batch: Tensor | None = None,
        edge_weight: Tensor | None = None,
        num_nodes: int | None = None,
        symmetrize: bool | None = None,
        backend: Backend = "auto",
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> ScaledLaplacian:
        """Build the scaled Laplacian of ``graph`` (any form :func:`as_edges` accepts).

        Args:
            graph: the graph or batch of graphs.
            normalization: ``'sym'``, ``'rw'`` or ``None`` (see the module docstring).
            lambda_max: ``None`` (the certified analytic bound: 2 for ``'sym'``/``'rw'``,
                2·max weighted degree per graph for ``None``), a float, a ``Tensor[num_graphs]``,
                or a method name of :func:`lambda_max_bound` (``'analytic'``, ``'exact'``,
                ``'lanczos'``, ``'power'``). An explicit value below a Rayleigh-quotient lower
                bound of the true
                largest eigenvalue raises.
            batch: graph id per node (overrides the graph's own ``batch``).
            edge_weight: edge weights (override the graph's own).
            num_nodes: node count (overrides the graph's own).
            symmetrize: for directed input: ``None`` raises, ``True`` uses ``max(A, A^T)``,
                ``False`` keeps PyG's directed operator (no spectral guarantee).
            backend: ``'csr'`` (sparse CSR matmul, the default), ``'scatter'``
                (``index_add_``), ``'dense'`` (N ≤ 4096), or ``'auto'`` (``'csr'``).
            dtype: floating dtype of the operator (default float32).
            device: device of the operator (default: the edge index's).

        Returns:
            The cached operator.
        """
        from ._lambda_max import resolve_lambda_max

        normalization = check_normalization(normalization)
        if backend not in BACKENDS:
            raise InputError(f"backend: expected one of {BACKENDS}, got {backend!r}")
        edges = as_edges(graph, edge_weight=edge_weight, num_nodes=num_nodes, batch=batch)
        lap = build_laplacian(edges, normalization, symmetrize=symmetrize)
        estimate = resolve_lambda_max(lap, lambda_max)
        if backend == "auto":
            backend = "csr"
        if backend == "dense" and lap.num_nodes > 4096:
            raise InputError(f"backend: 'dense' needs num_nodes <= 4096, got {lap.num_nodes}")
        dtype = torch.float32 if dtype is None else dtype
        if not dtype.is_floating_point:
            raise InputError(f"dtype: expected a floating dtype, got {dtype}")
        dev = edges.edge_index.device if device is None else torch.device(device)
        return cls(lap, estimate, backend=backend, dtype=dtype, device=dev)

    # ------------------------------------------------------------------ properties
    @property
    def lambda_max(self) -> Tensor:
        """The ``lambda_max`` used per graph (``Tensor[num_graphs]``, float64)."""
        return self.estimate.upper

    @property
    def certified(self) -> Tensor:
        """Per graph: whether ``lambda_max`` is proven to be >= the true largest eigenvalue."""
        return self.estimate.certified

    @property
    def ptr(self) -> Tensor:
        """Node offsets of the graphs, ``[num_graphs + 1]`` (nodes sorted by graph id)."""
        if self.batch is None:
            return torch.tensor([0, self.num_nodes])
        counts = torch.bincount(self.batch.cpu(), minlength=self.num_graphs)
        return torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(counts, 0)])

    @property
    def T(self) -> ScaledLaplacian:
        """The transposed operator (the same object when it is symmetric)."""
        if self.symmetric:
            return self
        other = object.__new__(ScaledLaplacian)
        other.__dict__.update(self.__dict__)
        other._dst, other._src = self._src, self._dst
        other._csr, other._csr_t = self._csr_t, self._csr
        other._dense = None if self._dense is None else self._dense.t()
        other._converted = {}
        other._transposed = not self._transposed
        return other

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> ScaledLaplacian:
        """A copy on another device and/or floating dtype (the float64 entries are kept)."""
        dev = self.device if device is None else torch.device(device)
        dt = self.dtype if dtype is None else dtype
        if dev == self.device and dt == self.dtype:
            return self
        if (dev, dt) in self._converted:
            return self._converted[(dev, dt)]
        other = ScaledLaplacian(
            self.laplacian._replace(
                dst=self.laplacian.dst.to(dev),
                src=self.laplacian.src.to(dev),
                val=self.laplacian.val.to(dev),
                weight=self.laplacian.weight.to(dev),
                sym_val=self.laplacian.sym_val.to(dev),
                diag=self.laplacian.diag.to(dev),
                batch=None if self.batch is None else self.batch.to(dev),
            ),
            self.estimate,
            backend=self.backend,
            dtype=dt,
            device=dev,
        )
        if self._transposed:
            other = other.T
        self._converted[(dev, dt)] = other
        return other

    def to_dense(self) -> Tensor:
        """The dense matrix ``M`` with ``lap @ x == M @ x``, ``[N, N]``."""
        n = self.num_nodes
        m = torch.zeros(n, n, dtype=self.dtype, device=self.device)
        m.index_put_((self._dst, self._src), self._val, accumulate=True)
        m.diagonal().add_(self._diag)
        return m

    def __repr__(self) -> str:
        return (
            f"ScaledLaplacian(num_nodes={self.num_nodes}, num_graphs={self.num_graphs}, "
            f"nnz={int(self._val.shape[0])}, normalization={self.normalization!r}, "
            f"backend={self.backend!r}, dtype={self.dtype})"
        )

    # ------------------------------------------------------------------ application
    def _apply(self, x2: Tensor, *, transpose: bool) -> Tensor:
        """Raw ``S @ x2`` (or ``S^T @ x2``) on a 2-D ``[N, C]`` tensor, no autograd bookkeeping."""
        if self.backend == "csr":
            if transpose and self.symmetric:
                transpose = False
            if transpose:
                if self._csr_t is None:
                    self._csr_t = self._build_csr(transpose=True)
                mat = self._csr_t
            else:
                if self._csr is None:
                    self._csr = self._build_csr(transpose=False)
                mat = self._csr
            return torch.sparse.mm(mat, x2)
        if self.backend == "dense":
            if self._dense is None:
                self._dense = self.to_dense()
            return (self._dense.t() if transpose else self._dense) @ x2
        dst, src = (self._src, self._dst) if transpose else (self._dst, self._src)
        out = self._diag.unsqueeze(1) * x2
        return out.index_add(0, dst, self._val.unsqueeze(1) * x2.index_select(0, src))

    def _build_csr(self, *, transpose: bool) -> Tensor:
        n = self.num_nodes
        if self.symmetric:
            # L̂ = L̂^T: the matrix with rows ``src`` is the same, and the coalesced entries are
            # sorted by (src, dst) already, so the diagonal is merged in without a sort
            fast = _csr_with_diagonal(self._src, self._dst, self._val, self._diag, n)
            if fast is not None:
                return fast
        ar = torch.arange(n, device=self.device)
        rows = torch.cat([self._src if transpose else self._dst, ar])
        cols = torch.cat([self._dst if transpose else self._src, ar])
        return _csr(rows, cols, torch.cat([self._val, self._diag]), n)

    def matmul(self, x: Tensor) -> Tensor:
        """``L̂ x`` (differentiable in ``x``); see the class docstring for shapes."""
        if not isinstance(x, Tensor):
            raise InputError(f"x: expected a torch.Tensor, got {type(x).__name__}")
        if x.dim() not in (1, 2, 3) or x.shape[-2 if x.dim() > 1 else 0] != self.num_nodes:
            raise InputError(
                f"x: expected [N], [N, F] or [B, N, F] with N = {self.num_nodes}, "
                f"got {tuple(x.shape)}"
            )
        if x.dtype != self.dtype or x.device != self.device:
            raise InputError(
                f"x: dtype/device {x.dtype}/{x.device} differ from the Laplacian's "
                f"{self.dtype}/{self.device}; use lap.to(device, dtype)"
            )
        if x.dim() == 1:
            return self.matmul(x.unsqueeze(1)).squeeze(1)
        if x.dim() == 3:
            b, n, f = x.shape
            y = self.matmul(x.permute(1, 0, 2).reshape(n, b * f))
            return y.reshape(n, b, f).permute(1, 0, 2)
        x = x.contiguous()
        if self.backend == "scatter" or not (x.requires_grad and torch.is_grad_enabled()):
            return self._apply(x, transpose=False)
        return _SpMM.apply(x, self, False)

    __matmul__ = matmul
