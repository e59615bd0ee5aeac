"""Case B (spec §6.3): certified ℓ2 robustness on scikit-learn's bundled digits.

Models at the same width, depth, epochs and batch: the gradient and fixed-width
``LipResNetClassifier`` (margin loss, μ chosen on validation certified accuracy at ε = 0.25 in full
mode), the spectrally normalised MLP (exact norms, GroupSort, same loss and μ rule) and the
unconstrained ResNet (cross-entropy, weight decay chosen on validation clean accuracy). Every model
is certified from its own proven bound (the unconstrained one's is loose); PGD (ℓ2) tries to
falsify every certificate.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import nn

import lipres
from lipres._certify import _margin_lipschitz

from .context import Context
from .models import ModelName, bound_of, classifier, margin_ratio_ascent

LIPSCHITZ_MODELS: tuple[ModelName, ...] = ("gradient", "fixed-width", "spectral")


def _train(ctx: Context, name: ModelName, split: lipres.DigitsSplit, seed: int, setting: float):
    cfg = ctx.config
    torch.manual_seed(seed)
    model = classifier(name, 64, 10, cfg.digits_width, cfg.digits_depth)
    start = time.perf_counter()
    lipres.fit_classifier(
        model,
        split.x_train,
        split.y_train,
        epochs=cfg.digits_epochs,
        batch_size=cfg.digits_batch,
        lr=cfg.digits_lr,
        margin=None if name == "unconstrained" else setting,
        temperature=cfg.temperature,
        weight_decay=setting if name == "unconstrained" else 0.0,
        seed=seed,
        show_progress=True,
    )
    return model, time.perf_counter() - start


def _validation_score(name: ModelName, model: nn.Module, split: lipres.DigitsSplit) -> float:
    if name == "unconstrained":
        with torch.no_grad():
            return float((model(split.x_val).argmax(1) == split.y_val).double().mean())
    return float(lipres.certified_accuracy(model, split.x_val, split.y_val, 0.25))  # type: ignore[arg-type]


def _falsify_bound(
    ctx: Context, name: ModelName, model: nn.Module, x: torch.Tensor, seed: int
) -> tuple[float | None, float | None]:
    """Pair ascent against the logit bound and against the certified margin table (1-Lipschitz
    models only; the unconstrained net's bound is loose by orders of magnitude)."""
    if name not in LIPSCHITZ_MODELS:
        return None, None
    n_iter = 10 if ctx.config.mode == "quick" else 30
    table = _margin_lipschitz(model, 10, None)
    ratio = margin_ratio_ascent(model, x, table, n_iter=n_iter, seed=seed)
    emp = lipres.empirical_lipschitz(
        model.double(), x.double(), method="ascent", n_iter=n_iter, seed=seed
    )
    model.float()
    return emp, ratio


def run(ctx: Context) -> None:
    """Train, certify and attack every model; add the table and the claims."""
    names: tuple[ModelName, ...] = ("gradient", "fixed-width", "spectral", "unconstrained")
    if ctx.config.mode == "quick":
        names = ("gradient", "unconstrained")
    add_table(ctx, train_and_attack(ctx, names))
    _claims(ctx, names)


def train_and_attack(ctx: Context, names: tuple[ModelName, ...]) -> list[list[Any]]:
    """Every model in ``names`` on every seed (settings chosen on validation on the first seed):
    the table rows, and the measured values in ``ctx.values`` keyed ``("digits", name, seed,
    ...)``."""
    cfg = ctx.config
    v = ctx.values
    rows = []
    chosen: dict[str, float] = {}
    for seed in cfg.digits_seeds:
        split = lipres.load_digits_split(seed=seed)
        for name in names:
            grid = cfg.weight_decays if name == "unconstrained" else cfg.margins
            if name not in chosen:
                trials = [(_train(ctx, name, split, seed, s), s) for s in grid]
                if len(trials) == 1:
                    (model, secs), setting = trials[0]
                else:
                    scored = [
                        (_validation_score(name, m, split), -i, (m, t), s)
                        for i, ((m, t), s) in enumerate(trials)
                    ]
                    _, _, (model, secs), setting = max(scored)
                chosen[name] = setting
            else:
                setting = chosen[name]
                model, secs = _train(ctx, name, split, seed, setting)
            model.eval()
            x, y = split.x_test, split.y_test
            with torch.no_grad():
                clean = float((model(x).argmax(1) == y).double().mean())
            radius = lipres.certified_radius(model, x, y)
            bound = bound_of(model)
            n = min(cfg.n_certify, x.shape[0])
            key = ("digits", name, seed)
            v[(*key, "clean")], v[(*key, "bound")] = clean, bound
            row = [name, seed, setting, clean]
            certs, pgds = [], []
            violations = 0
            for eps in cfg.eps:
                certified = (radius > eps) & (model(x).argmax(1) == y)
                adv = lipres.pgd_l2(
                    model,
                    x[:n],
                    y[:n],
                    eps,
                    steps=cfg.pgd_steps,
                    restarts=cfg.pgd_restarts,
                    bounds=(0.0, 1.0),
                    seed=seed,
                )
                with torch.no_grad():
                    robust = model(adv).argmax(1) == y[:n]
                violations += int((certified[:n] & ~robust).sum())
                cert_acc = float(certified.double().mean())
                cert_sub = float(certified[:n].double().mean())
                pgd_acc = float(robust.double().mean())
                v[(*key, "certified", eps)], v[(*key, "certified_sub", eps)] = cert_acc, cert_sub
                v[(*key, "pgd", eps)] = pgd_acc
                certs.append(cert_acc)
                pgds.append(pgd_acc)
            v[(*key, "violations")] = violations
            emp, ratio = _falsify_bound(ctx, name, model, x[:n], seed)
            if emp is not None and ratio is not None:
                v[(*key, "emp_ascent")], v[(*key, "margin_ratio")] = emp, ratio
            rows.append([*row, *certs, *pgds, bound, emp, ratio, violations, secs])
    return rows


def add_table(ctx: Context, rows: list[list[Any]]) -> None:
    """The ``digits`` table of :func:`train_and_attack`'s rows."""
    cfg = ctx.config
    eps_cols = [f"certified@{e}" for e in cfg.eps] + [f"pgd@{e}" for e in cfg.eps]
    ctx.result.add_table(
        "digits",
        f"Certified and PGD (ℓ2, {cfg.pgd_steps} steps × {cfg.pgd_restarts} restarts, first "
        f"{cfg.n_certify} test points) accuracy on digits; setting = μ (1-Lipschitz models) or "
        "weight decay (unconstrained), chosen on validation; emp_ascent = largest "
        "||f(a)-f(b)||/||a-b|| found by pair ascent on those test points (float64, a lower "
        "bound to compare with bound); margin_ratio = largest |Δ(f_y-f_j)|/(M_yj ||a-b||) found "
        "by pair ascent, M the margin table the certified radii use (above 1 would disprove "
        "them); None for the unconstrained net",
        [
            "model",
            "seed",
            "setting",
            "clean",
            *eps_cols,
            "bound",
            "emp_ascent",
            "margin_ratio",
            "certified_but_broken",
            "train_s",
        ],
        rows,
    )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _claims(ctx: Context, names: tuple[ModelName, ...]) -> None:
    cfg = ctx.config
    v = ctx.values
    res = ctx.result
    seeds = cfg.digits_seeds
    broken = sum(int(v[("digits", n, s, "violations")]) for n in names for s in seeds)
    ordered = all(
        v[("digits", n, s, "certified_sub", e)] <= v[("digits", n, s, "pgd", e)]
        for n in names
        for s in seeds
        for e in cfg.eps
    )
    res.add_claim(
        "certified_below_empirical",
        "no point certified at ε is broken by PGD, and certified <= PGD-robust accuracy, "
        "every model and ε",
        f"{broken} certified points broken",
        bool(broken == 0 and ordered),
    )
    unc = [v[("digits", "unconstrained", s, "certified", cfg.eps[0])] for s in seeds]
    res.add_claim(
        "unconstrained_not_certifiable",
        f"unconstrained net, certified accuracy from its proven bound at ε = {cfg.eps[0]} is 0",
        {"certified": unc, "bound": [v[("digits", "unconstrained", s, "bound")] for s in seeds]},
        bool(max(unc) == 0.0),
    )
    grad = [v[("digits", "gradient", s, "certified", cfg.eps[0])] for s in seeds]
    res.add_claim(
        "lipschitz_certifies",
        f"gradient model certified accuracy at ε = {cfg.eps[0]} >= 0.80",
        _mean(grad),
        bool(_mean(grad) >= 0.80),
    )
    gap = _mean(
        [
            v[("digits", "gradient", s, "clean")] - v[("digits", "unconstrained", s, "clean")]
            for s in seeds
        ]
    )
    res.add_claim(
        "clean_accuracy_cost",
        "gradient clean accuracy >= unconstrained - 0.05 (mean over seeds)"
        + (" [reported in quick mode]" if cfg.mode == "quick" else ""),
        gap,
        bool(gap >= -0.05),
    )
    bound_claim(ctx, names)


def bound_claim(ctx: Context, names: tuple[ModelName, ...]) -> None:
    """``bound_is_respected_digits``: pair ascent cannot beat the logit bound or the margin
    table the certificates use, and PGD breaks no certified point (falsifiable: a table or bound
    that understates the model's Lipschitz constant fails it, tests/test_digits_claims.py)."""
    v = ctx.values
    res = ctx.result
    seeds = ctx.config.digits_seeds
    broken = sum(int(v[("digits", n, s, "violations")]) for n in names for s in seeds)
    checked = [(n, s) for n in names if n in LIPSCHITZ_MODELS for s in seeds]
    over = max(v[("digits", n, s, "emp_ascent")] / v[("digits", n, s, "bound")] for n, s in checked)
    ratio = max(v[("digits", n, s, "margin_ratio")] for n, s in checked)
    res.add_claim(
        "bound_is_respected_digits",
        "every 1-Lipschitz classifier and seed, pair ascent on held-out test digits (float64): "
        "no ||f(a)-f(b)||/||a-b|| above lipschitz_bound()·(1 + 1e-5) and no margin change "
        "|Δ(f_y-f_j)| above (1 + 1e-5)·M_yj·||a-b|| (M the certified radii's table); no "
        "certified point broken by PGD",
        {
            "max empirical/bound": over,
            "max margin ratio": ratio,
            "certified points broken": broken,
            "models": sorted({n for n, _ in checked}),
        },
        bool(over <= 1 + 1e-5 and ratio <= 1 + 1e-5 and broken == 0),
    )
