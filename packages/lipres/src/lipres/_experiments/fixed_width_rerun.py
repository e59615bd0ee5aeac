"""The cells of ``reproduce --full`` that the orthogonal interlayer maps change, rerun alone.

``python -m lipres._experiments.fixed_width_rerun --out DIR`` runs, at the ``--full`` settings
(:data:`~lipres._experiments.config.FULL`), the A1 study (``|x|``, fixed-width and gradient,
three seeds, learning rate chosen on validation, with its claims) and the digits study for the
gradient and fixed-width classifiers (three seeds, μ chosen on validation certified accuracy,
PGD, the pair ascents of ``bound_is_respected_digits``), and writes one ``result.json``. It
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
from pathlib import Path

import torch

from sciml_core import Result

from ..__about__ import __version__
from . import approximation, digits
from .config import FULL
from .context import Context
from .models import ModelName

NAMES: tuple[ModelName, ...] = ("gradient", "fixed-width")


def rerun(out_dir: Path, *, seed: int = 0) -> Path:
    """Run the A1 and digits cells (module docstring); write and return ``result.json``."""
    cfg = dataclasses.replace(FULL, planes=False, depths=())
    command = f"python -m lipres._experiments.fixed_width_rerun --out {out_dir} --seed {seed}"
    result = Result("lipres", __version__, seed=seed, device="cpu", quick=False, command=command)
    ctx = Context(result, Path(out_dir), cfg, seed, "cpu")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    approximation.run(ctx)
    ctx.seconds["approximation (A1)"] = time.perf_counter() - start
    result.save(out_dir)  # the A1 part survives if the digits part is cut short
    start = time.perf_counter()
    digits.add_table(ctx, digits.train_and_attack(ctx, NAMES))
    v = ctx.values
    clean = {n: [v[("digits", n, s, "clean")] for s in cfg.digits_seeds] for n in NAMES}
    gap = sum(clean["fixed-width"]) / len(clean["fixed-width"]) - sum(clean["gradient"]) / len(
        clean["gradient"]
    )
    result.add_claim(
        "fixed_width_classifier_trains",
        "digits, same budget and μ rule: fixed-width clean accuracy >= gradient - 0.05 "
        "(mean over seeds; lipres 0.1.0: 0.55 against 0.98)",
        {"fixed-width": clean["fixed-width"], "gradient": clean["gradient"], "gap": gap},
        bool(gap >= -0.05),
    )
    digits.bound_claim(ctx, NAMES)
    ctx.seconds["digits (gradient, fixed-width)"] = time.perf_counter() - start
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    result.add_table(
        "run",
        "Run conditions: seconds per part, threads, load average at the end",
        ["study", "seconds", "threads", "load_avg"],
        [[n, t, torch.get_num_threads(), load] for n, t in ctx.seconds.items()],
    )
    return result.save(out_dir)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output folder (result.json)")
    parser.add_argument("--seed", type=int, default=0, help="run seed (default %(default)s)")
    args = parser.parse_args(argv)
    print(f"wrote {rerun(Path(args.out), seed=args.seed)}")


if __name__ == "__main__":
    main()
