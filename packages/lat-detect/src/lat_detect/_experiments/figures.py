"""The figures of ``reproduce`` (PNG next to ``result.json``, registered in the Result):
downstream AP per method and schedule with the oracle's line, per-class AP, and the transferred
labels' AP per relabelling (the SFF ablation among them). matplotlib is the ``[plot]`` extra;
without it the run says so and lists the figures it did not draw."""

from __future__ import annotations

import sys
from statistics import mean
from typing import Any

from sciml_core import MissingExtraError, get_pyplot, save_figure

from .context import Context

FIGURES = {
    "ap_per_method.png": "Downstream AP on T-test per method and schedule (mean over seeds, dots: "
    "seeds); dashed: the oracle (+ ft), the bound of any transfer method",
    "per_class_ap.png": "Per-class AP on T-test per method (merge-then-target where run, else "
    "single; mean over seeds): bicycle and person carry the granularity and background conflicts",
    "transfer_labels.png": "Transferred labels' AP and AP50 against the oracle (first seed, mean "
    "of A and B) per relabelling, with the transfer model's ablations (lat-no-sff: SFF off)",
}
SCHEDULES = ("single", "merge_then_target")


def downstream_points(ctx: Context) -> dict[tuple[str, str], list[float]]:
    """``{(method, schedule): [T-test AP per seed]}`` in method order (what the bars show)."""
    out: dict[tuple[str, str], list[float]] = {}
    for method in ctx.config.methods:
        for sched in SCHEDULES:
            aps = [
                ctx.values["test", o, method, sched, "AP"]
                for o in ctx.config.seeds
                if ("test", o, method, sched, "AP") in ctx.values
            ]
            if aps:
                out[method, sched] = aps
    return out


def class_means(ctx: Context, classes: tuple[str, ...]) -> dict[str, list[float]]:
    """``{method: [mean per-class AP over seeds, per class]}`` for the latest schedule run."""
    out: dict[str, list[float]] = {}
    for method in ctx.config.methods:
        for sched in reversed(SCHEDULES):
            keys = [("test_class", o, method, sched) for o in ctx.config.seeds]
            if all((*k, classes[0]) in ctx.values for k in keys):
                out[method] = [mean(ctx.values[(*k, c)] for k in keys) for c in classes]
                break
    return out


def label_points(ctx: Context) -> dict[str, tuple[float, float]]:
    """``{relabelling: (AP, AP50)}`` of the first seed's transferred labels (mean of sources)."""
    first = ctx.config.seeds[0]
    out: dict[str, tuple[float, float]] = {}
    for key in ctx.values:
        if len(key) == 5 and key[:2] == ("transfer_ap", first) and key[3:] == ("mean", "AP"):
            v = ctx.values
            out[key[2]] = (v[key], v["transfer_ap", first, key[2], "mean", "AP50"])
    return out


def draw_ap_per_method(ax: Any, points: dict[tuple[str, str], list[float]]) -> None:
    """Grouped bars: one group per method, one bar per schedule (mean over seeds), the seeds as
    dots, the best oracle mean as a dashed line."""
    methods = list(dict.fromkeys(m for m, _ in points))
    scheds = [s for s in SCHEDULES if any(k[1] == s for k in points)]
    width = 0.8 / len(scheds)
    colours = {"single": "#b8c9e0", "merge_then_target": "#4a72a8"}
    for i, sched in enumerate(scheds):
        xs = [j + (i - (len(scheds) - 1) / 2) * width for j in range(len(methods))]
        pairs = zip(xs, methods, strict=True)
        have = [(x, points[m, sched]) for x, m in pairs if (m, sched) in points]
        ax.bar(
            [x for x, _ in have],
            [mean(v) for _, v in have],
            width,
            color=colours.get(sched),
            label=sched.replace("_", " "),
        )
        for x, v in have:
            ax.plot([x] * len(v), v, "k.", ms=3)
    oracle = [mean(v) for (m, _), v in points.items() if m == "oracle"]
    if oracle:
        ax.axhline(max(oracle), color="k", ls="--", lw=1, label="oracle (+ ft)")
    ax.set_xticks(list(range(len(methods))))
    ax.set_xticklabels(methods, fontsize=8, rotation=15)
    ax.set_ylabel("AP (0.50:0.95) on T-test")
    top = max(max(v) for v in points.values())
    ax.set_ylim(0.0, 1.2 * top if top > 0 else 1.0)  # room for the legend above the bars
    ax.legend(fontsize=7, loc="upper left", ncol=3)


def draw_per_class(ax: Any, per_class: dict[str, list[float]], classes: tuple[str, ...]) -> None:
    """One group per class, one bar per method (its mean AP over seeds)."""
    width = 0.8 / len(per_class)
    for i, (method, aps) in enumerate(per_class.items()):
        ax.bar([j + i * width for j in range(len(classes))], aps, width, label=method)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(classes))])
    ax.set_xticklabels(classes)
    ax.set_ylabel("AP on T-test")
    top = max(max(v) for v in per_class.values())
    ax.set_ylim(0.0, 1.25 * top if top > 0 else 1.0)  # room for the legend
    ax.legend(fontsize=7, loc="upper left", ncol=3)


def _pyplot() -> tuple[Any | None, str]:
    try:
        return get_pyplot("lat-detect"), ""
    except MissingExtraError as err:
        why = " ".join(str(err).split())
        print(f"lat-detect: warning: no figures will be drawn: {why}", file=sys.stderr)
        return None, why


def run(ctx: Context) -> None:
    """Draw the figures whose numbers this run measured; add them to the result."""
    points = downstream_points(ctx)
    labels = label_points(ctx)
    classes: tuple[str, ...] = ("car", "truck", "person", "bicycle")
    per_class = class_means(ctx, classes) if points else {}
    todo = [
        name
        for name, have in (
            ("ap_per_method.png", points),
            ("per_class_ap.png", per_class),
            ("transfer_labels.png", labels),
        )
        if have
    ]
    if not todo:
        return
    plt, why = _pyplot()
    if plt is None:
        ctx.result.add_table(
            "figures_not_drawn",
            "Figures this run did not draw",
            ["file", "caption", "reason"],
            [[f, FIGURES[f], why] for f in todo],
        )
        return
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    for name in todo:
        fig, ax = plt.subplots(figsize=(7.0, 4.0))
        if name == "ap_per_method.png":
            draw_ap_per_method(ax, points)
        elif name == "per_class_ap.png":
            draw_per_class(ax, per_class, classes)
        else:
            xs = range(len(labels))
            ax.bar([x - 0.2 for x in xs], [v[0] for v in labels.values()], 0.4, label="AP")
            ax.bar([x + 0.2 for x in xs], [v[1] for v in labels.values()], 0.4, label="AP50")
            ax.set_xticks(list(xs))
            ax.set_xticklabels(list(labels), fontsize=7, rotation=20)
            ax.set_ylabel("transferred labels vs oracle")
            ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        save_figure(fig, ctx.out_dir / name)
        plt.close(fig)
        ctx.result.add_figure(name, FIGURES[name])
