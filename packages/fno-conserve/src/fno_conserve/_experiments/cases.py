"""Shared by the studies: train and evaluate every variant of one case over its seeds, record the
measured values by key, and add the case's tables.

Data: sample indices ``0 .. train-1`` train, ``train .. train+val-1`` validate (penalty weight),
the test set follows; the data depends on the run's seed only. Model seed ``j`` is
``seed + j``: ``torch.manual_seed`` before the model is built, and the same seed for the
training loop's shuffling.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from .._data import PDE, Dataset, generate
from .._train import Law, TrainConfig, Variant, build_model, evaluate, rollout, train_model
from .config import CaseConfig

if TYPE_CHECKING:
    from .registry import Context

EPS32 = float(np.finfo(np.float32).eps)
EPS64 = float(np.finfo(np.float64).eps)

COLUMNS = [
    "variant",
    "rel_l2_mean",
    "rel_l2_std",
    "cons_max_abs_f32",
    "cons_mean_abs_f32",
    "cons_max_rel_f32",
    "cons_max_abs_f64",
    "cons_max_rel_f64",
    "train_seconds",
]
"""Columns of a case table; every column after ``variant`` is a metric key of
``Context.values``."""

REFERENCE = "reference"
"""Variant key of the conserved-mean predictor (a reference row, not a trained model)."""


@dataclass
class SeedRun:
    """Test metrics of one trained variant and seed (float32, and the same weights in float64)."""

    ev32: dict[str, Any]
    ev64: dict[str, Any]
    train_seconds: float


@dataclass
class CaseRun:
    """Everything one case measured: per variant and seed, the first seed's models, rollouts."""

    name: str
    pde: PDE
    law: Law
    variants: list[Variant]
    case: CaseConfig
    test: Dataset
    penalty_weight: float
    per: dict[Variant, list[SeedRun]] = field(default_factory=dict)
    models: dict[Variant, tuple[TrainConfig, nn.Module]] = field(default_factory=dict)
    rollouts: dict[Variant, dict[str, list[float]]] = field(default_factory=dict)


def _train_variant(
    variant: Variant,
    base: dict[str, Any],
    train: Dataset,
    seed: int,
    ctx: Context,
    dim: int,
) -> tuple[TrainConfig, nn.Module, dict[str, Any]]:
    cfg = TrainConfig(variant=variant, **base).check()
    torch.manual_seed(seed)
    model = build_model(cfg, dim, train["x"].shape[1], train["y"].shape[1]).to(ctx.device)
    hist = train_model(
        model,
        cfg,
        train["x"].to(ctx.device),
        train["y"].to(ctx.device),
        seed=seed,
        show_progress=ctx.show_progress,
    )
    return cfg, model, hist


def _first_step(test: Dataset, steps: int) -> torch.Tensor:
    """Targets of the one-step map (the first state of a rollout trajectory)."""
    return test["y"][:, 0] if steps > 1 else test["y"]


def _evaluate(
    model: nn.Module, cfg: TrainConfig, test: Dataset, device: str, steps: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    y1 = _first_step(test, steps)
    ev32 = evaluate(model, cfg, test["x"].to(device), y1.to(device))
    ev64 = evaluate(
        copy.deepcopy(model), cfg, test["x"].to(device), y1.to(device), dtype=torch.float64
    )
    return ev32, ev64


def run_case(
    ctx: Context,
    name: str,
    pde: PDE,
    law: Law,
    variants: list[Variant],
    case: CaseConfig,
    *,
    dim: int = 1,
) -> CaseRun:
    """Train every variant for every seed of ``case``; record values; add the case's tables.

    Adds the table ``name`` (test rel-L2 and conservation error per variant; for linear laws a
    reference row, the conserved-mean predictor) and, when the case rolls out, ``name_rollout``.
    ``posthoc`` reuses the ``plain`` model of the same seed (it must follow ``plain``).
    """
    params: dict[str, Any] = dict(ctx.config.pde_params.get(pde, {}))
    show = ctx.show_progress
    train = generate(pde, case.train, case.n, seed=ctx.seed, show_progress=show, **params)
    test = generate(
        pde,
        case.test,
        case.n,
        seed=ctx.seed,
        offset=case.train + case.val,
        rollout_steps=case.rollout,
        show_progress=show,
        **params,
    )
    base: dict[str, Any] = {
        "law": law,
        "width": case.width,
        "modes": case.modes,
        "layers": case.layers,
        "epochs": case.epochs,
        "lr": case.lr,
        "batch": case.batch,
    }
    penalty_weight = case.penalty[0] if case.penalty else 1.0
    if len(case.penalty) > 1 and case.val > 0:  # choose the weight on validation, seed `seed`
        val = generate(
            pde, case.val, case.n, seed=ctx.seed, offset=case.train, show_progress=show, **params
        )
        scores = {}
        for lam in case.penalty:
            kw = base | {"penalty_weight": lam, "lr": case.lr_of("penalty")}
            cfg, model, _ = _train_variant("penalty", kw, train, ctx.seed, ctx, dim)
            scores[lam] = evaluate(model, cfg, val["x"].to(ctx.device), val["y"].to(ctx.device))[
                "rel_l2"
            ]
        penalty_weight = min(scores, key=lambda lam: scores[lam])
    run = CaseRun(name, pde, law, variants, case, test, penalty_weight)
    run.per = {v: [] for v in variants}
    for j in range(case.seeds):
        sd = ctx.seed + j
        plain: nn.Module | None = None
        for v in variants:
            if v == "posthoc":
                if plain is None:
                    raise ValueError("variants: 'posthoc' needs 'plain' before it")
                cfg, model, seconds = TrainConfig(variant="posthoc", **base).check(), plain, 0.0
            else:
                kw = base | {"lr": case.lr_of(v)}
                kw |= {"penalty_weight": penalty_weight} if v == "penalty" else {}
                cfg, model, hist = _train_variant(v, kw, train, sd, ctx, dim)
                seconds = hist["train_seconds"]
                if v == "plain":
                    plain = model
            ev32, ev64 = _evaluate(model, cfg, test, ctx.device, case.rollout)
            run.per[v].append(SeedRun(ev32, ev64, seconds))
            if j == 0:
                run.models[v] = (cfg, model)
    _record(ctx, run)
    _case_table(ctx, run)
    if case.rollout > 1 and train["x"].shape[1] == train["y"].shape[1]:
        for v in variants:
            cfg, model = run.models[v]
            run.rollouts[v] = rollout(
                model.float(), cfg, test["x"].to(ctx.device), test["y"].to(ctx.device)
            )
        _rollout_table(ctx, run)
    return run


def _record(ctx: Context, run: CaseRun) -> None:
    """Every measured summary into ``ctx.values`` under ``(case, variant, metric)``."""
    values, name = ctx.values, run.name
    for v, seeds in run.per.items():
        rel = [r.ev32["rel_l2"] for r in seeds]
        values[name, v, "rel_l2_mean"] = float(np.mean(rel))
        values[name, v, "rel_l2_std"] = float(np.std(rel))
        values[name, v, "cons_max_abs_f32"] = max(r.ev32["cons_max_abs"] for r in seeds)
        values[name, v, "cons_mean_abs_f32"] = float(
            np.mean([r.ev32["cons_mean_abs"] for r in seeds])
        )
        values[name, v, "cons_max_rel_f32"] = max(r.ev32["cons_max_rel"] for r in seeds)
        values[name, v, "cons_max_rel_f32_best_seed"] = min(r.ev32["cons_max_rel"] for r in seeds)
        values[name, v, "cons_max_abs_f64"] = max(r.ev64["cons_max_abs"] for r in seeds)
        values[name, v, "cons_max_rel_f64"] = max(r.ev64["cons_max_rel"] for r in seeds)
        values[name, v, "train_seconds"] = float(np.mean([r.train_seconds for r in seeds]))
    if "posthoc" in run.per and "plain" in run.per:
        worst = 0.0
        for rp, rq in zip(run.per["posthoc"], run.per["plain"], strict=True):
            a = np.array(rp.ev32["rel_l2_per_sample"])
            b = np.array(rq.ev32["rel_l2_per_sample"])
            worst = max(worst, float(np.max(a - b)))
        values[name, "posthoc", "max_increase_over_plain"] = worst
    if run.law in ("mass", "mean-zero"):
        values[name, REFERENCE, "rel_l2_mean"] = _reference_error(run)


def _reference_error(run: CaseRun) -> float:
    """Test rel-L2 of the constant field with the input's conserved mean (zero for mean-zero).

    Every exact variant gets the mean right for free; a model that does not beat this predictor
    has learned nothing else.
    """
    y1 = _first_step(run.test, run.case.rollout)
    cout = y1.shape[1]
    dims = tuple(range(2, y1.ndim))
    ref = run.test["x"][:, :cout].mean(dim=dims, keepdim=True).expand_as(y1)
    if run.law == "mean-zero":
        ref = torch.zeros_like(y1)
    all_dims = tuple(range(1, y1.ndim))
    return float((((ref - y1) ** 2).sum(all_dims).sqrt() / (y1**2).sum(all_dims).sqrt()).mean())


def _case_table(ctx: Context, run: CaseRun) -> None:
    values, name = ctx.values, run.name
    rows: list[list[Any]] = [
        [v, *(values[name, v, metric] for metric in COLUMNS[1:])] for v in run.variants
    ]
    if (name, REFERENCE, "rel_l2_mean") in values:
        rows.append(
            ["conserved-mean predictor (reference)", values[name, REFERENCE, "rel_l2_mean"]]
            + [0.0] * (len(COLUMNS) - 2)
        )
    ctx.result.add_table(
        name,
        f"{run.pde}, law '{run.law}': test rel-L2 over {run.case.seeds} seed(s) and "
        "conservation error (float32 evaluation; the same weights in float64)",
        COLUMNS,
        rows,
    )


def _rollout_table(ctx: Context, run: CaseRun) -> None:
    """Rollout of the first seed's models; records each step's drift and the maximum."""
    for v, r in run.rollouts.items():
        for k, d in enumerate(r["drift"]):
            ctx.values[run.name, v, f"drift_step_{k + 1}"] = d
        ctx.values[run.name, v, "drift_max"] = max(r["drift"])
    rows = [
        [v, k + 1, run.rollouts[v]["rel_l2"][k], run.rollouts[v]["drift"][k]]
        for v in run.variants
        for k in range(run.case.rollout)
    ]
    ctx.result.add_table(
        f"{run.name}_rollout",
        f"{run.pde}: autoregressive rollout (seed {ctx.seed}), rel-L2 "
        "and conservation drift relative to the initial input",
        ["variant", "step", "rel_l2", "drift_rel"],
        rows,
    )
