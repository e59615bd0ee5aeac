"""Inpainting (spec §6, ``--full`` only): 50 % random pixels known, noise-free, one image."""

from __future__ import annotations

from collections.abc import Callable

import torch

import invprob_core as ipc

from .._fit import FitResult, fit
from .context import Context
from .data import RUN_COLUMNS, clean_image, method_loss, metrics, record, run_row, small_net, tv

TASK = "inpainting"


def run(ctx: Context) -> None:
    """DIP and our reading of DSP (``k0`` from denoising's validation) and TV on one image."""
    cfg = ctx.config
    if not cfg.inpaint_image:
        ctx.not_tested.append((f"{TASK}: our reading of DSP vs DIP", "--full only (cost)"))
        return
    k0 = ctx.values.get(("denoising", "k0"), cfg.k0_grid[0])
    mask = ipc.random_pixel_mask((cfg.size, cfg.size), cfg.inpaint_keep, seed=ctx.seed)[0].to(
        ctx.device
    )
    op = ipc.Mask(mask)

    def data(name: str) -> tuple[torch.Tensor, torch.Tensor]:
        x = clean_image(name, cfg.size).to(ctx.device)
        return x, op(x)

    x_val, y_val = data(cfg.validation_image)
    scores = {a: metrics(tv(op, y_val, a, cfg.tv_iterations), x_val)[0] for a in cfg.tv_alphas}
    alpha = max(scores, key=scores.__getitem__)
    x, y = data(cfg.inpaint_image)
    rows: list[list[object]] = []
    for method in ("dip", "dsp"):

        def run_fit(
            observers: list[Callable[[torch.Tensor, int], object]], m: str = method
        ) -> FitResult:
            return fit(
                y, op, small_net(), method_loss(m, k0), iterations=cfg.inpaint_horizon,
                input_perturbation=0.03, ema=0.99, x_true=x, log_every=cfg.log_every,
                seed=ctx.seed, progress_bar=False, observers=observers,
            )  # fmt: skip

        rec = record(run_fit, x)
        rows.append(run_row(method, rec))
        ctx.values[(TASK, method, "final")] = rec.final_psnr
        ctx.values[(TASK, method, "drop")] = rec.drop
    tv_psnr, tv_ssim = metrics(tv(op, y, alpha, cfg.tv_iterations), x)
    rows.append(run_row(f"tv (alpha {alpha})", None, (tv_psnr, tv_ssim)))
    ctx.result.add_table(
        TASK,
        f"Inpainting {cfg.inpaint_image} {cfg.size}x{cfg.size} grey, {cfg.inpaint_keep:.0%} pixels "
        f"known, horizon {cfg.inpaint_horizon}; 'dsp' is our reading of DSP (v2, k0={k0})",
        RUN_COLUMNS,
        rows,
    )
    dsp, dip = ctx.values[(TASK, "dsp", "final")], ctx.values[(TASK, "dip", "final")]
    ctx.result.add_claim(
        f"inpainting: our reading of DSP final PSNR > DIP final PSNR at {cfg.inpaint_horizon} "
        "iterations",
        "DSP final > DIP final", f"{dsp:.2f} vs {dip:.2f} dB (one image, one seed)", dsp > dip,
    )  # fmt: skip
