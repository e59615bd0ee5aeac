r"""Rank selection without data: per-layer rules and a global parameter budget.

Each compressible layer :math:`\ell` has singular values :math:`\sigma_{\ell,1} \ge \dots`, a dense
cost :math:`D_\ell` (its weight's entries), a cost per rank :math:`c_\ell` (``I k_h k_w + O`` for
``scheme="channel"``) and the stored cost :math:`\min(D_\ell, r_\ell c_\ell)` at rank
:math:`r_\ell` (at or above the break-even rank :math:`r^*_\ell = D_\ell / c_\ell` it stays dense).

* ``energy=τ``: per layer the smallest ``r`` with :math:`\sum_{i \le r} \sigma_i^2 \ge \tau
  \sum_i \sigma_i^2`.
* ``keep=ρ``: per layer the largest ``r >= 1`` with :math:`r c_\ell \le \rho D_\ell`.
* ``params=ρ`` (global): every singular value but each layer's first gets a score
  (``"energy"``: :math:`\sigma_{\ell,i}^2 / \sum_j \sigma_{\ell,j}^2`; ``"sigma"``:
  :math:`\sigma_{\ell,i} / \sigma_{\ell,1}`; ``"energy_per_param"``: the energy score over
  :math:`c_\ell`). Values are dropped in increasing score order until
  :math:`\text{fixed} + \sum_\ell \min(D_\ell, r_\ell c_\ell) \le \text{target}`. Ties go by layer
  order, then from the **last** index (so a layer always keeps a prefix of its spectrum; every
  score is non-increasing in ``i``). The scores are scale-invariant: BatchNorm makes the scale of a
  layer's weight arbitrary. The result is minimal for this order: undoing the last drop exceeds
  the target. All rules are ours (the paper's rule was not available).
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch

from sciml_core import InputError

__all__ = ["SCORES", "Allocation", "Score", "allocate_global", "ranks_by_energy", "ranks_by_keep"]

Score = Literal["energy", "sigma", "energy_per_param"]
SCORES: tuple[Score, ...] = typing.get_args(Score)


def _fraction(value: float, name: str) -> float:
    value = float(value)
    if not 0.0 < value <= 1.0:
        raise InputError(f"{name} must be in (0, 1]; got {value}")
    return value


def stored_cost(rank: int, cost: int, dense: int) -> int:
    """Parameters stored for a layer at ``rank``: factorised below break-even, else dense."""
    return min(dense, rank * cost)


def ranks_by_energy(spectra: Sequence[torch.Tensor], energy: float) -> list[int]:
    """Per layer, the smallest rank keeping a fraction ``energy`` of :math:`\\sum \\sigma^2`."""
    tau = _fraction(energy, "energy")
    out = []
    for s in spectra:
        e = s.double().square()
        total = float(e.sum())
        if total == 0.0:
            out.append(1)
            continue
        cum = torch.cumsum(e, 0) / total
        out.append(int(torch.searchsorted(cum, torch.tensor(tau - 1e-12, dtype=cum.dtype))) + 1)
    return [min(r, len(s)) for r, s in zip(out, spectra, strict=True)]


def ranks_by_keep(
    costs: Sequence[int], dense: Sequence[int], max_ranks: Sequence[int], keep: float
) -> list[int]:
    """Per layer, the largest rank ``>= 1`` whose factorised cost is at most ``keep`` x dense."""
    rho = _fraction(keep, "keep")
    return [
        max(1, min(m, int(rho * d // c))) for c, d, m in zip(costs, dense, max_ranks, strict=True)
    ]


@dataclass(frozen=True)
class Allocation:
    """The result of :func:`allocate_global`.

    Attributes:
        ranks: Rank per layer (a layer whose rank is at or above break-even stays dense).
        total: Parameters after compression (``fixed`` included).
        target: The budget.
        last_drop: ``(layer, index)`` of the last singular value dropped, or None.
    """

    ranks: tuple[int, ...]
    total: int
    target: float
    last_drop: tuple[int, int] | None


def _scores(s: torch.Tensor, cost: int, score: Score) -> list[float]:
    s = s.double()
    if score == "sigma":
        top = float(s[0]) if len(s) else 0.0
        return [float(v) / top if top > 0 else 0.0 for v in s]
    e = s.square()
    total = float(e.sum())
    scores = [float(v) / total if total > 0 else 0.0 for v in e]
    if score == "energy_per_param":
        scores = [v / cost for v in scores]
    return scores


def allocate_global(
    spectra: Sequence[torch.Tensor],
    costs: Sequence[int],
    dense: Sequence[int],
    *,
    fixed: int,
    target: float,
    score: Score = "energy",
) -> Allocation:
    """Drop singular values globally, lowest score first, until the budget is met (module doc).

    Args:
        spectra: Singular values of each layer, non-increasing.
        costs: Parameters per rank of each layer.
        dense: Dense parameters of each layer.
        fixed: Parameters that compression does not touch (counted in the total).
        target: The budget in parameters.
        score: ``"energy"``, ``"sigma"`` or ``"energy_per_param"``.

    Returns:
        An :class:`Allocation`.

    Raises:
        InputError: ``score`` is unknown or the target is below the smallest reachable total
            (every layer at rank 1); the message names that total.

    Examples:
        >>> s = [torch.tensor([4.0, 2.0, 1.0]), torch.tensor([3.0, 3.0, 0.1])]
        >>> a = allocate_global(s, [2, 2], [6, 6], fixed=0, target=8)
        >>> a.ranks, a.total, a.total <= 8
        ((2, 2), 8, True)
    """
    if score not in SCORES:
        raise InputError(f"score must be one of {SCORES}; got {score!r}")
    ranks = [len(s) for s in spectra]
    smallest = fixed + sum(stored_cost(1, c, d) for c, d in zip(costs, dense, strict=True))
    if target < smallest:
        raise InputError(
            f"params: the budget of {target:.0f} parameters cannot be met; the smallest reachable "
            f"is {smallest} (every layer at rank 1)"
        )
    total = fixed + sum(stored_cost(r, c, d) for r, c, d in zip(ranks, costs, dense, strict=True))
    order = []
    for layer, (s, c) in enumerate(zip(spectra, costs, strict=True)):
        for i, v in enumerate(_scores(s, c, score)):
            if i > 0:
                order.append((v, layer, -i))
    order.sort()
    last: tuple[int, int] | None = None
    for _, layer, neg in order:
        if total <= target:
            break
        c, d = costs[layer], dense[layer]
        before = stored_cost(ranks[layer], c, d)
        ranks[layer] = -neg
        total += stored_cost(ranks[layer], c, d) - before
        last = (layer, -neg)
    return Allocation(tuple(ranks), total, float(target), last)
