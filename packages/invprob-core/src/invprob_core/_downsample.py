"""Blur followed by decimation (super-resolution forward model)."""

from __future__ import annotations

import math
import typing
from typing import Literal

import torch

from sciml_core import InputError

from ._blur import Blur, box_kernel, gaussian_kernel
from ._operator import LinearOperator, Shape, check_tensor
from ._padding import Boundary

DownsampleKernel = Literal["box", "gaussian", "lanczos2"]
"""Anti-aliasing kernel before decimation."""
KERNELS: tuple[DownsampleKernel, ...] = typing.get_args(DownsampleKernel)


def lanczos2_kernel(factor: int) -> torch.Tensor:
    r"""Separable Lanczos-2 anti-aliasing kernel for decimation by ``factor``, float64.

    Taps at :math:`t = i - 2f + \tfrac12`, :math:`i = 0..4f-1`, weight
    :math:`\mathrm{sinc}(t/f)\,\mathrm{sinc}(t/2f)`, normalised to sum 1 (size ``4f``, even, so
    that its centre sits between pixels like the box of size ``f``).
    """
    f = int(factor)
    t = torch.arange(4 * f, dtype=torch.float64) - 2 * f + 0.5
    w = torch.sinc(t / f) * torch.sinc(t / (2 * f))
    k = w[:, None] * w[None, :]
    return k / k.sum()


class Downsample(LinearOperator):
    r"""Super-resolution model :math:`y = S(k * x)`: blur by ``k``, keep every ``factor``-th pixel.

    ``S`` keeps pixel :math:`(f i + o, f j + o)`, with :math:`o = \lfloor (f-1)/2 - e/2 \rfloor`
    (``e = 1`` for even-sized kernels, whose centre lies half a pixel after index
    :math:`\lfloor s/2 \rfloor`), so the box of size ``f`` averages exactly the ``f x f`` block.
    The adjoint is zero insertion followed by the blur's adjoint.

    Args:
        factor: integer decimation factor.
        kernel: ``"box"`` (size ``factor``), ``"gaussian"`` (sigma ``factor/2``),
            ``"lanczos2"`` (:func:`lanczos2_kernel`) or a 2-D tensor.
        boundary: the blur's boundary mode (``"circular"`` default).
        shape: optional fixed high-resolution shape ``(H, W)``.

    Shapes:
        x: ``(..., H, W)`` -> ``(..., H / f, W / f)``; ``H`` and ``W`` must be multiples of ``f``.

    Examples:
        >>> import torch
        >>> D = Downsample(2)
        >>> D(torch.arange(16.0).reshape(1, 4, 4))[0, 0].tolist()
        [2.5, 4.5]
    """

    def __init__(
        self,
        factor: int,
        kernel: DownsampleKernel | torch.Tensor = "box",
        boundary: Boundary = "circular",
        shape: Shape | None = None,
    ) -> None:
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
            raise InputError(f"factor: expected a positive integer, got {factor!r}")
        if isinstance(kernel, str):
            if kernel not in KERNELS:
                raise InputError(f"kernel: expected one of {KERNELS} or a tensor, got {kernel!r}")
            k = {
                "box": lambda: box_kernel(factor),
                "gaussian": lambda: gaussian_kernel(factor / 2.0),
                "lanczos2": lambda: lanczos2_kernel(factor),
            }[kernel]()
        else:
            check_tensor(kernel, "kernel")
            k = kernel
        if shape is not None and (shape[-2] % factor or shape[-1] % factor):
            raise InputError(f"shape: expected multiples of factor={factor}, got {shape}")
        out = None if shape is None else (shape[-2] // factor, shape[-1] // factor)
        super().__init__(shape, out)
        self.factor = factor
        self.kernel_name = kernel if isinstance(kernel, str) else "custom"
        self.blur = Blur(k, boundary=boundary, shape=shape)
        even = 1 if k.shape[-1] % 2 == 0 else 0
        self.offset = max(0, math.floor((factor - 1) / 2 - even / 2))

    def output_shape(self, in_shape: Shape) -> Shape:
        return (in_shape[-2] // self.factor, in_shape[-1] // self.factor)

    def _fwd(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h % self.factor or w % self.factor:
            raise InputError(f"x: image size {h}x{w} is not a multiple of factor={self.factor}")
        f, o = self.factor, self.offset
        return self.blur._fwd(x)[..., o::f, o::f]

    def _adj(self, y: torch.Tensor) -> torch.Tensor:
        f, o = self.factor, self.offset
        h, w = y.shape[-2] * f, y.shape[-1] * f
        up = y.new_zeros(*y.shape[:-2], h, w)
        up[..., o::f, o::f] = y
        return self.blur._adj(up)

    def upper_bound(self, in_shape: Shape | None = None) -> float | None:
        return self.blur.upper_bound(in_shape)

    def extra_repr(self) -> str:
        return f"factor={self.factor}, kernel={self.kernel_name!r}, boundary={self.blur.boundary!r}"
