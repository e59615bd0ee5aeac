"""Bad graphs get an InputError naming the argument; self-loops and isolated nodes as documented."""

import pytest
import torch

from chebnet_stable import (
    ChebConv,
    GraphData,
    ScaledLaplacian,
    StableChebConv,
    cheb_filter,
    collate,
    lambda_max_bound,
)
from sciml_core import InputError

EI = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"graph": torch.tensor([[0, 1], [1, 3]]), "num_nodes": 3}, "edge_index"),  # out of range
        ({"graph": torch.tensor([[0, -1], [-1, 0]])}, "edge_index"),  # negative
        ({"graph": torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])}, "graph"),  # not square
        ({"graph": torch.tensor([[0, 1, 2]])}, "graph"),  # wrong shape
        ({"graph": (torch.zeros(2, 0, dtype=torch.long), None, 0)}, "num_nodes"),  # empty graph
        ({"graph": torch.zeros(2, 0, dtype=torch.long)}, "num_nodes"),  # no edges, no size
        ({"graph": EI, "edge_weight": torch.tensor([1.0, -1.0, 1.0, 1.0])}, "edge_weight"),
        ({"graph": EI, "edge_weight": torch.tensor([1.0, float("nan"), 1.0, 1.0])}, "edge_weight"),
        ({"graph": EI, "edge_weight": torch.ones(3)}, "edge_weight"),
        ({"graph": EI, "batch": torch.tensor([0, 0])}, "batch"),  # wrong length
        ({"graph": EI, "batch": torch.tensor([0, 0, 1])}, "batch"),  # edge across graphs
        ({"graph": EI, "normalization": "random"}, "normalization"),
        ({"graph": EI, "lambda_max": "magic"}, "method"),
        ({"graph": EI, "lambda_max": torch.tensor([2.0, 2.0])}, "lambda_max"),
        ({"graph": EI, "backend": "gpu-magic"}, "backend"),
        ({"graph": "not a graph"}, "graph"),
    ],
)
def test_bad_graphs_raise_input_errors_naming_the_argument(kwargs, name):
    graph = kwargs.pop("graph")
    with pytest.raises(InputError, match=rf"^{name}:"):
        ScaledLaplacian.from_graph(graph, **kwargs)


def test_directed_input_raises_unless_symmetrize_is_set():
    directed = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(InputError, match="directed"):
        ScaledLaplacian.from_graph(directed)
    sym = ScaledLaplacian.from_graph(directed, symmetrize=True, dtype=torch.float64)
    ref = ScaledLaplacian.from_graph(EI, dtype=torch.float64)
    assert torch.equal(sym.to_dense(), ref.to_dense())
    kept = ScaledLaplacian.from_graph(directed, symmetrize=False)
    assert not kept.symmetric and not bool(kept.certified[0])
    with pytest.raises(InputError, match="method"):
        lambda_max_bound(directed, symmetrize=False, method="exact")


def test_symmetrize_takes_the_max_weight():
    ei = torch.tensor([[0, 1, 1], [1, 0, 2]])
    w = torch.tensor([1.0, 3.0, 2.0])
    lap = ScaledLaplacian.from_graph(
        (ei, w, 3), normalization=None, symmetrize=True, lambda_max=20.0
    )
    assert torch.allclose(
        lap.laplacian.weight.sort().values, torch.tensor([2.0, 2.0, 3.0, 3.0]).double()
    )


def test_self_loops_are_removed_with_a_warning_giving_the_count():
    looped = torch.cat([EI, torch.tensor([[0, 2], [0, 2]])], dim=1)
    with pytest.warns(UserWarning, match="removed 2 self-loop"):
        lap = ScaledLaplacian.from_graph(looped, dtype=torch.float64)
    assert torch.equal(
        lap.to_dense(), ScaledLaplacian.from_graph(EI, dtype=torch.float64).to_dense()
    )


def test_isolated_nodes_give_a_zero_row_and_finite_outputs():
    lap = ScaledLaplacian.from_graph((EI, None, 5), dtype=torch.float64)  # nodes 3, 4 isolated
    m = lap.to_dense()
    assert torch.equal(m[3:], torch.zeros(2, 5, dtype=torch.float64))
    x = torch.randn(5, 2, dtype=torch.float64)
    out = ChebConv(2, 2, 6).double()(x, lap)
    assert bool(torch.isfinite(out).all())
    none = ScaledLaplacian.from_graph((EI, None, 5), normalization=None, dtype=torch.float64)
    assert bool(torch.isfinite(none.to_dense()).all())


def test_edgeless_graph_and_single_node_work():
    for n in (1, 4):
        empty = (torch.zeros(2, 0, dtype=torch.long), None, n)
        for normalization in ("sym", "rw", None):
            lap = ScaledLaplacian.from_graph(
                empty, normalization=normalization, dtype=torch.float64
            )
            x = torch.randn(n, 3, dtype=torch.float64)
            w = torch.randn(4, 3, 2, dtype=torch.float64)
            out = cheb_filter(lap, x, w)
            assert bool(torch.isfinite(out).all())


def test_disconnected_parts_are_handled_per_component():
    """Two components in one graph: the filter never mixes them."""
    ei = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
    lap = ScaledLaplacian.from_graph(ei, dtype=torch.float64)
    x = torch.zeros(4, 1, dtype=torch.float64)
    x[0] = 1.0
    out = cheb_filter(lap, x, torch.randn(8, 1, 1, dtype=torch.float64))
    assert torch.equal(out[2:], torch.zeros(2, 1, dtype=torch.float64))


def _conv_call(x, graph, **kwargs):
    return lambda: ChebConv(3, 2, 3)(x, graph, **kwargs)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        pytest.param(_conv_call(torch.randn(3, 4), EI), "x", id="wrong-feature-size"),
        pytest.param(
            _conv_call(torch.tensor([[0.0, 1.0, float("nan")]] * 3), EI), "x", id="nan-features"
        ),
        pytest.param(
            lambda: ChebConv(3, 2, 3)(torch.randn(5, 3), ScaledLaplacian.from_graph(EI)),
            "x",
            id="node-count-differs-from-the-laplacian",
        ),
        pytest.param(
            lambda: ChebConv(3, 2, 3)(
                torch.randn(3, 3), ScaledLaplacian.from_graph(EI), lambda_max=2.0
            ),
            "graph",
            id="lambda-max-with-a-built-laplacian",
        ),
        *(
            pytest.param(lambda k=k: ChebConv(3, 2, k), "K", id=f"chebconv-K={k!r}")
            for k in (0, -1, 1.5, True)
        ),
        *(
            pytest.param(lambda k=k: StableChebConv(3, k), "K", id=f"stable-K={k!r}")
            for k in (0, -1, 1.5, True)
        ),
        pytest.param(lambda: StableChebConv(3, 2, epsilon=0.0), "epsilon", id="epsilon-0"),
        pytest.param(lambda: StableChebConv(3, 2, gamma=-1.0), "gamma", id="negative-gamma"),
        pytest.param(
            lambda: StableChebConv(3, 2, damping="dirichlet"), "damping", id="unknown-damping"
        ),
        pytest.param(
            lambda: cheb_filter(
                ScaledLaplacian.from_graph(EI), torch.randn(3, 2), torch.randn(2, 2)
            ),
            "weight",
            id="weight-not-3d",
        ),
    ],
)
def test_layer_inputs_are_checked_naming_the_argument(call, name):
    with pytest.raises(InputError, match=rf"^{name}:"):
        call()


def test_batch_vectors_must_match():
    g = GraphData(torch.randn(3, 2), EI)
    b = collate([g, g])
    conv = ChebConv(2, 2, 3)
    with pytest.raises(InputError, match=r"^batch:"):
        conv(b.x, b.edge_index, batch=torch.zeros(5, dtype=torch.long))
    with pytest.raises(InputError, match=r"^collate:"):
        collate([])
    with pytest.raises(InputError, match=r"^collate:"):
        collate([b, g])


def test_edge_weight_gradients_are_refused_not_silently_dropped():
    w = torch.ones(4, requires_grad=True)
    with pytest.raises(InputError, match=r"^edge_weight:"):
        ChebConv(2, 2, 3)(torch.randn(3, 2), EI, edge_weight=w)
    out = ChebConv(2, 2, 3)(torch.randn(3, 2), EI, edge_weight=w.detach())
    assert out.shape == (3, 2)
