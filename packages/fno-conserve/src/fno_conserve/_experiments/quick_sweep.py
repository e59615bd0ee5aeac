"""The sweep behind ``reproduce --quick``'s Burgers settings: which small budget learns.

Run as ``python -m fno_conserve._experiments.quick_sweep --out sweep.json`` (one thread; about
30 CPU minutes for every budget with three seeds; ``--budgets`` runs a subset). Data: Burgers (the
quick case's generator and grid, ``N = 64``), data seed 0, training samples ``0 .. 255``,
validation ``256 .. 319``, test ``320 .. 383`` (the split that ``QUICK`` uses). For every budget
(epochs, batch, width, modes, learning-rate schedule of :func:`~fno_conserve._train.train_model`:
Adam with the cosine schedule to zero unless the budget says ``constant``) every trained
variant (``plain``, ``penalty`` with weight 1, ``projection``, ``adaptive`` with the ``head``
direction) is trained with each learning rate of ``LRS`` on the model seeds ``SELECT_SEEDS``, and
its learning rate is chosen on the **validation** split (mean over those seeds), per variant; only
the chosen runs are evaluated on the test split. ``posthoc`` is the ``plain`` model projected (no
training of its own). The conserved-mean predictor (the constant field with the input's mean,
which every exact variant gets for free) is the reference: a budget *learns* when every variant's
mean validation rel-L2 is at most 0.8 times the reference's; the cheapest that learns (by
training CPU seconds per seed) is chosen. ``confirm_seeds`` optionally trains the chosen budget
with further seeds and reports their test rel-L2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from sciml_core import atomic_write_text

from .._data import Dataset, generate
from .._train import (
    DivergenceError,
    Schedule,
    TrainConfig,
    Variant,
    build_model,
    evaluate,
    train_model,
)

N = 64
TRAIN, VAL, TEST = 256, 64, 64
DATA_SEED = 0


@dataclass(frozen=True)
class Scale:
    """The data of a sweep: grid points and the train / validation / test split sizes."""

    n: int
    train: int
    val: int
    test: int


QUICK_SCALE = Scale(N, TRAIN, VAL, TEST)
"""The quick case's data (``QUICK.burgers``)."""
FULL_SCALE = Scale(128, 1000, 100, 200)
"""The full case's data (``FULL.burgers``: validation ``1000 .. 1099``, test after it)."""
PENALTY_WEIGHT = 1.0
TRAINED: tuple[Variant, ...] = ("plain", "penalty", "projection", "adaptive")
"""The variants trained in the sweep; ``posthoc`` reuses ``plain``."""
LRS: tuple[float, ...] = (3e-3, 1e-2, 3e-2)
"""Learning rates tried per variant (Adam, with the budget's schedule)."""
SELECT_SEEDS: tuple[int, ...] = (0, 1, 2)
"""Model seeds each learning rate is trained with; the rate is chosen on the mean validation error
over them (one seed chose 3e-2 for ``projection``, which left seeds 1 and 2 on the plateau at the
conserved mean)."""
LEARNS = 0.8
"""A budget learns when every variant's validation rel-L2 is <= LEARNS x the reference's."""


@dataclass(frozen=True)
class Budget:
    """One training budget of the sweep (the same for every variant)."""

    name: str
    epochs: int
    batch: int
    width: int
    modes: int
    schedule: Schedule = "cosine"


BUDGETS: tuple[Budget, ...] = (
    Budget("e5-b10-w16-m8", 5, 10, 16, 8),  # the 0.1 quick budget
    Budget("e10-b10-w16-m8", 10, 10, 16, 8),
    Budget("e15-b10-w16-m8", 15, 10, 16, 8),
    Budget("e20-b10-w16-m8", 20, 10, 16, 8),
    Budget("e10-b5-w16-m8", 10, 5, 16, 8),
    Budget("e15-b10-w32-m8", 15, 10, 32, 8),
    Budget("e15-b10-w16-m16", 15, 10, 16, 16),
    # the chosen budget's neighbours at its cost scale: width 32, 16 modes, a constant rate
    Budget("e10-b10-w32-m8", 10, 10, 32, 8),
    Budget("e10-b10-w16-m16", 10, 10, 16, 16),
    Budget("e10-b10-w16-m8-constant", 10, 10, 16, 8, "constant"),
)
FULL_BUDGET = Budget("full-e40-b20-w32-m16", 40, 20, 32, 16)
"""``FULL.burgers``'s budget (the spec's recipe); ``--scale full`` validates its rates."""
FULL_LRS: tuple[float, ...] = (1e-3, 3e-3, 1e-2)
"""Learning rates tried at full scale: the spec's 1e-3 and two larger ones."""
FULL_SELECT_SEEDS: tuple[int, ...] = (0, 1)
"""Model seeds per learning rate at full scale (two: one seed alone chose a plateau before)."""


def _rel(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Mean per-sample relative L2 (uniform weights, as ``RelLpLoss``)."""
    err = (pred - y).flatten(1).norm(dim=1) / y.flatten(1).norm(dim=1)
    return float(err.mean())


def _reference(data: Dataset) -> float:
    """Rel-L2 of the conserved-mean predictor on ``data``."""
    x, y = data["x"], data["y"]
    return _rel(x.mean(dim=-1, keepdim=True).expand_as(y), y)


def _train(
    variant: Variant, budget: Budget, lr: float, seed: int, train: Dataset
) -> tuple[TrainConfig, torch.nn.Module | None, float]:
    """Train one run; returns the config, the model (``None`` if it diverged), CPU seconds."""
    cfg = TrainConfig(
        variant=variant,
        law="mass",
        width=budget.width,
        modes=budget.modes,
        epochs=budget.epochs,
        batch=budget.batch,
        lr=lr,
        penalty_weight=PENALTY_WEIGHT,
        schedule=budget.schedule,
    ).check()
    torch.manual_seed(seed)
    model = build_model(cfg, 1, 1, 1)
    c0 = time.process_time()
    try:
        train_model(model, cfg, train["x"], train["y"], seed=seed, show_progress=False)
    except DivergenceError:
        return cfg, None, time.process_time() - c0
    return cfg, model, time.process_time() - c0


def _score(cfg: TrainConfig, model: torch.nn.Module | None, data: Dataset) -> float:
    if model is None:
        return math.inf
    return float(evaluate(model, cfg, data["x"], data["y"])["rel_l2"])


def _cheapest_learning(summary: list[dict[str, Any]]) -> str | None:
    """The budget that learns at the least training CPU per seed (``None`` if none learns)."""
    learning = [e for e in summary if e["learns"]]
    if not learning:
        return None
    return str(min(learning, key=lambda e: e["train_cpu_s_per_seed"])["budget"])


def sweep(
    budgets: tuple[Budget, ...] = BUDGETS,
    confirm_seeds: tuple[int, ...] = (),
    *,
    select_seeds: tuple[int, ...] = SELECT_SEEDS,
    scale: Scale = QUICK_SCALE,
    lrs: tuple[float, ...] = LRS,
    on_budget: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run the sweep; returns the JSON-serialisable record (rows, choices, the chosen budget).

    ``on_budget`` gets the partial record (``"complete": False``) after every budget, so a run
    stopped early leaves what it measured (the command line writes it to ``--out``).
    """
    t_wall, t_cpu = time.perf_counter(), time.process_time()
    n, n_train, n_val = scale.n, scale.train, scale.val
    train = generate("burgers", n_train, n, seed=DATA_SEED, show_progress=False)
    val = generate("burgers", n_val, n, seed=DATA_SEED, offset=n_train, show_progress=False)
    test = generate(
        "burgers", scale.test, n, seed=DATA_SEED, offset=n_train + n_val, show_progress=False
    )
    for d in (train, val, test):
        d["x"], d["y"] = d["x"].float(), d["y"].float()
    ref_val, ref_test = _reference(val), _reference(test)
    rows: list[dict[str, Any]] = []
    summary: list[dict[str, Any]] = []
    for budget in budgets:
        chosen: dict[str, dict[str, Any]] = {}
        for variant in TRAINED:
            runs = []
            for lr in lrs:
                trained = []
                for seed in select_seeds:
                    cfg, model, cpu = _train(variant, budget, lr, seed, train)
                    v = _score(cfg, model, val)
                    trained.append((cfg, model, cpu))
                    row = {"budget": budget.name, **asdict(budget), "variant": variant, "lr": lr}
                    row |= {"seed": seed, "val_rel_l2": v, "train_cpu_s": round(cpu, 2)}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                mean_val = statistics.fmean(_score(c, m, val) for c, m, _ in trained)
                runs.append((mean_val, lr, trained))
            v, lr, trained = min(runs, key=lambda r: r[0])  # on validation, mean over seeds
            chosen[variant] = {
                "lr": lr,
                "val_rel_l2": v,
                "test_rel_l2": statistics.fmean(_score(c, m, test) for c, m, _ in trained),
                "train_cpu_s": round(statistics.fmean(cpu for _, _, cpu in trained), 2),
            }
            if variant == "plain":
                posts = [
                    (TrainConfig(**(c.to_dict() | {"variant": "posthoc"})).check(), m)
                    for c, m, _ in trained
                ]
                chosen["posthoc"] = {
                    "lr": lr,
                    "val_rel_l2": statistics.fmean(_score(c, m, val) for c, m in posts),
                    "test_rel_l2": statistics.fmean(_score(c, m, test) for c, m in posts),
                    "train_cpu_s": 0.0,
                }
        worst = max(c["val_rel_l2"] for c in chosen.values())
        entry = {
            "budget": budget.name,
            **asdict(budget),
            "chosen": chosen,
            "worst_val_over_reference": worst / ref_val,
            "learns": worst <= LEARNS * ref_val,
            "train_cpu_s_per_seed": round(sum(c["train_cpu_s"] for c in chosen.values()), 2),
        }
        summary.append(entry)
        print(json.dumps(entry), flush=True)
        if on_budget is not None:
            on_budget(
                {"budgets": summary, "chosen_budget": _cheapest_learning(summary)}
                | {"rows": rows, "complete": False}
            )
    name = _cheapest_learning(summary)
    pick = next((e for e in summary if e["budget"] == name), None)
    confirm: list[dict[str, Any]] = []
    if pick is not None:
        budget = next(b for b in budgets if b.name == pick["budget"])
        for seed in confirm_seeds:
            for variant in TRAINED:
                lr = pick["chosen"][variant]["lr"]
                cfg, model, cpu = _train(variant, budget, lr, seed, train)
                row = {"variant": variant, "seed": seed, "lr": lr, "train_cpu_s": round(cpu, 2)}
                row["test_rel_l2"] = _score(cfg, model, test)
                if variant == "plain":
                    post = TrainConfig(**(cfg.to_dict() | {"variant": "posthoc"})).check()
                    confirm.append(
                        {"variant": "posthoc", "seed": seed, "lr": lr, "train_cpu_s": 0.0}
                        | {"test_rel_l2": _score(post, model, test)}
                    )
                confirm.append(row)
                print(json.dumps(row), flush=True)
    return {
        "reference": {"val_rel_l2": ref_val, "test_rel_l2": ref_test},
        "budgets": summary,
        "chosen_budget": None if pick is None else pick["budget"],
        "confirm_other_seeds": confirm,
        "rows": rows,
        "complete": True,
        "meta": {
            "wall_s": round(time.perf_counter() - t_wall, 1),
            "cpu_s": round(time.process_time() - t_cpu, 1),
            "threads": torch.get_num_threads(),
            "load_average_end": os.getloadavg(),
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
    }


def merge_sweeps(records: list[dict[str, Any]]) -> dict[str, Any]:
    """One sweep record from several runs of the same sweep with different learning rates.

    Every record must have the same data, seeds, penalty weight and budgets and be complete;
    the rows are concatenated and, per budget and variant, the chosen learning rate is the one
    with the lowest mean validation rel-L2 over all records (``posthoc`` follows ``plain``), as
    one run over the union of the rates would choose it (each record's chosen entry already holds
    the test error of its best rate).
    """
    if len(records) < 2:
        raise ValueError(f"merge_sweeps: expected at least 2 records, got {len(records)}")
    same = ("n", "train", "val", "test", "data_seed", "penalty_weight", "select_seeds")
    first = records[0]
    for rec in records:
        if not rec.get("complete"):
            raise ValueError("merge_sweeps: every record must be complete")
        for key in same:
            if rec["settings"][key] != first["settings"][key]:
                raise ValueError(f"merge_sweeps: the records differ in settings '{key}'")
        if [b["budget"] for b in rec["budgets"]] != [b["budget"] for b in first["budgets"]]:
            raise ValueError("merge_sweeps: the records hold different budgets")
        if rec["reference"] != first["reference"]:
            raise ValueError("merge_sweeps: the records have different reference errors")
    tried = [lr for rec in records for lr in rec["settings"]["lrs"]]
    if len(set(tried)) != len(tried):
        raise ValueError(f"merge_sweeps: a learning rate was run twice ({sorted(tried)})")
    ref_val = first["reference"]["val_rel_l2"]
    summary = []
    for i, entry in enumerate(first["budgets"]):
        chosen: dict[str, dict[str, Any]] = {}
        for variant in TRAINED:
            candidates: list[dict[str, Any]] = [rec["budgets"][i] for rec in records]
            best = min(candidates, key=lambda b: float(b["chosen"][variant]["val_rel_l2"]))
            chosen[variant] = best["chosen"][variant]
            if variant == "plain":
                chosen["posthoc"] = best["chosen"]["posthoc"]
        worst = max(c["val_rel_l2"] for c in chosen.values())
        summary.append(
            {k: entry[k] for k in ("budget", "name", "epochs", "batch", "width", "modes")}
            | {"schedule": entry.get("schedule", "cosine")}  # older records: cosine only
            | {
                "chosen": chosen,
                "worst_val_over_reference": worst / ref_val,
                "learns": worst <= LEARNS * ref_val,
                "train_cpu_s_per_seed": round(sum(c["train_cpu_s"] for c in chosen.values()), 2),
            }
        )
    lrs = sorted({lr for rec in records for lr in rec["settings"]["lrs"]})
    return {k: v for k, v in first.items() if k not in ("budgets", "rows", "meta")} | {
        "command": "merged: " + " + ".join(rec["command"] for rec in records),
        "commit": " + ".join(rec["commit"] for rec in records),
        "machine": " + ".join(rec["machine"] for rec in records),
        "settings": first["settings"] | {"lrs": lrs},
        "budgets": summary,
        "chosen_budget": _cheapest_learning(summary),
        "confirm_other_seeds": [],
        "rows": [row for rec in records for row in rec["rows"]],
        "complete": True,
        "meta": [rec["meta"] for rec in records],
    }


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", str(Path(__file__).parents[2])],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return out.stdout.strip() + (" (working tree with changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--out FILE.json`` (written atomically after every budget)."""
    parser = argparse.ArgumentParser(
        prog="python -m fno_conserve._experiments.quick_sweep",
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", required=True, type=Path, help="the JSON file to write")
    parser.add_argument("--machine", default="", help="how the machine was loaded (recorded)")
    parser.add_argument(
        "--scale",
        choices=("quick", "full"),
        default="quick",
        help="quick: the quick case's data and BUDGETS; full: FULL.burgers's data and budget "
        "with FULL_LRS (validates the full run's learning rates)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="model seeds per learning rate (default: 3 quick, 2 full)",
    )
    parser.add_argument(
        "--budgets", nargs="*", default=None, help="run only these budgets (default: all)"
    )
    parser.add_argument(
        "--lrs",
        nargs="+",
        type=float,
        default=None,
        help="learning rates to try instead of LRS (quick) or FULL_LRS (full), e.g. to extend a "
        "grid whose best rate lies at its edge",
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        default=None,
        help="merge these sweep records (same sweep, other learning rates) into --out instead "
        "of running a sweep",
    )
    args = parser.parse_args(argv)
    if args.out.suffix != ".json":
        parser.error(f"--out: expected a .json file, got '{args.out}'")
    if args.merge:
        if args.lrs or args.budgets or args.seeds is not None or args.scale != "quick":
            parser.error(
                "--merge: takes no --scale, --lrs, --budgets or --seeds (the records "
                "say what they ran)"
            )
        try:
            merged = merge_sweeps([json.loads(path.read_text()) for path in args.merge])
        except (OSError, ValueError, KeyError) as err:
            parser.error(f"--merge: {err}")
        atomic_write_text(args.out, json.dumps(merged, indent=1))
        print(f"wrote {args.out}")
        return
    if args.budgets:
        unknown = sorted(set(args.budgets) - {b.name for b in BUDGETS})
        if unknown:
            parser.error(
                f"--budgets: unknown {unknown}; expected names of {[b.name for b in BUDGETS]}"
            )
    full = args.scale == "full"
    if full and args.budgets:
        parser.error("--budgets: only with --scale quick (full has one budget)")
    if args.seeds is not None and args.seeds < 1:
        parser.error(f"--seeds: expected an integer >= 1, got {args.seeds}")
    budgets = (
        (FULL_BUDGET,)
        if full
        else tuple(b for b in BUDGETS if not args.budgets or b.name in args.budgets)
    )
    scale = FULL_SCALE if full else QUICK_SCALE
    lrs = tuple(args.lrs) if args.lrs else (FULL_LRS if full else LRS)
    if any(not (math.isfinite(lr) and lr > 0) for lr in lrs):
        parser.error(f"--lrs: expected finite rates > 0, got {list(lrs)}")
    default_seeds = FULL_SELECT_SEEDS if full else SELECT_SEEDS
    select_seeds = default_seeds if args.seeds is None else tuple(range(args.seeds))
    torch.set_num_threads(1)
    head = {
        "what": f"validation sweep behind reproduce --{args.scale}'s Burgers settings; not a "
        "reproduce run (own format)",
        "package": "fno-conserve",
        "command": "python -m fno_conserve._experiments.quick_sweep --out FILE.json"
        + (" --scale full" if full else "")
        + (f" --lrs {' '.join(map(str, lrs))}" if args.lrs else "")
        + (f" --budgets {' '.join(b.name for b in budgets)}" if args.budgets else ""),
        "commit": _commit(),
        "machine": args.machine,
        "note": (__doc__ or "").strip().replace("\n", " "),
        "settings": {
            "n": scale.n,
            "train": scale.train,
            "val": scale.val,
            "test": scale.test,
            "data_seed": DATA_SEED,
            "penalty_weight": PENALTY_WEIGHT,
            "lrs": list(lrs),
            "select_seeds": list(select_seeds),
            "learns_if_val_below_x_reference": LEARNS,
            "schedule": "Adam; cosine to zero over every step unless a budget's 'schedule' says "
            "'constant' (the learning rate throughout)",
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def write(part: dict[str, Any]) -> None:
        atomic_write_text(args.out, json.dumps(head | part, indent=1))

    write(sweep(budgets, select_seeds=select_seeds, scale=scale, lrs=lrs, on_budget=write))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
