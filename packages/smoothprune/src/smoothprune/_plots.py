"""Figures of singular-value spectra (matplotlib, the ``[plot]`` extra, imported when called)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch

from sciml_core import get_pyplot, save_figure

__all__ = ["plot_spectra"]


def plot_spectra(
    spectra: Mapping[str, Mapping[str, torch.Tensor]],
    path: str | os.PathLike[str],
    *,
    title: str = "",
) -> Path:
    """One panel per layer: ``sigma_i / sigma_1`` against ``i / max rank``, one line per model.

    Args:
        spectra: ``{model label: {layer name: singular values, non-increasing}}``; the layers of
            the first model give the panels (a layer another model lacks is left out of its line).
        path: The PNG to write (atomically, ``sciml_core.save_figure``); its folder must exist.
        title: The figure's title.

    Raises:
        MissingExtraError: matplotlib is not installed (the ``[plot]`` extra).
    """
    plt = get_pyplot("smoothprune")
    layers = list(next(iter(spectra.values())))
    fig, axes = plt.subplots(1, len(layers), figsize=(3.6 * len(layers), 3.2), squeeze=False)
    for ax, layer in zip(axes[0], layers, strict=True):
        for label, by_layer in spectra.items():
            s = by_layer.get(layer)
            if s is None or len(s) == 0:
                continue
            s = s.detach().double().cpu()
            top = float(s[0])
            y = (s / top).numpy() if top > 0 else s.numpy()
            x = (torch.arange(1, len(s) + 1, dtype=torch.float64) / len(s)).numpy()
            ax.semilogy(x, y, label=label)
        ax.set_title(layer)
        ax.set_xlabel("i / max rank")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("σ_i / σ_1")
    axes[0][-1].legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out = save_figure(fig, path)
    plt.close(fig)
    return out
