"""Accuracy against remaining parameters on digits20: smooth vs tuned plain, SVD vs pruning."""

from __future__ import annotations

import itertools
import time
from typing import Any

import torch

from .._compress import compress_model
from .._count import count_parameters
from .._data import digits20
from .._models import Arch, build_model
from .._prune import prune_channels, prune_unstructured
from .._regularizer import SmoothnessRegularizer
from .._train import accuracy, train_classifier
from .context import Context

_LR = {"smallcnn": 1e-3, "gapcnn": 2e-3}


def _evaluations(
    model: torch.nn.Module, ctx: Context, x: torch.Tensor, y: torch.Tensor
) -> dict[str, tuple[float, int]]:
    """``{method: (accuracy, stored-or-nonzero parameters)}`` without fine-tuning."""
    cfg = ctx.config
    out = {"full": (accuracy(model, x, y), count_parameters(model))}
    for k in cfg.keep:
        rep = compress_model(model, keep=k)
        out[f"keep{k:g}"] = (accuracy(rep.model, x, y), rep.params_after)
    for p in cfg.params:
        rep = compress_model(model, params=p, count="compressible")
        out[f"params{p:g}"] = (accuracy(rep.model, x, y), rep.params_after)
    for a in cfg.channels:
        pruned = prune_channels(model, a)
        out[f"channels{a:g}"] = (accuracy(pruned, x, y), count_parameters(pruned))
    for a in cfg.unstructured:
        pruned = prune_unstructured(model, a)
        out[f"unstructured{a:g}"] = (accuracy(pruned, x, y), count_parameters(pruned, nonzero=True))
    return out


def _train(
    arch: Arch, ctx: Context, data: Any, *, wd: float, lam: float, seed: int
) -> torch.nn.Module:
    x, y = data
    torch.manual_seed(ctx.seed + seed)
    model = build_model(arch)
    reg = SmoothnessRegularizer(model, second_order=lam) if lam else None
    train_classifier(
        model,
        x,
        y,
        epochs=ctx.config.epochs,
        lr=_LR[arch],
        weight_decay=wd,
        regularizer=reg,
        seed=ctx.seed + seed,
    )
    return model


def run(ctx: Context) -> None:
    """Train plain and smooth models, choose by validation, evaluate every compression on test."""
    cfg = ctx.config
    x_tr, y_tr, x_te, y_te = digits20(seed=ctx.seed)
    n = cfg.n_train
    train = (x_tr[:n], y_tr[:n])
    x_val, y_val = x_tr[n : n + cfg.n_val], y_tr[n : n + cfg.n_val]
    rows: list[list[Any]] = []
    timings: list[list[Any]] = []
    for arch in cfg.models:
        candidates = {
            "plain": [(wd, 0.0) for wd in cfg.plain_weight_decays],
            "smooth-out2": [(5e-4, lam) for lam in cfg.second_order[arch]],
        }
        for run_name, grid in candidates.items():
            chosen = grid[0]
            if len(grid) > 1:  # tune on seed 0: validation accuracy after params=0.1
                scored = []
                for wd, lam in grid:
                    t0 = time.perf_counter()
                    model = _train(arch, ctx, train, wd=wd, lam=lam, seed=cfg.seeds[0])
                    timings.append([arch, run_name, wd, lam, time.perf_counter() - t0])
                    comp = compress_model(model, params=0.1, count="compressible").model
                    scored.append(
                        (accuracy(comp, x_val, y_val), accuracy(model, x_val, y_val), wd, lam)
                    )
                best_full = max(s[1] for s in scored)
                ok = [s for s in scored if s[1] >= best_full - 0.03]
                chosen = max(ok)[2:]
            wd, lam = chosen
            for seed in cfg.seeds:
                t0 = time.perf_counter()
                model = _train(arch, ctx, train, wd=wd, lam=lam, seed=seed)
                timings.append([arch, run_name, wd, lam, time.perf_counter() - t0])
                for method, (acc, count) in _evaluations(model, ctx, x_te, y_te).items():
                    ctx.values[arch, run_name, seed, method] = acc
                    rows.append([arch, run_name, wd, lam, seed, method, count, acc])
    ctx.result.add_table(
        "digits_accuracy",
        "digits20 test accuracy without fine-tuning: plain (tuned weight decay) vs smooth "
        "(Δ² along out)",
        ["model", "run", "weight_decay", "lambda2", "seed", "method", "parameters", "accuracy"],
        rows,
    )
    ctx.result.add_table(
        "digits_train_seconds",
        "training time per run (s)",
        ["model", "run", "weight_decay", "lambda2", "seconds"],
        timings,
    )
    _claims(ctx)


def _mean(ctx: Context, arch: str, run: str, method: str) -> float:
    vals = [ctx.values[arch, run, s, method] for s in ctx.config.seeds]
    return sum(vals) / len(vals)


def _claims(ctx: Context) -> None:
    cfg = ctx.config
    res = ctx.result
    v = ctx.values
    cost = {
        a: _mean(ctx, a, "smooth-out2", "full") - _mean(ctx, a, "plain", "full") for a in cfg.models
    }
    res.add_claim(
        "smooth_full_accuracy_cost",
        "acc(smooth) >= acc(plain) - 0.03, each model (quick: SmallCNN, one seed, 7 epochs; "
        "full: both models, mean of 3 seeds)",
        {a: round(c, 4) for a, c in cost.items()},
        all(c >= -0.03 for c in cost.values()),
    )
    gain_k = _mean(ctx, "smallcnn", "smooth-out2", "keep0.1") - _mean(
        ctx, "smallcnn", "plain", "keep0.1"
    )
    res.add_claim(
        "svd_per_layer_smooth_gain",
        "keep=0.1: smooth >= plain + 0.04 (SmallCNN; quick and full)",
        round(gain_k, 4),
        gain_k >= 0.04,
    )
    glob = {
        a: (_mean(ctx, a, "plain", "params0.1"), _mean(ctx, a, "plain", "keep0.1"))
        for a in cfg.models
    }
    res.add_claim(
        "global_budget_beats_per_layer",
        "plain: params=0.1 accuracy > keep=0.1 accuracy, each model (quick: SmallCNN only)",
        {a: [round(g, 4), round(k, 4)] for a, (g, k) in glob.items()},
        all(g > k for g, k in glob.values()),
    )
    gain_fc = _mean(ctx, "smallcnn", "smooth-out2", "params0.1") - _mean(
        ctx, "smallcnn", "plain", "params0.1"
    )
    res.add_claim(
        "svd_global_smooth_gain_fc",
        "reported: params=0.1 smooth - plain on SmallCNN (expected not to reach +0.04; "
        "quick and full)",
        round(gain_fc, 4),
        gain_fc >= 0.04,
    )
    if "gapcnn" in cfg.models:
        gain_g = _mean(ctx, "gapcnn", "smooth-out2", "params0.1") - _mean(
            ctx, "gapcnn", "plain", "params0.1"
        )
        res.add_claim(
            "svd_global_smooth_gain",
            "params=0.1: smooth >= plain + 0.04 on GapCNN (full only: GapCNN is not in quick)",
            round(gain_g, 4),
            gain_g >= 0.04,
        )
    if len(cfg.seeds) >= 3:
        ch = _mean(ctx, "smallcnn", "smooth-out2", "channels0.5") - _mean(
            ctx, "smallcnn", "plain", "channels0.5"
        )
        res.add_claim(
            "chan50_smooth_gain",
            "channels 50 %: smooth >= plain + 0.04, SmallCNN, mean of 3 seeds (full only: "
            "one seed is too noisy)",
            round(ch, 4),
            ch >= 0.04,
        )
    if len(cfg.plain_weight_decays) > 1:
        wd = _mean(ctx, "smallcnn", "plain", "keep0.1")
        sm = _mean(ctx, "smallcnn", "smooth-out2", "keep0.1")
        res.add_claim(
            "weight_decay_is_not_smoothing",
            "tuned plain's keep=0.1 accuracy < smooth's - 0.04 (SmallCNN; full only: "
            "quick does not tune the weight decay)",
            [round(wd, 4), round(sm, 4)],
            wd < sm - 0.04,
        )
    mono = True
    for arch, run, seed in sorted({key[:3] for key in v if len(key) == 4}):
        for family, grid in (("keep", cfg.keep), ("params", cfg.params)):
            accs = [v[arch, run, seed, f"{family}{g:g}"] for g in sorted(grid, reverse=True)]
            mono &= all(b <= a + 0.005 for a, b in itertools.pairwise(accs))
    res.add_claim(
        "svd_monotone_in_budget",
        "accuracy non-decreasing in keep and params (slack 0.005; quick: 2 points each)",
        mono,
        mono,
    )
    un = max(cfg.unstructured)
    d = _mean(ctx, "smallcnn", "smooth-out2", f"unstructured{un:g}") - _mean(
        ctx, "smallcnn", "plain", f"unstructured{un:g}"
    )
    res.add_claim(
        "unstructured_smooth_vs_plain",
        f"paper: smooth >= plain under pruning (reported, {un:g} unstructured)",
        round(d, 4),
        d >= 0,
    )
