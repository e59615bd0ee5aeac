"""The Deep Image Prior generator: the encoder-decoder "skip" network of the DIP reference code.

Structure (Ulyanov, Vedaldi, Lempitsky, "Deep Image Prior", CVPR 2018, supplementary Fig. 21;
``DmitryUlyanov/deep-image-prior``, ``models/skip.py``), scale ``i = 0 .. n-1`` from the top:

* skip branch ``s_i``: 1x1 conv to ``s_i`` channels, BN, LeakyReLU(0.2) (absent when ``s_i = 0``);
* deeper branch ``d_i``: 3x3 conv, stride 2, to ``d_i``; BN; act; 3x3 conv ``d_i -> d_i``; BN; act;
  scale ``i + 1`` (none at the deepest scale); x2 upsampling (``bilinear`` or ``nearest``);
* the two branches concatenated along channels, then BN; 3x3 conv to ``u_i``; BN; act; with
  ``conv_1x1_up`` a 1x1 conv ``u_i -> u_i``, BN, act;
* after scale 0: a 1x1 conv to the output channels and (``sigmoid=True``) a sigmoid.

Every convolution has a bias and pads by reflection (``pad="reflection"``, as the reference's
notebooks set it) or by zeros. BatchNorm follows the module's mode; :func:`dsp_prior.fit` keeps it
in training mode throughout (the reference never calls ``eval()``).
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from sciml_core import InputError

Upsample = Literal["bilinear", "nearest"]
UPSAMPLES: tuple[Upsample, ...] = typing.get_args(Upsample)
Pad = Literal["reflection", "zero"]
PADS: tuple[Pad, ...] = typing.get_args(Pad)


def _conv(c_in: int, c_out: int, kernel: int, stride: int, pad: Pad) -> nn.Conv2d:
    # ReflectionPad2d((k-1)//2) followed by an unpadded conv, as the reference does, equals a conv
    # with padding_mode="reflect" (same parameters, same values).
    return nn.Conv2d(
        c_in,
        c_out,
        kernel,
        stride=stride,
        padding=(kernel - 1) // 2,
        padding_mode="reflect" if pad == "reflection" else "zeros",
        bias=True,
    )


def _act() -> nn.Module:
    return nn.LeakyReLU(0.2)


def _centre_crop(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    return x[..., top : top + h, left : left + w]


class _Scale(nn.Module):
    """One scale of the skip network (the recursion of ``models/skip.py``)."""

    def __init__(
        self,
        c_in: int,
        down: Sequence[int],
        up: Sequence[int],
        skip: Sequence[int],
        *,
        kernel_down: int,
        kernel_up: int,
        kernel_skip: int,
        upsample: Upsample,
        pad: Pad,
        conv_1x1_up: bool,
    ) -> None:
        super().__init__()
        d, u, s = down[0], up[0], skip[0]
        self.skip: nn.Module | None = None
        if s > 0:
            self.skip = nn.Sequential(
                _conv(c_in, s, kernel_skip, 1, pad), nn.BatchNorm2d(s), _act()
            )
        layers: list[nn.Module] = [
            _conv(c_in, d, kernel_down, 2, pad),
            nn.BatchNorm2d(d),
            _act(),
            _conv(d, d, kernel_down, 1, pad),
            nn.BatchNorm2d(d),
            _act(),
        ]
        if len(down) > 1:
            layers.append(
                _Scale(
                    d,
                    down[1:],
                    up[1:],
                    skip[1:],
                    kernel_down=kernel_down,
                    kernel_up=kernel_up,
                    kernel_skip=kernel_skip,
                    upsample=upsample,
                    pad=pad,
                    conv_1x1_up=conv_1x1_up,
                )
            )
            k = up[1]
        else:
            k = d
        layers.append(nn.Upsample(scale_factor=2, mode=upsample))
        self.deeper = nn.Sequential(*layers)
        after: list[nn.Module] = [
            nn.BatchNorm2d(s + k),
            _conv(s + k, u, kernel_up, 1, pad),
            nn.BatchNorm2d(u),
            _act(),
        ]
        if conv_1x1_up:
            after += [_conv(u, u, 1, 1, pad), nn.BatchNorm2d(u), _act()]
        self.after = nn.Sequential(*after)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        deep = self.deeper(x)
        if deep.shape[-2:] != (h, w):  # odd sizes (crop=True): the reference's centre crop
            deep = _centre_crop(deep, h, w)
        if self.skip is not None:
            deep = torch.cat([self.skip(x), deep], dim=1)
        return self.after(deep)


def _channels(value: Sequence[int], name: str, *, allow_zero: bool = False) -> tuple[int, ...]:
    out = tuple(value)
    low = 0 if allow_zero else 1
    if not out or any(isinstance(c, bool) or not isinstance(c, int) or c < low for c in out):
        raise InputError(f"{name}: expected a non-empty tuple of integers >= {low}, got {value!r}")
    return out


class SkipNet(nn.Module):
    r"""DIP's encoder-decoder generator :math:`f_\theta(z)` ("skip", ``models/skip.py``).

    :math:`n` scales; scale :math:`i` downsamples by a stride-2 convolution to
    :math:`d_i` channels, recurses, upsamples by 2, concatenates a 1x1 skip branch of
    :math:`s_i` channels and maps to :math:`u_i` channels (module docstring). A final 1x1
    convolution and a sigmoid give an image in :math:`(0, 1)`.

    Args:
        in_channels: channels of the input ``z`` (32 in every DIP restoration notebook).
        out_channels: image channels (1 grey, 3 RGB).
        channels_down: :math:`d_i`, one per scale.
        channels_up: :math:`u_i`, one per scale.
        channels_skip: :math:`s_i`, one per scale (0 removes the skip branch of that scale).
        kernel_down: kernel of the two downward convolutions.
        kernel_up: kernel of the upward convolution.
        kernel_skip: kernel of the skip convolution.
        upsample: ``"bilinear"`` or ``"nearest"``.
        pad: ``"reflection"`` or ``"zero"``.
        sigmoid: end with a sigmoid.
        conv_1x1_up: add the 1x1 conv, BN, act after each upward convolution.
        crop: accept sizes not divisible by :math:`2^n` (the reference centre-crops the deeper
            branch); by default such sizes raise, since the crop shifts the image by a pixel.

    Shapes:
        z: ``(B, in_channels, H, W)`` -> ``(B, out_channels, H, W)``; ``H, W`` divisible by
        :math:`2^n` unless ``crop=True``.

    Examples:
        >>> import torch
        >>> net = SkipNet.small(1)
        >>> out = net(torch.rand(1, 32, 32, 32, generator=torch.Generator().manual_seed(0)))
        >>> tuple(out.shape), bool((out > 0).all() and (out < 1).all())
        ((1, 1, 32, 32), True)
        >>> net.num_parameters()
        91293
    """

    def __init__(
        self,
        in_channels: int = 32,
        out_channels: int = 3,
        channels_down: Sequence[int] = (128,) * 5,
        channels_up: Sequence[int] = (128,) * 5,
        channels_skip: Sequence[int] = (4,) * 5,
        *,
        kernel_down: int = 3,
        kernel_up: int = 3,
        kernel_skip: int = 1,
        upsample: Upsample = "bilinear",
        pad: Pad = "reflection",
        sigmoid: bool = True,
        conv_1x1_up: bool = True,
        crop: bool = False,
    ) -> None:
        super().__init__()
        down = _channels(channels_down, "channels_down")
        up = _channels(channels_up, "channels_up")
        skip = _channels(channels_skip, "channels_skip", allow_zero=True)
        if not len(down) == len(up) == len(skip):
            raise InputError(
                "channels_down, channels_up, channels_skip: expected one entry per scale each, "
                f"got lengths {len(down)}, {len(up)}, {len(skip)}"
            )
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{name}: expected a positive integer, got {value!r}")
        for name, value in (
            ("kernel_down", kernel_down),
            ("kernel_up", kernel_up),
            ("kernel_skip", kernel_skip),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value % 2 == 0:
                raise InputError(f"{name}: expected an odd positive integer, got {value!r}")
        if upsample not in UPSAMPLES:
            raise InputError(f"upsample: expected one of {UPSAMPLES}, got {upsample!r}")
        if pad not in PADS:
            raise InputError(f"pad: expected one of {PADS}, got {pad!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.channels_down, self.channels_up, self.channels_skip = down, up, skip
        self.upsample, self.pad, self.crop = upsample, pad, bool(crop)
        self.sigmoid = bool(sigmoid)
        self.body = _Scale(
            in_channels,
            down,
            up,
            skip,
            kernel_down=kernel_down,
            kernel_up=kernel_up,
            kernel_skip=kernel_skip,
            upsample=upsample,
            pad=pad,
            conv_1x1_up=conv_1x1_up,
        )
        self.head = _conv(up[0], out_channels, 1, 1, pad)

    @property
    def scales(self) -> int:
        """Number of scales :math:`n` (sizes must be divisible by :math:`2^n` unless ``crop``)."""
        return len(self.channels_down)

    def num_parameters(self) -> int:
        """Number of trainable parameters (the count the DIP notebooks print)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def reset_parameters(self) -> None:
        """Re-initialise every convolution and BatchNorm with PyTorch's defaults (as DIP does)."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d | nn.BatchNorm2d):
                module.reset_parameters()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Map the input ``z`` to an image.

        Shapes:
            z: ``(B, in_channels, H, W)`` -> ``(B, out_channels, H, W)``.
        """
        if not isinstance(z, torch.Tensor) or z.ndim != 4 or z.shape[1] != self.in_channels:
            got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise InputError(f"z: expected shape (B, {self.in_channels}, H, W), got {got}")
        step = 2**self.scales
        h, w = z.shape[-2:]
        if not self.crop and (h % step or w % step):
            raise InputError(
                f"z: spatial size {h}x{w} is not divisible by 2^scales = {step}; crop the image "
                "or pass crop=True (the reference's centre crop shifts the output by a pixel)"
            )
        out = self.head(self.body(z))
        return torch.sigmoid(out) if self.sigmoid else out

    def extra_repr(self) -> str:
        return (
            f"scales={self.scales}, down={self.channels_down}, up={self.channels_up}, "
            f"skip={self.channels_skip}, upsample={self.upsample!r}, pad={self.pad!r}, "
            f"parameters={self.num_parameters():,}"
        )

    # -- the DIP notebooks' settings ---------------------------------------------------------
    @classmethod
    def dip_denoising(cls, out_channels: int = 3) -> SkipNet:
        """``denoising.ipynb``: input 32, 5 scales of 128 down/up, skip 4, bilinear, reflection."""
        return cls(32, out_channels, (128,) * 5, (128,) * 5, (4,) * 5, upsample="bilinear")

    @classmethod
    def dip_super_resolution(cls, out_channels: int = 3) -> SkipNet:
        """``super-resolution.ipynb``: the denoising network (5 x 128, skip 4, bilinear)."""
        return cls(32, out_channels, (128,) * 5, (128,) * 5, (4,) * 5, upsample="bilinear")

    @classmethod
    def dip_inpainting(cls, out_channels: int = 3) -> SkipNet:
        """``inpainting.ipynb`` (text masks): 5 scales of 128, skip 128, nearest upsampling."""
        return cls(32, out_channels, (128,) * 5, (128,) * 5, (128,) * 5, upsample="nearest")

    @classmethod
    def small(
        cls, out_channels: int = 1, *, scales: int = 3, channels: int = 32, skip: int = 4
    ) -> SkipNet:
        """A CPU-sized skip net: input 32, ``scales`` x ``channels``, skip ``skip``, bilinear."""
        return cls(32, out_channels, (channels,) * scales, (channels,) * scales, (skip,) * scales)
