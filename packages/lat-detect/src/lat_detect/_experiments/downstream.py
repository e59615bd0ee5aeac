"""Downstream study: every method trains the same detector with the same budget, tuned on T-val.

Each method picks its learning rate (and, for ``merge_then_target``, its fine-tune length) on
T-val on the first seed; the other seeds reuse the choice. ``single`` is the union phase alone;
target-only gets the same number of steps on T alone. AP on T-test by pycocotools, checked
against faster-coco-eval on the same predictions when it is installed.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from typing import Any

from sciml_core import Job, run_jobs

from .._coco_eval import coco_ap
from .._detector import build_detector
from .config import Config, Method
from .context import Context
from .zoo import (
    MethodData,
    Packed,
    benchmark,
    benchmark_for,
    evaluate,
    method_data,
    train_with_checkpoints,
    unpack_sets,
)


def _schedule(ft: int) -> str:
    return "single" if ft == 0 else "merge_then_target"


def _better(val: float, best: float) -> bool:
    """Selection order on T-val: larger AP wins, the first candidate on ties; NaN never beats a
    number (so choosing per unit, then across units, equals one pass over all candidates)."""
    return val > best or (math.isnan(best) and not math.isnan(val))


#: ``{schedule: (val AP, lr, fine-tune steps, state_dict)}``.
Chosen = dict[str, tuple[float, float, int, dict[str, Any]]]


@dataclass
class TuneOut:
    """One (method, learning rate) run of the first seed: T-val AP per checkpoint, its best
    state per schedule, seconds."""

    seconds: float
    val: dict[int, float]
    best: Chosen


def _relabelled(
    method: Method, packed: dict[str, dict[str, Packed]] | None
) -> dict[str, dict[str, Packed]]:
    """Only what ``method`` trains on (the others' labels need not travel to a worker)."""
    if packed is None or method not in packed:
        return {}
    return {method: packed[method]}


def _data(config: Config, seed: int, method: Method, packed: dict[str, dict[str, Packed]]) -> Any:
    bench = benchmark_for(config, seed)
    return bench, method_data(method, bench, unpack_sets(packed, bench))


def tune_unit(
    config: Config,
    seed: int,
    method: Method,
    lr: float,
    packed: dict[str, dict[str, Packed]],
    progress: bool,
) -> TuneOut:
    """Train ``method`` at ``lr`` (union, then the fine-tune checkpoints); T-val AP of each."""
    bench, data = _data(config, seed, method, packed)
    candidates = len(config.lr_grid) * (1 + len(config.ft_grid))
    states, sec, model = train_with_checkpoints(
        data,
        config,
        lr=lr,
        ft_lengths=config.ft_grid,
        seed=seed,
        progress=progress,
        desc=f"{method} lr {lr:g}",
    )
    vals: dict[int, float] = {}
    best: Chosen = {}
    for ft, state in states.items():
        if candidates > 1:
            model.load_state_dict(state)
            val = evaluate(model, bench.target_val, offset=data.offset)[0].ap
        else:
            val = float("nan")
        vals[ft] = val
        sched = _schedule(ft)
        if sched not in best or _better(val, best[sched][0]):
            best[sched] = (val, lr, ft, state)
    return TuneOut(sec, vals, best)


@dataclass
class EvalOut:
    """Test AP of one method's chosen states on one seed (rows of both tables, values)."""

    values: dict[tuple[Any, ...], Any]
    rows: list[list[Any]]
    class_rows: list[list[Any]]
    ref_diffs: list[float]


def _test(
    config: Config,
    seed: int,
    offset: int,
    method: Method,
    data: MethodData,
    chosen: dict[str, tuple[float, int, dict[str, Any]]],
) -> EvalOut:
    bench = benchmark_for(config, seed)
    have_fce = importlib.util.find_spec("faster_coco_eval") is not None
    out = EvalOut({}, [], [], [])
    model = build_detector(data.num_classes, image_size=config.image_size)
    for sched, (lr, ft, state) in sorted(chosen.items()):
        model.load_state_dict(state)
        stats, results = evaluate(model, bench.target_test, offset=data.offset)
        out.values["test", offset, method, sched, "AP"] = stats.ap
        out.values["test", offset, method, sched, "AP50"] = stats.ap50
        for cls, ap in stats.per_class.items():
            out.values["test_class", offset, method, sched, cls] = ap
        if have_fce:
            ref = coco_ap(bench.target_test, results, backend="faster-coco-eval")
            out.ref_diffs.append(
                max(abs(a - b) for a, b in zip(stats.stats, ref.stats, strict=True))
            )
        out.rows.append(
            [seed, method, sched, lr, ft, stats.ap, stats.ap50, stats.stats[2], len(results)]
        )
        out.class_rows.append(
            [seed, method, sched, *(stats.per_class[k] for k in bench.target_test.space.classes)]
        )
    return out


def evaluate_unit(
    config: Config,
    seed: int,
    offset: int,
    method: Method,
    packed: dict[str, dict[str, Packed]],
    chosen: dict[str, tuple[float, int, dict[str, Any]]],
) -> EvalOut:
    """T-test AP of the first seed's chosen states of ``method``."""
    _, data = _data(config, seed, method, packed)
    return _test(config, seed, offset, method, data, chosen)


def retrain_unit(
    config: Config,
    seed: int,
    offset: int,
    method: Method,
    packed: dict[str, dict[str, Packed]],
    tuned: dict[str, tuple[float, int]],
    progress: bool,
) -> tuple[dict[float, float], EvalOut]:
    """A later seed: the first seed's choices (one run per distinct learning rate), then T-test
    AP of each schedule; also the seconds per learning rate."""
    _, data = _data(config, seed, method, packed)
    chosen: dict[str, tuple[float, int, dict[str, Any]]] = {}
    seconds: dict[float, float] = {}
    for lr in sorted({lr for lr, _ in tuned.values()}):
        fts = tuple(ft for sched, (lr2, ft) in tuned.items() if lr2 == lr and ft > 0)
        states, sec, _ = train_with_checkpoints(
            data,
            config,
            lr=lr,
            ft_lengths=fts,
            seed=seed,
            progress=progress,
            desc=f"{method} seed {seed}",
        )
        seconds[lr] = sec
        for sched, (lr2, ft) in tuned.items():
            if lr2 == lr:
                chosen[sched] = (lr, ft, states[ft])
    return seconds, _test(config, seed, offset, method, data, chosen)


def run(ctx: Context) -> None:
    """Tune every method on the first seed (one unit per method and learning rate), then test
    the choices and retrain them on the other seeds (one unit per method and seed); tables in
    (seed, method, schedule) order whatever the number of workers."""
    c = ctx.config
    quiet = ctx.workers > 1 or not ctx.progress
    first = c.seeds[0]
    s0 = ctx.seed + first
    packed0 = ctx.store[f"relabelled/{first}"]
    grid = [(m, lr) for m in c.methods for lr in c.lr_grid]
    tunes: list[TuneOut] = run_jobs(
        [
            Job(
                f"tune seed {s0} {m} lr {lr:g}",
                tune_unit,
                (c, s0, m, lr, _relabelled(m, packed0), not quiet),
            )
            for m, lr in grid
        ],
        workers=ctx.workers,
        desc="tuning",
        show_progress=ctx.progress,
    )
    chosen_by: dict[Method, Chosen] = {}
    for (m, lr), out in zip(grid, tunes, strict=True):
        ctx.values["train_seconds", first, m, lr] = out.seconds
        for ft, val in out.val.items():
            ctx.values["val_ap", m, lr, ft] = val
        best = chosen_by.setdefault(m, {})
        for sched, cand in out.best.items():
            if sched not in best or _better(cand[0], best[sched][0]):
                best[sched] = cand
    for m in c.methods:
        ctx.values["tuned", m] = {s: (lr, ft) for s, (_, lr, ft, _) in chosen_by[m].items()}
    units = []
    for offset in c.seeds:
        seed = ctx.seed + offset
        packed = ctx.store[f"relabelled/{offset}"]
        for m in c.methods:
            if offset == first:
                chosen = {s: (lr, ft, st) for s, (_, lr, ft, st) in chosen_by[m].items()}
                units.append(
                    Job(
                        f"test seed {seed} {m}",
                        evaluate_unit,
                        (c, seed, offset, m, _relabelled(m, packed), chosen),
                    )
                )
            else:
                units.append(
                    Job(
                        f"seed {seed} {m}",
                        retrain_unit,
                        (
                            c,
                            seed,
                            offset,
                            m,
                            _relabelled(m, packed),
                            ctx.values["tuned", m],
                            not quiet,
                        ),
                    )
                )
    outs = run_jobs(units, workers=ctx.workers, desc="test", show_progress=ctx.progress)
    rows, class_rows, ref_diffs = [], [], []
    k = 0
    for offset in c.seeds:
        for m in c.methods:
            got = outs[k]
            k += 1
            if offset != first:
                seconds, got = got
                for lr, sec in seconds.items():
                    ctx.values["train_seconds", offset, m, lr] = sec
            ctx.values.update(got.values)
            rows.extend(got.rows)
            class_rows.extend(got.class_rows)
            ref_diffs.extend(got.ref_diffs)
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
