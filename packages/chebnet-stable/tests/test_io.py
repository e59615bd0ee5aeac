"""Loaders of graph files (edge list, GraphML/GML, our .npz, OGB-style .npz, PyG .pt)."""

import re

import networkx as nx
import numpy as np
import pytest
import torch

from chebnet_stable import GraphData, load_graphs, load_split_masks, save_npz
from sciml_core import InputError

# a weighted triangle with a pendant node, features and labels
EDGES = [(0, 1, 1.0), (1, 2, 2.5), (2, 0, 1.0), (2, 3, 0.5)]
X = torch.arange(8, dtype=torch.float32).reshape(4, 2)


def _edge_set(g: GraphData):
    w = g.edge_weight if g.edge_weight is not None else torch.ones(g.num_edges)
    return sorted(
        (int(u), int(v), round(float(x), 9)) for (u, v), x in zip(g.edge_index.t(), w, strict=True)
    )


def _reference():
    pairs = [(u, v, w) for u, v, w in EDGES] + [(v, u, w) for u, v, w in EDGES]
    return sorted(pairs)


def _write_tiny(tmp_path, name):
    path = tmp_path / name
    g = nx.Graph()
    g.add_weighted_edges_from(EDGES)
    if name == "g.txt":
        path.write_text("# u v w\n" + "".join(f"{u} {v} {w}\n" for u, v, w in EDGES))
    elif name == "g.graphml":
        nx.write_graphml(g, path)
    elif name == "g.gml":
        nx.write_gml(g, path)
    else:
        ei = torch.tensor(
            [
                [u for u, _, _ in EDGES] + [v for _, v, _ in EDGES],
                [v for _, v, _ in EDGES] + [u for u, _, _ in EDGES],
            ]
        )
        w = torch.tensor([x for *_, x in EDGES] * 2, dtype=torch.float64)
        save_npz(GraphData(X, ei, w, y=torch.tensor([1]), num_nodes=4), path)
    return path


@pytest.mark.parametrize("name", ["g.txt", "g.graphml", "g.gml", "ours.npz"])
def test_loaders_read_the_same_tiny_graph_from_every_format(tmp_path, name):
    (loaded,) = load_graphs(_write_tiny(tmp_path, name))
    assert loaded.num_nodes == 4
    assert _edge_set(loaded) == _reference()


def test_our_npz_keeps_features_and_labels(tmp_path):
    (ours,) = load_graphs(_write_tiny(tmp_path, "ours.npz"))
    assert torch.equal(ours.x, X) and ours.y.tolist() == [1]


def test_ogb_style_npz_reads_graphs_with_local_indices_and_sibling_labels(tmp_path):
    # OGB-style binary data.npz with two graphs (local indices) and graph labels
    ogb = tmp_path / "ogb"
    ogb.mkdir()
    np.savez(
        ogb / "data.npz",
        edge_index=np.array([[0, 1, 0, 1, 2], [1, 0, 1, 2, 0]]),
        num_nodes_list=np.array([2, 3]),
        num_edges_list=np.array([2, 3]),
        node_feat=np.arange(10, dtype=np.float32).reshape(5, 2),
    )
    np.savez(ogb / "graph-label.npz", graph_label=np.array([[0], [1]]))
    a, b = load_graphs(ogb / "data.npz")
    assert (a.num_nodes, b.num_nodes) == (2, 3)
    assert b.edge_index.tolist() == [[0, 1, 2], [1, 2, 0]] and b.y.tolist() == [[1]]
    assert torch.equal(b.x, torch.arange(4, 10, dtype=torch.float32).reshape(3, 2))


def test_pyg_saved_data_loads_with_weights_only(tmp_path):
    pyg_data = pytest.importorskip("torch_geometric.data")
    d = pyg_data.Data(
        x=torch.randn(3, 2),
        edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]),
        y=torch.tensor([2]),
    )
    torch.save([d, d], tmp_path / "g.pt")
    graphs = load_graphs(tmp_path / "g.pt")
    assert len(graphs) == 2
    assert torch.equal(graphs[0].edge_index, d.edge_index) and torch.equal(graphs[1].x, d.x)


def _bad_edge_list(path):
    path.write_text("0 1\nzero one\n")


def _npz_without_our_keys(path):
    np.savez(path, something=np.zeros(3))


def _empty(path):
    path.write_text("")


@pytest.mark.parametrize(
    ("name", "write", "match"),
    [
        ("bad.txt", _bad_edge_list, re.escape("bad.txt")),
        ("bad.npz", _npz_without_our_keys, re.escape("bad.npz")),
        ("missing.txt", None, re.escape("missing.txt")),
        ("x.weird", _empty, "format"),
    ],
)
def test_malformed_files_raise_naming_the_file(tmp_path, name, write, match):
    if write is not None:
        write(tmp_path / name)
    with pytest.raises(InputError, match=match):
        load_graphs(tmp_path / name)


@pytest.mark.parametrize("text", ["0 1\n-1 2\n", "0 1 nan\n", "0 1 -2\n"])
def test_edge_list_with_negative_ids_or_bad_weights_names_the_file_and_line(tmp_path, text):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(InputError, match=r"^path: .*bad\.txt': line \d"):
        load_graphs(path)


def test_save_npz_writes_exactly_the_given_path(tmp_path):
    g = GraphData(None, torch.tensor([[0, 1], [1, 0]]), num_nodes=3)
    path = save_npz(g, tmp_path / "graph.data")
    assert path == tmp_path / "graph.data" and path.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.data"]
    (loaded,) = load_graphs(path, format="npz")
    assert loaded.num_nodes == 3 and loaded.edge_index.tolist() == [[0, 1], [1, 0]]


def _path_graph(n=10):
    src = torch.arange(n - 1)
    ei = torch.stack([torch.cat([src, src + 1]), torch.cat([src + 1, src])])
    return GraphData(torch.randn(n, 2, generator=torch.Generator().manual_seed(0)), ei,
                     y=torch.arange(n) % 2, num_nodes=n)  # fmt: skip


def _masks(n=10, train=(0, 1, 2, 3, 4), val=(5, 6), test=(7, 8, 9)):
    out = {}
    for k, idx in (("train", train), ("val", val), ("test", test)):
        m = torch.zeros(n, dtype=torch.bool)
        m[list(idx)] = True
        out[k] = m
    return out


def test_split_masks_round_trip_through_our_npz(tmp_path):
    masks = _masks()
    save_npz(_path_graph(), tmp_path / "g.npz", masks=masks)
    back = load_split_masks(tmp_path / "g.npz")
    assert set(back) == {"train", "val", "test"}
    assert all(torch.equal(back[k], masks[k]) for k in masks)


def test_a_file_without_masks_has_none(tmp_path):
    save_npz(_path_graph(), tmp_path / "g.npz")
    assert load_split_masks(tmp_path / "g.npz") == {}


def test_pyg_masks_are_read(tmp_path):
    pyg_data = pytest.importorskip("torch_geometric.data")
    g, masks = _path_graph(), _masks()
    d = pyg_data.Data(x=g.x, edge_index=g.edge_index, y=g.y, num_nodes=10,
                      **{f"{k}_mask": m for k, m in masks.items()})  # fmt: skip
    torch.save(d, tmp_path / "g.pt")
    back = load_split_masks(tmp_path / "g.pt")
    assert all(torch.equal(back[k], masks[k]) for k in masks)


def _arrays_with(**masks):
    g = _path_graph()
    base = {"edge_index": g.edge_index.numpy(), "num_nodes": np.asarray(10), "x": g.x.numpy(),
            "y": g.y.numpy()}  # fmt: skip
    return {**base, **{f"{k}_mask": v for k, v in masks.items()}}


_GOOD = {k: v.numpy() for k, v in _masks().items()}


@pytest.mark.parametrize(
    ("masks", "match"),
    [
        pytest.param({"train": _GOOD["train"]}, "not val_mask, test_mask", id="partial"),
        pytest.param({**_GOOD, "val": np.ones(9, bool)}, r"val_mask has shape \(9,\)", id="length"),
        pytest.param({**_GOOD, "test": np.full(10, 0.5)}, "test_mask must be boolean", id="float"),
        pytest.param(
            {**_GOOD, "train": np.zeros(10, bool)}, "train_mask selects no node", id="empty-train"
        ),
        pytest.param(
            {**_GOOD, "val": _GOOD["val"] | _GOOD["test"]},
            "val_mask and test_mask share 3",
            id="overlap",
        ),
    ],
)
def test_bad_split_masks_raise_naming_the_mask(tmp_path, masks, match):
    np.savez(tmp_path / "g.npz", **_arrays_with(**masks))
    with pytest.raises(InputError, match=match):
        load_split_masks(tmp_path / "g.npz", argument="--data")


@pytest.mark.parametrize("suffix", ["npz", "pt"])
def test_train_on_a_file_reads_it_once(tmp_path, monkeypatch, suffix):
    """`train --task file` takes the graph and its split masks from one read of the file."""
    from chebnet_stable import _io
    from chebnet_stable._train import file_splits

    g, masks = _path_graph(), _masks()
    if suffix == "npz":
        save_npz(g, tmp_path / "g.npz", masks=masks)
        reader = "read_archive"
    else:
        pyg_data = pytest.importorskip("torch_geometric.data")
        d = pyg_data.Data(x=g.x, edge_index=g.edge_index, y=g.y, num_nodes=10,
                          **{f"{k}_mask": m for k, m in masks.items()})  # fmt: skip
        torch.save(d, tmp_path / "g.pt")
        reader = "read_torch_file"
    real, calls = getattr(_io, reader), []

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(_io, reader, counted)
    splits, *_ = file_splits(tmp_path / f"g.{suffix}", seed=0)
    assert len(calls) == 1
    assert all(torch.equal(s[0].mask, masks[k]) for s, k in zip(splits, ("train", "val", "test")))
