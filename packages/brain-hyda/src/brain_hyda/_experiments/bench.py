"""``brain-hyda bench``: this package against full fine-tuning, a conv3d loop and MONAI.

Rows (``speedup = t_peer / t_ours``): one HyDA training step against one full fine-tuning step of
the same TinyUNet (two modalities, batch 4); the grouped per-patient depthwise convolution against
a Python loop of ``conv3d``; ``dice`` against MONAI's ``DiceMetric`` (skipped with a note when
MONAI is absent); hypergraph propagation against dhg's ``smoothing_with_HGNN`` (skipped with a
note when dhg is absent: it is not in the test group, see the README).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F

from sciml_core import Comparison, compare_timing

from .._dynamic import dynamic_depthwise_conv3d
from .._encoders import TinyUNet
from .._hyda import FullFineTune, HyDA
from .._metrics import dice, dice_ce_loss

MODS = ["T1", "FLAIR"]


def _step(
    model: torch.nn.Module, vols: dict[str, torch.Tensor], y: torch.Tensor
) -> Callable[[], None]:
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)

    def step() -> None:
        loss = dice_ce_loss(model(vols), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def bench(*, quick: bool, seed: int, device: str = "cpu") -> list[Comparison]:
    """Run the benchmark rows and return them."""
    torch.manual_seed(seed)
    size = 16 if quick else 32
    repeats = 5 if quick else 20
    rows = []
    net = TinyUNet(1, 5).to(device)
    vols = {m: torch.randn(4, 1, size, size, size, device=device) for m in MODS}
    y = (vols["T1"][:, 0] > 1.5).long()
    hyda = HyDA(net.encoder, MODS, decoder=net.decoder, num_classes=2).to(device)
    hyda.update_bank(hyda.encode(vols))
    full = FullFineTune(net.encoder, MODS, decoder=net.decoder, num_classes=2).to(device)
    rows.append(
        compare_timing(
            _step(hyda, vols, y),
            _step(full, vols, y),
            repeats=repeats,
            warmup=2,
            device=device,
            label=f"HyDA step vs full fine-tuning step, TinyUNet {size}^3 x2, batch 4",
        )
    )
    for b in (2,) if quick else (2, 8):
        x = torch.randn(b, 16, size, size, size, device=device)
        k = torch.randn(b, 16, 3, 3, 3, device=device)

        def loop(x: torch.Tensor = x, k: torch.Tensor = k) -> torch.Tensor:
            return torch.cat(
                [
                    F.conv3d(x[i : i + 1], k[i][:, None], padding=1, groups=x.shape[1])
                    for i in range(x.shape[0])
                ]
            )

        rows.append(
            compare_timing(
                partial(dynamic_depthwise_conv3d, x, k),
                loop,
                repeats=repeats,
                warmup=2,
                device=device,
                label=f"grouped per-patient depthwise conv vs conv3d loop, batch {b}",
            )
        )
    if importlib.util.find_spec("monai") is not None:
        from monai.metrics import DiceMetric

        edge = 32 if quick else 64
        p = torch.randint(0, 4, (8, edge, edge, edge))
        t = torch.randint(0, 4, (8, edge, edge, edge))
        p1 = F.one_hot(p, 4).movedim(-1, 1)
        t1 = F.one_hot(t, 4).movedim(-1, 1)
        metric = DiceMetric(include_background=False, reduction="none")
        rows.append(
            compare_timing(
                lambda: dice(p, t, num_classes=4, reduction="none"),
                lambda: metric(p1, t1),
                repeats=repeats,
                warmup=2,
                device="cpu",
                label=f"dice vs MONAI DiceMetric, 8 x {edge}^3, 4 classes",
            )
        )
    else:
        print("bench: MONAI is not installed; the Dice row is skipped", file=sys.stderr)
    print(
        "bench: dhg is not a test peer of this package (see the README); its row is skipped",
        file=sys.stderr,
    )
    return rows
