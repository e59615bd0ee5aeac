from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sciml_core import InputError, psnr, relative_l2, ssim

skdata = pytest.importorskip("skimage.data")
skmetrics = pytest.importorskip("skimage.metrics")
skcolor = pytest.importorskip("skimage.color")


def sk_ssim(x: np.ndarray, ref: np.ndarray, data_range: float, **kw: object) -> float:
    return float(
        skmetrics.structural_similarity(
            x,
            ref,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=data_range,
            **kw,
        )
    )


@pytest.fixture(scope="module")
def camera() -> np.ndarray:
    return skdata.camera()  # uint8, 512 x 512


@pytest.fixture(scope="module")
def astronaut_gray() -> np.ndarray:
    return skcolor.rgb2gray(skdata.astronaut())  # float64 in [0, 1], 512 x 512


def noisy(img: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return img.astype(np.float64) + rng.normal(0.0, sigma, img.shape)


# --- SSIM against scikit-image --------------------------------------------------------------


def test_ssim_matches_skimage_on_camera_uint8(camera: np.ndarray) -> None:
    x = np.clip(noisy(camera, 25.0, 0), 0, 255).astype(np.uint8)
    ours = ssim(x, camera)  # integer default: the dtype range, 255
    assert ours == pytest.approx(sk_ssim(x, camera, 255), abs=1e-6)
    assert 0.2 < ours < 0.8  # a real comparison, not a trivial identity


def test_ssim_matches_skimage_on_astronaut_gray(astronaut_gray: np.ndarray) -> None:
    x = noisy(astronaut_gray, 0.05, 1)
    assert ssim(x, astronaut_gray, data_range=1.0) == pytest.approx(
        sk_ssim(x, astronaut_gray, 1.0), abs=1e-6
    )


def test_ssim_matches_skimage_on_a_noisy_copy_with_odd_shape(camera: np.ndarray) -> None:
    ref = camera[:101, 37:200].astype(np.float64)
    x = noisy(ref, 10.0, 2)
    assert ssim(x, ref, data_range=255.0) == pytest.approx(sk_ssim(x, ref, 255.0), abs=1e-6)


def test_ssim_float_default_range_is_the_references_range(astronaut_gray: np.ndarray) -> None:
    ref = 0.2 + 0.5 * astronaut_gray[100:200, 100:200]
    x = noisy(ref, 0.02, 3)
    rng = float(ref.max() - ref.min())
    assert rng < 1.0
    assert ssim(x, ref) == pytest.approx(sk_ssim(x, ref, rng), abs=1e-6)
    assert ssim(x, ref) != pytest.approx(ssim(x, ref, data_range=1.0), abs=1e-4)


def test_ssim_of_a_stack_is_the_mean_over_images(camera: np.ndarray) -> None:
    ref = np.stack([camera[:64, :64], camera[64:128, :64], camera[:64, 64:128]]).astype(float)
    x = noisy(ref, 15.0, 4)
    per_image = [sk_ssim(x[c], ref[c], 255.0) for c in range(3)]
    assert ssim(x, ref, data_range=255.0) == pytest.approx(np.mean(per_image), abs=1e-6)
    assert ssim(x, ref, data_range=255.0) == pytest.approx(
        sk_ssim(x, ref, 255.0, channel_axis=0), abs=1e-6
    )
    batch = np.stack([ref, ref])  # (B, C, H, W)
    assert ssim(np.stack([x, x]), batch, data_range=255.0) == pytest.approx(np.mean(per_image))


def test_ssim_identity_and_symmetry(camera: np.ndarray) -> None:
    ref = camera[:80, :80].astype(float)
    x = noisy(ref, 20.0, 5)
    assert ssim(ref, ref, data_range=255.0) == 1.0
    assert ssim(x, ref, data_range=255.0) == pytest.approx(ssim(ref, x, data_range=255.0))
    assert ssim(x, ref, data_range=255.0) < 1.0


def test_ssim_decreases_with_noise(camera: np.ndarray) -> None:
    ref = camera[:128, :128].astype(float)
    values = [ssim(noisy(ref, s, 6), ref, data_range=255.0) for s in (2.0, 10.0, 40.0)]
    assert values[0] > values[1] > values[2]


def test_ssim_of_tensors_equals_numpy(camera: np.ndarray) -> None:
    torch = pytest.importorskip("torch")
    ref = camera[:40, :50].astype(np.float64)
    x = noisy(ref, 5.0, 7)
    expected = ssim(x, ref, data_range=255.0)
    got = ssim(torch.from_numpy(x), torch.from_numpy(ref), data_range=255.0)
    assert isinstance(got, float)
    assert got == pytest.approx(expected, abs=1e-12)
    got32 = ssim(torch.from_numpy(x).float(), torch.from_numpy(ref).float(), data_range=255.0)
    assert got32 == pytest.approx(expected, abs=1e-5)
    t = torch.from_numpy(x).requires_grad_(True)
    assert ssim(t, torch.from_numpy(ref), data_range=255.0) == pytest.approx(expected)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8"])
@pytest.mark.parametrize("image", ["camera", "astronaut"])
def test_ssim_and_psnr_match_skimage_for_every_dtype_and_backend(
    image: str, dtype: str, backend: str, camera: np.ndarray, astronaut_gray: np.ndarray
) -> None:
    # The contract: ssim == skimage's structural_similarity(gaussian_weights=True, sigma=1.5,
    # use_sample_covariance=False, data_range=R) to 1e-6 on its sample images, for numpy arrays
    # and torch tensors alike. scikit-image computes float32 inputs in float32, ours in float64.
    base = camera.astype(np.float64) if image == "camera" else 255.0 * astronaut_gray
    noisy_img = np.clip(noisy(base, 20.0, 12), 0.0, 255.0)
    if dtype == "uint8":
        ref, x = np.round(base).astype(np.uint8), np.round(noisy_img).astype(np.uint8)
        given_range = None  # the dtype's range, 255
    else:
        ref, x = base.astype(dtype), noisy_img.astype(dtype)
        given_range = 255.0
    expected_ssim = sk_ssim(x, ref, 255.0)
    expected_psnr = skmetrics.peak_signal_noise_ratio(ref, x, data_range=255.0)
    if backend == "torch":
        torch = pytest.importorskip("torch")
        xs, refs = torch.from_numpy(x), torch.from_numpy(ref)
    else:
        xs, refs = x, ref
    got = ssim(xs, refs, data_range=given_range)
    assert isinstance(got, float)
    assert got == pytest.approx(expected_ssim, abs=1e-6)
    assert 0.1 < got < 0.95  # a real comparison, neither identity nor noise
    assert psnr(xs, refs, data_range=given_range) == pytest.approx(expected_psnr, abs=1e-5)


@pytest.mark.parametrize("shape", [(10, 20), (20, 10), (3, 10, 10), (11,)])
def test_ssim_needs_an_11_by_11_window(shape: tuple[int, ...]) -> None:
    x = np.ones(shape)
    with pytest.raises(InputError, match="H, W >= 11"):
        ssim(x, x, data_range=1.0)


def test_ssim_accepts_exactly_11_by_11() -> None:
    ref = np.arange(121.0).reshape(11, 11)
    x = ref + np.eye(11)
    assert ssim(x, ref, data_range=120.0) == pytest.approx(sk_ssim(x, ref, 120.0), abs=1e-6)


# --- PSNR ---------------------------------------------------------------------------------


def test_psnr_matches_skimage(camera: np.ndarray, astronaut_gray: np.ndarray) -> None:
    x = np.clip(noisy(camera, 15.0, 8), 0, 255).astype(np.uint8)
    assert psnr(x, camera) == pytest.approx(
        skmetrics.peak_signal_noise_ratio(camera, x, data_range=255), abs=1e-10
    )
    y = noisy(astronaut_gray, 0.1, 9)
    assert psnr(y, astronaut_gray, data_range=1.0) == pytest.approx(
        skmetrics.peak_signal_noise_ratio(astronaut_gray, y, data_range=1.0), abs=1e-10
    )


def test_psnr_of_uint8_does_not_wrap_around() -> None:
    ref = np.zeros((4, 4), np.uint8)
    x = np.full((4, 4), 255, np.uint8)  # x - ref would wrap to small numbers in uint8
    assert psnr(x, ref) == pytest.approx(0.0, abs=1e-12)
    assert psnr(ref, x) == pytest.approx(0.0, abs=1e-12)


def test_psnr_of_a_constant_offset_is_exact() -> None:
    ref = np.linspace(0.0, 1.0, 50)
    assert psnr(ref + 0.01, ref, data_range=1.0) == pytest.approx(40.0, abs=1e-9)
    assert psnr(ref + 0.01, ref) == pytest.approx(40.0, abs=1e-9)  # range of ref is 1 here


def test_psnr_identity_is_inf() -> None:
    ref = np.arange(9.0)
    assert psnr(ref, ref) == math.inf


@given(
    ref=arrays(np.float64, (5, 6), elements=st.floats(-100, 100)),
    delta=arrays(np.float64, (5, 6), elements=st.floats(-1, 1)),
)
def test_psnr_is_symmetric_under_opposite_shifts(ref: np.ndarray, delta: np.ndarray) -> None:
    if not np.any(delta):
        return
    assert psnr(ref + delta, ref, data_range=255.0) == pytest.approx(
        psnr(ref - delta, ref, data_range=255.0), rel=1e-9
    )


@given(
    ref=arrays(np.float64, (4, 4), elements=st.floats(0, 1)),
    delta=arrays(np.float64, (4, 4), elements=st.floats(-0.5, 0.5)),
    scale=st.floats(1e-3, 1e3),
)
def test_psnr_is_invariant_to_rescaling_with_the_range(
    ref: np.ndarray, delta: np.ndarray, scale: float
) -> None:
    if np.max(np.abs(delta)) < 1e-6:
        return
    a = psnr(ref + delta, ref, data_range=1.0)
    b = psnr(scale * (ref + delta), scale * ref, data_range=scale)
    assert a == pytest.approx(b, rel=1e-9, abs=1e-9)


def test_psnr_of_tensors_equals_numpy() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    ref, x = rng.random((8, 8)), rng.random((8, 8))
    got = psnr(torch.from_numpy(x), torch.from_numpy(ref), data_range=1.0)
    assert isinstance(got, float)
    assert got == pytest.approx(psnr(x, ref, data_range=1.0), abs=1e-12)
    u8 = torch.from_numpy((ref * 255).astype(np.uint8))
    assert psnr(u8 // 2, u8) == pytest.approx(psnr(u8.numpy() // 2, u8.numpy()))


@pytest.mark.parametrize("metric", [psnr, ssim])
def test_metrics_reject_bad_input(metric: object) -> None:
    f = metric  # type: ignore[assignment]
    good = np.random.default_rng(0).random((16, 16))
    with pytest.raises(InputError, match="same shape"):
        f(good, good[:15])
    with pytest.raises(InputError, match="x must be finite"):
        f(np.where(good > 0.5, np.nan, good), good)
    with pytest.raises(InputError, match="ref must be finite"):
        f(good, np.where(good > 0.5, np.inf, good))
    with pytest.raises(InputError, match="data_range must be a finite number > 0"):
        f(good, good + 0.1, data_range=0.0)
    with pytest.raises(InputError, match="ref is constant"):
        f(good, np.ones((16, 16)))
    with pytest.raises(InputError, match="real array"):
        f(good + 0j, good)


# --- relative L2 --------------------------------------------------------------------------


def test_relative_l2_value() -> None:
    ref = np.array([3.0, 4.0])
    assert relative_l2(ref, ref) == 0.0
    assert relative_l2(np.zeros(2), ref) == 1.0
    assert relative_l2(ref + np.array([0.0, 0.5]), ref) == pytest.approx(0.1)


@given(
    x=arrays(np.float64, 6, elements=st.floats(-10, 10)),
    ref=arrays(np.float64, 6, elements=st.floats(-10, 10)),
    c=st.floats(1e-3, 1e3) | st.floats(-1e3, -1e-3),
)
def test_relative_l2_is_scale_invariant(x: np.ndarray, ref: np.ndarray, c: float) -> None:
    if np.linalg.norm(ref) < 1e-3:
        return
    assert relative_l2(c * x, c * ref) == pytest.approx(relative_l2(x, ref), rel=1e-9, abs=1e-12)


@given(t=st.floats(-2, 2))
def test_relative_l2_of_a_scaled_reference_is_the_scale_error(t: float) -> None:
    ref = np.array([[1.0, -2.0], [0.5, 3.0]])
    assert relative_l2((1 + t) * ref, ref) == pytest.approx(abs(t), rel=1e-12, abs=1e-15)


def test_relative_l2_complex() -> None:
    ref = np.array([1 + 1j, 1 - 1j])
    assert relative_l2(ref * 1j, ref) == pytest.approx(math.sqrt(2))


def test_relative_l2_batched_numpy() -> None:
    ref = np.ones((3, 2, 2))
    x = ref * np.array([1.0, 1.5, 0.0])[:, None, None]
    got = relative_l2(x, ref, batched=True)
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, [0.0, 0.5, 1.0])


def test_relative_l2_rejects_zero_reference() -> None:
    with pytest.raises(InputError, match="nonzero norm"):
        relative_l2(np.ones(3), np.zeros(3))
    ref = np.ones((3, 2))
    ref[1] = 0.0
    with pytest.raises(InputError, match=r"sample\(s\) \[1\]"):
        relative_l2(np.ones((3, 2)), ref, batched=True)
    with pytest.raises(InputError, match="same shape"):
        relative_l2(np.ones(3), np.ones(4))


def test_relative_l2_torch_keeps_device_dtype_and_gradient() -> None:
    torch = pytest.importorskip("torch")
    ref = torch.tensor([[3.0, 4.0], [1.0, 0.0]], dtype=torch.float64)
    x = (ref * torch.tensor([[1.1], [2.0]], dtype=torch.float64)).requires_grad_(True)
    per = relative_l2(x, ref, batched=True)
    assert per.dtype == torch.float64 and per.shape == (2,)
    torch.testing.assert_close(per.detach(), torch.tensor([0.1, 1.0], dtype=torch.float64))
    per.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    total = relative_l2(x.detach(), ref)
    assert isinstance(total, float)
    expected = relative_l2(x.detach().numpy(), ref.numpy())
    assert total == pytest.approx(expected, rel=1e-12)


@settings(max_examples=25)
@given(
    h=st.integers(11, 24),
    w=st.integers(11, 24),
    seed=st.integers(0, 2**32 - 1),
    noise=st.floats(0.0, 0.5),
)
def test_ssim_matches_skimage_on_random_images(h: int, w: int, seed: int, noise: float) -> None:
    rng = np.random.default_rng(seed)
    ref = rng.random((h, w))
    x = ref + noise * rng.standard_normal((h, w))
    ours = ssim(x, ref, data_range=1.0)
    assert ours == pytest.approx(sk_ssim(x, ref, 1.0), abs=1e-6)
    assert ours <= 1.0 + 1e-12
    assert ours == pytest.approx(ssim(ref, x, data_range=1.0), abs=1e-12)


@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.uint8])
def test_integer_default_range_is_the_dtype_range(dtype: type) -> None:
    info = np.iinfo(dtype)
    rng = np.random.default_rng(11)
    ref = rng.integers(info.min // 2, info.max // 2, (20, 20)).astype(dtype)
    x = (ref.astype(np.int64) + rng.integers(-50, 50, (20, 20))).astype(dtype)
    span = float(info.max) - float(info.min)
    assert psnr(x, ref) == pytest.approx(psnr(x, ref, data_range=span))
    assert psnr(x, ref) == pytest.approx(
        skmetrics.peak_signal_noise_ratio(ref, x, data_range=span), abs=1e-10
    )
    assert ssim(x, ref) == pytest.approx(sk_ssim(x, ref, span), abs=1e-6)
