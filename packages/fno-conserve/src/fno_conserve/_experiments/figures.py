"""The PNG figures of a case (matplotlib, the ``[plot]`` extra): error bars, conservation
histogram, one test sample with the learned ``s(x)``, rollout error and drift."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from sciml_core import get_pyplot, save_figure

from .cases import EPS32, CaseRun

if TYPE_CHECKING:
    from .registry import Context


def case_figures(ctx: Context, run: CaseRun) -> None:
    """Save the figures of ``run`` into ``ctx.out_dir`` and add them to the result."""
    plt = get_pyplot("fno-conserve")
    name, variants, out = run.name, run.variants, ctx.out_dir
    fig, ax = plt.subplots(figsize=(6, 3.5))
    means = [np.mean([r.ev32["rel_l2"] for r in run.per[v]]) for v in variants]
    stds = [np.std([r.ev32["rel_l2"] for r in run.per[v]]) for v in variants]
    ax.bar(variants, means, yerr=stds, capsize=4, color="#4c72b0")
    ax.set_ylabel("test rel-L2 (mean ± std over seeds)")
    ax.set_title(name)
    fig.tight_layout()  # labels inside the canvas
    save_figure(fig, out / f"{name}_rel_l2.png")
    ctx.result.add_figure(f"{name}_rel_l2.png", f"{name}: test relative L2 error per variant")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for v in variants:
        errs = np.concatenate([r.ev32["cons_per_sample_rel"] for r in run.per[v]])
        ax.hist(np.log10(np.maximum(errs, 1e-18)), bins=30, alpha=0.6, label=v)
    ax.axvline(np.log10(EPS32), color="k", ls="--", lw=1, label="float32 eps")
    ax.set_xlabel("log10 relative conservation error per test sample (float32)")
    ax.legend(fontsize=7)
    fig.tight_layout()  # labels inside the canvas
    save_figure(fig, out / f"{name}_conservation_hist.png")
    ctx.result.add_figure(
        f"{name}_conservation_hist.png",
        f"{name}: per-sample conservation error, float32 (log scale)",
    )
    test = run.test
    if "adaptive" in run.models and "plain" in run.models and test["x"].ndim == 3:
        x0 = test["x"][:1].to(ctx.device).float()
        truth = (test["y"][:1, 0] if test["y"].ndim == 4 else test["y"][:1])[0, 0]
        model_a = run.models["adaptive"][1]
        with torch.no_grad():
            ua, info = model_a.float()(x0, return_info=True)
            up = run.models["plain"][1].float()(x0)
        grid_x = np.arange(truth.shape[-1]) / truth.shape[-1]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(grid_x, truth.numpy(), "k", label="truth")
        ax.plot(grid_x, up[0, 0].cpu().numpy(), label="plain")
        ax.plot(grid_x, ua[0, 0].cpu().numpy(), label="adaptive")
        if "s" in info:
            ax2 = ax.twinx()
            ax2.plot(grid_x, info["s"][0, 0].cpu().numpy(), ":", color="gray", label="s(x)")
            ax2.set_ylabel("learned s(x)")
        ax.legend(fontsize=7)
        fig.tight_layout()  # labels inside the canvas
        save_figure(fig, out / f"{name}_sample.png")
        ctx.result.add_figure(f"{name}_sample.png", f"{name}: one test sample and the learned s(x)")
    if run.rollouts:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
        for v, r in run.rollouts.items():
            steps = np.arange(1, len(r["rel_l2"]) + 1)
            axes[0].semilogy(steps, r["rel_l2"], "o-", label=v)
            axes[1].semilogy(steps, np.maximum(r["drift"], 1e-18), "o-", label=v)
        axes[0].set_xlabel("step")
        axes[0].set_ylabel("rel-L2")
        axes[1].set_xlabel("step")
        axes[1].set_ylabel("conservation drift (relative)")
        axes[1].legend(fontsize=7)
        fig.tight_layout()  # labels inside the canvas
        save_figure(fig, out / f"{name}_rollout.png")
        ctx.result.add_figure(
            f"{name}_rollout.png", f"{name}: rollout error and conservation drift"
        )
