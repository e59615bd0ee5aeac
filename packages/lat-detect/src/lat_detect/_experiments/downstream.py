"""Downstream study: every method trains the same detector with the same budget, tuned on T-val.

Each method picks its learning rate (and, for ``merge_then_target``, its fine-tune length) on
T-val on the first seed; the other seeds reuse the choice. ``single`` is the union phase alone;
target-only gets the same number of steps on T alone. AP on T-test by pycocotools, checked
against faster-coco-eval on the same predictions when it is installed.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from .._coco_eval import coco_ap
from .config import Method
from .context import Context
from .zoo import MethodData, benchmark, evaluate, method_data, train_with_checkpoints

SCHEDULE_NAMES = {0: "single"}


def _schedule(ft: int) -> str:
    return "single" if ft == 0 else "merge_then_target"


def _choose(
    ctx: Context, method: Method, data: MethodData, offset: int
) -> dict[str, tuple[float, int, dict[str, Any]]]:
    """Tune on T-val (first seed): ``{schedule: (lr, ft, state_dict)}``."""
    c = ctx.config
    bench = benchmark(ctx, offset)
    candidates = len(c.lr_grid) * (1 + len(c.ft_grid))
    best: dict[str, tuple[float, float, int, dict[str, Any]]] = {}
    for lr in c.lr_grid:
        states, sec, model = train_with_checkpoints(
            data,
            c,
            lr=lr,
            ft_lengths=c.ft_grid,
            seed=ctx.seed + offset,
            progress=ctx.progress,
            desc=f"{method} lr {lr:g}",
        )
        ctx.values["train_seconds", offset, method, lr] = sec
        for ft, state in states.items():
            if candidates > 1:
                model.load_state_dict(state)
                val = evaluate(model, bench.target_val, offset=data.offset)[0].ap
            else:
                val = float("nan")
            ctx.values["val_ap", method, lr, ft] = val
            sched = _schedule(ft)
            if sched not in best or val > best[sched][0] or candidates == 1:
                best[sched] = (val, lr, ft, state)
    return {s: (lr, ft, st) for s, (_, lr, ft, st) in best.items()}


def _retrain(
    ctx: Context, method: Method, data: MethodData, offset: int
) -> dict[str, tuple[float, int, dict[str, Any]]]:
    """Later seeds: the first seed's choices, one run per distinct learning rate."""
    tuned = ctx.values["tuned", method]
    out: dict[str, tuple[float, int, dict[str, Any]]] = {}
    for lr in sorted({lr for lr, _ in tuned.values()}):
        fts = tuple(ft for sched, (lr2, ft) in tuned.items() if lr2 == lr and ft > 0)
        states, sec, _ = train_with_checkpoints(
            data,
            ctx.config,
            lr=lr,
            ft_lengths=fts,
            seed=ctx.seed + offset,
            progress=ctx.progress,
            desc=f"{method} seed {ctx.seed + offset}",
        )
        ctx.values["train_seconds", offset, method, lr] = sec
        for sched, (lr2, ft) in tuned.items():
            if lr2 == lr:
                out[sched] = (lr, ft, states[ft])
    return out


def run(ctx: Context) -> None:
    """Train, tune and evaluate every method of the config on every seed."""
    from .._detector import build_detector

    c = ctx.config
    rows, class_rows = [], []
    ref_diffs: list[float] = []
    have_fce = importlib.util.find_spec("faster_coco_eval") is not None
    for offset in c.seeds:
        bench = benchmark(ctx, offset)
        relabelled = ctx.store[f"relabelled/{offset}"]
        for method in c.methods:
            data = method_data(method, bench, relabelled)
            if offset == c.seeds[0]:
                chosen = _choose(ctx, method, data, offset)
                ctx.values["tuned", method] = {s: (lr, ft) for s, (lr, ft, _) in chosen.items()}
            else:
                chosen = _retrain(ctx, method, data, offset)
            model = build_detector(data.num_classes, image_size=c.image_size)
            for sched, (lr, ft, state) in sorted(chosen.items()):
                model.load_state_dict(state)
                stats, results = evaluate(model, bench.target_test, offset=data.offset)
                ctx.values["test", offset, method, sched, "AP"] = stats.ap
                ctx.values["test", offset, method, sched, "AP50"] = stats.ap50
                for cls, ap in stats.per_class.items():
                    ctx.values["test_class", offset, method, sched, cls] = ap
                if have_fce:
                    ref = coco_ap(bench.target_test, results, backend="faster-coco-eval")
                    ref_diffs.append(
                        max(abs(a - b) for a, b in zip(stats.stats, ref.stats, strict=True))
                    )
                rows.append(
                    [
                        ctx.seed + offset,
                        method,
                        sched,
                        lr,
                        ft,
                        stats.ap,
                        stats.ap50,
                        stats.stats[2],
                        len(results),
                    ]
                )
                class_rows.append(
                    [
                        ctx.seed + offset,
                        method,
                        sched,
                        *(stats.per_class[k] for k in bench.target_test.space.classes),
                    ]
                )
    ctx.values["reference_diff",] = max(ref_diffs) if ref_diffs else None
    ctx.values["reference_checked",] = len(ref_diffs)
    ctx.result.add_table(
        "downstream_ap",
        "Downstream detector on T-test (pycocotools): each method's learning rate and "
        "fine-tune length chosen on T-val",
        ["seed", "method", "schedule", "lr", "ft_steps", "AP", "AP50", "AP75", "detections"],
        rows,
    )
    ctx.result.add_table(
        "per_class_ap",
        "Per-class AP on T-test (bicycle and person carry the granularity and background "
        "conflicts)",
        ["seed", "method", "schedule", *benchmark(ctx, c.seeds[0]).target_test.space.classes],
        class_rows,
    )
