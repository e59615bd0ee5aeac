"""Samples per level: Giles' optimal allocation and the authors' geometric schedule.

For independent level terms (disjoint pairing) with per-sample variances ``V_l`` and per-sample
costs ``C'_l = C_l + C_{l-1}`` (a correction evaluates both resolutions; ``C_{-1} = 0``):

    Var(g_hat) = sum_l V_l / N_l,       cost = sum_l N_l C'_l.

Minimising the cost at variance ``eps^2`` (Lagrange; Giles 2008, eq. (4); Acta Numerica 2015,
eq. (1.9)) gives ``N_l = eps^-2 sqrt(V_l / C'_l) sum_k sqrt(V_k C'_k)``, total cost
``(sum_l sqrt(V_l C'_l))^2 / eps^2`` against ``V_SL C_L / eps^2`` for single-level fine sampling,
hence the predicted per-gradient speed-up ``V_SL C_L / (sum_l sqrt(V_l C'_l))^2``. Under a budget
``B`` per step: ``N_l = B sqrt(V_l / C'_l) / sum_k sqrt(V_k C'_k)``. Levels that fall below
``min_samples`` are fixed there and the rest re-allocated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from sciml_core import InputError

__all__ = ["Allocation", "geometric_schedule", "giles_allocation"]


class Allocation(NamedTuple):
    """Result of :func:`giles_allocation`.

    Attributes:
        n: real-valued optimum per level (after the ``min_samples`` floors).
        n_int: integers used: floors under a budget (cost never exceeds it), ceilings under a
            target variance (variance never exceeds it); at least ``min_samples``.
        variance: ``sum_l V_l / n_int_l``.
        cost: ``sum_l n_int_l C'_l``.
        predicted_speedup: ``V_SL C_L / (sum sqrt(V_l C'_l))^2`` (``None`` without ``v_single``).
    """

    n: tuple[float, ...]
    n_int: tuple[int, ...]
    variance: float
    cost: float
    predicted_speedup: float | None


def _finite(values: Sequence[float], argument: str, *, positive: bool) -> list[float]:
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise InputError(f"{argument}: expected numbers, got {values!r}") from None
    if not out:
        raise InputError(f"{argument}: expected one value per level, got none")
    bad = [v for v in out if not math.isfinite(v) or v < 0 or (positive and v == 0)]
    if bad:
        kind = "positive" if positive else "non-negative"
        raise InputError(f"{argument}: expected finite {kind} numbers, got {out}")
    return out


def coupled_costs(costs: Sequence[float]) -> list[float]:
    """``C'_l = C_l + C_{l-1}`` from per-resolution costs ``C_l``."""
    c = list(costs)
    return [c[0]] + [c[j] + c[j - 1] for j in range(1, len(c))]


def giles_allocation(
    V: Sequence[float],
    C: Sequence[float],
    *,
    target_variance: float | None = None,
    budget: float | None = None,
    min_samples: int = 1,
    v_single: float | None = None,
) -> Allocation:
    """Optimal samples per level (module docstring), for a budget or a target variance.

    Args:
        V: ``(V_0, ..., V_L)``: variance of a level-``l`` term sample (trace of the covariance
            of ``grad l_0`` and of ``grad l_l - grad l_{l-1}``).
        C: ``(C_0, ..., C_L)``: cost of one sample at resolution ``n_l`` (grid units or seconds);
            a correction costs ``C_l + C_{l-1}``.
        target_variance: ``eps^2`` (exactly one of this and ``budget``).
        budget: cost per step ``B``.
        min_samples: floor per level.
        v_single: ``V_SL`` of single-level fine sampling, for ``predicted_speedup``.

    Raises:
        InputError: lengths differ, a value is negative or not finite, both or neither target
            given, the budget cannot pay for ``min_samples`` at every level.

    Examples:
        >>> a = giles_allocation([6.27, 0.736, 0.0337], [4.53, 9.02, 28.41], budget=1000.0,
        ...                      v_single=6.16)
        >>> round(a.n[0] / a.n[2], 1), round(a.n[1] / a.n[2], 2), round(a.predicted_speedup, 2)
        (39.2, 7.77, 1.89)
        >>> a.cost <= 1000.0
        True
    """
    v = _finite(V, "V", positive=False)
    c = _finite(C, "C", positive=True)
    if len(v) != len(c):
        raise InputError(f"C: expected {len(v)} costs (one per level of V), got {len(c)}")
    if (target_variance is None) == (budget is None):
        raise InputError(
            "budget, target_variance: expected exactly one of them, got "
            f"budget={budget!r}, target_variance={target_variance!r}"
        )
    if isinstance(min_samples, bool) or not isinstance(min_samples, int) or min_samples < 1:
        raise InputError(f"min_samples: expected a positive integer, got {min_samples!r}")
    cp = coupled_costs(c)
    levels = range(len(v))
    fixed: set[int] = set()
    n = [float(min_samples)] * len(v)
    if budget is not None:
        b = float(budget)
        if not math.isfinite(b) or b <= 0:
            raise InputError(f"budget: expected a finite positive number, got {budget!r}")
        if min_samples * sum(cp) > b:
            raise InputError(
                f"budget: {b:g} cannot pay for min_samples={min_samples} at every level "
                f"(needs {min_samples * sum(cp):g})"
            )
    else:
        e = float(target_variance)  # type: ignore[arg-type]  # not None in this branch
        if not math.isfinite(e) or e <= 0:
            raise InputError(
                f"target_variance: expected a finite positive number, got {target_variance!r}"
            )
    while True:
        free = [j for j in levels if j not in fixed]
        s = sum(math.sqrt(v[j] * cp[j]) for j in free)
        if not free or s == 0:
            break
        if budget is not None:
            rest = float(budget) - sum(min_samples * cp[j] for j in fixed)
            for j in free:
                n[j] = rest * math.sqrt(v[j] / cp[j]) / s
        else:
            rest = float(target_variance) - sum(v[j] / min_samples for j in fixed)  # type: ignore[arg-type]
            for j in free:
                n[j] = math.sqrt(v[j] / cp[j]) * s / rest
        low = [j for j in free if n[j] < min_samples]
        if not low:
            break
        for j in low:
            n[j] = float(min_samples)
            fixed.add(j)
    if budget is not None:
        n_int = [max(min_samples, math.floor(x + 1e-9)) for x in n]
    else:
        n_int = [max(min_samples, math.ceil(x - 1e-9)) for x in n]
    total = sum(math.sqrt(vj * cj) for vj, cj in zip(v, cp, strict=True))
    speedup = None
    if v_single is not None and total > 0:
        speedup = float(v_single) * c[-1] / total**2
    return Allocation(
        tuple(n),
        tuple(n_int),
        sum(vj / nj for vj, nj in zip(v, n_int, strict=True)),
        float(sum(nj * cj for nj, cj in zip(n_int, cp, strict=True))),
        speedup,
    )


def geometric_schedule(levels: int, k: int = 2, base: int = 20) -> tuple[int, ...]:
    """The authors' ``geom_prog`` (``mlmc_optim``): each finer level gets ``1/k`` of the samples
    of the next coarser one, the finest ``base``; coarsest first: ``b_l = base k^(L-l)``.

    ``k = 1`` with the nested pairing is single-level fine training plus wasted coarse compute.

    Examples:
        >>> geometric_schedule(3, 2, 20)
        (80, 40, 20)
    """
    for name, value in (("levels", levels), ("k", k), ("base", base)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{name}: expected a positive integer, got {value!r}")
    return tuple(base * k ** (levels - 1 - j) for j in range(levels))
