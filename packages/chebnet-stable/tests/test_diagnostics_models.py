"""Sensitivity, Dirichlet energy, model plumbing and the lean path inside Stable-ChebNet."""

import networkx as nx
import pytest
import torch
from chebnet_testing import nx_edge_index

from chebnet_stable import (
    GCN,
    ChebNet,
    GraphData,
    ScaledLaplacian,
    StableChebConv,
    StableChebNet,
    collate,
    dirichlet_energy,
    euler_step_gain,
    jacobian_dense,
    jacobian_spectrum,
    sensitivity,
)
from sciml_core import InputError


def test_sensitivity_equals_the_dense_jacobian_block_norms():
    n = 9
    lap = ScaledLaplacian.from_graph(nx_edge_index(nx.path_graph(n)), dtype=torch.float64)
    torch.manual_seed(0)
    net = ChebNet(2, 4, 3, K=3, num_layers=2, act="tanh").double()
    x = torch.randn(n, 2, dtype=torch.float64)
    jac = jacobian_dense(lambda z: net(z.reshape(n, 2), lap), x).reshape(n, 3, n, 2)
    expected = jac[:, :, 0, :].pow(2).sum((1, 2)).sqrt()
    got = sensitivity(net, x, lap, 0)
    assert torch.allclose(got, expected, atol=1e-12)
    # two layers of K = 3 reach exactly 4 hops
    assert bool((got[5:] == 0).all()) and bool((got[:5] > 0).all())


def test_dirichlet_energy_is_the_unscaled_laplacian_quadratic_form():
    g = nx.barbell_graph(4, 0)
    ei = nx_edge_index(g)
    for normalization in ("sym", None):
        lap = ScaledLaplacian.from_graph(
            ei, normalization=normalization, dtype=torch.float64, lambda_max="exact"
        )
        x = torch.randn(8, 3, dtype=torch.float64)
        a = torch.tensor(nx.to_numpy_array(g, nodelist=range(8)))
        d = a.sum(1)
        lmat = torch.diag(d) - a
        if normalization == "sym":
            lmat = torch.eye(8, dtype=torch.float64) - a / torch.outer(d.sqrt(), d.sqrt())
        expected = torch.trace(x.t() @ lmat @ x)
        assert float(dirichlet_energy(x, lap)) == pytest.approx(float(expected), rel=1e-10)


def test_stable_memory_efficient_matches_plain_gradients():
    ei = nx_edge_index(nx.cycle_graph(12))
    lap = ScaledLaplacian.from_graph(ei, dtype=torch.float64)
    torch.manual_seed(1)
    plain = StableChebConv(4, 9, gamma=0.1, epsilon=0.3).double()
    lean = StableChebConv(4, 9, gamma=0.1, epsilon=0.3, memory_efficient=True).double()
    lean.load_state_dict(plain.state_dict())
    x = torch.randn(12, 4, dtype=torch.float64)
    grads = []
    for conv in (plain, lean):
        xx = x.clone().requires_grad_(True)
        conv(xx, lap).pow(2).sum().backward()
        grads.append((xx.grad, conv.V.grad, conv.bias.grad))
    for a, b in zip(*grads, strict=True):
        assert torch.allclose(a, b, atol=1e-10)
    # the strictly lower part of V is not a parameter of the triu form: its gradient is zero
    assert float(plain.V.grad.tril().abs().max()) == 0.0


def test_graph_readout_is_per_graph_and_batch_invariant():
    torch.manual_seed(0)
    graphs = [
        GraphData(torch.randn(n, 2), nx_edge_index(nx.cycle_graph(n)), y=torch.zeros(1, 1))
        for n in (5, 7, 4)
    ]
    b = collate(graphs)
    assert b.y.shape == (3, 1)
    for net in (
        StableChebNet(2, 6, 1, K=3, steps=2, epsilon=0.2, readout="graph"),
        ChebNet(2, 6, 1, K=3, num_layers=2, readout="graph"),
        GCN(2, 6, 1, num_layers=2, readout="graph"),
    ):
        out = net(b.x, b)
        assert out.shape == (3, 1)
        for i, g in enumerate(graphs):
            assert torch.allclose(out[i], net(g.x, g)[0], atol=1e-5)


def test_presets_hold_the_official_settings():
    from chebnet_stable import PRESETS

    net = StableChebNet.from_preset("peptides-func", 9, 10)
    assert (net.config["K"], net.config["steps"], net.config["epsilon"], net.config["gamma"]) == (
        10,
        3,
        0.45,
        0.1,
    )
    assert PRESETS["barbell"]["K"] == 20 and PRESETS["graphprop"]["epsilon"] == 0.7


def _path_lap():
    return ScaledLaplacian.from_graph(nx_edge_index(nx.path_graph(4)), dtype=torch.float64)


_A = torch.zeros(3, 2, 2, dtype=torch.float64)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        *(
            pytest.param(
                lambda eps=eps: euler_step_gain(_path_lap(), _A, epsilon=eps),
                "epsilon",
                id=f"epsilon={eps}",
            )
            for eps in (0.0, -0.5, float("nan"))
        ),
        pytest.param(
            lambda: euler_step_gain(_path_lap(), _A, epsilon=0.1, gamma=-1.0),
            "gamma",
            id="negative-gamma",
        ),
        pytest.param(
            lambda: jacobian_spectrum(_path_lap(), torch.zeros(3, 0, 0, dtype=torch.float64)),
            "weights",
            id="empty-weights",
        ),
        pytest.param(
            lambda: jacobian_spectrum(
                _path_lap(), torch.full((2, 2, 2), float("nan"), dtype=torch.float64)
            ),
            "weights",
            id="nan-weights",
        ),
    ],
)
def test_diagnostics_refuse_bad_steps_and_weights(call, name):
    with pytest.raises(InputError, match=rf"^{name}:"):
        call()
