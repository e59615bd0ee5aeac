"""Command line of dsp-prior: ``restore``, ``curve``, ``reproduce``, ``bench``.

The experiments are imported inside the command functions only, so that ``import dsp_prior``
never loads them.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

import invprob_core as ipc
from sciml_core import (
    InputError,
    atomic_path,
    atomic_write_text,
    format_comparisons,
    read_array,
    read_image,
    require_extra,
    resolve_device,
)
from sciml_core.cli import App, check_output, wrote

from .__about__ import __version__
from ._fit import FitResult
from ._skip import SkipNet
from ._tasks import METHODS, TASKS, deblur, denoise, inpaint, super_resolve

app = App(
    "dsp-prior",
    version=__version__,
    description=(
        "Deep Image Prior and the Deep Spectral Prior (our reading of arXiv:2505.19873) on "
        "invprob-core's operators."
    ),
)

NETS = ("dip", "small")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".npy")


def _read_image(path: Path, argument: str) -> np.ndarray:
    """An image file as float64 ``(C, H, W)``: 8-bit files divided by 255, 16-bit by 65535.

    ``.npy`` through ``sciml_core.read_array`` (values kept), other formats through
    ``sciml_core.read_image``; grey (``YX``) or RGB (``YXS`` with 3 samples) only.
    """
    if path.suffix.lower() == ".npy":
        arr = read_array(path, argument=argument)
        if arr.dtype.kind not in "fiub":
            raise InputError(f"{argument}: expected a numeric array, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
        if arr.ndim == 3 and arr.shape[-1] in (1, 3):
            arr = np.moveaxis(arr, -1, 0)
        elif arr.ndim != 2:
            raise InputError(
                f"{argument}: expected an image (H, W) or (H, W, 1|3), got shape {arr.shape}"
            )
    else:
        raw, axes = read_image(path, argument=argument, package="dsp-prior", extra="io")
        if axes not in ("YX", "YXS") or (axes == "YXS" and raw.shape[-1] not in (1, 3)):
            raise InputError(
                f"{argument}: expected a grey or RGB image, got shape {raw.shape} with axes "
                f"{axes!r} (remove an alpha channel; stacks are not restored)"
            )
        scale = float(np.iinfo(raw.dtype).max) if raw.dtype.kind in "iu" else 1.0
        arr = raw.astype(np.float64) / scale
        arr = np.moveaxis(arr, -1, 0) if axes == "YXS" else arr
    arr = arr[None] if arr.ndim == 2 else arr
    if not np.isfinite(arr).all():
        raise InputError(f"{argument}: contains NaN or inf")
    return arr


def _write_image(path: Path, x: np.ndarray) -> None:
    """``(C, H, W)`` in [0, 1] to ``.npy`` (float32) or an 8-bit image, atomically."""
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".npy":
            with open(tmp, "wb") as fh:
                np.save(fh, x.astype(np.float32))
        else:
            image_mod = require_extra("PIL.Image", extra="io", package="dsp-prior")
            data = np.clip(np.rint(np.moveaxis(x, 0, -1) * 255.0), 0, 255).astype(np.uint8)
            img = image_mod.fromarray(data[..., 0] if data.shape[-1] == 1 else data)
            img.save(tmp, format=image_mod.registered_extensions()[path.suffix.lower()])


def _positive_count(value: int | None, flag: str) -> int | None:
    if value is not None and value < 1:
        raise InputError(f"{flag}: expected an integer >= 1, got {value}")
    return value


def _restore(args: argparse.Namespace) -> int:
    iterations = _positive_count(args.iterations, "--iterations")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise InputError(f"--lr: expected a finite number > 0, got {args.lr}")
    if not (math.isfinite(args.sigma) and args.sigma >= 0):
        raise InputError(f"--sigma: expected a finite number >= 0 (0-255 units), got {args.sigma}")
    out = Path(args.output)
    history_path = out.with_name(out.name + ".history.json")
    check_output(history_path, args.overwrite)
    device = resolve_device(args.device)
    y_np = _read_image(Path(args.image), "IMAGE")
    channels, h, w = y_np.shape
    factor = args.factor if args.task == "sr" else 1
    scales = 5 if args.net == "dip" else 3
    step = 2**scales
    if (h * factor) % step or (w * factor) % step:
        raise InputError(
            f"IMAGE: the restored size {h * factor}x{w * factor} must be divisible by {step} "
            f"(the {scales}-scale '{args.net}' network); crop the image"
        )
    y = torch.from_numpy(y_np)[None].to(device=device, dtype=torch.float32)
    net = {
        "dip": {"inpaint": SkipNet.dip_inpainting, "sr": SkipNet.dip_super_resolution}.get(
            args.task, SkipNet.dip_denoising
        ),
        "small": SkipNet.small,
    }[args.net](channels)
    common: dict[str, Any] = dict(
        method=args.method, net=net, lr=args.lr, seed=args.seed, progress_bar=True
    )
    if iterations is not None:
        common["iterations"] = iterations
    res: FitResult
    if args.task == "denoise":
        res = denoise(y, sigma=args.sigma / 255.0, **common)
    elif args.task == "inpaint":
        if args.mask is None:
            raise InputError("--mask: inpainting needs a mask file (1 = known pixel, 0 = hole)")
        m = _read_image(Path(args.mask), "--mask")
        if m.shape[-2:] != (h, w):
            raise InputError(
                f"--mask: expected size {h}x{w} (the image's), got {m.shape[-2]}x{m.shape[-1]}"
            )
        mask = torch.from_numpy((m.max(axis=0) > 0.5).astype(np.float32)).to(device)
        res = inpaint(y, mask, **common)
    elif args.task == "sr":
        res = super_resolve(y, factor, **common)
    else:
        res = deblur(y, ipc.gaussian_kernel(args.kernel_sigma), **common)
    x = (
        res.x_final
        if args.estimate == "final"
        else res.x_ema
        if res.x_ema is not None
        else res.x_final
    )
    _write_image(out, x[0].detach().cpu().double().numpy())
    summary = {
        "image": str(args.image), "task": args.task, "method": args.method, "net": args.net,
        "estimate": args.estimate, "iterations": res.stopped_at, "lr": args.lr, "seed": args.seed,
        "note": "method 'dsp' is our reading of the Deep Spectral Prior (arXiv:2505.19873)",
        "history": res.history,
    }  # fmt: skip
    atomic_write_text(history_path, json.dumps(summary, indent=1) + "\n")
    wrote(out)
    return 0


def _curve(args: argparse.Namespace) -> int:
    from ._experiments.curve import curve

    iterations = _positive_count(args.iterations, "--iterations")
    assert iterations is not None
    for path in curve(
        Path(args.out), image=args.image, task=args.task, iterations=iterations, size=args.size,
        methods=tuple(args.methods), seed=args.seed, device=args.device,
    ):  # fmt: skip
        wrote(path)
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from ._experiments.reproduce import reproduce

    path = reproduce(
        Path(args.out), quick=args.quick, seed=args.seed, device=args.device, budget=args.budget
    )
    wrote(path)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from ._experiments.bench import bench

    print(format_comparisons(bench(quick=args.quick, seed=args.seed, device=args.device)))
    return 0


p = app.add_command(
    "restore", _restore,
    help="restore one image file (DIP or our reading of DSP); also writes OUTPUT.history.json",
    common=("seed", "device", "quiet"),
)  # fmt: skip
p.add_argument(
    "image", metavar="IMAGE", help="degraded image (.png, .jpg, .tif, or .npy in [0, 1])"
)
p.add_argument(
    "--task", choices=TASKS, required=True, help="denoise, inpaint, sr (x factor) or deblur"
)
p.add_argument("--method", choices=METHODS, default="dsp", help="loss (default dsp: our reading)")
p.add_argument("--mask", help="inpainting mask file of the image's size (1 = known, 0 = hole)")
p.add_argument(
    "--sigma", type=float, default=25.0, help="noise level in 0-255 units (denoise; default 25)"
)
p.add_argument("--factor", type=int, default=4, help="super-resolution factor (default 4)")
p.add_argument(
    "--kernel-sigma", type=float, default=1.6, help="Gaussian blur sigma (deblur; default 1.6)"
)
p.add_argument(
    "--iterations", type=int, help="iterations (default: the DIP notebook's for the task)"
)
p.add_argument("--lr", type=float, default=0.01, help="Adam learning rate (default 0.01)")
p.add_argument(
    "--net", choices=NETS, default="dip", help="dip (reference, GPU-sized) or small (CPU)"
)
p.add_argument("--estimate", choices=("final", "ema"), default="final", help="final iterate or EMA")
app.add_output_argument(p, suffixes=IMAGE_SUFFIXES)

c = app.add_command(
    "curve", _curve, help="PSNR against iteration for DIP and our reading of DSP on one image",
    common=("seed", "device", "out", "quiet"),
)  # fmt: skip
c.add_argument("--image", default="camera", help="scikit-image sample image name (default camera)")
c.add_argument(
    "--task",
    choices=TASKS,
    default="denoise",
    help="denoise (sigma 25/255), inpaint (50%% pixels), sr (x4) or deblur (Gaussian 1.6 + noise "
    "0.01) (default %(default)s)",
)
c.add_argument("--iterations", type=int, default=1000, help="horizon (default 1000)")
c.add_argument("--size", type=int, default=64, help="image side (multiple of 8; default 64)")
c.add_argument("--methods", nargs="+", choices=METHODS, default=["dip", "dsp"])

r = app.add_reproduce(_reproduce)
# no ``choices`` here: the budgets live in _experiments, which cli.py imports only when a command
# runs; reproduce() checks the value against BUDGETS (one-line error, exit 2)
r.add_argument(
    "--budget",
    default="spec",
    help="--full only: 'spec' (64x64, 3000 iterations, 3 test images x 2 seeds, SR from 128x128; "
    "26 CPU-minutes measured) or 'reduced' (32x32, 2000 iterations = over 10x DIP's peak "
    "there, 1 seed, SR from 64x64; about 8 CPU-minutes) (default %(default)s)",
)
app.add_bench(_bench)


def main(argv: list[str] | None = None) -> int:
    return app.run(argv)
