"""Graphs as tensors: the :class:`GraphData` container, batching, and input normalisation.

Every function of the package that takes a graph accepts any of the forms listed in
:func:`as_edges` and turns it into one validated edge list here, so the checks (indices in range,
finite non-negative weights, batch vectors that match) live in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from sciml_core import InputError

__all__ = ["Edges", "GraphData", "as_edges", "collate"]


@dataclass(frozen=True)
class GraphData:
    """One graph (or a block-diagonal batch of graphs) as tensors.

    Edges point from ``edge_index[0]`` (source) to ``edge_index[1]`` (target), as in PyG. An
    undirected graph stores both directions.

    Args:
        x: node features.
        edge_index: edge list, integer.
        edge_weight: non-negative edge weights (``None``: all ones).
        y: node targets ``[N, ...]`` or graph targets ``[1, ...]`` (``[B, ...]`` for a batch).
        mask: boolean node mask (for example the nodes a loss is read at).
        batch: graph id of every node (``None``: one graph).
        num_nodes: number of nodes (``None``: ``x.shape[0]``, else ``edge_index.max() + 1``).

    Shapes:
        x: ``[N, F]``; edge_index: ``[2, E]``; edge_weight: ``[E]``; batch: ``[N]``.

    Examples:
        >>> g = GraphData(torch.ones(3, 1), torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]))
        >>> g.num_nodes, g.num_edges, g.num_graphs
        (3, 4, 1)
    """

    x: Tensor | None
    edge_index: Tensor
    edge_weight: Tensor | None = None
    y: Tensor | None = None
    mask: Tensor | None = None
    batch: Tensor | None = None
    num_nodes: int | None = field(default=None)

    def __post_init__(self) -> None:
        n = self.num_nodes
        if n is None:
            if self.x is not None:
                n = int(self.x.shape[0])
            elif self.edge_index.numel() > 0:
                n = int(self.edge_index.max()) + 1
            else:
                raise InputError(
                    "GraphData: num_nodes is needed when x is None and there are no edges"
                )
        object.__setattr__(self, "num_nodes", int(n))

    @property
    def num_edges(self) -> int:
        """Number of stored (directed) edges."""
        return int(self.edge_index.shape[1])

    @property
    def num_graphs(self) -> int:
        """Number of graphs in the batch (1 without a batch vector)."""
        if self.batch is None or self.batch.numel() == 0:
            return 1
        return int(self.batch.max()) + 1

    def to(self, device: torch.device | str | None = None) -> GraphData:
        """Move every tensor to ``device``."""

        def mv(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.to(device)

        return GraphData(
            mv(self.x),
            self.edge_index.to(device),
            mv(self.edge_weight),
            mv(self.y),
            mv(self.mask),
            mv(self.batch),
            self.num_nodes,
        )


def collate(graphs: Sequence[GraphData]) -> GraphData:
    """Stack graphs into one block-diagonal :class:`GraphData` with a ``batch`` vector.

    Node tensors (``x``, node-level ``y``, ``mask``) are concatenated along dimension 0, edge
    indices are offset by the running node count, and graph-level targets (``y`` of leading size 1
    in every graph whose node count is not 1) are concatenated into ``[B, ...]``.

    Args:
        graphs: one or more graphs, none of them batched already.

    Returns:
        The batch; ``batch[i]`` is the index of node ``i``'s graph.

    Examples:
        >>> a = GraphData(torch.zeros(2, 1), torch.tensor([[0, 1], [1, 0]]))
        >>> b = collate([a, a])
        >>> b.edge_index.tolist(), b.batch.tolist()
        ([[0, 1, 2, 3], [1, 0, 3, 2]], [0, 0, 1, 1])
    """
    if len(graphs) == 0:
        raise InputError("collate: graphs must hold at least one graph, got an empty sequence")
    offsets, batches, eis, ews = 0, [], [], []
    any_weight = any(g.edge_weight is not None for g in graphs)
    for i, g in enumerate(graphs):
        if g.batch is not None and g.num_graphs > 1:
            raise InputError(f"collate: graphs[{i}] is already a batch of {g.num_graphs} graphs")
        n = int(g.num_nodes or 0)
        eis.append(g.edge_index + offsets)
        if any_weight:
            w = g.edge_weight
            ews.append(torch.ones(g.num_edges) if w is None else w)
        batches.append(torch.full((n,), i, dtype=torch.long, device=g.edge_index.device))
        offsets += n

    def cat(name: str) -> Tensor | None:
        vals = [getattr(g, name) for g in graphs]
        if all(v is None for v in vals):
            return None
        if any(v is None for v in vals):
            raise InputError(f"collate: {name} is set on some graphs and None on others")
        return torch.cat(vals, dim=0)

    return GraphData(
        cat("x"),
        torch.cat(eis, dim=1),
        torch.cat(ews) if any_weight else None,
        cat("y"),
        cat("mask"),
        torch.cat(batches),
        offsets,
    )


class Edges(NamedTuple):
    """A validated edge list: the one internal form every graph input is turned into."""

    edge_index: Tensor  # [2, E] long
    edge_weight: Tensor | None  # [E] float, finite, >= 0
    num_nodes: int
    batch: Tensor | None  # [N] long, or None for one graph
    num_graphs: int


def _is_int(t: Tensor) -> bool:
    return not (t.is_floating_point() or t.is_complex() or t.dtype == torch.bool)


def _from_dense_or_sparse_adjacency(adj: Tensor) -> tuple[Tensor, Tensor, int]:
    if adj.dim() != 2 or adj.shape[0] != adj.shape[1]:
        raise InputError(
            f"graph: an adjacency matrix must be square [N, N], got {tuple(adj.shape)}"
        )
    n = int(adj.shape[0])
    if adj.layout != torch.strided:
        coo = adj.to_sparse_coo().coalesce()
        return coo.indices(), coo.values(), n
    idx = adj.nonzero().t()
    return idx, adj[idx[0], idx[1]], n


def as_edges(
    graph: Any,
    *,
    edge_weight: Tensor | None = None,
    num_nodes: int | None = None,
    batch: Tensor | None = None,
) -> Edges:
    """Turn any supported graph form into a validated :class:`Edges`.

    Accepted ``graph`` forms:

    * an integer ``edge_index`` ``[2, E]`` (torch or numpy), with ``num_nodes`` or the node count
      taken as ``edge_index.max() + 1`` (an integer ``[2, 2]`` tensor is an edge index; pass a
      2-node adjacency as floating point);
    * a tuple ``(edge_index, edge_weight_or_None[, num_nodes])``;
    * a square adjacency matrix ``A[source, target]``: dense or sparse torch, numpy, scipy sparse;
    * a ``networkx`` graph (node order ``list(graph.nodes)``, weights from ``weight``);
    * any object with ``edge_index`` and optional ``edge_weight`` (or 1-D ``edge_attr``),
      ``num_nodes`` and ``batch`` attributes (:class:`GraphData`, PyG ``Data``/``Batch``).

    Keyword arguments override what the graph object carries.

    Raises:
        InputError: naming the argument for an empty graph, indices out of range or negative,
            non-integer indices, weights of the wrong length or negative/NaN/inf, a batch vector
            of the wrong length or with edges between different graphs.
    """
    ei: Any
    w: Any = None
    n: Any = None
    b: Any = None
    if isinstance(graph, tuple | list):
        if not 1 <= len(graph) <= 3:
            raise InputError(
                "graph: a tuple must be (edge_index, edge_weight[, num_nodes]), "
                f"got {len(graph)} items"
            )
        ei = graph[0]
        w = graph[1] if len(graph) > 1 else None
        n = graph[2] if len(graph) > 2 else None
    elif hasattr(graph, "edge_index"):
        ei = graph.edge_index
        w = getattr(graph, "edge_weight", None)
        if w is None:
            attr = getattr(graph, "edge_attr", None)
            if isinstance(attr, Tensor) and (
                attr.dim() == 1 or (attr.dim() == 2 and attr.shape[1] == 1)
            ):
                w = attr.reshape(-1)
        n = getattr(graph, "num_nodes", None)
        b = getattr(graph, "batch", None)
    elif hasattr(graph, "is_directed") and hasattr(graph, "adj"):  # networkx
        import networkx as nx

        mat = nx.to_scipy_sparse_array(graph, weight="weight", format="coo")
        ei = np.vstack([mat.row, mat.col]).astype(np.int64)
        w = np.asarray(mat.data, dtype=np.float64)
        n = mat.shape[0]
    elif hasattr(graph, "tocoo") and hasattr(graph, "shape"):  # scipy sparse
        if len(graph.shape) != 2 or graph.shape[0] != graph.shape[1]:
            raise InputError(f"graph: an adjacency matrix must be square, got shape {graph.shape}")
        coo = graph.tocoo()
        ei = np.vstack([coo.row, coo.col]).astype(np.int64)
        w = np.asarray(coo.data, dtype=np.float64)
        n = graph.shape[0]
    elif isinstance(graph, np.ndarray | Tensor):
        t = torch.as_tensor(graph)
        if _is_int(t) and t.dim() == 2 and t.shape[0] == 2:
            ei = t
        elif t.dim() == 2 and t.shape[0] == t.shape[1]:
            ei, w, n = _from_dense_or_sparse_adjacency(t if t.is_floating_point() else t.double())
        else:
            raise InputError(
                "graph: expected an integer edge_index [2, E] or a square adjacency [N, N], "
                f"got a {t.dtype} tensor of shape {tuple(t.shape)}"
            )
    else:
        raise InputError(
            "graph: expected an edge_index, (edge_index, edge_weight, num_nodes), an adjacency "
            "matrix, a networkx graph or an object with .edge_index, "
            f"got {type(graph).__name__}"
        )
    if edge_weight is not None:
        w = edge_weight
    if num_nodes is not None:
        n = num_nodes
    if batch is not None:
        b = batch
    return _validate(ei, w, n, b)


def _validate(ei: Any, w: Any, n: Any, b: Any) -> Edges:
    ei = torch.as_tensor(ei)
    if not _is_int(ei):
        raise InputError(f"edge_index: expected an integer tensor, got dtype {ei.dtype}")
    if ei.dim() != 2 or ei.shape[0] != 2:
        raise InputError(f"edge_index: expected shape [2, E], got {tuple(ei.shape)}")
    ei = ei.long()
    e = int(ei.shape[1])
    if e > 0 and int(ei.min()) < 0:
        raise InputError(f"edge_index: indices must be >= 0, got min {int(ei.min())}")
    if n is None:
        if e == 0:
            raise InputError("num_nodes: a graph without edges needs num_nodes, got None")
        n = int(ei.max()) + 1
    n = int(n)
    if n < 1:
        raise InputError(f"num_nodes: the graph is empty, expected at least 1 node, got {n}")
    if e > 0 and int(ei.max()) >= n:
        raise InputError(f"edge_index: indices must be < num_nodes = {n}, got max {int(ei.max())}")
    if w is not None:
        if isinstance(w, Tensor) and w.requires_grad and torch.is_grad_enabled():
            raise InputError(
                "edge_weight: gradients with respect to edge weights are not supported in 0.1.0 "
                "(the Laplacian treats weights as data); pass edge_weight.detach()"
            )
        w = torch.as_tensor(w, device=ei.device)
        if not w.is_floating_point():
            w = w.double()
        if w.dim() != 1 or w.shape[0] != e:
            raise InputError(
                f"edge_weight: expected shape [{e}] (one per edge), got {tuple(w.shape)}"
            )
        if e > 0:
            if not bool(torch.isfinite(w).all()):
                raise InputError("edge_weight: expected finite weights, got NaN or inf")
            if float(w.min()) < 0:
                raise InputError(f"edge_weight: expected weights >= 0, got min {float(w.min())}")
    num_graphs = 1
    if b is not None:
        b = torch.as_tensor(b, device=ei.device)
        if not _is_int(b) or b.dim() != 1 or b.shape[0] != n:
            raise InputError(
                f"batch: expected an integer vector of length num_nodes = {n}, "
                f"got {b.dtype} of shape {tuple(b.shape)}"
            )
        b = b.long()
        if int(b.min()) < 0:
            raise InputError(f"batch: graph ids must be >= 0, got min {int(b.min())}")
        num_graphs = int(b.max()) + 1
        if e > 0 and bool((b[ei[0]] != b[ei[1]]).any()):
            bad = int((b[ei[0]] != b[ei[1]]).sum())
            raise InputError(f"batch: {bad} edges join nodes of different graphs")
        if num_graphs == 1:
            b = None
    return Edges(ei, w, n, b, num_graphs)
