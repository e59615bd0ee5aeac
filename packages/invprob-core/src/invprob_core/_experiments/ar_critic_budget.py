"""AR critic-budget sweep: does the trained critic beat GD / an untrained critic with more training?

Same protocol as ``invprob-core reproduce`` (lambda factor and stopping index chosen on validation
phantoms, analytic sinograms, noise levels pooled for training); one critic is trained on and
evaluated at increasing step counts. Writes JSON lines to ``$OUT/ar_sweep_<n>.jsonl`` (``/tmp``
without ``OUT``). The README's "Critic budget" numbers came from, on an H100::

    python -m invprob_core._experiments.ar_critic_budget cuda 32 30 150,600,2000,5000 512 32 100
    python -m invprob_core._experiments.ar_critic_budget cuda 64 60 500,2000,5000 2000 32 100

Arguments (positional, each optional): device, image size, angles, checkpoints, training
phantoms, test phantoms, reconstruction steps. On a CPU the 64x64 run takes hours.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .._adversarial import AdversarialRegularizer
from .._critics import LunzCritic
from .._noise import add_noise
from .._phantoms import ellipse_sinogram, random_ellipses
from .._ray import RayTransform
from .evaluate import FACTORS, scores
from .priors import ScaledCritic, grad_norm

ETAS = (0.03, 0.05)
BASE_SEED = 12345


@dataclass(frozen=True)
class Sweep:
    """The sweep's settings (the positional command-line arguments)."""

    device: torch.device
    n: int
    angles: int
    checkpoints: tuple[int, ...]
    n_train: int
    n_test: int
    recon_steps: int


def parse_args(argv: Sequence[str] | None = None) -> Sweep:
    """Positional arguments, each optional, in the order of the module docstring."""
    p = argparse.ArgumentParser(
        prog="python -m invprob_core._experiments.ar_critic_budget",
        description="AR critic-budget sweep (JSON lines into $OUT/ar_sweep_<n>.jsonl)",
    )
    p.add_argument("device", nargs="?", default="cpu", help="torch device (default cpu)")
    p.add_argument("n", nargs="?", type=int, default=32, help="image side (default 32)")
    p.add_argument("angles", nargs="?", type=int, default=30, help="angles (default 30)")
    p.add_argument(
        "checkpoints",
        nargs="?",
        default="150,600,2000,5000",
        help="comma-separated critic step counts (default 150,600,2000,5000)",
    )
    p.add_argument("n_train", nargs="?", type=int, default=512, help="training phantoms (512)")
    p.add_argument("n_test", nargs="?", type=int, default=32, help="test phantoms (default 32)")
    p.add_argument("recon_steps", nargs="?", type=int, default=100, help="GD budget (100)")
    a = p.parse_args(argv)
    return Sweep(
        torch.device(a.device),
        a.n,
        a.angles,
        tuple(int(v) for v in a.checkpoints.split(",")),
        a.n_train,
        a.n_test,
        a.recon_steps,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the sweep, printing and appending one JSON line per stage."""
    sw = parse_args(argv)
    dev, n = sw.device, sw.n
    out_path = Path(os.environ.get("OUT", "/tmp")) / f"ar_sweep_{n}.jsonl"
    start = time.perf_counter()

    def log(**kw: object) -> None:
        kw["n"] = n
        kw["t"] = round(time.perf_counter() - start, 1)
        print(json.dumps(kw), flush=True)
        with out_path.open("a") as fh:
            fh.write(json.dumps(kw) + "\n")

    A = RayTransform(n, angles=sw.angles)
    base = BASE_SEED
    x_tr, p_tr = random_ellipses(n, sw.n_train, seed=base)
    x_va, p_va = random_ellipses(n, 4, seed=base + 1)
    x_te, p_te = random_ellipses(n, sw.n_test, seed=base + 2)
    s_tr, s_va, s_te = (ellipse_sinogram(p, A) for p in (p_tr, p_va, p_te))
    y_tr = torch.empty_like(s_tr)
    for k, eta in enumerate(ETAS):
        y_tr[k :: len(ETAS)], _ = add_noise(s_tr[k :: len(ETAS)], eta, seed=base + 3 + 10 * k)
    fbp_tr = A.fbp(y_tr, filter="hann")
    x_tr, fbp_tr = x_tr.to(dev), fbp_tr.to(dev)
    levels = []
    for k, eta in enumerate(ETAS):
        y_va, _ = add_noise(s_va, eta, seed=base + 4 + 10 * k)
        y_te, _ = add_noise(s_te, eta, seed=base + 5 + 10 * k)
        levels.append((eta, y_va.to(dev), y_te.to(dev)))
    x_va, x_te = x_va.to(dev), x_te.to(dev)

    def select_and_test(
        ar: AdversarialRegularizer,
        y_va: torch.Tensor,
        y_te: torch.Tensor,
        lam0: float,
        facs: Sequence[float] = (0.5, 1.0, 2.0),
    ) -> tuple[float, float, int]:
        """Mean test PSNR with the factor and stopping index best on validation."""
        best = (1.0, 1, -math.inf)
        for fac in facs:
            p = ar.reconstruct(A, y_va, fac * lam0, steps=sw.recon_steps, x_true=x_va)
            hist = p.history["psnr"]
            i = int(np.argmax(hist))
            if hist[i] > best[2]:
                best = (fac, i + 1, hist[i])
        fac, k, _ = best
        x = ar.reconstruct(A, y_te, fac * lam0, steps=k).x
        return float(np.mean(scores(x, x_te)[0])), fac, k

    torch.manual_seed(base)
    critic = LunzCritic(n).to(dev)
    untrained = AdversarialRegularizer(copy.deepcopy(critic))
    # untrained control, rescaled to gradient norm ~1 on the training interpolates (the regime
    # the penalty keeps the trained critic in), lambda factor and stop chosen on validation
    gscale = grad_norm(untrained.critic, 0.5 * (x_tr[:64] + fbp_tr[:64]))
    log(stage="untrained grad norm", value=gscale)
    ar = AdversarialRegularizer(critic)
    opt = torch.optim.RMSprop(critic.parameters(), lr=1e-4)
    gd = AdversarialRegularizer(copy.deepcopy(critic))
    for eta, y_va, y_te in levels:
        lam0 = AdversarialRegularizer.lambda_heuristic(A, x_va, y_va)
        p_gd, _, k_gd = select_and_test(gd, y_va, y_te, 0.0, facs=(0.0,))
        fbp = float(np.mean(scores(A.fbp(y_te, filter="hann"), x_te)[0]))
        log(stage="baselines", eta=eta, fbp=fbp, gd=p_gd, k_gd=k_gd, lam0=lam0)
        # untrained (raw): AR's lambda grid; untrained (scaled): critic / gscale
        p_u, f_u, k_u = select_and_test(untrained, y_va, y_te, lam0)
        us = AdversarialRegularizer(ScaledCritic(copy.deepcopy(untrained.critic), gscale))
        p_us, f_us, k_us = select_and_test(us, y_va, y_te, lam0, facs=FACTORS)
        log(
            stage="untrained",
            eta=eta,
            raw=p_u,
            raw_fac=f_u,
            raw_k=k_u,
            scaled=p_us,
            scaled_fac=f_us,
            scaled_k=k_us,
        )
    done = 0
    for cp in sw.checkpoints:
        t = time.perf_counter()
        ar.fit(x_tr, fbp_tr, cp - done, opt, seed=base + done, batch_size=16, progress=False)
        t_train = time.perf_counter() - t
        done = cp
        with torch.no_grad():
            fbp_te = A.fbp(levels[0][2], filter="hann")
            gap = float(ar.critic(fbp_te).mean() - ar.critic(x_te).mean())
        for eta, y_va, y_te in levels:
            lam0 = AdversarialRegularizer.lambda_heuristic(A, x_va, y_va)
            p_ar, f_ar, k_ar = select_and_test(ar, y_va, y_te, lam0, facs=FACTORS)
            p_ctl = float(np.mean(scores(ar.reconstruct(A, y_te, 0.0, steps=k_ar).x, x_te)[0]))
            log(
                stage="trained",
                steps=cp,
                eta=eta,
                ar=p_ar,
                fac=f_ar,
                k=k_ar,
                gd_same_k=p_ctl,
                heldout_gap=gap,
                train_s=round(t_train, 1),
                curve_last=float(np.mean(ar.history[-50:])),
            )
    log(stage="done")


if __name__ == "__main__":
    main()
