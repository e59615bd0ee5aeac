"""Validation helpers and the constants shared by every layer (private)."""

from __future__ import annotations

import math
import typing
from typing import Any, Literal

import torch
from torch import Tensor, nn

from sciml_core import InputError

__all__ = [
    "ACTIVATIONS",
    "NORM_MODES",
    "SAFETY",
    "Activation",
    "NormMode",
    "activation_fn",
    "activation_module",
    "check_choice",
    "check_features",
    "check_int",
    "check_number",
]

Activation = Literal["relu", "tanh", "softplus"]
ACTIVATIONS: tuple[Activation, ...] = typing.get_args(Activation)
NormMode = Literal["verified", "exact", "power"]
NORM_MODES: tuple[NormMode, ...] = typing.get_args(NormMode)

SAFETY = 1e-6
"""Every normalisation and step cap targets ``1 - SAFETY`` of its limit (spec §4 item 8): the
float64 bound of float32 weights normalised to norm exactly 1 could exceed 1 by rounding."""


def check_int(value: Any, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return value


def check_number(value: Any, name: str, *, minimum: float = 0.0, strict: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and (value > minimum if strict else value >= minimum):
        return float(value)
    op = ">" if strict else ">="
    raise InputError(f"{name}: expected a finite number {op} {minimum}, got {value!r}")


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> Any:
    if value not in choices:
        raise InputError(f"{name}: expected one of {choices}, got {value!r}")
    return value


def check_label_range(y: Tensor, k: int, name: str = "y") -> None:
    """Integer labels must lie in ``[0, k - 1]`` for ``k`` logits (else an ``InputError``)."""
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= k):
        raise InputError(
            f"{name}: labels must lie in [0, {k - 1}], got [{int(y.min())}, {int(y.max())}]"
        )


def check_features(x: Tensor, features: int, name: str = "x") -> None:
    """``x`` must be a floating tensor ``[..., features]`` (at least 1-d)."""
    if not isinstance(x, Tensor):
        raise InputError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if x.dim() < 1 or x.shape[-1] != features:
        raise InputError(f"{name}: expected shape [B, {features}], got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise InputError(f"{name}: expected a floating dtype, got {x.dtype}")


def activation_fn(name: Activation) -> Any:
    """The elementwise activation: monotone with slope in [0, 1] (σ = γ', γ convex)."""
    return {"relu": torch.relu, "tanh": torch.tanh, "softplus": nn.functional.softplus}[name]


def activation_module(name: Activation) -> nn.Module:
    """The same activation as a plain ``torch.nn`` module (for :func:`lipres.export`)."""
    return {"relu": nn.ReLU, "tanh": nn.Tanh, "softplus": nn.Softplus}[name]()
