"""ConservedOperator: exact for any base model, direction resolution, adaptivity that learns."""

import importlib.util

import pytest
import torch
from torch import nn

from fno_conserve import (
    ConservationCorrection,
    ConservedOperator,
    FNO1d,
    LinearConstraint,
    QuadraticConstraint,
    conservation_error,
)
from fno_conserve._wrapper import PointwiseMLP, _periodic_embedding
from sciml_core import InputError

EPS32 = torch.finfo(torch.float32).eps


class TinyCNN(nn.Module):
    """A foreign model with no aux channels and no FNO attributes."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(1, 8, 5, padding=2, padding_mode="circular"),
            nn.GELU(),
            nn.Conv1d(8, 1, 5, padding=2, padding_mode="circular"),
        )

    def forward(self, x):
        return self.net(x)


def _exact(model, x, laws, k=10.0):
    out = model(x)
    err = conservation_error(out, x, laws)
    return err["max_rel"] <= k * torch.finfo(out.dtype).eps, err


MOMENTS = LinearConstraint.moments(1)
# model kind -> (the wrapped model with direction=None, the direction it must resolve to)
MODELS = {
    "cnn": (
        lambda: ConservedOperator(
            TinyCNN(), ConservationCorrection(MOMENTS), in_channels=1, out_channels=1, dim=1
        ),
        "net",
    ),
    "fno-with-aux": (
        lambda: ConservedOperator(
            FNO1d(1, 1, modes=8, width=8, aux_channels=1), ConservationCorrection(MOMENTS)
        ),
        "head",
    ),
    "fno-without-aux": (
        lambda: ConservedOperator(FNO1d(1, 1, modes=8, width=8), ConservationCorrection(MOMENTS)),
        "net",
    ),
}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_direction_none_resolves_per_model(kind):
    make, direction = MODELS[kind]
    assert make().direction == direction


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_wrapper_accepts_any_model(kind):
    torch.manual_seed(0)
    model = MODELS[kind][0]()
    x = torch.randn(4, 1, 64) + 1.0
    assert conservation_error(model.uncorrected(x), x, MOMENTS)["max_rel"] > 1e-4  # base violates
    ok, err = _exact(model, x, MOMENTS)
    assert ok, err


def test_wrapper_accepts_neuraloperator_fno():
    if importlib.util.find_spec("neuralop") is None:
        pytest.skip("neuraloperator ([bench] extra) not installed")
    from neuralop.models import FNO as NOFNO

    torch.manual_seed(1)
    law = LinearConstraint.mass()
    base = NOFNO(n_modes=(8,), in_channels=1, out_channels=1, hidden_channels=8, n_layers=2)
    model = ConservedOperator(base, ConservationCorrection(law))
    assert model.direction == "net"
    ok, err = _exact(model, torch.randn(3, 1, 32), law)
    assert ok, err


def _adaptive_model(direction):
    """A float64 FNO wrapped with ``direction``, its direction parameters perturbed so that the
    direction is clearly non-constant (the tests then check that it is used)."""
    torch.manual_seed(2)
    law = LinearConstraint.mass()
    aux = 1 if direction == "head" else 0
    base = FNO1d(1, 1, modes=6, width=8, aux_channels=aux).double()
    kwargs = {"grid_shape": (32,)} if direction == "dense" else {}
    model = ConservedOperator(
        base, ConservationCorrection(law, direction=direction), **kwargs
    ).double()
    assert model.direction == direction
    # make the direction clearly non-constant so the test checks that it is used
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not name.startswith("base.") or (direction == "head" and "proj2" in name):
                p.add_(torch.randn_like(p) * 0.5)
    x = torch.randn(4, 1, 32, dtype=torch.float64)
    return model, law, x


@pytest.mark.parametrize("direction", ["head", "net", "field", "lowrank", "dense"])
def test_adaptive_direction_changes_output(direction):
    """u* differs from the projection's by far more than rounding on a residual of order 1."""
    model, law, x = _adaptive_model(direction)
    u = model.uncorrected(x)
    u = u + (x.mean(-1, keepdim=True) - u.mean(-1, keepdim=True)) + 1.0  # residual of order 1
    proj = ConservationCorrection(law, mode="projection")(u, x)[0]
    aux = model.base(x)[:, 1:] if direction == "head" else None
    terms = model.direction_terms(x, u, aux)
    adaptive = model.correction(u, x, **terms)[0]
    rel = float(((adaptive - proj).norm() / (proj - u).norm()).detach())
    assert rel >= 1e-3, rel


@pytest.mark.parametrize("direction", ["head", "net", "field", "lowrank", "dense"])
def test_adaptive_direction_learns(direction):
    """A loss on u* sends finite, non-zero gradients to the parameters that produce it."""
    model, _, x = _adaptive_model(direction)
    model.zero_grad()
    y = torch.randn(4, 1, 32, dtype=torch.float64)
    ((model(x) - y) ** 2).mean().backward()
    if direction == "head":
        grads = [model.base.proj2.weight.grad[1]]  # the aux output channel's weights
    else:
        grads = [p.grad for n, p in model.named_parameters() if not n.startswith("base.")]
    assert grads and all(g is not None and bool(torch.isfinite(g).all()) for g in grads)
    assert any(float(g.abs().max()) > 0 for g in grads)


def test_quadratic_law_through_the_wrapper_is_exact():
    torch.manual_seed(3)
    law = QuadraticConstraint((0, 1), mode="adaptive", lengths=6.283185307179586)
    model = ConservedOperator(FNO1d(2, 2, modes=6, width=8), ConservationCorrection(law))
    x = torch.randn(3, 2, 64)
    out, _ = model(x, return_info=True)
    err = conservation_error(out, x, law)
    assert err["max_rel"] <= 10 * EPS32


def test_encoder_decoder_correct_in_physical_units():
    torch.manual_seed(4)
    law = LinearConstraint.mass()
    mu, sigma = 3.0, 2.0
    model = ConservedOperator(
        FNO1d(1, 1, modes=4, width=8),
        ConservationCorrection(law, mode="projection"),
        encoder=lambda x: (x - mu) / sigma,
        decoder=lambda z: z * sigma + mu,
    )
    x = torch.randn(2, 1, 32) * sigma + mu
    assert _exact(model, x, law)[0]


MASS = LinearConstraint.mass()
WRAPPER_ERRORS = {
    "head without aux channels": (
        lambda: ConservedOperator(TinyCNN(), ConservationCorrection(MASS, direction="head")),
        "head",
    ),
    "net without channel counts": (
        lambda: ConservedOperator(TinyCNN(), ConservationCorrection(MASS)),
        "in_channels",
    ),
    "dense without a grid": (
        lambda: ConservedOperator(
            FNO1d(1, 1, modes=4), ConservationCorrection(MASS, direction="dense")
        ),
        "grid_shape",
    ),
    "dense on another grid": (
        lambda: ConservedOperator(
            FNO1d(1, 1, modes=4), ConservationCorrection(MASS, direction="dense"), grid_shape=(16,)
        )(torch.randn(1, 1, 32)),
        "dense",
    ),
}


@pytest.mark.parametrize("case", sorted(WRAPPER_ERRORS))
def test_wrapper_errors_name_the_argument(case):
    make, name = WRAPPER_ERRORS[case]
    with pytest.raises(InputError, match=name):
        make()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("direction", ["head", "net", "field", "lowrank", "dense"])
def test_every_direction_is_exact_on_random_models(direction, dtype):
    torch.manual_seed(5)
    laws = [LinearConstraint.moments(1, channel=0), LinearConstraint.mass(channel=1)]
    aux = 1 if direction == "head" else 0
    base = FNO1d(2, 2, modes=6, width=8, aux_channels=aux)
    kwargs = {"grid_shape": (48,)} if direction == "dense" else {}
    model = ConservedOperator(base, ConservationCorrection(laws, direction=direction), **kwargs)
    model = model.to(dtype)
    x = torch.randn(3, 2, 48, dtype=dtype) * 2 + 1
    ok, err = _exact(model, x, laws)
    assert ok, (direction, dtype, err["max_rel"])


def _mlp_per_point(mlp, z):
    """The 0.2.0 computation of ``PointwiseMLP``: ``nn.Linear`` layers on the channel-last view."""
    h = z.movedim(1, -1)
    h = nn.functional.linear(h, mlp.fc1.weight, mlp.fc1.bias)
    h = nn.functional.linear(nn.functional.gelu(h), mlp.fc2.weight, mlp.fc2.bias)
    return h.movedim(-1, 1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("spatial", [(33,), (6, 10)])
def test_pointwise_mlp_equals_linear_layers_at_every_point(spatial, dtype):
    """The channel-first batched product computes what the per-point linear layers computed,
    output and gradients (to the dtype's rounding)."""
    torch.manual_seed(0)
    mlp = PointwiseMLP(4, 2, hidden=16).to(dtype)
    mlp.fc2.weight.data.normal_()  # a non-trivial second layer (it starts scaled by 0.1)
    z = torch.randn(3, 4, *spatial, dtype=dtype, requires_grad=True)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    new, old = mlp(z), _mlp_per_point(mlp, z)
    assert torch.allclose(new, old, rtol=tol, atol=tol)
    g = torch.randn_like(new)
    grads_new = torch.autograd.grad(new, [z, *mlp.parameters()], g)
    grads_old = torch.autograd.grad(old, [z, *mlp.parameters()], g)
    for a, b in zip(grads_new, grads_old, strict=True):
        assert torch.allclose(a, b, rtol=tol, atol=tol)


def test_pointwise_mlp_keeps_the_linear_layers_state_dict():
    """Same parameter names and shapes as two ``nn.Linear`` layers: earlier checkpoints load."""
    mlp = PointwiseMLP(4, 1, hidden=8)
    shapes = {k: tuple(v.shape) for k, v in mlp.state_dict().items()}
    assert shapes == {
        "fc1.weight": (8, 4),
        "fc1.bias": (8,),
        "fc2.weight": (1, 8),
        "fc2.bias": (1,),
    }


@pytest.mark.parametrize("spatial", [(16,), (32,), (8, 12)])
def test_net_embedding_is_the_periodic_embedding_of_each_grid(spatial):
    """The cached grid embedding equals a fresh one on every grid and dtype it is asked for."""
    model = ConservedOperator(
        TinyCNN() if len(spatial) == 1 else nn.Conv2d(1, 1, 1),
        ConservationCorrection(LinearConstraint.mass(), direction="net"),
        in_channels=1,
        out_channels=1,
        dim=len(spatial),
    )
    for dtype in (torch.float32, torch.float64, torch.float32):  # the second float32 is cached
        ref = torch.zeros(2, 1, *spatial, dtype=dtype)
        fresh = _periodic_embedding(spatial, dtype=dtype, device="cpu")
        emb = model._embed(ref)
        assert emb.shape == (2, 2 * len(spatial), *spatial) and emb.dtype == dtype
        assert torch.equal(emb[1], fresh)


@pytest.mark.parametrize("direction", ["head", "net", "field", "lowrank"])
def test_a_model_evaluated_under_inference_mode_still_trains(direction):
    """Grid constants cached during an ``inference_mode`` evaluation are inference tensors, which
    autograd refuses to save; the caches keep them apart from the ones training uses."""
    torch.manual_seed(0)
    aux = 1 if direction == "head" else 0
    model = ConservedOperator(
        FNO1d(1, 1, modes=6, width=8, aux_channels=aux),
        ConservationCorrection(LinearConstraint.moments(1), direction=direction),
    )
    x, y = torch.randn(4, 1, 32), torch.randn(4, 1, 32)
    with torch.inference_mode():
        before = model(x)
    loss = (model(x) - y).square().mean()
    loss.backward()  # raised "Inference tensors cannot be saved for backward" before
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    with torch.no_grad():
        assert torch.equal(model(x), before)  # the same constants either way


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("spatial", [(48,), (6, 10)])
def test_net_direction_is_the_mlp_of_input_output_and_grid(spatial, dtype):
    """``s = softplus(mlp(cat(x, u, grid))) + eps``, computed the 0.2.0 way (the concatenated
    channels through the per-point linear layers), equals the channel-major computation, output
    and gradients to ``u``, ``x`` and the network's parameters (to the dtype's rounding)."""
    torch.manual_seed(0)
    model = ConservedOperator(
        TinyCNN() if len(spatial) == 1 else nn.Conv2d(2, 2, 1),
        ConservationCorrection(LinearConstraint.mass(), direction="net"),
        in_channels=2 if len(spatial) == 2 else 1,
        out_channels=2 if len(spatial) == 2 else 1,
        dim=len(spatial),
    ).to(dtype)
    mlp = model.s_net
    assert isinstance(mlp, PointwiseMLP)
    mlp.fc2.weight.data.normal_()  # a non-trivial second layer (it starts scaled by 0.1)
    c = model.in_channels
    x = torch.randn(3, c, *spatial, dtype=dtype, requires_grad=True)
    u = torch.randn(3, c, *spatial, dtype=dtype, requires_grad=True)
    new = model.direction_terms(x, u, None)["s"]
    emb = _periodic_embedding(spatial, dtype=dtype, device="cpu").expand(3, -1, *spatial)
    old = model.correction.positive(_mlp_per_point(mlp, torch.cat([x, u, emb], dim=1)))
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert new.shape == old.shape == (3, 1, *spatial)
    assert torch.allclose(new, old, rtol=tol, atol=tol)
    g = torch.randn_like(new)
    grads_new = torch.autograd.grad(new, [x, u, *mlp.parameters()], g)
    grads_old = torch.autograd.grad(old, [x, u, *mlp.parameters()], g)
    for a, b in zip(grads_new, grads_old, strict=True):
        assert torch.allclose(a, b, rtol=tol, atol=tol)
