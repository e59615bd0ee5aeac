"""Which generator setting gives a per-patient adapter something to take (the patient gate)?

``python -m brain_hyda._experiments.headroom_sweep --out DIR --settings white:0.8:1.5
correlated:0.3:1.5 ...`` (a setting is ``KIND:NOISE:BLUR``, the corruption knobs of
:func:`~brain_hyda.synthetic_brains`); ``--merge DIR... --out DIR`` merges the ``runs.jsonl`` of
several invocations into one ``result.json``.

At 8 training subjects (unseen sites, one of T1/FLAIR corrupted per patient) on a TinyUNet
pre-trained here (as in ``prototype_sweep``), every setting runs the probe (static fusion), the
parameter-matched static adapter and the site oracle (one fusion basis per corruption type,
routed by the truth) over the seeds, at the same untuned budget (AdamW ``--lr``, length chosen
on 10 validation subjects among ``--eval-at`` steps). The gate of a setting is
``oracle − static ≥ 0.03`` **and** ``oracle − probe ≥ 0.03`` in mean pooled lesion Dice. HyDA is
never run here (``--methods`` accepts only the three bounds): the generator is chosen by the
headroom of the bounds alone, never by the method under test. Pooled Dice is also reported per
corruption group (test patients with T1 corrupted, with FLAIR corrupted). Writes
``DIR/result.json`` (a valid ``Result``) and appends each run to ``DIR/runs.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import typing
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from sciml_core import Result

from ..__about__ import __version__
from .._hyda import count_trainable
from .._metrics import dice
from .._synthetic import CORRUPT_KINDS, CorruptKind, synthetic_brains
from .._train import Subjects, fit, predict, pretrain_backbone, to_subjects
from .segmentation import build

Bound = Literal["probe", "static", "oracle"]
BOUNDS: tuple[Bound, ...] = typing.get_args(Bound)
GATE = 0.03


def parse_setting(text: str) -> tuple[CorruptKind, float, float]:
    """``"KIND:NOISE:BLUR"`` -> ``(kind, noise, blur)``."""
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in CORRUPT_KINDS:
        raise argparse.ArgumentTypeError(
            f"expected KIND:NOISE:BLUR with KIND in {CORRUPT_KINDS}; got {text!r}"
        )
    try:
        noise, blur = float(parts[1]), float(parts[2])
    except ValueError:
        raise argparse.ArgumentTypeError(f"NOISE and BLUR must be numbers; got {text!r}") from None
    return typing.cast(CorruptKind, parts[0]), noise, blur


def setting_name(kind: str, noise: float, blur: float) -> str:
    """The setting's id in tables and claims, e.g. ``"white:0.8:1.5"``."""
    return f"{kind}:{noise:g}:{blur:g}"


def _group_dice(pred: torch.Tensor, test: Subjects, group: int) -> float:
    sel = test.groups == group
    if not bool(sel.any()):
        return math.nan
    return float(dice(pred[sel], test.labels[sel], num_classes=2)[0])


def main(argv: list[str] | None = None) -> Path:
    """Run (or merge) the sweep; return the path of its result.json."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--merge", type=Path, nargs="+", default=None)
    ap.add_argument("--settings", type=parse_setting, nargs="+", default=[("white", 0.8, 1.5)])
    ap.add_argument("--size", type=int, default=24)
    ap.add_argument("--pretrain-subjects", type=int, default=120)
    ap.add_argument("--pretrain-epochs", type=int, default=3)
    ap.add_argument("--subjects", type=int, default=8)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--eval-at", type=int, nargs="+", default=[50, 100, 150])
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--n-test", type=int, default=30)
    ap.add_argument("--methods", nargs="+", choices=BOUNDS, default=list(BOUNDS))
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    if args.merge:
        for d in args.merge:
            runs += [json.loads(line) for line in (d / "runs.jsonl").read_text().splitlines()]
        return _result(runs, vars(args)).save(args.out)
    torch.set_num_threads(1)
    log_path = args.out / "runs.jsonl"
    start = time.perf_counter()
    net, held = pretrain_backbone(
        subjects=args.pretrain_subjects,
        epochs=args.pretrain_epochs,
        size=args.size,
        seed=0,
        show_progress=False,
    )
    runs.append({"pretrain": held, "seconds": time.perf_counter() - start, "size": args.size})
    with log_path.open("a") as f:
        f.write(json.dumps(runs[0]) + "\n")
    for kind, noise, blur in args.settings:
        knobs = {"corrupt_kind": kind, "corrupt_noise": noise, "corrupt_blur": blur}
        name = setting_name(kind, noise, blur)
        val = to_subjects(synthetic_brains(10, size=args.size, seed=0, start=500, **knobs))
        test = to_subjects(
            synthetic_brains(args.n_test, size=args.size, seed=0, start=600, **knobs)
        )
        for s in args.seeds:
            train = to_subjects(
                synthetic_brains(args.subjects, size=args.size, seed=1000 * s, **knobs)
            )
            for method in args.methods:
                model = build(method, net, seed=s)
                log = fit(
                    model,
                    train,
                    steps=args.steps,
                    lr=args.lr,
                    seed=s,
                    val=val,
                    eval_at=args.eval_at,
                )
                pred = predict(model, test)
                run = {
                    "setting": name,
                    "method": method,
                    "seed": s,
                    "steps": args.steps,
                    "dice": float(dice(pred, test.labels, num_classes=2)[0]),
                    "dice_t1_corrupted": _group_dice(pred, test, 0),
                    "dice_flair_corrupted": _group_dice(pred, test, 1),
                    "best_step": log.best_step,
                    "val": log.val,
                    "seconds": log.seconds,
                    "trainable": count_trainable(model),
                }
                runs.append(run)
                with log_path.open("a") as f:
                    f.write(json.dumps(run) + "\n")
    return _result(runs, vars(args)).save(args.out)


def _r(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 4)


def _result(runs: list[dict[str, Any]], args: dict[str, Any]) -> Result:
    """The sweep's tables and one gate claim per setting, from its run records."""
    result = Result("brain-hyda", __version__, seed=0, device="cpu", quick=False)
    pre = [r for r in runs if "pretrain" in r]
    if pre:
        result.add_table(
            "pretraining",
            f"TinyUNet pre-trained at {pre[0].get('size', args['size'])}^3: held-out FLAIR Dice "
            "(one row per invocation; the backbone is deterministic)",
            ["grey", "white", "ventricle", "lesion", "seconds"],
            [
                [round(p["pretrain"][k], 4) for k in ("grey", "white", "ventricle", "lesion")]
                + [round(p["seconds"], 1)]
                for p in pre
            ],
        )
    fits = [
        {**r, "setting": f"{r['setting']} @{r['steps']}"} if "steps" in r else r
        for r in runs
        if "setting" in r
    ]
    result.add_table(
        "headroom_runs",
        "Pooled lesion Dice on the test subjects (all; T1-corrupted; FLAIR-corrupted), "
        "8 training subjects; setting KIND:NOISE:BLUR @largest step, the length chosen on 10 "
        "validation subjects",
        [
            "setting",
            "method",
            "seed",
            "best step",
            "pooled Dice",
            "Dice, T1 corrupted",
            "Dice, FLAIR corrupted",
            "trainable",
            "seconds",
        ],
        [
            [
                r["setting"],
                r["method"],
                r["seed"],
                r["best_step"],
                _r(r["dice"]),
                _r(r["dice_t1_corrupted"]),
                _r(r["dice_flair_corrupted"]),
                r["trainable"],
                round(r["seconds"], 1),
            ]
            for r in fits
        ],
    )
    settings = list(dict.fromkeys(r["setting"] for r in fits))
    rows = []
    for name in settings:
        by = {(r["method"], r["seed"]): r for r in fits if r["setting"] == name}
        seeds = sorted({s for _, s in by})
        mean = {
            m: float(np.mean([by[m, s]["dice"] for s in seeds if (m, s) in by])) for m in BOUNDS
        }
        per_seed = {(m, s): by[m, s]["dice"] for m in BOUNDS for s in seeds if (m, s) in by}
        vs_static = mean["oracle"] - mean["static"]
        vs_probe = mean["oracle"] - mean["probe"]
        wins = {
            s: per_seed.get(("oracle", s), math.nan)
            - max(per_seed.get(("static", s), math.nan), per_seed.get(("probe", s), math.nan))
            for s in seeds
        }
        rows.append(
            [
                name,
                *(_r(mean[m]) for m in BOUNDS),
                _r(vs_static),
                _r(vs_probe),
                ", ".join(f"{s}: {w:+.3f}" for s, w in wins.items()),
            ]
        )
        result.add_claim(
            f"patient_specific_headroom[{name}]",
            expected=f"gate: mean Dice(oracle) - Dice(static, matched) >= {GATE} and "
            f"- Dice(probe) >= {GATE} over seeds {seeds}",
            observed=f"oracle - static {vs_static:+.3f}, oracle - probe {vs_probe:+.3f}",
            holds=bool(vs_static >= GATE and vs_probe >= GATE),
        )
    result.add_table(
        "headroom_means",
        "Mean pooled lesion Dice over seeds per generator setting (KIND:NOISE:BLUR of the "
        "corruption, @ the largest step of the run); per seed: oracle minus the better of "
        "static and probe",
        [
            "setting",
            *(f"{m} mean" for m in BOUNDS),
            "oracle - static",
            "oracle - probe",
            "per seed: oracle - max(static, probe)",
        ],
        rows,
    )
    return result


if __name__ == "__main__":
    print(main())
