"""Wall time of ``reproduce --full --workers N`` from measured per-step times, without running it.

``python -m lat_detect._experiments.estimate [--workers 2] [--steps 12]`` times, on this
machine and one thread, a batch-4 detector step, a transfer-model step and one image's
prediction (with its share of COCO evaluation) at the full run's sizes; builds the run's units
phase by phase exactly as :mod:`.transfer` and :mod:`.downstream` submit them; and schedules
them first-come first-served on ``N`` workers (as ``ProcessPoolExecutor`` does), a barrier
between phases. A later seed retrains each method once per distinct learning rate it chose on
seed 0 (one or two: both bounds are printed).
"""

from __future__ import annotations

import argparse
import heapq
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .config import FULL, Config
from .zoo import evaluate

#: Each of the three specialists trains ``specialist_steps``; the T-val / T-test evaluations
#: predict every image once per checkpoint.
SPECIALISTS = 3


@dataclass(frozen=True)
class Rates:
    """Measured seconds: one batch-4 detector step, one transfer-model step (its batch), one
    image predicted and evaluated."""

    step: float
    transfer_step: float
    image: float


def makespan(durations: Sequence[float], workers: int) -> float:
    """Finish time of ``durations`` taken in order by the first free of ``workers``."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1; got {workers}")
    free = [0.0] * min(workers, max(len(durations), 1))
    heapq.heapify(free)
    end = 0.0
    for d in durations:
        start = heapq.heappop(free)
        heapq.heappush(free, start + d)
        end = max(end, start + d)
    return end


def phases(config: Config, rates: Rates, *, lrs_per_method: int) -> list[list[float]]:
    """Seconds of every unit, phase by phase, in submission order."""
    c = config
    n_src = 2 * c.source_size
    # transfer unit: specialists, N(N-1) pseudo-label passes (each source labelled by two
    # specialists, T by two), the transfer model, transfer, the baselines' relabelling and
    # the label AP of three relabellings
    transfer = (
        SPECIALISTS * c.specialist_steps * rates.step
        + c.transfer_steps * rates.transfer_step
        + (2 * (n_src + c.target_train) + n_src + n_src + 3 * n_src) * rates.image
    )
    ablation = c.transfer_steps * rates.transfer_step + 2 * n_src * rates.image
    ft_max = max(c.ft_grid, default=0)
    tune = (c.union_steps + ft_max) * rates.step + (1 + len(c.ft_grid)) * c.target_val * rates.image
    test = 2 * c.target_test * rates.image
    retrain = lrs_per_method * (c.union_steps + ft_max) * rates.step + test
    out = [[transfer] * len(c.seeds)]
    n_abl = int(c.sff_ablation) + (5 if c.extended_ablations else 0)
    if n_abl:
        out.append([ablation] * n_abl)
    out.append([tune] * (len(c.methods) * len(c.lr_grid)))
    out.append([test] * len(c.methods) + [retrain] * (len(c.methods) * (len(c.seeds) - 1)))
    return out


def estimate(config: Config, rates: Rates, workers: int, *, lrs_per_method: int) -> float:
    """Seconds of the whole run: the phases' makespans added (a barrier between phases)."""
    return sum(makespan(p, workers) for p in phases(config, rates, lrs_per_method=lrs_per_method))


def measure(steps: int = 12, seed: int = 0) -> Rates:
    """Time the three rates on this machine at the full run's sizes (one thread)."""
    from .._backbones import FeatureBackbone
    from .._detector import build_detector, train_detector
    from .._labelspace import ConcatLabelSpace
    from .._pipeline import LATConfig, train_lat_model
    from .._pseudo import cross_pseudo_labels
    from .._synthetic import synthetic_benchmark

    torch.set_num_threads(1)
    bench = synthetic_benchmark(
        target_train=FULL.target_train,
        target_val=2,
        target_test=48,
        source_size=8,
        seed=seed,
    )
    t = bench.target_train
    det = build_detector(len(t.space))
    train_detector(det, t, steps=2, batch_size=4, seed=seed, progress=False)  # warm-up
    t0 = time.perf_counter()
    train_detector(det, t, steps=steps, batch_size=4, seed=seed, progress=False)
    step = (time.perf_counter() - t0) / steps
    evaluate(det, bench.target_test.subset(range(4)))
    t0 = time.perf_counter()
    evaluate(det, bench.target_test)
    image = (time.perf_counter() - t0) / len(bench.target_test)
    datasets = {"T": t, **bench.sources}
    space = ConcatLabelSpace([d.space for d in datasets.values()])
    specs = {n: build_detector(len(d.space)).eval() for n, d in datasets.items()}
    pseudo = cross_pseudo_labels(datasets, specs, space)
    backbone = specs["T"].backbone
    assert isinstance(backbone, FeatureBackbone)
    cfg = LATConfig(transfer_steps=steps, transfer_batch=FULL.transfer_batch)
    t0 = time.perf_counter()
    train_lat_model(datasets, pseudo, space, backbone, config=cfg, progress=False)
    transfer_step = (time.perf_counter() - t0) / steps
    return Rates(step, transfer_step, image)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--steps", type=int, default=12, help="steps timed per rate (default 12)")
    args = parser.parse_args(argv)
    rates = measure(args.steps)
    print(
        f"measured (1 thread, load {os.getloadavg()[0]:.1f}): detector step {rates.step:.3f} s, "
        f"transfer-model step {rates.transfer_step:.3f} s, image {rates.image * 1e3:.1f} ms"
    )
    for workers in sorted({1, args.workers}):
        lo, hi = (estimate(FULL, rates, workers, lrs_per_method=k) for k in (1, 2))
        print(f"--full --workers {workers}: {lo / 60:.0f}-{hi / 60:.0f} min")


if __name__ == "__main__":
    main()
