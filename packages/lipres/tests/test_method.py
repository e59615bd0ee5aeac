"""The method's guarantees: step cap, exact representations, end-to-end bound, export, norms."""

import subprocess
import sys

import lipres
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from sciml_core import InputError

F64 = torch.float64


def _jacobian_norm(module, x):
    jac = torch.autograd.functional.jacobian(module, x)
    return float(
        torch.linalg.matrix_norm(jac.reshape(x.numel(), -1).T if jac.dim() > 1 else jac[None], 2)
    )


@given(
    features=st.integers(1, 24),
    hidden=st.integers(1, 24),
    tau=st.floats(0.0, 100.0),
    activation=st.sampled_from(lipres.ACTIVATIONS),
    scale=st.floats(0.1, 10.0),
)
def test_gradient_step_is_one_lipschitz(features, hidden, tau, activation, scale):
    torch.manual_seed(features * 31 + hidden)
    block = lipres.GradientStep(features, hidden, activation=activation).double()
    with torch.no_grad():
        block.weight.mul_(scale)
        block.tau.fill_(tau)
    h = float(block.step_size().detach())
    s = float(torch.linalg.matrix_norm(block.weight.detach(), 2))
    assert 0.0 <= h <= 2.0 / s**2
    x = torch.randn(8, features, dtype=F64)
    for i in range(4):
        assert _jacobian_norm(block, x[i]) <= 1.0 + 1e-12
    assert block.lipschitz_bound() == 1.0


@pytest.mark.parametrize("step", ["learned", 1e6])
def test_step_above_the_cap_is_impossible(step):
    block = lipres.GradientStep(4, step=step).double()
    with torch.no_grad():
        block.weight.mul_(3.0)
        if step == "learned":
            block.tau.fill_(1e6)
    s = float(torch.linalg.matrix_norm(block.weight.detach(), 2))
    assert float(block.step_size().detach()) <= 2.0 / s**2
    with torch.no_grad():
        block.weight.mul_(2.0)  # the forward re-caps with the new exact norm
    s = float(torch.linalg.matrix_norm(block.weight.detach(), 2))
    assert float(block.step_size().detach()) <= 2.0 / s**2


def test_maxmin_sorts():
    z = torch.randn(100, 4, dtype=F64)
    out = lipres.MaxMin()(z)
    assert torch.equal(out[:, 0], z[:, :2].amax(dim=1))
    assert torch.equal(out[:, 1], z[:, :2].amin(dim=1))
    assert torch.equal(out[:, 2:], z[:, 2:])


def _exact_net(a, b):
    """A width-3 fixed-width network computing max of two affine functions a_j x + b_j."""
    d = a.shape[1]
    net = lipres.LipResNet(d, 3, 1, architecture="fixed-width").double()
    with torch.no_grad():
        net.lift.weight.zero_()
        net.lift.weight[:2] = a
        net.lift.bias.zero_()
        net.lift.bias[:2] = b
        net.maps[0].rows.copy_(torch.eye(3, dtype=F64))
        net.maps[0].bias.zero_()
        net.head.weight.copy_(torch.tensor([1.0, 0.0, 0.0], dtype=F64))
        net.head.c.fill_(1.0)
        net.head.bias.zero_()
    return net


def test_abs_is_represented_exactly():
    net = _exact_net(torch.tensor([[1.0], [-1.0]], dtype=F64), torch.zeros(2, dtype=F64))
    x = torch.linspace(-3, 3, 1001, dtype=F64)[:, None]
    assert float((net(x) - x[:, 0].abs()).abs().max().detach()) <= 1e-12
    assert net.lipschitz_bound() <= 1.0


def test_three_piece_max_affine_is_represented_exactly():
    a = torch.tensor([[0.6, 0.8], [-1.0, 0.0], [0.0, -1.0]], dtype=F64)
    b = torch.tensor([0.0, 0.5, -0.25], dtype=F64)
    target = lipres.max_affine(a, b)
    net = lipres.LipResNet(2, 3, 2, architecture="fixed-width").double()
    with torch.no_grad():
        net.lift.weight.copy_(a)
        net.lift.bias.copy_(b)
        # block 1 sorts (z1, z2); map 1 moves (max, z3) to the top; block 2 takes their max
        net.maps[0].rows.copy_(torch.tensor([[1.0, 0, 0], [0, 0, 1.0], [0, 1.0, 0]], dtype=F64))
        net.maps[0].bias.zero_()
        net.maps[1].rows.copy_(torch.eye(3, dtype=F64))
        net.maps[1].bias.zero_()
        net.head.weight.copy_(torch.tensor([1.0, 0.0, 0.0], dtype=F64))
        net.head.c.fill_(1.0)
        net.head.bias.zero_()
    x = lipres.grid([(-2, 2), (-2, 2)], 41, dtype=F64)
    assert float((net(x) - target(x)).abs().max().detach()) <= 1e-12
    assert net.lipschitz_bound() <= 1.0


@pytest.mark.parametrize("arch", lipres.ARCHITECTURES)
def test_network_bound_is_end_to_end(arch):
    torch.manual_seed(1)
    net = lipres.LipResNet(3, 7, 3, architecture=arch).double()
    x = torch.randn(64, 3, dtype=F64)
    bound = lipres.lipschitz_bound(net)
    assert bound <= 1.0
    for method in lipres.EMPIRICAL_METHODS:
        found = lipres.empirical_lipschitz(net, x, method=method, n_iter=30, seed=0)
        assert found <= bound * (1 + 1e-12), method


@pytest.mark.parametrize("arch", lipres.ARCHITECTURES)
def test_an_unconstrained_lifting_is_refused_by_name(arch):
    net = lipres.LipResNet(3, 6, 2, architecture=arch)
    net.lift = nn.Linear(3, 6)
    with pytest.raises(lipres.NotCertifiedError, match=r"LipResNet\.lift \(Linear\)"):
        lipres.lipschitz_bound(net)
    with pytest.raises(lipres.NotCertifiedError, match="lift"):
        net.lipschitz_bound()


@pytest.mark.parametrize("arch", lipres.ARCHITECTURES)
def test_a_classifier_with_an_unconstrained_lifting_gets_no_radius(arch):
    clf = lipres.LipResNetClassifier(3, 2, 6, 1, architecture=arch)
    clf.lift = nn.Linear(3, 6)
    with pytest.raises(lipres.NotCertifiedError, match=r"LipResNetClassifier\.lift \(Linear\)"):
        lipres.certified_radius(clf, torch.zeros(1, 3), torch.zeros(1).long())


def test_a_norm_mismatch_is_refused():
    chain = nn.Sequential(lipres.Lifting(2, 5, norm="mixed"), lipres.GradientStep(5))
    with pytest.raises(lipres.NotCertifiedError, match="'l2' norm"):
        lipres.lipschitz_bound(chain)


def test_mixed_norm_maps_are_nonexpansive():
    torch.manual_seed(2)
    lift = lipres.Lifting(3, 7, norm="mixed").double()
    block = lipres.AugmentedGradientStep(7).double()
    aff = lipres.MixedNormAffine(7).double()
    with torch.no_grad():
        aff.rows.mul_(5.0)
        lift.weight.mul_(5.0)
    a, b = torch.randn(2000, 3, dtype=F64), torch.randn(2000, 3, dtype=F64)
    za, zb = lift(a), lift(b)

    def mixed(z):
        return torch.cat([z[:, :3].abs(), z[:, 3:].norm(dim=1, keepdim=True)], dim=1).amax(dim=1)

    assert bool((mixed(za - zb) <= (a - b).norm(dim=1) * (1 + 1e-12)).all())
    for m in (block, aff):
        assert bool((mixed(m(za) - m(zb)) <= mixed(za - zb) * (1 + 1e-12)).all())


def test_certificates_never_use_power_estimates():
    torch.manual_seed(3)
    block = lipres.GradientStep(6, norm="power").double()
    with torch.no_grad():
        block.weight.mul_(2.0)
        block._sigma.fill_(0.5)  # a stale estimate far below the true norm
        block.tau.fill_(100.0)
    s = float(torch.linalg.matrix_norm(block.weight.detach(), 2))
    block.eval()
    h = float(block.step_size().detach())
    assert h * s * s > 2.0  # the stale forward is expansive ...
    assert block.lipschitz_bound() == pytest.approx(h * s * s - 1.0, rel=1e-12)  # ... and says so
    x = torch.randn(32, 6, dtype=F64)
    found = lipres.empirical_lipschitz(block, x, method="jacobian", n_iter=50)
    assert found <= block.lipschitz_bound() * (1 + 1e-12)
    exported = lipres.export(block)  # export re-caps with the exact norm
    assert lipres.empirical_lipschitz(exported, x, method="jacobian", n_iter=50) <= 1 + 1e-12
    lipres.refresh_norms_(block)
    assert block.lipschitz_bound() == 1.0


def test_power_mode_training_then_exact_refresh_restores_the_cap():
    torch.manual_seed(4)
    net = lipres.LipResNet(2, 8, 3, norm="power")
    opt = torch.optim.Adam(net.parameters(), lr=5e-2)
    x = torch.randn(128, 2)
    for _ in range(30):
        opt.zero_grad()
        ((net(x) - x.norm(dim=1)) ** 2).mean().backward()
        opt.step()
    lipres.refresh_norms_(net, exact=True)
    assert net.lipschitz_bound() <= 1.0


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-6), (F64, 1e-12)])
@pytest.mark.parametrize(
    "make",
    [
        lambda: lipres.LipResNet(3, 7, 3),
        lambda: lipres.LipResNet(3, 7, 3, architecture="fixed-width", activation="tanh"),
        lambda: lipres.LipResNetClassifier(3, 4, 6, 2, architecture="fixed-width"),
        lambda: lipres.LipCritic(2, 6, width=3, depth=2),
        lambda: lipres.LipCritic(1, (5, 6), width=2, depth=1, padding="zeros"),
    ],
    ids=["gradient", "fixed_tanh", "classifier", "critic", "critic_zeros"],
)
def test_export_matches_model(make, dtype, tol):
    torch.manual_seed(5)
    model = make().to(dtype)
    shape = (
        (2, 6, 6) if isinstance(model, lipres.LipCritic) and model.padding == "circular" else None
    )
    if isinstance(model, lipres.LipCritic):
        shape = (model.in_channels, *model.image_size)
    else:
        shape = (model.in_features,)
    x = torch.randn(16, *shape, dtype=dtype)
    plain = lipres.export(model)
    with torch.no_grad():
        assert float((plain(x) - model(x)).abs().max()) <= tol
    assert all(type(m).__module__.startswith("torch.") for m in plain.modules() if m is not plain)


def test_export_loads_without_lipres(tmp_path):
    torch.manual_seed(6)
    net = lipres.LipResNet(2, 6, 2, architecture="fixed-width").double()
    path = tmp_path / "net.pt"
    torch.save(lipres.export(net), path)
    x = torch.randn(5, 2, dtype=F64)
    torch.save(x, tmp_path / "x.pt")
    code = (
        "import sys, torch; sys.modules['lipres'] = None; "
        f"m = torch.load({str(path)!r}, weights_only=False); "
        f"print(repr(m(torch.load({str(tmp_path / 'x.pt')!r})).tolist()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert eval(out.stdout) == pytest.approx(net(x).tolist(), abs=1e-12)


@pytest.mark.parametrize(
    "steps", [15, pytest.param(50, marks=pytest.mark.slow)], ids=["15steps", "50steps"]
)
@pytest.mark.parametrize("optim", ["adam", "sgd"])
@pytest.mark.parametrize("project", [False, True], ids=["forward", "projected"])
def test_constraints_hold_after_every_step(optim, project, steps):
    torch.manual_seed(7)
    net = lipres.LipResNet(2, 6, 2, architecture="fixed-width")
    params = list(net.parameters())
    opt = torch.optim.Adam(params, lr=0.2) if optim == "adam" else torch.optim.SGD(params, lr=0.5)
    if project:
        opt = lipres.ConstrainedOptimizer(opt, net)
    x = torch.randn(64, 2)
    for _ in range(steps):
        opt.zero_grad()
        (-(net(x[:32]) - net(x[32:])).mean()).backward()  # stretches: pushes the norms up
        opt.step()
        assert net.lipschitz_bound() <= 1.0
    before = net(x)
    lipres.constrain_(net)
    assert torch.allclose(net(x), before, atol=1e-6)  # projection never changes the forward


@pytest.mark.parametrize("optim", ["adam", "sgd"])
def test_interlayer_maps_stay_orthogonal_through_training(optim):
    """The fixed-width net's maps carry z4: without a skip connection: training must keep their
    lower block Q an isometry, not merely of norm <= 1 (lipres 0.1.0's free, norm-rescaled Q had
    its singular values spread by Adam within a few steps and the features collapsed)."""
    torch.manual_seed(11)
    net = lipres.LipResNetClassifier(8, 3, 16, 3, architecture="fixed-width")
    params = list(net.parameters())
    opt = torch.optim.Adam(params, lr=1e-2) if optim == "adam" else torch.optim.SGD(params, lr=0.5)
    x, y = torch.randn(64, 8), torch.arange(64) % 3
    for _ in range(20):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    for affine in net.maps:
        q = affine.matrix().detach().double()[3:, 3:]
        sv = torch.linalg.svdvals(q)
        assert float(sv.max()) <= 1.0
        assert float(sv.min()) >= 1.0 - 1e-5, (optim, sv.min())


def test_conv_norm_matches_power_iteration_on_the_operator():
    torch.manual_seed(8)
    block = lipres.GradientConv2d(3, 4, image_size=6).double()
    exact = block.operator_norm()
    from lipres._conv import _adjoint_kernel, _conv

    k = block.weight.detach()
    est = __import__("sciml_core").estimate_operator_norm(
        lambda x: _conv(x, k, "circular"),
        lambda y: _conv(y, _adjoint_kernel(k), "circular"),
        torch.zeros(1, 3, 6, 6, dtype=F64),
        iters=3000,
        tol=1e-14,
    )
    assert exact == pytest.approx(est.lower, rel=1e-6)
    zeros = lipres.GradientConv2d(3, 4, image_size=6, padding="zeros").double()
    with torch.no_grad():
        zeros.weight.copy_(k)
    est0 = __import__("sciml_core").estimate_operator_norm(
        lambda x: _conv(x, k, "zeros"),
        lambda y: _conv(y, _adjoint_kernel(k), "zeros"),
        torch.zeros(1, 3, 6, 6, dtype=F64),
        iters=3000,
        tol=1e-14,
    )
    assert zeros.operator_norm() >= est0.lower


@pytest.mark.parametrize("padding", ["circular", "zeros"])
def test_conv_adjoint_is_exact(padding):
    from lipres._conv import _adjoint_kernel, _conv

    k = torch.randn(4, 3, 3, 3, dtype=F64)
    x, y = torch.randn(2, 3, 5, 6, dtype=F64), torch.randn(2, 4, 5, 6, dtype=F64)
    lhs = (_conv(x, k, padding) * y).sum()
    rhs = (x * _conv(y, _adjoint_kernel(k), padding)).sum()
    assert abs(float(lhs - rhs)) <= 1e-12 * float(lhs.abs() + 1)


def test_critic_bound_stays_at_most_one_through_training():
    torch.manual_seed(9)
    critic = lipres.LipCritic(1, 6, width=4, depth=2)
    assert critic.lipschitz_bound() <= 1.0
    opt = torch.optim.Adam(critic.parameters(), lr=0.1)
    x = torch.randn(16, 1, 6, 6)
    for _ in range(15):
        opt.zero_grad()
        (-critic(x).var()).backward()
        opt.step()
        critic.project()
    assert critic.lipschitz_bound() <= 1.0
    assert lipres.empirical_lipschitz(critic.double(), x.double(), method="jacobian") <= 1.0


def test_critic_refuses_another_image_size():
    critic = lipres.LipCritic(1, 8, width=2, depth=1)
    with pytest.raises(InputError, match="image size"):
        critic(torch.zeros(2, 1, 9, 8))


def test_save_and_load_round_trip(tmp_path):
    torch.manual_seed(10)
    net = lipres.LipResNetClassifier(4, 3, 6, 2, architecture="fixed-width").double()
    back = lipres.load_model(lipres.save_model(net, tmp_path / "c.pt"))
    x = torch.randn(5, 4, dtype=F64)
    assert torch.equal(back(x), net(x))
    assert back.lipschitz_bound() == net.lipschitz_bound()


def test_a_checkpoint_of_another_version_is_refused_naming_both(tmp_path, monkeypatch):
    net = lipres.LipResNet(2, 4, 1)
    path = lipres.save_model(net, tmp_path / "n.pt")
    monkeypatch.setattr("lipres._io.__version__", "0.2.0")
    with pytest.raises(InputError, match=r"0\.1\.0.*0\.2\.0"):
        lipres.load_model(path)


def test_a_checkpoint_with_the_old_free_interlayer_block_is_refused(tmp_path):
    """lipres 0.1.0 stored the interlayer maps' Q as ``block`` (a free matrix); it now stores the
    Cayley generator ``skew``: such a checkpoint is refused naming the key, never misread."""
    path = lipres.save_model(
        lipres.LipResNet(2, 5, 2, architecture="fixed-width"), tmp_path / "n.pt"
    )
    raw = torch.load(path, weights_only=True)
    raw["state_dict"] = {k.replace("skew", "block"): v for k, v in raw["state_dict"].items()}
    torch.save(raw, path)
    with pytest.raises(InputError, match=r"do not fit its config.*maps\.0\.skew"):
        lipres.load_model(path)


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: lipres.GradientStep(3, step=float("nan")), "step"),
        (lambda: lipres.GradientStep(3, step=-1.0), "step"),
        (lambda: lipres.GradientStep(3, tau_init=-0.5), "tau_init"),
        (lambda: lipres.GradientStep(3, norm="svd"), "norm"),
        (lambda: lipres.LipResNet(2, 2, 2, architecture="fixed-width"), "width"),
        (lambda: lipres.LipResNet(2, 4, 2, architecture="deep"), "architecture"),
        (lambda: lipres.GradientConv2d(2, kernel_size=2, image_size=5), "kernel_size"),
        (lambda: lipres.LipResNet(2, 4, 2)(torch.zeros(3, 5)), r"\[B, 2\]"),
    ],
)
def test_bad_options_are_input_errors(make, match):
    with pytest.raises(InputError, match=match):
        make()


LABEL_USERS = {
    "certified_radius": lambda m, x, y: lipres.certified_radius(m, x, y),
    "certified_accuracy": lambda m, x, y: lipres.certified_accuracy(m, x, y, [0.1, 0.5]),
    "pgd_l2": lambda m, x, y: lipres.pgd_l2(m, x, y, 0.1, steps=2),
    "fit_classifier_margin": lambda m, x, y: lipres.fit_classifier(m, x, y, epochs=1),
    "fit_classifier_ce": lambda m, x, y: lipres.fit_classifier(m, x, y, epochs=1, margin=None),
}


@pytest.mark.parametrize("norm", ["verified", "power"])
@pytest.mark.parametrize("bad", [2, -1], ids=["k", "negative"])
@pytest.mark.parametrize("name", sorted(LABEL_USERS))
def test_labels_out_of_range_are_input_errors_naming_y(name, bad, norm):
    """Every public function taking labels refuses one outside [0, K - 1] (K = 2 logits here) as
    an InputError naming ``y``, the range and the labels found; the model is left as it was
    (no step, and with ``norm="power"`` no power-iteration buffer moved)."""
    torch.manual_seed(0)
    model = lipres.LipResNetClassifier(3, 2, 4, 1, norm=norm)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(6, 3)
    y = torch.tensor([0, 1, 0, bad, 1, 0])
    lo, hi = min(0, bad), max(1, bad)
    with pytest.raises(InputError, match=rf"^y: labels must lie in \[0, 1\], got \[{lo}, {hi}\]"):
        LABEL_USERS[name](model, x, y)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def _stretched(make):
    torch.manual_seed(3)
    module = make().double()
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "weight" in name or "rows" in name:
                p.mul_(20.0)  # every norm (each row's, too) well above 1: the rescaling is active
    return module


NORMALISED = {
    "lifting_l2": (lambda: lipres.Lifting(3, 6), 3, [("weight", None)]),
    "lifting_mixed": (
        lambda: lipres.Lifting(3, 6, norm="mixed"),
        3,
        [("weight", slice(0, 3)), ("weight", slice(3, None))],
    ),
    "mixed_affine": (lambda: lipres.MixedNormAffine(6), 6, [("rows", None)]),
    "scalar_head": (lambda: lipres.ScalarHead(6, norm="mixed"), 6, [("weight", None)]),
    "spectral_linear": (lambda: lipres.SpectralLinear(4, 3), 4, [("weight", None)]),
}


@pytest.mark.parametrize("name", sorted(NORMALISED))
def test_normalisation_gradient_has_no_radial_part(name):
    """W ↦ W (1 - 1e-6)/‖W‖ is 0-homogeneous where active: the loss cannot change along W, so
    the gradient the optimiser sees is the projected one (rows: each row on its own)."""
    make, d, parts = NORMALISED[name]
    module = _stretched(make)
    x = torch.randn(32, d, dtype=F64)
    module(x).sin().sum().backward()
    for pname, rows in parts:
        p = dict(module.named_parameters())[pname]
        w, g = p.detach(), p.grad
        if rows is not None:
            w, g = w[rows], g[rows]
        if pname == "rows" or (name == "lifting_mixed" and rows == slice(0, 3)):
            radial = (g * w).sum(dim=1).abs().max()
        else:
            radial = (g * w).sum().abs()
        assert float(radial) <= 1e-10 * float(g.norm() * w.norm()), (pname, float(radial))
        assert float(g.norm()) > 0


@pytest.mark.parametrize("name", sorted(NORMALISED))
def test_normalisation_value_does_not_depend_on_autograd(name):
    make, d, _ = NORMALISED[name]
    module = _stretched(make)
    x = torch.randn(8, d, dtype=F64)
    with torch.no_grad():
        frozen = module(x)
    assert torch.equal(module(x).detach(), frozen)
    assert module.lipschitz_bound() <= 1.0
