"""``smoothprune bench``: SVD vs Tucker-2, the penalty's cost per step, compressed inference.

Rows report ``speedup = t_peer / t_ours`` (``sciml_core.compare_timing``: medians, alternating
order, load average and device recorded); a missing peer (tensorly) is a skipped row, not an error.
"""

from __future__ import annotations

import os

import torch
from torch.nn import functional as F

from sciml_core import Comparison, compare_timing

from .._compress import compress_model
from .._layers import LowRankConv2d
from .._models import SmallCNN
from .._prune import prune_unstructured, tucker2_factors
from .._regularizer import SmoothnessRegularizer


def _tensorly_installed() -> bool:
    try:
        import tensorly  # noqa: F401
    except ImportError:
        return False
    return True


def bench(*, quick: bool, seed: int, device: str = "cpu") -> list[Comparison]:
    """Run the benchmark rows and return them (the CLI prints them; nothing is asserted)."""
    torch.manual_seed(seed)
    dev = torch.device("cpu" if device == "auto" else device)
    repeats = 3 if quick else 7
    model = SmallCNN().to(dev).eval()
    rows: list[Comparison] = []
    threads = torch.get_num_threads()
    convs = [model.c2, model.c3]
    if _tensorly_installed():

        def ours() -> None:
            for c in convs:
                LowRankConv2d.from_dense(c, c.out_channels // 2)

        def peer() -> None:
            for c in convs:
                tucker2_factors(c.weight, (c.out_channels // 2, c.in_channels // 2))

        rows.append(
            compare_timing(
                ours,
                peer,
                repeats=repeats,
                device=dev,
                label=f"SVD vs tensorly Tucker-2, c2+c3 ({threads} thr)",
            )
        )
    else:
        print("skipped: SVD vs Tucker-2 (tensorly not installed; the [bench] extra)")
    x = torch.randn(128, 1, 20, 20, device=dev)
    y = torch.randint(0, 10, (128,), device=dev)
    train_model = SmallCNN().to(dev)
    opt = torch.optim.AdamW(train_model.parameters(), lr=1e-3)
    for label, reg in (
        (
            "plain step vs step with Δ² penalty",
            SmoothnessRegularizer(train_model, second_order=3e-3),
        ),
        (
            "plain step vs step with nuclear penalty",
            SmoothnessRegularizer(train_model, nuclear=1e-3, second_order=0.0),
        ),
    ):

        def step(r: SmoothnessRegularizer | None) -> None:
            loss = F.cross_entropy(train_model(x), y)
            if r is not None:
                loss = loss + r()
            opt.zero_grad()
            loss.backward()
            opt.step()

        def plain_step() -> None:
            step(None)

        def penalised_step(r: SmoothnessRegularizer = reg) -> None:
            step(r)

        rows.append(
            compare_timing(
                plain_step,
                penalised_step,
                repeats=repeats,
                device=dev,
                label=f"{label} (ratio = cost of the penalty step)",
            )
        )
    compressed = compress_model(model, params=0.3).model.eval()
    masked = prune_unstructured(model, 0.7).eval()
    for batch in (1, 64):
        xb = torch.randn(batch, 1, 20, 20, device=dev)

        def run_compressed(inp: torch.Tensor = xb) -> None:
            compressed(inp)

        def run_dense(inp: torch.Tensor = xb) -> None:
            model(inp)

        def run_masked(inp: torch.Tensor = xb) -> None:
            masked(inp)

        with torch.no_grad():
            for peer_fn, what in ((run_dense, "dense"), (run_masked, "70 % unstructured")):
                rows.append(
                    compare_timing(
                        run_compressed,
                        peer_fn,
                        repeats=repeats * 5,
                        device=dev,
                        label=f"inference at 30 % params vs {what}, batch {batch}",
                    )
                )
    print(f"threads {threads}, load average {os.getloadavg()[0]:.2f}, device {dev}")
    return rows
