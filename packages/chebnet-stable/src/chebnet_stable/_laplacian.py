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


def _coalesce(ei: Tensor, w: Tensor, n: int) -> tuple[Tensor, Tensor, Tensor]:
    """Sum duplicate edges; the result is sorted by ``src * n + dst`` (row-major keys), returned
    with those keys.

    An edge list that is already strictly sorted (PyG's ``coalesce``/``to_undirected`` output,
    or a list this function returned) is returned as is, without a sort.
    """
    key = ei[0] * n + ei[1]
    if key.numel() < 2 or bool((key[1:] > key[:-1]).all()):
        return ei, w, key
    uniq, inv = torch.unique(key, return_inverse=True)
    out = torch.zeros(uniq.shape[0], dtype=w.dtype, device=w.device).index_add_(0, inv, w)
    return torch.stack([uniq // n, uniq % n]), out, uniq


def _is_symmetric(ei: Tensor, w: Tensor, n: int, key: Tensor | None = None) -> bool:
    """``ei, w`` coalesced (``key = src * n + dst``, sorted): True iff A equals its transpose
    (same edges, same weights to 1e-12)."""
    key = ei[0] * n + ei[1] if key is None else key
    tkey = ei[1] * n + ei[0]
    order_t = torch.argsort(tkey)
    if not torch.equal(key, tkey[order_t]):
        return False
    wt = w[order_t]
    return torch.equal(w, wt) or bool(torch.allclose(w, wt, rtol=1e-12, atol=0.0))


def build_laplacian(
    edges: Edges, normalization: Normalization | None, *, symmetrize: bool | None = None
) -> Laplacian:
    """Unscaled Laplacian entries in float64 from a validated edge list (self-loops removed)."""
    n = edges.num_nodes
    ei = edges.edge_index
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
    ei, w, key = _coalesce(ei, w, n)
    symmetric = _is_symmetric(ei, w, n, key)
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
    deg = torch.zeros(n, dtype=torch.float64, device=ei.device).index_add_(0, src, w)
    if normalization is None:
        val = -w
        diag = deg
        sym_val = val
    else:
        dinv_sqrt = torch.where(deg > 0, deg.clamp_min(1e-300).rsqrt(), torch.zeros_like(deg))
        sym_val = -dinv_sqrt[src] * w * dinv_sqrt[dst]
        if normalization == "sym":
            val = sym_val
        else:
            dinv = torch.where(deg > 0, 1.0 / deg.clamp_min(1e-300), torch.zeros_like(deg))
            val = -w * dinv[src]
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
    with warnings.catch_warnings():
        # torch flags the (stable, long-standing) CSR layout as "beta" once per process
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        # some torch releases (2.11 seen) also warn that the skipped invariant check is off: the
        # indices were built and sorted just above, so the check is skipped on purpose
        warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")
        return torch.sparse_csr_tensor(crow, cols, vals, (n, n), check_invariants=False)


def _csr_with_diagonal(
    rows: Tensor, cols: Tensor, vals: Tensor, diag: Tensor, n: int
) -> Tensor | None:
    """CSR of the off-diagonal entries (sorted by ``rows * n + cols``, none on the diagonal) plus
    the diagonal, merged in O(E) by counting instead of a sort; ``None`` if they are not sorted.

    Entry ``e`` moves past the diagonal entries of the rows before it and past its own row's
    when it lies right of the diagonal; diagonal ``i`` sits after row ``i``'s left entries.
    """
    key = rows * n + cols
    if key.numel() > 1 and not bool((key[1:] > key[:-1]).all()):
        return None
    right = cols > rows
    pos_edge = torch.arange(key.numel(), device=rows.device) + rows + right.long()
    counts = torch.bincount(rows, minlength=n)
    left = torch.bincount(rows[~right], minlength=n)
    ar = torch.arange(n, device=rows.device)
    pos_diag = torch.cumsum(counts, 0) - counts + left + ar
    total = key.numel() + n
    out_rows = torch.empty(total, dtype=rows.dtype, device=rows.device)
    out_cols = torch.empty(total, dtype=cols.dtype, device=cols.device)
    out_vals = torch.empty(total, dtype=vals.dtype, device=vals.device)
    out_rows[pos_edge], out_cols[pos_edge], out_vals[pos_edge] = rows, cols, vals
    out_rows[pos_diag], out_cols[pos_diag], out_vals[pos_diag] = ar, ar, diag
    return _csr_sorted(out_rows, out_cols, out_vals, n)


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
        node_lam = lam[lap.batch] if lap.batch is not None else lam.expand(lap.num_nodes)
        scale = 2.0 / node_lam  # [N]
        self._dst = lap.dst.to(device)
        self._src = lap.src.to(device)
        self._val = (lap.val * scale[lap.src]).to(device=device, dtype=dtype)
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
