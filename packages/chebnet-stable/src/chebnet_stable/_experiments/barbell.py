"""Barbell regression (spec §5.2, the paper's Table 2): the mean of the opposite clique must cross
one bridge edge; MLP, GCN, A-DGN, ChebNet and Stable-ChebNet side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._datasets import make_barbell
from .plots import draw_barbell
from .zoo import LABELS, ModelId, sci, summarise, train_all

if TYPE_CHECKING:
    from .registry import Context

__all__ = ["PAPER_BARBELL", "run"]

PAPER_BARBELL: dict[tuple[int, ModelId], str] = {  # arXiv:2506.07624 v2, Table 2, K = 10
    (50, "chebnet"): "0.05±0.00",
    (50, "stable-chebnet"): "0.05±0.00",
    (70, "chebnet"): "1.08±0.01",
    (70, "stable-chebnet"): "0.06±0.03",
}


def run(ctx: Context) -> None:
    """Table and figure ``barbell``; per size the claims Stable ≤ ChebNet and Chebyshev ≪ local."""
    res, out, seed, cfg = ctx.result, ctx.out_dir, ctx.seed, ctx.config
    sizes = cfg.barbell_sizes
    seeds = tuple(seed + i for i in range(cfg.barbell_seeds))
    epochs = cfg.barbell_epochs
    rows: list[list[Any]] = []
    mse: dict[tuple[int, ModelId], float] = {}  # (n, model) -> mean test MSE over seeds
    for n in sizes:
        splits = [
            make_barbell(n, m, seed=seed * cfg.data_seed_stride + 10 * n + i)
            for i, m in enumerate(cfg.barbell_samples)
        ]
        results = train_all(
            "barbell",
            n,
            splits,
            task_type="regression",
            in_ch=1,
            out_ch=1,
            hidden=cfg.hidden,
            epochs=epochs,
            lr=cfg.lr,
            seeds=seeds,
            cayley=cfg.cayley_models,
        )
        for name, runs in results.items():
            m, sd = summarise([r["test"] for r in runs])
            mse[n, name] = m
            rows.append(
                [
                    n,
                    LABELS[name],
                    m,
                    sd,
                    min(r["epochs"] for r in runs),
                    float(np.mean([r["wall_s"] for r in runs])),
                    PAPER_BARBELL.get((n, name), "—"),
                ]
            )
    res.add_table(
        "barbell",
        "Barbell regression: test MSE at best validation (≈1: no transfer, ≲0.25: solved); "
        f"hidden {cfg.hidden}, Adam lr {sci(cfg.lr)}, batch 64, {epochs} epochs for every model, "
        f"{len(seeds)} seed(s); paper: K = 10",
        ["n", "model", "test MSE", "std", "epochs run", "train s", "paper MSE (K=10)"],
        rows,
    )
    draw_barbell(rows, out / "barbell.png")
    res.add_figure(
        "barbell.png", "Barbell test MSE per model (log scale; 1 = no information crossed)"
    )
    for n in sizes:
        stable, cheb = mse[n, "stable-chebnet"], mse[n, "chebnet"]
        local = min(mse[n, "gcn"], mse[n, "mlp"])
        res.add_claim(
            f"Barbell n={n}: Stable-ChebNet ≤ ChebNet",
            "Stable ≤ ChebNet (Table 2)",
            f"Stable {stable:.4f} vs ChebNet {cheb:.4f}",
            stable <= cheb,
        )
        res.add_claim(
            f"Barbell n={n}: Chebyshev models ≪ GCN ≈ MLP",
            "ChebNet and Stable far below GCN and MLP (≈ 1)",
            f"max(Cheb, Stable) {max(stable, cheb):.4f} vs min(GCN, MLP) {local:.4f}",
            max(stable, cheb) < 0.5 * local,
        )
