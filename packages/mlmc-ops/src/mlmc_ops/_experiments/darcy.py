"""Darcy study: pilots (R and S), every method at equal cost units, the Pareto curves.

Test error is the relative L2 error at the finest grid on held-out samples shared by every
method; every method gets the same cost-unit budget ``G`` and its learning rate chosen on
validation the same way (:mod:`.methods`). Claims read the measured values by key
``(method, seed, fraction)``.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from .._stats import LevelStats, estimate_level_stats
from .config import Method
from .context import Context
from .data import DarcyData, build, make_loss, make_model
from .figures import pareto_figures
from .methods import Run, run_selected

Key = tuple[str, int, float]


def methods_of(ctx: Context) -> list[Method]:
    """The methods this run trains, after ``--hierarchy`` and ``--authors-sum``."""
    out: list[Method] = []
    for m in ctx.config.methods if ctx.methods is None else ctx.methods:
        if m == "mlmc-R" and ctx.hierarchy == "resolve":
            continue
        if m == "mlmc-S" and ctx.hierarchy == "restrict":
            continue
        out.append(m)
        if m == "mlmc-geom" and ctx.authors_sum:
            out.append("mlmc-geom-sum")
    return out


def _pilot_row(h: str, state: str, st: LevelStats) -> list[Any]:
    return [h, state, st.V_single, *st.V, st.V[-1] / st.V_single, st.bias[0], *st.cost_seconds]


def _reach(run: Run, target: float, axis: str) -> float | None:
    """First ``axis`` value (cost units or seconds) at which ``run``'s test error <= target."""
    for p in run.points:
        if p["test"] <= target:
            return float(p[axis])
    return None


def run(ctx: Context) -> None:
    """Data, pilots, every method, tables, figures and claims."""
    cfg = ctx.config
    # R's fine pool is every single-level method's data; S only when mlmc-S runs
    hs = ("R", "S") if "mlmc-S" in methods_of(ctx) else ("R",)
    t0 = time.perf_counter()
    data = build(cfg, ctx.seed, hs, ctx.device)
    data_wall = time.perf_counter() - t0
    loss = make_loss()
    test_y = data.test[1]
    mean_pred = float(loss(data.y.mean(0, keepdim=True).expand_as(test_y), test_y).mean())

    pilots: list[list[Any]] = []
    stats: dict[tuple[str, str], LevelStats] = {}
    t0 = time.perf_counter()
    init = make_model(cfg, ctx.seed, ctx.device)
    for h in ("R", "S"):
        st = estimate_level_stats(init, data.pilot[h], loss, n_pilot=cfg.n_pilot, seed=ctx.seed)
        stats[h, "init"] = st
        pilots.append(_pilot_row(h, "initialisation", st))
    pilot_wall = time.perf_counter() - t0

    runs: dict[tuple[str, int], Run] = {}
    selection: list[list[Any]] = []
    budget_rows: list[list[Any]] = [
        ["data generation", "", data_wall],
        ["pilots at initialisation", "", pilot_wall],
    ]
    for method in methods_of(ctx):
        t0 = time.perf_counter()
        r, cand = run_selected(method, ctx.seed, cfg, data, cost=ctx.cost, device=ctx.device)
        runs[method, ctx.seed] = r
        for c in cand:
            selection.append([method, c["lr"], c["val"], c["test"], c["chosen"]])
        budget_rows.append([method, ctx.seed, time.perf_counter() - t0])
        if method in cfg.second_seed:
            t0 = time.perf_counter()
            r2, _ = run_selected(
                method, ctx.seed + 1, cfg, data, cost=ctx.cost, device=ctx.device, lr=r.lr
            )
            runs[method, ctx.seed + 1] = r2
            budget_rows.append([method, ctx.seed + 1, time.perf_counter() - t0])

    trained = runs["single-fine", ctx.seed].trainer.model
    t0 = time.perf_counter()
    for h in ("R", "S"):
        st = estimate_level_stats(trained, data.pilot[h], loss, n_pilot=cfg.n_pilot, seed=ctx.seed)
        stats[h, "trained"] = st
        pilots.append(_pilot_row(h, "trained single-fine", st))
    budget_rows.append(["pilots on trained single-fine", "", time.perf_counter() - t0])
    if ctx.nproc > 1 and ("mlmc-R", ctx.seed) in runs:
        from .ddp_check import darcy_ddp_difference

        t0 = time.perf_counter()
        ddp = darcy_ddp_difference(
            cfg, runs["mlmc-R", ctx.seed], data, ctx.seed, ctx.nproc, ctx.out_dir
        )
        budget_rows.append([f"DDP check ({ctx.nproc} gloo ranks)", "", time.perf_counter() - t0])
    else:
        ddp = None

    _tables(ctx, data, runs, selection, pilots, budget_rows, mean_pred)
    pareto_figures(ctx, runs, stats)
    _claims(ctx, runs, stats, mean_pred, ddp)


def _tables(
    ctx: Context,
    data: DarcyData,
    runs: dict[tuple[str, int], Run],
    selection: list[list[Any]],
    pilots: list[list[Any]],
    budget_rows: list[list[Any]],
    mean_pred: float,
) -> None:
    cfg = ctx.config
    fine = cfg.resolutions[-1]
    budget = next(iter(runs.values())).budget
    rows = []
    for (method, seed), r in runs.items():
        for p in r.points:
            rows.append(
                [
                    method,
                    seed,
                    r.lr,
                    p["fraction"],
                    p["test"],
                    p["val"],
                    p["cost_units"],
                    p["seconds"],
                    p["steps"],
                ]
            )
    res = ctx.result
    res.add_table(
        "runs",
        f"Darcy at {fine}^2: test relative L2 at fractions f of the budget G = {budget:.4g} grid "
        f"units ({cfg.steps} single-fine steps of {cfg.batch}; FFT logs and per-call overheads "
        "ignored), training seconds measured beside (evaluation excluded); one run per method "
        "and seed, evaluated on its way",
        [
            "method",
            "seed",
            "lr",
            "f",
            "test_rel_l2",
            "val_rel_l2",
            "cost_units",
            "train_seconds",
            "steps",
        ],
        rows,
    )
    summary = []
    for method in dict.fromkeys(m for m, _ in runs):
        errs = [r.at(1.0)["test"] for (m, _), r in runs.items() if m == method]
        secs = [r.at(1.0)["seconds"] for (m, _), r in runs.items() if m == method]
        units = [r.at(1.0)["cost_units"] for (m, _), r in runs.items() if m == method]
        summary.append(
            [
                method,
                len(errs),
                statistics.fmean(errs),
                statistics.stdev(errs) if len(errs) > 1 else None,
                statistics.fmean(units),
                statistics.fmean(secs),
            ]
        )
    res.add_table(
        "methods",
        f"Darcy at {fine}^2, f = 1 (equal cost units); mean (and std over seeds where > 1); "
        f"mean predictor {mean_pred:.4f}",
        ["method", "seeds", "test_rel_l2", "test_std", "cost_units", "train_seconds"],
        summary,
    )
    res.add_table(
        "lr_selection",
        f"Learning rate of every method chosen on validation ({cfg.n_val} samples) at "
        f"f = {cfg.fractions[0]}, the same way for every method (one candidate: no choice)",
        ["method", "lr", "val_rel_l2", "test_rel_l2", "chosen"],
        selection,
    )
    n_lev = len(cfg.resolutions)
    res.add_table(
        "pilots",
        "Pilot level statistics (V: trace of gradient covariance; bias of the coarsest level "
        f"alone; C: measured seconds per sample; {cfg.n_pilot} samples per level: orders of "
        "magnitude only)",
        [
            "hierarchy",
            "state",
            "V_single",
            *[f"V_{j}" for j in range(n_lev)],
            "V_L/V_single",
            "bias_coarsest",
            *[f"C_{j}_seconds" for j in range(n_lev)],
        ],
        pilots,
    )
    alloc_rows = []
    for (method, seed), r in runs.items():
        for a in r.trainer.history.allocations:
            alloc_rows.append(
                [
                    method,
                    seed,
                    a["step"],
                    a["reason"],
                    list(a["batch_sizes"]),
                    a.get("predicted_speedup"),
                ]
            )
    res.add_table(
        "allocations",
        "Every batch-size allocation the MLMC runs used (step it took effect; Giles: predicted "
        "per-gradient speed-up in the costs it used)",
        ["method", "seed", "step", "reason", "batch_sizes", "predicted_speedup"],
        alloc_rows,
    )
    gap_rows = []
    for (method, seed), r in runs.items():
        gaps = r.trainer.history.gaps
        if gaps and gaps[0]:
            tail = gaps[-max(1, len(gaps) // 10) :]
            head = gaps[: max(1, len(gaps) // 10)]
            for j in range(len(gaps[0])):
                gap_rows.append(
                    [
                        method,
                        seed,
                        j + 1,
                        statistics.fmean(g[j] for g in head),
                        statistics.fmean(g[j] for g in tail),
                    ]
                )
    res.add_table(
        "gaps",
        "Finite-set warning (spec 2.6): mean over the first and last 10 % of steps of "
        "mean_{S_l} l_{l-1} - mean_{S_{l-1}} l_{l-1}; a growing positive gap would mean the "
        "corrections are lowered by raising coarse losses on their own samples",
        ["method", "seed", "level", "gap_first_10pct", "gap_last_10pct"],
        gap_rows,
    )
    res.add_table(
        "budget",
        "Wall seconds of each part of this run (training runs include learning-rate selection, "
        "pilots of the Giles re-allocations and evaluations); data generation per hierarchy: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in data.seconds.items()),
        ["part", "seed", "wall_seconds"],
        budget_rows,
    )


def _claims(
    ctx: Context,
    runs: dict[tuple[str, int], Run],
    stats: dict[tuple[str, str], LevelStats],
    mean_pred: float,
    ddp: dict[str, Any] | None,
) -> None:
    cfg = ctx.config
    res = ctx.result
    values: dict[Key, float] = {
        (m, s, p["fraction"]): p["test"] for (m, s), r in runs.items() for p in r.points
    }
    seed = ctx.seed
    final = {m: v for (m, s, f), v in values.items() if s == seed and f == 1.0}
    res.add_claim(
        "every trained model beats the mean predictor",
        expected=f"test error < mean predictor's {mean_pred:.3f}",
        observed={k: round(v, 4) for k, v in final.items()},
        holds=all(v < mean_pred for v in final.values()),
    )
    r_tr, s_tr = stats["R", "trained"], stats["S", "trained"]
    res.add_claim(
        "coarse-only gradient bias > 10 % on the trained single-fine model (R and S)",
        expected="> 0.10",
        observed=f"R {r_tr.bias[0]:.3f}, S {s_tr.bias[0]:.3f}",
        holds=r_tr.bias[0] > 0.1 and s_tr.bias[0] > 0.1,
    )
    ratio = r_tr.V[-1] / r_tr.V_single
    limit = 1.0 if cfg.mode == "quick" else 0.05
    res.add_claim(
        f"finest correction variance V_L/V_SL < {limit} under R, trained model",
        expected=f"< {limit}",
        observed=round(ratio, 4),
        holds=ratio < limit,
    )
    pairs = list(zip(s_tr.V[1:], r_tr.V[1:], strict=True))
    res.add_claim(
        "V_l(S) > V_l(R) for every l >= 1 (trained model)",
        expected="V_l(S) > V_l(R)",
        observed=[f"{s:.3g} vs {r:.3g}" for s, r in pairs],
        holds=all(s > r for s, r in pairs),
    )
    not_tested: list[list[Any]] = []
    order: list[tuple[str, bool | None, Any, str]] = []
    if ("coarse-only", seed) in runs:
        c, f = final["coarse-only"], final["single-fine"]
        order.append(
            (
                "coarse-only test error > single-fine at f = 1",
                c > f,
                f"coarse-only {c:.4f} vs single-fine {f:.4f}",
                "coarse-only error > single-fine error",
            )
        )
    for axis, label in (("cost_units", "cost units"), ("seconds", "training seconds")):
        if ("mlmc-R", seed) in runs:
            mr, sf = runs["mlmc-R", seed], runs["single-fine", seed]
            reach = []
            for p in sf.points:
                got = _reach(mr, p["test"], axis)
                reach.append([p["fraction"], p[axis], got])
            left = all(g is not None and g <= s for _, s, g in reach)
            order.append(
                (
                    f"mlmc-R Pareto curve left of single-fine's in {label}",
                    left,
                    [
                        f"f={f}: single-fine {s:.4g}, mlmc-R reaches that error at "
                        + ("never" if g is None else f"{g:.4g}")
                        for f, s, g in reach
                    ],
                    "at every budget point f of single-fine, mlmc-R reaches single-fine's test "
                    f"error at no more {label}",
                )
            )
    if ("mlmc-R", seed) in runs and ("mlmc-S", seed) in runs:
        a, b = final["mlmc-R"], final["mlmc-S"]
        order.append(
            (
                "mlmc-R <= mlmc-S at equal training cost (f = 1)",
                a <= b,
                f"mlmc-R {a:.4f} vs mlmc-S {b:.4f}",
                "mlmc-R error <= mlmc-S error",
            )
        )
    for name, holds, observed, expected in order:
        if cfg.mode == "full":
            assert holds is not None
            res.add_claim(name, expected=expected, observed=observed, holds=holds)
        else:
            not_tested.append(
                [
                    name,
                    "the spec tests it at --full's scale (64^2, three levels, 400-step budget); "
                    f"measured here at {cfg.resolutions[-1]}^2, two levels: {observed}",
                ]
            )
    if ddp is not None:
        res.add_claim(
            f"mlmc-R under DDP ({ctx.nproc} gloo ranks, shard='levels', float64) equals one "
            "process for its first five steps",
            expected="max |parameter difference| <= 1e-12",
            observed=ddp["max_abs_difference"],
            holds=ddp["max_abs_difference"] <= 1e-12,
        )
    else:
        not_tested.append(
            ["DDP equals one process (mlmc-R, float64)", "runs with --nproc 2 (or more)"]
        )
    if not_tested:
        res.add_table(
            "not_tested",
            "Claims of the spec's table this run does not test, and why",
            ["claim", "reason"],
            not_tested,
        )
