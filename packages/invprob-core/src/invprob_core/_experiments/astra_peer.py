"""ASTRA's 2-D parallel-beam CPU projectors as a bench peer (``pip install astra-toolbox``).

Geometry, matched to :class:`~invprob_core.RayTransform` at ``circle=True`` and ``n_det = n``:
ASTRA's volume is ``n x n`` pixels of side 1 centred on the origin (ours: side ``h = 2/n`` on
``[-1, 1]^2``), so ASTRA's projections are ours divided by ``h``; its detector has ``n`` bins of
width 1 (ours: ``n`` cells of ``[-1, 1]``). Its angle and detector conventions differ from ours
by a half turn and a reversed detector axis: ASTRA at angle ``phi + pi``, detector read backwards,
is our projection at ``phi`` (found by projecting the same phantom under the eight combinations
of angle sign, half turn and axis flips, and checked in every bench run by the relative
difference it reports). ASTRA computes its weights on the fly (no matrix); ours applies a cached
CSR matrix, so a "cold" row adds our matrix build.
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

import numpy as np
import torch

from sciml_core import adjoint_test, compare_timing

from .._phantoms import shepp_logan
from .._ray import _MEMORY_CACHE, RayTransform

__all__ = ["PROJECTORS", "AstraProjector", "astra_module", "bench_astra"]

PROJECTORS: tuple[str, ...] = ("linear", "line", "strip")
"""ASTRA's CPU parallel-beam projectors: Joseph (linear interpolation), line length, strip area."""


def astra_module() -> ModuleType | None:
    """``astra`` if installed, else ``None`` (the bench then skips its rows with a note)."""
    try:
        import astra  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    return astra  # type: ignore[no-any-return, unused-ignore]


class AstraProjector:
    """One ASTRA CPU projector in our geometry and units: ``forward`` and ``adjoint`` on numpy
    images ``(n, n)`` and sinograms ``(angles, n)``, scaled to ours."""

    def __init__(self, astra: Any, n: int, theta: np.ndarray, kind: str) -> None:
        self.astra, self.n, self.h = astra, n, 2.0 / n
        vol = astra.create_vol_geom(n, n)
        proj = astra.create_proj_geom("parallel", 1.0, n, np.asarray(theta) + np.pi)
        self.pid = astra.create_projector(kind, proj, vol)
        self.op = astra.OpTomo(self.pid)

    def forward(self, img: np.ndarray) -> np.ndarray:
        sino = self.op.FP(np.ascontiguousarray(img, dtype=np.float32))
        return np.asarray(sino[:, ::-1]) * self.h

    def adjoint(self, sino: np.ndarray) -> np.ndarray:
        back = self.op.BP(np.ascontiguousarray(sino[:, ::-1], dtype=np.float32))
        return np.asarray(back) * self.h

    def close(self) -> None:
        self.astra.projector.delete(self.pid)


def bench_astra(
    astra: Any, A: RayTransform, x: torch.Tensor, repeats: int, spp: int, max_nnz: int
) -> tuple[dict[str, object], list[Any]]:
    """Geometry check and timings of ours against each ASTRA CPU projector at ``A``'s size.

    Rows: ``A + A*`` warm (our matrix cached) against each projector, and one cold row against
    ``'linear'`` (our matrix built inside the timed call, ASTRA's projector created inside its),
    the batch looped for ASTRA (its 2-D CPU projectors take one image at a time).

    Returns:
        The geometry/adjoint facts and the :class:`sciml_core.Comparison` rows.
    """
    n = A.n
    theta = np.asarray(A.theta, dtype=np.float64)
    phantom = shepp_logan(n).to(torch.float64)
    ours_sino = A(phantom[None])[0].numpy()
    imgs = x.numpy().astype(np.float32)
    info: dict[str, object] = {}
    rows: list[Any] = []
    gen = np.random.default_rng(0)
    for kind in PROJECTORS:
        peer = AstraProjector(astra, n, theta, kind)
        theirs = peer.forward(phantom.numpy())
        info[f"rel_diff_A_vs_astra_{kind}"] = float(
            np.linalg.norm(theirs - ours_sino) / np.linalg.norm(ours_sino)
        )
        u = gen.standard_normal((n, n))
        v = gen.standard_normal((len(theta), n))
        info[f"adjoint_mismatch_astra_{kind}"] = adjoint_test(peer.forward, peer.adjoint, u, v)

        def peer_pass(p: AstraProjector = peer) -> None:
            for im in imgs:
                p.adjoint(p.forward(im))

        rows.append(
            compare_timing(
                lambda: A.adjoint(A(x)),
                peer_pass,
                repeats=repeats,
                warmup=1,
                label=f"n={n} A+A* warm vs ASTRA CPU '{kind}' (looped, {len(x)} images)",
            )
        )

        if kind == PROJECTORS[0]:  # one cold row per size: our matrix build dominates it

            def ours_cold() -> None:
                _MEMORY_CACHE.clear()
                B = RayTransform(n, angles=theta, spp=spp, max_nnz=max_nnz)
                B.adjoint(B(x))

            def peer_cold(k: str = kind) -> None:
                p = AstraProjector(astra, n, theta, k)
                for im in imgs:
                    p.adjoint(p.forward(im))
                p.close()

            t0 = time.perf_counter()
            rows.append(
                compare_timing(
                    ours_cold,
                    peer_cold,
                    repeats=1,
                    warmup=0,
                    label=f"n={n} A+A* cold (our matrix built) vs ASTRA CPU '{kind}' "
                    f"(looped, {len(x)} images)",
                )
            )
            info["cold_row_s"] = round(time.perf_counter() - t0, 2)
        peer.close()
    _MEMORY_CACHE.clear()
    return info, rows
