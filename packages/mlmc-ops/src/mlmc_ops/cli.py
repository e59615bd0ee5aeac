"""Command line of mlmc-ops: ``train``, ``variance``, ``allocate``, ``reproduce``, ``bench``.

The experiments and ``fno_conserve`` are imported inside the command functions only, so that
``import mlmc_ops`` (and ``mlmc_ops.cli``) never loads them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sciml_core import InputError, atomic_write_text, format_comparisons
from sciml_core.cli import App, wrote

from .__about__ import __version__
from ._allocation import giles_allocation
from ._choices import COST_KINDS, HIERARCHY_CHOICES
from ._data import HIERARCHIES
from ._distributed import SHARDS
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
    from ._cli_train import TRAIN_DEFAULTS, read_config, resolve_settings, run_training

    config = {} if args.config is None else read_config(args.config)
    given = {k: getattr(args, k) for k in TRAIN_DEFAULTS}
    settings = resolve_settings(given, config)
    run_training(settings, resume=args.resume, output=args.output, overwrite=args.overwrite)
    wrote(args.output)
    return 0


def _variance(args: argparse.Namespace) -> int:
    from ._cli_train import variance_report

    if args.n_pilot < 2:
        raise InputError(f"--n-pilot: expected an integer >= 2, got {args.n_pilot}")
    for flag, value in (("--width", args.width), ("--modes", args.modes)):
        if value < 1:
            raise InputError(f"{flag}: expected a positive integer, got {value}")
    report = variance_report(
        resolutions=_numbers(args.resolutions, "--resolutions", int),
        hierarchy=args.hierarchy,
        n_pilot=args.n_pilot,
        seed=args.seed,
        width=args.width,
        modes=args.modes,
        checkpoint=args.checkpoint,
    )
    text = json.dumps(report, indent=1)
    if args.output is not None:
        atomic_write_text(args.output, text + "\n")
        wrote(args.output)
    else:
        print(text)
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from ._experiments.reproduce import reproduce

    if args.nproc < 1:
        raise InputError(f"--nproc: expected a positive integer, got {args.nproc}")
    path = reproduce(
        Path(args.out),
        quick=args.quick,
        seed=args.seed,
        device=args.device,
        hierarchy=args.hierarchy,
        cost=args.cost,
        nproc=args.nproc,
        authors_sum=args.authors_sum,
        methods=None if args.methods is None else _methods(args.methods),
    )
    wrote(path)
    return 0


def _methods(text: str) -> list[str]:
    from ._experiments.config import METHODS

    if text == "all":
        return [m for m in METHODS if m != "mlmc-geom-sum"]
    return [m.strip() for m in text.split(",") if m.strip()]


def _bench(args: argparse.Namespace) -> int:
    from ._experiments.bench import bench

    report = bench(quick=args.quick, seed=args.seed, device=args.device)
    text = "\n".join([format_comparisons(report.rows), "", *report.notes])
    print(text)
    out = Path(args.out)
    atomic_write_text(out / "bench.txt", text + "\n")
    wrote(out / "bench.txt")
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
    common=("quiet",),
)
p.add_argument(
    "--config",
    type=Path,
    metavar="FILE",
    help="a .json or .toml file with any of the settings below (keys as the flags, with "
    "underscores); flags given on the command line win (default: none)",
)
p.add_argument("--resolutions", help="n_0,...,n_L (default: 16,32)")
p.add_argument("--n-samples", help="N_0,...,N_L, or one shared pool size (default: 400,100)")
p.add_argument("--hierarchy", choices=HIERARCHIES, help="(default: restrict)")
p.add_argument("--pairing", choices=PAIRINGS, help="(default: disjoint)")
p.add_argument("--batch-sizes", help="b_0,...,b_L or 'giles' (default: 32,8)")
p.add_argument(
    "--step-budget", type=float, help="cost units per step, with 'giles' (default: none)"
)
p.add_argument("--steps", type=int, help="optimiser steps in total (default: 100)")
p.add_argument("--lr", type=float, help="Adam learning rate (default: 0.003)")
p.add_argument("--width", type=int, help="FNO width (default: 12)")
p.add_argument("--modes", type=int, help="FNO Fourier modes (default: 6)")
p.add_argument("--seed", type=int, metavar="INT", help="data, model and sampler seed (default: 0)")
p.add_argument(
    "--nproc",
    type=int,
    help="train on N torch.distributed gloo processes of this machine; the gradients equal "
    "one process's (default: 1)",
)
p.add_argument("--shard", choices=SHARDS, help="how --nproc ranks split a step (default: samples)")
p.add_argument("--resume", type=Path, help="checkpoint to resume from (default: none)")
app.add_output_argument(p, required=True, suffixes=(".pt",))

p = app.add_command(
    "variance",
    _variance,
    help="pilot level variances V_l, coarse-only bias and costs of an FNO on Darcy level sets",
    common=("seed", "quiet"),
)
p.add_argument("--pde", choices=("darcy",), default="darcy", help="(default: darcy)")
p.add_argument("--resolutions", default="16,32,64", help="n_0,...,n_L (default: 16,32,64)")
p.add_argument("--hierarchy", choices=HIERARCHIES, default="restrict", help="(default: restrict)")
p.add_argument(
    "--checkpoint",
    type=Path,
    metavar="FILE",
    help="a checkpoint of mlmc-ops train (its FNO; default: a fresh FNO from --seed)",
)
p.add_argument("--n-pilot", type=int, default=64, help="samples per level (default: 64)")
p.add_argument("--width", type=int, default=12, help="FNO width without --checkpoint (default: 12)")
p.add_argument("--modes", type=int, default=6, help="FNO modes without --checkpoint (default: 6)")
app.add_output_argument(p, required=False, suffixes=(".json",))

p = app.add_reproduce(
    _reproduce,
    quick_help="Darcy 32^2, two levels, single-fine, mlmc-R and coarse-only at a 120-step "
    "budget, one thread (measured 52 s at load 2 and 3.6 min at load 10 on a shared 2-core "
    "machine; default: --full)",
)
p.add_argument(
    "--hierarchy",
    choices=HIERARCHY_CHOICES,
    default="both",
    help="train mlmc-R (restrict), mlmc-S (resolve) or both (default: both)",
)
p.add_argument(
    "--cost",
    choices=COST_KINDS,
    help="costs of Giles' allocation: measured seconds or grid points (default: grid for "
    "--quick, so the same seed gives the same numbers; measured for --full, the spec's CPU "
    "default)",
)
p.add_argument(
    "--nproc",
    type=int,
    default=1,
    help="2 or more: re-run mlmc-R's first five steps on N gloo processes and record the "
    "difference to one process (default: 1)",
)
p.add_argument(
    "--methods",
    metavar="M1,M2|all",
    help="Darcy methods to train: single-fine, mlmc-R, mlmc-geom, mlmc-S, coarse-only, "
    "curriculum, or all (single-fine always runs; default: --quick single-fine,mlmc-R,"
    "coarse-only; --full all)",
)
p.add_argument(
    "--authors-sum",
    action="store_true",
    help="also run the authors' schedule with their sum reduction (default: off)",
)
app.add_bench(_bench)


def main(argv: list[str] | None = None) -> int:
    return app.run(argv)
