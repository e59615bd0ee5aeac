"""AR critic-budget sweep: does the trained critic beat GD / an untrained critic with more training?

Same protocol as ``invprob-core reproduce`` (lambda factor and stopping index chosen on validation
phantoms, analytic sinograms, noise levels pooled for training); one critic is trained on and
evaluated at increasing step counts. Writes JSON lines to ``$OUT/ar_sweep_<n>.jsonl`` (``/tmp``
without ``OUT``). The README's "Critic budget" numbers came from, on an H100:

    python ar_critic_budget.py cuda 32 30 150,600,2000,5000 512 32 100
    python ar_critic_budget.py cuda 64 60 500,2000,5000 2000 32 100

Arguments: device, image size, angles, checkpoints, training phantoms, test phantoms,
reconstruction steps. On a CPU the 64x64 run takes hours.
"""

import copy
import json
import math
import os
import sys
import time

import numpy as np
import torch

import invprob_core as ip
from invprob_core import AdversarialRegularizer, LunzCritic
from invprob_core._reproduce import _grad_norm, _Scaled, _scores

dev = torch.device(sys.argv[1] if len(sys.argv) > 1 else "cpu")
n = int(sys.argv[2]) if len(sys.argv) > 2 else 32
n_ang = int(sys.argv[3]) if len(sys.argv) > 3 else 30
checkpoints = [
    int(v) for v in (sys.argv[4] if len(sys.argv) > 4 else "150,600,2000,5000").split(",")
]
n_train = int(sys.argv[5]) if len(sys.argv) > 5 else 512
n_test = int(sys.argv[6]) if len(sys.argv) > 6 else 32
recon_steps = int(sys.argv[7]) if len(sys.argv) > 7 else 100
etas = (0.03, 0.05)
out_path = os.path.join(os.environ.get("OUT", "/tmp"), f"ar_sweep_{n}.jsonl")


def log(**kw):
    kw["n"] = n
    kw["t"] = round(time.perf_counter() - T0, 1)
    print(json.dumps(kw), flush=True)
    with open(out_path, "a") as fh:
        fh.write(json.dumps(kw) + "\n")


T0 = time.perf_counter()
A = ip.RayTransform(n, angles=n_ang)
base = 12345
x_tr, p_tr = ip.random_ellipses(n, n_train, seed=base)
x_va, p_va = ip.random_ellipses(n, 4, seed=base + 1)
x_te, p_te = ip.random_ellipses(n, n_test, seed=base + 2)
s_tr, s_va, s_te = (ip.ellipse_sinogram(p, A) for p in (p_tr, p_va, p_te))
y_tr = torch.empty_like(s_tr)
for k, eta in enumerate(etas):
    y_tr[k :: len(etas)], _ = ip.add_noise(s_tr[k :: len(etas)], eta, seed=base + 3 + 10 * k)
fbp_tr = A.fbp(y_tr, filter="hann")
x_tr, fbp_tr = x_tr.to(dev), fbp_tr.to(dev)
levels = []
for k, eta in enumerate(etas):
    y_va, _ = ip.add_noise(s_va, eta, seed=base + 4 + 10 * k)
    y_te, _ = ip.add_noise(s_te, eta, seed=base + 5 + 10 * k)
    levels.append((eta, y_va.to(dev), y_te.to(dev)))
x_va, x_te = x_va.to(dev), x_te.to(dev)


def select_and_test(ar, y_va, y_te, lam0, facs=(0.5, 1.0, 2.0)):
    best = (1.0, 1, -math.inf)
    for fac in facs:
        p = ar.reconstruct(A, y_va, fac * lam0, steps=recon_steps, x_true=x_va).history["psnr"]
        i = int(np.argmax(p))
        if p[i] > best[2]:
            best = (fac, i + 1, p[i])
    fac, k, _ = best
    x = ar.reconstruct(A, y_te, fac * lam0, steps=k).x
    return float(np.mean(_scores(x, x_te)[0])), fac, k


torch.manual_seed(base)
critic = LunzCritic(n).to(dev)
untrained = AdversarialRegularizer(copy.deepcopy(critic))
# untrained control, rescaled to gradient norm ~1 on the training interpolates (the regime the
# penalty keeps the trained critic in), lambda factor and stop chosen on validation like AR
gscale = _grad_norm(untrained.critic, 0.5 * (x_tr[:64] + fbp_tr[:64]))
log(stage="untrained grad norm", value=gscale)
ar = AdversarialRegularizer(critic)
opt = torch.optim.RMSprop(critic.parameters(), lr=1e-4)
gd = AdversarialRegularizer(copy.deepcopy(critic))
for eta, y_va, y_te in levels:
    lam0 = AdversarialRegularizer.lambda_heuristic(A, x_va, y_va)
    p_gd, _, k_gd = select_and_test(gd, y_va, y_te, 0.0, facs=(0.0,))
    fbp = float(np.mean(_scores(A.fbp(y_te, filter="hann"), x_te)[0]))
    log(stage="baselines", eta=eta, fbp=fbp, gd=p_gd, k_gd=k_gd, lam0=lam0)
    # untrained (raw): AR's lambda grid; untrained (scaled): critic / gscale
    p_u, f_u, k_u = select_and_test(untrained, y_va, y_te, lam0)
    us = AdversarialRegularizer(_Scaled(copy.deepcopy(untrained.critic), gscale))
    p_us, f_us, k_us = select_and_test(us, y_va, y_te, lam0, facs=(0.25, 0.5, 1.0, 2.0, 4.0))
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
for cp in checkpoints:
    t = time.perf_counter()
    ar.fit(x_tr, fbp_tr, cp - done, opt, seed=base + done, batch_size=16, progress=False)
    t_train = time.perf_counter() - t
    done = cp
    with torch.no_grad():
        gap = float(ar.critic(A.fbp(levels[0][2], filter="hann")).mean() - ar.critic(x_te).mean())
    for eta, y_va, y_te in levels:
        lam0 = AdversarialRegularizer.lambda_heuristic(A, x_va, y_va)
        p_ar, f_ar, k_ar = select_and_test(ar, y_va, y_te, lam0, facs=(0.25, 0.5, 1.0, 2.0, 4.0))
        p_ctl = float(np.mean(_scores(ar.reconstruct(A, y_te, 0.0, steps=k_ar).x, x_te)[0]))
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
