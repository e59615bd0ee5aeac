"""Volumes on disk and whole-volume inference: NIfTI / ``.npy`` I/O, z-scoring, sliding window.

``load_volume`` reads ``.nii`` / ``.nii.gz`` through nibabel (the ``[nifti]`` extra) and ``.npy``
through ``sciml_core.read_array`` (identity affine); every decode failure is one ``InputError``
naming the argument and the file. ``save_volume`` writes atomically with the affine it is given, so
labels land on the input's grid. ``sliding_window`` covers a volume with cubic patches (stride
``patch·(1 − overlap)``, the last patch flush with the far edge), weights each patch's logits with
a Gaussian importance map (σ = patch / 8, as MONAI's default) and divides by the summed weights:
with one patch covering the volume it equals the direct forward.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from sciml_core import InputError, atomic_write_bytes, read_array, read_user_file, require_extra
from sciml_core.cli import progress

__all__ = [
    "Volume",
    "load_patient",
    "load_volume",
    "normalize",
    "save_volume",
    "sliding_window",
]


@dataclass(frozen=True)
class Volume:
    """A 3-D array with its voxel-to-world ``affine`` (4×4) and voxel ``spacing`` (3,)."""

    array: np.ndarray
    affine: np.ndarray
    spacing: tuple[float, float, float]


def _is_nifti(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".nii", ".nii.gz"))


def load_volume(path: str | os.PathLike[str], *, argument: str = "path") -> Volume:
    """Read a 3-D volume from ``.nii``, ``.nii.gz`` (needs ``[nifti]``) or ``.npy``.

    Raises:
        InputError: unreadable file, not 3-D, another suffix (the message names ``argument``).
        MissingExtraError: a NIfTI file without nibabel.
    """
    p = Path(path)
    if _is_nifti(p):
        nib = require_extra("nibabel", extra="nifti", package="brain-hyda")

        def decode(q: Path) -> Volume:
            img = nib.load(str(q))
            arr = np.asarray(img.dataobj)
            zooms = tuple(float(z) for z in img.header.get_zooms()[:3])
            return Volume(arr, np.asarray(img.affine, dtype=float), zooms)  # type: ignore[arg-type]

        vol = read_user_file(p, argument=argument, decode=decode, what="a NIfTI volume")
    elif p.suffix.lower() == ".npy":
        arr = read_array(p, argument=argument)
        vol = Volume(arr, np.eye(4), (1.0, 1.0, 1.0))
    else:
        raise InputError(f"{argument}: expected a .nii, .nii.gz or .npy file; got '{p}'")
    if vol.array.ndim != 3:
        raise InputError(f"{argument}: expected a 3-D volume in '{p}'; got shape {vol.array.shape}")
    return vol


def save_volume(array: np.ndarray, like: Volume | np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write ``array`` with the affine of ``like`` (a :class:`Volume` or a 4×4 matrix), atomically.

    ``.nii`` / ``.nii.gz`` through nibabel (``[nifti]``), ``.npy`` with numpy (the affine is not
    kept there). Integer arrays are stored as int16 labels when they fit.
    """
    p = Path(path)
    affine = like.affine if isinstance(like, Volume) else np.asarray(like, dtype=float)
    arr = np.asarray(array)
    if arr.dtype.kind in "iub" and arr.size and arr.min() >= -32768 and arr.max() <= 32767:
        arr = arr.astype(np.int16)
    if _is_nifti(p):
        nib = require_extra("nibabel", extra="nifti", package="brain-hyda")
        img = nib.Nifti1Image(arr, affine)
        img.header.set_qform(affine, code=1)
        img.header.set_sform(affine, code=1)
        data = img.to_bytes()
        if p.name.lower().endswith(".gz"):
            data = gzip.compress(data, mtime=0)
        return atomic_write_bytes(p, data)
    if p.suffix.lower() == ".npy":
        import io

        buf = io.BytesIO()
        np.save(buf, arr)
        return atomic_write_bytes(p, buf.getvalue())
    raise InputError(f"-o: expected a .nii, .nii.gz or .npy file name; got '{p}'")


def normalize(array: np.ndarray) -> np.ndarray:
    """z-score over the non-zero voxels; zeros stay zero (``mode="zscore_nonzero"``).

    Examples:
        >>> normalize(np.array([[[0.0, 1.0, 3.0]]])).tolist()
        [[[0.0, -1.0, 1.0]]]
    """
    x = np.asarray(array, dtype=np.float32)
    mask = x != 0
    if not mask.any():
        return x
    vals = x[mask]
    out = np.zeros_like(x)
    out[mask] = (vals - vals.mean()) / (vals.std() + 1e-8)
    return out


def load_patient(
    paths: Sequence[str | os.PathLike[str]], modalities: Sequence[str]
) -> tuple[dict[str, np.ndarray], Volume]:
    """Read one patient's sequences; refuse mismatched grids, NaN voxels, missing sequences.

    Returns:
        ``{modality: z-scored float32 (D, H, W)}`` and the first sequence's :class:`Volume` (the
        grid and affine the labels are written on).

    Raises:
        InputError: the number of files differs from the modalities (a missing sequence), a
            modality repeats, shapes or affines (1e-4) or spacings differ (both files named), or a
            volume has NaN or infinite voxels.
    """
    mods = list(modalities)
    if len(set(mods)) != len(mods):
        raise InputError(f"--modalities: a modality repeats: {','.join(mods)}")
    if len(paths) != len(mods):
        raise InputError(
            f"VOLUMES: {len(mods)} modalities ({','.join(mods)}) need {len(mods)} files; got "
            f"{len(paths)} (a missing sequence?)"
        )
    vols = [load_volume(p, argument=f"VOLUMES ({m})") for p, m in zip(paths, mods)]
    first, first_path = vols[0], paths[0]
    out = {}
    for vol, path, mod in zip(vols, paths, mods):
        if vol.array.shape != first.array.shape:
            raise InputError(
                f"VOLUMES: '{first_path}' has shape {first.array.shape} but '{path}' has "
                f"{vol.array.shape}; the sequences must share one grid"
            )
        if not np.allclose(vol.spacing, first.spacing, atol=1e-4):
            raise InputError(
                f"VOLUMES: '{first_path}' has spacing {first.spacing} but '{path}' has "
                f"{vol.spacing}; resample the sequences onto one grid first"
            )
        if not np.allclose(vol.affine, first.affine, atol=1e-4):
            raise InputError(
                f"VOLUMES: the affines of '{first_path}' and '{path}' differ; the sequences must "
                "be registered to one grid"
            )
        arr = np.asarray(vol.array, dtype=np.float64)
        bad = ~np.isfinite(arr)
        if bad.any():
            raise InputError(
                f"VOLUMES ({mod}): '{path}' has {int(bad.sum())} NaN or infinite voxels"
            )
        out[mod] = normalize(arr)
    return out, first


def _gaussian_map(patch: int) -> Tensor:
    c = (patch - 1) / 2
    g = torch.exp(-((torch.arange(patch, dtype=torch.float64) - c) ** 2) / (2 * (patch / 8) ** 2))
    w = g[:, None, None] * g[None, :, None] * g[None, None, :]
    return (w / w.max()).clamp_min(1e-3).float()


def _starts(n: int, patch: int, step: int) -> list[int]:
    if n <= patch:
        return [0]
    s = list(range(0, n - patch, step))
    return [*s, n - patch]


def sliding_window(
    predictor: Callable[[dict[str, Tensor]], Tensor],
    volumes: dict[str, Tensor],
    *,
    patch: int,
    overlap: float = 0.5,
    show_progress: bool = True,
) -> Tensor:
    """Gaussian-weighted sliding-window logits of a whole volume.

    Args:
        predictor: Maps ``{m: (1, 1, p, p, p)}`` to logits ``(1, K, p, p, p)``.
        volumes: ``{m: (1, 1, D, H, W)}``; smaller axes are zero-padded up to ``patch``.
        patch: Cubic patch edge.
        overlap: Fraction of overlap between neighbouring patches, in ``[0, 1)``.
        show_progress: A progress bar over the patches (stderr; silenced by ``--quiet``).

    Shapes:
        volumes: ``{m: (1, 1, D, H, W)}`` -> ``(1, K, D, H, W)``.
    """
    if not 0.0 <= overlap < 1.0:
        raise InputError(f"overlap: expected a number in [0, 1); got {overlap}")
    first = next(iter(volumes.values()))
    shape = tuple(first.shape[2:])
    pads = [max(0, patch - n) for n in shape]
    if any(pads):
        volumes = {
            m: torch.nn.functional.pad(v, (0, pads[2], 0, pads[1], 0, pads[0]))
            for m, v in volumes.items()
        }
    full = tuple(n + p for n, p in zip(shape, pads))
    step = max(1, round(patch * (1 - overlap)))
    corners = [
        (a, b, c)
        for a in _starts(full[0], patch, step)
        for b in _starts(full[1], patch, step)
        for c in _starts(full[2], patch, step)
    ]
    weight = _gaussian_map(patch).to(first.device)
    acc: Tensor | None = None
    norm = torch.zeros(full, dtype=torch.float32, device=first.device)
    for a, b, c in progress(corners, desc="segment", unit="patch", disable=not show_progress):
        win = {m: v[..., a : a + patch, b : b + patch, c : c + patch] for m, v in volumes.items()}
        logits = predictor(win).float()
        if acc is None:
            acc = torch.zeros((1, logits.shape[1], *full), device=first.device)
        acc[..., a : a + patch, b : b + patch, c : c + patch] += logits * weight
        norm[a : a + patch, b : b + patch, c : c + patch] += weight
    assert acc is not None
    out = acc / norm
    return out[..., : shape[0], : shape[1], : shape[2]]
