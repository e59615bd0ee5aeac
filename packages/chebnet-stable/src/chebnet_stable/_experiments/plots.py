"""The long-range studies' figures, drawn from their tables' rows (so a committed result can be
redrawn without rerunning it: :func:`redraw`)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from sciml_core import get_pyplot, save_figure

from .config import PKG

__all__ = ["draw_barbell", "draw_ring", "draw_transfer", "redraw"]

_STYLES = [("o", "-"), ("s", "--"), ("^", "-."), ("D", ":"), ("v", "-"), ("P", "--"), ("X", "-.")]
"""Marker and line style per model, so that models with equal values stay visible."""


def _models(rows: list[list[Any]], column: int) -> list[str]:
    return list(dict.fromkeys(str(r[column]) for r in rows))


def draw_barbell(rows: list[list[Any]], path: Path) -> None:
    """Grouped bars of test MSE per model and size (rows ``[n, model, mse, ...]``), log scale."""
    plt = get_pyplot(PKG)
    sizes = sorted({int(r[0]) for r in rows})
    names = _models(rows, 1)
    mse = {(int(r[0]), str(r[1])): float(r[2]) for r in rows}
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(sizes)
    for i, n in enumerate(sizes):
        ax.bar(
            np.arange(len(names)) + i * width,
            [mse[n, nm] for nm in names],
            width,
            label=f"n = {n}",
        )
    ax.set_xticks(
        np.arange(len(names)) + 0.4 - width / 2, [textwrap.fill(nm, 14) for nm in names], fontsize=8
    )
    ax.set_ylabel("test MSE")
    ax.set_yscale("log")
    ax.axhline(1.0, color="k", lw=0.5)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def draw_ring(rows: list[list[Any]], path: Path) -> None:
    """Accuracy against ring size per model (rows ``[n, model, accuracy, ...]``)."""
    plt = get_pyplot(PKG)
    fig, ax = plt.subplots(figsize=(7.5, 3.5))
    for (marker, style), nm in zip(_STYLES * 2, _models(rows, 1), strict=False):
        pts = sorted((int(r[0]), float(r[2])) for r in rows if r[1] == nm)
        ax.plot(*zip(*pts, strict=True), marker=marker, ls=style, label=nm, alpha=0.85)
    ax.axhline(0.2, color="k", lw=0.5)
    ax.set_xlabel("ring size n (distance n/2)")
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def draw_transfer(rows: list[list[Any]], path: Path) -> None:
    """Target-node MSE against distance per topology and model (rows ``[topology, d, model,
    mse_all, mse_target, ...]``)."""
    plt = get_pyplot(PKG)
    topologies = _models(rows, 0)
    names = _models(rows, 2)
    fig, axes = plt.subplots(1, len(topologies), figsize=(13, 4.4), sharey=True, squeeze=False)
    for ax, topo in zip(axes[0], topologies, strict=True):
        for (marker, style), nm in zip(_STYLES * 2, names, strict=False):
            pts = sorted(
                (int(r[1]), max(float(r[4]), 1e-8)) for r in rows if r[0] == topo and r[2] == nm
            )
            ax.semilogy(*zip(*pts, strict=True), marker=marker, ls=style, label=nm, alpha=0.85)
        ax.set_title(topo)
        ax.set_xlabel("source-target distance")
    axes[0][0].set_ylabel("test MSE at the target node")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=4, frameon=False)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    save_figure(fig, path)
    plt.close(fig)


_DRAW = {"barbell": draw_barbell, "ring": draw_ring, "transfer": draw_transfer}


def redraw(result: str | Path, out_dir: str | Path, *, prefix: str = "") -> list[Path]:
    """Redraw the barbell, ring and transfer figures of a saved ``result.json`` from its tables.

    Args:
        result: The result file.
        out_dir: Folder for the figures (must exist).
        prefix: Prepended to each figure's file name (``barbell.png`` otherwise).

    Returns:
        The files written, one per such table the result holds.
    """
    data = json.loads(Path(result).read_text(encoding="utf-8"))
    written = []
    for table in data["tables"]:
        draw = _DRAW.get(table["id"])
        if draw is not None:
            path = Path(out_dir) / f"{prefix}{table['id']}.png"
            draw(table["rows"], path)
            written.append(path)
    return written
