"""The Cayley step (integrator='cayley'): norm-preserving linear part by construction, exact
against a dense solve, gradients included; bounded end-to-end Jacobian at depth 64."""

import pytest
import torch
from chebnet_testing import er_edge_index

from chebnet_stable import ScaledLaplacian, StableChebConv
from chebnet_stable._models import StableChebNet
from sciml_core import InputError

N, D = 10, 4


def _lap(dtype, seed=0, n=N):
    return ScaledLaplacian.from_graph((er_edge_index(n, 0.4, seed), None, n), dtype=dtype)


def _pair(K, eps, dtype, *, seed=0, bias=False, **kw):
    torch.manual_seed(seed)
    cay = StableChebConv(D, K, epsilon=eps, bias=bias, integrator="cayley", **kw).to(dtype)
    eul = StableChebConv(D, K, epsilon=eps, bias=bias, **kw).to(dtype)
    eul.load_state_dict(cay.state_dict())
    return cay, eul


def _dense_m(conv, lap):
    """M with vec_row(sum_k T_k X W_k) = M vec_row(X): M = sum_k T_k (x) W_k^T."""
    t_prev = torch.eye(lap.num_nodes, dtype=torch.float64)
    t = lap.to_dense().to(torch.float64)
    w = conv.weights().to(torch.float64)
    m = torch.kron(t_prev, w[0].T.contiguous())
    for k in range(1, w.shape[0]):
        m = m + torch.kron(t, w[k].T.contiguous())
        t_prev, t = t, 2 * lap.to_dense().to(torch.float64) @ t - t_prev
    return m


@pytest.mark.parametrize(("K", "eps"), [(2, 0.1), (4, 0.45), (10, 0.45), (10, 1.0)])
def test_cayley_step_gain_is_one_in_float32(K, eps):
    lap = _lap(torch.float32)
    cay, eul = _pair(K, eps, torch.float32)
    m = _dense_m(cay, lap)
    # the directions Euler amplifies most (top right-singular vectors of M), and random ones
    _, _, vh = torch.linalg.svd(m)
    probes = [v.reshape(N, D).float() for v in vh[:4]]
    g = torch.Generator().manual_seed(1)
    probes += [torch.randn(N, D, generator=g) for _ in range(8)]
    with torch.no_grad():
        gains = [float(cay(x, lap).norm() / x.norm()) for x in probes]
        euler = max(float(eul(x, lap).norm() / x.norm()) for x in probes)
    assert max(abs(gain - 1.0) for gain in gains) <= 1e-5
    assert euler > 1.0 + 1e-3  # forward Euler on the same weights amplifies


@pytest.mark.parametrize("K", [3, 6])
def test_cayley_step_equals_the_dense_midpoint_solve_with_gradients(K):
    lap = _lap(torch.float64)
    cay, _ = _pair(K, 0.7, torch.float64, bias=True, solver_tol=1e-13)
    with torch.no_grad():
        cay.bias.normal_(generator=torch.Generator().manual_seed(2))
    x = torch.randn(N, D, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    probe = torch.randn(N, D, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    y = cay(x, lap)
    grads = torch.autograd.grad((y * probe).sum(), [cay.V, cay.bias])
    h, eye = 0.35, torch.eye(N * D, dtype=torch.float64)
    m = _dense_m(cay, lap)
    rhs = (eye + h * m) @ x.reshape(-1) + 0.7 * cay.bias.repeat(N)
    ref = torch.linalg.solve(eye - h * m, rhs).reshape(N, D)
    ref_grads = torch.autograd.grad((ref * probe).sum(), [cay.V, cay.bias])
    assert float((y - ref).detach().abs().max()) < 1e-11
    for got, want in zip(grads, ref_grads, strict=True):
        assert float((got - want).abs().max()) < 1e-9 * max(1.0, float(want.abs().max()))


def _stack_matrix(convs, lap, n=N, d=D):
    """The matrix of a stack of (linear) steps, column by column from the basis vectors."""
    cols = []
    with torch.no_grad():
        for j in range(n * d):
            h = torch.zeros(n * d, dtype=torch.float64)
            h[j] = 1.0
            h = h.reshape(n, d)
            for conv in convs:
                h = conv(h, lap)
            cols.append(h.reshape(-1))
    return torch.stack(cols, dim=1)


def _convs(integrator, depth, d=D, **kw):
    torch.manual_seed(0)
    return [
        StableChebConv(d, 4, epsilon=0.45, bias=False, integrator=integrator, **kw).double()
        for _ in range(depth)
    ]


def test_end_to_end_map_of_64_cayley_steps_is_orthogonal():
    n, d = 6, 3
    lap = _lap(torch.float64, n=n)
    phi = _stack_matrix(_convs("cayley", 64, d=d, solver_tol=1e-12), lap, n, d)
    gram = phi.T @ phi
    assert float((gram - torch.eye(n * d, dtype=torch.float64)).abs().max()) < 1e-8
    euler = _stack_matrix(_convs("euler", 64, d=d), lap, n, d)  # same weights (same seed)
    assert float(torch.linalg.matrix_norm(euler, ord=2)) > 10.0  # Euler's grows with depth


@pytest.mark.parametrize(("integrator", "bounded"), [("cayley", True), ("euler", False)])
def test_model_jacobian_at_depth_64_is_bounded_only_with_the_cayley_step(integrator, bounded):
    # small inputs keep tanh near its linear regime, where the steps' gains multiply
    n, d = 6, 2
    lap = _lap(torch.float64, n=n)
    torch.manual_seed(0)
    net = StableChebNet(d, d, 1, K=4, steps=64, epsilon=0.45, integrator=integrator).double()
    for conv in net.convs:
        conv.solver_tol = 1e-12
    x = 1e-6 * torch.randn(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    jac = torch.autograd.functional.jacobian(
        lambda z: net.propagate(z.reshape(n, d), lap), x, vectorize=True
    ).reshape(n * d, n * d)
    top = float(torch.linalg.matrix_norm(jac, ord=2))
    if bounded:
        assert 0.99 < top <= 1.0 + 1e-8
    else:
        assert top > 10.0


@pytest.mark.parametrize("damping", ["identity", "fejer"])
def test_cayley_step_with_nonnegative_damping_contracts(damping):
    lap = _lap(torch.float64)
    cay, _ = _pair(6, 0.45, torch.float64, gamma=0.2, damping=damping, solver_tol=1e-12)
    assert float(torch.linalg.matrix_norm(_stack_matrix([cay], lap), ord=2)) < 1.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"integrator": "rk4"}, "integrator: expected one of"),
        ({"integrator": "cayley", "inner_act": torch.tanh}, "inner_act: the Cayley step"),
        ({"integrator": "cayley", "solver_tol": 0.0}, "solver_tol"),
        ({"integrator": "cayley", "solver_max_iter": 0}, "solver_max_iter"),
    ],
)
def test_bad_cayley_options_raise_naming_the_argument(kwargs, match):
    with pytest.raises(InputError, match=match):
        StableChebConv(D, 3, **kwargs)


def test_a_cayley_solve_stopped_by_its_iteration_cap_warns():
    lap = _lap(torch.float64)
    cay, _ = _pair(6, 1.0, torch.float64, solver_tol=1e-14, solver_max_iter=1)
    with pytest.warns(RuntimeWarning, match="solver_max_iter=1 with relative residual"):
        cay(torch.randn(N, D, dtype=torch.float64), lap)


def test_reproduce_states_the_norm_preserving_step_as_a_claim_that_holds(tmp_path):
    import json

    from chebnet_stable._experiments.reproduce import reproduce

    path = reproduce(tmp_path, quick=True, seed=0, studies=["cayley"])
    data = json.loads(path.read_text())
    (claim,) = [c for c in data["claims"] if c["name"].startswith("The Cayley step")]
    assert claim["holds"] is True
    (table,) = [t for t in data["tables"] if t["id"] == "cayley"]
    cols = table["columns"]
    euler_chain = [row[cols.index("Euler ‖J‖ at 32")] for row in table["rows"]]
    cayley_chain = [row[cols.index("Cayley ‖J‖ at 32")] for row in table["rows"]]
    assert min(euler_chain) > 10.0 and max(abs(v - 1.0) for v in cayley_chain) < 1e-9


def test_train_command_offers_the_cayley_model(tmp_path):
    import json

    from chebnet_stable.cli import main

    argv = ["train", "--task", "barbell", "--model", "stable-chebnet-cayley", "--epochs", "1",
            "--n", "3", "--samples", "2", "--out", str(tmp_path / "run"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["model"] == "stable-chebnet-cayley"
    ckpt = torch.load(tmp_path / "run" / "model.pt", weights_only=True)
    assert json.loads(ckpt["config_json"])["integrator"] == "cayley"
