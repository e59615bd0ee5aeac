r"""The convolutional gradient block (spec §2.5, §5.2).

.. math:: R(x) = x - h\,K^T\sigma(Kx + b),

``K`` a stride-1 "same" convolution (odd kernel), :math:`K^T` its adjoint (the correlation with
the flipped, channel-transposed kernel and the same padding). The proof of
:class:`~lipres.GradientStep` holds verbatim with :math:`\|K\|_2` the operator norm on images of
the size given at construction: exact for circular padding (max over DFT frequencies of the
:math:`c_{out}\times c_{in}` symbol's spectral norm, Sedghi et al. 2019), a proven upper bound for
zero padding (:func:`~lipres._norms.conv_operator_norm`). The norm depends on the image size, so
another input size is refused (spec §4 item 10).
"""

from __future__ import annotations

import math
import typing
from typing import Any, Literal

import torch
from torch import Tensor, nn

from sciml_core import InputError

from ._common import (
    ACTIVATIONS,
    SAFETY,
    Activation,
    activation_fn,
    activation_module,
    check_choice,
    check_int,
    check_number,
)
from ._norms import conv_operator_norm

__all__ = ["PADDINGS", "GradientConv2d", "Padding", "check_image", "parse_image_size"]

Padding = Literal["circular", "zeros"]
PADDINGS: tuple[Padding, ...] = typing.get_args(Padding)


def check_image(x: Tensor, channels: int, image_size: tuple[int, int], name: str = "x") -> None:
    if not isinstance(x, Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise InputError(
            f"{name}: expected [B, {channels}, {image_size[0]}, {image_size[1]}], got {shape}"
        )
    if x.shape[1] != channels or tuple(x.shape[2:]) != tuple(image_size):
        raise InputError(
            f"{name}: expected [B, {channels}, {image_size[0]}, {image_size[1]}] (the norm is "
            f"certified for this image size only), got {tuple(x.shape)}"
        )


def parse_image_size(image_size: Any, kernel_size: int) -> tuple[int, int]:
    """``(H, W)`` from an int or a pair, each at least ``kernel_size``."""
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if len(size) != 2 or any(
        isinstance(s, bool) or not isinstance(s, int) or s < kernel_size for s in size
    ):
        raise InputError(
            f"image_size: expected (H, W) with H, W >= kernel_size={kernel_size}, "
            f"got {image_size!r}"
        )
    return int(size[0]), int(size[1])


def _conv(x: Tensor, weight: Tensor, padding: Padding, bias: Tensor | None = None) -> Tensor:
    p = weight.shape[-1] // 2
    if padding == "circular":
        x = nn.functional.pad(x, (p, p, p, p), mode="circular")
        return nn.functional.conv2d(x, weight, bias)
    return nn.functional.conv2d(x, weight, bias, padding=p)


def _adjoint_kernel(weight: Tensor) -> Tensor:
    """Kernel of the adjoint of a stride-1, symmetric-padding correlation: flip and transpose."""
    return weight.flip(-1, -2).transpose(0, 1)


class GradientConv2d(nn.Module):
    r"""Convolutional gradient block :math:`x - hK^T\sigma(Kx + b)`, 1-Lipschitz in ℓ2.

    Args:
        channels: c (input = output channels).
        hidden_channels: channels of ``Kx``.
        kernel_size: odd k.
        padding: ``"circular"`` (exact norm) or ``"zeros"`` (proven bound).
        image_size: ``(H, W)`` (or an int) the norm is computed for.
        activation: as :class:`~lipres.GradientStep`.
        step: ``"learned"`` or ``"max"``.
        tau_init: initial τ.

    Shapes:
        x: ``[B, c, H, W]`` -> ``[B, c, H, W]``.

    Examples:
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> block = GradientConv2d(2, 3, image_size=6).double()
        >>> x = torch.randn(8, 2, 6, 6, dtype=torch.float64)
        >>> y = torch.randn(8, 2, 6, 6, dtype=torch.float64)
        >>> r = (block(x) - block(y)).flatten(1).norm(dim=1) / (x - y).flatten(1).norm(dim=1)
        >>> bool(r.max() <= 1.0), block.lipschitz_bound()
        (True, 1.0)
    """

    in_norm = "l2"
    out_norm = "l2"

    def __init__(
        self,
        channels: int,
        hidden_channels: int | None = None,
        *,
        kernel_size: int = 3,
        padding: Padding = "circular",
        image_size: int | tuple[int, int],
        activation: Activation = "relu",
        step: str = "learned",
        tau_init: float = 2.0,
    ) -> None:
        super().__init__()
        self.channels = check_int(channels, "channels", minimum=1)
        self.hidden_channels = (
            channels
            if hidden_channels is None
            else check_int(hidden_channels, "hidden_channels", minimum=1)
        )
        self.kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
        if kernel_size % 2 == 0:
            raise InputError(f"kernel_size: expected an odd integer, got {kernel_size}")
        self.padding: Padding = check_choice(padding, "padding", PADDINGS)
        self.image_size = parse_image_size(image_size, kernel_size)
        self.activation: Activation = check_choice(activation, "activation", ACTIVATIONS)
        self.step_mode = check_choice(step, "step", ("learned", "max"))
        self.tau_init = check_number(tau_init, "tau_init")
        k = kernel_size
        self.weight = nn.Parameter(torch.empty(self.hidden_channels, channels, k, k))
        self.bias = nn.Parameter(torch.empty(self.hidden_channels))
        self.tau = nn.Parameter(torch.tensor(self.tau_init), requires_grad=step == "learned")
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Kaiming-uniform kernel and uniform bias (``nn.Conv2d``'s), τ at ``tau_init``."""
        fan_in = self.channels * self.kernel_size**2
        bound = 1.0 / math.sqrt(fan_in)
        with torch.no_grad():
            self.weight.uniform_(-math.sqrt(3.0) * bound, math.sqrt(3.0) * bound)
            self.bias.uniform_(-bound, bound)
            self.tau.fill_(self.tau_init)

    def operator_norm(self) -> float:
        """The certified upper bound on ‖K‖₂ for ``image_size`` (exact for circular padding)."""
        return conv_operator_norm(self.weight, self.image_size, padding=self.padding).upper

    def step_size(self) -> Tensor:
        """The applied h: ``clamp(τ, 0, 2 (1 - 1e-6) / ‖K‖²)`` (or the cap for ``step="max"``)."""
        s = self.operator_norm()
        cap = 1e30 if s == 0 else 2.0 * (1.0 - SAFETY) / s**2
        if self.step_mode == "max":
            return torch.as_tensor(cap, dtype=self.tau.dtype, device=self.tau.device)
        return self.tau.clamp(0.0, cap)

    def forward(self, x: Tensor) -> Tensor:
        """Shapes: ``[B, c, H, W]`` -> ``[B, c, H, W]``."""
        check_image(x, self.channels, self.image_size)
        h = self.step_size()
        act = activation_fn(self.activation)(_conv(x, self.weight, self.padding, self.bias))
        return x - h * _conv(act, _adjoint_kernel(self.weight), self.padding)

    def lipschitz_bound(self) -> float:
        """``max(1, h ‖K‖² - 1)`` with the certified operator norm."""
        s = self.operator_norm()
        return max(1.0, float(self.step_size().detach()) * s * s - 1.0)

    def constrain_(self) -> None:
        """Clamp τ into ``[0, cap]``."""
        with torch.no_grad():
            self.tau.copy_(self.step_size())

    def export_stages(self) -> list[tuple[str, nn.Module]]:
        """``x + Conv_out(σ(Conv_in(x)))`` with ``Conv_out`` the adjoint kernel times ``-h``."""
        k, p = self.kernel_size, self.kernel_size // 2
        mode: Literal["circular", "zeros"] = self.padding
        inner = nn.Conv2d(self.channels, self.hidden_channels, k, padding=p, padding_mode=mode)
        outer = nn.Conv2d(
            self.hidden_channels, self.channels, k, padding=p, padding_mode=mode, bias=False
        )
        with torch.no_grad():
            h = self.step_size()
            inner = inner.to(self.weight.dtype)
            outer = outer.to(self.weight.dtype)
            inner.weight.copy_(self.weight)
            assert inner.bias is not None
            inner.bias.copy_(self.bias)
            outer.weight.copy_(-h * _adjoint_kernel(self.weight))
        seq = nn.Sequential(inner, activation_module(self.activation), outer)
        return [("residual", seq.to(self.weight.device))]

    def config(self) -> dict[str, Any]:
        return {
            "channels": self.channels,
            "hidden_channels": self.hidden_channels,
            "kernel_size": self.kernel_size,
            "padding": self.padding,
            "image_size": list(self.image_size),
            "activation": self.activation,
            "step": self.step_mode,
        }

    def extra_repr(self) -> str:
        return (
            f"{self.channels}, hidden={self.hidden_channels}, k={self.kernel_size}, "
            f"padding={self.padding!r}, image_size={self.image_size}"
        )
