"""Budget sweep at the quick scale: every method and learning rate, run to ``G`` and evaluated
on the way, to choose the quick run's settings from measurements (not a ``reproduce`` study).

Run as ``python -m mlmc_ops._experiments.budget_sweep OUT.json [--steps N] [--seed S]
[--lrs 1e-3,3e-3] [--methods single-fine,mlmc-R,...]`` (one thread; several minutes). Writes one
JSON object: the configuration, and per method, cost kind, learning rate and budget point the
validation and test error, cost units and training seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from typing import Any

import torch

from sciml_core import atomic_write_text

from .config import METHODS, QUICK, CostKind, Method
from .data import build
from .methods import make_run


def sweep(
    *,
    steps: int,
    seed: int,
    lrs: tuple[float, ...],
    methods: tuple[Method, ...],
    fractions: tuple[float, ...] = (0.125, 0.25, 0.5, 0.75, 1.0),
) -> dict[str, Any]:
    """Run the sweep and return its JSON-ready record."""
    cfg = replace(QUICK, steps=steps, lrs=lrs, fractions=fractions, methods=methods)
    t0 = time.perf_counter()
    data = build(cfg, seed, ("R", "S"), "cpu")
    rows: list[dict[str, Any]] = []
    variants: list[tuple[Method, CostKind]] = []
    for m in methods:
        if m in ("mlmc-R", "mlmc-S"):
            variants += [(m, "measured"), (m, "grid")]
        else:
            variants.append((m, "measured"))
    for method, cost in variants:
        for lr in lrs:
            r = make_run(method, lr, seed, cfg, data, cost=cost, device="cpu")
            r.advance(1.0, fractions, data)
            allocs = [a["batch_sizes"] for a in r.trainer.history.allocations]
            for p in r.points:
                rows.append({"method": method, "cost": cost, "lr": lr, **p, "allocations": allocs})
            last = r.points[-1]
            print(
                f"{method:13s} {cost:8s} lr {lr:g}: test {last['test']:.4f} val {last['val']:.4f} "
                f"{last['seconds']:.1f} s, wall {r.wall:.1f} s, allocations {allocs}",
                flush=True,
            )
    return {
        "config": asdict(cfg),
        "seed": seed,
        "threads": torch.get_num_threads(),
        "wall_s": time.perf_counter() - t0,
        "rows": rows,
    }


def main() -> None:  # pragma: no cover - a script
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=240)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lrs", default="1e-3,3e-3")
    ap.add_argument("--methods", default=",".join(m for m in METHODS if m != "mlmc-geom-sum"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    methods = tuple(m for m in a.methods.split(",") if m)
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise SystemExit(f"--methods: unknown {bad}; known {METHODS}")
    record = sweep(
        steps=a.steps,
        seed=a.seed,
        lrs=tuple(float(v) for v in a.lrs.split(",")),
        methods=methods,
    )
    atomic_write_text(a.out, json.dumps(record, indent=1) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":  # pragma: no cover
    main()
