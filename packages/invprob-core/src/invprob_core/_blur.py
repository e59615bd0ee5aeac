"""Convolution (blur) operators with circular, zero, reflect and replicate boundaries."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from sciml_core import InputError

from ._operator import LinearOperator, Shape, check_tensor
from ._padding import BOUNDARIES, Boundary, max_multiplicity, pad, pad_adjoint, pad_index


def gaussian_kernel(sigma: float, size: int | None = None) -> torch.Tensor:
    """Normalised 2-D Gaussian kernel, odd ``size`` (default ``2 ceil(3 sigma) + 1``), float64.

    Examples:
        >>> k = gaussian_kernel(1.0)
        >>> k.shape, round(float(k.sum()), 12)
        (torch.Size([7, 7]), 1.0)
    """
    if not (isinstance(sigma, int | float) and sigma > 0 and math.isfinite(sigma)):
        raise InputError(f"sigma: expected a positive finite number, got {sigma!r}")
    if size is None:
        size = 2 * math.ceil(3 * sigma) + 1
    if int(size) < 1:
        raise InputError(f"size: expected a positive integer, got {size!r}")
    r = torch.arange(int(size), dtype=torch.float64) - (int(size) - 1) / 2
    g = torch.exp(-(r**2) / (2 * sigma**2))
    k = g[:, None] * g[None, :]
    return k / k.sum()


def box_kernel(size: int) -> torch.Tensor:
    """Normalised ``size x size`` box (uniform) kernel, float64."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InputError(f"size: expected a positive integer, got {size!r}")
    return torch.full((size, size), 1.0 / size**2, dtype=torch.float64)


def motion_kernel(length: float, angle: float = 0.0) -> torch.Tensor:
    """Normalised linear-motion kernel: a segment of ``length`` pixels at ``angle`` (radians).

    The segment is sampled densely and splatted bilinearly onto an odd-sized grid.
    """
    if not (isinstance(length, int | float) and length > 0 and math.isfinite(length)):
        raise InputError(f"length: expected a positive finite number, got {length!r}")
    size = 2 * math.ceil(length / 2) + 1
    c = (size - 1) / 2
    t = np.linspace(-length / 2, length / 2, 8 * size)
    xs, ys = c + t * math.cos(angle), c - t * math.sin(angle)
    k = np.zeros((size, size))
    for x, y in zip(xs, ys):
        x0, y0 = math.floor(x), math.floor(y)
        fx, fy = x - x0, y - y0
        for dy, dx, w in (
            (0, 0, (1 - fy) * (1 - fx)),
            (0, 1, (1 - fy) * fx),
            (1, 0, fy * (1 - fx)),
            (1, 1, fy * fx),
        ):
            if 0 <= y0 + dy < size and 0 <= x0 + dx < size:
                k[y0 + dy, x0 + dx] += w
    return torch.from_numpy(k / k.sum())


class Blur(LinearOperator):
    r"""Convolution :math:`y = k * x`, :math:`y_i = \sum_m k_m\, x_{i + c - m}` with centre :math:`c
    = \lfloor s/2 \rfloor`.

    Boundaries: ``"circular"`` (periodic, computed by FFT; adjoint = conjugate multiplier),
    ``"zero"``, ``"reflect"``, ``"replicate"`` (pad then valid convolution; the adjoint is the
    transposed convolution followed by folding the padded border back onto its source pixels).
    Output has the input's size. Channels and batch are independent.

    Args:
        kernel: real 2-D kernel ``(kh, kw)``.
        boundary: boundary mode.
        shape: optional fixed image shape ``(H, W)`` (needed only for ``norm()``).

    Shapes:
        x: ``(..., H, W)`` -> ``(..., H, W)``.

    Examples:
        >>> import torch
        >>> A = Blur(box_kernel(3))
        >>> float(A(torch.ones(1, 1, 8, 8)).mean())
        1.0
    """

    kernel: torch.Tensor  # (kh, kw) float64, a non-persistent buffer

    def __init__(
        self, kernel: torch.Tensor, boundary: Boundary = "circular", shape: Shape | None = None
    ) -> None:
        check_tensor(kernel, "kernel")
        if kernel.ndim != 2:
            raise InputError(f"kernel: expected a 2-D tensor, got shape {tuple(kernel.shape)}")
        if not bool(torch.isfinite(kernel).all()):
            raise InputError("kernel: contains NaN or inf")
        if boundary not in BOUNDARIES:
            raise InputError(f"boundary: expected one of {BOUNDARIES}, got {boundary!r}")
        super().__init__(shape, shape)
        self.register_buffer("kernel", kernel.detach().to(torch.float64).clone(), persistent=False)
        self.boundary = boundary
        self._cache: dict[tuple[object, ...], torch.Tensor] = {}

    @property
    def pads(self) -> tuple[int, int, int, int]:
        kh, kw = self.kernel.shape
        return ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2)

    def _check_size(self, h: int, w: int) -> None:
        kh, kw = self.kernel.shape
        if kh > h or kw > w:
            raise InputError(f"x: image {h}x{w} is smaller than the kernel {kh}x{kw}")

    def _multiplier(self, h: int, w: int, ref: torch.Tensor) -> torch.Tensor:
        key = ("fft", h, w, ref.device, ref.dtype)
        if key not in self._cache:
            kh, kw = self.kernel.shape
            full = torch.zeros(h, w, dtype=torch.float64)
            full[:kh, :kw] = self.kernel
            full = torch.roll(full, shifts=(-(kh // 2), -(kw // 2)), dims=(0, 1))
            self._cache[key] = torch.fft.rfft2(full).to(ref.device, _complex(ref.dtype))
        return self._cache[key]

    def _weight(self, ref: torch.Tensor) -> torch.Tensor:
        key = ("w", ref.device, ref.dtype)
        if key not in self._cache:
            self._cache[key] = self.kernel.flip(0, 1)[None, None].to(ref.device, ref.dtype)
        return self._cache[key]

    def _index(self, h: int, w: int, ref: torch.Tensor) -> torch.Tensor:
        key = ("idx", h, w, ref.device)
        if key not in self._cache:
            self._cache[key] = pad_index(h, w, self.pads, self.boundary).to(ref.device)
        return self._cache[key]

    def _fwd(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        self._check_size(h, w)
        if self.boundary == "circular":
            return torch.fft.irfft2(torch.fft.rfft2(x) * self._multiplier(h, w, x), s=(h, w))
        lead = x.shape[:-2]
        xp = pad(x, self._index(h, w, x)).reshape(-1, 1, *self._index(h, w, x).shape)
        return F.conv2d(xp, self._weight(x)).reshape(*lead, h, w)

    def _adj(self, y: torch.Tensor) -> torch.Tensor:
        h, w = y.shape[-2:]
        self._check_size(h, w)
        if self.boundary == "circular":
            return torch.fft.irfft2(torch.fft.rfft2(y) * self._multiplier(h, w, y).conj(), s=(h, w))
        lead = y.shape[:-2]
        full = F.conv_transpose2d(y.reshape(-1, 1, h, w), self._weight(y))
        return pad_adjoint(full.reshape(*lead, *full.shape[-2:]), self._index(h, w, y), h, w)

    def upper_bound(self, in_shape: Shape | None = None) -> float | None:
        if self.boundary == "circular":
            if in_shape is None:
                return None
            h, w = in_shape[-2:]
            self._check_size(h, w)
            return float(self._multiplier(h, w, torch.zeros((), dtype=torch.float64)).abs().max())
        l1 = float(self.kernel.abs().sum())
        if in_shape is None:
            return l1 if self.boundary == "zero" else None
        h, w = in_shape[-2:]
        return l1 * math.sqrt(max_multiplicity(pad_index(h, w, self.pads, self.boundary), h, w))

    def extra_repr(self) -> str:
        return f"kernel={tuple(self.kernel.shape)}, boundary={self.boundary!r}"


def _complex(dtype: torch.dtype) -> torch.dtype:
    return torch.complex128 if dtype == torch.float64 else torch.complex64
