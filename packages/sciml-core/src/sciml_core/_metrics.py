"""Image and field metrics shared by every package: PSNR, SSIM, relative L2 error.

``psnr`` and ``ssim`` are evaluation metrics, not training losses: torch tensors are copied to the
host and evaluated in float64 with numpy, and a Python ``float`` comes back. ``relative_l2`` stays
in torch for tensors (it keeps the autograd graph in its batched form).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._backend import is_tensor, loaded_torch
from ._errors import InputError, check_finite

__all__ = ["psnr", "relative_l2", "ssim"]

_SSIM_SIGMA = 1.5
_SSIM_TRUNCATE = 3.5  # scikit-image's choice: radius int(3.5 * 1.5 + 0.5) = 5, i.e. 11 taps
_SSIM_K1 = 0.01
_SSIM_K2 = 0.03


def _to_numpy(x: Any, name: str) -> np.ndarray:
    """Host numpy copy/view of an array or tensor, dtype kept where numpy has it."""
    if is_tensor(x):
        torch = loaded_torch()
        assert torch is not None
        t = x.detach()
        if t.dtype in (torch.bfloat16, torch.float16):
            t = t.to(torch.float32)
        arr = t.cpu().numpy()
    else:
        arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{name} must be a real array or tensor; got dtype {arr.dtype}")
    return arr


def _image_pair(x: Any, ref: Any) -> tuple[np.ndarray, np.ndarray]:
    xa, ra = _to_numpy(x, "x"), _to_numpy(ref, "ref")
    if xa.shape != ra.shape:
        raise InputError(f"x and ref must have the same shape; got {xa.shape} and {ra.shape}")
    if xa.size == 0:
        raise InputError(f"x and ref must not be empty; got shape {xa.shape}")
    check_finite(xa, "x")
    check_finite(ra, "ref")
    return xa, ra


def _data_range(ref: np.ndarray, data_range: float | None) -> float:
    if data_range is not None:
        value = float(data_range)
        if not np.isfinite(value) or value <= 0:
            raise InputError(f"data_range must be a finite number > 0; got {data_range!r}")
        return value
    if ref.dtype.kind == "b":
        return 1.0
    if ref.dtype.kind in "iu":
        info = np.iinfo(ref.dtype)
        return float(info.max) - float(info.min)
    value = float(ref.max()) - float(ref.min())
    if value <= 0:
        raise InputError(
            "data_range is needed: ref is constant (max - min = 0), so its range cannot serve; "
            "pass data_range explicitly"
        )
    return value


def psnr(x: Any, ref: Any, *, data_range: float | None = None) -> float:
    r"""Peak signal-to-noise ratio of ``x`` against the reference ``ref``, in dB.

    .. math::
        \mathrm{PSNR}(x, r) = 10 \log_{10} \frac{R^2}{\frac{1}{n}\sum_i (x_i - r_i)^2},

    with :math:`R` the data range. Equal to ``skimage.metrics.peak_signal_noise_ratio(ref, x,
    data_range=R)``. The mean squared error is taken over every entry (all images of a batch
    together). Identical inputs give ``inf``.

    Args:
        x: Estimate, numpy array or torch tensor, real.
        ref: Reference of the same shape.
        data_range: :math:`R`. Default: for integer (or bool) ``ref`` the range of its dtype (255
            for ``uint8``); for floating ``ref`` its own ``ref.max() - ref.min()``. Pass it
            explicitly whenever images are compared across a data set.

    Returns:
        PSNR in decibels, a Python float.

    Raises:
        InputError: shapes differ, inputs are empty, complex or not finite, or the range is not
            positive.

    Examples:
        >>> ref = np.array([[0.0, 1.0], [0.5, 0.25]])
        >>> round(psnr(ref + 0.1, ref, data_range=1.0), 6)
        20.0
        >>> psnr(ref, ref)
        inf
    """
    xa, ra = _image_pair(x, ref)
    rng = _data_range(ra, data_range)
    mse = float(np.mean((xa.astype(np.float64) - ra.astype(np.float64)) ** 2))
    if mse == 0.0:
        return float("inf")
    return float(10.0 * np.log10(rng * rng / mse))


def _gaussian_window() -> np.ndarray:
    radius = int(_SSIM_TRUNCATE * _SSIM_SIGMA + 0.5)
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    w = np.exp(-0.5 * offsets**2 / _SSIM_SIGMA**2)
    return w / w.sum()


def _filter_valid(img: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Separable correlation with ``w`` over the last two axes, 'valid' part only.

    One shifted multiply-add per tap keeps memory at the size of the image (a windowed view times
    ``w`` would copy every window).
    """
    k = w.size
    h_out, w_out = img.shape[-2] - k + 1, img.shape[-1] - k + 1
    rows = np.zeros((*img.shape[:-1], w_out))  # (..., H, W - k + 1)
    for j in range(k):
        rows += w[j] * img[..., j : j + w_out]
    out = np.zeros((*img.shape[:-2], h_out, w_out))  # (..., H - k + 1, W - k + 1)
    for i in range(k):
        out += w[i] * rows[..., i : i + h_out, :]
    return out


def ssim(x: Any, ref: Any, *, data_range: float | None = None) -> float:
    r"""Structural similarity (Wang et al. 2004) with an 11-tap Gaussian window, :math:`\sigma=1.5`.

    With Gaussian-weighted local means :math:`\mu_x, \mu_r`, population variances
    :math:`\sigma_x^2, \sigma_r^2` and covariance :math:`\sigma_{xr}`,

    .. math::
        \mathrm{SSIM}(x, r) = \frac{(2\mu_x\mu_r + C_1)(2\sigma_{xr} + C_2)}
                                   {(\mu_x^2 + \mu_r^2 + C_1)(\sigma_x^2 + \sigma_r^2 + C_2)},
        \qquad C_1 = (0.01 R)^2,\; C_2 = (0.03 R)^2,

    averaged over the pixels whose whole window lies inside the image (a 5-pixel border is left
    out, exactly as scikit-image crops it). Equal to ``skimage.metrics.structural_similarity(x,
    ref, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=R)`` to 1e-6
    (tested on scikit-image's sample images). Computed in float64 on the host.

    Args:
        x: Estimate, real, shape ``(H, W)`` or ``(..., H, W)``; numpy array or torch tensor.
        ref: Reference of the same shape.
        data_range: :math:`R`; default as in :func:`psnr` (dtype range for integers, ``ref``'s
            own ``max - min`` for floats).

    Returns:
        The SSIM of one image, or the mean over the leading images (batch, channels) of a stack.

    Shapes:
        ``x``, ``ref``: ``(H, W)`` or ``(..., H, W)`` with ``H, W >= 11``.

    Raises:
        InputError: shapes differ, an image is smaller than 11x11, inputs are complex or not
            finite, or the range is not positive.

    References:
        Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality assessment: from error
        visibility to structural similarity", IEEE TIP 13(4), 2004.

    Examples:
        >>> ref = np.linspace(0.0, 1.0, 256).reshape(16, 16)
        >>> ssim(ref, ref)
        1.0
        >>> round(ssim(ref + 0.2, ref, data_range=1.0), 4)  # a brightness shift
        0.9406
    """
    xa, ra = _image_pair(x, ref)
    w = _gaussian_window()
    if xa.ndim < 2 or min(xa.shape[-2:]) < w.size:
        raise InputError(
            f"x and ref must have shape (..., H, W) with H, W >= {w.size}; got {xa.shape}"
        )
    rng = _data_range(ra, data_range)
    a = xa.astype(np.float64)
    b = ra.astype(np.float64)
    mu_a, mu_b = _filter_valid(a, w), _filter_valid(b, w)
    var_a = _filter_valid(a * a, w) - mu_a * mu_a
    var_b = _filter_valid(b * b, w) - mu_b * mu_b
    cov = _filter_valid(a * b, w) - mu_a * mu_b
    c1 = (_SSIM_K1 * rng) ** 2
    c2 = (_SSIM_K2 * rng) ** 2
    smap = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2)
    )
    per_image = smap.mean(axis=(-2, -1))
    return float(np.mean(per_image))


def relative_l2(x: Any, ref: Any, *, batched: bool = False) -> Any:
    r"""Relative L2 error :math:`\|x - r\|_2 / \|r\|_2`.

    Real or complex inputs. For tensors the computation stays in torch (same device and dtype);
    numpy inputs are evaluated in float64 (complex128).

    Args:
        x: Estimate, numpy array or torch tensor.
        ref: Reference of the same shape (a numpy ``ref`` with a tensor ``x`` is converted).
        batched: If True, one error per sample along axis 0 (norms over the other axes).

    Returns:
        A Python float; with ``batched=True`` a numpy array of shape ``(N,)`` or a tensor of shape
        ``(N,)`` (differentiable) instead.

    Raises:
        InputError: shapes differ, inputs are empty or not finite, or a reference norm is zero.

    Examples:
        >>> round(relative_l2(np.array([3.0, 4.0]) * 1.1, np.array([3.0, 4.0])), 12)
        0.1
        >>> relative_l2(np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]),
        ...             batched=True)
        array([0., 1.])
    """
    if is_tensor(x) or is_tensor(ref):
        return _relative_l2_torch(x, ref, batched=batched)
    xa, ra = np.asarray(x), np.asarray(ref)
    _check_pair(xa.shape, ra.shape, batched)
    check_finite(xa, "x")
    check_finite(ra, "ref")
    dtype = np.complex128 if np.iscomplexobj(xa) or np.iscomplexobj(ra) else np.float64
    diff = xa.astype(dtype) - ra.astype(dtype)
    if batched:
        axes = tuple(range(1, ra.ndim))
        num = np.sqrt(np.sum(np.abs(diff) ** 2, axis=axes))
        den = np.sqrt(np.sum(np.abs(ra.astype(dtype)) ** 2, axis=axes))
        _check_den(np.asarray(den == 0))
        return num / den
    den0 = float(np.linalg.norm(ra.astype(dtype).ravel()))
    _check_den(np.asarray(den0 == 0.0))
    return float(np.linalg.norm(diff.ravel())) / den0


def _check_pair(xs: tuple[int, ...], rs: tuple[int, ...], batched: bool) -> None:
    if tuple(xs) != tuple(rs):
        raise InputError(f"x and ref must have the same shape; got {tuple(xs)} and {tuple(rs)}")
    if batched and len(rs) == 0:
        raise InputError("batched=True needs inputs with a batch axis 0; got 0-d inputs")
    if int(np.prod(rs)) == 0:
        raise InputError(f"x and ref must not be empty; got shape {tuple(rs)}")


def _check_den(zero: np.ndarray) -> None:
    if zero.any():
        where = np.flatnonzero(zero).tolist() if zero.ndim else []
        at = f" at sample(s) {where[:10]}" if where else ""
        raise InputError(f"ref must have a nonzero norm; got a zero reference{at}")


def _relative_l2_torch(x: Any, ref: Any, *, batched: bool) -> Any:
    torch = loaded_torch()
    assert torch is not None
    xt = x if is_tensor(x) else torch.as_tensor(np.asarray(x), device=ref.device)
    rt = ref if is_tensor(ref) else torch.as_tensor(np.asarray(ref), device=xt.device)
    if not (xt.is_floating_point() or xt.is_complex()):
        xt = xt.to(torch.get_default_dtype())
    if not (rt.is_floating_point() or rt.is_complex()):
        rt = rt.to(xt.dtype)
    _check_pair(tuple(xt.shape), tuple(rt.shape), batched)
    check_finite(xt, "x")
    check_finite(rt, "ref")
    diff = xt - rt
    if batched:
        dims = tuple(range(1, rt.ndim))
        num = torch.linalg.vector_norm(diff, dim=dims) if dims else diff.abs()
        den = torch.linalg.vector_norm(rt, dim=dims) if dims else rt.abs()
        _check_den((den == 0).cpu().numpy())
        return num / den
    den0 = torch.linalg.vector_norm(rt)
    _check_den(np.asarray(bool(den0 == 0)))
    return float(torch.linalg.vector_norm(diff) / den0)
