"""The reproduction's figures (spec §6.1, §6.3), under the ``[plot]`` extra (matplotlib).

Max error against depth (A3) and certified / PGD accuracy against ε (digits) are drawn from the
result's tables, so a saved ``result.json`` can be redrawn without rerunning it
(:func:`redraw`, ``python -m lipres._experiments.plots RESULT OUT_DIR [--prefix P]``). Predicted
against target on A3 and A5 needs the fitted models: ``reproduce`` keeps their predictions on the
test grid (seed 0) and :func:`draw_predictions` draws them; a redraw cannot.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sciml_core import get_pyplot, save_figure

PKG = "lipres"

_STYLES = [("o", "-"), ("s", "--"), ("^", "-."), ("D", ":"), ("v", "-"), ("P", "--")]
"""Marker and line style per model, so that models with equal values stay visible."""

_DEPTH = re.compile(r"^circle@depth(\d+)$")

CAPTIONS = {
    "depth": "A3 (distance to the unit circle), seed 0: test-grid max error against depth, "
    "fixed-width and gradient networks at the chosen learning rates",
    "robustness": "Digits: certified and PGD-robust accuracy against the l2 radius (clean "
    "accuracy at 0), mean over seeds (bars: lowest and highest seed)",
    "predictions": "Seed 0 on the test grid: target and predictions on A3 (distance to the unit "
    "circle) and A5 (distance to 5 points), with each model's max error",
}


def _column(table: Mapping[str, Any], name: str) -> int:
    return list(table["columns"]).index(name)


def draw_depth(table: Mapping[str, Any], path: Path) -> bool:
    """Max error against depth per model from the ``approximation`` table's depth-sweep rows
    (target ``circle@depthN``). Returns False (nothing drawn) when the table has none."""
    t, m, e = (_column(table, c) for c in ("target", "model", "max_err"))
    points: dict[str, list[tuple[int, float]]] = {}
    for row in table["rows"]:
        found = _DEPTH.match(str(row[t]))
        if found:
            points.setdefault(str(row[m]), []).append((int(found.group(1)), float(row[e])))
    if not points:
        return False
    plt = get_pyplot(PKG)
    fig, ax = plt.subplots(figsize=(5.0, 3.6))
    for (marker, style), (name, pts) in zip(_STYLES, points.items(), strict=False):
        depth, err = zip(*sorted(pts), strict=True)
        ax.plot(depth, err, marker=marker, ls=style, label=name)
    ax.set_xscale("log", base=2)
    ticks = sorted({d for pts in points.values() for d, _ in pts})
    ax.set_xticks(ticks, [str(d) for d in ticks])
    ax.minorticks_off()
    ax.set_xlabel("depth (blocks)")
    ax.set_ylabel("max error on the test grid")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    return True


def draw_robustness(table: Mapping[str, Any], path: Path) -> bool:
    """Certified (left) and PGD-robust (right) accuracy against ε per model from the ``digits``
    table, clean accuracy at ε = 0; mean over seeds, bars from the lowest to the highest seed.
    Returns False when it has no rows."""
    if not table["rows"]:
        return False
    cols = list(table["columns"])
    radii = [c.split("@", 1)[1] for c in cols if c.startswith("certified@")]
    eps = [0.0] + [float(r) for r in radii]
    m = _column(table, "model")
    names = list(dict.fromkeys(str(r[m]) for r in table["rows"]))
    plt = get_pyplot(PKG)
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.8), sharey=True)
    for ax, kind in zip(axes, ("certified", "pgd"), strict=True):
        for (marker, style), name in zip(_STYLES * 2, names, strict=False):
            rows = [r for r in table["rows"] if r[m] == name]
            keys = ["clean"] + [f"{kind}@{e}" for e in radii]
            values = np.array([[float(r[cols.index(k)]) for k in keys] for r in rows])
            mean = values.mean(axis=0)
            spread = np.stack([mean - values.min(axis=0), values.max(axis=0) - mean])
            ax.errorbar(
                eps, mean, yerr=spread, marker=marker, ls=style, capsize=2, label=name, alpha=0.85
            )
        ax.set_title("certified accuracy" if kind == "certified" else "PGD-robust accuracy")
        ax.set_xlabel("l2 radius ε")
        ax.set_xticks(eps)
        ax.set_ylim(-0.02, 1.02)
    axes[0].set_ylabel("accuracy (ε = 0: clean)")
    axes[1].legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    return True


def draw_predictions(
    panels: Mapping[str, tuple[np.ndarray, np.ndarray, Mapping[str, np.ndarray]]], path: Path
) -> bool:
    """One row per target: the target and each model's prediction on a square 2-D grid.

    ``panels[title] = (grid [n², 2], target [n²], {model: prediction [n²]})``, the grid in
    ``lipres.grid`` order. Returns False when there is nothing to draw.
    """
    if not panels:
        return False
    plt = get_pyplot(PKG)
    n_cols = 1 + max(len(p[2]) for p in panels.values())
    fig, axes = plt.subplots(
        len(panels),
        n_cols,
        figsize=(2.4 * n_cols + 0.8, 2.5 * len(panels)),
        squeeze=False,
        layout="constrained",
    )
    for ax_row, (title, (grid, target, preds)) in zip(axes, panels.items(), strict=True):
        side = round(len(target) ** 0.5)
        lo, hi = grid.min(axis=0), grid.max(axis=0)
        extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
        vmin, vmax = float(target.min()), float(target.max())

        shown = [(target, f"{title}: target")] + [
            (pred, f"{name} (max error {float(np.abs(pred - target).max()):.3f})")
            for name, pred in preds.items()
        ]
        images = []
        for ax, (values, label) in zip(ax_row, shown, strict=False):
            ax.set_title(label, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
            image = values.reshape(side, side).T  # lipres.grid: "ij" order, rows are x
            images.append(ax.imshow(image, origin="lower", extent=extent, vmin=vmin, vmax=vmax))
        im = images[0]
        for ax in ax_row[1 + len(preds) :]:
            ax.axis("off")
        fig.colorbar(im, ax=list(ax_row), shrink=0.8)
    save_figure(fig, path)
    plt.close(fig)
    return True


def draw_tables(
    tables: Sequence[Mapping[str, Any]], out_dir: Path, *, prefix: str = ""
) -> list[tuple[str, str]]:
    """Draw every figure the tables support into ``out_dir``: ``(file, caption)`` pairs, the
    file relative to ``out_dir``."""
    drawers = {"approximation": ("depth", draw_depth), "digits": ("robustness", draw_robustness)}
    written = []
    for table in tables:
        if table["id"] not in drawers:
            continue
        name, draw = drawers[table["id"]]
        file = f"{prefix}{name}.png"
        if draw(table, Path(out_dir) / file):
            written.append((file, CAPTIONS[name]))
    return written


def redraw(result: str | Path, out_dir: str | Path, *, prefix: str = "") -> list[tuple[str, str]]:
    """Redraw the table figures of a saved ``result.json`` into ``out_dir`` (created)."""
    data = json.loads(Path(result).read_text(encoding="utf-8"))
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return draw_tables(data["tables"], Path(out_dir), prefix=prefix)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m lipres._experiments.plots RESULT OUT_DIR [--prefix P]``."""
    parser = argparse.ArgumentParser(description=redraw.__doc__)
    parser.add_argument("result", help="a lipres result.json")
    parser.add_argument("out_dir", help="folder for the figures (created)")
    parser.add_argument("--prefix", default="", help="prepended to each file name (default '')")
    args = parser.parse_args(argv)
    for file, _ in redraw(args.result, args.out_dir, prefix=args.prefix):
        print(f"wrote {Path(args.out_dir) / file}")


if __name__ == "__main__":
    main()
