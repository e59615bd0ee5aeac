"""FNO guarantees: modes convention, resolution consistency, float64 end to end, determinism."""

import inspect
import itertools
import math

import pytest
import torch

from fno_conserve import FNO, FNO1d, FNO2d, SpectralConv
from sciml_core import InputError


def _band_limited_1d(n, k_max=4, amp=2.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    coef = torch.randn(2, k_max + 1, generator=g, dtype=torch.float64)
    x = torch.arange(n, dtype=torch.float64) / n
    f = sum(
        amp
        * (
            coef[0, k] * torch.cos(2 * math.pi * k * x)
            + coef[1, k] * torch.sin(2 * math.pi * k * x)
        )
        / (1 + k)
        for k in range(k_max + 1)
    )
    return f.reshape(1, 1, n)


def _band_limited_2d(n, k_max=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.arange(n, dtype=torch.float64) / n
    X, Y = torch.meshgrid(x, x, indexing="ij")
    f = torch.zeros(n, n, dtype=torch.float64)
    for kx in range(-k_max, k_max + 1):
        for ky in range(-k_max, k_max + 1):
            a, b = torch.randn(2, generator=g, dtype=torch.float64)
            f += a * torch.cos(2 * math.pi * (kx * X + ky * Y)) + b * torch.sin(
                2 * math.pi * (kx * X + ky * Y)
            )
    return f.reshape(1, 1, n, n).expand(2, 3, n, n).clone()


@pytest.mark.parametrize("dim,shape", [(1, (3, 5, 6, 2)), (2, (3, 5, 12, 6, 2))])
def test_weight_shapes_pin_the_modes_convention(dim, shape):
    assert tuple(SpectralConv(dim, 3, 5, modes=6).weight.shape) == shape


@pytest.mark.parametrize("kx,ky,kept", [(2, 2, True), (-3, 2, True), (3, 2, False), (0, 3, False)])
def test_spectral_conv_keeps_exactly_the_documented_frequencies(kx, ky, kept):
    """modes=3 keeps -3..2 on the first axis and 0..2 on the last (rfft) axis."""
    conv = SpectralConv(2, 1, 1, modes=3).double().requires_grad_(False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[..., 0] = 1.0  # identity on every kept mode
    n = 16
    x = torch.arange(n, dtype=torch.float64) / n
    X, Y = torch.meshgrid(x, x, indexing="ij")
    f = torch.cos(2 * math.pi * (kx * X + ky * Y)).reshape(1, 1, n, n)
    expected = f if kept else torch.zeros_like(f)
    torch.testing.assert_close(conv(f), expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("dim", [1, 2])
def test_spectral_conv_is_resolution_consistent(dim):
    torch.manual_seed(0)
    conv = SpectralConv(dim, 3, 2, modes=6).double().requires_grad_(False)
    if dim == 1:
        f = {n: _band_limited_1d(n).expand(2, 3, n).clone() for n in (32, 64)}
        coarse, fine = conv(f[32]), conv(f[64])[..., ::2]
    else:
        f = {n: _band_limited_2d(n) for n in (16, 32)}
        coarse, fine = conv(f[16]), conv(f[32])[..., ::2, ::2]
    assert float((coarse - fine).abs().max() / fine.abs().max()) < 1e-12


def _n_vs_2n_differences(grid):
    """Relative N-vs-2N output differences at N = 32, 64, 128, 256 (random weights, float64) of
    the FNO with the periodic embedding, or the same weights with the raw ``grid`` embedding."""
    torch.manual_seed(0)
    model = FNO1d(1, 1, modes=8, width=16).double()
    if grid != "periodic":
        raw = FNO1d(1, 1, modes=8, width=16, grid=grid).double()
        raw.load_state_dict(
            {k: v for k, v in model.state_dict().items() if not k.startswith("lift")},
            strict=False,
        )
        model = raw
    diffs = []
    with torch.no_grad():
        for n in (32, 64, 128, 256):
            a, b = _band_limited_1d(n, amp=3.0), _band_limited_1d(2 * n, amp=3.0)
            ya, yb = model(a), model(b)[..., ::2]
            diffs.append(float((ya - yb).norm() / yb.norm()))
    return diffs


def test_fno_is_discretisation_convergent():
    diffs = _n_vs_2n_differences("periodic")
    for prev, cur in itertools.pairwise(diffs):
        assert cur < prev or cur < 1e-13, diffs  # decreases until the float floor
    assert diffs[-1] <= 1e-6


def test_raw_coordinates_limit_the_fno_to_first_order():
    """The pitfall: a raw coordinate jumps across the periodic boundary -> first order only."""
    raw_diffs = _n_vs_2n_differences("nodes")
    assert raw_diffs[-1] > 1e-6 and 1.5 < raw_diffs[-2] / raw_diffs[-1] < 2.5, raw_diffs


def _float64_fno2d():
    model = FNO2d(2, 1, modes=4, width=8, aux_channels=1).double()
    return model, model(torch.randn(2, 2, 12, 12, dtype=torch.float64))


def test_float64_model_returns_float64():
    _, out = _float64_fno2d()
    assert out.dtype == torch.float64 and out.shape == (2, 2, 12, 12)


def test_float64_model_has_finite_float64_gradients():
    model, out = _float64_fno2d()
    out.square().mean().backward()
    for p in model.parameters():
        assert p.grad is not None and p.grad.dtype == torch.float64
        assert bool(torch.isfinite(p.grad).all())


def test_strict_modes_accepts_the_coarsest_grid_that_holds_every_mode():
    model = FNO1d(1, 1, modes=8, width=4, strict_modes=True)
    assert model(torch.randn(1, 1, 15)).shape == (1, 1, 15)  # 0..7 all below 15/2


def test_strict_modes_raises_on_a_too_coarse_grid():
    model = FNO1d(1, 1, modes=8, width=4, strict_modes=True)
    with pytest.raises(InputError, match="strict_modes"):
        model(torch.randn(1, 1, 14))


def test_lax_modes_restrict_the_operator_to_a_coarse_grid():
    lax = FNO1d(1, 1, modes=8, width=4)
    assert lax(torch.randn(1, 1, 6)).shape == (1, 1, 6)


def test_padding_is_a_fraction_and_keeps_consistency():
    torch.manual_seed(1)
    model = FNO1d(1, 1, modes=4, width=8, padding=0.25).double()
    assert model(torch.randn(2, 1, 40, dtype=torch.float64)).shape == (2, 1, 40)


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
def test_per_sample_gradients_with_vmap_equal_a_loop(dtype, tol):
    from torch.func import functional_call, grad, vmap

    torch.manual_seed(2)
    model = FNO1d(1, 1, modes=4, width=8).to(dtype)
    params = {k: v.detach() for k, v in model.named_parameters()}
    x = torch.randn(3, 1, 16, dtype=dtype)
    y = torch.randn(3, 1, 16, dtype=dtype)

    def loss(p, xi, yi):
        out = functional_call(model, p, (xi.unsqueeze(0),))
        return ((out - yi.unsqueeze(0)) ** 2).mean()

    batched = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
    for i in range(3):
        single = grad(loss)(params, x[i], y[i])
        for k in params:
            scale = single[k].abs().max().clamp_min(1e-30)
            assert float((batched[k][i] - single[k]).abs().max() / scale) < tol, k


def test_two_train_mode_forward_passes_are_identical():
    torch.manual_seed(3)
    model = FNO1d(2, 1, modes=4, width=8).train()
    x = torch.randn(4, 2, 32)
    assert torch.equal(model(x), model(x))


def test_forward_is_sample_independent():
    """No batch coupling: a sample alone gives what it gives inside a batch."""
    torch.manual_seed(3)
    model = FNO1d(2, 1, modes=4, width=8).train()
    x = torch.randn(4, 2, 32)
    torch.testing.assert_close(model(x[1:2]), model(x)[1:2], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"dim": 3}, "dim"),
        ({"modes": 0}, "modes"),
        ({"width": 0}, "width"),
        ({"grid": "raw"}, "grid"),
        ({"padding": 1.5}, "padding"),
        ({"activation": "nope"}, "activation"),
    ],
)
def test_bad_fno_arguments_raise_input_error_naming_them(kwargs, name):
    args = {"dim": 1, "in_channels": 1, "out_channels": 1, "modes": 4} | kwargs
    with pytest.raises(InputError, match=name):
        FNO(**args)


@pytest.mark.parametrize(
    "in_channels,shape", [(2, (3, 1, 16)), (1, (3, 1, 16, 16))], ids=["channels", "axes"]
)
def test_wrong_input_shape_is_refused(in_channels, shape):
    with pytest.raises(InputError, match="x"):
        FNO1d(in_channels, 1, modes=4)(torch.randn(*shape))


@pytest.mark.parametrize(
    "make",
    [lambda: FNO(1, 1, 1, 4, 8), lambda: FNO1d(1, 1, 4, 8), lambda: FNO2d(1, 1, 4, 8)],
    ids=["FNO", "FNO1d", "FNO2d"],
)
def test_fno_options_are_keyword_only(make):
    """Only dim, in_channels, out_channels and modes may be given by position."""
    with pytest.raises(TypeError, match="positional"):
        make()


@pytest.mark.parametrize("cls", [FNO1d, FNO2d])
def test_fno1d_and_fno2d_spell_out_every_option_of_fno(cls):
    fno = set(inspect.signature(FNO).parameters) - {"dim"}
    assert set(inspect.signature(cls).parameters) == fno


def test_zero_shot_super_resolution_on_heat():
    from fno_conserve import RelLpLoss, generate

    torch.manual_seed(4)
    levels = generate("heat", 96, 64, seed=0, resolutions=[32, 64], show_progress=False)
    coarse, fine = levels
    model = FNO1d(1, 1, modes=8, width=16, n_layers=2, projection_width=32)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    x, y = coarse["x"][:64].float(), coarse["y"][:64].float()
    loss_fn = RelLpLoss()
    for step in range(150):
        idx = torch.arange(step * 16, step * 16 + 16) % 64
        loss = loss_fn(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        err_same = float(loss_fn(model(coarse["x"][64:].float()), coarse["y"][64:].float()))
        err_fine = float(loss_fn(model(fine["x"][64:].float()), fine["y"][64:].float()))
    assert err_same < 0.1  # it learned the operator
    assert err_fine < 2 * err_same, (err_same, err_fine)


def _spectral_reference(conv, v):
    """The layer written out mode by mode on the full rfftn spectrum (slow, obviously right)."""
    w = torch.view_as_complex(conv.weight)
    m, shape = conv.modes, v.shape[2:]
    axes = tuple(range(2, v.ndim))
    vh = torch.fft.rfftn(v, dim=axes, norm="forward")
    out = torch.zeros(v.shape[0], conv.out_channels, *vh.shape[2:], dtype=vh.dtype)
    last = [k for k in range(m) if k < shape[-1] / 2]
    first = [k for k in range(-m, m) if abs(k) < shape[0] / 2] if conv.dim == 2 else [None]
    for k0 in first:
        for k1 in last:
            if k0 is None:
                out[:, :, k1] = vh[:, :, k1] @ w[:, :, k1]
            else:
                out[:, :, k0 % shape[0], k1] = vh[:, :, k0 % shape[0], k1] @ w[:, :, k0 + m, k1]
    return torch.fft.irfftn(out, s=shape, dim=axes, norm="forward")


@pytest.mark.parametrize(
    "dim,shape", [(1, (5,)), (1, (12,)), (1, (31,)), (2, (5, 6)), (2, (7, 9)), (2, (16, 15))]
)
def test_spectral_conv_equals_the_mode_by_mode_reference(dim, shape):
    """Including grids too coarse for every kept mode (the restriction rule) and odd sizes."""
    torch.manual_seed(6)
    conv = SpectralConv(dim, 3, 2, modes=5).double()
    with torch.no_grad():
        conv.weight.normal_()
    v = torch.randn(2, 3, *shape, dtype=torch.float64)
    torch.testing.assert_close(conv(v), _spectral_reference(conv, v), rtol=0, atol=1e-13)
