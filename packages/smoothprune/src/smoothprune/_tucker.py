r"""Tucker-2 compression of a whole model to a parameter budget (the ``[bench]`` peer, tensorly).

A weight :math:`W \in R^{O \times I \times k_h \times k_w}` (or :math:`O \times I`) is decomposed on
its two channel modes, :math:`W \approx G \times_0 U_{out} \times_1 U_{in}`, with tensorly's
``partial_tucker`` (HOOI, SVD initialisation, modes ``(0, 1)``; Kim et al. arXiv:1511.06530). The
layer becomes three: a ``1 x 1`` convolution ``I -> r_in`` (weight :math:`U_{in}^T`), the core
``k_h x k_w`` convolution ``r_in -> r_out`` with the layer's stride, padding, dilation and
padding mode, and a ``1 x 1`` convolution ``r_out -> O`` (weight :math:`U_{out}`, the bias). A
linear layer becomes three linear maps alike. Stored weights per layer:
:math:`I r_{in} + r_{in} r_{out} k_h k_w + r_{out} O`.

Ranks [ours]: one fraction :math:`\alpha` for every layer,
:math:`r_{out} = \max(1, \lfloor \alpha O \rfloor)`, :math:`r_{in} = \max(1, \lfloor \alpha I
\rfloor)`, then capped so that :math:`r_{out} \le k_h k_w r_{in}` and :math:`r_{in} \le k_h k_w
r_{out}` (a matrix, ``k_h k_w = 1``, gets one rank for both modes), the largest :math:`\alpha`
whose total meets the budget; a layer whose Tucker-2 form is not smaller than the dense weight
stays dense. Kim et al. choose ranks by VBMF; a uniform fraction is the simplest rule that meets
a budget exactly, and it is what ``smoothprune reproduce`` compares at the SVD points' parameter
counts.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from sciml_core import InputError, check_finite, require_extra

from ._compress import COUNTS, Count, compressible_layers
from ._count import count_parameters
from ._layers import _conv_kwargs
from ._svd import copy_bias, layer_weight

__all__ = ["Tucker2Conv2d", "Tucker2Linear", "Tucker2Report", "tucker2", "tucker2_ranks"]


class Tucker2Conv2d(nn.Module):
    """Three convolutions: ``I -> r_in`` (1x1), ``r_in -> r_out`` (k_h x k_w), ``r_out -> O`` (1x1).

    Shapes:
        - input: ``(N, I, H, W)``
        - output: ``(N, O, H', W')``, as the dense layer's.
    """

    def __init__(self, first: nn.Conv2d, core: nn.Conv2d, last: nn.Conv2d) -> None:
        super().__init__()
        self.ranks = (core.out_channels, core.in_channels)
        self.first = first
        self.core = core
        self.last = last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the three convolutions.

        Shapes:
            - x: ``(N, I, H, W)``
            - returns: ``(N, O, H', W')``
        """
        return self.last(self.core(self.first(x)))

    def extra_repr(self) -> str:
        return f"ranks={self.ranks}"


class Tucker2Linear(nn.Module):
    """``Linear(I -> r_in)``, ``Linear(r_in -> r_out)``, ``Linear(r_out -> O)`` (bias last).

    Shapes:
        - input: ``(*, I)``
        - output: ``(*, O)``
    """

    def __init__(self, first: nn.Linear, core: nn.Linear, last: nn.Linear) -> None:
        super().__init__()
        self.ranks = (core.out_features, core.in_features)
        self.first = first
        self.core = core
        self.last = last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the three maps.

        Shapes:
            - x: ``(*, I)``
            - returns: ``(*, O)``
        """
        return self.last(self.core(self.first(x)))

    def extra_repr(self) -> str:
        return f"ranks={self.ranks}"


@dataclass(frozen=True)
class Tucker2Report:
    """A Tucker-2-compressed model and how it was made.

    Attributes:
        model: The compressed copy.
        ranks: ``(r_out, r_in)`` of every decomposed layer, by name.
        alpha: The rank fraction shared by every layer.
        params_before: Parameters before, counted as ``count`` says.
        params_after: Parameters after, counted alike.
        fraction: ``params_after / params_before``.
        count: ``"model"`` or ``"compressible"``.
    """

    model: nn.Module
    ranks: dict[str, tuple[int, int]]
    alpha: float
    params_before: int
    params_after: int
    fraction: float
    count: Count


def _dims(layer: nn.Module) -> tuple[int, int, int]:
    """``(O, I, k_h k_w)`` of a layer's weight."""
    w = layer_weight(layer)
    o, i = int(w.shape[0]), int(w.shape[1])
    return o, i, int(w[0, 0].numel())


def _layer_ranks(o: int, i: int, k: int, alpha: float) -> tuple[int, int]:
    """Ranks at fraction ``alpha``, consistent: ``r_out <= r_in k`` and ``r_in <= r_out k``.

    Each mode's rank is at most the rank of its unfolding after the other mode's projection (HOOI
    needs it); for a matrix (``k = 1``) both are the same rank.
    """
    r_out = min(max(1, int(np.floor(alpha * o + 1e-9))), o)
    r_in = min(max(1, int(np.floor(alpha * i + 1e-9))), i)
    return min(r_out, r_in * k), min(r_in, r_out * k)


def _valid(o: int, i: int, k: int, r_out: int, r_in: int) -> bool:
    return 1 <= r_out <= o and 1 <= r_in <= i and r_out <= r_in * k and r_in <= r_out * k


def _cost(o: int, i: int, k: int, ranks: tuple[int, int]) -> int:
    r_out, r_in = ranks
    return i * r_in + r_in * r_out * k + r_out * o


def tucker2_ranks(
    model: nn.Module,
    params: float,
    *,
    count: Count = "compressible",
    exclude: str | Sequence[str] = "ends",
) -> tuple[float, dict[str, tuple[int, int]], int, int]:
    """The uniform-fraction ranks meeting ``params`` (no decomposition is computed).

    Returns:
        ``(alpha, {layer: (r_out, r_in)} of the decomposed layers, params_before,
        params_after)``, ``params_after <= params * params_before`` with the largest ``alpha``
        that meets it (each layer's ranks change only where ``alpha * O`` or ``alpha * I``
        crosses an integer, so the candidates are those crossings).

    Raises:
        InputError: ``params`` outside (0, 1], an unknown ``count``, no compressible layer, or a
            budget that rank 1 everywhere cannot meet (the message names the smallest fraction).
    """
    frac = float(params)
    if not 0.0 < frac <= 1.0:
        raise InputError(f"params must be in (0, 1]; got {params}")
    if count not in COUNTS:
        raise InputError(f"count must be one of {COUNTS}; got {count!r}")
    layers = compressible_layers(model, exclude)
    if not layers:
        raise InputError("model has no compressible layer (nn.Linear or ungrouped nn.Conv2d)")
    dims = {name: _dims(layer) for name, layer in layers}
    dense = {name: o * i * k for name, (o, i, k) in dims.items()}
    compressible = sum(dense.values())
    before = count_parameters(model) if count == "model" else compressible
    fixed = before - compressible
    target = frac * before

    def plan(alpha: float) -> tuple[dict[str, tuple[int, int]], int]:
        ranks: dict[str, tuple[int, int]] = {}
        total = fixed
        for name, (o, i, k) in dims.items():
            r = _layer_ranks(o, i, k, alpha)
            cost = _cost(o, i, k, r)
            if cost < dense[name]:
                ranks[name] = r
                total += cost
            else:
                total += dense[name]
        return ranks, total

    candidates = sorted(
        {1.0} | {j / n for o, i, _ in dims.values() for n in (o, i) for j in range(1, n + 1)}
    )
    ranks, total = plan(candidates[0])
    if total > target:
        raise InputError(
            f"params={frac:g} cannot be met by Tucker-2 (count={count!r}); the smallest "
            f"reachable fraction is {total / before:.4f} (every layer at ranks (1, 1))"
        )
    lo, hi = 0, len(candidates) - 1  # plan(candidates[lo]) meets the target
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if plan(candidates[mid])[1] <= target:
            lo = mid
        else:
            hi = mid - 1
    alpha = candidates[lo]
    ranks, total = plan(alpha)
    return alpha, ranks, before, total


def _decompose(layer: nn.Module, ranks: tuple[int, int]) -> nn.Module:
    from tensorly.decomposition import partial_tucker

    w = layer_weight(layer).detach()
    (core, factors), _ = partial_tucker(
        w.cpu().double().numpy(), rank=list(ranks), modes=[0, 1], init="svd"
    )
    u_out, u_in = factors
    r_out, r_in = ranks
    kw: dict[str, Any] = {"device": w.device, "dtype": w.dtype}

    def tensor(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(**kw)

    bias = getattr(layer, "bias", None)
    if isinstance(layer, nn.Linear):
        lin = (
            nn.Linear(w.shape[1], r_in, bias=False, **kw),
            nn.Linear(r_in, r_out, bias=False, **kw),
            nn.Linear(r_out, w.shape[0], bias=bias is not None, **kw),
        )
        with torch.no_grad():
            lin[0].weight.copy_(tensor(u_in.T))
            lin[1].weight.copy_(tensor(core))
            lin[2].weight.copy_(tensor(u_out))
            copy_bias(lin[2], bias)
        return Tucker2Linear(*lin)
    assert isinstance(layer, nn.Conv2d)
    first = nn.Conv2d(w.shape[1], r_in, 1, bias=False, **kw)
    kh, kwid = int(w.shape[2]), int(w.shape[3])
    mid = nn.Conv2d(r_in, r_out, (kh, kwid), bias=False, **_conv_kwargs(layer))
    last = nn.Conv2d(r_out, w.shape[0], 1, bias=bias is not None, **kw)
    with torch.no_grad():
        first.weight.copy_(tensor(u_in.T)[:, :, None, None])
        mid.weight.copy_(tensor(core))
        last.weight.copy_(tensor(u_out)[:, :, None, None])
        copy_bias(last, bias)
    return Tucker2Conv2d(first, mid, last)


def tucker2(
    model: nn.Module,
    params: float | None = None,
    *,
    ranks: dict[str, tuple[int, int]] | None = None,
    count: Count = "compressible",
    exclude: str | Sequence[str] = "ends",
) -> Tucker2Report:
    """A copy of ``model`` with its compressible layers replaced by their Tucker-2 forms.

    Args:
        model: The trained model (left unchanged).
        params: Global budget: the fraction of the parameters (``count``) kept, ranks by
            :func:`tucker2_ranks`.
        ranks: Instead of ``params``: ``(r_out, r_in)`` by layer name (others stay dense).
        count: What ``params`` is a fraction of: ``"model"`` or ``"compressible"`` weights.
        exclude: Layers left dense (:func:`smoothprune.compressible_layers`).

    Raises:
        InputError: not exactly one of ``params`` and ``ranks``; ranks out of range; an
            unreachable budget; non-finite weights.
        MissingExtraError: tensorly is not installed (the ``[bench]`` extra).
    """
    require_extra("tensorly", extra="bench", package="smoothprune")
    if (params is None) == (ranks is None):
        raise InputError("give exactly one of params and ranks")
    out = copy.deepcopy(model)
    layers = dict(compressible_layers(out, exclude))
    for name, layer in layers.items():
        check_finite(layer_weight(layer).detach(), f"weight of layer {name!r}")
    if params is not None:
        alpha, chosen, before, _ = tucker2_ranks(model, params, count=count, exclude=exclude)
    else:
        assert ranks is not None
        alpha = float("nan")
        chosen = {}
        for name, r in ranks.items():
            if name not in layers:
                raise InputError(f"ranks: {name!r} is not a compressible layer of the model")
            o, i, k = _dims(layers[name])
            r_out, r_in = int(r[0]), int(r[1])
            if not _valid(o, i, k, r_out, r_in):
                raise InputError(
                    f"ranks[{name!r}] must be (r_out, r_in) with 1 <= r_out <= {o}, "
                    f"1 <= r_in <= {i}, r_out <= {k} r_in and r_in <= {k} r_out; got {tuple(r)}"
                )
            chosen[name] = (r_out, r_in)
        compressible = sum(o * i * k for o, i, k in map(_dims, layers.values()))
        before = count_parameters(model) if count == "model" else compressible
    for name, r in chosen.items():
        parent_name, _, child = name.rpartition(".")
        parent = out.get_submodule(parent_name) if parent_name else out
        setattr(parent, child, _decompose(layers[name], r))
    compressible_after = sum(
        _cost(*_dims(layers[n]), chosen[n]) if n in chosen else _dense(layers[n]) for n in layers
    )
    fixed = before - sum(_dense(layer) for layer in layers.values())
    after = fixed + compressible_after
    return Tucker2Report(out, chosen, alpha, before, after, after / before, count)


def _dense(layer: nn.Module) -> int:
    o, i, k = _dims(layer)
    return o * i * k
