r"""Data-fidelity losses of DIP and of the Deep Spectral Prior (our reading of the paper).

Every loss is called as ``loss(output, y, physics)``: ``output`` is the network's image
:math:`f = f_\theta(z)`, ``physics`` the forward operator :math:`A` (an
``invprob_core.LinearOperator``, any callable, or ``None`` for the identity) and ``y`` the
measurement. All compare :math:`A f` with :math:`y`: the operator is applied **before** any FFT
(a mask before the transform, super-resolution at the low resolution), never a zero-filled
:math:`y` against :math:`f`. With :math:`m` the number of entries of :math:`y` (for a mask, the
masked zeros included, as the DIP reference's ``MSELoss(out * mask, img * mask)``),
:math:`r = A f - y`, :math:`X = \mathcal F(A f)`, :math:`Y = \mathcal F y`,
:math:`R = X - Y`, :math:`\mathcal F` the 2-D DFT per channel over the last two axes:

* :class:`PixelMSE`: :math:`L = \tfrac1m \|r\|^2` (DIP, Ulyanov et al. 2018, eq. 2).
* :class:`FourierLoss`: :math:`L = \tfrac1m \sum_k w(k) |R_k|^2`. With the unitary DFT
  (``norm="ortho"``) and :math:`w \equiv 1`, Parseval gives :math:`L = \tfrac1m\|r\|^2` **as a
  function of** :math:`\theta`: same values, same gradients, same Adam trajectory (up to
  rounding): a plain Fourier :math:`\ell_2` loss *is* DIP. It differs only through a non-unitary
  transform (``norm="backward"`` multiplies it by :math:`HW`, which Adam almost ignores) or a
  weight :math:`w \not\equiv 1`.
* :class:`AmplitudePhaseLoss`: the exact split
  :math:`|X - Y|^2 = (|X| - |Y|)^2 + 2|X||Y|(1 - \cos(\varphi_X - \varphi_Y))`, weighted:
  :math:`L = \tfrac1m \sum_k \alpha\, w_a(k) (|X_k| - |Y_k|)^2
  + \beta\, w_p(k)\, 2 |X_k||Y_k| (1 - \cos \Delta\varphi_k)`; with
  :math:`\alpha = \beta = 1, w_a = w_p = 1` it equals :class:`FourierLoss` (so DIP).
* :class:`DSPLoss`: **our reading** of the Deep Spectral Prior (Cheng et al., arXiv:2505.19873).
  The paper's body (its loss, equation numbers, tables) could not be read from any source
  available to us and no official code exists; the reading below follows the abstracts only and
  each choice is argued in the class docstring.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Literal, Protocol

import torch

from sciml_core import InputError

from ._weights import RadialWeight, hermitian_weights

Physics = Callable[[torch.Tensor], torch.Tensor] | None
FFTNorm = Literal["ortho", "backward", "forward"]
FFT_NORMS: tuple[FFTNorm, ...] = typing.get_args(FFTNorm)
DSPKind = Literal["v2", "v1"]
DSP_KINDS: tuple[DSPKind, ...] = typing.get_args(DSPKind)


class Loss(Protocol):
    """What :func:`dsp_prior.fit` calls: ``loss(output, y, physics) -> scalar tensor``."""

    def __call__(self, output: torch.Tensor, y: torch.Tensor, physics: Physics) -> torch.Tensor:
        """The scalar loss of ``output`` against ``y`` through ``physics``."""
        ...


def apply_physics(physics: Physics, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``A x``, checked against the shape of ``y`` (an ``InputError`` naming ``physics``)."""
    ax = x if physics is None else physics(x)
    if not isinstance(ax, torch.Tensor):
        raise InputError(f"physics: expected it to return a tensor, got {type(ax).__name__}")
    if ax.shape != y.shape:
        raise InputError(
            f"physics: maps the network output {tuple(x.shape)} to {tuple(ax.shape)}, "
            f"but y has shape {tuple(y.shape)}"
        )
    return ax


def _spectrum(x: torch.Tensor, *, rfft: bool, norm: FFTNorm) -> torch.Tensor:
    return torch.fft.rfft2(x, norm=norm) if rfft else torch.fft.fft2(x, norm=norm)


def _grid_weight(
    weight: RadialWeight | None, y: torch.Tensor, *, rfft: bool
) -> torch.Tensor | None:
    """``w(k) * c_k`` on the spectrum's grid (``c`` the Hermitian multiplicity with ``rfft``)."""
    h, w = y.shape[-2:]
    grid = None if weight is None else weight((h, w), onesided=rfft, device=y.device, dtype=y.dtype)
    if rfft:
        c = hermitian_weights(w, device=y.device, dtype=y.dtype)  # (W//2 + 1,)
        grid = c if grid is None else grid * c
    return grid


def _weighted_sum(values: torch.Tensor, grid: torch.Tensor | None) -> torch.Tensor:
    return values.sum() if grid is None else (values * grid).sum()


def _check_weight(weight: object, name: str) -> None:
    if weight is not None and not isinstance(weight, RadialWeight):
        raise InputError(f"{name}: expected a RadialWeight or None, got {type(weight).__name__}")


class PixelMSE:
    r"""DIP's loss :math:`L = \tfrac1m \|A f - y\|^2`.

    Examples:
        >>> import torch
        >>> PixelMSE()(torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), None).item()
        1.0
    """

    def __call__(self, output: torch.Tensor, y: torch.Tensor, physics: Physics) -> torch.Tensor:
        r = apply_physics(physics, output, y) - y
        return (r * r).sum() / y.numel()

    def __repr__(self) -> str:
        return "PixelMSE()"


class FourierLoss:
    r"""Weighted Fourier loss :math:`L = \tfrac1m \sum_k w(k)\,|\mathcal F(A f - y)_k|^2`.

    With ``weight=None``, ``norm="ortho"`` this equals :class:`PixelMSE` exactly (Parseval);
    ``rfft=True`` sums the one-sided spectrum with Hermitian multiplicities (DC and, for even
    widths, Nyquist columns once, the others twice), so it equals the full sum.

    Args:
        weight: a :class:`RadialWeight` (mean 1 over the grid) or ``None`` (:math:`w \equiv 1`).
        rfft: use the one-sided spectrum (half the work, same value).
        norm: ``torch.fft`` normalisation; only ``"ortho"`` is unitary.

    Examples:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> f = torch.rand(1, 1, 8, 8, generator=g, dtype=torch.float64)
        >>> y = torch.zeros(1, 1, 8, 8, dtype=torch.float64)
        >>> bool(torch.isclose(FourierLoss()(f, y, None), PixelMSE()(f, y, None), rtol=1e-14))
        True
    """

    def __init__(
        self, weight: RadialWeight | None = None, *, rfft: bool = False, norm: FFTNorm = "ortho"
    ) -> None:
        _check_weight(weight, "weight")
        if norm not in FFT_NORMS:
            raise InputError(f"norm: expected one of {FFT_NORMS}, got {norm!r}")
        self.weight, self.rfft, self.norm = weight, bool(rfft), norm

    def __call__(self, output: torch.Tensor, y: torch.Tensor, physics: Physics) -> torch.Tensor:
        r = apply_physics(physics, output, y) - y
        spec = _spectrum(r, rfft=self.rfft, norm=self.norm)
        energy = spec.real**2 + spec.imag**2
        return _weighted_sum(energy, _grid_weight(self.weight, y, rfft=self.rfft)) / y.numel()

    def __repr__(self) -> str:
        return f"FourierLoss(weight={self.weight!r}, rfft={self.rfft}, norm={self.norm!r})"


class AmplitudePhaseLoss:
    r"""Amplitude and phase terms of the Fourier residual, weighted separately.

    .. math::
        L = \frac1m \sum_k \alpha\, w_a(k)\,(|X_k| - |Y_k|)^2
            + \beta\, w_p(k)\, 2\big(|X_k||Y_k| - \mathrm{Re}(X_k \overline{Y_k})\big),

    where :math:`2(|X||Y| - \mathrm{Re}\,X\overline Y) = 2|X||Y|(1 - \cos(\varphi_X - \varphi_Y))`
    exactly: the phase term needs no ``atan2`` (no :math:`2\pi` wrap), has no division (so no
    :math:`\varepsilon` and no bias), and a finite gradient at :math:`X = 0` (``torch.abs`` of a
    complex zero has gradient 0). The two terms add up to :math:`|X - Y|^2`, so
    ``AmplitudePhaseLoss()`` equals ``FourierLoss()`` (hence DIP). The amplitude term alone is
    blind to circular shifts of the image, which is why it is never offered alone.

    Args:
        alpha: weight :math:`\alpha \ge 0` of the amplitude term.
        beta: weight :math:`\beta \ge 0` of the phase term.
        amplitude_weight: :math:`w_a` (``None``: 1).
        phase_weight: :math:`w_p` (``None``: 1).
        rfft: one-sided spectrum with Hermitian multiplicities (same value).

    Examples:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> f, y = (torch.rand(1, 1, 8, 8, generator=g, dtype=torch.float64) for _ in range(2))
        >>> a, b = AmplitudePhaseLoss()(f, y, None), PixelMSE()(f, y, None)
        >>> bool(torch.isclose(a, b, rtol=1e-12))
        True
    """

    def __init__(
        self,
        alpha: float = 1.0,
        beta: float = 1.0,
        *,
        amplitude_weight: RadialWeight | None = None,
        phase_weight: RadialWeight | None = None,
        rfft: bool = False,
    ) -> None:
        for name, value in (("alpha", alpha), ("beta", beta)):
            if not (isinstance(value, int | float) and value >= 0 and value < float("inf")):
                raise InputError(f"{name}: expected a finite number >= 0, got {value!r}")
        if alpha == 0 and beta == 0:
            raise InputError("alpha, beta: at least one must be positive, got 0 and 0")
        _check_weight(amplitude_weight, "amplitude_weight")
        _check_weight(phase_weight, "phase_weight")
        self.alpha, self.beta = float(alpha), float(beta)
        self.amplitude_weight, self.phase_weight = amplitude_weight, phase_weight
        self.rfft = bool(rfft)

    def terms(
        self, output: torch.Tensor, y: torch.Tensor, physics: Physics
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Elementwise amplitude and phase terms ``(|X|-|Y|)^2`` and ``2(|X||Y| - Re XY*)``."""
        x_spec = _spectrum(apply_physics(physics, output, y), rfft=self.rfft, norm="ortho")
        y_spec = _spectrum(y, rfft=self.rfft, norm="ortho")
        ax, ay = x_spec.abs(), y_spec.abs()
        amplitude = (ax - ay) ** 2
        phase = 2.0 * (ax * ay - (x_spec * y_spec.conj()).real)
        return amplitude, phase

    def __call__(self, output: torch.Tensor, y: torch.Tensor, physics: Physics) -> torch.Tensor:
        amplitude, phase = self.terms(output, y, physics)
        total = output.new_zeros(())
        if self.alpha:
            grid = _grid_weight(self.amplitude_weight, y, rfft=self.rfft)
            total = total + self.alpha * _weighted_sum(amplitude, grid)
        if self.beta:
            grid = _grid_weight(self.phase_weight, y, rfft=self.rfft)
            total = total + self.beta * _weighted_sum(phase, grid)
        return total / y.numel()

    def __repr__(self) -> str:
        return (
            f"AmplitudePhaseLoss(alpha={self.alpha}, beta={self.beta}, amplitude_weight="
            f"{self.amplitude_weight!r}, phase_weight={self.phase_weight!r}, rfft={self.rfft})"
        )


#: The default frequency weight of :class:`DSPLoss` (spec §4 item 3's prototype; ``reproduce
#: --full`` re-chooses ``k0`` on the validation image).
DEFAULT_DSP_WEIGHT = RadialWeight.gaussian(0.15, 0.05)


class DSPLoss:
    r"""The Deep Spectral Prior's fidelity term, **as we read the paper's public description**.

    Not transcribed from the paper: its body (the loss, its equation numbers, its settings) could
    not be read from any source available to us, and there is no official code. What the
    abstracts say, and what each choice below follows from:

    * v1 (arXiv:2505.19873v1): DSP "directly matches Fourier coefficients between the network
      output and observed measurements" and acts as "an implicit spectral regulariser,
      suppressing high-frequency noise by design". ``kind="v1"``:
      :math:`L = \tfrac1m \sum_k w(k) |X_k - Y_k|^2` (complex coefficients of :math:`A f` and
      :math:`y`, unitary DFT): :class:`FourierLoss` with ``weight``.
    * v2 (…v2): DSP "operates entirely in the complex frequency domain" with "joint learning of
      amplitude and phase". ``kind="v2"``: :class:`AmplitudePhaseLoss` with
      :math:`\alpha = \beta = 1`, the amplitude term weighted by ``weight`` and the phase term
      unweighted (``weight_phase=False``).
    * Why a weight at all: by Parseval an unweighted complex :math:`\ell_2` loss on a unitary
      DFT *is* DIP's loss as a function of :math:`\theta` (same gradients, same trajectory), so
      it cannot "suppress high-frequency noise by design"; a loss that treats frequencies
      differently must weight them (``weight=None`` gives that Parseval form, for the control).
    * Why a Gaussian low-pass with a floor (:math:`k_0 = 0.15`, floor 0.05 by default): white
      noise is flat in frequency while natural images decay, so a low-pass weight down-weights
      the bands where noise dominates; the floor keeps :math:`w > 0`, so the minimisers stay
      DIP's (:math:`A f = y` where the network can reach it) and nothing is discarded outright.
      The numbers are the spec's prototype (§4 item 3); ``reproduce --full`` chooses :math:`k_0`
      on the validation image.
    * Why v2 weights the amplitude only: the amplitude spectrum is where white noise shows as a
      flat floor; the phase term :math:`2|X||Y|(1-\cos\Delta\varphi)` already scales with
      :math:`|X|`, so it acts only where the network has put energy, and the phase carries the
      image's structure (edges, positions). ``weight_phase=True`` weights both terms alike, and
      then v2 equals v1 exactly (the identity of :class:`AmplitudePhaseLoss`).

    Args:
        kind: ``"v2"`` (joint amplitude and phase, the default: the paper's latest version) or
            ``"v1"`` (complex coefficients).
        weight: frequency weight (``None``: unweighted, equal to DIP by Parseval).
        weight_phase: v2 only: weight the phase term too.
        rfft: one-sided spectra with Hermitian multiplicities (same value, less work).

    Examples:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> f, y = (torch.rand(1, 1, 16, 16, generator=g, dtype=torch.float64) for _ in range(2))
        >>> same = [bool(torch.isclose(DSPLoss(k, weight=None)(f, y, None), PixelMSE()(f, y, None)))
        ...         for k in ("v1", "v2")]
        >>> differs = not torch.isclose(DSPLoss()(f, y, None), PixelMSE()(f, y, None))
        >>> same, differs
        ([True, True], True)
    """

    def __init__(
        self,
        kind: DSPKind = "v2",
        *,
        weight: RadialWeight | None = DEFAULT_DSP_WEIGHT,
        weight_phase: bool = False,
        rfft: bool = False,
    ) -> None:
        if kind not in DSP_KINDS:
            raise InputError(f"kind: expected one of {DSP_KINDS}, got {kind!r}")
        _check_weight(weight, "weight")
        self.kind, self.weight, self.weight_phase, self.rfft = (
            kind,
            weight,
            bool(weight_phase),
            bool(rfft),
        )
        self._loss: Loss
        if kind == "v1":
            self._loss = FourierLoss(weight, rfft=rfft)
        else:
            self._loss = AmplitudePhaseLoss(
                1.0,
                1.0,
                amplitude_weight=weight,
                phase_weight=weight if weight_phase else None,
                rfft=rfft,
            )

    def __call__(self, output: torch.Tensor, y: torch.Tensor, physics: Physics) -> torch.Tensor:
        return self._loss(output, y, physics)

    def __repr__(self) -> str:
        extra = f", weight_phase={self.weight_phase}" if self.kind == "v2" else ""
        return f"DSPLoss({self.kind!r}, weight={self.weight!r}{extra}, rfft={self.rfft})"
