"""Pre-train the TinyUNet backbone (the SAM-Brain3D stand-in) on the ``pretrain`` preset."""

from __future__ import annotations

import time

import torch

from .._encoders import TinyUNet
from .._train import pretrain_backbone
from .context import Context


def run(ctx: Context) -> None:
    """Pre-train once; store the network for the later studies; table of held-out FLAIR Dice."""
    c = ctx.config
    start = time.perf_counter()
    net, held = pretrain_backbone(
        subjects=c.pretrain_subjects,
        epochs=c.pretrain_epochs,
        size=c.size,
        seed=ctx.seed,
        show_progress=False,
    )
    seconds = time.perf_counter() - start
    ctx.store["backbone"] = net
    ctx.values["pretrain", "seconds"] = seconds
    ctx.result.add_table(
        "pretraining",
        f"TinyUNet pre-trained on {c.pretrain_subjects} subjects x (T1, FLAIR, T2), "
        f"{c.pretrain_epochs} epochs, {c.size}^3: held-out FLAIR Dice (8 subjects)",
        ["grey", "white", "ventricle", "lesion", "seconds"],
        [
            [round(held[k], 4) for k in ("grey", "white", "ventricle", "lesion")]
            + [round(seconds, 1)]
        ],
    )


def backbone_state(ctx: Context) -> dict[str, torch.Tensor]:
    """The pre-trained backbone's ``state_dict`` (what a worker job gets instead of the module)."""
    net: TinyUNet = ctx.store["backbone"]
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def rebuild(state: dict[str, torch.Tensor]) -> TinyUNet:
    """A fresh TinyUNet (the pretraining layout, in ``eval()``) holding the weights ``state``."""
    with torch.random.fork_rng(devices=[]):  # the weights are replaced: draw nothing globally
        net = TinyUNet(1, 5)
    net.load_state_dict(state)
    return net.eval()
