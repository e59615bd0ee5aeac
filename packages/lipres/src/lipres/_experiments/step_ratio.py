"""Our training step against SLL's, timed alternately: ``python -m lipres._experiments.step_ratio``.

``lipres bench`` (``sciml_core.compare_timing``) takes medians of single calls, one contender after
the other, which on a loaded machine measures the scheduler as much as the step. This sweep runs
the contenders in turn, in batches of ``calls`` steps, for ``rounds`` rounds, and reports for each
the median of the per-round ratios ``t_SLL / t_ours`` (so a load change during the run moves
both sides of a ratio). Contenders: ``GradientStep()`` (``norm="verified"``), ``norm="exact"``, the
SVD cap of lipres 0.1 (``"svd"``), and the same block with a fixed step and no norm (``"plain"``).
Needs orthogonium (``lipres[bench]``). One thread; widths from the command line (default 256).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

import lipres
from lipres._experiments.bench import BATCH, _PlainStep, _sll, _step_fn, blas_threads_as_torch


class _SvdCapStep(lipres.GradientStep):
    """The 0.1 default: the cap from the float64 SVD at every forward."""

    def _certified_norm(self, *, update: bool) -> float:
        return lipres.spectral_norm(self.weight).upper


def ratios(width: int, *, rounds: int = 7, calls: int = 10, seed: int = 0) -> dict[str, float]:
    """Median over rounds of ``t_SLL / t_ours`` for each contender at one width."""
    torch.manual_seed(seed)
    x = torch.randn(BATCH, width)
    sll = _sll(width)
    if sll is None:
        raise SystemExit("step_ratio: orthogonium is not installed (pip install 'lipres[bench]')")
    steps: dict[str, Callable[[], None]] = {
        "sll": _step_fn(sll, x),
        "verified": _step_fn(lipres.GradientStep(width), x),
        "exact": _step_fn(lipres.GradientStep(width, norm="exact"), x),
        "svd": _step_fn(_SvdCapStep(width), x),
        "plain": _step_fn(_PlainStep(lipres.GradientStep(width, step=1.0 / width)), x),
    }
    for step in steps.values():
        for _ in range(3):
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(calls):
                step()
            times[name].append((time.perf_counter() - start) / calls)
    return {
        name: statistics.median(s / t for s, t in zip(times["sll"], ts, strict=True))
        for name, ts in times.items()
        if name != "sll"
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("widths", nargs="*", type=int, default=[256], help="block widths")
    parser.add_argument("--rounds", type=int, default=7, help="rounds (default %(default)s)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for width in args.widths:
        calls = max(1, 2560 // width)
        with blas_threads_as_torch():
            row = ratios(width, rounds=args.rounds, calls=calls)
        print(f"d={width}: t_SLL/t_ours " + ", ".join(f"{k} {v:.2f}x" for k, v in row.items()))


if __name__ == "__main__":
    main()
