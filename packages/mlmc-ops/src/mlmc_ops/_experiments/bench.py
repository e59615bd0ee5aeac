"""``mlmc-ops bench``: timing rows (``speedup = t_peer / t_ours``) and measured notes.

* ``estimator overhead``: ``mlmc_loss`` with one level against ``loss_fn(model(x), y).mean()``
  plus backward, same FNO, batch and data (spec target >= 0.97, not asserted).
* ``DDP``: two ``gloo`` processes against one, both shardings, 10 float64 MLMC steps of a small
  CNN: step time (peer = one process) and the largest parameter difference (no speed target on
  two cores).
* ``memory``: peak resident memory added by ``estimate_level_stats`` at ``chunk_size`` 8 and 64,
  each in a fresh interpreter (Linux ``VmHWM`` reset through ``/proc/self/clear_refs``).
* ``time to target`` (``--full`` only, about ten minutes): ``single-fine`` at the full budget,
  target ``e* = 1.05 x`` its final test error; ``mlmc-R`` and ``mlmc-geom`` with the same budget
  and learning rate; seconds and units to first reach ``e*`` (peer = single-fine). Not asserted.
  The neuraloperator curriculum peer of the spec is not implemented.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from sciml_core import Comparison, compare_timing

from .._data import MultiLevelData
from .._estimator import mlmc_loss
from .._sampler import MLMCSampler
from .config import Config


@dataclass
class BenchReport:
    """Timing rows and the measured notes printed under them."""

    rows: list[Comparison] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _load() -> float:
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return float("nan")


def _row(label: str, t_ours: float, t_peer: float, repeats: int, device: str) -> Comparison:
    load = _load()
    return Comparison(
        label,
        t_ours,
        t_peer,
        t_peer / t_ours if t_ours > 0 and math.isfinite(t_ours) else 0.0,
        repeats,
        torch.get_num_threads(),
        load,
        device,
        bool(load > 0.75 * (os.cpu_count() or 1)),
    )


def overhead_row(quick: bool, seed: int, dev: torch.device) -> Comparison:
    """The estimator-overhead row."""
    from fno_conserve import FNO2d, RelLpLoss

    n = 32 if quick else 64
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(32, 1, n, n, generator=g)
    data = MultiLevelData.from_fine(x, x.tanh(), (n,)).to(dev)
    torch.manual_seed(seed)
    model = FNO2d(1, 1, 6, width=12, grid="cells", padding=0.125).to(dev)
    loss = RelLpLoss(rule="cells", reduction="none")
    batch = MLMCSampler(data, (16,), seed=seed).sample()
    lev = batch.levels[0]

    def ours() -> None:
        model.zero_grad(set_to_none=True)
        mlmc_loss(model, batch, loss).value.backward()

    def plain() -> None:
        model.zero_grad(set_to_none=True)
        loss(model(lev.x), lev.y).mean().backward()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a loaded machine is marked in the row
        return compare_timing(
            ours,
            plain,
            repeats=5 if quick else 15,
            device=dev,
            label=f"estimator overhead (one level, {n}^2, batch 16)",
        )


def ddp_rows(report: BenchReport, steps: int = 10) -> None:
    """Two gloo ranks against one process, both shardings (CPU)."""
    from .ddp_check import max_difference

    with tempfile.TemporaryDirectory() as tmp:
        for shard in ("samples", "levels"):
            r = max_difference(steps, shard, 2, Path(tmp))
            report.rows.append(
                _row(
                    f"DDP 2 gloo ranks vs 1 process, shard={shard}, {steps} steps (per step)",
                    r["ddp_train_seconds"] / steps,
                    r["single_train_seconds"] / steps,
                    steps,
                    "cpu",
                )
            )
            report.notes.append(
                f"DDP shard={shard}: max |parameter difference| after {steps} float64 steps "
                f"{r['max_abs_difference']:.2e} (launch incl. process start "
                f"{r['launch_wall_seconds']:.1f} s)"
            )


_MEMORY_SCRIPT = """
import json, sys, torch
torch.set_num_threads(1)
from fno_conserve import FNO2d, RelLpLoss
from mlmc_ops import MultiLevelData, estimate_level_stats
n, width, modes, n_pilot, chunk = (int(v) for v in sys.argv[1:6])
g = torch.Generator().manual_seed(0)
x = torch.randn(2 * n_pilot, 1, n, n, generator=g)
data = MultiLevelData.from_fine(x, x.tanh(), (n // 2, n), n_samples=(n_pilot, n_pilot))
torch.manual_seed(0)
model = FNO2d(1, 1, modes, width=width, grid="cells", padding=0.125)
loss = RelLpLoss(rule="cells", reduction="none")
estimate_level_stats(model, data, loss, n_pilot=2, chunk_size=min(chunk, 2))  # warm-up
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = status("VmRSS:")
estimate_level_stats(model, data, loss, n_pilot=n_pilot, chunk_size=chunk)
print(json.dumps({"peak_kib": status("VmHWM:") - before,
                  "params": sum(p.numel() for p in model.parameters())}))
"""


def memory_notes(report: BenchReport, quick: bool) -> None:
    """Peak RSS added by ``estimate_level_stats`` per chunk size, in fresh interpreters."""
    if not Path("/proc/self/clear_refs").exists():
        report.notes.append("memory: needs Linux /proc (VmHWM reset); not measured here")
        return
    n, width, modes, n_pilot = (32, 12, 6, 64) if quick else (64, 24, 8, 64)
    for chunk in (8, 64):
        out = subprocess.run(
            [sys.executable, "-c", _MEMORY_SCRIPT, *map(str, (n, width, modes, n_pilot, chunk))],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        if out.returncode != 0:
            report.notes.append(f"memory chunk_size={chunk}: failed: {out.stderr.strip()[-200:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        report.notes.append(
            f"memory: estimate_level_stats, FNO width {width} ({r['params']:,} parameters), "
            f"{n}^2, {n_pilot} pilot samples per level, chunk_size={chunk}: peak RSS "
            f"+{r['peak_kib'] / 1024:.0f} MiB"
        )


def time_to_target(
    report: BenchReport, seed: int, device: str, config: Config | None = None
) -> None:
    """``--full``: single-fine, mlmc-R and mlmc-geom at the full budget (or ``config``'s), one
    learning rate (the largest candidate), evaluated at every sixteenth of the budget."""
    from .config import FULL
    from .data import build
    from .methods import make_run

    fractions = tuple(k / 16 for k in range(1, 17))
    cfg = replace(FULL if config is None else config, fractions=fractions)
    lr = max(cfg.lrs)
    data = build(cfg, seed, ("R",), device)
    runs = {}
    for method in ("single-fine", "mlmc-R", "mlmc-geom"):
        r = make_run(method, lr, seed, cfg, data, cost="measured", device=device)
        r.advance(1.0, fractions, data)
        runs[method] = r
    target = 1.05 * runs["single-fine"].points[-1]["test"]

    def reach(method: str, axis: str) -> float:
        for p in runs[method].points:
            if p["test"] <= target:
                return float(p[axis])
        return math.inf

    for method in ("mlmc-R", "mlmc-geom"):
        report.rows.append(
            _row(
                f"time to e* = {target:.4f} (1.05 x single-fine's final), {method} vs "
                f"single-fine, lr {lr:g}",
                reach(method, "seconds"),
                reach("single-fine", "seconds"),
                1,
                device,
            )
        )
        report.notes.append(
            f"time to target, {method}: units {reach(method, 'cost_units'):.4g} vs single-fine "
            f"{reach('single-fine', 'cost_units'):.4g} (inf: not reached within the budget); "
            f"final test {runs[method].points[-1]['test']:.4f} vs "
            f"{runs['single-fine'].points[-1]['test']:.4f}"
        )


def bench(*, quick: bool, seed: int, device: str = "cpu") -> BenchReport:
    """Run the benchmark rows (see the module docstring) and return them."""
    dev = _device(device)
    report = BenchReport()
    report.rows.append(overhead_row(quick, seed, dev))
    ddp_rows(report)
    memory_notes(report, quick)
    if quick:
        report.notes.append("time to target: --full only (about ten minutes on one thread)")
    else:
        time_to_target(report, seed, str(dev))
    report.notes.append(
        "curriculum peer through neuraloperator's IncrementalDataProcessor: not implemented"
    )
    return report
