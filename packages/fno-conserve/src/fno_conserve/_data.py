"""Seeded PDE datasets: per-sample seeding, several resolutions of the same samples, npz caching."""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TypedDict, get_args, overload

import numpy as np
import torch

from sciml_core import (
    InputError,
    SeedLike,
    atomic_path,
    read_archive,
    root_seed,
    sample_seed_sequence,
)
from sciml_core.cli import progress

from .__about__ import __version__
from ._grf import evaluate_fourier, grf_coefficients, matern_spectrum
from ._grid import GridKind, Rule, grid, quadrature_weights
from ._pdes.burgers import burgers_solve
from ._pdes.darcy import (
    darcy_coefficient,
    darcy_solve,
    evaluate_cosine_series,
    neumann_grf_coefficients,
)
from ._pdes.heat_advection import advection_solve, heat_solve
from ._pdes.navier_stokes import navier_stokes_solve
from ._pdes.nls import nls_solve
from ._restrict import RestrictMethod, restrict

PDE = Literal["burgers", "heat", "advection", "nls", "navier-stokes", "darcy"]
PDES: tuple[PDE, ...] = get_args(PDE)
"""The PDEs :func:`generate` solves."""

Hierarchy = Literal["restrict", "resolve"]
HIERARCHIES: tuple[Hierarchy, ...] = get_args(Hierarchy)
"""How the coarser levels of a multi-resolution dataset are made."""

LawName = Literal["mass", "moments", "norm", "mean-zero"]
"""Named conservation laws (``fno_conserve._train.LAWS``)."""


class Dataset(TypedDict):
    """One level of a dataset, as :func:`generate`, :func:`load_dataset` and the loaders return it.

    ``x`` ``(B, C_in, *spatial)`` and ``y`` ``(B, C_out, *spatial)`` (or ``(B, k, C_out,
    *spatial)`` for rollout trajectories) in float64; ``grid`` ``(d, *spatial)``; ``weights``
    ``(*spatial)``; ``meta``: PDE, parameters, seed, rule, lengths, resolution, version, ...
    """

    x: torch.Tensor
    y: torch.Tensor
    grid: torch.Tensor
    weights: torch.Tensor
    meta: dict[str, Any]


DEFAULTS: dict[str, dict[str, float]] = {
    "burgers": {"nu": 0.01, "t_final": 1.0, "dt": 1e-3, "sigma": 25.0, "tau": 5.0, "alpha": 2.0},
    "heat": {"nu": 0.01, "t_final": 1.0, "sigma": 25.0, "tau": 5.0, "alpha": 2.0},
    "advection": {"t_final": 1.0, "sigma": 25.0, "tau": 5.0, "alpha": 2.0, "c_max": 1.0},
    "nls": {"t_final": 1.0, "dt": 1e-3, "length": 2 * math.pi, "k_scale": 4.0, "amplitude": 1.3},
    "navier-stokes": {
        "nu": 1e-3,
        "t_final": 2.0,
        "dt": 1e-2,
        "sigma": 7.0**1.5,
        "tau": 7.0,
        "alpha": 2.5,
    },
    "darcy": {"high": 12.0, "low": 3.0, "tau": 3.0, "alpha": 2.0, "k_max": 32},
}
"""Default parameters of each PDE (``t_final`` is the time of one map ``x -> y``)."""

DEFAULT_LAW: dict[str, LawName | None] = {
    "burgers": "mass",
    "heat": "mass",
    "advection": "mass",
    "nls": "norm",
    "navier-stokes": "mean-zero",
    "darcy": None,
}
DIMS: dict[str, int] = {
    "burgers": 1,
    "heat": 1,
    "advection": 1,
    "nls": 1,
    "navier-stokes": 2,
    "darcy": 2,
}
RULES: dict[str, Rule] = {"darcy": "cells"}
_CHUNK = 64
_RULE_GRID: dict[str, GridKind] = {"periodic": "periodic", "cells": "cells"}

Draw = tuple[np.ndarray | None, np.ndarray, dict[str, float]]
"""The random input of one sample: frequencies (``None`` for Darcy), coefficients, extras."""


def _check_args(
    pde: str,
    n_samples: int,
    resolution: int,
    resolutions: Sequence[int] | None,
    hierarchy: str,
    rollout_steps: int,
    params: dict[str, float],
) -> list[int]:
    if pde not in DEFAULTS:
        raise InputError(f"pde: expected one of {PDES}, got {pde!r}")
    if not isinstance(n_samples, int) or n_samples < 1:
        raise InputError(f"n_samples: expected a positive integer, got {n_samples!r}")
    levels = [resolution] if resolutions is None else list(resolutions)
    if not levels or any(not isinstance(n, int) or n < 4 for n in levels):
        raise InputError(f"resolutions: expected integers >= 4, got {levels!r}")
    if resolutions is not None and resolution != max(levels):
        raise InputError(f"resolution: expected the finest level {max(levels)}, got {resolution}")
    fine = max(levels)
    if hierarchy not in HIERARCHIES:
        raise InputError(f"hierarchy: expected one of {HIERARCHIES}, got {hierarchy!r}")
    if hierarchy == "restrict" and any(fine % n for n in levels):
        raise InputError(f"resolutions: every level must divide the finest ({fine}), got {levels}")
    if not isinstance(rollout_steps, int) or rollout_steps < 1:
        raise InputError(f"rollout_steps: expected a positive integer, got {rollout_steps!r}")
    if pde == "darcy" and rollout_steps != 1:
        raise InputError("rollout_steps: Darcy is stationary, expected 1")
    unknown = set(params) - set(DEFAULTS[pde])
    if unknown:
        raise InputError(
            f"params: unknown parameters {sorted(unknown)} for {pde!r}; "
            f"known: {sorted(DEFAULTS[pde])}"
        )
    return levels


def _sample_inputs(pde: PDE, seed: int, i: int, k_draw: int, p: dict[str, float]) -> Draw:
    """Random input of sample ``i``: Fourier coefficients (periodic) and extra parameters."""
    ic_seq, par_seq = sample_seed_sequence(seed, i).spawn(2)
    rng, prng = np.random.default_rng(ic_seq), np.random.default_rng(par_seq)
    if pde in ("burgers", "heat", "advection"):
        ks, c = grf_coefficients(rng, 1, k_draw, matern_spectrum(p["sigma"], p["tau"], p["alpha"]))
        extra = {"c": prng.uniform(-p["c_max"], p["c_max"])} if pde == "advection" else {}
        return ks, c, extra
    if pde == "nls":
        ks, z = grf_coefficients(rng, 1, 32, lambda k: np.exp(-2 * (k[:, 0] / p["k_scale"]) ** 2))
        ref = evaluate_fourier(ks, z, (256,), real=False)
        return ks, z * (p["amplitude"] / np.abs(ref).max()), {}
    if pde == "navier-stokes":
        ks, c = grf_coefficients(rng, 2, k_draw, matern_spectrum(p["sigma"], p["tau"], p["alpha"]))
        return ks, np.where(np.all(ks == 0, axis=1), 0.0, c), {}
    return None, neumann_grf_coefficients(rng, int(p["k_max"]), p["tau"], p["alpha"]), {}


def _freqs(ks: np.ndarray | None) -> np.ndarray:
    if ks is None:
        raise ValueError("ks: a periodic PDE's draw has frequencies, got None")
    return ks


def _evaluate_inputs(pde: PDE, draws: Sequence[Draw], n: int, p: dict[str, float]) -> np.ndarray:
    """Inputs ``(B, C_in, *spatial)`` at resolution ``n``."""
    dim = DIMS[pde]
    if pde == "darcy":
        return np.stack(
            [
                darcy_coefficient(evaluate_cosine_series(c, n), p["high"], p["low"])
                for _, c, _ in draws
            ]
        )[:, None]
    if pde == "nls":
        psi = np.stack([evaluate_fourier(_freqs(ks), c, (n,), real=False) for ks, c, _ in draws])
        return np.stack([psi.real, psi.imag], axis=1)
    u0 = np.stack([evaluate_fourier(_freqs(ks), c, (n,) * dim) for ks, c, _ in draws])[:, None]
    if pde == "advection":
        speeds = np.array([e["c"] for _, _, e in draws])
        return np.concatenate([u0, np.broadcast_to(speeds[:, None, None], u0.shape)], axis=1)
    return u0


def _solve(pde: PDE, x: np.ndarray, p: dict[str, float], steps: int) -> np.ndarray:
    """Outputs ``(B, steps, C_out, *spatial)`` at ``t_final, 2 t_final, ...``."""
    t = p.get("t_final", 1.0)
    if pde == "burgers":
        return burgers_solve(x[:, 0], nu=p["nu"], t_final=steps * t, dt=p["dt"], snapshots=steps)[
            :, :, None
        ]
    if pde == "heat":
        return np.stack([heat_solve(x[:, 0], nu=p["nu"], t=(s + 1) * t) for s in range(steps)], 1)[
            :, :, None
        ]
    if pde == "advection":
        return np.stack(
            [advection_solve(x[:, 0], x[:, 1, 0], t=(s + 1) * t) for s in range(steps)], 1
        )[:, :, None]
    if pde == "nls":
        psi = nls_solve(
            x[:, 0] + 1j * x[:, 1],
            t_final=steps * t,
            dt=p["dt"],
            length=p["length"],
            snapshots=steps,
        )
        return np.stack([psi.real, psi.imag], axis=2)
    if pde == "navier-stokes":
        return navier_stokes_solve(
            x[:, 0], nu=p["nu"], t_final=steps * t, dt=p["dt"], snapshots=steps
        )[:, :, None]
    return np.stack([darcy_solve(a[0]) for a in x])[:, None, None]


def _level_dict(pde: PDE, x: np.ndarray, y: np.ndarray, n: int, meta: dict[str, Any]) -> Dataset:
    dim = DIMS[pde]
    rule: Rule = RULES.get(pde, "periodic")
    lengths = meta["params"]["length"] if pde == "nls" else 1.0
    kind = _RULE_GRID[rule]
    return {
        "x": torch.from_numpy(np.ascontiguousarray(x)),
        "y": torch.from_numpy(np.ascontiguousarray(y)),
        "grid": grid((n,) * dim, kind, lengths),
        "weights": quadrature_weights((n,) * dim, lengths, rule),
        "meta": dict(meta, resolution=n, rule=rule, lengths=lengths),
    }


def _cache_key(args: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(args, sort_keys=True).encode()).hexdigest()[:20]


@overload
def generate(
    pde: PDE,
    n_samples: int,
    resolution: int,
    *,
    seed: SeedLike = 0,
    resolutions: None = None,
    hierarchy: Hierarchy = "restrict",
    rollout_steps: int = 1,
    cache_dir: str | os.PathLike[str] | None = None,
    show_progress: bool = True,
    offset: int = 0,
    **params: float,
) -> Dataset: ...


@overload
def generate(
    pde: PDE,
    n_samples: int,
    resolution: int,
    *,
    seed: SeedLike = 0,
    resolutions: Sequence[int],
    hierarchy: Hierarchy = "restrict",
    rollout_steps: int = 1,
    cache_dir: str | os.PathLike[str] | None = None,
    show_progress: bool = True,
    offset: int = 0,
    **params: float,
) -> list[Dataset]: ...


def generate(
    pde: PDE,
    n_samples: int,
    resolution: int,
    *,
    seed: SeedLike = 0,
    resolutions: Sequence[int] | None = None,
    hierarchy: Hierarchy = "restrict",
    rollout_steps: int = 1,
    cache_dir: str | os.PathLike[str] | None = None,
    show_progress: bool = True,
    offset: int = 0,
    **params: float,
) -> Dataset | list[Dataset]:
    """Generate a seeded PDE dataset ``x -> y`` (float64 tensors ``(B, C, *spatial)``).

    PDEs (defaults in ``DEFAULTS``): ``"burgers"`` (1-D viscous Burgers, ETDRK4, map
    ``u0 -> u(T)``), ``"heat"``, ``"advection"`` (speed as a second input channel), ``"nls"``
    (focusing NLS on ``[0, 2 pi)``, channels ``(Re, Im)``), ``"navier-stokes"`` (2-D vorticity,
    ``w0 -> w(T)``), ``"darcy"`` (``a -> u``, cell-centred). Sample ``i`` depends only on
    ``(seed, i)`` (``SeedSequence(seed, spawn_key=(i,))``): the first samples are the same whatever
    ``n_samples`` is, and the random input is band-limited and drawn independently of the grid, so
    the same sample exists at every resolution.

    Args:
        pde: PDE name.
        n_samples: number of samples ``B``.
        resolution: grid points per axis (the finest level when ``resolutions`` is given).
        seed: int, generator or ``None`` (normalised by ``sciml_core.root_seed``).
        resolutions: several levels of the same samples; then a list of dicts is returned, one per
            level in the given order.
        hierarchy: ``"restrict"`` (solve on the finest grid, restrict: spectral truncation for
            periodic data, block averages for Darcy) or ``"resolve"`` (solve again on each grid from
            the same random input; Darcy uses the block-averaged fine coefficient).
        rollout_steps: ``k > 1`` stores the states at ``T, 2T, ..., kT`` in ``y`` on an extra axis
            after the batch axis (``(B, k, C, *spatial)``).
        cache_dir: folder for an ``.npz`` cache keyed by every argument (written atomically).
        show_progress: progress bar on stderr (silenced by the CLI's ``--quiet``).
        offset: index of the first sample (disjoint index ranges give independent sets, e.g. a
            test set at ``offset = n_train``).
        **params: PDE parameters overriding ``DEFAULTS[pde]``.

    Returns:
        dict with ``x``, ``y``, ``grid``, ``weights``, ``meta`` (or a list of such dicts).

    Examples:
        >>> data = generate("heat", 4, 32, seed=0, show_progress=False)
        >>> tuple(data["x"].shape), tuple(data["y"].shape), data["meta"]["law"]
        ((4, 1, 32), (4, 1, 32), 'mass')
    """
    levels = _check_args(pde, n_samples, resolution, resolutions, hierarchy, rollout_steps, params)
    if not isinstance(offset, int) or offset < 0:
        raise InputError(f"offset: expected a non-negative integer, got {offset!r}")
    p = dict(DEFAULTS[pde], **params)
    seed_int = root_seed(seed)
    fine = max(levels)
    meta = {
        "pde": pde,
        "params": p,
        "seed": seed_int,
        "n_samples": n_samples,
        "hierarchy": hierarchy,
        "rollout_steps": rollout_steps,
        "law": DEFAULT_LAW[pde],
        "version": __version__,
        "levels": levels,
        "offset": offset,
    }
    path = None
    if cache_dir is not None:
        key = _cache_key({k: v for k, v in meta.items() if k != "law"} | {"resolution": resolution})
        path = Path(cache_dir) / f"{pde}-{key}.npz"
        if path.exists():
            cached = load_dataset(path)
            return cached if resolutions is not None else cached[0]
    k_draw = (fine + 1) // 2
    draws = [_sample_inputs(pde, seed_int, offset + i, k_draw, p) for i in range(n_samples)]
    solve_levels = levels if hierarchy == "resolve" else [fine]
    solved: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    bar = progress(
        total=n_samples * len(solve_levels), desc=f"generate {pde}", disable=not show_progress
    )
    with bar:
        for n in solve_levels:
            xs, ys = [], []
            for start in range(0, n_samples, _CHUNK):
                chunk = draws[start : start + _CHUNK]
                if pde == "darcy" and n != fine:  # (S): block-average the fine coefficient
                    a = torch.from_numpy(_evaluate_inputs(pde, chunk, fine, p))
                    x = restrict(a, fine // n, "average").numpy()
                else:
                    x = _evaluate_inputs(pde, chunk, n, p)
                xs.append(x)
                ys.append(_solve(pde, x, p, rollout_steps))
                bar.update(len(chunk))
            solved[n] = (np.concatenate(xs), np.concatenate(ys))
    out: list[Dataset] = []
    for n in levels:
        if n in solved:
            x, y = solved[n]
        else:
            xf, yf = solved[fine]
            method: RestrictMethod = "average" if pde == "darcy" else "spectral"
            x = restrict(torch.from_numpy(xf), fine // n, method).numpy()
            b, k = yf.shape[:2]
            yr = restrict(torch.from_numpy(yf.reshape(b * k, *yf.shape[2:])), fine // n, method)
            y = yr.numpy().reshape(b, k, *yr.shape[1:])
        if rollout_steps == 1:
            y = y[:, 0]
        out.append(_level_dict(pde, x, y, n, meta))
    if path is not None:
        save_dataset(path, out)
    return out if resolutions is not None else out[0]


def save_dataset(path: str | os.PathLike[str], levels: Dataset | Sequence[Dataset]) -> Path:
    """Write one or several levels (``generate``'s output) to ``.npz`` atomically, with metadata."""
    levels = [levels] if isinstance(levels, dict) else list(levels)
    arrays: dict[str, np.ndarray] = {}
    for j, lev in enumerate(levels):
        arrays[f"x_{j}"] = lev["x"].numpy()
        arrays[f"y_{j}"] = lev["y"].numpy()
    arrays["meta"] = np.array(json.dumps([lev["meta"] for lev in levels]))
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]  # numpy's stub: **kwds vs allow_pickle
    return path


def load_dataset(path: str | os.PathLike[str], *, argument: str = "path") -> list[Dataset]:
    """Read a file written by :func:`save_dataset` (or ``generate-data``): a list of level dicts.

    The archive is read whole through :func:`sciml_core.read_archive` (a missing, truncated or
    foreign file, or an object array, is refused without unpickling anything), then its layout is
    checked level by level: the metadata, both arrays, their shapes and dtypes.

    Args:
        path: The ``.npz`` file.
        argument: How the caller named the file, for the messages (the CLI passes ``"data"``).

    Raises:
        InputError: naming ``argument`` and the file, for any of the above.
    """
    p = Path(path)
    arrays = read_archive(p, argument=argument, required=("meta",))
    not_ours = f"{argument}: {str(p)!r} is not a dataset written by fno-conserve generate-data"
    try:
        metas = json.loads(str(arrays["meta"]))
    except json.JSONDecodeError as err:
        raise InputError(f"{not_ours} (its 'meta' is not JSON: {err})") from None
    if not isinstance(metas, list) or not metas or not all(isinstance(m, dict) for m in metas):
        raise InputError(f"{not_ours} (its 'meta' is not a list of levels)")
    return [_stored_level(arrays, j, meta, not_ours) for j, meta in enumerate(metas)]


def _stored_level(
    arrays: dict[str, np.ndarray], j: int, meta: dict[str, Any], not_ours: str
) -> Dataset:
    """Level ``j`` of an archive, its layout checked (``not_ours`` starts every message)."""
    pde, n, rule, lengths = (meta.get(k) for k in ("pde", "resolution", "rule", "lengths"))
    if pde not in DIMS or rule not in _RULE_GRID:
        raise InputError(f"{not_ours} (level {j}: unknown pde {pde!r} or rule {rule!r})")
    if not isinstance(n, int) or n < 1:
        raise InputError(f"{not_ours} (level {j}: resolution {n!r} is not a positive integer)")
    if (
        isinstance(lengths, bool)
        or not isinstance(lengths, int | float)
        or not (math.isfinite(lengths) and lengths > 0)
    ):
        raise InputError(f"{not_ours} (level {j}: box length {lengths!r} is not positive)")
    dim = DIMS[pde]
    spatial = (n,) * dim
    for key in (f"x_{j}", f"y_{j}"):
        if key not in arrays:
            raise InputError(f"{not_ours} (it has no array {key!r})")
        a = arrays[key]
        if a.dtype.kind != "f" or a.ndim not in (dim + 2, dim + 3) or a.shape[-dim:] != spatial:
            raise InputError(
                f"{not_ours} (array {key!r} has shape {a.shape} and dtype {a.dtype}; expected "
                f"floats of shape (B, C, {', '.join(map(str, spatial))}) for {pde!r})"
            )
    x, y = arrays[f"x_{j}"], arrays[f"y_{j}"]
    if x.ndim != dim + 2 or x.shape[0] != y.shape[0] or x.shape[0] < 1:
        raise InputError(
            f"{not_ours} (level {j}: inputs {x.shape} and targets {y.shape} do not pair up)"
        )
    return {
        "x": torch.from_numpy(x),
        "y": torch.from_numpy(y),
        "grid": grid(spatial, _RULE_GRID[rule], lengths),
        "weights": quadrature_weights(spatial, lengths, rule),
        "meta": meta,
    }
