"""The pruning baselines: global unstructured magnitude pruning, filter (channel) pruning, Tucker-2.

* :func:`prune_unstructured`: ``torch.nn.utils.prune.global_unstructured`` with
  ``L1Unstructured`` over the compressible layers' weights, then ``prune.remove``. It zeros
  ``round(amount * N)`` weights; storage and speed are unchanged (reported as non-zero counts).
* :func:`prune_channels`: per compressible convolution, the output filters of smallest L2 norm.
  ``remove=True`` (native backend, ``nn.Sequential`` models such as ``SmallCNN``/``GapCNN``)
  really removes them with the matching inputs of the next ``Conv2d``/``Linear`` (and a
  ``BatchNorm2d`` in between); ``remove=False`` masks them with ``prune.ln_structured(n=2,
  dim=0)`` and the bias with the same mask, which gives identical outputs (tested).
  ``backend="torch-pruning"`` runs Torch-Pruning's ``MetaPruner`` with
  ``GroupMagnitudeImportance`` (any architecture, residual ones included; ``[bench]`` extra).
* :func:`tucker2_factors`: tensorly's ``partial_tucker`` on modes (0, 1) (``[bench]`` extra).
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import nn
from torch.nn.utils import prune

from sciml_core import InputError, require_extra

from ._compress import compressible_layers
from ._count import count_parameters
from ._svd import layer_weight

__all__ = [
    "PRUNE_BACKENDS",
    "PruneBackend",
    "channel_ratio_for",
    "prune_channels",
    "prune_unstructured",
    "tucker2_factors",
]

#: The peer libraries of the baselines, as ``smoothprune bench --peer`` names them ("all": every
#: one); "torch-prune" is ``torch.nn.utils.prune``.
Peer = Literal["all", "tensorly", "torch-pruning", "torch-prune"]
PEERS: tuple[Peer, ...] = typing.get_args(Peer)

PruneBackend = Literal["native", "torch-pruning"]
PRUNE_BACKENDS: tuple[PruneBackend, ...] = typing.get_args(PruneBackend)


def _amount(amount: float) -> float:
    amount = float(amount)
    if not 0.0 <= amount < 1.0:
        raise InputError(f"amount must be in [0, 1); got {amount}")
    return amount


def prune_unstructured(
    model: nn.Module, amount: float, *, exclude: str | Sequence[str] = "ends"
) -> nn.Module:
    """A copy of ``model`` with the ``round(amount * N)`` smallest-magnitude weights zeroed.

    ``N`` counts the weights of the compressible layers (:func:`compressible_layers`), ranked
    globally; biases and the excluded layers are untouched.
    """
    amount = _amount(amount)
    out = copy.deepcopy(model)
    params = [(m, "weight") for _, m in compressible_layers(out, exclude)]
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=amount)
    for m, name in params:
        prune.remove(m, name)
    return out


def _keep_channels(weight: torch.Tensor, amount: float) -> torch.Tensor:
    """Indices (sorted) of the filters ``ln_structured`` keeps: the largest L2 norms."""
    n = weight.shape[0]
    keep = n - round(amount * n)
    norms = weight.detach().reshape(n, -1).norm(dim=1)
    return torch.topk(norms, keep).indices.sort().values


def prune_channels(
    model: nn.Module,
    amount: float,
    *,
    remove: bool = True,
    backend: PruneBackend = "native",
    example_inputs: torch.Tensor | None = None,
    exclude: str | Sequence[str] = "ends",
) -> nn.Module:
    """A copy of ``model`` with a fraction ``amount`` of each compressible convolution's filters
    (smallest L2 norm) removed (``remove=True``) or masked (``remove=False``).

    Raises:
        InputError: an unknown backend; ``remove=True`` with the native backend on a model that
            is not an ``nn.Sequential`` chain; Torch-Pruning without ``example_inputs``.
    """
    amount = _amount(amount)
    if backend not in PRUNE_BACKENDS:
        raise InputError(f"backend must be one of {PRUNE_BACKENDS}; got {backend!r}")
    out = copy.deepcopy(model)
    convs = [(n, m) for n, m in compressible_layers(out, exclude) if isinstance(m, nn.Conv2d)]
    if backend == "torch-pruning":
        return _torch_pruning(out, amount, example_inputs, exclude)
    if not remove:
        for _, conv in convs:
            prune.ln_structured(conv, "weight", amount=amount, n=2, dim=0)
            if conv.bias is not None:
                mask = conv.get_buffer("weight_mask").reshape(conv.out_channels, -1)[:, 0]
                prune.custom_from_mask(conv, "bias", mask)
        return out
    if not isinstance(out, nn.Sequential):
        raise InputError(
            "prune_channels(remove=True, backend='native') needs an nn.Sequential chain; use "
            "backend='torch-pruning' for other architectures"
        )
    children = list(out.named_children())
    # Filters are ranked on the original weights, before any consumer loses input channels.
    keeps = {id(m): _keep_channels(m.weight, amount) for _, m in convs}
    with torch.no_grad():
        for pos, (_, layer) in enumerate(children):
            if id(layer) not in keeps:
                continue
            assert isinstance(layer, nn.Conv2d)
            keep = keeps[id(layer)]
            old = layer.out_channels
            _shrink_out(layer, keep)
            for _, nxt in children[pos + 1 :]:
                if isinstance(nxt, nn.BatchNorm2d):
                    _shrink_bn(nxt, keep)
                elif isinstance(nxt, nn.Conv2d | nn.Linear):
                    _shrink_in(nxt, keep, old)
                    break
    return out


def _shrink_out(conv: nn.Conv2d, keep: torch.Tensor) -> None:
    conv.weight = nn.Parameter(conv.weight[keep].clone())
    if conv.bias is not None:
        conv.bias = nn.Parameter(conv.bias[keep].clone())
    conv.out_channels = len(keep)


def _shrink_bn(bn: nn.BatchNorm2d, keep: torch.Tensor) -> None:
    for name in ("weight", "bias"):
        p = getattr(bn, name)
        if p is not None:
            setattr(bn, name, nn.Parameter(p[keep].clone()))
    for name in ("running_mean", "running_var"):
        buf = getattr(bn, name)
        if buf is not None:
            setattr(bn, name, buf[keep].clone())
    bn.num_features = len(keep)


def _shrink_in(layer: nn.Module, keep: torch.Tensor, channels: int) -> None:
    w = layer_weight(layer)
    if isinstance(layer, nn.Conv2d):
        layer.weight = nn.Parameter(w[:, keep].clone())
        layer.in_channels = len(keep)
        return
    assert isinstance(layer, nn.Linear)
    per = layer.in_features // channels  # features per channel after flattening (C, H, W)
    cols = (keep[:, None] * per + torch.arange(per)).reshape(-1)
    layer.weight = nn.Parameter(w[:, cols].clone())
    layer.in_features = len(cols)


def _torch_pruning(
    model: nn.Module, amount: float, example_inputs: torch.Tensor | None, exclude: Any
) -> nn.Module:
    tp = require_extra("torch_pruning", extra="bench", package="smoothprune")
    if example_inputs is None:
        raise InputError("backend='torch-pruning' needs example_inputs (a batch of inputs)")
    kept = {id(m) for _, m in compressible_layers(model, exclude)}
    ignored = [
        m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear) and id(m) not in kept
    ]
    ignored += [m for m in model.modules() if isinstance(m, nn.Linear)]
    pruner = tp.pruner.MetaPruner(
        model,
        example_inputs,
        importance=tp.importance.GroupMagnitudeImportance(p=2),
        pruning_ratio=amount,
        ignored_layers=ignored,
    )
    pruner.step()
    return model


def channel_ratio_for(
    model: nn.Module,
    target: float,
    *,
    example_inputs: torch.Tensor,
    exclude: str | Sequence[str] = "ends",
) -> tuple[float, int, int | None]:
    """The smallest Torch-Pruning ratio whose pruned model has at most ``target`` parameters.

    ``prune_channels(model, ratio, backend="torch-pruning")`` removes ``ratio`` of every pruned
    layer's filters, so its parameter count changes only where ``ratio * C`` crosses an integer
    for some layer of ``C`` output channels: the candidates are ``j / C`` (every layer keeping at
    least one filter), searched by bisection (the count does not increase with the ratio over
    them). The model's weights do not matter, only its architecture.

    Returns:
        ``(ratio, parameters at ratio, parameters at the next smaller candidate)`` (the last is
        None when ``ratio`` is the smallest candidate): the granularity of the method around
        the target.

    Raises:
        InputError: no candidate meets ``target`` (the message names the smallest count).
        MissingExtraError: Torch-Pruning is not installed (the ``[bench]`` extra).
    """
    require_extra("torch_pruning", extra="bench", package="smoothprune")
    convs = [m for _, m in compressible_layers(model, exclude) if isinstance(m, nn.Conv2d)]
    if not convs:
        raise InputError("model has no compressible convolution to prune channels of")
    candidates = sorted(
        {j / m.out_channels for m in convs for j in range(m.out_channels - 1)} | {0.0}
    )
    candidates = [
        r for r in candidates if all(m.out_channels - round(r * m.out_channels) >= 1 for m in convs)
    ]
    cache: dict[int, int] = {}

    def params_at(k: int) -> int:
        if k not in cache:
            pruned = prune_channels(
                model,
                candidates[k],
                backend="torch-pruning",
                example_inputs=example_inputs,
                exclude=exclude,
            )
            cache[k] = count_parameters(pruned)
        return cache[k]

    last = len(candidates) - 1
    if params_at(last) > target:
        raise InputError(
            f"Torch-Pruning cannot reach {target:g} parameters; the smallest count is "
            f"{params_at(last)} (ratio {candidates[last]:.4f})"
        )
    lo, hi = 0, last  # params_at(hi) <= target
    while lo < hi:
        mid = (lo + hi) // 2
        if params_at(mid) <= target:
            hi = mid
        else:
            lo = mid + 1
    previous = params_at(hi - 1) if hi > 0 else None
    return candidates[hi], params_at(hi), previous


def tucker2_factors(weight: torch.Tensor, ranks: tuple[int, int]) -> tuple[Any, list[Any]]:
    """Tucker-2 of a conv weight on modes (0, 1): ``(core, [U_out, U_in])`` (tensorly HOOI)."""
    require_extra("tensorly", extra="bench", package="smoothprune")
    from tensorly.decomposition import partial_tucker

    (core, factors), _ = partial_tucker(
        weight.detach().cpu().numpy(), rank=list(ranks), modes=[0, 1], init="svd"
    )
    return core, factors
