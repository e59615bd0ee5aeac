"""Loaders for graphs on disk: edge lists, GraphML/GML, our ``.npz``, OGB-style ``.npz``, PyG
``.pt``."""

from __future__ import annotations

import os
import typing
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from sciml_core import InputError, read_archive, read_torch_file, read_user_file, require_extra

from ._graph import GraphData

__all__ = ["FORMATS", "SPLITS", "GraphFormat", "load_graphs", "load_split_masks", "save_npz"]

GraphFormat = Literal["edgelist", "graphml", "gml", "pyg", "ogb", "npz"]
"""Graph file formats :func:`load_graphs` reads (``'ogb'`` and ``'npz'`` read the same ``.npz``)."""
FORMATS: tuple[GraphFormat, ...] = typing.get_args(GraphFormat)
SPLITS: tuple[str, ...] = ("train", "val", "test")
"""The node splits a one-graph file may carry as boolean masks ``<split>_mask`` (PyG's names)."""
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
    """``u v [w]`` per line; ``#`` comments; nodes are the integers used (0-based).

    Raises ``ValueError`` naming the line (the caller adds the argument and the file).
    """
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
            raise InputError(f"line {lineno} is not 'u v [w]': {line!r}") from err
        if len(parts) > 3:
            raise InputError(f"line {lineno} has {len(parts)} fields, expected 2 or 3")
        if u < 0 or v < 0:
            raise InputError(f"line {lineno} has a negative node id: {line!r}")
        if not (np.isfinite(w) and w >= 0):
            raise InputError(f"line {lineno} has weight {w}, expected finite and >= 0")
        rows.append((u, v, w))
    if not rows:
        raise InputError("no edges found")
    # each undirected edge is listed once: store both directions (a self-loop once)
    pairs = [(u, v) for u, v, _ in rows] + [(v, u) for u, v, _ in rows if u != v]
    weights = [w for *_, w in rows] + [w for u, v, w in rows if u != v]
    ei = torch.tensor(pairs, dtype=torch.long).t()
    wt = torch.tensor(weights, dtype=torch.float64)
    weighted = bool((wt != 1.0).any())
    return [GraphData(None, ei, wt if weighted else None, num_nodes=int(ei.max()) + 1)]


def _npz(path: Path, data: dict[str, np.ndarray], argument: str) -> list[GraphData]:
    """Our ``.npz`` or OGB's ``data.npz`` from the archive's (already decoded) arrays."""
    keys = set(data)
    if {"edge_index", "num_nodes_list", "num_edges_list"} <= keys:
        return _ogb(path, data, argument)
    if "edge_index" not in keys or "num_nodes" not in keys:
        raise InputError(
            "expected our .npz keys (edge_index, num_nodes[, edge_weight, x, y]) or OGB's "
            f"(edge_index, num_nodes_list, num_edges_list), got {sorted(keys)}"
        )
    ei = _t(data["edge_index"], torch.long)
    w = _t(data["edge_weight"], torch.float64) if "edge_weight" in keys else None
    x = _t(data["x"]) if "x" in keys else None
    y = _t(data["y"]) if "y" in keys else None
    return [GraphData(x, ei, w, y=y, num_nodes=int(data["num_nodes"]))]


def _ogb(path: Path, data: dict[str, np.ndarray], argument: str) -> list[GraphData]:
    """OGB's binary ``data.npz`` (per-graph local edge indices) with sibling label files."""
    labels: dict[str, np.ndarray] = {}
    for name, key in (("graph-label.npz", "graph_label"), ("node-label.npz", "node_label")):
        sib = path.with_name(name)
        if sib.exists():
            lab = read_archive(sib, argument=f"{argument} (labels beside it)")
            labels[key] = lab[key] if key in lab else next(iter(lab.values()))
    nn_list = data["num_nodes_list"].astype(np.int64)
    ne_list = data["num_edges_list"].astype(np.int64)
    if int(ne_list.sum()) != data["edge_index"].shape[1]:
        raise InputError(
            f"num_edges_list sums to {int(ne_list.sum())} but edge_index has "
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


def _pyg_classes() -> list[Any]:
    """PyG's data classes that a saved ``Data``/``Batch`` needs allow-listed for unpickling."""
    require_extra("torch_geometric", extra="pyg", package="chebnet-stable")
    from torch_geometric.data import Batch, Data
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import EdgeStorage, GlobalStorage, NodeStorage

    return [Data, Batch, DataEdgeAttr, DataTensorAttr, GlobalStorage, NodeStorage, EdgeStorage]


def _pyg(obj: Any) -> list[GraphData]:
    """``GraphData`` from PyG ``Data`` objects (or a list of them) read by ``read_torch_file``."""
    items = obj if isinstance(obj, list | tuple) else [obj]
    out = []
    for d in items:
        if not hasattr(d, "edge_index"):
            raise InputError(f"expected PyG Data objects, got {type(d).__name__}")
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


_WHAT: dict[GraphFormat, str] = {
    "edgelist": "an edge list ('u v [w]' per line)",
    "graphml": "a GraphML graph",
    "gml": "a GML graph",
    "npz": "graphs in .npz form",
    "ogb": "graphs in OGB's .npz form",
    "pyg": "PyG graphs saved with torch.save",
}


def load_graphs(
    path: str | os.PathLike[str], *, format: GraphFormat | None = None, argument: str = "path"
) -> list[GraphData]:
    """Read graphs from a file.

    Formats (``format=None``: from the suffix, and for ``.npz`` from the keys):

    * ``'edgelist'`` (``.txt``, ``.edges``, ``.edgelist``, ``.csv``): ``u v [w]`` per line, each
      undirected edge once;
    * ``'graphml'``/``'gml'``: through networkx (``[graphs]``), weights from ``weight``;
    * ``'npz'``: ours (``edge_index``, ``num_nodes``, optional ``edge_weight``, ``x``, ``y``) or
      OGB's binary ``data.npz`` (``edge_index``, ``num_nodes_list``, ``num_edges_list``, optional
      ``node_feat``) with labels from a sibling ``graph-label.npz``/``node-label.npz``;
    * ``'pyg'`` (``.pt``): PyG ``Data`` objects saved with ``torch.save`` (``[pyg]``), read with
      ``torch.load(weights_only=True)`` and PyG's data classes allow-listed.

    Every file is read through :func:`sciml_core.read_user_file` (``.npz`` through
    :func:`sciml_core.read_archive`, ``.pt`` through :func:`sciml_core.read_torch_file`), so any
    failure (missing, empty, truncated or junk file, malformed content) is one ``InputError``.

    Args:
        path: the file.
        format: one of :data:`FORMATS` (default: from the suffix).
        argument: how the caller names the file in messages (a command line passes its flag).

    Raises:
        InputError: ``<argument>: ...`` naming the file, for a missing file, unknown format or
            malformed content.
    """
    return read_graph_file(path, format=format, argument=argument)[0]


def read_graph_file(
    path: str | os.PathLike[str], *, format: GraphFormat | None = None, argument: str = "path"
) -> tuple[list[GraphData], list[dict[str, Any]]]:
    """The graphs of a file (as :func:`load_graphs`) and, read from the same pass over the file,
    the split masks each graph carries, unchecked (``{split: array or None}`` per ``.npz`` or
    PyG graph; ``[]`` for formats without masks). :func:`split_masks_of` checks them."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{argument}: file {str(p)!r} does not exist")
    fmt = format or _SUFFIX.get(p.suffix.lower())
    if fmt is None or fmt not in FORMATS:
        raise InputError(
            f"format: cannot tell the format of {p} (expected one of {FORMATS}), got {fmt!r}"
        )
    what = _WHAT[fmt]
    if fmt == "edgelist":
        return read_user_file(p, argument=argument, decode=_edgelist, what=what), []
    if fmt in ("graphml", "gml"):
        nx = require_extra("networkx", extra="graphs", package="chebnet-stable")
        reader = nx.read_graphml if fmt == "graphml" else nx.read_gml
        graphs = read_user_file(
            p, argument=argument, decode=lambda f: [_from_networkx(reader(f))], what=what
        )
        return graphs, []
    if fmt in ("npz", "ogb"):
        arrays = read_archive(p, argument=argument)
        graphs = read_user_file(
            p, argument=argument, decode=lambda f: _npz(f, arrays, argument), what=what
        )
        return graphs, [{k: arrays.get(f"{k}_mask") for k in SPLITS}]
    obj = read_torch_file(
        p,
        argument=argument,
        safe_globals=_pyg_classes(),
        what=what,
        package="chebnet-stable",
        extra="pyg",
    )
    graphs = read_user_file(p, argument=argument, decode=lambda _: _pyg(obj), what=what)
    items = obj if isinstance(obj, list | tuple) else [obj]
    return graphs, [{k: getattr(d, f"{k}_mask", None) for k in SPLITS} for d in items]


def _check_masks(masks: dict[str, Any], n: int, argument: str) -> dict[str, torch.Tensor]:
    """All three split masks or none; each a boolean (or 0/1) vector of length ``n``; train,
    val and test disjoint and train and test non-empty."""
    present = [k for k in SPLITS if masks.get(k) is not None]
    if not present:
        return {}
    missing = [f"{k}_mask" for k in SPLITS if k not in present]
    if missing:
        raise InputError(
            f"{argument}: the file carries {', '.join(f'{k}_mask' for k in present)} but not "
            f"{', '.join(missing)}; give all three split masks or none"
        )
    out: dict[str, torch.Tensor] = {}
    for k in SPLITS:
        m = torch.as_tensor(np.asarray(masks[k]))
        if m.shape != (n,):
            raise InputError(
                f"{argument}: {k}_mask has shape {tuple(m.shape)}, expected ({n},) (one entry "
                "per node)"
            )
        if m.dtype != torch.bool:
            if m.is_floating_point() or m.is_complex() or not bool(((m == 0) | (m == 1)).all()):
                raise InputError(f"{argument}: {k}_mask must be boolean (or 0/1), got {m.dtype}")
            m = m.bool()
        out[k] = m
    for k in ("train", "test"):
        if not bool(out[k].any()):
            raise InputError(f"{argument}: {k}_mask selects no node")
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        both = int((out[a] & out[b]).sum())
        if both:
            raise InputError(f"{argument}: {a}_mask and {b}_mask share {both} nodes")
    return out


def load_split_masks(
    path: str | os.PathLike[str], *, format: GraphFormat | None = None, argument: str = "path"
) -> dict[str, torch.Tensor]:
    """The train/val/test node masks a one-graph file carries, checked; ``{}`` when it has none.

    Our ``.npz`` stores them as ``train_mask``, ``val_mask``, ``test_mask``; a PyG ``Data``
    object as the attributes of the same names (PyG's convention, e.g. Planetoid). Other formats
    carry no masks.

    Raises:
        InputError: ``<argument>: ...`` when only some masks are given, a mask has the wrong length
            or is not boolean, train or test is empty, or two splits share nodes; also for a file
            of several graphs that carries masks (node masks are read for one graph only).
    """
    graphs, raw = read_graph_file(path, format=format, argument=argument)
    return split_masks_of(graphs, raw, argument=argument)


def split_masks_of(
    graphs: list[GraphData], raw: list[dict[str, Any]], *, argument: str
) -> dict[str, torch.Tensor]:
    """The checked split masks of a file read by :func:`read_graph_file` (``{}`` for none); see
    :func:`load_split_masks`."""
    raw = [r for r in raw if any(v is not None for v in r.values())]
    if not raw:
        return {}
    if len(graphs) != 1:
        raise InputError(
            f"{argument}: the file holds {len(graphs)} graphs with node split masks; masks are "
            "read for a file of one graph (several graphs are split in file order)"
        )
    return _check_masks(raw[0], int(graphs[0].num_nodes or 0), argument)


def save_npz(
    graph: GraphData,
    path: str | os.PathLike[str],
    *,
    masks: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Write one graph in our ``.npz`` format (``edge_index``, ``num_nodes``, optional weights,
    ``x``, ``y``, and with ``masks`` the split masks ``train_mask``/``val_mask``/``test_mask``) to
    exactly ``path``, atomically; returns ``path``."""
    arrays: dict[str, np.ndarray] = {
        "edge_index": graph.edge_index.cpu().numpy(),
        "num_nodes": np.asarray(graph.num_nodes),
    }
    for name in ("edge_weight", "x", "y"):
        val = getattr(graph, name)
        if val is not None:
            arrays[name] = val.detach().cpu().numpy()
    if masks is not None:
        checked = _check_masks(dict(masks), int(graph.num_nodes or 0), "masks")
        for k, m in checked.items():
            arrays[f"{k}_mask"] = m.cpu().numpy()
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    with tmp.open("wb") as fh:  # a file object: np.savez would append ".npz" to a bare name
        np.savez(fh, **arrays)  # type: ignore[arg-type]
    os.replace(tmp, p)  # atomic: a reader never sees a half-written file
    return p
