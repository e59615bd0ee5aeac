"""Every number a ``reproduce`` run depends on, one frozen dataclass per mode.

Costs measured single-threaded on the shared two-core CPU at load 5-7 (other engineers' runs), so
pessimistic: the small skip net took 55-90 ms per iteration at 32x32 grey, 55-125 ms at 48x48 and
about 60 ms at 64x64 (the spec's 32-49 ms at 64x64 was measured at load 2.4-4.5). ``--quick`` at
48x48 and 500 iterations took 2.6-3.0 min at load 7, hence 32x32 and 400 iterations (DIP peaks at
iteration 175 there and has fallen 2.7 dB by 400). ``--full``: 4 validation runs + 3 images x 2
seeds x 2 methods at 64x64 and 3000 iterations, inpainting 2 x 3000, super-resolution 2 x 2000 at
128x128 (about 4x the cost per iteration): about 70 000 iteration-equivalents, 70 min at 60 ms
planned; measured on 2026-12-07 (results/full_cpu_2026-12-07.json): 26 CPU-minutes, 45 min wall
on a shared core (20-36 ms per iteration at 64x64).

``FULL_REDUCED`` (``reproduce --full --budget reduced``) is the full protocol cut to what a slot
of the shared machine gives (measured 2026-12-06 22:20 at load 8-10: the process got about a fifth
of a core; 17.5 ms of CPU per iteration at 32x32, 21 ms at 48x48): 32x32 images and a
2000-iteration horizon (DIP peaks at iteration 175 on camera 32x32, so the horizon is over 10x its
peak, the spec's condition for the "no early stopping" claim), one test seed, inpainting at 32x32,
super-resolution from 64x64 (16x16 measurements). The validation on camera (DIP, three ``k0``,
ES-WMV, TV) and the three test images apart from it stay. About 24 000 iterations at 32x32 and
4000 at 64x64: 10 CPU-minutes, 40-60 min wall at that share.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Literal

from sciml_core import InputError

Mode = Literal["quick", "full", "full-reduced"]
Budget = Literal["spec", "reduced"]
BUDGETS: tuple[Budget, ...] = typing.get_args(Budget)


@dataclass(frozen=True)
class Config:
    """Sizes and budgets of one ``reproduce`` mode.

    Attributes:
        mode: ``"quick"`` (under a minute on an idle two-core CPU), ``"full"`` or
            ``"full-reduced"`` (the full protocol cut to one seed and a smaller SR image).
        size: side of the grey test images (denoising and inpainting).
        horizon: iterations of every denoising/inpainting run (the "no early stopping" claim is
            about this final iterate).
        log_every: iterations between logged PSNR/SSIM values (also the resolution of the
            validated stopping iteration and of the oracle).
        sigma: noise standard deviation of denoising (``[0, 1]`` units, DIP's 25/255).
        input_perturbation: DIP's ``reg_noise_std`` for denoising.
        validation_image: where every hyper-parameter is chosen.
        test_images: where the chosen settings are evaluated (empty: quick mode reports on the
            validation image itself, and labels its tuned numbers as oracle).
        seeds: seed offsets of the test runs.
        k0_grid: cut-offs of DSP's Gaussian weight tried on validation (one value: no tuning).
        eswmv_grid: ES-WMV ``(window, patience)`` settings tried on validation.
        tv_alphas: TV weights tried on validation.
        tv_iterations: PDHG iterations of TV.
        identity_size: side of the float64 crop of the Parseval control.
        identity_iterations: iterations of the Parseval control.
        inpaint_image: image of the inpainting run (``""``: no inpainting study).
        inpaint_keep: fraction of known pixels.
        inpaint_horizon: iterations of the inpainting runs.
        sr_image: image of the super-resolution run (``""``: none).
        sr_size: high-resolution side (the low resolution is ``sr_size // sr_factor``).
        sr_factor: scale factor.
        sr_horizon: iterations of the super-resolution runs.
    """

    mode: Mode
    size: int
    horizon: int
    log_every: int
    sigma: float
    input_perturbation: float
    validation_image: str
    test_images: tuple[str, ...]
    seeds: tuple[int, ...]
    k0_grid: tuple[float, ...]
    eswmv_grid: tuple[tuple[int, int], ...]
    tv_alphas: tuple[float, ...]
    tv_iterations: int
    identity_size: int
    identity_iterations: int
    inpaint_image: str
    inpaint_keep: float
    inpaint_horizon: int
    sr_image: str
    sr_size: int
    sr_factor: int
    sr_horizon: int


_COMMON = dict(
    sigma=25 / 255,
    input_perturbation=1 / 30,
    validation_image="camera",
    tv_alphas=(0.02, 0.04, 0.06, 0.08, 0.12, 0.16),
    tv_iterations=300,
    identity_size=32,
    identity_iterations=10,
    inpaint_keep=0.5,
    sr_factor=4,
)

QUICK = Config(
    mode="quick",
    size=32,
    horizon=400,
    log_every=25,
    test_images=(),
    seeds=(0,),
    k0_grid=(0.15,),
    eswmv_grid=((50, 150),),
    inpaint_image="",
    inpaint_horizon=0,
    sr_image="",
    sr_size=0,
    sr_horizon=0,
    **_COMMON,  # type: ignore[arg-type]
)

FULL = Config(
    mode="full",
    size=64,
    horizon=3000,
    log_every=25,
    test_images=("astronaut", "coffee", "chelsea"),
    seeds=(0, 1),
    k0_grid=(0.10, 0.15, 0.25),
    eswmv_grid=((50, 500), (100, 1000)),
    inpaint_image="astronaut",
    inpaint_horizon=3000,
    sr_image="astronaut",
    sr_size=128,
    sr_horizon=2000,
    **_COMMON,  # type: ignore[arg-type]
)


FULL_REDUCED = dataclasses.replace(
    FULL,
    mode="full-reduced",
    size=32,
    horizon=2000,
    seeds=(0,),
    inpaint_horizon=2000,
    sr_size=64,
)


def config_for(quick: bool, budget: Budget = "spec") -> Config:
    """The configuration of ``--quick`` (True) or ``--full`` (False) at ``budget``.

    Raises:
        InputError: ``budget`` is not one of ``BUDGETS``, or ``"reduced"`` with ``quick``.
    """
    if budget not in BUDGETS:
        raise InputError(f"--budget: expected one of {BUDGETS}, got {budget!r}")
    if quick:
        if budget != "spec":
            raise InputError("--budget: 'reduced' cuts the --full protocol; --quick has no budget")
        return QUICK
    return FULL if budget == "spec" else FULL_REDUCED
