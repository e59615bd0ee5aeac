"""Few-shot lesion segmentation on unseen sites with per-patient corruption (spec section 7).

Methods (``scratch``, ``finetune``, ``probe``, ``static``, ``hyda``) at each training size and
seed; every method's learning rate and length are chosen once on validation subjects (seed 0,
``tune_size`` subjects, the best of the ``eval_at`` checkpoints) and reused. At the largest size
the controls run too: HyDA evaluated with another test patient's embedding (must lose if the
kernels are patient-specific), HyDA on a frozen *random* encoder (what the foundation adds), and
the site oracle (one fusion basis per corruption type, routed by the truth: the headroom a
patient-specific adapter of this form could take). The gates are checked before the claims that
need them are read.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from sciml_core import Job, run_jobs

from .._encoders import TinyUNet
from .._hyda import FullFineTune, HyDA, Probe, Scratch, SiteOracle, StaticAdapter, count_trainable
from .._metrics import dice
from .._synthetic import synthetic_brains
from .._train import FitLog, Subjects, fit, predict, to_subjects
from .backbone import backbone_state, rebuild
from .config import Config
from .context import Context

MODS = ["T1", "FLAIR"]
FIGURE_METHODS = ("probe", "static", "hyda")
"""Methods whose prediction the case figure shows (largest size, first seed)."""
CORRUPTION_NAMES = ("T1 corrupted", "FLAIR corrupted")
"""Corruption type ids 0 and 1 of the segmentation preset."""
SEG_COLUMNS = [
    "method",
    "subjects",
    "seed",
    "lr",
    "steps",
    "pooled Dice",
    "mean subject Dice",
    "trainable",
    "seconds",
    "alpha entropy",
    "alpha separation",
]


def build(method: str, net: TinyUNet, seed: int) -> torch.nn.Module:
    """A fresh model of ``method`` on the backbone ``net`` (parameters seeded by ``seed``)."""
    kw: dict[str, Any] = {"decoder": net.decoder, "num_classes": 2, "seed": seed}
    if method == "scratch":
        return Scratch(MODS, num_classes=2, seed=seed)
    if method == "finetune":
        return FullFineTune(net.encoder, MODS, **kw)
    if method == "probe":
        return Probe(net.encoder, MODS, **kw)
    if method == "oracle":
        return SiteOracle(net.encoder, MODS, 2, **kw)
    hyda = HyDA(net.encoder, MODS, **kw)
    if method == "hyda":
        return hyda
    if method == "hyda_tau1":  # the spec prototype's last row: no temperature annealing
        return HyDA(net.encoder, MODS, tau0=1.0, **kw)
    if method == "hyda_channel":
        return HyDA(net.encoder, MODS, fusion_form="channel", **kw)
    if method == "hyda_residual":
        return HyDA(net.encoder, MODS, fusion="static", residual="dynamic", **kw)
    if method == "static":
        return StaticAdapter(net.encoder, MODS, at_least=count_trainable(hyda), **kw)
    raise ValueError(f"unknown method {method!r}")


def _score(model: torch.nn.Module, test: Subjects, embedding_shift: int = 0) -> tuple[float, float]:
    """(pooled lesion Dice, mean per-subject Dice); ``embedding_shift`` rolls the test
    patients' embeddings by that many places (the other-patient control)."""
    if embedding_shift:
        assert isinstance(model, HyDA)
        model.eval()
        preds = []
        with torch.no_grad():
            feats = model.encode(test.volumes)
            g = torch.cat(
                [
                    model.patient_embedding([[f[j : j + 4] for f in maps] for maps in feats])
                    for j in range(0, len(test), 4)
                ]
            )
            g = g.roll(embedding_shift, 0)
            for j in range(0, len(test), 4):
                part = [[f[j : j + 4] for f in maps] for maps in feats]
                preds.append(model(features=part, embedding=g[j : j + 4]).argmax(1))
        pred = torch.cat(preds)
    else:
        pred = predict(model, test)
    pooled = float(dice(pred, test.labels, num_classes=2)[0])
    per = dice(pred, test.labels, num_classes=2, reduction="none", empty="nan")[:, 0]
    return pooled, float(per.nanmean())


def _alpha(model: HyDA, test: Subjects) -> torch.Tensor:
    """HyDA's routing ``α`` ``(N, n_b)`` of every test patient (batches of 4, as predicted)."""
    model.eval()
    with torch.no_grad():
        feats = model.encode(test.volumes)
        return torch.cat(
            [
                model.routing(
                    model.patient_embedding([[f[j : j + 4] for f in maps] for maps in feats])
                )
                for j in range(0, len(test), 4)
            ]
        )


def _alpha_stats(model: torch.nn.Module, test: Subjects) -> tuple[float, float]:
    """(mean entropy of α in nats, L1 distance of the mean α of the two corruption groups)."""
    if not isinstance(model, HyDA) or model.router is None:
        return math.nan, math.nan
    alpha = _alpha(model, test)
    ent = float(-(alpha * alpha.clamp_min(1e-12).log()).sum(1).mean())
    groups = test.groups
    if (groups == 0).any() and (groups == 1).any():
        sep = float((alpha[groups == 0].mean(0) - alpha[groups == 1].mean(0)).abs().sum())
    else:
        sep = math.nan
    return ent, sep


def _figure_data(
    model: torch.nn.Module, train: Subjects, test: Subjects, case: int
) -> dict[str, Any]:
    """What the figures need from one trained model: its prediction for test patient ``case``;
    for HyDA also ``α`` of every test patient and the hypergraph of the first test batch with
    each vertex's corruption type (the batch's patients, then the bank's)."""
    start = case - case % 4  # the case is predicted in its own test batch, as it was scored
    batch = test.take(range(start, min(start + 4, len(test))))
    out: dict[str, Any] = {"case_pred": predict(model, batch)[case - start].numpy()}
    if isinstance(model, HyDA) and model.router is not None:
        out["alpha"] = _alpha(model, test).numpy()
        first = test.take(range(min(4, len(test))))
        with torch.no_grad():
            h = model.hypergraph(model.encode(first.volumes))
        groups = torch.cat([first.groups, train.groups])[: h.shape[0]]
        out["hypergraph"], out["hypergraph_groups"] = h.numpy(), groups.numpy()
    return out


def _row(method: str, n: int, s: int, lr: float, steps: int, out: dict[str, float]) -> list[Any]:
    ent, sep = out["entropy"], out["separation"]
    return [
        method,
        n,
        s,
        lr,
        steps,
        round(out["pooled"], 4),
        round(out["per"], 4),
        int(out["trainable"]),
        round(out["seconds"], 1),
        None if math.isnan(ent) else round(ent, 3),
        None if math.isnan(sep) else round(sep, 3),
    ]


def tune_job(
    state: dict[str, torch.Tensor],
    method: str,
    lr: float,
    train: Subjects,
    val: Subjects,
    c: Config,
) -> FitLog:
    """One tuning run (a worker job): seed 0, ``c.steps`` steps, validation at ``c.eval_at``."""
    model = build(method, rebuild(state), seed=0)
    return fit(
        model,
        train,
        steps=c.steps,
        lr=lr,
        batch=c.batch,
        seed=0,
        val=val,
        eval_at=c.eval_at,
        augment=method == "scratch",
    )


def run_job(
    state: dict[str, torch.Tensor],
    method: str,
    lr: float,
    steps: int,
    seed: int,
    train: Subjects,
    test: Subjects,
    c: Config,
    other_patient: bool = False,
    case: int = -1,
) -> dict[str, Any]:
    """One run of the table or the controls (a worker job): train, then test Dice, α statistics,
    size and seconds; with ``other_patient`` also Dice with another test patient's embedding;
    with ``case >= 0`` also what the figures need (:func:`_figure_data`)."""
    net = rebuild(state)
    if method == "hyda_random_encoder":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(10_000 + seed)
            net = TinyUNet(1, 5).eval()
        method = "hyda"
    model = build(method, net, seed=seed)
    log = fit(
        model,
        train,
        steps=steps,
        lr=lr,
        batch=c.batch,
        seed=seed,
        augment=method == "scratch",
    )
    pooled, per = _score(model, test)
    ent, sep = _alpha_stats(model, test)
    out: dict[str, Any] = {
        "pooled": pooled,
        "per": per,
        "trainable": float(count_trainable(model)),
        "seconds": log.seconds,
        "entropy": ent,
        "separation": sep,
    }
    if other_patient:
        out["other_patient"], _ = _score(model, test, embedding_shift=1)
    if case >= 0:
        return {**out, **_figure_data(model, train, test, case)}
    return out


def draws(
    c: Config, seed: int, knobs: dict[str, Any], seeds: Sequence[int]
) -> tuple[Subjects, Subjects, dict[int, Subjects]]:
    """The study's subjects for root ``seed``: validation, test, and per training seed ``s`` the
    draw of ``max(c.train_sizes)`` subjects whose first ``n`` train the ``n``-subject runs."""
    val = to_subjects(synthetic_brains(c.n_val, size=c.size, seed=seed, start=500, **knobs))
    test = to_subjects(synthetic_brains(c.n_test, size=c.size, seed=seed, start=600, **knobs))
    biggest = max(c.train_sizes)
    train_sets = {
        s: to_subjects(synthetic_brains(biggest, size=c.size, seed=seed + 1000 * s, **knobs))
        for s in seeds
    }
    return val, test, train_sets


def run(ctx: Context) -> None:
    """Tune, run the table and the controls, check the gates, add the claims.

    Every training run is a :class:`sciml_core.Job` on the backbone's ``state_dict``
    (``ctx.workers`` processes; the same numbers for every count).
    """
    c = ctx.config
    state = backbone_state(ctx)
    val, test, train_sets = draws(c, ctx.seed, c.corruption(), c.seeds)
    biggest = max(c.train_sizes)

    # 1. Tuning: learning rate and length per method, on validation data (seed offset 0).
    chosen: dict[str, tuple[float, int]] = {}
    grid: list[tuple[str, float]] = []
    extra = ["oracle", "hyda_tau1", "hyda_channel", "hyda_residual"] if c.controls else []
    for method in [*c.methods, *extra]:
        lrs = c.lrs.get(
            method, c.lrs.get("hyda" if method.startswith("hyda") else "static", (3e-3,))
        )
        if len(lrs) == 1 and not c.eval_at:
            chosen[method] = (lrs[0], c.steps)
            continue
        grid += [(method, lr) for lr in lrs]
    tune_train = train_sets[c.seeds[0]].take(range(c.tune_size))
    logs: list[FitLog] = run_jobs(
        [
            Job(f"tuning {m} lr {lr:g}", tune_job, (state, m, lr, tune_train, val, c))
            for m, lr in grid
        ],
        workers=ctx.workers,
        desc="segmentation tuning",
    )
    tune_rows = []
    best: dict[str, tuple[float, float, int]] = {}
    for (method, lr), log in zip(grid, logs, strict=True):
        score = log.val[log.best_step]
        tune_rows.append(
            [
                method,
                lr,
                *[round(log.val.get(s, math.nan), 4) for s in c.eval_at],
                log.best_step,
                round(log.seconds, 1),
            ]
        )
        if method not in best or score > best[method][0]:
            best[method] = (score, lr, log.best_step)
    for method, (_, lr, step) in best.items():
        chosen[method] = (lr, step)
    if tune_rows:
        ctx.result.add_table(
            "tuning",
            f"Validation lesion Dice ({c.n_val} subjects) of the tuning runs ({c.tune_size} "
            "training subjects, seed 0) at each checkpoint; the best (lr, step) is reused",
            ["method", "lr", *[f"val@{s}" for s in c.eval_at], "best step", "seconds"],
            tune_rows,
        )

    # 2. The table (methods x sizes x seeds) and 3. the controls at the largest size.
    keys = [(m, n, s) for n in c.train_sizes for s in c.seeds for m in c.methods]
    controls = ["oracle", "hyda_tau1", "hyda_channel", "hyda_residual", "hyda_random_encoder"]
    if c.controls:
        keys += [(m, biggest, s) for s in c.seeds for m in controls]
    # the figures' test patient: the one with the most lesion voxels; their runs: the largest
    # size, the first seed
    case = int((test.labels > 0).flatten(1).sum(1).argmax())
    jobs = []
    for m, n, s in keys:
        lr, steps = chosen["hyda" if m == "hyda_random_encoder" else m]
        shuffled = m == "hyda" and c.controls and n == biggest
        drawn = case if (m in FIGURE_METHODS and n == biggest and s == c.seeds[0]) else -1
        job = (state, m, lr, steps, s, train_sets[s].take(range(n)), test, c, shuffled, drawn)
        jobs.append(Job(f"segmentation {m} {n} subjects seed {s}", run_job, job))
    outs: list[dict[str, Any]] = run_jobs(jobs, workers=ctx.workers, desc="segmentation")
    rows = []
    for (m, n, s), out in zip(keys, outs, strict=True):
        lr, steps = chosen["hyda" if m == "hyda_random_encoder" else m]
        ctx.values["dice", m, n, s] = out["pooled"]
        rows.append(_row(m, n, s, lr, steps, out))
        if "other_patient" in out:
            ctx.values["dice", "hyda_other_patient", n, s] = out["other_patient"]
            rows.append(
                [
                    "hyda, other patient's embedding",
                    n,
                    s,
                    lr,
                    steps,
                    round(out["other_patient"], 4),
                    None,
                    int(out["trainable"]),
                    0.0,
                    None,
                    None,
                ]
            )
    ctx.result.add_table(
        "segmentation",
        f"Pooled lesion Dice on {c.n_test} test subjects (unseen sites, one of T1/FLAIR corrupted "
        f"per patient: {c.corrupt_kind} noise {c.corrupt_noise:g}, blur {c.corrupt_blur:g}), "
        f"{c.size}^3; alpha entropy (nats) and L1 distance between the mean alpha "
        "of the two corruption types",
        SEG_COLUMNS,
        rows,
    )
    _figures(
        ctx,
        rows,
        test,
        case,
        {k[0]: o for k, o in zip(keys, outs, strict=True) if "case_pred" in o},
    )
    _claims(ctx)


def _figures(
    ctx: Context,
    rows: list[list[Any]],
    test: Subjects,
    case: int,
    shown: dict[str, dict[str, Any]],
) -> None:
    """The spec's four figures, when matplotlib (the ``[plot]`` extra) is installed."""
    if importlib.util.find_spec("matplotlib") is None:
        ctx.result.add_table(
            "figures_skipped",
            "Figures not drawn: matplotlib (the [plot] extra) is not installed",
            ["figure"],
            [["dice_vs_subjects"], ["case"], ["alpha"], ["hypergraph"]],
        )
        return
    from . import figures

    out = ctx.out_dir
    figures.draw_dice(SEG_COLUMNS, rows, out / "dice_vs_subjects.png")
    ctx.result.add_figure(
        "dice_vs_subjects.png",
        "Pooled lesion Dice on the test subjects against training subjects (mean ± std over "
        "seeds); controls at the largest size only",
    )
    if shown:
        k = figures.draw_case(
            test.volumes["FLAIR"][case, 0].numpy(),
            test.labels[case].numpy(),
            {m: o["case_pred"] for m, o in shown.items()},
            out / "case.png",
        )
        ctx.result.add_figure(
            "case.png",
            f"Test patient {case} (the most lesion voxels), axial slice {k}: FLAIR, truth and "
            "each method's prediction at the largest training size, first seed",
        )
    hyda = shown.get("hyda", {})
    if "alpha" in hyda:
        figures.draw_alpha(hyda["alpha"], test.groups.numpy(), CORRUPTION_NAMES, out / "alpha.png")
        ctx.result.add_figure(
            "alpha.png",
            "HyDA's routing α per test patient, sorted by corruption type, and the mean α of "
            "each type (largest training size, first seed)",
        )
        figures.draw_hypergraph(
            hyda["hypergraph"], hyda["hypergraph_groups"], out / "hypergraph.png"
        )
        ctx.result.add_figure(
            "hypergraph.png",
            "Incidence of HyDA's hypergraph for the first test batch (its patients, then the "
            "training bank), vertices sorted by corruption type",
        )


def _mean(ctx: Context, method: str, n: int) -> float:
    vals = [v for k, v in ctx.values.items() if k[:3] == ("dice", method, n)]
    return float(np.mean(vals)) if vals else math.nan


def _claims(ctx: Context) -> None:
    c = ctx.config
    if c.mode == "quick":
        ctx.result.add_table(
            "deferred",
            "Claims only --full can show (quick trains 15 steps on 4 subjects at 16^3)",
            ["claim", "why deferred"],
            [
                [name, "needs the tuned 2/4/8-subject runs over 3 seeds and the controls"]
                for name in (
                    "foundation_helps_fewshot",
                    "patient_specific_headroom",
                    "hyda_beats_static_adapter",
                    "hyda_uses_patient_embedding",
                    "hyda_not_worse_than_probe_fewshot",
                )
            ]
            + [
                [
                    "hyda_classifier_above_chance",
                    "the classification study (8 and 24 subjects, 100 test subjects) runs in "
                    "--full only",
                ]
            ],
        )
        return
    small = [n for n in c.train_sizes if n < max(c.train_sizes)]
    big = max(c.train_sizes)
    gaps = {n: _mean(ctx, "probe", n) - _mean(ctx, "scratch", n) for n in small}
    foundation = all(g >= 0.05 for g in gaps.values())
    ctx.result.add_claim(
        "foundation_helps_fewshot",
        expected="gate: Dice(probe) - Dice(scratch, tuned) >= 0.05 at 2 and 4 subjects",
        observed=", ".join(f"{n} subjects: {g:+.3f}" for n, g in gaps.items()),
        holds=foundation,
    )
    headroom = _mean(ctx, "oracle", big) - _mean(ctx, "static", big)
    patient_gate = headroom >= 0.03
    ctx.result.add_claim(
        "patient_specific_headroom",
        expected=f"gate: Dice(site oracle) - Dice(static, matched) >= 0.03 at {big} subjects",
        observed=f"{_mean(ctx, 'oracle', big):.3f} - {_mean(ctx, 'static', big):.3f} = "
        f"{headroom:+.3f} (reported: oracle - probe = "
        f"{_mean(ctx, 'oracle', big) - _mean(ctx, 'probe', big):+.3f})",
        holds=patient_gate,
    )
    gates = foundation and patient_gate
    note = "" if gates else " (uninformative: gate failed)"
    hy, st = _mean(ctx, "hyda", big), _mean(ctx, "static", big)
    ctx.result.add_claim(
        "hyda_beats_static_adapter",
        expected=f"mean Dice(hyda) > mean Dice(static, parameter-matched) at {big} subjects, "
        f"{len(c.seeds)} seeds",
        observed=f"{hy:.3f} vs {st:.3f}{note}",
        holds=gates and hy > st,
    )
    sh = _mean(ctx, "hyda_other_patient", big)
    ctx.result.add_claim(
        "hyda_uses_patient_embedding",
        expected="Dice(hyda) - Dice(hyda, another patient's embedding) > 0.01",
        observed=f"{hy:.3f} - {sh:.3f} = {hy - sh:+.3f}{note}",
        holds=gates and hy - sh > 0.01,
    )
    worse = {n: _mean(ctx, "hyda", n) - _mean(ctx, "probe", n) for n in small}
    ctx.result.add_claim(
        "hyda_not_worse_than_probe_fewshot",
        expected="Dice(hyda) >= Dice(probe) - 0.02 at 2 and 4 subjects",
        observed=", ".join(f"{n} subjects: {g:+.3f}" for n, g in worse.items()) + note,
        holds=gates and all(g >= -0.02 for g in worse.values()),
    )
