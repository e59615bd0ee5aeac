"""The synthetic tasks: per-sample reproducible and following their recipes."""

import networkx as nx
import pytest
import torch

from chebnet_stable import make_barbell, make_graph_transfer, make_graphprop, make_ring_transfer
from chebnet_stable._datasets import crossed_ring_edge_index
from sciml_core import InputError


def test_barbell_samples_do_not_depend_on_how_many_are_asked_for():
    a = make_barbell(6, 3, seed=5)
    b = make_barbell(6, 10, seed=5)
    for g, h in zip(a, b[:3], strict=True):
        assert torch.equal(g.x, h.x) and torch.equal(g.y, h.y)


def test_barbell_targets_are_the_mean_of_the_opposite_clique():
    g = make_barbell(6, 3, seed=5)[0]
    assert torch.allclose(g.y[:6], g.x[6:].mean().expand(6, 1))
    assert torch.allclose(g.y[6:], g.x[:6].mean().expand(6, 1))


def test_ring_transfer_puts_the_label_half_way_round_and_reads_it_at_node_0():
    for r in make_ring_transfer(10, 4, seed=0):
        assert r.x[0].sum() == 0 and int(r.x[5].argmax()) == int(r.y) and bool(r.mask[0])


def test_graph_transfer_ring_moves_the_source_value_to_the_target():
    tr = make_graph_transfer("ring", 5, 2, seed=1)[0]
    assert tr.num_nodes == 10 and float(tr.y[5]) == 1.0 and float(tr.y[0]) == 0.0


def test_crossed_ring_keeps_every_edge_once():
    # crossed ring, d = 5: 10 ring edges, chords (1,8) (2,7) (3,6) and (2,9) (3,8) (4,7); SWAN's
    # generator also lists (0,9) and (4,5), which repeat ring edges, so 16 distinct edges
    assert crossed_ring_edge_index(5).shape[1] == 2 * 16


def test_graphprop_samples_do_not_depend_on_how_many_are_asked_for():
    a = make_graphprop(4, task="sssp", seed=3)
    b = make_graphprop(7, task="sssp", seed=3)
    for g, h in zip(a, b[:4], strict=True):
        assert torch.equal(g.edge_index, h.edge_index) and torch.equal(g.y, h.y)


def test_graphprop_sssp_labels_are_bfs_distances_on_graphs_without_isolated_nodes():
    for g in make_graphprop(4, task="sssp", seed=3):
        assert 20 <= g.num_nodes <= 34  # grid, caveman and ladder round N down
        nxg = nx.Graph()
        nxg.add_nodes_from(range(g.num_nodes))
        nxg.add_edges_from(g.edge_index.t().tolist())
        assert min(dict(nxg.degree()).values()) > 0  # no isolated node
        src = int(g.x[:, 0].argmax())
        dist = nx.single_source_shortest_path_length(nxg, src)
        assert g.y.squeeze(1).tolist() == [float(dist.get(v, 0)) for v in range(g.num_nodes)]


def test_graphprop_diameter_is_one_value_per_graph_the_largest_eccentricity():
    (e,) = make_graphprop(1, task="ecc", seed=3)
    (d,) = make_graphprop(1, task="diam", seed=3)
    assert d.y.shape == (1, 1) and float(d.y) == float(e.y.max())


def test_graphprop_refuses_an_unknown_task():
    with pytest.raises(InputError, match=r"^task:"):
        make_graphprop(1, task="girth", seed=0)
