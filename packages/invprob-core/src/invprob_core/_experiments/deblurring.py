"""Deblurring example: periodic Gaussian blur of a natural image, Tikhonov vs PnP vs TV.

scikit-image's ``camera`` (the ``[images]`` extra) or, without it, Shepp-Logan; blur sigma 2 px,
2 % noise; Tikhonov alpha and PnP tau by the discrepancy principle, TV with a fixed alpha.
"""

from __future__ import annotations

import torch

from sciml_core import psnr, root_seed

from .._blur import Blur, gaussian_kernel
from .._noise import add_noise
from .._pdhg import pdhg_tv
from .._phantoms import random_ellipses
from .._pnp import CirculantDenoiser, LinearPnP
from .._tikhonov import discrepancy_alpha
from . import figures
from .evaluate import TAU_DP
from .registry import Context

NOISE = 0.02
BLUR_SIGMA = 2.0
TV_ALPHA = 0.002


def _image(n: int) -> tuple[torch.Tensor, str]:
    """``(image (1, 1, n, n) float64, its name)``."""
    try:
        from .._images import sample_image

        return sample_image("camera", n)[None].double(), "camera"
    except ImportError:
        from .._phantoms import shepp_logan

        return shepp_logan(n)[None, None].double(), "Shepp-Logan"


def run(ctx: Context) -> None:
    """Add the ``deblurring`` table and figure."""
    cfg = ctx.config
    n, s = cfg.deblur_n, cfg.seeds
    base = root_seed(ctx.seed)
    x, name = _image(n)
    A = Blur(gaussian_kernel(BLUR_SIGMA), "circular", shape=(n, n))
    y, d = add_noise(A(x), NOISE, seed=base + s.deblur_noise)
    train, _ = random_ellipses(n, cfg.deblur_train, seed=base + s.deblur_train)
    D = CirculantDenoiser.fit_wiener(train.double(), cfg.denoiser_sigma)
    alpha, rt = discrepancy_alpha(A, y, float(d[0]), TAU_DP)
    tau, rp = LinearPnP(A, D).tau_by_discrepancy(y, float(d[0]), TAU_DP)
    rv = pdhg_tv(A, y, TV_ALPHA, nonneg=True, max_iter=cfg.tv_iters)
    recs = {
        "blurred + 2% noise": y,
        f"Tikhonov (DP, alpha={alpha:.2g})": rt.x,
        f"PnP Wiener (DP, tau={tau:.2g})": rp.x,
        "TV-PDHG (alpha=0.002)": rv.x,
    }
    scores = {k: psnr(v[0, 0], x[0, 0], data_range=1.0) for k, v in recs.items()}
    panels = {k: (v[0, 0].detach().cpu().numpy(), scores[k]) for k, v in recs.items()}
    file = figures.deblurring(ctx.out_dir, f"{name} (truth)", x[0, 0].cpu().numpy(), panels)
    ctx.result.add_figure(
        file, f"Periodic Gaussian deblurring (sigma 2 px) of {name} {n}x{n}, 2% noise"
    )
    ctx.result.add_table(
        "deblurring",
        f"Deblurring {name} {n}x{n}, Gaussian sigma 2, 2% noise (PSNR, data range 1)",
        ["method", "PSNR"],
        [[k, round(v, 2)] for k, v in scores.items()],
    )
