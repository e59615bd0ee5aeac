"""Sample images that ship inside scikit-image's wheel (``[images]`` extra)."""

from __future__ import annotations

import typing
from typing import Literal

import numpy as np
import torch

from sciml_core import InputError, require_extra

ImageName = Literal[
    "camera", "astronaut", "coffee", "chelsea", "brick", "grass", "gravel", "moon", "text"
]
"""Sample images of scikit-image's wheel."""
NAMES: tuple[ImageName, ...] = typing.get_args(ImageName)


def sample_image(name: ImageName, size: int | None = None, grey: bool = True) -> torch.Tensor:
    """A scikit-image sample image as ``(C, H, W)`` float32 in ``[0, 1]``, centre-cropped square.

    Args:
        name: one of ``camera``, ``astronaut``, ``coffee``, ``chelsea``, ``brick``, ``grass``,
            ``gravel``, ``moon``, ``text``.
        size: optional side after cropping (resized by area averaging when it divides the crop,
            else by bilinear interpolation).
        grey: convert colour images to grey (ITU-R 601 luma).

    Raises:
        MissingExtraError: scikit-image is not installed (``pip install 'invprob-core[images]'``).
    """
    if name not in NAMES:
        raise InputError(f"name: expected one of {NAMES}, got {name!r}")
    data = require_extra("skimage.data", extra="images", package="invprob-core")
    img = np.asarray(getattr(data, name)(), dtype=np.float64)
    if img.max() > 1.0:
        img = img / 255.0
    if img.ndim == 2:
        img = img[None]
    else:
        img = img[..., :3].transpose(2, 0, 1)
        if grey:
            img = (0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2])[None]
    h, w = img.shape[-2:]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    t = torch.from_numpy(np.ascontiguousarray(img[:, top : top + s, left : left + s]))
    if size is not None:
        if isinstance(size, bool) or int(size) < 1:
            raise InputError(f"size: expected a positive integer, got {size!r}")
        t = torch.nn.functional.interpolate(
            t[None], size=(int(size), int(size)), mode="area" if s % int(size) == 0 else "bilinear"
        )[0]
    return t.to(torch.float32)
