"""The operator zoo shared by the adjoint, differentiability and norm tests."""

from __future__ import annotations

import math

import numpy as np
import torch

import invprob_core as ip

N = 12


def zoo(n: int = N) -> dict[str, ip.LinearOperator]:
    g = torch.Generator().manual_seed(0)
    mask = (torch.rand(n, n, generator=g) < 0.5).to(torch.float64)
    kern = torch.rand(3, 5, generator=g, dtype=torch.float64)
    ops: dict[str, ip.LinearOperator] = {
        "identity": ip.Identity((n, n)),
        "diagonal": ip.Diagonal(torch.randn(n, n, generator=g, dtype=torch.float64)),
        "mask": ip.Mask(mask),
        "mri": ip.MaskedFourier(mask),
        "gradient": ip.Gradient((n, n)),
        "ray": ip.RayTransform(n, angles=7),
        "ray_nocircle_ndet": ip.RayTransform(
            n, angles=np.linspace(0.1, 2.0, 5), n_det=n + 3, circle=False
        ),
        "ray_spp1": ip.RayTransform(n, angles=4, spp=1),
        "ray_siddon": ip.RayTransform(n, angles=np.linspace(0.0, 3.0, 7), method="siddon"),
        "denoiser": ip.CirculantDenoiser(
            ip.CirculantDenoiser.fit_wiener(torch.randn(4, n, n, generator=g), 0.5).spectrum
        ),
    }
    for b in ("circular", "zero", "reflect", "replicate"):
        ops[f"blur_{b}"] = ip.Blur(kern, boundary=b, shape=(n, n))
    for k in ("box", "gaussian", "lanczos2"):
        ops[f"downsample_{k}"] = ip.Downsample(2, kernel=k, shape=(n, n))
    if n % 3 == 0:
        ops["downsample3_reflect"] = ip.Downsample(3, "box", boundary="reflect", shape=(n, n))
    ray = ops["ray"]
    ops["composed"] = ray @ ops["blur_zero"]
    ops["sum"] = ops["blur_circular"] + 0.5 * ops["mask"]
    ops["difference"] = ops["identity"] - ops["denoiser"]
    ops["scaled"] = -2.5 * ray
    ops["adjoint_of_ray"] = ray.H
    ops["gram"] = ray.gram()
    ops["vstack"] = ip.VStack([ray, ip.Gradient((n, n))])
    return ops


def random_pair(op: ip.LinearOperator, dtype: torch.dtype, seed: int = 0, batch=(2, 1)):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*batch, *op.in_shape, generator=g, dtype=torch.float64)
    if op.complex_domain:
        x = torch.complex(x, torch.randn(x.shape, generator=g, dtype=torch.float64))
    yshape = (*batch, *op.out_shape)
    y = torch.randn(yshape, generator=g, dtype=torch.float64)
    if op.complex_range:
        y = torch.complex(y, torch.randn(yshape, generator=g, dtype=torch.float64))
    cd = torch.complex64 if dtype == torch.float32 else torch.complex128
    x = x.to(cd if x.is_complex() else dtype)
    y = y.to(cd if y.is_complex() else dtype)
    return x, y


def dense_matrix(op: ip.LinearOperator) -> torch.Tensor:
    n_in = math.prod(op.in_shape)
    eye = torch.eye(n_in, dtype=torch.float64).reshape(n_in, *op.in_shape)
    cols = op(eye).reshape(n_in, -1)
    return cols.T
