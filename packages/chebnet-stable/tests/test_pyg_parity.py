"""Agreement with PyG's ChebConv and with a PyG re-derivation of the official Stable layer."""

import networkx as nx
import pytest
import torch
from chebnet_testing import er_edge_index, nx_edge_index

from chebnet_stable import (
    ChebConv,
    GraphData,
    ScaledLaplacian,
    StableChebConv,
    collate,
    lambda_max_bound,
)

pyg_nn = pytest.importorskip("torch_geometric.nn")


def _graphs(seed):
    """ER and BA graphs of different sizes, weighted, one with an isolated node."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for i, (kind, n) in enumerate([("er", 17), ("ba", 23), ("er", 11)]):
        if kind == "er":
            ei = er_edge_index(n, 0.3, seed + i)
        else:
            ei = nx_edge_index(nx.barabasi_albert_graph(n, 2, seed=seed + i))
        # symmetric positive weights
        w_half = torch.rand(ei.shape[1] // 2, generator=gen, dtype=torch.float64) + 0.1
        w = torch.cat([w_half, w_half]).float()
        out.append(GraphData(torch.randn(n, 5, generator=gen), ei, w))
    return out


def _run(module, x, *args, **kwargs):
    x = x.clone().requires_grad_(True)
    y = module(x, *args, **kwargs)
    probe = torch.randn(y.shape, generator=torch.Generator().manual_seed(7))
    (g,) = torch.autograd.grad((y * probe).sum(), x)
    return y.detach(), g


@pytest.mark.parametrize("normalization", ["sym", "rw", None])
@pytest.mark.parametrize("K", [1, 2, 3, 7])
@pytest.mark.parametrize("weighted", [False, True])
def test_chebconv_matches_pyg_on_single_graphs(normalization, K, weighted):
    torch.manual_seed(K)
    peer = pyg_nn.ChebConv(5, 4, K, normalization=normalization)
    torch.nn.init.normal_(peer.bias)
    ours = ChebConv.from_pyg(peer)
    for g in _graphs(K):
        w = g.edge_weight if weighted else None
        exact = float(
            lambda_max_bound(
                (g.edge_index, w, g.num_nodes), normalization=normalization, method="exact"
            ).upper[0]
        )
        for lam in (None, 3.5 if normalization else 1.25 * exact):
            yp, gp = _run(peer, g.x, g.edge_index, w, lambda_max=lam)
            yo, go = _run(ours, g.x, (g.edge_index, w, g.num_nodes), lambda_max=lam)
            assert torch.allclose(yo, yp, atol=1e-5, rtol=1e-5)
            assert torch.allclose(go, gp, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("normalization", ["sym", "rw", None])
@pytest.mark.parametrize("strategy", ["accumulate", "stacked", "clenshaw"])
def test_chebconv_matches_pyg_on_batches_with_per_graph_lambda_max(normalization, strategy):
    torch.manual_seed(0)
    peer = pyg_nn.ChebConv(5, 4, 5, normalization=normalization)
    ours = ChebConv.from_pyg(peer, strategy=strategy)
    b = collate(_graphs(3))
    exact = lambda_max_bound(b, normalization=normalization, method="exact").upper.float()
    for lam in (exact, torch.tensor([2.0, 3.0, 4.0]) * (1 if normalization else 8)):
        yp, gp = _run(peer, b.x, b.edge_index, b.edge_weight, batch=b.batch, lambda_max=lam)
        yo, go = _run(ours, b.x, b, lambda_max=lam)
        assert torch.allclose(yo, yp, atol=1e-5, rtol=1e-5)
        assert torch.allclose(go, gp, atol=1e-5, rtol=1e-5)
    # the warm path (a cached ScaledLaplacian) gives the same numbers
    lap = ScaledLaplacian.from_graph(b, normalization=normalization, lambda_max=exact)
    yp, _ = _run(peer, b.x, b.edge_index, b.edge_weight, batch=b.batch, lambda_max=exact)
    assert torch.allclose(ours(b.x, lap), yp, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("normalization", ["sym", "rw"])
def test_default_lambda_max_matches_pyg_on_batches(normalization):
    torch.manual_seed(1)
    peer = pyg_nn.ChebConv(5, 3, 4, normalization=normalization)
    ours = ChebConv.from_pyg(peer)
    b = collate(_graphs(5))
    yp, gp = _run(peer, b.x, b.edge_index, b.edge_weight, batch=b.batch)
    yo, go = _run(ours, b.x, b)
    assert torch.allclose(yo, yp, atol=1e-5, rtol=1e-5)
    assert torch.allclose(go, gp, atol=1e-5, rtol=1e-5)


def test_the_one_intended_difference_is_batched_unnormalised_without_lambda_max():
    """PyG takes 2·max degree over the whole batch, we take it per graph: outputs differ there
    (only on graphs whose own max degree is below the batch's), and ours are batch invariant."""
    torch.manual_seed(2)
    peer = pyg_nn.ChebConv(5, 3, 4, normalization=None)
    ours = ChebConv.from_pyg(peer)
    graphs = _graphs(9)
    b = collate(graphs)
    yp, _ = _run(peer, b.x, b.edge_index, b.edge_weight, batch=b.batch)
    yo, _ = _run(ours, b.x, b)
    per_graph = lambda_max_bound(b, normalization=None).upper
    top = int(per_graph.argmax())
    for gi, g in enumerate(graphs):
        sel = b.batch == gi
        same = torch.allclose(yo[sel], yp[sel], atol=1e-5, rtol=1e-5)
        assert same == (float(per_graph[gi]) == float(per_graph[top]))
        alone = ours(g.x, g)
        assert torch.allclose(yo[sel], alone, atol=1e-5, rtol=1e-5)
        yp_alone, _ = _run(peer, g.x, g.edge_index, g.edge_weight)
        assert torch.allclose(alone, yp_alone, atol=1e-5, rtol=1e-5)


def test_to_pyg_state_dict_loads_into_pyg():
    torch.manual_seed(3)
    ours = ChebConv(5, 4, 6, normalization="sym")
    torch.nn.init.normal_(ours.bias)
    peer = pyg_nn.ChebConv(5, 4, 6, normalization="sym")
    peer.load_state_dict(ours.to_pyg_state_dict())
    g = _graphs(4)[0]
    assert torch.allclose(ours(g.x, g), peer(g.x, g.edge_index, g.edge_weight), atol=1e-5)


class _OfficialStableLayer(torch.nn.Module):
    """Our re-derivation of the authors' Euler layer on top of PyG's ChebConv, written from eq. 9
    and the description of the official code: the weight of order k is V_k - V_k^T - γ c_k I
    applied through PyG's Linear (x @ W^T), bias inside the ε-scaled update, λ_max = 2, 'sym'."""

    def __init__(self, d, K, eps, gamma, c):
        super().__init__()
        self.cheb = pyg_nn.ChebConv(d, d, K, normalization="sym")
        self.V = torch.nn.Parameter(torch.randn(K, d, d).triu(1))
        self.eps, self.gamma, self.c = eps, gamma, c

    def forward(self, x, edge_index):
        eye = torch.eye(x.shape[1])
        with torch.no_grad():
            for k, lin in enumerate(self.cheb.lins):
                lin.weight.copy_(self.V[k] - self.V[k].t() - self.gamma * self.c[k] * eye)
        return x + self.eps * self.cheb(x, edge_index)


@pytest.mark.parametrize("damping", ["per_order", "identity", "fejer"])
def test_stable_layer_matches_official_formula(damping):
    torch.manual_seed(4)
    d, K, eps, gamma = 6, 5, 0.45, 0.1
    c = {
        "per_order": [1.0] * K,
        "identity": [1.0] + [0.0] * (K - 1),
        "fejer": [1 - k / K for k in range(K)],
    }
    official = _OfficialStableLayer(d, K, eps, gamma, c[damping])
    torch.nn.init.normal_(official.cheb.bias)
    ours = StableChebConv(d, K, epsilon=eps, gamma=gamma, damping=damping)
    with torch.no_grad():
        # PyG's Linear applies W^T: the official A_k = V - V^T enters negated, so V_ours = -V
        ours.V.copy_(-official.V.detach())
        ours.bias.copy_(official.cheb.bias)
    g = _graphs(6)[1]
    x = torch.randn(g.num_nodes, d)
    assert torch.allclose(ours(x, g.edge_index), official(x, g.edge_index), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("normalization", ["sym", "rw", None])
def test_directed_graphs_with_symmetrize_false_match_pyg(normalization):
    """symmetrize=False keeps PyG's directed operator (source degrees, messages to targets)."""
    gen = torch.Generator().manual_seed(11)
    ei = torch.randint(0, 15, (2, 40), generator=gen)
    ei = ei[:, ei[0] != ei[1]]
    w = torch.rand(ei.shape[1], generator=gen) + 0.1
    x = torch.randn(15, 5, generator=gen)
    torch.manual_seed(5)
    peer = pyg_nn.ChebConv(5, 4, 4, normalization=normalization)
    ours = ChebConv.from_pyg(peer, symmetrize=False)
    lam = 2.0 if normalization else 40.0
    yp, gp = _run(peer, x, ei, w, lambda_max=lam)
    yo, go = _run(ours, x, (ei, w, 15), lambda_max=lam)
    assert torch.allclose(yo, yp, atol=1e-5, rtol=1e-5)
    assert torch.allclose(go, gp, atol=1e-5, rtol=1e-5)


def test_bench_peer_stack_is_the_official_layer():
    """The PyG-based peer timed by `bench` computes the same step as StableChebConv + tanh."""
    from chebnet_stable._experiments.bench import _pyg_stable_stack

    torch.manual_seed(8)
    d, K, eps, gamma = 5, 4, 0.7, 0.01
    (peer,) = _pyg_stable_stack(pyg_nn, d, K, 1, eps, gamma)
    ours = StableChebConv(d, K, epsilon=eps, gamma=gamma)
    with torch.no_grad():
        torch.nn.init.normal_(ours.bias)
        peer.V.copy_(-ours.V)
        peer.cheb.bias.copy_(ours.bias)
    g = _graphs(2)[0]
    x = torch.randn(g.num_nodes, d)
    expected = torch.tanh(ours(x, g.edge_index))
    assert torch.allclose(peer(x, g.edge_index), expected, atol=1e-5)
