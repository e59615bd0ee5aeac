"""RingTransfer (spec §5.3, the paper's Fig. 3): a class label n/2 hops away on a ring. A sanity
check: on a ring T_k(L̂) is an exact k-hop shift, so ChebNet is favoured by construction (§3.4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._datasets import make_ring_transfer
from .plots import draw_ring
from .zoo import LABELS, ModelId, sci, train_all

if TYPE_CHECKING:
    from .registry import Context

__all__ = ["run"]


def run(ctx: Context) -> None:
    """Table and figure ``ring``; per size the claims ChebNet solves it and (n ≥ 20) GCN fails."""
    res, out, seed, cfg = ctx.result, ctx.out_dir, ctx.seed, ctx.config
    sizes, samples, epochs = cfg.ring_sizes, cfg.ring_samples, cfg.ring_epochs
    rows: list[list[Any]] = []
    acc: dict[tuple[int, ModelId], float] = {}  # (n, model) -> test accuracy
    for n in sizes:
        splits = [
            make_ring_transfer(n, m, seed=seed * cfg.data_seed_stride + 10 * n + i)
            for i, m in enumerate(samples)
        ]
        results = train_all(
            "ring",
            n,
            splits,
            task_type="classification",
            in_ch=5,
            out_ch=5,
            hidden=cfg.hidden,
            epochs=epochs,
            lr=cfg.lr,
            seeds=(seed,),
            cayley=cfg.cayley_models,
        )
        for name, runs in results.items():
            acc[n, name] = runs[0]["test"]
            rows.append([n, LABELS[name], runs[0]["test"], runs[0]["epochs"], runs[0]["wall_s"]])
    res.add_table(
        "ring",
        f"RingTransfer (5 classes, chance 0.2): test accuracy; {samples} train/val/test "
        f"graphs, Adam lr {sci(cfg.lr)}, {epochs} epochs for every model. A sanity check: on a "
        "ring T_k(L̂) is an exact k-hop shift, so ChebNet is favoured by construction (spec §3.4)",
        ["n", "model", "test accuracy", "epochs run", "train s"],
        rows,
    )
    draw_ring(rows, out / "ring.png")
    res.add_figure("ring.png", "RingTransfer accuracy against distance (chance = 0.2)")
    for n in sizes:
        cheb, gcn = acc[n, "chebnet"], acc[n, "gcn"]
        res.add_claim(
            f"RingTransfer n={n}: ChebNet solves it (Fig. 3)",
            "ChebNet accuracy ≈ 1",
            f"ChebNet {cheb:.3f}, GCN {gcn:.3f}",
            cheb >= 0.95,
        )
        if n >= 20:
            res.add_claim(
                f"RingTransfer n={n}: GCN fails at long range (Fig. 3)",
                "GCN near chance (0.2)",
                f"GCN {gcn:.3f}",
                gcn <= 0.4,
            )
