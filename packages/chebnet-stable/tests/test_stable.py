"""Stable-ChebNet's guarantees: imaginary spectrum, damping shifts, exact Euler gains, bounds."""

import math

import networkx as nx
import pytest
import torch
from chebnet_testing import er_edge_index, nx_edge_index

from chebnet_stable import (
    ChebConv,
    ScaledLaplacian,
    StableChebConv,
    damping_kernel,
    euler_step_gain,
    jacobian_dense,
    jacobian_spectrum,
    layer_gain,
)
from chebnet_stable._models import StableChebNet

N, D = 8, 3


def _lap(seed=0, n=N):
    ei = er_edge_index(n, 0.4, seed)
    return ScaledLaplacian.from_graph((ei, None, n), dtype=torch.float64)


def _linear_ode(lap, w):
    """X ↦ Σ_k T_k(L̂) X W_k (no bias): the right-hand side of eq. 7."""
    from chebnet_stable import cheb_filter

    return lambda z: cheb_filter(lap, z.reshape(lap.num_nodes, -1), w)


def _antisym(K, d, seed):
    v = torch.randn(K, d, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    return v - v.transpose(1, 2)


def _match(a, b):
    """Max over a of the distance to the nearest element of b (multisets of equal size)."""
    return float(torch.cdist(torch.view_as_real(a), torch.view_as_real(b)).min(1).values.max())


@pytest.mark.parametrize("K", [1, 2, 3, 6])
def test_stable_jacobian_is_purely_imaginary(K):
    lap = _lap(K)
    a = _antisym(K, D, K)
    x = torch.randn(N, D, dtype=torch.float64)
    dense = torch.linalg.eigvals(jacobian_dense(_linear_ode(lap, a), x))
    assert float(dense.real.abs().max()) < 1e-10
    exact = jacobian_spectrum(lap, a)
    assert _match(dense, exact) < 1e-8 and _match(exact, dense) < 1e-8


def test_negative_controls_are_not_imaginary():
    lap = _lap(1)
    x = torch.randn(N, D, dtype=torch.float64)
    free = torch.randn(3, D, D, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    assert (
        float(torch.linalg.eigvals(jacobian_dense(_linear_ode(lap, free), x)).real.abs().max())
        > 1e-3
    )
    # a directed graph, kept directed: L̂ is not symmetric and Theorem 3 does not apply
    gen = torch.Generator().manual_seed(4)
    ei = torch.randint(0, N, (2, 20), generator=gen)
    ei = ei[:, ei[0] != ei[1]]
    w = torch.rand(ei.shape[1], generator=gen, dtype=torch.float64) + 0.1
    directed = ScaledLaplacian.from_graph((ei, w, N), symmetrize=False, dtype=torch.float64)
    assert not directed.symmetric
    eig = torch.linalg.eigvals(jacobian_dense(_linear_ode(directed, _antisym(3, D, 5)), x))
    assert float(eig.real.abs().max()) > 1e-3


@pytest.mark.parametrize("damping", ["per_order", "identity", "fejer"])
def test_damping_modes_shift_real_parts(damping):
    """Re λ = −γ s_c(μ_i), d times per Laplacian mode μ_i."""
    K, gamma = 5, 0.1
    lap = _lap(2)
    conv = StableChebConv(D, K, gamma=gamma, damping=damping).double()
    x = torch.randn(N, D, dtype=torch.float64)
    dense = torch.linalg.eigvals(jacobian_dense(_linear_ode(lap, conv.weights().detach()), x))
    mu = torch.linalg.eigvalsh(lap.to_dense())
    expected = (-gamma * damping_kernel(K, mu, damping=damping)).repeat_interleave(D)
    assert torch.allclose(dense.real.sort().values, expected.sort().values, atol=1e-10)
    assert _match(dense, jacobian_spectrum(lap, conv)) < 1e-8


def test_damping_kernel_reproduces_the_anti_damping_table():
    mu = torch.linspace(-1, 1, 200_001, dtype=torch.float64)
    table = {
        2: (0.0, 0.0),
        3: (0.25, -0.125),
        4: (0.25, -0.316),
        8: (0.25, -1.154),
        10: (0.25, -1.583),
        20: (0.25, -3.745),
    }
    for K, (frac, smin) in table.items():
        s = damping_kernel(K, mu)
        assert float((s < -1e-12).double().mean()) == pytest.approx(frac, abs=1e-3)
        assert float(s.min()) == pytest.approx(smin, abs=1e-3)
        assert float(damping_kernel(K, mu, damping="fejer").min()) >= 0.5 - 1e-12
        assert torch.equal(damping_kernel(K, mu, damping="identity"), torch.ones_like(mu))


@pytest.mark.parametrize("damping", ["per_order", "identity", "fejer"])
@pytest.mark.parametrize("gamma", [0.0, 0.1])
def test_euler_step_gain_equals_measured_gain(damping, gamma):
    """σ_max of the dense Jacobian of one linear step = euler_step_gain = max|1 + ελ| (normal)."""
    K, eps = 4, 0.45
    lap = _lap(3)
    conv = StableChebConv(D, K, epsilon=eps, gamma=gamma, damping=damping, bias=False).double()
    x = torch.randn(N, D, dtype=torch.float64)
    jac = jacobian_dense(lambda z: conv(z.reshape(N, D), lap), x)
    measured = float(torch.linalg.matrix_norm(jac, ord=2))
    gain = euler_step_gain(lap, conv)
    assert gain == pytest.approx(measured, abs=1e-10)
    spectrum = jacobian_spectrum(lap, conv)
    assert gain == pytest.approx(float((1 + eps * spectrum).abs().max()), abs=1e-10)
    if gamma == 0:
        assert gain > 1.0  # forward Euler on an imaginary spectrum always amplifies


@pytest.mark.parametrize("K", [2, 16, 64])
@pytest.mark.parametrize("steps", [4, 16])
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_multistep_gain_bound_with_inv_sqrt_K(K, steps, act):
    """‖∂X_L/∂X_0‖₂ ≤ Π_l euler_step_gain(step l) at the effective ε = ε/√K (+1e-10)."""
    torch.manual_seed(K + steps)
    n, d = 10, 3
    lap = ScaledLaplacian.from_graph(nx_edge_index(nx.cycle_graph(n)), dtype=torch.float64)
    net = StableChebNet(
        d, d, 1, K=K, steps=steps, epsilon=0.5, act=act, epsilon_scaling="inv_sqrt_K"
    ).double()
    for conv in net.convs:
        torch.nn.init.normal_(conv.bias, std=0.1)
        assert conv.effective_epsilon == pytest.approx(0.5 / math.sqrt(K))
    x = torch.randn(n, d, dtype=torch.float64)
    jac = jacobian_dense(lambda z: net.propagate(z.reshape(n, d), lap), x)
    measured = float(torch.linalg.matrix_norm(jac, ord=2))
    bound = math.prod(euler_step_gain(lap, conv) for conv in net.convs)
    assert measured <= bound + 1e-10


def test_linear_sensitivity_matches_theorem_2():
    """∂x_v^{(L)}/∂x_u^{(0)} = [Π_l Σ_k T_k(L̂) w_k^{(l)}]_{v,u} for scalar linear ChebNet."""
    n = 9
    lap = ScaledLaplacian.from_graph(nx_edge_index(nx.path_graph(n)), dtype=torch.float64)
    torch.manual_seed(0)
    layers = [ChebConv(1, 1, K, bias=False).double() for K in (3, 4, 2)]

    def net(z):
        h = z.reshape(n, 1)
        for layer in layers:
            h = layer(h, lap)
        return h

    jac = jacobian_dense(net, torch.randn(n, 1, dtype=torch.float64))
    m = lap.to_dense()
    prod = torch.eye(n, dtype=torch.float64)
    for layer in layers:
        t0, t1 = torch.eye(n, dtype=torch.float64), m
        s = layer.weight[0, 0, 0] * t0
        for k in range(1, layer.K):
            s = s + layer.weight[k, 0, 0] * t1
            t0, t1 = t1, 2 * m @ t1 - t0
        prod = s.detach() @ prod
    assert torch.allclose(jac, prod, atol=1e-12)


@pytest.mark.parametrize("K", [2, 10, 50])
def test_init_gain(K):
    """Glorot per term: gain ≈ √((K+1)/2) (±15 %); variance-preserving: gain in [0.8, 1.25]."""
    torch.manual_seed(K)
    n, d = 300, 32
    lap = ScaledLaplacian.from_graph((er_edge_index(n, 8 / n, K), None, n))
    x = torch.randn(n, d)
    glorot = ChebConv(d, d, K)
    assert layer_gain(glorot, x, lap) == pytest.approx(math.sqrt((K + 1) / 2), rel=0.15)
    vp = ChebConv(d, d, K, init="variance_preserving")
    assert 0.8 <= layer_gain(vp, x, lap) <= 1.25


def test_antisymmetric_parametrisations():
    for param in ("triu", "full"):
        conv = StableChebConv(4, 3, param=param, gamma=0.2, damping="fejer")
        a = conv.antisymmetric_weights()
        assert torch.equal(a, -a.transpose(1, 2))
        w = conv.weights()
        c = torch.tensor([1.0, 2 / 3, 1 / 3])
        assert torch.allclose(w - a, -0.2 * c[:, None, None] * torch.eye(4))
