"""The figures of the digits study (spec section 6.2), written next to ``result.json``.

* ``digits_accuracy_vs_params.png``: test accuracy against the fraction of the dense model's
  parameters that remain (stored, or non-zero for unstructured pruning), one panel per model, one
  colour per method (SVD global budget, SVD per-layer ``keep``, channel removal, unstructured
  magnitude pruning, Torch-Pruning, Tucker-2), plain solid and smooth (Δ² along ``out``) dashed;
  the mean over seeds with the seeds' range as error bars. Per-layer against global budgets are
  the two SVD colours.
* ``digits_spectra_<model>.png``: normalised singular values of every compressible layer, plain and
  smooth, first seed (:func:`smoothprune._plots.plot_spectra`).
* ``digits_c3_matrix.png``: ``mat(W)`` of ``c3`` (rows: output filters), plain and smooth, first
  seed, one row per model.

Without matplotlib (the ``[plot]`` extra) no figure is written and ``digits_figures`` says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from sciml_core import MissingExtraError, get_pyplot, save_figure

from .._plots import plot_spectra
from .context import Context

#: Method families of the accuracy figure: (key prefix in the measured values, label).
FAMILIES: tuple[tuple[str, str], ...] = (
    ("params", "SVD, global budget"),
    ("keep", "SVD, per-layer keep"),
    ("channels", "channel removal (L2)"),
    ("unstructured", "unstructured L1 (non-zero)"),
    ("torch-pruning", "Torch-Pruning channels"),
    ("tucker2", "Tucker-2 (tensorly)"),
)
#: Runs drawn in the accuracy figure: (run, marker and line style).
RUNS: tuple[tuple[str, str], ...] = (("plain", "o-"), ("smooth-out2", "s--"))


def _family(method: str) -> str | None:
    for prefix, _ in FAMILIES:
        if method.startswith(prefix) and method[len(prefix) :][:1].isdigit():
            return prefix
    return None


def write(
    ctx: Context,
    points: Mapping[tuple[str, str, int, str], tuple[float, int]],
    dense: Mapping[str, int],
    spectra: Mapping[str, Mapping[str, Mapping[str, torch.Tensor]]],
    matrices: Mapping[str, Mapping[str, torch.Tensor]],
) -> None:
    """Write the three figures and register them in the result (or the table saying why not).

    Args:
        points: ``{(model, run, seed, method): (accuracy, parameters)}``.
        dense: ``{model: parameters of the dense model}``.
        spectra: ``{model: {run: {layer: singular values}}}`` (first seed).
        matrices: ``{model: {run: mat(W) of c3}}`` (first seed).
    """
    out = Path(ctx.out_dir)
    files = (
        "digits_accuracy_vs_params.png",
        *(f"digits_spectra_{model}.png" for model in spectra),
        "digits_c3_matrix.png",
    )
    try:
        plt = get_pyplot("smoothprune")
    except MissingExtraError:
        ctx.result.add_table(
            "digits_figures",
            "figures of the digits study",
            ["file", "written"],
            [[f, "no: matplotlib is not installed (the [plot] extra)"] for f in files],
        )
        return
    out.mkdir(parents=True, exist_ok=True)
    _accuracy_figure(plt, out / files[0], points, dense, ctx.config.models)
    ctx.result.add_figure(
        files[0],
        "digits20 test accuracy without fine-tuning against the fraction of the dense model's "
        "parameters left (stored; non-zero for unstructured pruning): plain (tuned weight decay, "
        "solid, circles) and smooth Δ² along out (dashed, squares), mean over seeds, bars the "
        "seeds' range",
    )
    for model, by_run in spectra.items():
        name = f"digits_spectra_{model}.png"
        plot_spectra(by_run, out / name, title=f"{model}: normalised singular values (seed 0)")
        ctx.result.add_figure(
            name,
            f"{model}: σ_i / σ_1 of every compressible layer's mat(W), plain and smooth "
            "(first seed)",
        )
    _matrix_figure(plt, out / files[-1], matrices)
    ctx.result.add_figure(
        files[-1],
        "mat(W) of c3 (rows: output filters, columns: input channel x 3 x 3), plain and smooth "
        "(Δ² along out), first seed",
    )


def _accuracy_figure(
    plt: Any,
    path: Path,
    points: Mapping[tuple[str, str, int, str], tuple[float, int]],
    dense: Mapping[str, int],
    models: Sequence[str],
) -> None:
    fig, axes = plt.subplots(1, len(models), figsize=(6.2 * len(models), 4.4), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        for ci, (prefix, label) in enumerate(FAMILIES):
            for run, style in RUNS:
                by_method: dict[str, list[tuple[float, int]]] = {}
                for (m, r, _, method), value in points.items():
                    if m == model and r == run and _family(method) == prefix:
                        by_method.setdefault(method, []).append(value)
                if not by_method:
                    continue
                xs, ys, lo, hi = [], [], [], []
                for values in by_method.values():
                    accs = [a for a, _ in values]
                    xs.append(sum(p for _, p in values) / len(values) / dense[model])
                    mean = sum(accs) / len(accs)
                    ys.append(mean)
                    lo.append(mean - min(accs))
                    hi.append(max(accs) - mean)
                order = sorted(range(len(xs)), key=lambda i: xs[i])
                ax.errorbar(
                    [xs[i] for i in order],
                    [ys[i] for i in order],
                    yerr=[[lo[i] for i in order], [hi[i] for i in order]],
                    fmt=style,
                    color=f"C{ci}",
                    markersize=3,
                    capsize=2,
                    label=f"{label}, {run}",
                )
        ax.set_xscale("log")
        ax.set_xlabel("parameters left / dense model")
        ax.set_ylabel("test accuracy")
        ax.set_title(model)
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def _matrix_figure(
    plt: Any, path: Path, matrices: Mapping[str, Mapping[str, torch.Tensor]]
) -> None:
    rows = list(matrices)
    cols = max(len(by_run) for by_run in matrices.values())
    fig, axes = plt.subplots(len(rows), cols, figsize=(5 * cols, 3 * len(rows)), squeeze=False)
    for ri, model in enumerate(rows):
        for ci, (run, mat) in enumerate(matrices[model].items()):
            ax = axes[ri][ci]
            m = mat.detach().double().cpu()
            bound = float(m.abs().max()) or 1.0
            ax.imshow(m.numpy(), aspect="auto", cmap="RdBu_r", vmin=-bound, vmax=bound)
            ax.set_title(f"{model}, {run}: mat(W) of c3")
            ax.set_xlabel("input channel x kernel")
            ax.set_ylabel("output filter")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
