"""λ_max: certified uppers are never below the truth; lowers never above; flags are honest."""

import networkx as nx
import numpy as np
import pytest
import torch
from chebnet_testing import nx_edge_index

from chebnet_stable import GraphData, ScaledLaplacian, collate, lambda_max_bound
from sciml_core import InputError

METHODS = ("analytic", "exact", "lanczos", "power")


def _weighted(g, seed):
    rng = np.random.default_rng(seed)
    for u, v in g.edges():
        g[u][v]["weight"] = float(rng.uniform(0.1, 3.0))
    return g


def _near_degenerate():
    """Two cliques joined by a weak edge: the top two eigenvalues of L differ by ~1e-4."""
    g = nx.disjoint_union(nx.complete_graph(6), nx.complete_graph(6))
    g.add_edge(0, 6, weight=1e-4)
    for u, v in g.edges():
        g[u][v].setdefault("weight", 1.0)
    return g


def _components_with_different_lambda_max():
    """A large path (λ_max ≈ 2 unnormalised... small weights) plus a tiny heavy triangle: the
    component with the larger λ_max is small and weakly represented in any global start vector."""
    g = nx.path_graph(60)
    for u, v in g.edges():
        g[u][v]["weight"] = 0.01
    tri = nx.complete_graph(3)
    for u, v in tri.edges():
        tri[u][v]["weight"] = 5.0
    return nx.disjoint_union(g, tri)


ZOO = {
    "even_ring": nx.cycle_graph(20),
    "odd_ring": nx.cycle_graph(21),
    "path": nx.path_graph(15),
    "star": nx.star_graph(9),
    "ba": nx.barabasi_albert_graph(40, 2, seed=1),
    "grid": nx.grid_2d_graph(5, 6),
    "barbell": nx.barbell_graph(10, 0),
    "weighted_er": _weighted(nx.gnp_random_graph(30, 0.2, seed=2), 3),
    "disconnected": nx.disjoint_union(nx.cycle_graph(7), nx.complete_graph(5)),
    "isolated_nodes": nx.disjoint_union(nx.path_graph(6), nx.empty_graph(3)),
    "near_degenerate": _near_degenerate(),
    "components_different_lambda": _components_with_different_lambda_max(),
}


def _true_lambda_max(g, normalization):
    a = nx.to_numpy_array(g, weight="weight")
    d = a.sum(1)
    if normalization is None:
        lap = np.diag(d) - a
    else:
        dis = np.where(d > 0, 1 / np.sqrt(np.where(d > 0, d, 1)), 0.0)
        lap = np.eye(len(d)) - dis[:, None] * a * dis[None, :]
    return float(np.linalg.eigvalsh(lap)[-1])


@pytest.mark.parametrize("name", sorted(ZOO))
@pytest.mark.parametrize("normalization", ["sym", "rw", None])
def test_lambda_max_estimates_are_upper_bounds(name, normalization):
    g = nx.convert_node_labels_to_integers(ZOO[name])
    true = _true_lambda_max(g, normalization)
    for method in METHODS:
        est = lambda_max_bound(g, normalization=normalization, method=method, iters=8)
        lower, upper, cert = float(est.lower[0]), float(est.upper[0]), bool(est.certified[0])
        assert lower <= true * (1 + 1e-12) + 1e-12, (method, lower, true)
        if method in ("analytic", "exact"):
            assert cert
        if cert:  # the oracle's own rounding is ~1e-15 (bipartite graphs: exactly 2)
            assert upper >= true - 1e-12, (method, upper, true)
        if method in ("lanczos", "power"):
            # certified exactly when the analytic cap is what is returned
            analytic = float(lambda_max_bound(g, normalization=normalization).upper[0])
            assert cert == (upper == analytic)
    # the default scaling puts the spectrum of L̂ inside [-1, 1]
    lap = ScaledLaplacian.from_graph(g, normalization=normalization, dtype=torch.float64)
    mu = torch.linalg.eigvals(lap.to_dense()).real
    assert float(mu.min()) >= -1 - 1e-10 and float(mu.max()) <= 1 + 1e-10


def test_an_iterative_estimate_below_the_truth_is_never_certified():
    """The reason for the flag: 30 power steps on a 10x10 grid (bipartite, λ_max = 2 exactly)
    return θ(1 + 1e-2) + ‖r‖ < 2; scaling with it would put spec(L̂) outside [-1, 1]."""
    g = nx.grid_2d_graph(10, 10)
    est = lambda_max_bound(g, method="power", iters=30)
    assert float(est.upper[0]) < 2.0
    assert not bool(est.certified[0])
    lap = ScaledLaplacian.from_graph(g, lambda_max="power", dtype=torch.float64)
    assert not bool(lap.certified[0])
    assert float(torch.linalg.eigvalsh(lap.to_dense()).max()) > 1.0  # the danger, made visible
    # the default is the analytic bound, certified, and keeps the spectrum inside [-1, 1]
    lap = ScaledLaplacian.from_graph(g, dtype=torch.float64)
    assert bool(lap.certified[0])
    assert float(torch.linalg.eigvalsh(lap.to_dense()).abs().max()) <= 1 + 1e-12


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("normalization", [None, "sym", "rw"])
def test_an_edgeless_graph_gets_a_positive_certified_bound_and_a_finite_operator(
    method, normalization
):
    """L = 0 (no edges, no normalisation): the iterations return theta = res = 0, which is no
    bound to scale by; the analytic cap is used instead and L-hat is -I, never NaN."""
    graph = (torch.zeros(2, 0, dtype=torch.long), None, 5)
    est = lambda_max_bound(graph, normalization=normalization, method=method)
    assert float(est.upper[0]) > 0 and bool(torch.isfinite(est.lower).all())
    assert float(est.lower[0]) <= float(est.upper[0])
    lap = ScaledLaplacian.from_graph(
        graph, normalization=normalization, lambda_max=method, dtype=torch.float64
    )
    dense = lap.to_dense()
    assert bool(torch.isfinite(dense).all())
    if normalization is None:
        assert torch.equal(dense, -torch.eye(5, dtype=torch.float64))
        assert bool(lap.certified[0])


def test_batched_estimates_are_per_graph():
    graphs = [nx.cycle_graph(8), nx.star_graph(5), nx.barbell_graph(4, 0)]
    b = collate([GraphData(None, nx_edge_index(g), num_nodes=g.number_of_nodes()) for g in graphs])
    for normalization in ("sym", None):
        truth = [_true_lambda_max(g, normalization) for g in graphs]
        for method in METHODS:
            est = lambda_max_bound(b, normalization=normalization, method=method)
            assert est.upper.shape == (3,)
            for gi, t in enumerate(truth):
                assert float(est.lower[gi]) <= t + 1e-12
                if bool(est.certified[gi]):
                    assert float(est.upper[gi]) >= t
        exact = lambda_max_bound(b, normalization=normalization, method="exact")
        assert torch.allclose(exact.lower, torch.tensor(truth, dtype=torch.float64), atol=1e-9)
    # unnormalised analytic bound is 2·max degree of each graph, not of the batch
    est = lambda_max_bound(b, normalization=None)
    assert est.upper.tolist() == [4.0, 10.0, 8.0]


def test_explicit_lambda_max_below_a_rayleigh_bound_raises():
    g = nx.path_graph(10)
    with pytest.raises(InputError, match="lambda_max"):
        ScaledLaplacian.from_graph(g, lambda_max=1.5)  # edge Rayleigh quotient gives ≥ 1.5 + ...
    with pytest.raises(InputError, match="lambda_max"):
        ScaledLaplacian.from_graph(g, normalization=None, lambda_max=2.0)
    with pytest.raises(InputError, match="lambda_max"):
        ScaledLaplacian.from_graph(g, lambda_max=-1.0)
    # a valid explicit value is accepted, and reported uncertified if below the analytic bound
    odd = nx.cycle_graph(9)  # not bipartite: λ_max < 2
    exact = lambda_max_bound(odd, method="exact").upper
    lap = ScaledLaplacian.from_graph(odd, lambda_max=exact)
    assert not bool(lap.certified[0]) and float(lap.lambda_max[0]) == float(exact[0])
