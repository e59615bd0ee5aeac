"""The reproduction's figures (spec section 7): Dice against training subjects per method, a test
slice with FLAIR, truth and predictions, HyDA's routing ``α`` per patient by corruption type, and
the hypergraph of one batch. Each is drawn from plain arrays or a saved table's rows, so a
committed result can be redrawn (:func:`redraw`) without rerunning it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sciml_core import get_pyplot, save_figure

__all__ = ["draw_alpha", "draw_case", "draw_dice", "draw_hypergraph", "redraw"]

PKG = "brain-hyda"
_STYLES = ["o-", "s--", "^-.", "D:", "v-", "P--", "X-."]


def draw_dice(columns: Sequence[str], rows: Sequence[Sequence[Any]], path: Path) -> None:
    """Mean pooled lesion Dice (± std over seeds) against training subjects, one line per method
    of the ``segmentation`` table; a method measured at one size only (a control) is a marker."""
    plt = get_pyplot(PKG)
    im, isub, idice = (columns.index(c) for c in ("method", "subjects", "pooled Dice"))
    by: dict[str, dict[int, list[float]]] = {}
    for r in rows:
        by.setdefault(str(r[im]), {}).setdefault(int(r[isub]), []).append(float(r[idice]))
    fig, ax = plt.subplots(figsize=(8, 4))
    for style, (method, sizes) in zip(_STYLES * 4, by.items(), strict=False):
        n = sorted(sizes)
        mean = [float(np.mean(sizes[k])) for k in n]
        std = [float(np.std(sizes[k])) for k in n]
        ax.errorbar(
            n,
            mean,
            yerr=std,
            fmt=style if len(n) > 1 else style[0],
            capsize=3,
            label=method,
            alpha=0.85,
        )
    ax.set_xlabel("training subjects")
    ax.set_ylabel("pooled lesion Dice (test)")
    ax.set_xticks(sorted({int(r[isub]) for r in rows}))
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def draw_case(
    flair: np.ndarray, truth: np.ndarray, preds: Mapping[str, np.ndarray], path: Path
) -> int:
    """One test subject's axial slice with the most lesion voxels: FLAIR, the truth and each
    method's prediction (``(D, H, W)`` arrays). Returns the slice index drawn."""
    plt = get_pyplot(PKG)
    k = int(np.argmax((np.asarray(truth) > 0).sum(axis=(1, 2))))
    panels = [("FLAIR", flair, "gray"), ("truth", truth, "magma")]
    panels += [(name, p, "magma") for name, p in preds.items()]
    fig, axes = plt.subplots(1, len(panels), figsize=(2.2 * len(panels), 2.6), squeeze=False)
    top = max(1, int(np.asarray(truth).max()))
    for ax, (title, img, cmap) in zip(axes[0], panels, strict=True):
        scale = {} if title == "FLAIR" else {"vmin": 0, "vmax": top}  # labels on one scale
        ax.imshow(np.asarray(img)[k], cmap=cmap, interpolation="nearest", **scale)
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    return k


def draw_alpha(
    alpha: np.ndarray, groups: np.ndarray, group_names: Sequence[str], path: Path
) -> None:
    """HyDA's routing ``α`` (``(N, n_b)``, rows on the simplex) per test patient, patients sorted
    by corruption type, beside the mean ``α`` of each type: a uniform or type-blind ``α`` is an
    inert hypernetwork."""
    plt = get_pyplot(PKG)
    alpha, groups = np.asarray(alpha, dtype=float), np.asarray(groups)
    order = np.argsort(groups, kind="stable")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2), gridspec_kw={"width_ratios": [3, 2]})
    im = left.imshow(alpha[order].T, aspect="auto", vmin=0, vmax=1, cmap="viridis")
    for cut in np.flatnonzero(np.diff(groups[order])) + 0.5:
        left.axvline(cut, color="w", lw=1.5)
    left.set_xlabel("test patient (sorted by corruption type)")
    left.set_ylabel("basis")
    left.set_yticks(range(alpha.shape[1]))
    fig.colorbar(im, ax=left, label="α")
    width = 0.8 / max(len(group_names), 1)
    for i, name in enumerate(group_names):
        sel = groups == i
        if sel.any():
            right.bar(np.arange(alpha.shape[1]) + i * width, alpha[sel].mean(0), width, label=name)
    right.set_xticks(np.arange(alpha.shape[1]) + width * (len(group_names) - 1) / 2)
    right.set_xticklabels([str(i) for i in range(alpha.shape[1])])
    right.set_xlabel("basis")
    right.set_ylabel("mean α")
    right.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def draw_hypergraph(h: np.ndarray, groups: np.ndarray, path: Path) -> None:
    """The incidence matrix of one batch's hypergraph (vertices = patients, sorted by group;
    columns = hyperedges), so who shares a hyperedge with whom is visible."""
    plt = get_pyplot(PKG)
    h, groups = np.asarray(h, dtype=float), np.asarray(groups)
    order = np.argsort(groups, kind="stable")
    fig, ax = plt.subplots(figsize=(max(3.0, 0.25 * h.shape[1] + 1.5), 3.2))
    ax.imshow(h[order], aspect="auto", cmap="Greys", vmin=0, interpolation="nearest")
    for cut in np.flatnonzero(np.diff(groups[order])) + 0.5:
        ax.axhline(cut, color="tab:red", lw=1)
    ax.set_xlabel("hyperedge")
    ax.set_ylabel("patient (sorted by group)")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def redraw(result: str | Path, out_dir: str | Path, *, prefix: str = "") -> list[Path]:
    """Redraw the figures a saved ``result.json`` holds tables for (``segmentation`` -> the Dice
    figure). Returns the files written."""
    data = json.loads(Path(result).read_text(encoding="utf-8"))
    written = []
    for table in data["tables"]:
        if table["id"] == "segmentation":
            path = Path(out_dir) / f"{prefix}dice_vs_subjects.png"
            draw_dice(table["columns"], table["rows"], path)
            written.append(path)
    return written
