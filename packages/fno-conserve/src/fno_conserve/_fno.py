"""Fourier Neural Operator (Li et al. 2021) in 1-D and 2-D, resolution-consistent, any float
dtype."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, get_args

import torch
import torch.nn.functional as F
from torch import nn

from sciml_core import InputError

from ._grid import grid

Activation = Literal["gelu", "relu", "tanh", "silu"]
ACTIVATIONS: tuple[Activation, ...] = get_args(Activation)
"""Activations of the Fourier layers and the projection."""

Embedding = Literal["periodic", "nodes", "cells"]
EMBEDDINGS: tuple[Embedding, ...] = get_args(Embedding)
"""Positional embeddings of :class:`FNO` (``None`` feeds none)."""

_ACTIVATION_MODULES: dict[Activation, type[nn.Module]] = {
    "gelu": nn.GELU,
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
}
_EMBEDDING_CHANNELS: dict[Embedding | None, int] = {"periodic": 2, "nodes": 1, "cells": 1, None: 0}


class Pointwise(nn.Linear):
    """Pointwise linear map over the channel axis of ``(B, C, *spatial)`` (a 1x1 convolution).

    Computed as one batched matrix product with the bias fused in, ``(O, I) @ (I, N)`` per sample
    on the flattened grid (no transposed copy of ``x``; faster on CPU than a 1x1 convolution or
    ``einsum``, and the same for every spatial dimension); parameters and initialisation as
    ``nn.Linear``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the weight to every grid point.

        Shapes:
            ``x`` ``(B, in_features, *spatial)``; output ``(B, out_features, *spatial)``.
        """
        b, i = x.shape[:2]
        weight = self.weight.unsqueeze(0).expand(b, -1, -1)
        out = torch.baddbmm(self.bias.view(1, -1, 1), weight, x.reshape(b, i, -1))
        return out.reshape(b, self.out_features, *x.shape[2:])


def _conv1x1(dim: int, cin: int, cout: int) -> nn.Module:
    return Pointwise(cin, cout)


def _check_dim(dim: int) -> int:
    if dim not in (1, 2):
        raise InputError(f"dim: expected 1 or 2, got {dim!r}")
    return dim


def _check_input(x: torch.Tensor, dim: int, channels: int, name: str = "x") -> None:
    if not isinstance(x, torch.Tensor):
        raise InputError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if x.ndim != dim + 2 or x.shape[1] != channels:
        raise InputError(
            f"{name}: expected shape (B, {channels}, "
            + ", ".join(["N"] * dim)
            + f") for a {dim}-D operator, got {tuple(x.shape)}"
        )
    if not x.is_floating_point():
        raise InputError(f"{name}: expected a floating dtype, got {x.dtype}")


class SpectralConv(nn.Module):
    r"""Fourier integral layer :math:`(K v)(x) = \mathcal F^{-1}[R_k \hat v_k](x)` on kept modes.

    With ``v_hat = rfftn(v, norm="forward")`` (the Fourier coefficients of the periodic function,
    independent of the grid size for band-limited ``v``), the layer multiplies each kept coefficient
    by a complex ``in x out`` matrix ``R_k`` and returns ``irfftn(., norm="forward")``.

    **Modes convention (the original FNO's):** ``modes = m`` keeps the frequencies ``0 .. m-1`` on
    the last (rfft) axis and ``-m .. m-1`` on every other axis, so the weight has shape
    ``(in, out, m, 2)`` in 1-D and ``(in, out, 2m, m, 2)`` in 2-D (the last axis holds real and
    imaginary parts). neuraloperator's ``n_modes = 2m`` is roughly our ``modes = m``.

    **Resolution rule:** on a grid of ``N`` points per axis only kept frequencies with
    ``|k| < N/2`` are used (never a Nyquist frequency). On a grid too coarse for all kept modes the
    layer is therefore the operator's restriction to that grid; ``strict_modes=True`` raises
    instead.
    For band-limited input the output at ``N`` and ``2N`` agrees at the common points.

    Args:
        dim: spatial dimension (1 or 2).
        in_channels: input channels.
        out_channels: output channels.
        modes: kept modes per axis (see the convention above).
        strict_modes: raise on a grid that cannot hold every kept mode.

    Shapes:
        input ``(B, in, *spatial)``, output ``(B, out, *spatial)``.

    Examples:
        >>> conv = SpectralConv(1, 3, 5, modes=4)
        >>> tuple(conv.weight.shape)
        (3, 5, 4, 2)
        >>> conv(torch.randn(2, 3, 32)).shape
        torch.Size([2, 5, 32])
    """

    weight: nn.Parameter

    def __init__(
        self,
        dim: int,
        in_channels: int,
        out_channels: int,
        modes: int,
        *,
        strict_modes: bool = False,
    ) -> None:
        super().__init__()
        self.dim = _check_dim(dim)
        if int(modes) < 1:
            raise InputError(f"modes: expected a positive integer, got {modes!r}")
        if int(in_channels) < 1 or int(out_channels) < 1:
            raise InputError(
                f"in_channels/out_channels: expected positive integers, got "
                f"{in_channels!r}, {out_channels!r}"
            )
        self.in_channels, self.out_channels, self.modes = (
            int(in_channels),
            int(out_channels),
            int(modes),
        )
        self.strict_modes = bool(strict_modes)
        m = self.modes
        shape = (
            (in_channels, out_channels, m, 2)
            if dim == 1
            else (in_channels, out_channels, 2 * m, m, 2)
        )
        self.weight = nn.Parameter(torch.empty(shape))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform weights scaled by ``1/(in * out)`` (as in the original FNO)."""
        scale = 1.0 / (self.in_channels * self.out_channels)
        with torch.no_grad():
            self.weight.uniform_(0.0, 1.0).mul_(scale)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, in={self.in_channels}, out={self.out_channels}, modes={self.modes}"

    def kept_modes(self, shape: Sequence[int]) -> tuple[int, ...]:
        """Number of kept non-negative frequencies used per axis at this grid (``|k| < N/2``)."""
        used = tuple(min(self.modes, (n + 1) // 2) for n in shape)
        if self.strict_modes:
            need = [2 * self.modes + 1] * (self.dim - 1) + [2 * self.modes - 1]
            for n, req in zip(shape, need, strict=True):
                if n < req:
                    raise InputError(
                        f"x: strict_modes=True needs at least {req} points per axis for "
                        f"modes={self.modes}, got grid {tuple(shape)}"
                    )
        return used

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        """The layer ``K v`` on the grid of ``v``.

        Shapes:
            ``v`` ``(B, in_channels, *spatial)`` with ``dim`` spatial axes; output
            ``(B, out_channels, *spatial)``.
        """
        _check_input(v, self.dim, self.in_channels, "v")
        shape = v.shape[2:]
        self.kept_modes(shape)
        w = torch.view_as_complex(self.weight)
        m = self.modes
        # Only the kept coefficients are transformed: an rfft along the last axis, cut to the kept
        # columns, then (2-D) a c2c FFT along the first axis of those columns only; the inverse
        # pads with zeros implicitly (irfft's ``n``). Same result as rfftn/irfftn on the full
        # spectrum (both use norm="forward"), without transforming or copying discarded modes.
        n_last = shape[-1]
        k1 = min(m, (n_last + 1) // 2)  # frequencies 0..k1-1 on the rfft axis, all < n/2
        vh = torch.fft.rfft(v, dim=-1, norm="forward")[..., :k1]
        if self.dim == 1:
            out = _contract(vh, w[..., :k1])
            return torch.fft.irfft(out, n=n_last, dim=-1, norm="forward")
        n0 = shape[0]
        kpos = min(m, (n0 + 1) // 2)  # 0..kpos-1
        kneg = min(m, (n0 - 1) // 2)  # -kneg..-1, all with |k| < n0/2
        vh = torch.fft.fft(vh, dim=-2, norm="forward")
        # weight index j holds frequency j - m on axis 0
        rows = torch.cat([vh[:, :, :kpos], vh[:, :, n0 - kneg :]], dim=-2)
        wk = torch.cat([w[:, :, m : m + kpos, :k1], w[:, :, m - kneg : m, :k1]], dim=2)
        out = _contract(rows, wk)
        gap = out.new_zeros((*out.shape[:2], n0 - kpos - kneg, k1))
        out = torch.cat([out[:, :, :kpos], gap, out[:, :, kpos:]], dim=-2)
        out = torch.fft.ifft(out, dim=-2, norm="forward")
        return torch.fft.irfft(out, n=n_last, dim=-1, norm="forward")


def _contract(vh: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Per-mode channel mixing ``out[b, o, k] = sum_i vh[b, i, k] w[i, o, k]``.

    One batched complex matrix product with the modes as the batch axis ``(K, B, I) @ (K, I, O)``
    (faster on CPU than ``einsum``'s default layout for this contraction).
    """
    b, i = vh.shape[:2]
    o = w.shape[1]
    modes = vh.shape[2:]
    lhs = vh.reshape(b, i, -1).permute(2, 0, 1)
    rhs = w.reshape(i, o, -1).permute(2, 0, 1)
    return torch.bmm(lhs, rhs).permute(1, 2, 0).reshape(b, o, *modes)


class FNO(nn.Module):
    r"""Fourier Neural Operator :math:`Q \circ (\sigma(K_L + W_L)) \circ \dots \circ P`.

    Lifting ``P`` (pointwise linear on the input channels plus the positional embedding), then
    ``n_layers`` Fourier layers ``v <- sigma(K v + W v)`` (no activation after the last), then the
    pointwise projection ``width -> projection_width -> out_channels + aux_channels``.

    The positional embedding must match the data: ``"periodic"`` (default) feeds
    ``(sin 2 pi x_a, cos 2 pi x_a)`` per axis (``x_a = i/N``), which is smooth across the periodic
    boundary so the whole model converges spectrally as the grid is refined; ``"nodes"`` and
    ``"cells"`` feed raw coordinates for non-periodic problems, ``None`` feeds nothing.
    ``padding`` is a fraction of ``N`` (zero padding on the high side of each axis, cropped after
    the last layer), never a fixed number of points, so that refinement keeps the same operator.
    ``aux_channels`` extra output channels carry the adaptive correction direction (``"head"``).

    ``dim``, ``in_channels``, ``out_channels`` and ``modes`` may be given by position; every other
    option is keyword-only.

    Args:
        dim: spatial dimension (1 or 2).
        in_channels: input field channels.
        out_channels: output field channels.
        modes: kept modes per axis (original FNO convention, see :class:`SpectralConv`).
        width: channels of the Fourier layers.
        n_layers: number of Fourier layers.
        projection_width: hidden width of the projection MLP.
        activation: ``"gelu"``, ``"relu"``, ``"tanh"`` or ``"silu"``.
        grid: positional embedding, ``"periodic"``, ``"nodes"``, ``"cells"`` or ``None``.
        padding: domain padding as a fraction of ``N`` (``0 <= padding < 1``).
        aux_channels: extra output channels (direction head for the correction).
        strict_modes: raise on grids too coarse for every kept mode.

    Shapes:
        input ``(B, in_channels, *spatial)``; output ``(B, out_channels + aux_channels, *spatial)``.

    Examples:
        >>> model = FNO(1, 1, 1, modes=8, width=16)
        >>> model(torch.randn(4, 1, 64)).shape
        torch.Size([4, 1, 64])
        >>> model.double()(torch.randn(2, 1, 128, dtype=torch.float64)).dtype
        torch.float64
    """

    def __init__(
        self,
        dim: int,
        in_channels: int,
        out_channels: int,
        modes: int,
        *,
        width: int = 32,
        n_layers: int = 4,
        projection_width: int = 128,
        activation: Activation = "gelu",
        grid: Embedding | None = "periodic",
        padding: float = 0.0,
        aux_channels: int = 0,
        strict_modes: bool = False,
    ) -> None:
        super().__init__()
        self.dim = _check_dim(dim)
        for name, value, low in (
            ("in_channels", in_channels, 1),
            ("out_channels", out_channels, 1),
            ("width", width, 1),
            ("n_layers", n_layers, 1),
            ("projection_width", projection_width, 1),
            ("aux_channels", aux_channels, 0),
        ):
            if not isinstance(value, int) or value < low:
                raise InputError(f"{name}: expected an integer >= {low}, got {value!r}")
        if activation not in ACTIVATIONS:
            raise InputError(f"activation: expected one of {ACTIVATIONS}, got {activation!r}")
        if grid is not None and grid not in EMBEDDINGS:
            raise InputError(f"grid: expected one of {EMBEDDINGS} or None, got {grid!r}")
        if not 0.0 <= float(padding) < 1.0:
            raise InputError(f"padding: expected a fraction in [0, 1), got {padding!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.modes, self.width, self.n_layers = int(modes), width, n_layers
        self.projection_width, self.activation_name = projection_width, activation
        self.grid, self.padding, self.aux_channels = grid, float(padding), aux_channels
        self.strict_modes = bool(strict_modes)
        n_embed = _EMBEDDING_CHANNELS[grid] * dim
        self.lift = _conv1x1(dim, in_channels + n_embed, width)
        self.spectral = nn.ModuleList(
            SpectralConv(dim, width, width, modes, strict_modes=strict_modes)
            for _ in range(n_layers)
        )
        self.skips = nn.ModuleList(_conv1x1(dim, width, width) for _ in range(n_layers))
        self.proj1 = _conv1x1(dim, width, projection_width)
        self.proj2 = _conv1x1(dim, projection_width, out_channels + aux_channels)
        self.act = _ACTIVATION_MODULES[activation]()

    def reset_parameters(self) -> None:
        """Re-draw every weight (PyTorch's default init; spectral weights as in the original
        FNO)."""
        for module in self.modules():
            reset = getattr(module, "reset_parameters", None)
            if module is not self and callable(reset):
                reset()

    def config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-serialisable (stored in checkpoints)."""
        return {
            "dim": self.dim,
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "modes": self.modes,
            "width": self.width,
            "n_layers": self.n_layers,
            "projection_width": self.projection_width,
            "activation": self.activation_name,
            "grid": self.grid,
            "padding": self.padding,
            "aux_channels": self.aux_channels,
            "strict_modes": self.strict_modes,
        }

    def __repr__(self) -> str:
        n_params = sum(p.numel() for p in self.parameters())
        return (
            f"FNO(dim={self.dim}, in={self.in_channels}, out={self.out_channels}, "
            f"aux={self.aux_channels}, modes={self.modes}, width={self.width}, "
            f"layers={self.n_layers}, grid={self.grid!r}, params={n_params})"
        )

    def embedding(
        self, shape: Sequence[int], *, dtype: torch.dtype, device: torch.device | str | None
    ) -> torch.Tensor | None:
        """Positional embedding channels ``(n_embed, *shape)`` for a grid (``None`` if none)."""
        if self.grid is None:
            return None
        coords = grid(shape, self.grid, dtype=dtype, device=device)
        if self.grid == "periodic":
            return torch.cat([torch.sin(2 * math.pi * coords), torch.cos(2 * math.pi * coords)])
        return coords

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The operator on the grid of ``x`` (any resolution; the embedding follows the grid).

        Shapes:
            ``x`` ``(B, in_channels, *spatial)`` with ``dim`` spatial axes; output
            ``(B, out_channels + aux_channels, *spatial)``.
        """
        _check_input(x, self.dim, self.in_channels)
        shape = tuple(x.shape[2:])
        emb = self.embedding(shape, dtype=x.dtype, device=x.device)
        if emb is not None:
            x = torch.cat([x, emb.unsqueeze(0).expand(x.shape[0], *emb.shape)], dim=1)
        v = self.lift(x)
        pads = [round(self.padding * n) for n in shape]
        if any(pads):
            flat = []
            for p in reversed(pads):
                flat += [0, p]
            v = F.pad(v, flat)
        for i, (spec, skip) in enumerate(zip(self.spectral, self.skips, strict=True)):
            v = spec(v) + skip(v)
            if i < self.n_layers - 1:
                v = self.act(v)
        if any(pads):
            v = v[(..., *(slice(0, n) for n in shape))]
        return self.proj2(self.act(self.proj1(v)))


class FNO1d(FNO):
    """:class:`FNO` with ``dim = 1`` (the same arguments after ``dim``).

    Shapes:
        input ``(B, in_channels, N)``; output ``(B, out_channels + aux_channels, N)``.

    Examples:
        >>> FNO1d(2, 1, modes=4, width=8)(torch.randn(3, 2, 16)).shape
        torch.Size([3, 1, 16])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        modes: int,
        *,
        width: int = 32,
        n_layers: int = 4,
        projection_width: int = 128,
        activation: Activation = "gelu",
        grid: Embedding | None = "periodic",
        padding: float = 0.0,
        aux_channels: int = 0,
        strict_modes: bool = False,
    ) -> None:
        super().__init__(
            1,
            in_channels,
            out_channels,
            modes,
            width=width,
            n_layers=n_layers,
            projection_width=projection_width,
            activation=activation,
            grid=grid,
            padding=padding,
            aux_channels=aux_channels,
            strict_modes=strict_modes,
        )


class FNO2d(FNO):
    """:class:`FNO` with ``dim = 2`` (the same arguments after ``dim``).

    Shapes:
        input ``(B, in_channels, N_1, N_2)``; output
        ``(B, out_channels + aux_channels, N_1, N_2)``.

    Examples:
        >>> FNO2d(1, 1, modes=4, width=8)(torch.randn(2, 1, 16, 16)).shape
        torch.Size([2, 1, 16, 16])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        modes: int,
        *,
        width: int = 32,
        n_layers: int = 4,
        projection_width: int = 128,
        activation: Activation = "gelu",
        grid: Embedding | None = "periodic",
        padding: float = 0.0,
        aux_channels: int = 0,
        strict_modes: bool = False,
    ) -> None:
        super().__init__(
            2,
            in_channels,
            out_channels,
            modes,
            width=width,
            n_layers=n_layers,
            projection_width=projection_width,
            activation=activation,
            grid=grid,
            padding=padding,
            aux_channels=aux_channels,
            strict_modes=strict_modes,
        )
