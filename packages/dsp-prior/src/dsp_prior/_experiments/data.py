"""Shared experiment helpers: images, degradations, one recorded DIP/DSP run, TV, figures."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

import invprob_core as ipc
from sciml_core import MissingExtraError, get_pyplot, psnr, save_figure, ssim

from .._fit import FitResult
from .._losses import DSPLoss, Loss, PixelMSE
from .._skip import SkipNet
from .._stopping import RunningVariance, VarianceMonitor
from .._weights import RadialWeight

#: The floor of DSP's Gaussian weight (spec §4 item 3), not tuned.
FLOOR = 0.05


def clean_image(name: str, size: int) -> torch.Tensor:
    """A grey scikit-image sample image ``(1, 1, size, size)`` in ``[0, 1]`` (invprob-core)."""
    # invprob-core checks the name at run time; its Literal type is not part of its public API
    return ipc.sample_image(name, size)[None]  # type: ignore[arg-type]


def noisy_image(x: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    """``clip(x + sigma * e, 0, 1)``: absolute Gaussian noise then DIP's clipping."""
    y, _ = ipc.add_noise(x, sigma, relative=False, seed=seed)
    return y.clamp(0.0, 1.0)


def method_loss(method: str, k0: float | None = None) -> Loss:
    """``"dip"``: pixel MSE; ``"dsp"``: our reading of DSP v2 with a Gaussian weight at ``k0``."""
    if method == "dip":
        return PixelMSE()
    if method == "dsp" and k0 is not None:
        return DSPLoss("v2", weight=RadialWeight.gaussian(k0, FLOOR))
    raise ValueError(f"unknown experiment method {method!r} (k0={k0})")


def small_net() -> SkipNet:
    """The CPU network of every run (spec §6): 3 scales of 32 channels, skip 4, grey."""
    return SkipNet.small(1)


def metrics(x: torch.Tensor, ref: torch.Tensor, crop: int = 0) -> tuple[float, float]:
    """PSNR (data range 1) and SSIM of ``x`` against ``ref``, a border of ``crop`` left out."""
    if crop:
        x, ref = x[..., crop:-crop, crop:-crop], ref[..., crop:-crop, crop:-crop]
    a, b = x.detach().cpu().double().numpy()[0], ref.detach().cpu().double().numpy()[0]
    return psnr(a, b, data_range=1.0), ssim(a, b, data_range=1.0)


@dataclass
class Record:
    """The numbers of one fitted run."""

    final_psnr: float
    final_ssim: float
    ema_psnr: float | None
    peak_psnr: float
    peak_iteration: int
    iterations: list[int]
    psnr_curve: list[float]
    eswmv: dict[tuple[int, int], tuple[int | None, float | None, bool]] = field(
        default_factory=dict
    )
    seconds_per_iteration: float = float("nan")

    def psnr_at(self, iteration: int) -> float:
        """Logged PSNR at ``iteration`` (the validated stop reads the curve: same trajectory)."""
        return self.psnr_curve[self.iterations.index(iteration)]

    @property
    def drop(self) -> float:
        """Oracle peak minus final PSNR (dB)."""
        return self.peak_psnr - self.final_psnr


def record(
    run: Any,
    x_true: torch.Tensor,
    *,
    eswmv_grid: tuple[tuple[int, int], ...] = (),
    crop: int = 0,
) -> Record:
    """Call ``run(observers=...)`` (a task call returning a ``FitResult``) and record it.

    ES-WMV settings in ``eswmv_grid`` are followed by monitors on the same run (they observe,
    never steer), so one run gives the final, EMA, ES-WMV and (oracle) peak numbers.
    """
    monitors: dict[tuple[int, int], VarianceMonitor] = {
        (w, p): RunningVariance(w, p).monitor() for w, p in eswmv_grid
    }
    start = time.perf_counter()
    res: FitResult = run(observers=[m.update for m in monitors.values()])
    seconds = time.perf_counter() - start
    final_psnr, final_ssim = metrics(res.x_final, x_true, crop)
    curve = res.history["psnr"]
    its = [int(i) for i in res.history["iteration"]]
    best = max(range(len(curve)), key=curve.__getitem__)
    es: dict[tuple[int, int], tuple[int | None, float | None, bool]] = {}
    for key, mon in monitors.items():
        p = None if mon.best_iterate is None else metrics(mon.best_iterate, x_true, crop)[0]
        es[key] = (mon.best_iteration, p, mon.stopped)
    return Record(
        final_psnr=final_psnr,
        final_ssim=final_ssim,
        ema_psnr=None if res.x_ema is None else metrics(res.x_ema, x_true, crop)[0],
        peak_psnr=curve[best],
        peak_iteration=its[best],
        iterations=its,
        psnr_curve=curve,
        eswmv=es,
        seconds_per_iteration=seconds / max(res.stopped_at, 1),
    )


#: Columns of a task table with one row per method (inpainting, super-resolution).
RUN_COLUMNS = [
    "method",
    "final PSNR",
    "final SSIM",
    "EMA PSNR",
    "oracle peak PSNR",
    "oracle peak it",
    "peak-final drop",
]


def run_row(
    method: str, rec: Record | None, psnr_ssim: tuple[float, float] | None = None
) -> list[object]:
    """A row of ``RUN_COLUMNS``: a fitted run's numbers, or a baseline's PSNR and SSIM only."""
    if rec is not None:
        return [method, rec.final_psnr, rec.final_ssim, rec.ema_psnr, rec.peak_psnr,
                rec.peak_iteration, rec.drop]  # fmt: skip
    if psnr_ssim is None:
        raise ValueError("run_row needs a record or a baseline's (PSNR, SSIM)")
    return [method, *psnr_ssim, None, None, None, None]


def tv(A: ipc.LinearOperator, y: torch.Tensor, alpha: float, iterations: int) -> torch.Tensor:
    """invprob-core's ``pdhg_tv`` with the nonnegativity constraint (spec §6)."""
    return ipc.pdhg_tv(A, y, alpha, nonneg=True, max_iter=iterations).x


def plot_curves(path: Path, curves: dict[str, tuple[list[int], list[float]]], title: str) -> bool:
    """PSNR against iteration, one line per method; False when matplotlib is missing."""
    try:
        plt = get_pyplot("dsp-prior")
    except MissingExtraError:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, (its, values) in curves.items():
        ax.plot(its, values, label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("PSNR to the truth [dB]")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, path)
    plt.close(fig)
    return True
