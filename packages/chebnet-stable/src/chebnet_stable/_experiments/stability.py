"""Stability with depth (spec §5, stability figure): the exact norm of the end-to-end Jacobian of
linear ChebNet and Stable-ChebNet stacks against depth, the product of per-step gains that bounds
it, and the order of one step's gain in ε (Proposition, eqs. 10-12)."""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch

from sciml_core import get_pyplot, save_figure

from .._cheb_conv import ChebConv
from .._datasets import barbell_edge_index
from .._diagnostics import euler_step_gain, jacobian_blocks
from .._stable_conv import EpsilonScaling, StableChebConv
from .config import PKG
from .graphs import er, scaled_laplacian

if TYPE_CHECKING:
    from .registry import Context

__all__ = ["CURVES", "Curve", "chain_norms", "run"]

Curve = Literal[
    "chebnet", "stable", "stable-gain-product", "stable-inv-sqrt-k", "inv-sqrt-k-gain-product"
]
"""The measured curves: ‖J‖ of each stack, and the product of per-step gains bounding it."""
CURVES: tuple[Curve, ...] = typing.get_args(Curve)
_COLUMNS: dict[Curve, str] = {
    "chebnet": "ChebNet",
    "stable": "Stable",
    "stable-gain-product": "Stable Π gains",
    "stable-inv-sqrt-k": "Stable ε/√K",
    "inv-sqrt-k-gain-product": "ε/√K Π gains",
}


def chain_norms(blocks: list[torch.Tensor], eps: float | None) -> list[float]:
    """‖Π_l M_l‖₂ for depth 1..len(blocks) with M_l = I + ε J_l (Euler) or J_l (ChebNet)."""
    eye = torch.eye(blocks[0].shape[1], dtype=torch.float64)
    prod = None
    out = []
    for b in blocks:
        m = b if eps is None else eye + eps * b
        prod = m if prod is None else m @ prod
        out.append(float(torch.linalg.matrix_norm(prod, ord=2).max()))
    return out


def run(ctx: Context) -> None:
    """Tables ``stability`` and ``step_gain_order``, the stability figure and three claims."""
    res, out, seed, cfg = ctx.result, ctx.out_dir, ctx.seed, ctx.config
    plt = get_pyplot(PKG)
    d, eps = 8, 0.45
    depth, ks = cfg.stability_depth, cfg.stability_Ks
    graphs = {
        "barbell(10)": scaled_laplacian(barbell_edge_index(10), 20),
        "ER(40)": scaled_laplacian(er(40, 6, seed), 40),
    }
    torch.manual_seed(seed)
    rows: list[list[Any]] = []
    final: dict[tuple[str, int, Curve], float] = {}  # (graph, K, curve) -> value at full depth
    fig, axes = plt.subplots(1, len(graphs), figsize=(11, 4), sharey=True)
    for ax, (gname, lap) in zip(axes, graphs.items(), strict=True):
        for ci, K in enumerate(ks):
            color = f"C{ci}"
            curves: dict[Curve, list[float]] = {}
            cheb_blocks = []
            for _ in range(depth):
                conv = ChebConv(d, d, K).double()
                cheb_blocks.append(jacobian_blocks(lap, conv.weight.detach()))
            curves["chebnet"] = chain_norms(cheb_blocks, None)
            scalings: tuple[tuple[Curve, Curve, EpsilonScaling], ...] = (
                ("stable", "stable-gain-product", "none"),
                ("stable-inv-sqrt-k", "inv-sqrt-k-gain-product", "inv_sqrt_K"),
            )
            for curve, bound_curve, scaling in scalings:
                steps = [
                    StableChebConv(d, K, epsilon=eps, epsilon_scaling=scaling).double()
                    for _ in range(depth)
                ]
                blocks = [jacobian_blocks(lap, s) for s in steps]
                curves[curve] = chain_norms(blocks, steps[0].effective_epsilon)
                curves[bound_curve] = np.cumprod([euler_step_gain(lap, s) for s in steps]).tolist()
            plotted: tuple[tuple[Curve, str, str], ...] = (
                ("chebnet", "ChebNet", ":"),
                ("stable", "Stable", "-"),
                ("stable-inv-sqrt-k", "Stable inv_sqrt_K", "--"),
            )
            for curve, label, style in plotted:
                ax.semilogy(
                    range(1, depth + 1), curves[curve], style, color=color, label=f"{label}, K={K}"
                )
            for curve in CURVES:
                final[gname, K, curve] = curves[curve][-1]
            rows.append([gname, K, *(final[gname, K, c] for c in CURVES)])
        ax.set_title(gname)
        ax.set_xlabel("depth (layers / Euler steps)")
    axes[0].set_ylabel("‖end-to-end linear Jacobian‖₂")
    axes[-1].legend(fontsize=6, ncol=2)
    save_figure(fig, out / "stability.png")
    plt.close(fig)
    res.add_figure(
        "stability.png",
        f"Exact norm of the end-to-end Jacobian of linear stacks (d = {d}, ε = {eps}, γ = 0, "
        "Glorot init) against depth: ChebNet (dotted), Stable-ChebNet (solid), ε/√K (dashed)",
    )
    res.add_table(
        "stability",
        f"Jacobian norm after {depth} layers/steps (linear, d = {d}, ε = {eps}, γ = 0)",
        ["graph", "K", *(_COLUMNS[c] for c in CURVES)],
        rows,
    )
    cells = [(g, K) for g in graphs for K in ks]
    worst_stable = max(final[g, K, "stable"] for g, K in cells)
    worst_cheb = max(final[g, K, "chebnet"] for g, K in cells)
    worst_scaled = max(final[g, K, "stable-inv-sqrt-k"] for g, K in cells)
    holds = worst_stable < 10 and worst_stable < worst_cheb
    res.add_claim(
        "Stable-ChebNet's Jacobian stays bounded with depth (‖J‖ = 1 + O(ε²) per step), "
        "unlike ChebNet",
        f"bounded end-to-end gain at depth {depth}",
        f"largest Stable gain {worst_stable:.3g} (official ε = {eps}), ChebNet {worst_cheb:.3g}; "
        f"with ε/√K: {worst_scaled:.3g}",
        bool(holds),
    )
    # Proposition (eqs. 10-12): one step's gain is 1 + O(ε²) at γ = 0
    lap = graphs["barbell(10)"]
    step = StableChebConv(d, 8, epsilon=1.0).double()
    a = step.antisymmetric_weights().detach()
    epss = (0.4, 0.2, 0.1, 0.05, 0.025)
    excess = [euler_step_gain(lap, a, epsilon=e) - 1.0 for e in epss]
    ratios = [excess[i] / excess[i + 1] for i in range(len(epss) - 1)]
    res.add_table(
        "step_gain_order",
        "One Euler step's gain − 1 against ε (barbell(10), K = 8, d = 8, γ = 0)",
        ["ε", "gain − 1", "ratio to next ε/2"],
        [[e, x, r] for e, x, r in zip(epss, excess, [*ratios, float("nan")], strict=True)],
    )
    res.add_claim(
        "Per-step gain is 1 + O(ε²) (Proposition, eqs. 10-12; an asymptotic statement)",
        "gain − 1 shrinks 4× when ε halves, as ε → 0",
        f"ratios for ε = 0.4 → 0.025: {[round(r, 3) for r in ratios]}; gain − 1 is "
        f"{excess[0]:.3g} at ε = 0.4, so the regime is only reached for small ε·ω",
        3.6 < ratios[-1] < 4.4,
    )
    bound_ok = all(
        final[g, K, "stable"] <= final[g, K, "stable-gain-product"] * (1 + 1e-9)
        and final[g, K, "stable-inv-sqrt-k"] <= final[g, K, "inv-sqrt-k-gain-product"] * (1 + 1e-9)
        for g, K in cells
    )
    res.add_claim(
        "The end-to-end Jacobian norm is at most the product of per-step euler_step_gain values",
        "‖J_L…J_1‖ ≤ Π_l gain_l",
        "holds on every graph and K" if bound_ok else "violated",
        bound_ok,
    )
