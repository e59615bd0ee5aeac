"""Command line of mlmc-ops: ``train``, ``allocate``, ``reproduce``, ``bench``.

The experiments and ``fno_conserve`` are imported inside the command functions only, so that
``import mlmc_ops`` (and ``mlmc_ops.cli``) never loads them.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from sciml_core import InputError, atomic_write_text, format_comparisons
from sciml_core.cli import App, wrote

from .__about__ import __version__
from ._allocation import giles_allocation
from ._data import HIERARCHIES
from ._sampler import PAIRINGS

app = App(
    "mlmc-ops",
    version=__version__,
    description="Multilevel Monte Carlo training of neural operators (Rowbottom et al. 2025)",
)


def _numbers(text: str, argument: str, kind: type = float) -> list[Any]:
    try:
        values = [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(
            f"{argument}: expected comma-separated {kind.__name__}s, got {text!r}"
        ) from None
    if not values:
        raise InputError(f"{argument}: expected at least one value, got {text!r}")
    return values


def _allocate(args: argparse.Namespace) -> int:
    v = _numbers(args.variances, "--variances")
    c = _numbers(args.costs, "--costs")
    if args.budget is None and args.target_variance is None:
        raise InputError("--budget, --target-variance: expected one of them")
    alloc = giles_allocation(
        v,
        c,
        budget=args.budget,
        target_variance=args.target_variance,
        min_samples=args.min_samples,
        v_single=args.v_single,
    )
    text = json.dumps(
        {
            "V": v,
            "C": c,
            "n": list(alloc.n),
            "n_int": list(alloc.n_int),
            "variance": alloc.variance,
            "cost": alloc.cost,
            "predicted_speedup": alloc.predicted_speedup,
            "note": "C_l per sample at resolution l; a correction costs C_l + C_(l-1)",
        }
    )
    if args.output is not None:
        atomic_write_text(args.output, text + "\n")
        wrote(args.output)
    else:
        print(text)
    return 0


def _train(args: argparse.Namespace) -> int:
    import torch

    from fno_conserve import FNO2d, RelLpLoss

    from ._data import MultiLevelData
    from ._trainer import MLMCTrainer

    resolutions = _numbers(args.resolutions, "--resolutions", int)
    n_samples = _numbers(args.n_samples, "--n-samples", int)
    if args.steps < 1:
        raise InputError(f"--steps: expected a positive integer, got {args.steps}")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise InputError(f"--lr: expected a positive number, got {args.lr}")
    batch: Any = (
        "giles" if args.batch_sizes == "giles" else _numbers(args.batch_sizes, "--batch-sizes", int)
    )
    if batch != "giles" and len(batch) != len(resolutions):
        raise InputError(
            f"batch_sizes: expected {len(resolutions)} sizes (one per level), got {batch}"
        )
    data = MultiLevelData.generate(
        "darcy",
        n_samples[0] if len(n_samples) == 1 else n_samples,
        resolutions,
        hierarchy=args.hierarchy,
        seed=args.seed,
        show_progress=not args.quiet,
    )
    data = data.map(lambda a: (a - 7.5) / 4.5, lambda u: u / 0.025).to(dtype=torch.float32)
    torch.manual_seed(args.seed)
    model = FNO2d(1, 1, args.modes, width=args.width, grid="cells", padding=0.125)
    loss = RelLpLoss(rule="cells", reduction="none")
    trainer = MLMCTrainer(
        model,
        data,
        loss,
        torch.optim.Adam(model.parameters(), lr=args.lr),
        batch_sizes=batch,
        pairing=args.pairing,
        step_budget=args.step_budget,
        seed=args.seed,
    )
    if args.resume is not None:
        trainer.load(args.resume)
    trainer.fit(steps=args.steps)
    trainer.save(args.output, overwrite=args.overwrite)
    wrote(args.output)
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from ._experiments.reproduce import reproduce

    path = reproduce(Path(args.out), quick=args.quick, seed=args.seed, device=args.device)
    wrote(path)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from ._experiments.bench import bench

    print(format_comparisons(bench(quick=args.quick, seed=args.seed, device=args.device)))
    return 0


p = app.add_command(
    "allocate", _allocate, help="Giles' samples per level from variances and costs", common=()
)
p.add_argument("--variances", required=True, help="V_0,...,V_L (level-term variances)")
p.add_argument("--costs", required=True, help="C_0,...,C_L (cost per sample at each resolution)")
g = p.add_mutually_exclusive_group()
g.add_argument("--budget", type=float, help="cost per step")
g.add_argument("--target-variance", type=float, help="variance of the gradient estimate")
p.add_argument("--min-samples", type=int, default=1, help="floor per level (default: 1)")
p.add_argument("--v-single", type=float, help="V_SL, for the predicted speed-up")
app.add_output_argument(p, required=False, suffixes=(".json",))

p = app.add_command(
    "train",
    _train,
    help="MLMC training of an FNO on Darcy data; writes a checkpoint",
    common=("seed", "quiet"),
)
p.add_argument("--resolutions", default="16,32", help="n_0,...,n_L (default: 16,32)")
p.add_argument("--n-samples", default="400,100", help="N_0,...,N_L or one shared pool size")
p.add_argument("--hierarchy", choices=HIERARCHIES, default="restrict")
p.add_argument("--pairing", choices=PAIRINGS, default="disjoint")
p.add_argument("--batch-sizes", default="32,8", help="b_0,...,b_L or 'giles'")
p.add_argument("--step-budget", type=float, help="cost units per step (with 'giles')")
p.add_argument("--steps", type=int, default=100)
p.add_argument("--lr", type=float, default=3e-3)
p.add_argument("--width", type=int, default=12)
p.add_argument("--modes", type=int, default=6)
p.add_argument("--resume", type=Path, help="checkpoint to resume from")
app.add_output_argument(p, required=True, suffixes=(".pt",))

app.add_reproduce(_reproduce)
app.add_bench(_bench)


def main(argv: list[str] | None = None) -> int:
    return app.run(argv)
