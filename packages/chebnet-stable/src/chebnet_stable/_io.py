"""Loaders for graphs on disk: edge lists, GraphML/GML, our ``.npz``, OGB-style ``.npz``, PyG
``.pt``."""

from __future__ import annotations

import os
import typing
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from sciml_core import InputError, require_extra

from ._graph import GraphData

__all__ = ["FORMATS", "GraphFormat", "load_graphs", "save_npz"]

GraphFormat = Literal["edgelist", "graphml", "gml", "pyg", "ogb", "npz"]
"""Graph file formats :func:`load_graphs` reads (``'ogb'`` and ``'npz'`` read the same ``.npz``)."""
FORMATS: tuple[GraphFormat, ...] = typing.get_args(GraphFormat)
_SUFFIX: dict[str, GraphFormat] = {
    ".txt": "edgelist",
    ".edges": "edgelist",
    ".edgelist": "edgelist",
    ".csv": "edgelist",
    ".graphml": "graphml",
    ".gml": "gml",
    ".pt": "pyg",
    ".pth": "pyg",
    ".npz": "npz",
}


def _t(a: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=dtype)


def _from_networkx(g: Any) -> GraphData:
    nx = require_extra("networkx", extra="graphs", package="chebnet-stable")
    g = nx.convert_node_labels_to_integers(g, ordering="default")
    n = g.number_of_nodes()
    pairs, weights = [], []
    for u, v, data in g.edges(data=True):
        w = float(data.get("weight", 1.0))
        pairs.append((u, v))
        weights.append(w)
        if not g.is_directed():
            pairs.append((v, u))
            weights.append(w)
    ei = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).t()
    weighted = any(w != 1.0 for w in weights)
    return GraphData(
        None, ei, torch.tensor(weights, dtype=torch.float64) if weighted else None, num_nodes=n
    )


def _edgelist(path: Path) -> list[GraphData]:
    """``u v [w]`` per line; ``#`` comments; nodes are the integers used (0-based)."""
    rows = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].replace(",", " ").strip()
        if not line:
            continue
        parts = line.split()
        try:
            u, v = int(parts[0]), int(parts[1])
            w = float(parts[2]) if len(parts) > 2 else 1.0
        except (ValueError, IndexError) as err:
            raise InputError(f"path: {path}: line {lineno} is not 'u v [w]': {line!r}") from err
        if len(parts) > 3:
            raise InputError(
                f"path: {path}: line {lineno} has {len(parts)} fields, expected 2 or 3"
            )
        if u < 0 or v < 0:
            raise InputError(f"path: {path}: line {lineno} has a negative node id: {line!r}")
        if not (np.isfinite(w) and w >= 0):
            raise InputError(
                f"path: {path}: line {lineno} has weight {w}, expected finite and >= 0"
            )
        rows.append((u, v, w))
    if not rows:
        raise InputError(f"path: {path}: no edges found")
    # each undirected edge is listed once: store both directions (a self-loop once)
    pairs = [(u, v) for u, v, _ in rows] + [(v, u) for u, v, _ in rows if u != v]
    weights = [w for *_, w in rows] + [w for u, v, w in rows if u != v]
    ei = torch.tensor(pairs, dtype=torch.long).t()
    wt = torch.tensor(weights, dtype=torch.float64)
    weighted = bool((wt != 1.0).any())
    return [GraphData(None, ei, wt if weighted else None, num_nodes=int(ei.max()) + 1)]


def _npz(path: Path) -> list[GraphData]:
    with np.load(path, allow_pickle=False) as data:
        keys = set(data.files)
        if {"edge_index", "num_nodes_list", "num_edges_list"} <= keys:
            return _ogb(path, {k: data[k] for k in keys})
        if "edge_index" not in keys or "num_nodes" not in keys:
            raise InputError(
                f"path: {path}: expected our .npz keys (edge_index, num_nodes[, edge_weight, x, "
                "y]) "
                f"or OGB's (edge_index, num_nodes_list, num_edges_list), got {sorted(keys)}"
            )
        ei = _t(data["edge_index"], torch.long)
        w = _t(data["edge_weight"], torch.float64) if "edge_weight" in keys else None
        x = _t(data["x"]) if "x" in keys else None
        y = _t(data["y"]) if "y" in keys else None
        return [GraphData(x, ei, w, y=y, num_nodes=int(data["num_nodes"]))]


def _ogb(path: Path, data: dict[str, np.ndarray]) -> list[GraphData]:
    """OGB's binary ``data.npz`` (per-graph local edge indices) with sibling label files."""
    labels: dict[str, np.ndarray] = {}
    for name, key in (("graph-label.npz", "graph_label"), ("node-label.npz", "node_label")):
        sib = path.with_name(name)
        if sib.exists():
            with np.load(sib, allow_pickle=False) as lab:
                labels[key] = lab[key] if key in lab.files else lab[lab.files[0]]
    nn_list = data["num_nodes_list"].astype(np.int64)
    ne_list = data["num_edges_list"].astype(np.int64)
    if int(ne_list.sum()) != data["edge_index"].shape[1]:
        raise InputError(
            f"path: {path}: num_edges_list sums to {int(ne_list.sum())} but edge_index has "
            f"{data['edge_index'].shape[1]} edges"
        )
    out, e0, v0 = [], 0, 0
    for i, (n, e) in enumerate(zip(nn_list, ne_list, strict=True)):
        ei = _t(data["edge_index"][:, e0 : e0 + e], torch.long)
        x = _t(data["node_feat"][v0 : v0 + n]) if "node_feat" in data else None
        y = None
        if "graph_label" in labels:
            y = _t(labels["graph_label"][i : i + 1])
        elif "node_label" in labels:
            y = _t(labels["node_label"][v0 : v0 + n])
        out.append(GraphData(x, ei, y=y, num_nodes=int(n)))
        e0, v0 = e0 + e, v0 + n
    return out


def _pyg(path: Path) -> list[GraphData]:
    """PyG ``Data`` objects (or a list of them) saved with ``torch.save``; loaded with
    ``weights_only=True`` and PyG's data classes allow-listed, never by unrestricted unpickling."""
    require_extra("torch_geometric", extra="pyg", package="chebnet-stable")
    from torch_geometric.data import Batch, Data
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import EdgeStorage, GlobalStorage, NodeStorage

    allowed = [Data, Batch, DataEdgeAttr, DataTensorAttr, GlobalStorage, NodeStorage, EdgeStorage]
    with torch.serialization.safe_globals(allowed):
        obj = torch.load(path, weights_only=True, map_location="cpu")
    items = obj if isinstance(obj, list | tuple) else [obj]
    out = []
    for d in items:
        if not hasattr(d, "edge_index"):
            raise InputError(f"path: {path}: expected PyG Data objects, got {type(d).__name__}")
        w = getattr(d, "edge_weight", None)
        out.append(
            GraphData(
                getattr(d, "x", None),
                d.edge_index,
                w,
                y=getattr(d, "y", None),
                num_nodes=int(d.num_nodes),
            )
        )
    return out


def load_graphs(
    path: str | os.PathLike[str], *, format: GraphFormat | None = None
) -> list[GraphData]:
    """Read graphs from a file.

    Formats (``format=None``: from the suffix, and for ``.npz`` from the keys):

    * ``'edgelist'`` (``.txt``, ``.edges``, ``.edgelist``, ``.csv``): ``u v [w]`` per line, each
      undirected edge once;
    * ``'graphml'``/``'gml'``: through networkx (``[graphs]``), weights from ``weight``;
    * ``'npz'``: ours (``edge_index``, ``num_nodes``, optional ``edge_weight``, ``x``, ``y``) or
      OGB's binary ``data.npz`` (``edge_index``, ``num_nodes_list``, ``num_edges_list``, optional
      ``node_feat``) with labels from a sibling ``graph-label.npz``/``node-label.npz``;
    * ``'pyg'`` (``.pt``): PyG ``Data`` objects saved with ``torch.save`` (``[pyg]``).

    Raises:
        InputError: naming the file, for a missing file, unknown format or malformed content.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"path: no such file: {p}")
    fmt = format or _SUFFIX.get(p.suffix.lower())
    if fmt not in FORMATS:
        raise InputError(
            f"format: cannot tell the format of {p} (expected one of {FORMATS}), got {fmt!r}"
        )
    try:
        if fmt == "edgelist":
            return _edgelist(p)
        if fmt in ("graphml", "gml"):
            nx = require_extra("networkx", extra="graphs", package="chebnet-stable")
            reader = nx.read_graphml if fmt == "graphml" else nx.read_gml
            return [_from_networkx(reader(p))]
        if fmt == "npz" or fmt == "ogb":
            return _npz(p)
        return _pyg(p)
    except InputError:
        raise
    except (ValueError, KeyError, OSError, RuntimeError, TypeError) as err:
        raise InputError(f"path: {p}: cannot read it as {fmt}: {err}") from err


def save_npz(graph: GraphData, path: str | os.PathLike[str]) -> Path:
    """Write one graph in our ``.npz`` format (``edge_index``, ``num_nodes``, optional weights,
    ``x``, ``y``) to exactly ``path``, atomically; returns ``path``."""
    arrays: dict[str, np.ndarray] = {
        "edge_index": graph.edge_index.cpu().numpy(),
        "num_nodes": np.asarray(graph.num_nodes),
    }
    for name in ("edge_weight", "x", "y"):
        val = getattr(graph, name)
        if val is not None:
            arrays[name] = val.detach().cpu().numpy()
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    with tmp.open("wb") as fh:  # a file object: np.savez would append ".npz" to a bare name
        np.savez(fh, **arrays)  # type: ignore[arg-type]
    os.replace(tmp, p)  # atomic: a reader never sees a half-written file
    return p
