r"""SVD compression of a whole model to a parameter budget, with no data and no fine-tuning.

Every compressible layer (``nn.Linear``, ``nn.Conv2d`` with ``groups=1``, minus ``exclude``) is
replaced by its rank-:math:`r_\ell` factorisation (:mod:`smoothprune._layers`) when
:math:`r_\ell` is below break-even; the ranks come from one rule of :mod:`smoothprune._ranks`.
Each layer's error is reported: by Eckart-Young-Mirsky,

.. math::

    \|M - M_r\|_F^2 = \sum_{i > r} \sigma_i^2, \qquad \|M - M_r\|_2 = \sigma_{r+1}

(``M = mat(W)``, or the rearranged matrix of ``scheme="spatial"``). BatchNorm and everything else
are left as they are. By default the first convolution (few input channels: its rank is at most
``I k_h k_w``) and the last ``nn.Linear`` (the classifier) are not compressed (``exclude="ends"``,
our choice, as in most low-rank papers).

A compressed model is saved as a state dict plus the ranks (:func:`save_compressed`), never as a
pickled module, and rebuilt inside a fresh instance of the original class (:func:`load_compressed`).
"""

from __future__ import annotations

import copy
import math
import os
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from sciml_core import InputError, check_finite, load_checkpoint, save_checkpoint

from .__about__ import __version__
from ._count import count_parameters
from ._layers import (
    SCHEMES,
    SPLITS,
    LowRankConv2d,
    LowRankLinear,
    Scheme,
    SpatialLowRankConv2d,
    Split,
    layer_matrix,
)
from ._ranks import Score, allocate_global, ranks_by_energy, ranks_by_keep, stored_cost
from ._svd import layer_weight, svd

__all__ = [
    "COUNTS",
    "CompressionReport",
    "Count",
    "LayerReport",
    "compress_model",
    "compressible_layers",
    "load_compressed",
    "save_compressed",
    "spectrum",
]

Count = Literal["model", "compressible"]
COUNTS: tuple[Count, ...] = typing.get_args(Count)


@dataclass(frozen=True)
class LayerReport:
    """What compression did to one layer.

    Attributes:
        name: The layer's name in the model.
        shape: The dense weight's shape.
        rank: The kept rank (``max_rank`` when the layer stays dense).
        max_rank: The largest possible rank.
        break_even: :math:`r^*`: factorising pays only below it.
        factorised: Whether the layer was replaced.
        params_before: The dense weight's entries.
        params_after: Stored weight entries after compression.
        frobenius_error: :math:`\\|M - M_r\\|_F = (\\sum_{i>r} \\sigma_i^2)^{1/2}`.
        discarded_energy: :math:`\\sum_{i>r} \\sigma_i^2 / \\sum_i \\sigma_i^2`.
        spectral_error: :math:`\\|M - M_r\\|_2 = \\sigma_{r+1}` (0 at full rank).
    """

    name: str
    shape: tuple[int, ...]
    rank: int
    max_rank: int
    break_even: float
    factorised: bool
    params_before: int
    params_after: int
    frobenius_error: float
    discarded_energy: float
    spectral_error: float


@dataclass(frozen=True)
class CompressionReport:
    """The compressed model and how it was made.

    Attributes:
        model: The compressed model (a copy unless ``inplace=True``).
        ranks: Rank of every factorised layer, by name.
        params_before: Parameters before, counted as ``count`` says.
        params_after: Parameters after, counted alike.
        fraction: ``params_after / params_before``.
        layers: One :class:`LayerReport` per compressible layer.
        scheme: ``"channel"`` or ``"spatial"``.
        split: Where the singular values went.
        count: ``"model"`` or ``"compressible"``.
        arch: The model's class name (checked by :func:`load_compressed`).
    """

    model: nn.Module
    ranks: dict[str, int]
    params_before: int
    params_after: int
    fraction: float
    layers: tuple[LayerReport, ...]
    scheme: Scheme
    split: Split
    count: Count
    arch: str

    def table(self) -> str:
        """The per-layer table as text."""
        lines = [f"{'layer':<24} {'shape':<20} {'rank':>9} {'params':>17} {'rel. F err':>10}"]
        for r in self.layers:
            rank = f"{r.rank}/{r.max_rank}"
            params = f"{r.params_after}/{r.params_before}"
            err = math.sqrt(r.discarded_energy)
            lines.append(f"{r.name:<24} {r.shape!s:<20} {rank:>9} {params:>17} {err:>10.4f}")
        lines.append(
            f"parameters ({self.count}): {self.params_after} of {self.params_before} "
            f"({self.fraction:.1%})"
        )
        return "\n".join(lines)


def compressible_layers(
    model: nn.Module, exclude: str | Sequence[str] = "ends"
) -> list[tuple[str, nn.Module]]:
    """``(name, layer)`` of every ``nn.Linear`` and ungrouped ``nn.Conv2d``, minus ``exclude``.

    Args:
        model: Any module.
        exclude: ``"ends"`` (the first ``nn.Conv2d`` and the last ``nn.Linear``), ``"none"``,
            or a list of layer names.

    Raises:
        InputError: ``exclude`` names a layer that is not in the model.
    """
    layers = [
        (name, m)
        for name, m in model.named_modules()
        if isinstance(m, nn.Linear) or (isinstance(m, nn.Conv2d) and m.groups == 1)
    ]
    if isinstance(exclude, str):
        if exclude == "ends":
            convs = [n for n, m in layers if isinstance(m, nn.Conv2d)]
            linears = [n for n, m in layers if isinstance(m, nn.Linear)]
            drop = set(convs[:1] + linears[-1:])
        elif exclude == "none":
            drop = set()
        else:
            raise InputError(
                f"exclude must be 'ends', 'none' or a list of layer names; got {exclude!r}"
            )
    else:
        names = {n for n, _ in layers}
        unknown = [n for n in exclude if n not in names]
        if unknown:
            raise InputError(
                f"exclude names layers that are not in the model: {unknown}; "
                f"its compressible layers are {sorted(names)}"
            )
        drop = set(exclude)
    return [(n, m) for n, m in layers if n not in drop]


def _cost_per_rank(layer: nn.Module, scheme: Scheme) -> tuple[int, int, int]:
    """(cost per rank, dense cost, max rank) of a layer's weight."""
    w = layer_weight(layer)
    if w.ndim == 2:
        o, i = w.shape
        return i + o, o * i, min(o, i)
    o, i, kh, kw = w.shape
    if scheme == "spatial":
        return i * kh + o * kw, o * i * kh * kw, min(i * kh, o * kw)
    return i * kh * kw + o, o * i * kh * kw, min(o, i * kh * kw)


def _set_module(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def _factorised(layer: nn.Module, rank: int, scheme: Scheme, split: Split) -> nn.Module:
    if isinstance(layer, nn.Linear):
        return LowRankLinear.from_dense(layer, rank, split)
    assert isinstance(layer, nn.Conv2d)
    if scheme == "spatial":
        return SpatialLowRankConv2d.from_dense(layer, rank, split)
    return LowRankConv2d.from_dense(layer, rank, split)


def _shell(layer: nn.Module, rank: int, scheme: Scheme) -> nn.Module:
    if isinstance(layer, nn.Linear):
        return LowRankLinear(
            layer.in_features,
            layer.out_features,
            rank,
            bias=layer.bias is not None,
            device=layer.weight.device,
            dtype=layer.weight.dtype,
        )
    assert isinstance(layer, nn.Conv2d)
    if scheme == "spatial":
        return SpatialLowRankConv2d.like(layer, rank)
    return LowRankConv2d.like(layer, rank)


def spectrum(
    model: nn.Module, *, scheme: Scheme = "channel", exclude: str | Sequence[str] = "ends"
) -> dict[str, torch.Tensor]:
    """Singular values (float64, non-increasing) of every compressible layer, by name.

    Examples:
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
        >>> list(spectrum(net, exclude="none"))
        ['0', '1']
    """
    if scheme not in SCHEMES:
        raise InputError(f"scheme must be one of {SCHEMES}; got {scheme!r}")
    return {
        name: svd(layer_matrix(layer, scheme))[1]
        for name, layer in compressible_layers(model, exclude)
    }


def compress_model(
    model: nn.Module,
    *,
    params: float | None = None,
    energy: float | None = None,
    keep: float | None = None,
    scheme: Scheme = "channel",
    split: Split = "balanced",
    count: Count = "model",
    score: Score = "energy",
    exclude: str | Sequence[str] = "ends",
    inplace: bool = False,
) -> CompressionReport:
    r"""Replace each compressible layer by its truncated SVD, ranks from one rule; no data needed.

    Args:
        model: The trained model (left unchanged unless ``inplace``).
        params: Global budget: keep at most this fraction of the parameters (``count``).
        energy: Per layer, keep this fraction of :math:`\sum \sigma^2`.
        keep: Per layer, keep at most this fraction of each layer's weights.
        scheme: ``"channel"`` (default) or ``"spatial"`` factorisation of convolutions.
        split: ``"balanced"``, ``"left"`` or ``"right"``.
        count: What ``params`` is a fraction of: the whole ``"model"`` (BatchNorm, biases and
            excluded layers included) or the ``"compressible"`` weights.
        score: The global rule's score (:mod:`smoothprune._ranks`).
        exclude: Layers not compressed (:func:`compressible_layers`).
        inplace: Modify ``model`` itself.

    Returns:
        A :class:`CompressionReport`.

    Raises:
        InputError: not exactly one of ``params``, ``energy``, ``keep``; a value outside (0, 1];
            an unknown option; an unreachable budget; non-finite weights.

    Examples:
        >>> torch.manual_seed(0) and None
        >>> net = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64))
        >>> report = compress_model(net, params=0.5, count="compressible", exclude="none")
        >>> report.params_after <= 0.5 * report.params_before
        True
    """
    rules = {"params": params, "energy": energy, "keep": keep}
    given = [k for k, v in rules.items() if v is not None]
    if len(given) != 1:
        raise InputError(f"give exactly one of params, energy, keep; got {given or 'none'}")
    if scheme not in SCHEMES:
        raise InputError(f"scheme must be one of {SCHEMES}; got {scheme!r}")
    if split not in SPLITS:
        raise InputError(f"split must be one of {SPLITS}; got {split!r}")
    if count not in COUNTS:
        raise InputError(f"count must be one of {COUNTS}; got {count!r}")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module; got {type(model).__name__}")
    target_model = model if inplace else copy.deepcopy(model)
    layers = compressible_layers(target_model, exclude)
    if not layers:
        raise InputError("model has no compressible layer (nn.Linear or ungrouped nn.Conv2d)")
    for name, layer in layers:
        check_finite(layer_weight(layer).detach(), f"weight of layer {name!r}")
    spectra = [svd(layer_matrix(layer, scheme))[1] for _, layer in layers]
    shapes = [_cost_per_rank(layer, scheme) for _, layer in layers]
    costs = [c for c, _, _ in shapes]
    dense = [d for _, d, _ in shapes]
    max_ranks = [m for _, _, m in shapes]
    compressible = sum(dense)
    before = count_parameters(target_model) if count == "model" else compressible
    fixed = before - compressible
    if params is not None:
        frac = float(params)
        if not 0.0 < frac <= 1.0:
            raise InputError(f"params must be in (0, 1]; got {params}")
        try:
            ranks = list(
                allocate_global(
                    spectra, costs, dense, fixed=fixed, target=frac * before, score=score
                ).ranks
            )
        except InputError:
            smallest = fixed + sum(stored_cost(1, c, d) for c, d in zip(costs, dense, strict=True))
            raise InputError(
                f"params={frac:g} cannot be met (count={count!r}); the smallest reachable "
                f"fraction is {smallest / before:.4f} (every layer at rank 1)"
            ) from None
    elif energy is not None:
        ranks = ranks_by_energy(spectra, energy)
    else:
        assert keep is not None
        ranks = ranks_by_keep(costs, dense, max_ranks, keep)
    reports = []
    kept: dict[str, int] = {}
    for (name, layer), s, r, c, d, m in zip(
        layers, spectra, ranks, costs, dense, max_ranks, strict=True
    ):
        factorise = r * c < d
        rank = r if factorise else m
        energy_all = float(s.square().sum())
        tail = float(s[rank:].square().sum())
        if factorise:
            _set_module(target_model, name, _factorised(layer, rank, scheme, split))
            kept[name] = rank
        reports.append(
            LayerReport(
                name=name,
                shape=tuple(layer_weight(layer).shape),
                rank=rank,
                max_rank=m,
                break_even=d / c,
                factorised=factorise,
                params_before=d,
                params_after=stored_cost(rank, c, d),
                frobenius_error=math.sqrt(tail),
                discarded_energy=tail / energy_all if energy_all > 0 else 0.0,
                spectral_error=float(s[rank]) if rank < len(s) else 0.0,
            )
        )
    after = fixed + sum(r.params_after for r in reports)
    return CompressionReport(
        model=target_model,
        ranks=kept,
        params_before=before,
        params_after=after,
        fraction=after / before,
        layers=tuple(reports),
        scheme=scheme,
        split=split,
        count=count,
        arch=type(model).__name__,
    )


def save_compressed(
    report: CompressionReport, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Save the compressed model as a state dict plus ``{"ranks", "scheme", "split", "arch"}``.

    Written atomically by :func:`sciml_core.save_checkpoint` (package ``smoothprune``, this
    version). The file holds only the factors: it shrinks with the parameter count.
    """
    config = {
        "ranks": report.ranks,
        "scheme": report.scheme,
        "split": report.split,
        "arch": report.arch,
    }
    return save_checkpoint(
        path,
        report.model.state_dict(),
        config=config,
        package="smoothprune",
        version=__version__,
        overwrite=overwrite,
    )


def load_compressed(
    path: str | os.PathLike[str], model: nn.Module, *, argument: str = "path"
) -> nn.Module:
    """Rebuild a saved compressed model inside ``model``, a fresh instance of its class.

    Args:
        path: A file written by :func:`save_compressed`.
        model: An instance of the original (dense) architecture; modified in place.
        argument: The name of the path in error messages.

    Returns:
        ``model``, with the saved layers factorised and every weight loaded.

    Raises:
        InputError: the file is unreadable, of another package or major.minor version, made
            for another architecture, or does not fit ``model``.
    """
    ckpt = load_checkpoint(path, package="smoothprune", version=__version__, argument=argument)
    config = ckpt.config
    if not isinstance(config, dict) or "ranks" not in config or "scheme" not in config:
        raise InputError(f"{argument}: '{path}' is not a compressed smoothprune model (no ranks)")
    if config.get("arch") != type(model).__name__:
        raise InputError(
            f"{argument}: '{path}' holds a compressed {config.get('arch')}, not a "
            f"{type(model).__name__}"
        )
    scheme = config["scheme"]
    for name, rank in config["ranks"].items():
        try:
            layer = model.get_submodule(name)
        except AttributeError:
            raise InputError(
                f"{argument}: '{path}' factorises layer {name!r}, which the model lacks"
            ) from None
        _set_module(model, name, _shell(layer, int(rank), scheme))
    try:
        model.load_state_dict(ckpt.state_dict)
    except RuntimeError as err:
        raise InputError(
            f"{argument}: '{path}' does not fit the model: {str(err).splitlines()[0]}"
        ) from None
    return model
