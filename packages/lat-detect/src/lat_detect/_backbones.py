"""Backbones: a single feature map at stride 8, built without any download (spec 5.2, 5.4)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

import torch
from torch import nn

from sciml_core import InputError, LoadReport, load_pretrained

__all__ = [
    "BACKBONES",
    "BackboneName",
    "FeatureBackbone",
    "build_backbone",
    "load_backbone_weights",
]

BackboneName = Literal["tiny", "resnet18"]
BACKBONES: tuple[BackboneName, ...] = get_args(BackboneName)


class FeatureBackbone(nn.Module):
    """``body`` maps ``(B, 3, H, W)`` to ``(B, out_channels, H / stride, W / stride)``.

    Keys of a detector's state dict under this module start with ``backbone.body.``, as in
    torchvision's detectors, so a backbone can be taken from any of our detector checkpoints.

    Args:
        body: The feature extractor.
        out_channels: Channels of its output.
        stride: Its total stride.
    """

    def __init__(self, body: nn.Module, *, out_channels: int, stride: int) -> None:
        super().__init__()
        self.body = body
        self.out_channels = out_channels
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features.

        Shapes:
            x: ``(B, 3, H, W)``; returns ``(B, C, ceil(H / s), ceil(W / s))``.
        """
        out: torch.Tensor = self.body(x)
        return out


def _tiny() -> FeatureBackbone:
    layers: list[nn.Module] = []
    channels = [3, 32, 32, 64, 64, 64, 64]
    for k in range(6):
        stride = 2 if k in (0, 2, 4) else 1
        layers += [
            nn.Conv2d(channels[k], channels[k + 1], 3, stride, 1, bias=False),
            nn.BatchNorm2d(channels[k + 1]),
            nn.ReLU(inplace=True),
        ]
    return FeatureBackbone(nn.Sequential(*layers), out_channels=64, stride=8)


def _resnet18() -> FeatureBackbone:
    from torchvision.models import resnet18

    net = resnet18(weights=None)
    body = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2)
    return FeatureBackbone(body, out_channels=128, stride=8)


def build_backbone(name: BackboneName | str = "tiny") -> FeatureBackbone:
    """A randomly initialised backbone (``"tiny"``: six 3x3 conv-BN-ReLU, 64 channels;
    ``"resnet18"``: torchvision's ResNet-18 up to ``layer2``, 128 channels, ``weights=None``).

    Examples:
        >>> bb = build_backbone("tiny")
        >>> tuple(bb(torch.zeros(1, 3, 96, 96)).shape), bb.stride
        ((1, 64, 12, 12), 8)
    """
    if name == "tiny":
        return _tiny()
    if name == "resnet18":
        return _resnet18()
    raise InputError(
        f"backbone: expected one of {list(BACKBONES)}; got {name!r} (pretrained weights come "
        "from a local file: --backbone-weights)"
    )


def load_backbone_weights(
    backbone: FeatureBackbone,
    path: str | Path,
    *,
    sha256: str | None = None,
    argument: str = "--backbone-weights",
) -> LoadReport:
    """Load ``backbone.body`` from a local file through ``sciml_core.load_pretrained``.

    The file may hold the body's own state dict, a whole detector's (keys ``backbone.body.*``,
    selected), or a lat-detect checkpoint. Every entry must match (``min_matched=1``).
    """
    from sciml_core import inspect_weights

    try:
        info = inspect_weights(path)
        names = [e.name for e in info.entries]
        select = "backbone.body." if any("backbone.body." in n for n in names) else None
        return load_pretrained(backbone.body, path, sha256=sha256, select=select, min_matched=1.0)
    except InputError as err:
        raise InputError(f"{argument}: {err}") from None
