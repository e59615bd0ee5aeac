"""The long-horizon check of the central claim on one image, affordable where ``--full`` is not.

    python -m dsp_prior._experiments.horizon_sweep --out DIR [--size 64] [--horizon 3000]
        [--k0 0.15] [--seed 0]

Fits DIP and our reading of DSP (v2, Gaussian weight ``k0``) on the validation image (camera,
sigma 25/255) to a long horizon (3000 = about 10x DIP's peak iteration at 64x64) and writes
``horizon_sweep.json``: final, EMA, ES-WMV (100/1000 and 50/500) and oracle-peak PSNR, the drop
from peak to final, and the PSNR curves. This is not ``reproduce --full``: one image, one seed,
``k0`` not validated; the README says which claim it speaks to.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import subprocess
import time
from pathlib import Path

from sciml_core import atomic_write_text

from ..__about__ import __version__
from .config import FULL
from .context import Context
from .denoising import fit_denoising


def sweep(out: Path, *, size: int, horizon: int, k0: float, seed: int) -> Path:
    """Run the sweep and write ``out/horizon_sweep.json``; return its path."""
    cfg = dataclasses.replace(FULL, size=size, horizon=horizon)
    ctx = Context(result=None, out_dir=out, config=cfg, seed=seed, device="cpu")  # type: ignore[arg-type]
    grid = ((100, 1000), (50, 500))
    start = time.perf_counter()
    runs = {}
    for method, k in (("dip", None), ("dsp", k0)):
        rec = fit_denoising(ctx, method, cfg.validation_image, seed, k, grid)
        runs[method] = {
            "final_psnr": rec.final_psnr,
            "final_ssim": rec.final_ssim,
            "ema_psnr": rec.ema_psnr,
            "oracle_peak_psnr": rec.peak_psnr,
            "oracle_peak_iteration": rec.peak_iteration,
            "peak_to_final_drop": rec.drop,
            "eswmv": {
                f"{w}/{p}": {"iteration": it, "psnr": ps, "fired": fired}
                for (w, p), (it, ps, fired) in rec.eswmv.items()
            },
            "seconds_per_iteration": rec.seconds_per_iteration,
            "psnr_curve": {"iteration": rec.iterations, "psnr": rec.psnr_curve},
        }
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    data = {
        "what": "long-horizon check on one image; not a reproduce --full run",
        "method_note": (
            "'dsp' is our reading of the Deep Spectral Prior (arXiv:2505.19873), v2, "
            "Gaussian weight"
        ),
        "package": "dsp-prior",
        "version": __version__,
        "commit": commit,
        "machine": f"{platform.machine()}, shared 2-core CPU (load 5-8), 1 thread",
        "python": platform.python_version(),
        "settings": {
            "image": cfg.validation_image,
            "size": size,
            "sigma": cfg.sigma,
            "horizon": horizon,
            "k0": k0,
            "seed": seed,
            "net": "SkipNet.small(1)",
            "input_perturbation": cfg.input_perturbation,
            "lr": 0.01,
            "ema": 0.99,
        },
        "runs": runs,
        "wall_s": time.perf_counter() - start,
    }
    out.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(out / "horizon_sweep.json", json.dumps(data, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--horizon", type=int, default=3000)
    parser.add_argument("--k0", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(sweep(args.out, size=args.size, horizon=args.horizon, k0=args.k0, seed=args.seed))


if __name__ == "__main__":
    main()
