"""Disease against control from T1 and PET (spec 7.1 preset B; claim
``hyda_classifier_above_chance``).

The ``classification`` preset: controls and patients alternate; a patient has larger ventricles
and a PET hypometabolism. The backbone is the one the ``backbone`` study pre-trained (MRI only:
PET is a sequence it never saw), passed to every run as its ``state_dict``. The methods are the
segmentation table's with a patient head: every model reads out the spec's ``"multi"`` way (the
global average of every fused scale and of the frozen decoder's last map, and the patient
embedding ``ĝ``, then one linear layer: the only readout ``HyDA(task="classification")`` has;
spec pitfall 2 saw frozen encoders at chance with poorer readouts). ``probe`` and ``static``
(parameter-matched to HyDA) keep one fusion kernel, ``hyda`` routes patient-specific kernels,
``finetune`` trains a copy of the whole backbone, ``scratch`` trains the same architecture from
random weights (no augmentation: the PET hypometabolism sits in a fixed, one-sided place).

Every method's learning rate and length are chosen once on the validation subjects (seed offset
``cls_seeds[0]``, ``cls_tune_size`` training subjects; best validation accuracy, ties broken by
validation AUC, over the ``eval_at`` checkpoints) and reused at every size and seed. Reported per
method, size and seed: test accuracy, ROC AUC (:func:`~brain_hyda.roc_auc`, ranks with ties
averaged), trainable parameters and training seconds; the claim reads HyDA's mean accuracy at the
largest size against 0.60 and records what it measured.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from sciml_core import Job, run_jobs

from .._encoders import TinyUNet
from .._hyda import FullFineTune, HyDA, Probe, StaticAdapter, count_trainable
from .._metrics import accuracy, roc_auc
from .._synthetic import synthetic_brains
from .._train import Subjects, to_subjects, train_loop
from .backbone import backbone_state, rebuild
from .config import Config
from .context import Context

MODS = ["T1", "PET"]
#: The accuracy ``hyda_classifier_above_chance`` asks for (spec 7.3).
THRESHOLD = 0.60


def build(method: str, net: TinyUNet, seed: int) -> HyDA:
    """A fresh patient classifier of ``method`` on the backbone ``net`` (seeded by ``seed``)."""
    kw: dict[str, Any] = {
        "decoder": net.decoder,
        "num_classes": 2,
        "task": "classification",
        "seed": seed,
    }
    if method == "scratch":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(20_000 + seed)
            fresh = TinyUNet(1, 5)
        return FullFineTune(fresh.encoder, MODS, **{**kw, "decoder": fresh.decoder})
    if method == "finetune":
        return FullFineTune(net.encoder, MODS, **kw)
    if method == "probe":
        return Probe(net.encoder, MODS, **kw)
    hyda = HyDA(net.encoder, MODS, **kw)
    if method == "hyda":
        return hyda
    if method == "static":
        return StaticAdapter(net.encoder, MODS, at_least=count_trainable(hyda), **kw)
    raise ValueError(f"unknown method {method!r}")


def probabilities(model: HyDA, data: Subjects, *, batch: int = 4) -> torch.Tensor:
    """``(N,)`` probability of disease for each patient, in eval mode, ``batch`` at a time."""
    model.eval()
    out = []
    with torch.no_grad():
        for j in range(0, len(data), batch):
            part = data.take(range(j, min(j + batch, len(data))))
            out.append(model(part.volumes).softmax(1)[:, 1])
    return torch.cat(out)


def scores(prob: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """(accuracy of ``prob > 0.5``, ROC AUC of ``prob``) against the patient labels."""
    return accuracy((prob > 0.5).long(), labels), roc_auc(prob.numpy(), labels.numpy())


@dataclass
class ClsLog:
    """What :func:`fit_classifier` did: validation (accuracy, AUC) per checkpoint, the step
    kept, training seconds."""

    val: dict[int, tuple[float, float]] = field(default_factory=dict)
    best_step: int = 0
    seconds: float = 0.0


def fit_classifier(
    model: HyDA,
    train: Subjects,
    *,
    steps: int,
    lr: float,
    batch: int = 4,
    seed: int = 0,
    val: Subjects | None = None,
    eval_at: Sequence[int] = (),
) -> ClsLog:
    """Train ``model``'s trainable parameters with AdamW on cross-entropy of the patient labels.

    A frozen model's encoder maps are computed once and its bank holds the training patients;
    HyDA's temperature anneals from ``tau0`` to 1 over the first half of the steps (as
    :func:`~brain_hyda.fit` does). With ``val``, validation accuracy and AUC are measured at the
    ``eval_at`` steps and at ``steps``, and the best checkpoint (accuracy, then AUC) is restored.
    """
    start = time.perf_counter()
    feats = None
    if model.frozen:
        with torch.no_grad():
            feats = model.encode(train.volumes)
        model.update_bank(feats)

    def step_loss(idx: torch.Tensor, _: torch.Generator) -> torch.Tensor:
        if feats is not None:
            logits = model(features=[[f[idx] for f in maps] for maps in feats], bank_ids=idx)
        else:
            logits = model(train.take(idx).volumes)
        return F.cross_entropy(logits, train.patient_labels[idx])

    def score() -> tuple[float, float]:
        assert val is not None
        return scores(probabilities(model, val, batch=batch), val.patient_labels)

    log = ClsLog()
    log.val, log.best_step = train_loop(
        model,
        len(train),
        step_loss,
        steps=steps,
        lr=lr,
        batch=batch,
        seed=seed,
        score=score if val is not None else None,
        eval_at=eval_at,
    )
    log.seconds = time.perf_counter() - start
    return log


def tune_job(
    state: dict[str, torch.Tensor],
    method: str,
    lr: float,
    seed: int,
    train: Subjects,
    val: Subjects,
    c: Config,
) -> ClsLog:
    """One tuning run (a worker job): ``c.steps`` steps, validation at ``c.eval_at``."""
    model = build(method, rebuild(state), seed=seed)
    return fit_classifier(
        model, train, steps=c.steps, lr=lr, batch=c.batch, seed=seed, val=val, eval_at=c.eval_at
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
) -> dict[str, float]:
    """One run of the table (a worker job): train, then test accuracy, AUC, size, seconds."""
    model = build(method, rebuild(state), seed=seed)
    log = fit_classifier(model, train, steps=steps, lr=lr, batch=c.batch, seed=seed)
    acc, auc = scores(probabilities(model, test, batch=c.batch), test.patient_labels)
    return {
        "accuracy": acc,
        "auc": auc,
        "trainable": float(count_trainable(model)),
        "seconds": log.seconds,
    }


def _round(x: float, digits: int = 4) -> float | None:
    return None if math.isnan(x) else round(x, digits)


def run(ctx: Context) -> None:
    """Tune, run methods x sizes x seeds, add the tables and the claim (nothing in ``--quick``:
    the claim stays in the ``deferred`` table there)."""
    c = ctx.config
    if not c.cls_train_sizes:
        return
    state = backbone_state(ctx)

    def data(n: int, seed: int, start: int = 0) -> Subjects:
        return to_subjects(
            synthetic_brains(n, preset="classification", size=c.size, seed=seed, start=start)
        )

    val = data(c.cls_n_val, ctx.seed, start=500)
    test = data(c.cls_n_test, ctx.seed, start=600)
    biggest = max(*c.cls_train_sizes, c.cls_tune_size)
    train_sets = {s: data(biggest, ctx.seed + 1000 * s) for s in c.cls_seeds}
    first = c.cls_seeds[0]

    # 1. Tuning: learning rate and length per method on the validation subjects.
    chosen: dict[str, tuple[float, int]] = {}
    grid = []
    for method in c.methods:
        lrs = c.lrs.get(method, (3e-3,))
        if len(lrs) == 1 and not c.eval_at:
            chosen[method] = (lrs[0], c.steps)
        else:
            grid += [(method, lr) for lr in lrs]
    tune_train = train_sets[first].take(range(c.cls_tune_size))
    logs: list[ClsLog] = run_jobs(
        [
            Job(
                f"classification tuning {m} lr {lr:g}",
                tune_job,
                (state, m, lr, first, tune_train, val, c),
            )
            for m, lr in grid
        ],
        workers=ctx.workers,
        desc="classification tuning",
    )
    best: dict[str, tuple[tuple[float, float], float, int]] = {}
    tune_rows = []
    steps_seen = sorted({s for log in logs for s in log.val})
    for (method, lr), log in zip(grid, logs, strict=True):
        got = log.val[log.best_step]
        if method not in best or got > best[method][0]:
            best[method] = (got, lr, log.best_step)
        tune_rows.append(
            [method, lr]
            + [_round(log.val[s][i]) if s in log.val else None for s in steps_seen for i in (0, 1)]
            + [log.best_step, round(log.seconds, 1)]
        )
    for method, (_, lr, step) in best.items():
        chosen[method] = (lr, step)
    if tune_rows:
        ctx.result.add_table(
            "classification_tuning",
            f"Validation accuracy and AUC ({c.cls_n_val} subjects) of the classification tuning "
            f"runs ({c.cls_tune_size} training subjects, seed offset {first}) at each checkpoint; "
            "the best (lr, step) by accuracy, then AUC, is reused",
            ["method", "lr"]
            + [f"{what}@{s}" for s in steps_seen for what in ("val acc", "val AUC")]
            + ["best step", "seconds"],
            tune_rows,
        )

    # 2. The table: methods x sizes x seeds.
    keys = [(m, n, s) for n in c.cls_train_sizes for s in c.cls_seeds for m in c.methods]
    outs: list[dict[str, float]] = run_jobs(
        [
            Job(
                f"classification {m} {n} subjects seed {s}",
                run_job,
                (state, m, *chosen[m], s, train_sets[s].take(range(n)), test, c),
            )
            for m, n, s in keys
        ],
        workers=ctx.workers,
        desc="classification",
    )
    rows = []
    for (m, n, s), out in zip(keys, outs, strict=True):
        ctx.values["cls_accuracy", m, n, s] = out["accuracy"]
        ctx.values["cls_auc", m, n, s] = out["auc"]
        lr, steps = chosen[m]
        rows.append(
            [
                m,
                n,
                s,
                lr,
                steps,
                _round(out["accuracy"]),
                _round(out["auc"]),
                int(out["trainable"]),
                round(out["seconds"], 1),
            ]
        )
    ctx.result.add_table(
        "classification",
        f"Disease vs control from T1 and PET ({c.size}^3, unseen target sites): test accuracy "
        f"and ROC AUC on {c.cls_n_test} subjects (half patients) per method, training subjects "
        "and seed; trainable parameters; training seconds",
        ["method", "subjects", "seed", "lr", "steps", "accuracy", "AUC", "trainable", "seconds"],
        rows,
    )
    mean_rows = []
    for n in c.cls_train_sizes:
        for m in c.methods:
            acc = _mean(ctx, "cls_accuracy", m, n)
            auc = _mean(ctx, "cls_auc", m, n)
            mean_rows.append([m, n, len(c.cls_seeds), _round(acc), _round(auc)])
    ctx.result.add_table(
        "classification_mean",
        "Mean over seeds of the classification table",
        ["method", "subjects", "seeds", "mean accuracy", "mean AUC"],
        mean_rows,
    )
    _claim(ctx)


def _mean(ctx: Context, what: str, method: str, n: int) -> float:
    vals = [v for k, v in ctx.values.items() if k[:3] == (what, method, n)]
    return float(np.mean(vals)) if vals else math.nan


def _claim(ctx: Context) -> None:
    c = ctx.config
    if "hyda" not in c.methods:
        return
    big = max(c.cls_train_sizes)
    acc = _mean(ctx, "cls_accuracy", "hyda", big)
    per = ", ".join(f"{ctx.values['cls_accuracy', 'hyda', big, s]:.3f}" for s in c.cls_seeds)
    auc = _mean(ctx, "cls_auc", "hyda", big)
    ctx.result.add_claim(
        "hyda_classifier_above_chance",
        expected=f"mean test accuracy of HyDA >= {THRESHOLD:.2f} at {big} training subjects "
        f"({c.cls_n_test} test subjects, {len(c.cls_seeds)} seeds); reported as measured",
        observed=f"{acc:.3f} (seeds: {per}; mean AUC {auc:.3f})",
        holds=bool(acc >= THRESHOLD),
    )
