"""``brain-hyda bench``: this package against full fine-tuning, a conv3d loop, MONAI and dhg.

Rows (``speedup = t_peer / t_ours``): one HyDA training step against one full fine-tuning step of
the same network (TinyUNet, two modalities, batch 4; without ``--quick`` also the ``small``
SAM-Med3D-layout ViT at 64³, batch 2); the grouped per-patient depthwise convolution against a
Python loop of ``conv3d``; ``dice`` against MONAI's ``DiceMetric``; HyDA's hypergraph propagation
(``hgnn_propagate``, ``norm="sym"``) against dhg's ``smoothing_with_HGNN`` on the same kNN
hyperedges at 16, 256 and 2,048 vertices, once with a new graph per call (HyDA's use: its
vertices are trainable projections, so the graph is rebuilt every forward) and once with dhg's
operator built once and cached (dhg's best case; ours still normalises per call). MONAI and
dhg rows are skipped with a note when the peer is absent. The peak-memory ratios of the same
training steps are :mod:`.memory`'s.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F

from sciml_core import Comparison, compare_timing

from .._dynamic import dynamic_depthwise_conv3d
from .._encoders import TinyUNet
from .._hyda import FullFineTune, HyDA
from .._hypergraph import hgnn_propagate, knn_incidence
from .._metrics import dice, dice_ce_loss
from .._sam3d import ViT3DTaps, build_image_encoder

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


def _adapter_row(
    encoder: torch.nn.Module,
    kw: dict[str, Any],
    batch_size: tuple[int, int],
    device: str,
    repeats: int,
    what: str,
) -> Comparison:
    """One HyDA training step against one full fine-tuning step on the same encoder."""
    batch, size = batch_size
    vols = {m: torch.randn(batch, 1, size, size, size, device=device) for m in MODS}
    y = (vols["T1"][:, 0] > 1.0).long()
    hyda = HyDA(encoder, MODS, **kw).to(device)
    hyda.update_bank(hyda.encode(vols))
    full = FullFineTune(encoder, MODS, **kw).to(device)
    return compare_timing(
        _step(hyda, vols, y),
        _step(full, vols, y),
        repeats=repeats,
        warmup=2,
        device=device,
        label=f"HyDA step vs full fine-tuning step, {what}",
    )


def bench(*, quick: bool, seed: int, device: str = "cpu") -> list[Comparison]:
    """Run the benchmark rows and return them."""
    torch.manual_seed(seed)
    size = 16 if quick else 32
    repeats = 5 if quick else 20
    rows = []
    net = TinyUNet(1, 5).to(device)
    unet_kw: dict[str, Any] = {"decoder": net.decoder, "num_classes": 2}
    rows.append(
        _adapter_row(
            net.encoder, unet_kw, (4, size), device, repeats, f"TinyUNet {size}^3 x2, batch 4"
        )
    )
    if not quick:
        enc = build_image_encoder("small")
        taps = ViT3DTaps(enc, tuple(range(1, len(enc.blocks) + 1)))
        vit_kw: dict[str, Any] = {"num_classes": 2, "upsample": 4}
        rows.append(
            _adapter_row(taps, vit_kw, (2, 64), device, repeats, "small ViT 64^3 x2, batch 2")
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
    if importlib.util.find_spec("dhg") is not None:
        rows.extend(_dhg_rows(quick, repeats))
    else:
        print("bench: dhg is not installed; the propagation rows are skipped", file=sys.stderr)
    return rows


def _dhg_rows(quick: bool, repeats: int) -> list[Comparison]:
    """``hgnn_propagate`` (sym) against dhg's ``smoothing_with_HGNN`` on the same hyperedges."""
    import warnings

    import dhg

    rows = []
    for v in (16, 256) if quick else (16, 256, 2048):
        g = torch.Generator().manual_seed(v)
        z = torch.randn(v, 16, generator=g)
        x = torch.randn(v, 64, generator=g)
        h = _merged(knn_incidence(z, 3))
        edges = [tuple(int(i) for i in torch.nonzero(col).flatten()) for col in h.T]
        hg = dhg.Hypergraph(v, edges)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # dhg's sparse-CSR beta warning
            theirs = hg.smoothing_with_HGNN(x)  # also builds and caches dhg's operator
            ours = hgnn_propagate(x, h, norm="sym")
            if not torch.allclose(ours, theirs, atol=1e-5):
                raise RuntimeError(f"bench: propagation differs from dhg's at {v} vertices")

            # HyDA builds a new hypergraph every forward (its vertices are trainable
            # projections): dhg then builds its Hypergraph and operator each call too
            def fresh(x: torch.Tensor = x, v: int = v, edges: list[Any] = edges) -> Any:
                return dhg.Hypergraph(v, edges).smoothing_with_HGNN(x)

            for peer, how in (
                (fresh, "new graph per call"),
                (hg.smoothing_with_HGNN, "dhg's operator cached"),
            ):
                rows.append(
                    compare_timing(
                        partial(hgnn_propagate, x, h, norm="sym"),
                        fresh if peer is fresh else partial(peer, x),
                        repeats=repeats,
                        warmup=3,
                        device="cpu",
                        label=f"hgnn_propagate (sym) vs dhg smoothing_with_HGNN, {v} vertices, "
                        f"C=64, {how}",
                    )
                )
    return rows


def _merged(h: torch.Tensor) -> torch.Tensor:
    """``h`` with duplicate hyperedges (equal columns) kept once, as dhg's ``Hypergraph`` keeps
    them: both sides then propagate with the same operator."""
    return torch.unique(h.T, dim=0).T
