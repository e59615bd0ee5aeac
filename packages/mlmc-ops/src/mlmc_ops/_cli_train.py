"""What ``mlmc-ops train`` and ``mlmc-ops variance`` run (Darcy data and ``fno_conserve``'s FNO,
imported inside the functions): settings from flags and a ``--config`` file, one process or
``--nproc N`` ``gloo`` ranks (:func:`~mlmc_ops.launch`; the worker is a module-level function).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from sciml_core import InputError, atomic_write_bytes, read_user_file
from sciml_core.cli import is_quiet, progress, set_quiet

from ._data import HIERARCHIES, LevelSet, MultiLevelData
from ._distributed import SHARDS, DistributedConfig, launch, shard_items
from ._levels import check_resolutions
from ._sampler import PAIRINGS

TRAIN_DEFAULTS: dict[str, Any] = {
    "resolutions": (16, 32),
    "n_samples": (400, 100),
    "hierarchy": "restrict",
    "pairing": "disjoint",
    "batch_sizes": (32, 8),
    "step_budget": None,
    "steps": 100,
    "lr": 3e-3,
    "width": 12,
    "modes": 6,
    "seed": 0,
    "nproc": 1,
    "shard": "samples",
}
"""Defaults of every ``train`` setting (a ``--config`` file may set any of these keys)."""

CONFIG_SUFFIXES = (".json", ".toml")


@dataclass(frozen=True)
class TrainSettings:
    """Every setting of one ``train`` command, checked (see :data:`TRAIN_DEFAULTS`)."""

    resolutions: tuple[int, ...]
    n_samples: tuple[int, ...]
    hierarchy: str
    pairing: str
    batch_sizes: tuple[int, ...] | str
    step_budget: float | None
    steps: int
    lr: float
    width: int
    modes: int
    seed: int
    nproc: int
    shard: str


def read_config(path: Path, argument: str = "--config") -> dict[str, Any]:
    """A ``.json`` or ``.toml`` file of ``train`` settings; unknown keys refused by name."""
    if path.suffix.lower() not in CONFIG_SUFFIXES:
        raise InputError(
            f"{argument}: expected a {' or '.join(CONFIG_SUFFIXES)} file, got {str(path)!r}"
        )

    def decode(p: Path) -> Any:
        text = p.read_text(encoding="utf-8")
        return json.loads(text) if p.suffix.lower() == ".json" else tomllib.loads(text)

    data = read_user_file(path, argument=argument, decode=decode, what="a training configuration")
    if not isinstance(data, dict):
        raise InputError(f"{argument}: expected a table of settings in {str(path)!r}")
    unknown = sorted(set(data) - set(TRAIN_DEFAULTS))
    if unknown:
        raise InputError(
            f"{argument}: unknown setting(s) {unknown} in {str(path)!r}; known: "
            f"{sorted(TRAIN_DEFAULTS)}"
        )
    return data


def _ints(value: Any, name: str) -> tuple[int, ...]:
    if isinstance(value, str):
        parts = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, int) and not isinstance(value, bool):
        parts = [str(value)]
    elif isinstance(value, Sequence):
        parts = list(value)
    else:
        raise InputError(f"{name}: expected comma-separated integers, got {value!r}")
    try:
        out = tuple(
            int(v) if not isinstance(v, bool) and float(v) == int(float(v)) else None for v in parts
        )
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected comma-separated integers, got {value!r}") from None
    if not out or any(v is None or v < 1 for v in out):
        raise InputError(f"{name}: expected positive integers, got {value!r}")
    return out  # type: ignore[return-value]  # None excluded above


def _positive(value: Any, name: str, kind: type) -> Any:
    try:
        v = kind(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected a positive {kind.__name__}, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(v) or v <= 0 or (kind is int and v != value):
        raise InputError(f"{name}: expected a positive {kind.__name__}, got {value!r}")
    return v


def _choice(value: Any, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise InputError(f"{name}: expected one of {tuple(choices)}, got {value!r}")
    return str(value)


def resolve_settings(given: Mapping[str, Any], config: Mapping[str, Any]) -> TrainSettings:
    """Flags given on the command line win over the config file, which wins over
    :data:`TRAIN_DEFAULTS`; every value is checked (errors name the flag)."""
    raw = {
        k: given[k] if given.get(k) is not None else config.get(k, d)
        for k, d in TRAIN_DEFAULTS.items()
    }

    def flag(k: str) -> str:
        return "--" + k.replace("_", "-")

    res = check_resolutions(
        _ints(raw["resolutions"], flag("resolutions")), argument="--resolutions"
    )
    n_samples = _ints(raw["n_samples"], flag("n_samples"))
    if len(n_samples) not in (1, len(res)):
        raise InputError(
            f"--n-samples: expected one pool size or one per level ({len(res)}), got "
            f"{list(n_samples)}"
        )
    batch: tuple[int, ...] | str
    if raw["batch_sizes"] == "giles":
        batch = "giles"
    else:
        batch = _ints(raw["batch_sizes"], flag("batch_sizes"))
        if len(batch) != len(res):
            raise InputError(
                f"--batch-sizes: expected {len(res)} sizes (one per level) or 'giles', got "
                f"{list(batch)}"
            )
    step_budget = raw["step_budget"]
    if step_budget is not None:
        step_budget = _positive(step_budget, "--step-budget", float)
    if batch == "giles" and step_budget is None:
        raise InputError("--step-budget: --batch-sizes giles needs a cost budget per step")
    seed = raw["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"--seed: expected a non-negative integer, got {seed!r}")
    settings = TrainSettings(
        resolutions=res,
        n_samples=n_samples,
        hierarchy=_choice(raw["hierarchy"], "--hierarchy", HIERARCHIES),
        pairing=_choice(raw["pairing"], "--pairing", PAIRINGS),
        batch_sizes=batch,
        step_budget=step_budget,
        steps=_positive(raw["steps"], "--steps", int),
        lr=_positive(raw["lr"], "--lr", float),
        width=_positive(raw["width"], "--width", int),
        modes=_positive(raw["modes"], "--modes", int),
        seed=seed,
        nproc=_positive(raw["nproc"], "--nproc", int),
        shard=_choice(raw["shard"], "--shard", SHARDS),
    )
    if settings.hierarchy == "restrict":
        check_resolutions(res, nested=True, argument="--resolutions")
    _check_sharding(settings)
    return settings


def _check_sharding(s: TrainSettings) -> None:
    """Refuse, before any work, a split the ranks could not make."""
    if s.nproc == 1:
        return
    if isinstance(s.batch_sizes, str):
        if s.shard == "samples":
            raise InputError(
                "--shard: 'samples' with --batch-sizes giles cannot promise batches divisible "
                f"by the {s.nproc} ranks; use --shard levels or fixed batch sizes"
            )
        return
    costs = [float(n**2) for n in s.resolutions]
    try:
        shard_items(s.batch_sizes, costs, s.nproc, 0, s.shard)  # type: ignore[arg-type]
    except InputError as err:
        raise InputError(f"--batch-sizes, --nproc {s.nproc}: {err}") from None


def _model_config(s: TrainSettings) -> dict[str, Any]:
    return {
        "in_channels": 1,
        "out_channels": 1,
        "modes": s.modes,
        "width": s.width,
        "n_layers": 4,
        "grid": "cells",
        "padding": 0.125,
    }


def _extra(s: TrainSettings) -> dict[str, Any]:
    return {
        "model": _model_config(s),
        "pde": "darcy",
        "hierarchy": s.hierarchy,
        "normalisation": "x = (a - 7.5) / 4.5, y = u / 0.025",
    }


def darcy_data(
    resolutions: Sequence[int],
    n_samples: Sequence[int],
    hierarchy: str,
    seed: int,
    *,
    show_progress: bool,
) -> MultiLevelData:
    """Normalised Darcy level pools (float32): one shared pool or one pool per level."""
    data = MultiLevelData.generate(
        "darcy",
        n_samples[0] if len(n_samples) == 1 else list(n_samples),
        resolutions,
        hierarchy=hierarchy,  # type: ignore[arg-type]  # checked by _choice
        seed=seed,
        show_progress=show_progress,
    )
    return data.map(lambda a: (a - 7.5) / 4.5, lambda u: u / 0.025).to(dtype=torch.float32)


def _trainer(s: TrainSettings, data: MultiLevelData, distributed: bool) -> Any:
    from fno_conserve import FNO2d, RelLpLoss

    from ._trainer import MLMCTrainer

    torch.manual_seed(s.seed)
    model = FNO2d(**_model_config(s))
    return MLMCTrainer(
        model,
        data,
        RelLpLoss(rule="cells", reduction="none"),
        torch.optim.Adam(model.parameters(), lr=s.lr),
        batch_sizes=s.batch_sizes,  # type: ignore[arg-type]  # "giles" or integers
        pairing=s.pairing,  # type: ignore[arg-type]  # checked by _choice
        step_budget=s.step_budget,
        distributed=DistributedConfig(shard=s.shard) if distributed else None,  # type: ignore[arg-type]
        seed=s.seed,
        extra_config=_extra(s),
    )


def _fit(trainer: Any, steps: int, *, show: bool) -> None:
    start = trainer.step_count
    bar = progress(range(start, steps), desc="train", unit="step", disable=not show)
    for k in bar:
        trainer.fit(steps=k + 1)


def train_worker(
    rank: int, world_size: int, setup_file: str, resume: str | None, output: str, quiet: bool
) -> None:
    """One rank of ``train --nproc N``; rank 0 writes the checkpoint (or the error message)."""
    torch.set_num_threads(1)
    set_quiet(quiet or rank != 0)
    setup = torch.load(setup_file, weights_only=True)
    st = dict(setup["settings"])
    for key in ("resolutions", "n_samples"):
        st[key] = tuple(st[key])
    if not isinstance(st["batch_sizes"], str):
        st["batch_sizes"] = tuple(st["batch_sizes"])
    s = TrainSettings(**st)
    data = MultiLevelData([LevelSet(**lev) for lev in setup["levels"]], hierarchy=s.hierarchy)
    try:
        trainer = _trainer(s, data, distributed=True)
        if resume is not None:
            trainer.load(resume, argument="--resume")
        _fit(trainer, s.steps, show=rank == 0)
        if rank == 0:
            trainer.save(output, overwrite=True)
    except InputError as err:
        if rank == 0:
            Path(setup_file + ".error").write_text(str(err), encoding="utf-8")


def run_training(s: TrainSettings, *, resume: Path | None, output: Path, overwrite: bool) -> None:
    """Generate the data, train (one process or ``s.nproc`` ranks), write the checkpoint."""
    data = darcy_data(s.resolutions, s.n_samples, s.hierarchy, s.seed, show_progress=not is_quiet())
    if s.nproc == 1:
        trainer = _trainer(s, data, distributed=False)
        if resume is not None:
            trainer.load(resume, argument="--resume")
        _fit(trainer, s.steps, show=True)
        trainer.save(output, overwrite=overwrite)
        return
    with tempfile.TemporaryDirectory() as tmp:
        setup_file = os.path.join(tmp, "setup.pt")
        levels = [
            {
                "resolution": lev.resolution,
                "x": lev.x,
                "y": lev.y,
                "x_coarse": lev.x_coarse,
                "y_coarse": lev.y_coarse,
                "ids": lev.ids,
            }
            for lev in data.levels
        ]
        torch.save({"settings": asdict(s), "levels": levels}, setup_file)
        staged = os.path.join(tmp, "checkpoint.pt")
        launch(
            train_worker,
            s.nproc,
            backend="gloo",
            args=(setup_file, None if resume is None else str(resume), staged, is_quiet()),
        )
        err = Path(setup_file + ".error")
        if err.exists():
            raise InputError(err.read_text(encoding="utf-8"))
        atomic_write_bytes(output, Path(staged).read_bytes())


def variance_report(
    *,
    resolutions: Sequence[int],
    hierarchy: str,
    n_pilot: int,
    seed: int,
    width: int,
    modes: int,
    checkpoint: Path | None,
) -> dict[str, Any]:
    """Pilot level statistics of an FNO (initialised from ``seed`` or loaded from a ``train``
    checkpoint) on fresh Darcy level sets, and the Giles speed-up they predict."""
    from fno_conserve import FNO2d, RelLpLoss

    from .__about__ import __version__
    from ._allocation import giles_allocation
    from ._stats import estimate_level_stats

    res = check_resolutions(resolutions, nested=hierarchy == "restrict", argument="--resolutions")
    if len(res) < 2:
        raise InputError(f"--resolutions: expected at least two levels, got {list(res)}")
    kwargs: dict[str, Any] = {
        "in_channels": 1,
        "out_channels": 1,
        "modes": modes,
        "width": width,
        "n_layers": 4,
        "grid": "cells",
        "padding": 0.125,
    }
    state = None
    if checkpoint is not None:
        from sciml_core import load_checkpoint

        ckpt = load_checkpoint(
            checkpoint, package="mlmc-ops", version=__version__, argument="--checkpoint"
        )
        model_cfg = ckpt.config.get("extra", {}).get("model") if ckpt.config else None
        if not isinstance(model_cfg, dict):
            raise InputError(
                f"--checkpoint: {str(checkpoint)!r} records no FNO configuration (write it with "
                "mlmc-ops train)"
            )
        kwargs = model_cfg
        state = ckpt.state_dict["model"]
    torch.manual_seed(seed)
    model = FNO2d(**kwargs)
    if state is not None:
        model.load_state_dict(state)
    data = darcy_data(res, [n_pilot] * len(res), hierarchy, seed, show_progress=not is_quiet())
    stats = estimate_level_stats(
        model, data, RelLpLoss(rule="cells", reduction="none"), n_pilot=n_pilot, seed=seed
    )
    speedup = {}
    for name, costs in (("grid", stats.cost_units), ("measured", stats.cost_seconds)):
        alloc = giles_allocation(stats.V, costs, budget=1e6 * sum(costs), v_single=stats.V_single)
        speedup[name] = alloc.predicted_speedup
    return {
        "pde": "darcy",
        "hierarchy": hierarchy,
        "resolutions": list(res),
        "model": kwargs,
        "checkpoint": None if checkpoint is None else str(checkpoint),
        **stats.as_dict(),
        "V_L/V_single": stats.V[-1] / stats.V_single if stats.V_single > 0 else None,
        "predicted_speedup": speedup,
        "note": "V_l = tr Cov(grad l_l - grad l_(l-1)) per sample; bias of training on level l "
        "alone; cost_units n_l^2 (FFT logs and overheads ignored); cost_seconds measured; "
        f"{n_pilot} samples per level: orders of magnitude only",
    }


__all__ = [
    "TRAIN_DEFAULTS",
    "TrainSettings",
    "read_config",
    "resolve_settings",
    "run_training",
    "train_worker",
    "variance_report",
]
