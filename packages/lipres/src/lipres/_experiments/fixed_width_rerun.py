"""The cells of ``reproduce --full`` that the orthogonal interlayer maps change, rerun alone.

``python -m lipres._experiments.fixed_width_rerun --out DIR [--parts digits,abs]`` runs, at the
``--full`` settings (:data:`~lipres._experiments.config.FULL`), the digits study for the gradient
and fixed-width classifiers (three seeds, μ chosen on validation certified accuracy, PGD, the pair
ascents of ``bound_is_respected_digits``, and the claim ``fixed_width_classifier_trains``) and
the A1 study (``|x|``, fixed-width and gradient, three seeds, learning rate chosen on validation,
with its claims), and writes one ``result.json``, saved after each part. It
exists because a whole ``--full`` run (43 min on one idle thread) did not fit the session that
fixed the maps; the cells it leaves out (A2-A6, the depth sweep, CPL, the spectral and
unconstrained classifiers) are unchanged for the models without interlayer maps and stale for
the fixed-width ones (README).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import torch

from sciml_core import Result

from ..__about__ import __version__
from . import approximation, digits
from .config import FULL
from .context import Context
from .models import ModelName

NAMES: tuple[ModelName, ...] = ("gradient", "fixed-width")


Part = Literal["digits", "abs", "digits-fixed"]
PARTS: tuple[Part, ...] = ("digits", "abs")
"""The default parts; ``digits-fixed`` is the digits part for the fixed-width classifier alone
(without the gradient one, whose numbers the fix does not change, nor the claim comparing them)."""


def rerun(out_dir: Path, *, seed: int = 0, parts: Sequence[Part] = PARTS) -> Path:
    """Run ``parts`` in order (module docstring), saving ``result.json`` after each, so a run cut
    short keeps the parts it finished; return its path."""
    cfg = dataclasses.replace(FULL, planes=False, depths=())
    command = (
        f"python -m lipres._experiments.fixed_width_rerun --out {out_dir} --seed {seed} "
        f"--parts {','.join(parts)}"
    )
    result = Result("lipres", __version__, seed=seed, device="cpu", quick=False, command=command)
    ctx = Context(result, Path(out_dir), cfg, seed, "cpu")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    path = Path(out_dir) / "result.json"
    for part in parts:
        start = time.perf_counter()
        if part == "abs":
            approximation.run(ctx)
            ctx.seconds["approximation (A1)"] = time.perf_counter() - start
        elif part == "digits":
            _digits(ctx)
            ctx.seconds["digits (gradient, fixed-width)"] = time.perf_counter() - start
        else:
            digits.add_table(ctx, digits.train_and_attack(ctx, ("fixed-width",)))
            digits.bound_claim(ctx, ("fixed-width",))
            ctx.seconds["digits (fixed-width)"] = time.perf_counter() - start
        path = result.save(out_dir)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    result.add_table(
        "run",
        "Run conditions: seconds per part, threads, load average at the end",
        ["study", "seconds", "threads", "load_avg"],
        [[n, t, torch.get_num_threads(), load] for n, t in ctx.seconds.items()],
    )
    return result.save(out_dir) if parts else path


def _digits(ctx: Context) -> None:
    cfg = ctx.config
    digits.add_table(ctx, digits.train_and_attack(ctx, NAMES))
    v = ctx.values
    clean = {n: [v[("digits", n, s, "clean")] for s in cfg.digits_seeds] for n in NAMES}
    gap = sum(clean["fixed-width"]) / len(clean["fixed-width"]) - sum(clean["gradient"]) / len(
        clean["gradient"]
    )
    ctx.result.add_claim(
        "fixed_width_classifier_trains",
        "digits, same budget and μ rule: fixed-width clean accuracy >= gradient - 0.05 "
        "(mean over seeds; lipres 0.1.0: 0.55 against 0.98)",
        {"fixed-width": clean["fixed-width"], "gradient": clean["gradient"], "gap": gap},
        bool(gap >= -0.05),
    )
    digits.bound_claim(ctx, NAMES)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output folder (result.json)")
    parser.add_argument("--seed", type=int, default=0, help="run seed (default %(default)s)")
    parser.add_argument(
        "--parts",
        type=_parts,
        default=PARTS,
        help=f"comma-separated parts, run in this order (default {','.join(PARTS)})",
    )
    args = parser.parse_args(argv)
    print(f"wrote {rerun(Path(args.out), seed=args.seed, parts=args.parts)}")


def _parts(text: str) -> tuple[Part, ...]:
    parts = tuple(text.split(","))
    bad = [p for p in parts if p not in typing.get_args(Part)]
    if bad or not parts:
        raise argparse.ArgumentTypeError(f"expected some of {typing.get_args(Part)}, got {text!r}")
    return typing.cast(tuple[Part, ...], parts)


if __name__ == "__main__":
    main()
