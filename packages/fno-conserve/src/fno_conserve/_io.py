"""Loaders for data users already have: the FNO paper's ``.mat`` files and PDEBench HDF5.

Both return :func:`fno_conserve.generate`'s layout: float64 tensors ``x (B, C, *spatial)`` and
``y (B, C, *spatial)`` (or ``(B, T, C, *spatial)`` for trajectories), ``grid``, ``weights`` and
``meta``. They are written from the documented file layouts; HDF5 needs the ``[io]`` extra.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, get_args

import numpy as np
import torch

from sciml_core import InputError, read_user_file, require_extra

from ._data import Dataset
from ._grid import Rule, grid, quadrature_weights, rule_grid_kind

MatPDE = Literal["burgers", "navier-stokes", "darcy"]
MAT_PDES: tuple[MatPDE, ...] = get_args(MatPDE)
"""PDEs of the FNO paper's ``.mat`` files that :func:`load_fno_mat` reads."""

_MAT_FIELDS: dict[str, tuple[str, str]] = {
    "burgers": ("a", "u"),
    "navier-stokes": ("a", "u"),
    "darcy": ("coeff", "sol"),
}


def _h5py() -> ModuleType:
    return require_extra("h5py", extra="io", package="fno-conserve")


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _is_hdf5(path: Path) -> bool:
    """HDF5 signature at offset 0 or a power-of-two user block (MATLAB v7.3 uses 512 bytes)."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    return any(head[o : o + 8] == _HDF5_SIGNATURE for o in (0, 512, 1024, 2048))


def _read_mat(path: Path, fields: tuple[str, str]) -> tuple[np.ndarray, np.ndarray, str]:
    """Both fields of a MATLAB file, through :func:`sciml_core.read_user_file` (any failure is one
    ``InputError`` naming ``path`` and the file)."""
    import scipy.io

    def decode(p: Path) -> tuple[np.ndarray, np.ndarray, str]:
        try:
            if _is_hdf5(p):  # MATLAB v7.3 is HDF5: h5py, with the axes reversed
                h5py = _h5py()
                with h5py.File(p, "r") as f:
                    a, u = (np.asarray(f[k]) for k in fields)
                return a.transpose(), u.transpose(), "v7.3"
            mat = scipy.io.loadmat(p)
            return np.asarray(mat[fields[0]]), np.asarray(mat[fields[1]]), "v5"
        except KeyError as err:
            raise InputError(f"no field {err} (expected {fields})") from None

    return read_user_file(path, argument="path", decode=decode, what="a MATLAB .mat file")


def _pack(
    x: np.ndarray, y: np.ndarray, rule: Rule, lengths: float, meta: dict[str, Any]
) -> Dataset:
    spatial = tuple(x.shape[2:])
    kind = rule_grid_kind(rule)
    return {
        "x": torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64)),
        "y": torch.from_numpy(np.ascontiguousarray(y, dtype=np.float64)),
        "grid": grid(spatial, kind, lengths),
        "weights": quadrature_weights(spatial, lengths, rule),
        "meta": meta | {"rule": rule, "lengths": lengths, "resolution": spatial[0]},
    }


def load_fno_mat(
    path: str | os.PathLike[str],
    *,
    pde: MatPDE,
    n_samples: int | None = None,
    sub: int = 1,
    time_index: int | None = -1,
) -> Dataset:
    """Read one of the FNO paper's ``.mat`` files (MATLAB v5 via scipy, v7.3 via h5py).

    Fields: ``a``/``u`` for ``"burgers"`` (``(B, N)`` each) and ``"navier-stokes"``
    (``a (B, N, N)``,
    ``u (B, N, N, T)``), ``coeff``/``sol`` for ``"darcy"`` (``(B, N, N)`` on a node grid including
    the boundary). ``sub`` subsamples every axis; for Navier-Stokes ``time_index`` picks one time of
    ``u`` (``None`` keeps all of them as a trajectory axis after the batch axis).

    Returns:
        dict as :func:`fno_conserve.generate` (periodic rule for Burgers and Navier-Stokes,
        trapezoid for the Darcy node grid).
    """
    if pde not in MAT_PDES:
        raise InputError(f"pde: expected one of {MAT_PDES}, got {pde!r}")
    if not isinstance(sub, int) or sub < 1:
        raise InputError(f"sub: expected a positive integer, got {sub!r}")
    path = Path(path)
    a, u, version = _read_mat(path, _MAT_FIELDS[pde])
    if n_samples is not None:
        a, u = a[:n_samples], u[:n_samples]
    dim = 1 if pde == "burgers" else 2
    if a.ndim != dim + 1:
        raise InputError(
            f"path: field {_MAT_FIELDS[pde][0]!r} has shape {a.shape}, expected "
            f"{dim + 1} axes for {pde}"
        )
    space = (slice(None),) + (slice(None, None, sub),) * dim
    x = a[space][:, None]
    if pde == "navier-stokes" and u.ndim == 4:
        u = u[space]
        y = (
            u[..., time_index][:, None]
            if time_index is not None
            else np.moveaxis(u, -1, 1)[:, :, None]
        )
    else:
        y = u[space][:, None]
    rule: Rule = "trapezoid" if pde == "darcy" else "periodic"
    meta = {
        "pde": pde,
        "source": str(path),
        "format": f"fno-mat-{version}",
        "law": None if pde == "darcy" else ("mass" if pde == "burgers" else "mean-zero"),
    }
    return _pack(x, y, rule, 1.0, meta)


def load_pdebench(
    path: str | os.PathLike[str], *, n_samples: int | None = None, time_index: int | None = -1
) -> Dataset:
    """Read a PDEBench HDF5 file (needs the ``[io]`` extra).

    Layouts: single-array files with ``tensor (B, T, *spatial)`` plus ``x-coordinate`` (and
    ``t-coordinate``): ``x`` is the state at the first time, ``y`` the state at ``time_index``
    (``None``: every later time, on a trajectory axis); Darcy files with ``nu (B, *spatial)``
    (input)
    and ``tensor (B, 1, *spatial)`` (output); per-seed group files ``NNNN/data (T, *spatial, C)``
    with ``NNNN/grid/x``. Coordinates are cell centres: the ``"cells"`` rule with the box length
    ``N dx`` read from ``x-coordinate``.
    """
    h5py = _h5py()
    path = Path(path)

    def decode(p: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str]:
        with h5py.File(p, "r") as f:
            if "tensor" in f:
                tensor = np.asarray(f["tensor"][:n_samples])
                coords = np.asarray(f["x-coordinate"]) if "x-coordinate" in f else None
                if "nu" in f:
                    x = np.asarray(f["nu"][:n_samples])[:, None]
                    y = tensor
                    layout = "darcy"
                else:
                    x = tensor[:, :1]
                    y = (
                        tensor[:, time_index][:, None]
                        if time_index is not None
                        else tensor[:, 1:, None]
                    )
                    layout = "single-array"
            else:
                keys = sorted(k for k in f if k.isdigit())
                if not keys:
                    raise InputError("it has neither 'tensor' nor per-seed groups")
                keys = keys[:n_samples]
                data = np.stack([np.asarray(f[k]["data"]) for k in keys])  # (B, T, *spatial, C)
                coords = np.asarray(f[keys[0]]["grid"]["x"])
                data = np.moveaxis(data, -1, 2)  # (B, T, C, *spatial)
                x = data[:, 0]
                y = data[:, time_index] if time_index is not None else data[:, 1:]
                layout = "per-seed"
        return x, y, coords, layout

    x, y, coords, layout = read_user_file(
        path, argument="path", decode=decode, what="a PDEBench HDF5 file"
    )
    n = x.shape[-1]
    length = float(n * (coords[1] - coords[0])) if coords is not None and coords.size > 1 else 1.0
    meta = {"pde": None, "source": str(path), "format": f"pdebench-{layout}", "law": None}
    return _pack(x, y, "cells", length, meta)
