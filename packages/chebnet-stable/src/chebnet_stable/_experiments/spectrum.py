"""Spectral claims without training (spec §5.1): the damping kernel, Theorem 3 on three graphs,
the Jacobian spread with K (Theorem 1 / Fig. 4), exact k-hop transfer (§3.4), one-layer gains."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import torch

from sciml_core import get_pyplot, save_figure

from .._cheb_conv import ChebConv
from .._datasets import barbell_edge_index, grid_edge_index, path_edge_index, ring_edge_index
from .._diagnostics import jacobian_blocks, jacobian_spectrum, layer_gain
from .._stable_conv import StableChebConv, damping_kernel
from .config import PKG
from .graphs import er, scaled_laplacian

if TYPE_CHECKING:
    from .registry import Context

__all__ = ["run"]


def run(ctx: Context) -> None:
    """Tables ``damping_kernel``, ``theorem3``, ``jacobian_spread``, ``chebyshev_shift``,
    ``init_gain``; the damping-kernel figure; the Theorem 3, damping-shift and Theorem 1 claims."""
    res, out, seed, cfg = ctx.result, ctx.out_dir, ctx.seed, ctx.config
    plt = get_pyplot(PKG)
    mu = torch.linspace(-1, 1, 200_001, dtype=torch.float64)
    rows: list[list[Any]] = []
    for K in (2, 3, 4, 8, 10, 20):
        s = damping_kernel(K, mu)
        fej = damping_kernel(K, mu, damping="fejer")
        rows.append([K, float((s < 0).double().mean()), float(s.min()), float(fej.min())])
    res.add_table(
        "damping_kernel",
        "Per-order damping s(μ) = Σ_{k<K} T_k(μ) on [-1, 1] (γ > 0 anti-damps where s < 0)",
        ["K", "fraction s<0", "min s (per_order)", "min s (fejer)"],
        rows,
    )
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for K in (3, 4, 10):
        ax.plot(mu[::100], damping_kernel(K, mu[::100]), label=f"per_order, K={K}")
    ax.plot(mu[::100], damping_kernel(10, mu[::100], damping="fejer"), "--", label="fejer, K=10")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("μ (eigenvalue of L̂)")
    ax.set_ylabel("s(μ)")
    ax.legend(fontsize=8)
    save_figure(fig, out / "damping_kernel.png")
    plt.close(fig)
    res.add_figure(
        "damping_kernel.png", "Damping profile of γ per eigenmode; negative = anti-damped"
    )

    # Theorem 3 on three graphs, d = 8, and the damping shift at γ = 0.1
    gen = torch.Generator().manual_seed(seed)
    graphs = {
        "barbell(10)": (barbell_edge_index(10), 20),
        "ring(40)": (ring_edge_index(40), 40),
        "grid(8x8)": (grid_edge_index(8, 8), 64),
    }
    rows = []
    re_max: dict[tuple[str, int], float] = {}  # (graph, K) -> max |Re λ| at γ = 0
    shift_err: dict[tuple[str, int], float] = {}  # (graph, K) -> max |Re λ + γ s(μ_i)|
    for name, (ei, n) in graphs.items():
        lap = scaled_laplacian(ei, n)
        mu_l = torch.linalg.eigvalsh(lap.to_dense())
        for K in (1, 2, 3, 5, 10):
            v = torch.randn(K, 8, 8, dtype=torch.float64, generator=gen)
            a = v.triu(1) - v.triu(1).transpose(1, 2)
            re0 = float(jacobian_spectrum(lap, a).real.abs().max())
            spec = jacobian_spectrum(lap, a, gamma=0.1)
            expected = (-0.1 * damping_kernel(K, mu_l)).repeat_interleave(8)
            shift = float((spec.real.sort().values - expected.sort().values).abs().max())
            re_max[name, K], shift_err[name, K] = re0, shift
            rows.append([name, K, re0, shift])
    res.add_table(
        "theorem3",
        "Linear Stable ODE Jacobian (d = 8): max |Re λ| at γ = 0, and max |Re λ + γ s(μ_i)| "
        "at γ = 0.1",
        ["graph", "K", "max |Re λ| (γ=0)", "max damping-shift error (γ=0.1)"],
        rows,
    )
    worst_re = max([0.0, *re_max.values()])
    worst_shift = max([0.0, *shift_err.values()])
    res.add_claim(
        "Theorem 3: antisymmetric weights + sym Laplacian give a purely imaginary "
        "Jacobian spectrum",
        "max |Re λ| = 0",
        f"max |Re λ| = {worst_re:.2e} over barbell(10), ring(40), grid(8x8), K in 1..10",
        worst_re < 1e-10,
    )
    res.add_claim(
        "γ shifts each eigenmode's real part by −γ·s(μ_i) (our exact block analysis, §1.5)",
        "Re λ = −γ s(μ_i)",
        f"max deviation {worst_shift:.2e}",
        worst_shift < 1e-10,
    )

    # Theorem 1 / Fig. 4: the squared singular values of ChebNet's Jacobian spread with K
    lap = scaled_laplacian(barbell_edge_index(10), 20)
    rows = []
    spread: dict[tuple[int, str], float] = {}  # (K, "mean" | "std") -> value of σ²
    spread_Ks = (2, 4, 8, 16, 32)
    for K in spread_Ks:
        theta = torch.randn(K, 8, 8, dtype=torch.float64, generator=gen) / math.sqrt(8)
        sv2 = torch.linalg.svdvals(jacobian_blocks(lap, theta)).reshape(-1) ** 2
        spread[K, "mean"], spread[K, "std"] = float(sv2.mean()), float(sv2.std())
        rows.append([K, float(sv2.mean()), float(sv2.std()), float(sv2.max())])
    res.add_table(
        "jacobian_spread",
        "ChebNet layer Jacobian on barbell(10), Θ_k ~ N(0, 1/d): squared singular values vs K",
        ["K", "mean σ²", "std σ²", "max σ²"],
        rows,
    )
    means = [spread[K, "mean"] for K in spread_Ks]
    stds = [spread[K, "std"] for K in spread_Ks]
    growing = all(b > a for vals in (means, stds) for a, b in itertools.pairwise(vals))
    res.add_claim(
        "Theorem 1 / Fig. 4: ChebNet's Jacobian spectrum spreads as K grows",
        "mean and spread of σ² increase with K (linearly for scaled T_k)",
        f"mean σ² for K = 2..32: {[round(m, 2) for m in means]}; "
        f"std σ²: {[round(v, 2) for v in stds]}",
        growing,
    )

    # §3.4: exact k-hop transfer of one Chebyshev term vs a GCN-like power of the adjacency
    cases = [
        ("ring(40)", ring_edge_index(40), 40, 0, 20, 20),
        ("path(41)", path_edge_index(41), 41, 0, 20, 20),
        ("path(41)", path_edge_index(41), 41, 0, 40, 40),
        ("grid(8x8) corner", grid_edge_index(8, 8), 64, 0, 63, 14),
        ("barbell(10) bridge", barbell_edge_index(10), 20, 0, 11, 3),
    ]
    rows = []
    for name, ei, n, src, dst, k in cases:
        mat = scaled_laplacian(ei, n).to_dense()
        a_hat = -mat  # at λ_max = 2, L̂ = −D^{-1/2} A D^{-1/2}
        t0, t1 = torch.eye(n, dtype=torch.float64), mat
        for _ in range(2, k + 1):
            t0, t1 = t1, 2 * mat @ t1 - t0
        tk = t1 if k >= 1 else t0
        rows.append(
            [
                name,
                k,
                abs(float(tk[dst, src])),
                abs(float(torch.linalg.matrix_power(a_hat, k)[dst, src])),
            ]
        )
    res.add_table(
        "chebyshev_shift",
        "One Chebyshev term carries a signal k hops undamped on rings and paths (sanity checks, "
        "not wins), unlike a GCN-like Â^k; across a barbell's bridge it is tiny too",
        ["graph", "hops k", "|T_k(L̂)[v,u]|", "|Â^k[v,u]|"],
        rows,
    )

    # §3.2: one-layer gains at initialisation
    n, d = cfg.gain_nodes, cfg.gain_features
    lap32 = scaled_laplacian(er(n, 8, seed), n, torch.float32)
    x = torch.randn(n, d, generator=gen)
    rows = []
    torch.manual_seed(seed)
    for K in cfg.gain_Ks:
        g1 = layer_gain(ChebConv(d, d, K), x, lap32)
        g2 = layer_gain(ChebConv(d, d, K, init="variance_preserving"), x, lap32)
        step = StableChebConv(d, K, epsilon=0.45, gamma=0.1)
        g3 = layer_gain(step, x, lap32)
        rows.append([K, g1, math.sqrt((K + 1) / 2), g2, g3])
    res.add_table(
        "init_gain",
        f"One-layer gain ‖out‖/‖x‖ at init on ER({n}), d = {d}",
        ["K", "ChebConv glorot", "√((K+1)/2)", "variance_preserving", "Euler step (ε=0.45, γ=0.1)"],
        rows,
    )
