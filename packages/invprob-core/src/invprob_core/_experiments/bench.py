"""``invprob-core bench``: the ray transform against scikit-image, a grid_sample projector and
ASTRA's CPU projectors (when ``astra-toolbox`` is installed)."""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from sciml_core import (
    Comparison,
    InputError,
    adjoint_test,
    atomic_write_text,
    compare_timing,
    format_comparisons,
    resolve_device,
)

from .._ray import _MEMORY_CACHE, RayTransform
from .astra_peer import astra_module, bench_astra

Timed = list[tuple[Comparison, int]]
"""Each comparison with the number of images per timed call."""
Skimage = tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]


class GridSampleProjector:
    r"""Rotation-based parallel-beam projector (the common PyTorch approach), a bench peer only.

    Each angle rotates the image with ``affine_grid``/``grid_sample`` (bilinear, zeros outside)
    and sums columns times the pixel size. Its adjoint here is the autograd VJP, which is exact
    for its forward but only once differentiable and nondeterministic on CUDA.
    """

    def __init__(self, n: int, theta: np.ndarray, chunk: int = 30) -> None:
        self.n, self.h, self.chunk = n, 2.0 / n, chunk
        self.theta = torch.from_numpy(np.asarray(theta, dtype=np.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Rotate and sum: line integrals of ``x`` at every angle.

        Shapes:
            x: ``(B, n, n)`` -> ``(B, N_theta, n)``.
        """
        b = x.shape[0]
        outs = []
        for a0 in range(0, len(self.theta), self.chunk):
            th = self.theta[a0 : a0 + self.chunk].to(x.device, x.dtype)
            c, s = torch.cos(th), torch.sin(th)
            # sample the image along rays: detector s along e = (cos, sin), ray t along e_perp
            mat = torch.stack(
                [
                    torch.stack([c, -s, torch.zeros_like(c)], 1),
                    torch.stack([-s, -c, torch.zeros_like(c)], 1),
                ],
                1,
            )  # (A, 2, 3)
            grid = F.affine_grid(mat, [len(th), 1, self.n, self.n], align_corners=False)
            grid = grid[None].expand(b, -1, -1, -1, -1).reshape(-1, self.n, self.n, 2)
            img = x[:, None].expand(-1, len(th), -1, -1).reshape(-1, 1, self.n, self.n)
            rot = F.grid_sample(
                img, grid, mode="bilinear", padding_mode="zeros", align_corners=False
            )
            outs.append(rot.reshape(b, len(th), self.n, self.n).sum(dim=-2) * self.h)
        return torch.cat(outs, dim=1)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        """The autograd VJP of :meth:`forward`.

        Shapes:
            y: ``(B, N_theta, n)`` -> ``(B, n, n)``.
        """
        x = torch.zeros(
            y.shape[0], self.n, self.n, dtype=y.dtype, device=y.device, requires_grad=True
        )
        with torch.enable_grad():
            out = self.forward(x)
            (g,) = torch.autograd.grad(out, x, grad_outputs=y)
        return g


def _skimage() -> Skimage | None:
    try:
        from skimage.transform import iradon, radon
    except ImportError:
        return None
    return radon, iradon


def _disc_images(n: int, batch: int, gen: torch.Generator) -> torch.Tensor:
    """Random images that vanish outside a disc (``circle=True`` objects for every peer)."""
    c = (torch.arange(n) - n / 2 + 0.5) * (2.0 / n)
    disc = (c[None, :] ** 2 + c[:, None] ** 2) < 0.9
    return torch.rand(batch, n, n, generator=gen) * disc


def _time_pair(
    A: RayTransform,
    gs: GridSampleProjector,
    x: torch.Tensor,
    y: torch.Tensor,
    label: str,
    timed: Timed,
    **kw: Any,
) -> None:
    """``A``, ``A*`` and ``A + A*``: ours against the grid_sample peer on the same inputs;
    appends ``(Comparison, batch size)`` to ``timed``."""
    for what, ours, peer in (
        ("A", lambda: A(x), lambda: gs.forward(x)),
        ("A*", lambda: A.adjoint(y), lambda: gs.adjoint(y)),
        ("A+A*", lambda: A.adjoint(A(x)), lambda: gs.adjoint(gs.forward(x))),
    ):
        c = compare_timing(ours, peer, label=f"n={A.n} {what} vs {label}", **kw)
        timed.append((c, len(x)))


def _bench_size(
    n: int,
    batch: int,
    repeats: int,
    seed: int,
    gen: torch.Generator,
    sk: Skimage | None,
    timed: Timed,
) -> dict[str, object]:
    theta = np.arange(180) * np.pi / 180
    _MEMORY_CACHE.clear()
    with tempfile.TemporaryDirectory() as tmp:
        # max_nnz is raised for the bench (512^2 x 180 angles needs ~100 M non-zeros, above the
        # default guard of 60 M; spp=1 would not help enough: it removes about 6 % of them)
        spp, max_nnz = 2, 200_000_000
        t0 = time.perf_counter()
        A = RayTransform(n, angles=180, spp=spp, cache_dir=tmp, max_nnz=max_nnz)
        cold = time.perf_counter() - t0
        _MEMORY_CACHE.clear()
        t0 = time.perf_counter()
        RayTransform(n, angles=180, spp=spp, cache_dir=tmp, max_nnz=max_nnz)
        disk = time.perf_counter() - t0
    x = _disc_images(n, batch, gen)
    y = A(x)
    A.adjoint(y)
    info: dict[str, object] = {
        "n": n,
        "angles": 180,
        "spp": spp,
        "batch": batch,
        "nnz": A.nnz,
        "matrix_MB": round(A.matrix_bytes / 2**20, 1),
        "cold_build_s": round(cold, 2),
        "disk_load_s": round(disk, 2),
        "adjoint_mismatch_ours": adjoint_test(
            A,
            A.adjoint,
            x[:2].double(),
            torch.randn(len(x[:2]), 180, n, generator=gen, dtype=torch.float64),
        ),
    }
    print(
        f"n={n}: nnz={A.nnz / 1e6:.1f} M, matrix {info['matrix_MB']} MB (M and M^T), "
        f"cold build {cold:.1f} s, disk-cache load {disk:.2f} s"
    )
    gs = GridSampleProjector(n, theta)
    xd = x[:2].double()
    yd = torch.randn(len(xd), 180, n, generator=gen, dtype=torch.float64)
    # ours against the grid_sample forward on the same images (same geometry, other sampling)
    info["rel_diff_A_vs_grid_sample"] = float((gs.forward(xd) - A(xd)).norm() / A(xd).norm())
    info["adjoint_mismatch_grid_sample"] = adjoint_test(gs.forward, gs.adjoint, xd, yd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _time_pair(A, gs, x, y, f"grid_sample (batch {batch})", timed, repeats=repeats, warmup=1)
        if sk is not None:
            radon, iradon = sk
            deg = np.rad2deg(theta)
            imgs = x.numpy().astype(np.float64)
            sins = [radon(im, theta=deg, circle=True) for im in imgs]
            c = compare_timing(
                lambda: A.adjoint(A(x)),
                lambda: [
                    iradon(
                        radon(im, theta=deg, circle=True),
                        theta=deg,
                        filter_name=None,
                        circle=True,
                    )
                    for im in imgs
                ],
                repeats=repeats,
                warmup=1,
                label=f"n={n} A+A* vs skimage radon+iradon(filter_name=None) "
                f"(looped, {batch} images)",
            )
            timed.append((c, batch))
            xs = np.random.default_rng(seed).standard_normal((n, n))
            xs *= (
                np.add.outer((np.arange(n) - n / 2 + 0.5) ** 2, (np.arange(n) - n / 2 + 0.5) ** 2)
                < (n / 2) ** 2
            )
            ys = np.random.default_rng(seed + 1).standard_normal(sins[0].shape)
            lhs = float(np.sum(radon(xs, theta=deg, circle=True) * ys))
            rhs = float(np.sum(xs * iradon(ys, theta=deg, filter_name=None, circle=True)))
            info["skimage_radon_iradon_ratio"] = lhs / rhs
            info["skimage_nominal_ratio_2N/pi"] = 2 * 180 / math.pi
        astra = astra_module()
        if astra is None:
            info["astra"] = "not installed: pip install astra-toolbox (or invprob-core[bench])"
        else:
            astra_info, astra_rows = bench_astra(astra, A, x, repeats, spp, max_nnz)
            info.update(astra_info)
            timed.extend((c, batch) for c in astra_rows)
    return info


def _bench_cuda(
    n: int, batch: int, repeats: int, gen: torch.Generator, dev: torch.device, timed: Timed
) -> dict[str, object]:
    """Ours against the grid_sample peer on the same CUDA device (scikit-image stays on CPU)."""
    theta = np.arange(180) * np.pi / 180
    A = RayTransform(n, angles=180)  # default: cuSPARSE unless torch asks for determinism
    x = _disc_images(n, batch, gen).to(dev)
    t0 = time.perf_counter()
    y = A(x)
    torch.cuda.synchronize(dev)
    upload = time.perf_counter() - t0  # first call moves the CSR pair to the device
    gs = GridSampleProjector(n, theta)
    det = RayTransform(n, angles=180, deterministic=True)  # row-padded, bitwise reproducible
    a1, a2 = det.adjoint(y), det.adjoint(y)
    c1, c2 = A.adjoint(y), A.adjoint(y)
    g1, g2 = gs.adjoint(y), gs.adjoint(y)
    info: dict[str, object] = {
        "n": n,
        "batch": batch,
        "device": torch.cuda.get_device_name(dev),
        "first_call_upload_s": round(upload, 3),
        "ours_deterministic_adjoint_bitwise_reproducible": bool(torch.equal(a1, a2)),
        "ours_cusparse_adjoint_bitwise_reproducible": bool(torch.equal(c1, c2)),
        "grid_sample_adjoint_bitwise_deterministic": bool(torch.equal(g1, g2)),
        "max_diff_padded_vs_cusparse_A*": float((a1 - c1).abs().max()),
        "max_diff_ours_cuda_vs_cpu_A*": float((c1.cpu() - A.adjoint(y.cpu())).abs().max()),
    }
    label = f"grid_sample on {info['device']} (batch {batch})"
    _time_pair(A, gs, x, y, label, timed, repeats=repeats, warmup=2, device=dev)
    # what bitwise reproducibility (deterministic=True) costs against cuSPARSE's CSR product
    c = compare_timing(
        lambda: det.adjoint(det(x)),
        lambda: A.adjoint(A(x)),
        repeats=repeats,
        warmup=2,
        device=dev,
        label=f"n={n} A+A* deterministic vs cuSPARSE (ours both) (batch {batch})",
    )
    timed.append((c, batch))
    return info


def bench(
    out_dir: str | Path,
    *,
    quick: bool = False,
    seed: int = 0,
    device: str = "auto",
    sizes: tuple[int, ...] | None = None,
) -> list[dict[str, object]]:
    """Time ``A``, ``A*`` and ``A + A*`` at 180 angles, float32, against the peers.

    CPU: sizes 128 and 256 (64 with ``quick``; ``sizes`` overrides, 512 included), batch 8 and,
    at the largest size, batch 1, two threads. CUDA (``device`` resolving to it): 256 (64 with
    ``quick``), batch 8 and 1, ours against the grid_sample projector on the same device.
    """
    if sizes is not None and (
        len(sizes) == 0
        or any(isinstance(n, bool) or not isinstance(n, int) or n < 2 for n in sizes)
    ):
        raise InputError(f"sizes: expected one or more integer image sides >= 2, got {sizes!r}")
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    dev = resolve_device(device)
    if sizes is None:
        sizes = (64,) if quick else (128, 256)
    batch = 8
    repeats = 3 if quick else 5
    rows: list[dict[str, object]] = []
    timed: Timed = []
    sk = _skimage()
    gen = torch.Generator().manual_seed(seed)
    for n in sizes:
        rows.append(_bench_size(n, batch, repeats, seed, gen, sk, timed))
    rows.append(_bench_size(sizes[-1], 1, repeats, seed, gen, sk, timed))
    gpu_rows: list[dict[str, object]] = []
    if dev.type == "cuda":
        for b in (8, 1):
            gpu_rows.append(_bench_cuda(64 if quick else 256, b, 10, gen, dev, timed))
    comparisons = [c for c, _ in timed]
    print(format_comparisons(comparisons))
    for c, nb in timed:
        print(
            f"{c.label}: ours {1e3 * c.t_ours / nb:.3f} ms/image, "
            f"peer {1e3 * c.t_peer / nb:.3f} ms/image, speedup {c.speedup:.1f}x"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "geometry": rows,
        "gpu": gpu_rows,
        "comparisons": [c.row() for c in comparisons],
        "device": str(dev) if dev.type != "cuda" else torch.cuda.get_device_name(dev),
        "note": "GPU rows run" if gpu_rows else "GPU rows not run: no CUDA device requested/found",
    }
    atomic_write_text(out / "bench.json", json.dumps(payload, indent=1, default=str))
    for r in rows + gpu_rows:
        print(json.dumps(r, default=str))
    return rows
