"""Checkpoints of lipres models through ``sciml_core.save_checkpoint`` / ``load_checkpoint``."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from sciml_core import InputError, load_checkpoint, save_checkpoint

from .__about__ import __version__
from ._critic import LipCritic
from ._networks import LipResNet, LipResNetClassifier

__all__ = ["load_model", "save_model"]

PACKAGE = "lipres"


def _build_resnet(cfg: dict[str, Any]) -> nn.Module:
    return LipResNet(
        cfg["in_features"],
        cfg["width"],
        cfg["depth"],
        architecture=cfg["architecture"],
        lipschitz=cfg["lipschitz"],
        activation=cfg["activation"],
        step=cfg["step"],
        norm=cfg["norm"],
    )


def _build_classifier(cfg: dict[str, Any]) -> nn.Module:
    return LipResNetClassifier(
        cfg["in_features"],
        cfg["n_classes"],
        cfg["width"],
        cfg["depth"],
        architecture=cfg["architecture"],
        activation=cfg["activation"],
        step=cfg["step"],
        norm=cfg["norm"],
    )


def _build_critic(cfg: dict[str, Any]) -> nn.Module:
    return LipCritic(
        cfg["in_channels"],
        tuple(cfg["image_size"]),
        width=cfg["width"],
        depth=cfg["depth"],
        kernel_size=cfg["kernel_size"],
        padding=cfg["padding"],
    )


_BUILDERS: dict[str, Callable[[dict[str, Any]], nn.Module]] = {
    "LipResNet": _build_resnet,
    "LipResNetClassifier": _build_classifier,
    "LipCritic": _build_critic,
}


def save_model(model: nn.Module, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Save a :class:`LipResNet`, :class:`LipResNetClassifier` or :class:`LipCritic` atomically.

    Raises:
        InputError: not one of those models, or ``path`` exists without ``overwrite``.
    """
    config = getattr(model, "config", None)
    cfg = config() if callable(config) else None
    if not isinstance(cfg, dict) or cfg.get("class") not in _BUILDERS:
        raise InputError(f"model: expected one of {sorted(_BUILDERS)}, got {type(model).__name__}")
    return save_checkpoint(
        path,
        model.state_dict(),
        config=cfg,
        package=PACKAGE,
        version=__version__,
        overwrite=overwrite,
    )


def load_model(path: str | os.PathLike[str], *, map_location: Any = "cpu") -> nn.Module:
    """Load a model saved by :func:`save_model` (``weights_only``; refused across major.minor).

    Examples:
        >>> import tempfile, torch
        >>> net = LipResNet(2, 5, 2, architecture="fixed-width")
        >>> with tempfile.TemporaryDirectory() as d:
        ...     back = load_model(save_model(net, Path(d) / "net.pt"))
        >>> x = torch.randn(4, 2)
        >>> bool(torch.equal(back(x), net(x)))
        True
    """
    ckpt = load_checkpoint(path, package=PACKAGE, version=__version__, map_location=map_location)
    cfg = ckpt.config
    builder = _BUILDERS.get(str(cfg.get("class"))) if isinstance(cfg, dict) else None
    if builder is None:
        raise InputError(f"{str(path)!r}: unknown lipres model class {cfg!r}")
    try:
        model = builder(cfg)
        model.load_state_dict(ckpt.state_dict)
    except (KeyError, TypeError, RuntimeError) as err:
        raise InputError(f"{str(path)!r}: its weights do not fit its config: {err}") from None
    dtype = next((v.dtype for k, v in ckpt.state_dict.items() if k.endswith("weight")), None)
    if dtype is not None and dtype.is_floating_point:
        model = model.to(dtype)
    return model.eval()
