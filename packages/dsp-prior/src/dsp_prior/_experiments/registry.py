"""The studies of ``reproduce``, by name, in the order they run."""

from __future__ import annotations

from . import denoising, identity, inpainting, super_resolution
from .context import Study

STUDIES: dict[str, Study] = {
    study.name: study
    for study in (
        Study("identity", "Parseval control: a plain Fourier l2 loss is DIP", identity.run),
        Study(
            "denoising", "Denoising: validation, test table, PSNR curves, claims 2-7", denoising.run
        ),
        Study("inpainting", "Inpainting (--full)", inpainting.run),
        Study("super_resolution", "Super-resolution x4 (--full)", super_resolution.run),
    )
}
