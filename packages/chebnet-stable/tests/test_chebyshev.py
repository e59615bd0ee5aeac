"""The Chebyshev recursion, its strategies and backends, and the memory-lean backward."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from chebnet_testing import er_edge_index, nx_edge_index

from chebnet_stable import (
    ChebConv,
    GraphData,
    ScaledLaplacian,
    cheb_basis,
    cheb_filter,
    collate,
    jacobian_dense,
)

BACKENDS = ("csr", "scatter", "dense")
STRATEGIES = ("accumulate", "stacked", "clenshaw")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("normalization", ["sym", None])
def test_chebyshev_basis_matches_dense_oracle(backend, normalization):
    """T_k(L̂) x = U cos(k arccos μ) U^T x, for a symmetric L̂, to 1e-10."""
    n, K = 25, 12
    ei = er_edge_index(n, 0.2, 0)
    lap = ScaledLaplacian.from_graph(
        ei, normalization=normalization, backend=backend, dtype=torch.float64
    )
    mu, u = torch.linalg.eigh(lap.to_dense())
    assert float(mu.abs().max()) <= 1 + 1e-12
    x = torch.randn(n, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    theta = torch.arccos(mu.clamp(-1, 1))
    for k, tk in enumerate(cheb_basis(lap, x, K)):
        oracle = u @ (torch.cos(k * theta)[:, None] * (u.t() @ x))
        assert torch.allclose(tk, oracle, atol=1e-10, rtol=0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("normalization", ["sym", "rw", None])
def test_strategies_and_backends_agree_with_the_dense_sum(backend, strategy, normalization):
    """Σ_k T_k(M) X Θ_k with M the dense applied operator (also for the non-symmetric 'rw')."""
    n, K = 20, 6
    ei = er_edge_index(n, 0.25, 1)
    lap = ScaledLaplacian.from_graph(
        ei, normalization=normalization, backend=backend, dtype=torch.float64
    )
    m = lap.to_dense()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(n, 4, dtype=torch.float64, generator=gen)
    w = torch.randn(K, 4, 3, dtype=torch.float64, generator=gen)
    t0, t1 = torch.eye(n, dtype=torch.float64), m
    oracle = t0 @ x @ w[0] + t1 @ x @ w[1]
    for k in range(2, K):
        t0, t1 = t1, 2 * m @ t1 - t0
        oracle = oracle + t1 @ x @ w[k]
    out = cheb_filter(lap, x, w, strategy=strategy)
    assert torch.allclose(out, oracle, atol=1e-10, rtol=0)
    # many signals on one shared graph: [B, N, F]
    xb = torch.stack([x, 2 * x])
    outb = cheb_filter(lap, xb, w, strategy=strategy)
    assert torch.allclose(outb[1], 2 * oracle, atol=1e-10, rtol=0)


def test_k_is_number_of_terms():
    """K = 1 is a linear layer; output node v depends on no node more than K - 1 hops away."""
    g = nx.path_graph(12)
    ei = nx_edge_index(g)
    torch.manual_seed(0)
    conv1 = ChebConv(3, 2, K=1).double()
    torch.nn.init.normal_(conv1.bias)
    x = torch.randn(12, 3, dtype=torch.float64)
    assert torch.allclose(conv1(x, ei), x @ conv1.weight[0] + conv1.bias, atol=1e-14)
    hops = dict(nx.all_pairs_shortest_path_length(g))
    for K in (2, 4, 7):
        conv = ChebConv(3, 2, K=K).double()
        lap = ScaledLaplacian.from_graph(ei, dtype=torch.float64)
        jac = jacobian_dense(lambda z, conv=conv, lap=lap: conv(z, lap), x).reshape(12, 2, 12, 3)
        reach = jac.abs().sum((1, 3))  # [target, source]
        for v in range(12):
            for u in range(12):
                if hops[v][u] > K - 1:
                    assert float(reach[v, u]) == 0.0
                elif hops[v][u] == K - 1:
                    assert float(reach[v, u]) > 0.0


def test_chebyshev_ring_is_exact_shift():
    """The exact |T_k(L̂)| entries of spec §3.4 at λ_max = 2 (sym)."""

    def entry(g, k, u, v):
        g = nx.convert_node_labels_to_integers(g)
        lap = ScaledLaplacian.from_graph(g, dtype=torch.float64)
        x = torch.zeros(g.number_of_nodes(), 1, dtype=torch.float64)
        x[u] = 1.0
        return abs(float(list(cheb_basis(lap, x, k + 1))[-1][v, 0]))

    assert entry(nx.cycle_graph(40), 20, 0, 20) == pytest.approx(1.0, abs=1e-12)
    assert entry(nx.path_graph(41), 20, 0, 20) == pytest.approx(0.7071, abs=1e-4)
    assert entry(nx.path_graph(41), 40, 0, 40) == pytest.approx(1.0, abs=1e-12)
    assert entry(nx.grid_2d_graph(8, 8), 14, 0, 63) == pytest.approx(0.6474, abs=1e-4)
    assert entry(nx.barbell_graph(10, 0), 3, 0, 11) == pytest.approx(0.004444, abs=1e-6)


@pytest.mark.parametrize("normalization", ["sym", "rw", None])
def test_batch_invariance(normalization):
    """A graph's output does not depend on the other graphs of its batch (per-graph λ_max)."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    graphs = []
    for i, n in enumerate((9, 14, 6)):
        ei = er_edge_index(n, 0.4, 10 + i)
        w_half = torch.rand(ei.shape[1] // 2, generator=gen, dtype=torch.float64) * (i + 1)
        graphs.append(GraphData(torch.randn(n, 3, generator=gen), ei, torch.cat([w_half, w_half])))
    conv = ChebConv(3, 2, K=5, normalization=normalization)
    for lam in (None, "exact", "lanczos"):
        out = conv(collate(graphs).x, collate(graphs), lambda_max=lam)
        out_rev = conv(collate(graphs[::-1]).x, collate(graphs[::-1]), lambda_max=lam)
        off = 0
        offs_rev = np.cumsum([0] + [g.num_nodes for g in graphs[::-1]])
        for i, g in enumerate(graphs):
            alone = conv(g.x, g, lambda_max=lam)
            assert torch.allclose(out[off : off + g.num_nodes], alone, atol=1e-5)
            j = len(graphs) - 1 - i
            assert torch.allclose(out_rev[offs_rev[j] : offs_rev[j + 1]], alone, atol=1e-5)
            off += g.num_nodes


def test_graph_formats_agree():
    """edge_index, tuple, torch dense/sparse, numpy, scipy, networkx and GraphData give one L̂."""
    g = nx.Graph()
    g.add_nodes_from(range(7))
    rng = np.random.default_rng(0)
    for u, v in nx.gnp_random_graph(7, 0.5, seed=3).edges():
        g.add_edge(u, v, weight=float(rng.uniform(0.5, 2)))
    a = nx.to_numpy_array(g, nodelist=range(7), weight="weight")
    coo = sp.coo_matrix(a)
    ei = torch.tensor(np.vstack([coo.row, coo.col]), dtype=torch.long)
    w = torch.tensor(coo.data)
    forms = [
        (ei, w, 7),
        GraphData(None, ei, w, num_nodes=7),
        torch.tensor(a),
        torch.tensor(a).to_sparse(),
        torch.tensor(a).to_sparse_csr(),
        a,
        sp.csr_matrix(a),
        g,
    ]
    ref = ScaledLaplacian.from_graph(forms[0], dtype=torch.float64).to_dense()
    for form in forms[1:]:
        dense = ScaledLaplacian.from_graph(form, dtype=torch.float64).to_dense()
        assert torch.allclose(dense, ref, atol=1e-14), type(form)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("normalization", ["sym", "rw"])
def test_memory_efficient_gradcheck(strategy, normalization):
    """fp64 gradcheck of the recomputing backward; values and gradients equal plain autograd."""
    n, K = 10, 6
    ei = er_edge_index(n, 0.35, 4)
    lap = ScaledLaplacian.from_graph(ei, normalization=normalization, dtype=torch.float64)
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(n, 3, dtype=torch.float64, generator=gen, requires_grad=True)
    w = torch.randn(K, 3, 2, dtype=torch.float64, generator=gen, requires_grad=True)

    def lean(x, w):
        return cheb_filter(lap, x, w, strategy=strategy, memory_efficient=True)

    assert torch.autograd.gradcheck(lean, (x, w))
    probe = torch.randn(n, 2, dtype=torch.float64, generator=gen)
    plain = cheb_filter(lap, x, w, strategy=strategy)
    ours = lean(x, w)
    assert torch.allclose(ours, plain, atol=1e-12)
    g_plain = torch.autograd.grad((plain * probe).sum(), (x, w))
    g_lean = torch.autograd.grad((ours * probe).sum(), (x, w))
    for a, b in zip(g_lean, g_plain, strict=True):
        assert torch.allclose(a, b, atol=1e-10, rtol=0)


def _grads(conv, lap, x, probe):
    xx = x.clone().requires_grad_(True)
    conv.zero_grad()
    (conv(xx, lap) * probe).sum().backward()
    return [xx.grad, conv.weight.grad, conv.bias.grad]


@pytest.mark.parametrize("K", [2, 17, 64, 200])
def test_memory_efficient_gradients_equal_autograd(K):
    """The issue's bar, 1e-6, in float64 (ER graph, K up to 200); in float32 the lean path is as
    accurate as plain autograd against the float64 truth (the two only round differently)."""
    n = 60
    ei = er_edge_index(n, 0.1, 5)
    torch.manual_seed(K)
    plain = ChebConv(8, 4, K).double()
    lean = ChebConv(8, 4, K, memory_efficient=True).double()
    lean.load_state_dict(plain.state_dict())
    lap = ScaledLaplacian.from_graph(ei, dtype=torch.float64)
    x = torch.randn(n, 8, dtype=torch.float64)
    probe = torch.randn(n, 4, dtype=torch.float64)
    truth = _grads(plain, lap, x, probe)
    for a, b in zip(_grads(lean, lap, x, probe), truth, strict=True):
        assert float((a - b).abs().max()) <= 1e-6 * max(1.0, float(b.abs().max()))
    errs = {}
    for name, conv in (("plain", plain), ("lean", lean)):
        g32 = _grads(conv.float(), lap.to(dtype=torch.float32), x.float(), probe.float())
        errs[name] = max(
            float((a.double() - b).abs().max() / b.abs().max())
            for a, b in zip(g32, truth, strict=True)
        )
    assert errs["lean"] <= 4 * errs["plain"] + 1e-6, errs


def _saved_node_bytes(conv, lap, x):
    """Bytes of distinct node-sized tensors ([N, ...]) autograd keeps for the backward pass."""
    saved = {}

    def pack(t):
        if t.dim() >= 1 and t.shape[0] == x.shape[0]:
            saved[(t.data_ptr(), tuple(t.shape))] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        conv(x.clone().requires_grad_(True), lap).sum().backward()
    return sum(saved.values())


def test_memory_efficient_backward_keeps_activation_memory_flat_in_K():
    """The lean path saves X only (O(N·F) whatever K); plain autograd keeps every T_kX."""
    n, f = 200, 8
    lap = ScaledLaplacian.from_graph(er_edge_index(n, 0.05, 6))
    x = torch.randn(n, f)
    lean, plain = {}, {}
    for K in (8, 128):
        lean[K] = _saved_node_bytes(ChebConv(f, f, K, memory_efficient=True), lap, x)
        plain[K] = _saved_node_bytes(ChebConv(f, f, K), lap, x)
    assert lean[8] == lean[128] == n * f * 4
    assert plain[128] > 10 * plain[8] > 10 * lean[8]
