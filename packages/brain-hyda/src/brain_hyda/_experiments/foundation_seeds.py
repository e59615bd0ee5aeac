"""Is the failed foundation gate of ``--full`` a property of the setting or of its three seeds?

``python -m brain_hyda._experiments.foundation_seeds --full-result FILE --out DIR [--seeds 0 1
... 7] [--sizes 2 4] [--methods probe scratch] [--setting KIND:NOISE:BLUR] [--workers 2]``

Reruns the gate's two terms (the probe on the frozen pre-trained backbone, and the tuned
from-scratch network) of a committed ``--full`` result over more training draws: the backbone is
pre-trained exactly as ``--full`` does it (same config, same seed), every method gets the learning
rate and length ``--full`` chose on validation (read from the result's ``segmentation`` table,
never re-tuned here), the test subjects are ``--full``'s, and seed ``s`` trains on ``--full``'s
draw for seed ``s`` (so seeds 0-2 repeat ``--full``'s runs, a check that the rerun is the same
computation). ``--setting`` replaces ``--full``'s corruption of the training and test volumes
(the spec's white noise is ``white:0.8:1.5``; the learning rates stay ``--full``'s). Each run is
:func:`.segmentation.run_job`, the function ``--full`` runs. Reports per-seed pooled Dice, the
paired difference ``probe - scratch`` per seed with its mean, standard deviation and a 95 %
t-interval, and records the gate (``mean >= 0.05`` at every size) as measured. Writes
``DIR/result.json`` (a valid ``Result``).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from sciml_core import Job, Result, run_jobs

from ..__about__ import __version__
from .._train import pretrain_backbone
from .backbone import backbone_state
from .config import FULL, METHODS
from .context import Context
from .headroom_sweep import parse_setting, setting_name
from .segmentation import draws, run_job

GATE = 0.05


def tuned_settings(full_result: dict[str, Any]) -> dict[str, tuple[float, int]]:
    """``method -> (lr, steps)`` as the ``segmentation`` table of a ``--full`` result used them."""
    tables = {t["id"]: t for t in full_result.get("tables", [])}
    if "segmentation" not in tables:
        raise ValueError("no 'segmentation' table")
    t = tables["segmentation"]
    col = {c: i for i, c in enumerate(t["columns"])}
    out: dict[str, tuple[float, int]] = {}
    for row in t["rows"]:
        m = row[col["method"]]
        if m in METHODS:
            out[m] = (float(row[col["lr"]]), int(row[col["steps"]]))
    return out


def paired_summary(diffs: list[float]) -> tuple[float, float, float, float]:
    """Mean, sample standard deviation and the 95 % t-interval of paired differences."""
    d = np.asarray(diffs, dtype=np.float64)
    mean = float(d.mean())
    if d.size < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(d.std(ddof=1))
    half = float(stats.t.ppf(0.975, d.size - 1)) * sd / math.sqrt(d.size)
    return mean, sd, mean - half, mean + half


def main(argv: list[str] | None = None) -> Path:
    """Run the reruns; return the path of the result.json."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full-result", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(8)))
    ap.add_argument("--sizes", type=int, nargs="+", default=[2, 4])
    ap.add_argument("--methods", nargs="+", choices=METHODS, default=["probe", "scratch"])
    ap.add_argument("--setting", type=parse_setting, default=None)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    if "probe" not in args.methods or "scratch" not in args.methods:
        ap.error("--methods: the gate needs both 'probe' and 'scratch'")
    if not 1 <= min(args.sizes) <= max(args.sizes) <= max(FULL.train_sizes):
        ap.error(f"--sizes: each in 1..{max(FULL.train_sizes)} (the --full draws' size)")
    if len(set(args.seeds)) != len(args.seeds) or len(args.seeds) < 2:
        ap.error(f"--seeds: two or more distinct seeds (the interval needs them); got {args.seeds}")
    try:
        full = json.loads(args.full_result.read_text())
        chosen = tuned_settings(full)
        root = int(full["meta"]["seed"])
        if full["meta"].get("quick", True):
            raise ValueError("a --quick result; the tuned settings come from --full")
    except (OSError, json.JSONDecodeError) as e:
        ap.error(f"--full-result: cannot read {args.full_result}: {e}")
    except (ValueError, KeyError, TypeError) as e:
        ap.error(f"--full-result: not a brain-hyda --full result ({e})")
    missing = [m for m in args.methods if m not in chosen]
    if missing:
        ap.error(f"--full-result: no tuned setting for {missing}")
    args.out.mkdir(parents=True, exist_ok=True)

    c = FULL
    command = (
        "python -m brain_hyda._experiments.foundation_seeds --full-result "
        f"{args.full_result.name} --seeds {' '.join(map(str, args.seeds))} --sizes "
        f"{' '.join(map(str, args.sizes))} --methods {' '.join(args.methods)}"
        + (f" --setting {setting_name(*args.setting)}" if args.setting else "")
        + f" --workers {args.workers} --out OUT"
    )
    result = Result(
        "brain-hyda", __version__, seed=root, device="cpu", quick=False, command=command
    )
    ctx = Context(result, args.out, c, seed=root, device="cpu", workers=args.workers)
    net, _ = pretrain_backbone(  # as backbone.run does for --full's root seed
        subjects=c.pretrain_subjects,
        epochs=c.pretrain_epochs,
        size=c.size,
        seed=root,
        show_progress=False,
    )
    ctx.store["backbone"] = net
    state = backbone_state(ctx)
    knobs = c.corruption()
    if args.setting is not None:
        kind, noise, blur = args.setting
        knobs = {"corrupt_kind": kind, "corrupt_noise": noise, "corrupt_blur": blur}
    name = setting_name(knobs["corrupt_kind"], knobs["corrupt_noise"], knobs["corrupt_blur"])
    _, test, train_sets = draws(c, root, knobs, args.seeds)
    keys = [(m, n, s) for n in args.sizes for s in args.seeds for m in args.methods]
    jobs = []
    for m, n, s in keys:
        lr, steps = chosen[m]
        jobs.append(
            Job(
                f"{m} {n} subjects seed {s}",
                run_job,
                (state, m, lr, steps, s, train_sets[s].take(range(n)), test, c),
            )
        )
    outs = run_jobs(jobs, workers=args.workers, desc="foundation seeds")
    dice = {k: float(o["pooled"]) for k, o in zip(keys, outs, strict=True)}
    result.add_table(
        "runs",
        f"Pooled lesion Dice on --full's {c.n_test} test subjects ({c.size}^3, "
        f"corruption {name}); each method at "
        "the lr and length --full chose; seed s trains on --full's draw for seed s",
        ["method", "subjects", "seed", "lr", "steps", "pooled Dice", "seconds"],
        [
            [m, n, s, chosen[m][0], chosen[m][1], round(dice[m, n, s], 4), round(o["seconds"], 1)]
            for (m, n, s), o in zip(keys, outs, strict=True)
        ],
    )
    rows, holds, observed = [], [], []
    for n in args.sizes:
        diffs = [dice["probe", n, s] - dice["scratch", n, s] for s in args.seeds]
        mean, sd, lo, hi = paired_summary(diffs)
        wins = sum(d > 0 for d in diffs)
        rows.append(
            [
                n,
                len(diffs),
                round(mean, 4),
                round(sd, 4),
                round(lo, 4),
                round(hi, 4),
                f"{wins}/{len(diffs)}",
            ]
        )
        holds.append(mean >= GATE)
        observed.append(
            f"{n} subjects: {mean:+.3f} (95% t-interval {lo:+.3f}..{hi:+.3f}, "
            f"probe ahead on {wins} of {len(diffs)} seeds)"
        )
    result.add_table(
        "gate",
        "Paired difference Dice(probe) - Dice(scratch, tuned) per training draw: mean, sample "
        "std, 95 % t-interval of the mean, seeds on which the probe is ahead",
        ["subjects", "seeds", "mean", "std", "95% low", "95% high", "probe ahead"],
        rows,
    )
    result.add_claim(
        "foundation_gate_over_seeds",
        f"mean Dice(probe) - Dice(scratch, tuned) >= {GATE} at {args.sizes} subjects over "
        f"{len(args.seeds)} training draws, corruption {name}; reported as measured",
        "; ".join(observed),
        all(holds),
    )
    return result.save(args.out)


if __name__ == "__main__":
    print(main())
