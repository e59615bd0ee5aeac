"""Every figure of ``reproduce`` (matplotlib, the ``[plot]`` extra): the studies compute, this
draws.

Each function takes numbers and numpy arrays (never tensors), writes one PNG into ``out_dir``
and returns its file name, relative to ``out_dir``, for ``Result.add_figure``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

import numpy as np

from sciml_core import get_pyplot, save_figure


def pyplot() -> ModuleType:
    """``matplotlib.pyplot`` (Agg); a missing ``[plot]`` extra raises, naming it."""
    return get_pyplot("invprob-core")


def ct_reconstructions(
    out_dir: Path,
    truth: np.ndarray,
    panels: Sequence[tuple[str, np.ndarray, float]],
    *,
    name: str = "ct_reconstructions.png",
) -> str:
    """One test phantom and every method's reconstruction of it, four per row.

    Args:
        out_dir: output folder.
        truth: the phantom, ``(n, n)``.
        panels: ``(label, reconstruction (n, n), PSNR in dB)`` per method, in table order.
        name: file name in ``out_dir``.
    """
    plt = pyplot()
    cols = 4
    n_rows = math.ceil((len(panels) + 1) / cols)
    fig, axes = plt.subplots(n_rows, cols, figsize=(3 * cols, 3 * n_rows))
    axes = axes.ravel()
    axes[0].imshow(truth, cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("truth", fontsize=8)
    for ax, (label, image, p) in zip(axes[1:], panels, strict=False):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{label}\n{p:.1f} dB", fontsize=7)
    for ax in axes:
        ax.axis("off")
    save_figure(fig, out_dir / name)
    plt.close(fig)
    return name


def ct_sinogram_training(
    out_dir: Path,
    sinogram: np.ndarray,
    curves: Mapping[str, Sequence[float]],
    *,
    name: str = "ct_sinogram_training.png",
) -> str:
    """A noisy sinogram ``(angles, bins)`` and the critics' training curves (moving average),
    written to ``out_dir / name``."""
    plt = pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    ax[0].imshow(sinogram, aspect="auto", cmap="gray")
    ax[0].set_title("noisy analytic sinogram (angles x bins)")
    for label, h in curves.items():
        w = max(1, len(h) // 20)
        ax[1].plot(np.convolve(h, np.ones(w) / w, mode="valid"), label=label)
    ax[1].set_xlabel("training step")
    ax[1].set_ylabel("E psi(artefact) - E psi(clean), batch")
    ax[1].legend()
    save_figure(fig, out_dir / name)
    plt.close(fig)
    return name


def convergence(
    out_dir: Path,
    n: int,
    angles: int,
    levels: Sequence[float],
    ct: Sequence[tuple[Sequence[Sequence[float]], str]],
    gap: float,
    deblur: Sequence[Sequence[float]],
) -> str:
    """Linear PnP error against the noise level, log-log, mean +- std over the draws.

    Args:
        out_dir: output folder.
        n, angles: the CT geometry (for the title).
        levels: relative noise levels.
        ct: ``(errors (levels x draws), legend label)`` per CT curve.
        gap: ``||x_R - x_true|| / ||x_true||`` (a horizontal line).
        deblur: errors (levels x draws) of the periodic deblurring panel.
    """
    plt = pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for data, lab in ct:
        mu, sd = np.mean(data, 1), np.std(data, 1)
        ax[0].errorbar(levels, mu, yerr=sd, marker="o", label=lab, capsize=2)
    ax[0].axhline(gap, color="gray", ls=":", label="||x_R - x_true|| / ||x_true||")
    ax[0].set_xscale("log")
    ax[0].set_yscale("log")
    ax[0].set_xlabel("relative noise level d/||y0||")
    ax[0].set_title(f"CT {n}x{n}, {angles} angles, Wiener denoiser")
    ax[0].legend(fontsize=6)
    ax[1].errorbar(levels, np.mean(deblur, 1), yerr=np.std(deblur, 1), marker="o", capsize=2)
    ax[1].set_xscale("log")
    ax[1].set_yscale("log")
    ax[1].set_xlabel("relative noise level")
    ax[1].set_title("periodic deblurring: (a) with tau = min(1, 10 d)")
    name = "convergence.png"
    save_figure(fig, out_dir / name)
    plt.close(fig)
    return name


def deblurring(
    out_dir: Path, title: str, truth: np.ndarray, panels: Mapping[str, tuple[np.ndarray, float]]
) -> str:
    """The truth and each panel ``label: (image (n, n), PSNR in dB)`` side by side."""
    plt = pyplot()
    fig, ax = plt.subplots(1, 1 + len(panels), figsize=(15, 3.3))
    ax[0].imshow(truth, cmap="gray", vmin=0, vmax=1)
    ax[0].set_title(title, fontsize=8)
    for a_, (k, (image, p)) in zip(ax[1:], panels.items(), strict=False):
        a_.imshow(image, cmap="gray", vmin=0, vmax=1)
        a_.set_title(f"{k}\n{p:.2f} dB", fontsize=7)
    for a_ in ax:
        a_.axis("off")
    name = "deblurring.png"
    save_figure(fig, out_dir / name)
    plt.close(fig)
    return name
