"""The losses: Parseval where the DFT is unitary, the definitions on known spectra, gradients."""

import math

import pytest
import torch
from dsp_prior import (
    AmplitudePhaseLoss,
    DSPLoss,
    FourierLoss,
    PixelMSE,
    RadialWeight,
    hermitian_weights,
    radial_frequency,
)

import invprob_core as ipc

OPERATORS = {
    "identity": lambda: ipc.Identity(),
    "mask": lambda: ipc.Mask(ipc.random_pixel_mask((16, 16), 0.5, seed=0)[0]),
    "downsample": lambda: ipc.Downsample(4, "lanczos2", "replicate"),
    "blur": lambda: ipc.Blur(ipc.gaussian_kernel(1.6), boundary="circular"),
}


def _pair(op, channels, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    f = torch.rand(1, channels, 16, 16, generator=g, dtype=torch.float64)
    x = torch.rand(1, channels, 16, 16, generator=g, dtype=torch.float64)
    y = op(x) + 0.05 * torch.randn(op(x).shape, generator=g, dtype=torch.float64)
    return f.to(dtype), y.to(dtype)


def _value_and_grad(loss, f, y, op):
    f = f.detach().clone().requires_grad_(True)
    value = loss(f, y, op)
    (grad,) = torch.autograd.grad(value, f)
    return value.detach(), grad


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("rfft", [False, True])
@pytest.mark.parametrize("operator", sorted(OPERATORS))
def test_fourier_l2_equals_pixel_mse(operator, rfft, channels, dtype, tol):
    op = OPERATORS[operator]()
    f, y = _pair(op, channels, dtype)
    v_pix, g_pix = _value_and_grad(PixelMSE(), f, y, op)
    v_fou, g_fou = _value_and_grad(FourierLoss(rfft=rfft), f, y, op)
    assert v_fou.dtype == dtype
    assert abs(float(v_fou - v_pix)) <= tol * float(v_pix)
    assert float((g_fou - g_pix).norm()) <= tol * float(g_pix.norm())


@pytest.mark.parametrize(
    "loss", [AmplitudePhaseLoss(), DSPLoss("v1", weight=None), DSPLoss("v2", weight=None)], ids=repr
)
@pytest.mark.parametrize("operator", sorted(OPERATORS))
def test_unweighted_spectral_forms_equal_pixel_mse_in_float64(operator, loss):
    op = OPERATORS[operator]()
    f, y = _pair(op, 3, torch.float64)
    v_pix, g_pix = _value_and_grad(PixelMSE(), f, y, op)
    v, g = _value_and_grad(loss, f, y, op)
    assert abs(float(v - v_pix)) <= 1e-12 * float(v_pix)
    assert float((g - g_pix).norm()) <= 1e-10 * float(g_pix.norm())


@pytest.mark.parametrize("norm, factor", [("backward", 256.0), ("forward", 1 / 256.0)])
def test_non_unitary_dft_scales_the_loss_by_the_grid_size(norm, factor):
    f, y = _pair(ipc.Identity(), 1, torch.float64)
    ratio = FourierLoss(norm=norm)(f, y, None) / PixelMSE()(f, y, None)
    assert abs(float(ratio) - factor) <= 1e-12 * factor


@pytest.mark.parametrize(
    "loss",
    [
        FourierLoss(RadialWeight.gaussian(0.15, 0.05)),
        DSPLoss("v1"),
        DSPLoss("v2"),
        AmplitudePhaseLoss(1.0, 0.5),
    ],
    ids=repr,
)
def test_weighted_or_unbalanced_forms_differ_from_pixel_mse(loss):
    f, y = _pair(ipc.Identity(), 1, torch.float64)
    v_pix, g_pix = _value_and_grad(PixelMSE(), f, y, None)
    v, g = _value_and_grad(loss, f, y, None)
    assert abs(float(v - v_pix)) > 1e-3 * float(v_pix)
    cosine = float((g * g_pix).sum() / (g.norm() * g_pix.norm()))
    assert cosine < 1 - 1e-4  # a different descent direction, not a rescaled one


@pytest.mark.parametrize("width", [7, 8, 15, 16])
def test_half_spectrum_weights(width):
    g = torch.Generator().manual_seed(width)
    x = torch.randn(2, 3, 6, width, generator=g, dtype=torch.float64)
    weight = RadialWeight.gaussian(0.2, 0.1)
    full = (weight((6, width)) * torch.fft.fft2(x, norm="ortho").abs() ** 2).sum()
    half_spec = torch.fft.rfft2(x, norm="ortho").abs() ** 2
    half_w = weight((6, width), onesided=True) * hermitian_weights(width)
    assert torch.isclose((half_w * half_spec).sum(), full, rtol=1e-13)
    assert float(half_spec.sum()) < 0.75 * float(
        full / weight((6, width)).mean()
    )  # unweighted drops energy


def _cosine_image(a, b, h=16, w=16):
    yy, xx = torch.meshgrid(
        torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij"
    )
    return torch.cos(2 * math.pi * (a * yy / h + b * xx / w))[None, None]


@pytest.mark.parametrize(
    "a, b, energy",  # energy = sum_k |R_k|^2 / (H W) of the residual for each component
    [(0, 0, 1.0), (2, 3, 0.5), (0, 8, 1.0), (8, 8, 1.0), (5, 0, 0.5)],
    ids=["dc", "cosine", "nyquist-x", "nyquist-corner", "cosine-y"],
)
@pytest.mark.parametrize("rfft", [False, True])
def test_weighted_loss_matches_definition_on_known_spectra(a, b, energy, rfft):
    weight = RadialWeight.gaussian(0.2, 0.05)
    r = _cosine_image(a, b)
    k = math.hypot(min(a, 16 - a) / 16, min(b, 16 - b) / 16)
    grid = radial_frequency((16, 16))
    g = lambda q: math.exp(-((q / 0.2) ** 2)) + 0.05  # noqa: E731
    mean_g = float(torch.exp(-((grid / 0.2) ** 2)).mean()) + 0.05
    expected = g(k) / mean_g * energy
    value = FourierLoss(weight, rfft=rfft)(r, torch.zeros_like(r), None)
    assert abs(float(value) - expected) <= 1e-12 * expected


@pytest.mark.parametrize(
    "weight",
    [
        RadialWeight.gaussian(0.1, 0.05),
        RadialWeight.butterworth(0.2, 3, 0.01),
        RadialWeight.power(1.0, 0.02),
    ],
    ids=repr,
)
@pytest.mark.parametrize("size", [(16, 16), (9, 12)])
def test_radial_weights_have_mean_one_and_decrease_with_frequency(weight, size):
    w = weight(size)
    k = radial_frequency(size)
    assert abs(float(w.mean()) - 1.0) < 1e-12
    order = torch.argsort(k.flatten())
    assert bool((w.flatten()[order].diff() <= 1e-15).all())


def test_radial_frequency_reaches_dc_and_nyquist():
    k = radial_frequency((8, 8))
    assert float(k[0, 0]) == 0.0 and float(k[0, 4]) == 0.5 and float(k[4, 0]) == 0.5
    assert torch.equal(radial_frequency((8, 8), onesided=True), k[:, :5])


def test_amplitude_phase_identity_holds_elementwise():
    g = torch.Generator().manual_seed(1)
    f, y = (torch.rand(1, 3, 16, 16, generator=g, dtype=torch.float64) for _ in range(2))
    amplitude, phase = AmplitudePhaseLoss().terms(f, y, None)
    x_spec, y_spec = torch.fft.fft2(f, norm="ortho"), torch.fft.fft2(y, norm="ortho")
    assert torch.allclose(amplitude + phase, (x_spec - y_spec).abs() ** 2, rtol=0, atol=1e-13)
    dphi = torch.angle(x_spec) - torch.angle(y_spec)
    expected_phase = 2 * x_spec.abs() * y_spec.abs() * (1 - torch.cos(dphi))
    assert torch.allclose(phase, expected_phase, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "loss", [AmplitudePhaseLoss(), DSPLoss("v2"), DSPLoss("v2", weight_phase=True)], ids=repr
)
def test_amplitude_phase_gradient_is_finite_at_a_zero_spectrum(loss):
    f = torch.zeros(1, 1, 8, 8, dtype=torch.float64, requires_grad=True)
    y = torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    (grad,) = torch.autograd.grad(loss(f, y, None), f)
    assert bool(torch.isfinite(grad).all()) and float(grad.abs().sum()) > 0


def test_dsp_v2_with_the_weight_on_both_terms_equals_v1():
    f, y = _pair(ipc.Identity(), 3, torch.float64)
    v1 = DSPLoss("v1")(f, y, None)
    v2 = DSPLoss("v2", weight_phase=True)(f, y, None)
    assert torch.isclose(v1, v2, rtol=1e-12)


@pytest.mark.parametrize(
    "loss",
    [
        PixelMSE(),
        FourierLoss(RadialWeight.gaussian(0.15, 0.05)),
        DSPLoss("v1"),
        DSPLoss("v2"),
        AmplitudePhaseLoss(1.0, 2.0),
    ],
    ids=repr,
)
def test_mask_is_applied_before_fft(loss):
    mask = ipc.random_pixel_mask((16, 16), 0.5, seed=3)[0].to(torch.float64)
    op = ipc.Mask(mask)
    f, y = _pair(op, 3, torch.float64)
    changed = f.detach() + (1 - mask) * torch.rand(
        f.shape, generator=torch.Generator().manual_seed(9), dtype=torch.float64
    )
    assert torch.equal(loss(f.detach(), y, op), loss(changed, y, op))


@pytest.mark.parametrize(
    "loss", [DSPLoss("v1"), DSPLoss("v2"), AmplitudePhaseLoss(0.5, 1.5)], ids=repr
)
def test_spectral_gradients_match_finite_differences(loss):
    op = ipc.Downsample(2, "lanczos2", "replicate")
    g = torch.Generator().manual_seed(2)
    f = torch.rand(1, 1, 8, 8, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.rand(1, 1, 4, 4, generator=g, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: loss(t, y, op), (f,), eps=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "loss", [PixelMSE(), FourierLoss(rfft=True), DSPLoss("v1"), DSPLoss("v2")], ids=repr
)
def test_losses_follow_the_input_dtype(loss, dtype):
    f, y = _pair(ipc.Identity(), 1, dtype)
    assert loss(f, y, None).dtype == dtype


def test_loss_refuses_an_operator_whose_output_does_not_match_y():
    f, y = _pair(ipc.Identity(), 1, torch.float64)
    with pytest.raises(ValueError, match=r"physics: .*\(1, 1, 4, 4\).*\(1, 1, 16, 16\)"):
        PixelMSE()(f, y, ipc.Downsample(4))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize(
    "loss", [FourierLoss(), FourierLoss(rfft=True), AmplitudePhaseLoss()], ids=repr
)
def test_parseval_identity_holds_on_cuda(loss):
    op = ipc.Blur(ipc.gaussian_kernel(1.6), boundary="circular")
    f, y = _pair(op, 3, torch.float64)
    f, y = f.detach().cuda(), y.cuda()
    v_pix, g_pix = _value_and_grad(PixelMSE(), f, y, op)
    v, g = _value_and_grad(loss, f, y, op)
    assert v.device.type == "cuda"
    assert abs(float(v - v_pix)) <= 1e-12 * float(v_pix)
    assert float((g - g_pix).norm()) <= 1e-10 * float(g_pix.norm())
