"""``dsp-prior curve``: PSNR against iteration of DIP and our reading of DSP on one image."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

import invprob_core as ipc
from sciml_core import InputError, atomic_write_text, resolve_device
from sciml_core.cli import progress

from .._fit import FitResult
from .._skip import SkipNet
from .._tasks import TASKS, deblur, denoise, inpaint, super_resolve
from .data import clean_image, noisy_image, plot_curves

#: Noise of the deblurring curve (``[0, 1]`` units): blur alone leaves DIP nothing to overfit.
DEBLUR_SIGMA = 0.01
#: Gaussian blur of the deblurring curve (the ``restore`` default, spec §2.1).
DEBLUR_KERNEL_SIGMA = 1.6


@dataclass(frozen=True)
class _Degraded:
    """One degraded observation of the clean image and the task call that restores it."""

    description: str
    restore: Callable[..., FitResult]


def _degrade(task: str, x: torch.Tensor, seed: int) -> _Degraded:
    """The observation of ``x`` for ``task`` (the same for every method) and its restorer."""
    size = x.shape[-1]
    if task == "denoise":
        y = noisy_image(x, 25 / 255, seed)
        return _Degraded(
            "y = clip(x + N(0, (25/255)^2), 0, 1)",
            lambda **k: denoise(y, **k),
        )
    if task == "inpaint":
        mask = ipc.random_pixel_mask((size, size), 0.5, seed=seed)[0].to(x.device)
        return _Degraded(
            "y = m * x, 50 % random pixels known",
            lambda **k: inpaint(mask * x, mask, **k),
        )
    if task == "sr":
        y_lr = ipc.Downsample(4, "lanczos2", "replicate")(x)
        return _Degraded(
            "y = Downsample(4, lanczos2, replicate)(x)",
            lambda **k: super_resolve(y_lr, 4, **k),
        )
    kernel = ipc.gaussian_kernel(DEBLUR_KERNEL_SIGMA).to(x.device)
    y = noisy_image(ipc.Blur(kernel, boundary="circular")(x), DEBLUR_SIGMA, seed)
    return _Degraded(
        f"y = clip(Blur(gaussian {DEBLUR_KERNEL_SIGMA}, circular)(x) + N(0, {DEBLUR_SIGMA}^2), "
        "0, 1)",
        lambda **k: deblur(y, kernel, **k),
    )


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

    Denoising: sigma 25/255 (clipped); inpainting: 50 % random pixels; SR: x4 Lanczos-2;
    deblurring: Gaussian blur sigma 1.6 (circular), then noise sigma 0.01 (clipped). The small CPU
    network; PSNR logged every 10 iterations.

    Returns:
        The written paths.
    """
    if task not in TASKS:
        raise InputError(f"--task: expected one of {TASKS}, got {task!r}")
    if isinstance(size, bool) or size < 16 or size % 8:
        raise InputError(f"--size: expected a multiple of 8 >= 16, got {size}")
    if task == "sr" and size < 24:  # SSIM's 11-pixel window after a 4-pixel border crop
        raise InputError(f"--size: sr leaves out a 4-pixel border; expected >= 24, got {size}")
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
    degraded = _degrade(task, x, seed)
    summary["degradation"] = degraded.description
    for method in progress(methods, desc="curve", unit="method"):
        res = degraded.restore(
            method=method,
            net=SkipNet.small(1),
            iterations=iterations,
            x_true=x,
            seed=seed,
            log_every=10,
            progress_bar=False,
        )
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
