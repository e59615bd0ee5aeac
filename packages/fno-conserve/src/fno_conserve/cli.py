"""The ``fno-conserve`` command line: generate-data, train, reproduce, bench.

``reproduce`` and ``bench`` import :mod:`fno_conserve._experiments` inside their command
functions only, so ``import fno_conserve.cli`` never loads the experiments.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Literal, get_args

import torch

from sciml_core import InputError, atomic_write_text, resolve_device
from sciml_core.cli import App, check_output, is_quiet

from .__about__ import __version__
from ._data import DEFAULT_LAW, DIMS, HIERARCHIES, PDES, generate, load_dataset, save_dataset
from ._train import LAWS, TRAIN_DIRECTIONS, VARIANTS

Case = Literal["burgers-mass", "nls-norm", "ns-mean", "all"]
CASES: tuple[Case, ...] = get_args(Case)
"""``reproduce --case``: one registered study (``_experiments.registry.STUDIES``) or all."""

Peer = Literal["neuraloperator"]
PEERS: tuple[Peer, ...] = get_args(Peer)
"""``bench --peer``: the peer library the bench times against."""

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


def run_generate(args: argparse.Namespace) -> int:
    path = check_output(args.output, args.overwrite)
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
    save_dataset(path, data)
    print(f"wrote {path}")
    return 0


def run_train(args: argparse.Namespace) -> int:
    from ._train import TrainConfig, build_model, evaluate, save_trained, train_model

    levels = load_dataset(args.data)
    data = levels[-1]
    meta = data["meta"]
    if meta.get("rollout_steps", 1) != 1:
        raise InputError("data: train needs a one-step dataset (generate-data --rollout-steps 1)")
    law = args.law if args.law is not None else DEFAULT_LAW[meta["pde"]]
    out = Path(args.out)
    existing = [p.name for p in (out / "model.pt", out / "metrics.json") if p.exists()]
    if existing and not args.overwrite:
        raise InputError(
            f"--out {str(out)!r} already holds {', '.join(existing)}; pass --overwrite to "
            "replace them or choose another folder"
        )
    for name in ("val_fraction", "test_fraction"):
        if not 0 <= getattr(args, name) < 1:
            raise InputError(
                f"--{name.replace('_', '-')}: expected a fraction in [0, 1), got "
                f"{getattr(args, name)}"
            )
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
            f"data: {n} samples leave no training set after the validation and test fractions"
        )
    device = resolve_device(args.device)
    torch.manual_seed(args.seed)
    dim, cin, cout = DIMS[meta["pde"]], data["x"].shape[1], data["y"].shape[1]
    model = build_model(cfg, dim, cin, cout).to(device)
    x, y = data["x"].float().to(device), data["y"].float().to(device)
    hist = train_model(
        model, cfg, x[:n_train], y[:n_train], seed=args.seed, show_progress=not is_quiet()
    )
    ev = evaluate(model, cfg, x[n - n_test :], y[n - n_test :])
    out.mkdir(parents=True, exist_ok=True)
    save_trained(
        out / "model.pt",
        model.cpu(),
        cfg,
        dim=dim,
        in_channels=cin,
        out_channels=cout,
        overwrite=True,
    )
    metrics = {
        k: v
        for k, v in ev.items()
        if k not in ("prediction", "rel_l2_per_sample", "cons_per_sample_rel")
    }
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
    print(f"test rel-L2 {ev['rel_l2']:.4g}; wrote {out / 'model.pt'} and {out / 'metrics.json'}")
    return 0


def run_reproduce(args: argparse.Namespace) -> int:
    from ._experiments import reproduce

    start = time.perf_counter()
    path = reproduce(
        args.out,
        quick=args.quick,
        seed=args.seed,
        device=args.device,
        studies=None if args.case == "all" else [args.case],
        show_progress=not args.quiet,
        threads=args.threads,
    )
    print(f"wrote {path} in {time.perf_counter() - start:.1f} s")
    return 0


def run_bench(args: argparse.Namespace) -> int:
    from ._experiments import bench

    bench(
        args.out,
        quick=args.quick,
        seed=args.seed,
        device=args.device,
        peer=args.peer,
        threads=args.threads,
        accuracy=args.accuracy,
    )
    return 0


p = app.add_command(
    "generate-data",
    run_generate,
    help="generate a seeded PDE dataset (.npz)",
    common=("seed", "quiet"),
)
p.add_argument("pde", choices=PDES)
p.add_argument("--n-samples", type=int, required=True)
p.add_argument("--resolution", type=int, default=None)
p.add_argument("--resolutions", type=_int_list, default=None, help="e.g. 32,64,128")
p.add_argument("--hierarchy", choices=HIERARCHIES, default="restrict")
p.add_argument("--rollout-steps", type=int, default=1)
app.add_output_argument(p)

p = app.add_command(
    "train",
    run_train,
    help="train one variant on generate-data's output",
    common=("seed", "device", "out", "quiet"),
)
p.add_argument("data", type=Path)
p.add_argument("--variant", default="adaptive", choices=VARIANTS)
p.add_argument("--law", default=None, choices=LAWS)
p.add_argument("--direction", default=None, choices=TRAIN_DIRECTIONS)
p.add_argument("--penalty-weight", type=float, default=1.0)
p.add_argument("--width", type=int, default=32)
p.add_argument("--modes", type=int, default=16)
p.add_argument("--layers", type=int, default=4)
p.add_argument("--epochs", type=int, default=40)
p.add_argument("--batch", type=int, default=20)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--val-fraction", type=float, default=0.1)
p.add_argument("--test-fraction", type=float, default=0.2)
p.add_argument(
    "--overwrite", action="store_true", help="replace model.pt and metrics.json in --out"
)

p = app.add_reproduce(run_reproduce)
p.add_argument("--case", default="all", choices=CASES)
p.add_argument(
    "--threads",
    type=int,
    default=None,
    help="torch intra-op threads (default: 1 with --quick, torch's default otherwise)",
)
p = app.add_bench(run_bench)
p.add_argument("--peer", default="neuraloperator", choices=PEERS)
p.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
p.add_argument(
    "--accuracy",
    action="store_true",
    help="also train ours and the peer on Burgers and Darcy and compare test rel-L2",
)


def main(argv: list[str] | None = None) -> int:
    """Console entry point ``fno-conserve``."""
    return app.run(argv)


if __name__ == "__main__":
    raise SystemExit(main())
