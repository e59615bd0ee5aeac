"""Peak CPU memory of one training step, adapter against full fine-tuning (spec section 8).

Each variant runs in a **fresh interpreter** (:mod:`subprocess`): after its imports and the batch
it resets the kernel's high-water mark of its resident set (``VmHWM``, by writing ``5`` to
``/proc/self/clear_refs``), then builds the backbone and the model, the optimizer, and takes two
training steps. ``growth_mib`` is the peak over the resident set before the model was built: the
model's weights (the same on both sides), the optimizer's state and gradients (trainable
parameters only) and the activations a step keeps for its backward. A measure after a warm-up
step would miss memory the allocator kept from the first step. Linux only; where ``/proc`` or the
reset is unavailable the row says so and has no ratio.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

__all__ = ["memory_rows", "step_growth_mib"]

BACKBONES = {"tinyunet": 32, "small": 64}
"""Backbone -> grid edge of the step (TinyUNet 32³ batch 4, the ``small`` ViT 64³ batch 2)."""


def _status_mib(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    raise OSError(f"/proc/self/status has no {field}")


def _child(spec: str) -> None:
    """Run in the child: the batch, reset ``VmHWM``, model, optimizer, two steps; print JSON."""
    import torch

    from .._encoders import TinyUNet
    from .._hyda import FullFineTune, HyDA
    from .._sam3d import ViT3DTaps, build_image_encoder
    from .bench import _step

    cfg = json.loads(spec)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    mods = ["T1", "FLAIR"]
    size = BACKBONES[cfg["backbone"]]
    batch = 4 if cfg["backbone"] == "tinyunet" else 2
    vols = {m: torch.randn(batch, 1, size, size, size) for m in mods}
    y = (vols["T1"][:, 0] > 1.0).long()
    before = _status_mib("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        reset = True
    except OSError:
        reset = False
    if cfg["backbone"] == "tinyunet":
        net = TinyUNet(1, 5)
        kw: dict[str, Any] = {"decoder": net.decoder, "num_classes": 2}
        encoder: torch.nn.Module = net.encoder
    else:
        enc = build_image_encoder("small")
        encoder = ViT3DTaps(enc, tuple(range(1, len(enc.blocks) + 1)))
        kw = {"num_classes": 2, "upsample": 4}
    if cfg["method"] == "hyda":
        model: torch.nn.Module = HyDA(encoder, mods, **kw)
        model.update_bank(model.encode(vols))  # type: ignore[operator]
    else:
        model = FullFineTune(encoder, mods, **kw)
    step = _step(model, vols, y)  # the bench's training step: AdamW, Dice + CE
    step()
    step()
    peak = _status_mib("VmHWM")
    print(json.dumps({"before_mib": before, "peak_mib": peak, "hwm_reset": reset}))


def step_growth_mib(backbone: str, method: str, *, timeout: float = 600.0) -> dict[str, Any]:
    """One variant's measurement in a fresh interpreter: ``before_mib``, ``peak_mib``,
    ``growth_mib`` and ``hwm_reset`` (False: the peak includes the setup)."""
    spec = json.dumps({"backbone": backbone, "method": method})
    code = f"from brain_hyda._experiments.memory import _child; _child({spec!r})"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
        env=_one_thread_env(),
    )
    cell: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    cell["growth_mib"] = cell["peak_mib"] - cell["before_mib"]
    return cell


def _one_thread_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = "1"
    return env


def memory_rows(backbones: tuple[str, ...] = ("tinyunet", "small")) -> list[dict[str, Any]]:
    """Per backbone: the HyDA step's and the full fine-tuning step's growth and their ratio."""
    rows = []
    for backbone in backbones:
        hyda, full = step_growth_mib(backbone, "hyda"), step_growth_mib(backbone, "finetune")
        ok = hyda["hwm_reset"] and full["hwm_reset"] and full["growth_mib"] > 0
        rows.append(
            {
                "backbone": backbone,
                "grid": BACKBONES[backbone],
                "hyda_growth_mib": round(hyda["growth_mib"], 1),
                "finetune_growth_mib": round(full["growth_mib"], 1),
                "memory_ratio": round(hyda["growth_mib"] / full["growth_mib"], 3) if ok else None,
                "hwm_reset": bool(hyda["hwm_reset"] and full["hwm_reset"]),
            }
        )
    return rows
