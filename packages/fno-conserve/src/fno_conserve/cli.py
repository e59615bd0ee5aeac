"""The ``fno-conserve`` command line: generate-data, train, reproduce, bench.

``reproduce`` and ``bench`` import :mod:`fno_conserve._experiments` inside their command
functions only, so ``import fno_conserve.cli`` never loads the experiments.

Every command refuses bad input with one line ``fno-conserve: error: ...`` naming the flag or
argument, exit status 2, before any work and without leaving an output file behind; on success
it prints one line ``wrote PATH`` on stdout (progress bars and summaries go to stderr).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, Literal, get_args

import torch

from sciml_core import InputError, atomic_write_text, resolve_device
from sciml_core.cli import App, is_quiet, wrote

from .__about__ import __version__
from ._data import (
    DEFAULT_LAW,
    DIMS,
    HIERARCHIES,
    PDES,
    Dataset,
    generate,
    load_dataset,
    save_dataset,
)
from ._train import LAWS, TRAIN_DIRECTIONS, VARIANTS, DivergenceError

Case = Literal["burgers-mass", "nls-norm", "ns-mean", "all"]
CASES: tuple[Case, ...] = get_args(Case)
"""``reproduce --case``: one registered study (``_experiments.registry.STUDIES``) or all."""

Peer = Literal["neuraloperator"]
PEERS: tuple[Peer, ...] = get_args(Peer)
"""``bench --peer``: the peer library the bench times against."""

MIN_RESOLUTION = 4
"""The coarsest grid :func:`~fno_conserve.generate` accepts."""

app = App(
    "fno-conserve",
    version=__version__,
    description="Fourier Neural Operators whose outputs conserve linear and quadratic laws "
    "exactly.",
)


def _int_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas, got {text!r}"
        ) from None


def _at_least(args: argparse.Namespace, low: int, *names: str) -> None:
    """Refuse an integer flag below ``low``, naming the flag."""
    for name in names:
        value = getattr(args, name)
        if value is not None and value < low:
            raise InputError(
                f"--{name.replace('_', '-')}: expected an integer >= {low}, got {value}"
            )


def _finite(
    args: argparse.Namespace, name: str, low: float, *, open_high: float | None = None
) -> None:
    """Refuse a float flag that is NaN, infinite, below ``low`` (or not below ``open_high``)."""
    value = getattr(args, name)
    flag = f"--{name.replace('_', '-')}"
    if not math.isfinite(value) or value < low or (open_high is not None and value >= open_high):
        wanted = f"in [{low:g}, {open_high:g})" if open_high is not None else f">= {low:g}"
        raise InputError(f"{flag}: expected a finite number {wanted}, got {value}")


def run_generate(args: argparse.Namespace) -> int:
    _at_least(args, 1, "n_samples", "rollout_steps")
    _at_least(args, MIN_RESOLUTION, "resolution")
    if args.resolutions is not None:
        if not args.resolutions or min(args.resolutions) < MIN_RESOLUTION:
            raise InputError(
                f"--resolutions: expected grid sizes >= {MIN_RESOLUTION}, got {args.resolutions}"
            )
        fine = max(args.resolutions)
        if args.resolution is not None and args.resolution != fine:
            raise InputError(
                f"--resolution: expected the finest of --resolutions ({fine}), "
                f"got {args.resolution}"
            )
        if args.hierarchy == "restrict" and any(fine % n for n in args.resolutions):
            raise InputError(
                f"--resolutions: with --hierarchy restrict every grid must divide the finest "
                f"({fine}), got {args.resolutions}"
            )
    if args.pde == "darcy" and args.rollout_steps != 1:
        raise InputError(
            f"--rollout-steps: Darcy is stationary, expected 1, got {args.rollout_steps}"
        )
    resolution = max(args.resolutions) if args.resolutions else args.resolution
    if resolution is None:
        raise InputError("--resolution: expected a grid size (or --resolutions), got none")
    data = generate(
        args.pde,
        args.n_samples,
        resolution,
        seed=args.seed,
        resolutions=args.resolutions,
        hierarchy=args.hierarchy,
        rollout_steps=args.rollout_steps,
        show_progress=not is_quiet(),
    )
    save_dataset(args.output, data)
    wrote(args.output)
    return 0


def _check_train_flags(args: argparse.Namespace) -> None:
    """Every numeric flag of ``train``, named when refused (before the data is read)."""
    _at_least(args, 1, "width", "modes", "layers", "epochs", "batch")
    for name in ("val_fraction", "test_fraction"):
        _finite(args, name, 0.0, open_high=1.0)
    _finite(args, "penalty_weight", 0.0)
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise InputError(f"--lr: expected a finite learning rate > 0, got {args.lr}")


def _check_finite_data(args: argparse.Namespace, level: int, data: Dataset) -> None:
    """Refuse NaN or inf anywhere in the inputs or targets, naming the file, array and count."""
    for key, role, values in (("x", "inputs", data["x"]), ("y", "targets", data["y"])):
        bad = int((~torch.isfinite(values)).sum())
        if bad:
            raise InputError(
                f"data: {str(args.data)!r} holds {bad} non-finite value(s) (NaN or inf) among the "
                f"{values.numel()} {role} in array '{key}_{level}'; training needs finite data"
            )


def run_train(args: argparse.Namespace) -> int:
    from ._train import TrainConfig, build_model, evaluate, save_trained, train_model

    _check_train_flags(args)
    out = Path(args.out)
    existing = [p.name for p in (out / "model.pt", out / "metrics.json") if p.exists()]
    if existing and not args.overwrite:
        raise InputError(
            f"--out {str(out)!r} already holds {', '.join(existing)}; pass --overwrite to "
            "replace them or choose another folder"
        )
    levels = load_dataset(args.data, argument="data")
    data = levels[-1]
    meta = data["meta"]
    if meta.get("rollout_steps", 1) != 1:
        raise InputError("data: train needs a one-step dataset (generate-data --rollout-steps 1)")
    _check_finite_data(args, len(levels) - 1, data)
    law = args.law if args.law is not None else DEFAULT_LAW[meta["pde"]]
    cfg = TrainConfig(
        variant=args.variant,
        law=law,
        direction=args.direction,
        penalty_weight=args.penalty_weight,
        width=args.width,
        modes=args.modes,
        layers=args.layers,
        epochs=args.epochs,
        batch=args.batch,
        lr=args.lr,
        rule=meta["rule"],
        lengths=meta["lengths"],
    ).check()
    n = data["x"].shape[0]
    n_test = max(1, round(args.test_fraction * n))
    n_val = round(args.val_fraction * n)
    n_train = n - n_test - n_val
    if n_train < 1:
        raise InputError(
            f"data: {n} samples leave no training set after --val-fraction and --test-fraction"
        )
    device = resolve_device(args.device)
    torch.manual_seed(args.seed)
    dim, cin, cout = DIMS[meta["pde"]], data["x"].shape[1], data["y"].shape[1]
    model = build_model(cfg, dim, cin, cout).to(device)
    x, y = data["x"].float().to(device), data["y"].float().to(device)
    try:
        hist = train_model(
            model, cfg, x[:n_train], y[:n_train], seed=args.seed, show_progress=not is_quiet()
        )
    except DivergenceError as err:
        raise DivergenceError(
            f"--lr {args.lr:g}: {err}; nothing was saved",
            epoch=err.epoch,
            step=err.step,
            loss=err.loss,
        ) from None
    ev = evaluate(model, cfg, x[n - n_test :], y[n - n_test :])
    summary = {k: v for k, v in ev.items() if isinstance(v, float)}
    if not all(math.isfinite(v) for v in summary.values()):
        raise InputError(
            f"--lr {args.lr:g}: the trained model's test metrics are not finite ({summary}); "
            "nothing was saved. Try a smaller learning rate"
        )
    save_trained(
        out / "model.pt",
        model.cpu(),
        cfg,
        dim=dim,
        in_channels=cin,
        out_channels=cout,
        overwrite=True,
    )
    metrics: dict[str, Any] = dict(summary)
    metrics |= {
        "train_seconds": hist["train_seconds"],
        "final_train_loss": hist["loss"][-1],
        "seed": args.seed,
        "device": str(device),
        "n_train": n_train,
        "n_val": n_val,
        "n_test": n_test,
        "config": cfg.to_dict(),
        "data": meta,
        "version": __version__,
    }
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2))
    if not is_quiet():
        cons = (
            f", max relative conservation error {ev['cons_max_rel']:.3g}"
            if "cons_max_rel" in ev
            else ""
        )
        print(f"test rel-L2 {ev['rel_l2']:.4g}{cons} (float32)", file=sys.stderr)
    wrote(out)
    return 0


def run_reproduce(args: argparse.Namespace) -> int:
    from ._experiments.reproduce import reproduce

    _at_least(args, 1, "threads")
    path = reproduce(
        args.out,
        quick=args.quick,
        seed=args.seed,
        device=args.device,
        studies=None if args.case == "all" else [args.case],
        show_progress=not args.quiet,
        threads=args.threads,
    )
    wrote(path)
    return 0


def run_bench(args: argparse.Namespace) -> int:
    from ._experiments.bench import bench

    _at_least(args, 1, "threads")
    bench(
        args.out,
        quick=args.quick,
        seed=args.seed,
        device=args.device,
        peer=args.peer,
        threads=args.threads,
        accuracy=args.accuracy,
        show_progress=not args.quiet,
    )
    wrote(Path(args.out) / "bench.json")
    return 0


p = app.add_command(
    "generate-data",
    run_generate,
    help="generate a seeded PDE dataset (.npz)",
    common=("seed", "quiet"),
)
p.add_argument("pde", choices=PDES, help="the PDE to solve")
p.add_argument(
    "--n-samples", type=int, required=True, metavar="N", help="number of samples (required)"
)
p.add_argument(
    "--resolution",
    type=int,
    default=None,
    metavar="N",
    help=f"grid points per axis, >= {MIN_RESOLUTION} (default: the largest of --resolutions; "
    "one of the two is needed)",
)
p.add_argument(
    "--resolutions",
    type=_int_list,
    default=None,
    metavar="N,N,...",
    help="several grids of the same samples, e.g. 32,64,128 (default: only --resolution)",
)
p.add_argument(
    "--hierarchy",
    choices=HIERARCHIES,
    default="restrict",
    help="coarser levels: restrict the finest solution, or solve again on each grid "
    "(default: %(default)s)",
)
p.add_argument(
    "--rollout-steps",
    type=int,
    default=1,
    metavar="K",
    help="store the states at T, 2T, ..., KT as targets (default: %(default)s)",
)
app.add_output_argument(p, suffixes=(".npz",))

p = app.add_command(
    "train",
    run_train,
    help="train one variant on generate-data's output; writes model.pt and metrics.json",
    common=("seed", "device", "out", "quiet"),
)
p.add_argument("data", type=Path, help="a dataset written by fno-conserve generate-data (.npz)")
p.add_argument(
    "--variant", default="adaptive", choices=VARIANTS, help="what to train (default: %(default)s)"
)
p.add_argument(
    "--law",
    default=None,
    choices=LAWS,
    help="conservation law (default: the PDE's own: mass for burgers, heat, advection; norm for "
    "nls; mean-zero for navier-stokes; none for darcy)",
)
p.add_argument(
    "--direction",
    default=None,
    choices=TRAIN_DIRECTIONS,
    help="where the adaptive correction's direction comes from (default: head, the FNO's extra "
    "output channel)",
)
p.add_argument(
    "--penalty-weight",
    type=float,
    default=1.0,
    metavar="W",
    help="weight of the soft penalty (variant penalty), finite >= 0 (default: %(default)s)",
)
p.add_argument(
    "--width", type=int, default=32, help="channels of the Fourier layers (default: %(default)s)"
)
p.add_argument(
    "--modes", type=int, default=16, help="Fourier modes kept per axis (default: %(default)s)"
)
p.add_argument("--layers", type=int, default=4, help="Fourier layers (default: %(default)s)")
p.add_argument("--epochs", type=int, default=40, help="training epochs (default: %(default)s)")
p.add_argument("--batch", type=int, default=20, help="mini-batch size (default: %(default)s)")
p.add_argument(
    "--lr",
    type=float,
    default=1e-3,
    help="Adam learning rate (cosine schedule), finite > 0 (default: %(default)s)",
)
p.add_argument(
    "--val-fraction",
    type=float,
    default=0.1,
    metavar="F",
    help="fraction of the samples held out for validation, in [0, 1) (default: %(default)s)",
)
p.add_argument(
    "--test-fraction",
    type=float,
    default=0.2,
    metavar="F",
    help="fraction of the samples held out for the test metrics, in [0, 1) (default: %(default)s)",
)
p.add_argument(
    "--overwrite",
    action="store_true",
    help="replace model.pt and metrics.json in --out (default: refuse)",
)

p = app.add_reproduce(run_reproduce)
p.add_argument(
    "--case",
    default="all",
    choices=CASES,
    help="run one case only; ns-mean runs with --full only (default: %(default)s)",
)
p.add_argument(
    "--threads",
    type=int,
    default=None,
    help="torch intra-op threads (default: 1 with --quick, torch's default otherwise)",
)
p = app.add_bench(run_bench)
p.add_argument(
    "--peer", default="neuraloperator", choices=PEERS, help="peer library (default: %(default)s)"
)
p.add_argument(
    "--threads", type=int, default=2, help="torch intra-op threads (default: %(default)s)"
)
p.add_argument(
    "--accuracy",
    action="store_true",
    help="also train ours and the peer on Burgers and Darcy and compare test rel-L2 (default: off)",
)


def main(argv: list[str] | None = None) -> int:
    """Console entry point ``fno-conserve``."""
    return app.run(argv)


if __name__ == "__main__":
    raise SystemExit(main())
