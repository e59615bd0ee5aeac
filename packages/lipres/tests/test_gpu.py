"""Spec §8 items 1, 3 and 8 repeated on CUDA (item 13; skipped without it).

On CUDA the verified norm takes its torch path (the CPU runs numpy's), so the step cap, the
network bound and the export are each checked again where they run on the device: the gradient
step is 1-Lipschitz with its step at the cap, the network bound is end to end and an
unconstrained lifting is refused by name, and ``export()`` equals the model; every output keeps
the input's device and dtype.
"""

import lipres
import pytest
import torch
from torch import nn

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]

DEVICE = "cuda"
F64 = torch.float64


@pytest.fixture(autouse=True)
def _no_tf32():
    """TF32 rounds the factors of float32 products to 10 bits; the certificates hold for the
    stored weights in exact arithmetic and the spec's float32 export tolerance is 1e-6, neither
    of which is about TF32 forwards, so these tests run without it (restored afterwards)."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _jacobian_norm(module: nn.Module, x: torch.Tensor) -> float:
    jac = torch.autograd.functional.jacobian(module, x)
    return float(torch.linalg.matrix_norm(jac.reshape(x.numel(), -1).double().cpu(), 2))


@pytest.mark.parametrize("norm", ["verified", "exact"])
@pytest.mark.parametrize("activation", lipres.ACTIVATIONS)
@pytest.mark.parametrize("features,hidden", [(1, 1), (5, 3), (16, 40), (64, 64)])
def test_gradient_step_is_one_lipschitz_on_cuda(features, hidden, activation, norm):
    """Weights stretched 7x and ``tau`` far above the cap, so the step sits at ``2 / ‖W‖₂²``
    (the reference norm from a float64 SVD on the CPU): the exact Jacobian norm, Jacobian power
    iteration, random pairs and pair ascent all stay <= 1 (float64)."""
    torch.manual_seed(features * 31 + hidden)
    block = lipres.GradientStep(features, hidden, activation=activation, norm=norm).double()
    with torch.no_grad():
        block.weight.mul_(7.0)
        block.tau.fill_(100.0)
    block = block.to(DEVICE)
    h = float(block.step_size().detach())
    s = float(torch.linalg.matrix_norm(block.weight.detach().cpu(), 2))
    assert 0.0 < h <= 2.0 / s**2
    x = torch.randn(32, features, dtype=F64, device=DEVICE)
    out = block(x)
    assert out.device == x.device and out.dtype == F64
    for i in range(4):
        assert _jacobian_norm(block, x[i]) <= 1.0 + 1e-12
    for method in lipres.EMPIRICAL_METHODS:
        found = lipres.empirical_lipschitz(block, x, method=method, n_iter=30, seed=0)
        assert found <= 1.0 + 1e-12, method
    assert block.lipschitz_bound() == 1.0


NETWORKS = {
    "gradient": lambda: lipres.LipResNet(3, 7, 3),
    "fixed_width": lambda: lipres.LipResNet(3, 7, 3, architecture="fixed-width"),
    "classifier_gradient": lambda: lipres.LipResNetClassifier(3, 4, 6, 2),
    "classifier_fixed_width": lambda: lipres.LipResNetClassifier(
        3, 4, 6, 2, architecture="fixed-width"
    ),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_network_bound_is_end_to_end_on_cuda(name):
    """Weights stretched 5x (every norm-constrained map rescaled, every step at its cap): the
    three empirical estimates of the whole network stay below its proven bound (float64)."""
    torch.manual_seed(1)
    net = NETWORKS[name]().double()
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(5.0)
    net = net.to(DEVICE)
    x = torch.randn(64, 3, dtype=F64, device=DEVICE)
    bound = lipres.lipschitz_bound(net)
    if isinstance(net, lipres.LipResNetClassifier):
        assert net(x).device == x.device
    else:
        assert bound <= 1.0
    for method in lipres.EMPIRICAL_METHODS:
        found = lipres.empirical_lipschitz(net, x, method=method, n_iter=30, seed=0)
        assert found <= bound * (1 + 1e-12), method


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_an_unconstrained_lifting_is_refused_by_name_on_cuda(name):
    net = NETWORKS[name]().to(DEVICE)
    net.lift = nn.Linear(3, net.width).to(DEVICE)
    owner = type(net).__name__
    with pytest.raises(lipres.NotCertifiedError, match=rf"{owner}\.lift \(Linear\)"):
        lipres.lipschitz_bound(net)


EXPORTED = {
    "gradient": lambda: lipres.LipResNet(3, 7, 3),
    "fixed_tanh": lambda: lipres.LipResNet(3, 7, 3, architecture="fixed-width", activation="tanh"),
    "classifier": lambda: lipres.LipResNetClassifier(3, 4, 6, 2, architecture="fixed-width"),
    "critic": lambda: lipres.LipCritic(2, 6, width=3, depth=2),
    "critic_zeros": lambda: lipres.LipCritic(1, (5, 6), width=2, depth=1, padding="zeros"),
}


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-6), (F64, 1e-12)], ids=["f32", "f64"])
@pytest.mark.parametrize("name", sorted(EXPORTED))
def test_export_matches_model_on_cuda(name, dtype, tol):
    """``export()`` of a model on CUDA: plain ``torch.nn`` modules on the same device, the same
    outputs (1e-6 in float32, 1e-12 in float64)."""
    torch.manual_seed(5)
    model = EXPORTED[name]().to(device=DEVICE, dtype=dtype)
    if isinstance(model, lipres.LipCritic):
        shape = (model.in_channels, *model.image_size)
    else:
        shape = (model.in_features,)
    x = torch.randn(16, *shape, dtype=dtype, device=DEVICE)
    plain = lipres.export(model)
    with torch.no_grad():
        ours, theirs = model(x), plain(x)
    assert theirs.device == x.device and theirs.dtype == dtype
    assert float((theirs - ours).abs().max()) <= tol
    assert all(type(m).__module__.startswith("torch.") for m in plain.modules() if m is not plain)
    assert all(p.device == x.device for p in plain.parameters())
