"""``dsp-prior curve``: PSNR against iteration of DIP and our reading of DSP on one image."""

from __future__ import annotations

import json
from pathlib import Path

import invprob_core as ipc
from sciml_core import InputError, atomic_write_text, resolve_device
from sciml_core.cli import progress

from .._skip import SkipNet
from .._tasks import denoise, inpaint, super_resolve
from .data import clean_image, noisy_image, plot_curves


def curve(
    out_dir: Path,
    *,
    image: str,
    task: str,
    iterations: int,
    size: int,
    methods: tuple[str, ...],
    seed: int,
    device: str = "cpu",
) -> list[Path]:
    """Fit each method on the same degraded image; write ``curve.json`` (and ``curve.png``).

    Denoising: sigma 25/255 (clipped); inpainting: 50 % random pixels; SR: x4 Lanczos-2. The small
    CPU network; PSNR logged every 10 iterations.

    Returns:
        The written paths.
    """
    if isinstance(size, bool) or size < 16 or size % 8:
        raise InputError(f"--size: expected a multiple of 8 >= 16, got {size}")
    dev = resolve_device(device)
    x = clean_image(image, size).to(dev)
    curves: dict[str, tuple[list[int], list[float]]] = {}
    summary: dict[str, object] = {
        "image": image,
        "task": task,
        "size": size,
        "iterations": iterations,
        "seed": seed,
    }
    for method in progress(methods, desc="curve", unit="method"):
        common = dict(
            method=method,
            net=SkipNet.small(1),
            iterations=iterations,
            x_true=x,
            seed=seed,
            log_every=10,
            progress_bar=False,
        )
        if task == "denoise":
            res = denoise(noisy_image(x, 25 / 255, seed), **common)
        elif task == "inpaint":
            mask = ipc.random_pixel_mask((size, size), 0.5, seed=seed)[0].to(dev)
            res = inpaint(mask * x, mask, **common)
        elif task == "sr":
            y = ipc.Downsample(4, "lanczos2", "replicate")(x)
            res = super_resolve(y, 4, **common)
        else:
            raise InputError(f"--task: expected denoise, inpaint or sr, got {task!r}")
        its = [int(i) for i in res.history["iteration"]]
        curves[method] = (its, res.history["psnr"])
        summary[method] = {
            "iteration": its,
            "psnr": res.history["psnr"],
            "ssim": res.history["ssim"],
            "psnr_ema": res.history["psnr_ema"],
        }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary["note"] = "'dsp' is our reading of the Deep Spectral Prior (arXiv:2505.19873)"
    written = [atomic_write_text(out / "curve.json", json.dumps(summary, indent=1) + "\n")]
    labels = {
        m: ("DSP (our reading)" if m.startswith("dsp") else m.upper()) + f" [{m}]" for m in curves
    }
    if plot_curves(
        out / "curve.png",
        {labels[m]: c for m, c in curves.items()},
        f"{task} {image} {size}x{size}",
    ):
        written.append(out / "curve.png")
    return written
