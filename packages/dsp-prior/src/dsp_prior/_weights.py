r"""Frequency grids, radial frequency weights and the Hermitian weights of a one-sided spectrum.

Frequencies are in cycles per pixel, :math:`k = (k_y, k_x)` from ``torch.fft.fftfreq`` (so
:math:`|k_x| \le 1/2`), :math:`|k| = \sqrt{k_y^2 + k_x^2}`. A weight :math:`w(k) \ge 0` is
normalised to mean 1 over the full :math:`H \times W` grid, so that :math:`w \equiv 1` is the
unweighted (Parseval, i.e. DIP) loss and a weighted loss keeps the same overall scale.
"""

from __future__ import annotations

import math
import typing
from typing import Literal

import torch

from sciml_core import InputError

Profile = Literal["gaussian", "butterworth", "power"]
PROFILES: tuple[Profile, ...] = typing.get_args(Profile)


def radial_frequency(
    size: tuple[int, int],
    *,
    onesided: bool = False,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    r""":math:`|k|` on the grid of ``fft2`` ``(H, W)`` or of ``rfft2`` ``(H, W//2 + 1)``.

    Examples:
        >>> k = radial_frequency((4, 4))
        >>> float(k[0, 0]), float(k[0, 2]), float(k[2, 2])  # DC, Nyquist, corner
        (0.0, 0.5, 0.7071067811865476)
    """
    h, w = size
    ky = torch.fft.fftfreq(h, dtype=torch.float64)
    kx = (
        torch.fft.rfftfreq(w, dtype=torch.float64)
        if onesided
        else torch.fft.fftfreq(w, dtype=torch.float64)
    )
    k = torch.sqrt(ky[:, None] ** 2 + kx[None, :] ** 2)
    return k.to(device=device, dtype=dtype)


def hermitian_weights(
    width: int, *, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    r"""Multiplicity :math:`c_j` of column :math:`j` of a one-sided spectrum ``rfft2(x)[..., j]``.

    For real :math:`x`, :math:`\sum_{\text{full}} g(|X_k|) = \sum_{\text{half}} c_j\, g(|X_{k}|)`
    for any :math:`g` of the modulus and any weight symmetric in :math:`k \mapsto -k`, with
    :math:`c_0 = 1` (DC column), :math:`c_{W/2} = 1` for even :math:`W` (Nyquist column) and
    :math:`c_j = 2` otherwise (each column stands for itself and its conjugate mirror). An
    unweighted half-spectrum sum drops about half the energy (spec §2.2).

    Examples:
        >>> hermitian_weights(4).tolist(), hermitian_weights(5).tolist()
        ([1.0, 2.0, 1.0], [1.0, 2.0, 2.0])
    """
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise InputError(f"width: expected a positive integer, got {width!r}")
    c = torch.full((width // 2 + 1,), 2.0, dtype=torch.float64)
    c[0] = 1.0
    if width % 2 == 0:
        c[-1] = 1.0
    return c.to(device=device, dtype=dtype)


class RadialWeight:
    r"""A radial frequency weight :math:`w(k) = g(|k|) / \overline{g}`, mean 1 over the grid.

    Profiles (construct with the class methods):

    * ``gaussian(k0, floor)``: :math:`g = e^{-(|k|/k_0)^2} + w_\text{floor}`;
    * ``butterworth(k0, order, floor)``: :math:`g = 1/(1 + (|k|/k_0)^{2p}) + w_\text{floor}`;
    * ``power(p, k_eps)``: :math:`g = (|k| + k_\varepsilon)^{-p}`.

    A positive floor keeps :math:`w > 0` everywhere; then the weighted loss has the same
    minimisers as DIP's (:math:`A f = y` wherever the network can fit it): the weight changes the
    path of the optimisation, not its destination (spec §2.3, our derivation).

    Calling the weight with ``(H, W)`` returns the ``(H, W)`` grid of weights (or, with
    ``onesided=True``, its ``(H, W//2 + 1)`` half, normalised over the full grid).

    Examples:
        >>> w = RadialWeight.gaussian(0.15, 0.05)
        >>> grid = w((16, 16))
        >>> round(float(grid.mean()), 12), bool(grid[0, 0] == grid.max())
        (1.0, True)
    """

    def __init__(self, profile: Profile, **params: float) -> None:
        if profile not in PROFILES:
            raise InputError(f"profile: expected one of {PROFILES}, got {profile!r}")
        for name, value in params.items():
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise InputError(f"{name}: expected a finite number >= 0, got {value!r}")
        self.profile = profile
        self.params = dict(params)

    @classmethod
    def gaussian(cls, k0: float, floor: float = 0.0) -> RadialWeight:
        """Gaussian low-pass weight with cut-off ``k0`` (cycles/pixel) plus ``floor``."""
        _positive(k0, "k0")
        return cls("gaussian", k0=k0, floor=floor)

    @classmethod
    def butterworth(cls, k0: float, order: int = 2, floor: float = 0.0) -> RadialWeight:
        """Butterworth low-pass weight of ``order`` with cut-off ``k0`` plus ``floor``."""
        _positive(k0, "k0")
        _positive(order, "order")
        return cls("butterworth", k0=k0, order=order, floor=floor)

    @classmethod
    def power(cls, p: float, k_eps: float = 0.01) -> RadialWeight:
        """Power-law weight :math:`(|k| + k_\\varepsilon)^{-p}`."""
        _positive(k_eps, "k_eps")
        return cls("power", p=p, k_eps=k_eps)

    def profile_values(self, k: torch.Tensor) -> torch.Tensor:
        """The unnormalised profile :math:`g(|k|)`."""
        p = self.params
        if self.profile == "gaussian":
            return torch.exp(-((k / p["k0"]) ** 2)) + p["floor"]
        if self.profile == "butterworth":
            return 1.0 / (1.0 + (k / p["k0"]) ** (2 * p["order"])) + p["floor"]
        return (k + p["k_eps"]) ** (-p["p"])

    def __call__(
        self,
        size: tuple[int, int],
        *,
        onesided: bool = False,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float64,
    ) -> torch.Tensor:
        full = self.profile_values(radial_frequency(size))  # (H, W), float64
        mean = full.mean()
        if not bool(mean > 0):
            raise InputError(f"weight: {self!r} is zero on the whole {size} grid")
        grid = radial_frequency(size, onesided=True) if onesided else None
        out = full / mean if grid is None else self.profile_values(grid) / mean
        return out.to(device=device, dtype=dtype)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"RadialWeight.{self.profile}({args})"


def _positive(value: object, name: str) -> None:
    if not (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and value > 0
        and math.isfinite(value)
    ):
        raise InputError(f"{name}: expected a positive finite number, got {value!r}")
