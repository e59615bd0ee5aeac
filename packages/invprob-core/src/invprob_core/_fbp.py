"""Filtered back-projection for :class:`RayTransform`, with its constant derived, not copied."""

from __future__ import annotations

import math
import typing
from typing import TYPE_CHECKING, Literal

import torch

from sciml_core import InputError, check_finite

from ._operator import check_tensor

if TYPE_CHECKING:
    from ._ray import RayTransform

Filter = Literal["ram-lak", "shepp-logan", "cosine", "hann"]
"""FBP window: none (Ram-Lak), sinc (Shepp-Logan), cosine, Hann."""
FILTERS: tuple[Filter, ...] = typing.get_args(Filter)


def ramp_kernel(
    n_det: int,
    *,
    filter: Filter = "ram-lak",
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, int]:
    r"""Frequency response of the windowed discrete ramp filter on a zero-padded grid.

    The spatial kernel is :math:`\tilde h_0 = 1/4`, :math:`\tilde h_k = -1/(\pi k)^2` for odd
    :math:`k`, 0 for even :math:`k` (Kak and Slaney, eq. 3.61, in units of the detector
    spacing), zero-padded to :math:`P = 2^{\lceil \log_2 2 n_{det} \rceil}` so the circular
    convolution equals the linear one. Its DFT is real; the window multiplies it in frequency
    (:math:`f \in [-1/2, 1/2]` cycles per bin): Shepp-Logan :math:`\mathrm{sinc}(f)`, cosine
    :math:`\cos(\pi f)`, Hann :math:`(1 + \cos 2\pi f)/2`.

    Returns:
        ``(response, P)``: the real response of length ``P // 2 + 1`` (an ``rfft`` grid) and
        the padded length ``P``.
    """
    if filter not in FILTERS:
        raise InputError(f"filter: expected one of {FILTERS}, got {filter!r}")
    p = 2 ** math.ceil(math.log2(2 * n_det))
    k = torch.arange(p, dtype=torch.float64)
    k = torch.where(k > p // 2, k - p, k)  # signed offsets on the circular grid
    h = torch.zeros(p, dtype=torch.float64)
    odd = (k.abs() % 2) == 1
    h[odd] = -1.0 / (math.pi * k[odd]) ** 2
    h[0] = 0.25
    resp = torch.fft.rfft(h).real
    f = torch.fft.rfftfreq(p, dtype=torch.float64)
    if filter == "shepp-logan":
        resp = resp * torch.sinc(f)
    elif filter == "cosine":
        resp = resp * torch.cos(math.pi * f)
    elif filter == "hann":
        resp = resp * 0.5 * (1 + torch.cos(2 * math.pi * f))
    return resp.to(dtype=dtype, device=device), p


def disc_mask(n: int, *, device: torch.device | str | None = None) -> torch.Tensor:
    r"""Boolean ``(n, n)`` mask of the pixels whose centre lies in the closed unit disc.

    Pixel centres are :math:`-1 + h(i + 1/2)`, :math:`h = 2/n`, on both axes; a pixel is kept when
    :math:`c_i^2 + c_j^2 \le 1` (computed in float64, so the mask does not depend on ``y``'s dtype).
    """
    c = -1.0 + (2.0 / n) * (torch.arange(n, dtype=torch.float64) + 0.5)
    inside = (c[:, None] ** 2 + c[None, :] ** 2) <= 1.0
    return inside.to(device=device)


def fbp(
    ray: RayTransform,
    y: torch.Tensor,
    *,
    filter: Filter = "ram-lak",
    mask: bool | None = None,
) -> torch.Tensor:
    r"""Filtered back-projection :math:`\mathrm{FBP}(y) = \frac{\pi}{N_\theta h^2} A^*(\tilde h *
    y)`.

    Derivation (parallel beam, angles uniform in :math:`[0, \pi)`): the inversion formula is
    :math:`x(p) = \int_0^\pi (q * y_\theta)(p\cdot\theta)\,d\theta` with the ramp filter
    :math:`q`, whose sampled version on a grid of spacing :math:`\Delta s` is
    :math:`q * y \approx \Delta s^{-1} (\tilde h * y)`. The sum over angles gives
    :math:`\pi/N_\theta`. The adjoint of the bilinear ray sum back-projects each ray onto a pixel
    with total weight :math:`h^2/\Delta s` per unit of linear interpolation in :math:`s` (the
    integral of the bilinear hat over a line, integrated over offsets, is its area
    :math:`h^2`), so :math:`\sum_k M_{jk,p} g_k \approx (h^2/\Delta s)\, g(p\cdot\theta_j)`.
    Together: :math:`\pi/(N_\theta h^2)\, A^*(\tilde h * y)`. The constant is pinned by a test
    on an analytic Shepp-Logan sinogram. For non-uniform angle sets the same formula is used
    with :math:`\pi/N_\theta` (it is then only approximate).

    Masking: with ``circle=True`` (the default geometry) the detector spans :math:`[-1, 1]`, so
    only the disc inscribed in the image square :math:`[-1, 1]^2` is measured; the geometry
    assumes the object lies inside it. A pixel centre :math:`p` with :math:`|p| > 1` falls off the
    detector (:math:`|p\cdot\theta| > 1`) for some angles, so its back-projection misses those
    views and is pure artefact. ``mask=None`` therefore zeroes the pixels
    whose centre :math:`p` has :math:`|p| > 1` when ``ray.circle`` is true, as scikit-image's
    ``iradon(circle=True)`` does; with ``circle=False`` the detector covers
    :math:`[-\sqrt2, \sqrt2]`, the whole square is measured and nothing is masked.
    ``mask=True`` applies the disc mask in either geometry, ``mask=False`` returns the plain
    formula above. The mask is a fixed 0/1 pixel selection, so FBP stays linear and
    differentiable. (128², 180 angles, analytic modified Shepp-Logan sinogram, Ram-Lak:
    full-image PSNR 29.3 dB unmasked, 31.7 dB masked; 30.7 dB inside the disc either way.)

    Args:
        ray: the geometry.
        y: sinograms ``(..., N_theta, n_det)``, float32 or float64.
        filter: ``"ram-lak"``, ``"shepp-logan"``, ``"cosine"`` or ``"hann"``.
        mask: zero the pixels outside the inscribed disc: ``None`` (default) when
            ``ray.circle`` is true, ``True`` always, ``False`` never.

    Returns:
        images ``(..., n, n)`` in ``y``'s dtype and device.

    Examples:
        >>> import torch
        >>> from invprob_core import RayTransform, shepp_logan
        >>> A = RayTransform(32, angles=60)
        >>> x = shepp_logan(32).double()
        >>> rec = A.fbp(A(x[None]))
        >>> bool(((rec[0] - x) ** 2).mean() < 0.01)
        True
        >>> float(rec[0, 0, 0])  # a corner pixel, outside the measured disc
        0.0
    """
    if mask is not None and not isinstance(mask, bool):
        raise InputError(f"mask: expected True, False or None, got {mask!r}")
    check_tensor(y, "y")
    check_finite(y, "y")
    if tuple(y.shape[-2:]) != tuple(ray.out_shape or ()):
        raise InputError(
            f"y: expected trailing shape {ray.out_shape} (angles, detector bins), "
            f"got {tuple(y.shape)}"
        )
    resp, p = ramp_kernel(ray.n_det, filter=filter, dtype=y.dtype, device=y.device)
    spec = torch.fft.rfft(y, n=p, dim=-1)
    filtered = torch.fft.irfft(spec * resp, n=p, dim=-1)[..., : ray.n_det]
    scale = math.pi / (len(ray.theta) * ray.h**2)
    out = scale * ray.adjoint(filtered.contiguous())
    apply = ray.circle if mask is None else mask
    if apply:
        out = out.masked_fill(~disc_mask(ray.n, device=out.device), 0.0)
    return out
