"""The models of the study: ``SmallCNN`` (a large linear layer), ``GapCNN`` (3x3 convolutions
only, like ResNet-18), and torchvision's ResNet-18 with a 32x32 stem for CIFAR-10."""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Literal

from torch import nn

from sciml_core import InputError, require_extra

__all__ = ["ARCHS", "STEMS", "Arch", "GapCNN", "SmallCNN", "Stem", "build_model", "cifar_resnet18"]

Arch = Literal["smallcnn", "gapcnn", "resnet18"]
ARCHS: tuple[Arch, ...] = typing.get_args(Arch)
Stem = Literal["cifar", "imagenet"]
STEMS: tuple[Stem, ...] = typing.get_args(Stem)


class SmallCNN(nn.Sequential):
    """conv(1->32)-ReLU-pool, conv(32->64)-ReLU-pool, conv(64->128)-ReLU, flatten, fc 256, fc 10.

    All convolutions 3x3 with padding 1. With the defaults (20x20 inputs) it has 914 698
    parameters, 819 200 of them in ``f1`` (3200 -> 256).

    Shapes:
        - input: ``(N, in_channels, image_size, image_size)``
        - output: ``(N, num_classes)``

    Examples:
        >>> sum(p.numel() for p in SmallCNN().parameters())
        914698
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        widths: Sequence[int] = (32, 64, 128),
        hidden: int = 256,
        image_size: int = 20,
    ) -> None:
        a, b, c = widths
        side = image_size // 4
        super().__init__()
        self.c1 = nn.Conv2d(in_channels, a, 3, padding=1)
        self.r1 = nn.ReLU()
        self.p1 = nn.MaxPool2d(2)
        self.c2 = nn.Conv2d(a, b, 3, padding=1)
        self.r2 = nn.ReLU()
        self.p2 = nn.MaxPool2d(2)
        self.c3 = nn.Conv2d(b, c, 3, padding=1)
        self.r3 = nn.ReLU()
        self.flat = nn.Flatten()
        self.f1 = nn.Linear(c * side * side, hidden)
        self.r4 = nn.ReLU()
        self.f2 = nn.Linear(hidden, num_classes)


class GapCNN(nn.Sequential):
    """Four 3x3 convolutions (pad 1) with ReLU, max-pool after the first two, global average pool,
    ``Linear(128 -> 10)``: 241 546 parameters, 239 616 of them in ``c2``-``c4``.

    Shapes:
        - input: ``(N, in_channels, H, W)``
        - output: ``(N, num_classes)``

    Examples:
        >>> sum(p.numel() for p in GapCNN().parameters())
        241546
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        widths: Sequence[int] = (32, 64, 128, 128),
    ) -> None:
        a, b, c, d = widths
        super().__init__()
        self.c1 = nn.Conv2d(in_channels, a, 3, padding=1)
        self.r1 = nn.ReLU()
        self.p1 = nn.MaxPool2d(2)
        self.c2 = nn.Conv2d(a, b, 3, padding=1)
        self.r2 = nn.ReLU()
        self.p2 = nn.MaxPool2d(2)
        self.c3 = nn.Conv2d(b, c, 3, padding=1)
        self.r3 = nn.ReLU()
        self.c4 = nn.Conv2d(c, d, 3, padding=1)
        self.r4 = nn.ReLU()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(d, num_classes)


def cifar_resnet18(num_classes: int = 10, stem: Stem = "cifar") -> nn.Module:
    """torchvision's ResNet-18 (``weights=None``: never downloads), with a 32x32 stem by default.

    ``stem="cifar"`` replaces the 7x7 stride-2 convolution and the max-pool by a 3x3 stride-1
    convolution (11 173 962 parameters with 10 classes); ``"imagenet"`` keeps torchvision's
    (11 181 642). Needs the ``[vision]`` extra.

    Shapes:
        - input: ``(N, 3, 32, 32)``
        - output: ``(N, num_classes)``
    """
    if stem not in STEMS:
        raise InputError(f"stem must be one of {STEMS}; got {stem!r}")
    models = require_extra("torchvision.models", extra="vision", package="smoothprune")
    net = models.resnet18(weights=None, num_classes=num_classes)
    if stem == "cifar":
        net.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
        net.maxpool = nn.Identity()
    return typing.cast(nn.Module, net)


def build_model(arch: Arch, *, num_classes: int = 10, in_channels: int = 1) -> nn.Module:
    """A fresh model by name: ``"smallcnn"``, ``"gapcnn"`` or ``"resnet18"`` (CIFAR stem)."""
    if arch == "smallcnn":
        return SmallCNN(in_channels=in_channels, num_classes=num_classes)
    if arch == "gapcnn":
        return GapCNN(in_channels=in_channels, num_classes=num_classes)
    if arch == "resnet18":
        return cifar_resnet18(num_classes=num_classes)
    raise InputError(f"arch must be one of {ARCHS}; got {arch!r}")
