"""``fno-conserve reproduce``: the paper's headline comparison at laptop scale, measured
honestly."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml_core import InputError, Result, get_pyplot, resolve_device, save_figure

from .__about__ import __version__
from ._data import generate
from ._train import TrainConfig, build_model, evaluate, rollout, train_model
from ._wrapper import ConservedOperator

CASES = ("burgers-mass", "nls-norm", "ns-mean", "all")
EPS32 = float(np.finfo(np.float32).eps)
EPS64 = float(np.finfo(np.float64).eps)


def settings(quick: bool) -> dict:
    """Sizes of every case (``--quick``: under a minute on two cores; full: laptop scale).

    The quick run trains for only 5-6 epochs, so it uses a larger step (lr 1e-2, batch 10) than the
    full run's recipe (Adam 1e-3, batch 20, cosine); the same settings apply to every variant.
    """
    if quick:
        return {
            "burgers": {
                "n": 64,
                "train": 256,
                "val": 0,
                "test": 64,
                "width": 16,
                "modes": 8,
                "epochs": 5,
                "lr": 1e-2,
                "batch": 10,
                "seeds": 3,
                "rollout": 3,
                "penalty": [1.0],
            },
            "nls": {
                "n": 128,
                "train": 128,
                "test": 32,
                "width": 16,
                "modes": 8,
                "epochs": 6,
                "lr": 1e-2,
                "batch": 10,
                "seeds": 1,
                "rollout": 3,
            },
            "ns": None,
        }
    return {
        "burgers": {
            "n": 128,
            "train": 1000,
            "val": 100,
            "test": 200,
            "width": 32,
            "modes": 16,
            "epochs": 40,
            "lr": 1e-3,
            "seeds": 5,
            "rollout": 5,
            "penalty": [0.1, 1.0, 10.0],
        },
        "nls": {
            "n": 256,
            "train": 1000,
            "test": 200,
            "width": 32,
            "modes": 16,
            "epochs": 40,
            "lr": 1e-3,
            "seeds": 3,
            "rollout": 5,
        },
        "ns": {
            "n": 32,
            "train": 1000,
            "test": 200,
            "width": 24,
            "modes": 8,
            "epochs": 20,
            "lr": 1e-3,
            "seeds": 1,
            "rollout": 5,
        },
    }


def _run_variant(variant, cfg_kw, train, test, seed, device, show_progress, dim, cin, cout):
    cfg = TrainConfig(variant=variant, **cfg_kw).check()
    torch.manual_seed(seed)
    model = build_model(cfg, dim, cin, cout).to(device)
    hist = train_model(
        model,
        cfg,
        train["x"].to(device),
        train["y"].to(device),
        seed=seed,
        show_progress=show_progress,
    )
    return cfg, model, hist


def _metrics(model, cfg, test, device, rollout_steps):
    y1 = test["y"][:, 0] if rollout_steps > 1 else test["y"]
    ev32 = evaluate(model, cfg, test["x"].to(device), y1.to(device))
    ev64 = evaluate(
        copy.deepcopy(model), cfg, test["x"].to(device), y1.to(device), dtype=torch.float64
    )
    fallbacks = 0
    if isinstance(model, ConservedOperator):
        with torch.no_grad():
            fallbacks = model(test["x"].to(device).float(), return_info=True)[1]["fallbacks"]
    return ev32, ev64, fallbacks


def _linear_case(
    res,
    name,
    pde,
    law,
    variants,
    s,
    seed,
    device,
    show_progress,
    figs,
    out_dir,
    dim=1,
    pde_params=None,
):
    """Train every variant for every seed; tables, claims and figures for one case."""
    pde_params = pde_params or {}
    n_test_off = s["train"] + s.get("val", 0)
    train = generate(pde, s["train"], s["n"], seed=seed, show_progress=show_progress, **pde_params)
    test = generate(
        pde,
        s["test"],
        s["n"],
        seed=seed,
        offset=n_test_off,
        rollout_steps=s["rollout"],
        show_progress=show_progress,
        **pde_params,
    )
    cin, cout = train["x"].shape[1], train["y"].shape[1]
    base_kw = {
        "law": law,
        "width": s["width"],
        "modes": s["modes"],
        "layers": 4,
        "epochs": s["epochs"],
        "lr": s["lr"],
        "batch": s.get("batch", 20),
    }
    penalty_weight = s.get("penalty", [1.0])[0]
    if len(s.get("penalty", [])) > 1 and s.get("val", 0) > 0:  # choose lambda on validation, seed 0
        val = generate(
            pde,
            s["val"],
            s["n"],
            seed=seed,
            offset=s["train"],
            show_progress=show_progress,
            **pde_params,
        )
        scores = {}
        for lam in s["penalty"]:
            cfg, model, _ = _run_variant(
                "penalty",
                base_kw | {"penalty_weight": lam},
                train,
                val,
                seed,
                device,
                show_progress,
                dim,
                cin,
                cout,
            )
            scores[lam] = evaluate(model, cfg, val["x"].to(device), val["y"].to(device))["rel_l2"]
        penalty_weight = min(scores, key=lambda lam: scores[lam])
    per: dict[str, Any] = {v: [] for v in variants}
    keep = {}
    for j in range(s["seeds"]):
        sd = seed + j
        plain_model = None
        for v in variants:
            if v == "posthoc":
                cfg = TrainConfig(variant="posthoc", **base_kw).check()
                model, hist = plain_model, {"train_seconds": 0.0}
            else:
                kw = base_kw | ({"penalty_weight": penalty_weight} if v == "penalty" else {})
                cfg, model, hist = _run_variant(
                    v, kw, train, test, sd, device, show_progress, dim, cin, cout
                )
                if v == "plain":
                    plain_model = model
            ev32, ev64, _ = _metrics(model, cfg, test, device, s["rollout"])
            per[v].append({"ev32": ev32, "ev64": ev64, "train_s": hist["train_seconds"]})
            if j == 0:
                keep[v] = (cfg, model)
    rows = []
    for v in variants:
        rel = [r["ev32"]["rel_l2"] for r in per[v]]
        rows.append(
            [
                v,
                float(np.mean(rel)),
                float(np.std(rel)),
                max(r["ev32"]["cons_max_abs"] for r in per[v]),
                float(np.mean([r["ev32"]["cons_mean_abs"] for r in per[v]])),
                max(r["ev32"]["cons_max_rel"] for r in per[v]),
                max(r["ev64"]["cons_max_abs"] for r in per[v]),
                max(r["ev64"]["cons_max_rel"] for r in per[v]),
                float(np.mean([r["train_s"] for r in per[v]])),
            ]
        )
    if law in ("mass", "mean-zero"):
        # reference: the constant field with the input's (conserved) mean, which every exact
        # variant gets right for free; a model that does not beat it has learned nothing else
        y1 = test["y"][:, 0] if s["rollout"] > 1 else test["y"]
        dims = tuple(range(2, y1.ndim))
        ref = test["x"][:, :cout].mean(dim=dims, keepdim=True).expand_as(y1)
        if law == "mean-zero":
            ref = torch.zeros_like(y1)
        all_dims = tuple(range(1, y1.ndim))
        ref_err = float(
            (((ref - y1) ** 2).sum(all_dims).sqrt() / (y1**2).sum(all_dims).sqrt()).mean()
        )
        rows.append(["conserved-mean predictor (reference)", ref_err] + [0.0] * 7)
        per["_reference"] = ref_err
    res.add_table(
        name,
        f"{pde}, law '{law}': test rel-L2 over {s['seeds']} seed(s) and "
        "conservation error (float32 evaluation; the same weights in float64)",
        [
            "variant",
            "rel_l2_mean",
            "rel_l2_std",
            "cons_max_abs_f32",
            "cons_mean_abs_f32",
            "cons_max_rel_f32",
            "cons_max_abs_f64",
            "cons_max_rel_f64",
            "train_seconds",
        ],
        rows,
    )
    # rollout of the first seed's models
    roll = {}
    if s["rollout"] > 1 and cin == cout:
        for v in variants:
            cfg, model = keep[v]
            model = model.float()
            roll[v] = rollout(model, cfg, test["x"].to(device), test["y"].to(device))
        rrows = [
            [v, k + 1, roll[v]["rel_l2"][k], roll[v]["drift"][k]]
            for v in variants
            for k in range(s["rollout"])
        ]
        res.add_table(
            f"{name}_rollout",
            f"{pde}: autoregressive rollout (seed {seed}), rel-L2 "
            "and conservation drift relative to the initial input",
            ["variant", "step", "rel_l2", "drift_rel"],
            rrows,
        )
    if figs:
        _figures(res, name, out_dir, per, variants, keep, test, roll, device)
    return per, roll, penalty_weight


def _figures(res, name, out_dir, per, variants, keep, test, roll, device):
    plt = get_pyplot("fno-conserve")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    means = [np.mean([r["ev32"]["rel_l2"] for r in per[v]]) for v in variants]
    stds = [np.std([r["ev32"]["rel_l2"] for r in per[v]]) for v in variants]
    ax.bar(variants, means, yerr=stds, capsize=4, color="#4c72b0")
    ax.set_ylabel("test rel-L2 (mean ± std over seeds)")
    ax.set_title(name)
    save_figure(fig, Path(out_dir) / f"{name}_rel_l2.png")
    res.add_figure(f"{name}_rel_l2.png", f"{name}: test relative L2 error per variant")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for v in variants:
        errs = np.concatenate([r["ev32"]["cons_per_sample_rel"] for r in per[v]])
        ax.hist(np.log10(np.maximum(errs, 1e-18)), bins=30, alpha=0.6, label=v)
    ax.axvline(np.log10(EPS32), color="k", ls="--", lw=1, label="float32 eps")
    ax.set_xlabel("log10 relative conservation error per test sample (float32)")
    ax.legend(fontsize=7)
    save_figure(fig, Path(out_dir) / f"{name}_conservation_hist.png")
    res.add_figure(
        f"{name}_conservation_hist.png",
        f"{name}: per-sample conservation error, float32 (log scale)",
    )
    if "adaptive" in keep and test["x"].ndim == 3:
        x0 = test["x"][:1].to(device).float()
        truth = (test["y"][:1, 0] if test["y"].ndim == 4 else test["y"][:1])[0, 0]
        model_a = keep["adaptive"][1]
        with torch.no_grad():
            ua, info = model_a.float()(x0, return_info=True)
            up = keep["plain"][1].float()(x0)
        grid_x = np.arange(truth.shape[-1]) / truth.shape[-1]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(grid_x, truth.numpy(), "k", label="truth")
        ax.plot(grid_x, up[0, 0].cpu().numpy(), label="plain")
        ax.plot(grid_x, ua[0, 0].cpu().numpy(), label="adaptive")
        if "s" in info:
            ax2 = ax.twinx()
            ax2.plot(grid_x, info["s"][0, 0].cpu().numpy(), ":", color="gray", label="s(x)")
            ax2.set_ylabel("learned s(x)")
        ax.legend(fontsize=7)
        save_figure(fig, Path(out_dir) / f"{name}_sample.png")
        res.add_figure(f"{name}_sample.png", f"{name}: one test sample and the learned s(x)")
    if roll:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
        for v, r in roll.items():
            steps = np.arange(1, len(r["rel_l2"]) + 1)
            axes[0].semilogy(steps, r["rel_l2"], "o-", label=v)
            axes[1].semilogy(steps, np.maximum(r["drift"], 1e-18), "o-", label=v)
        axes[0].set_xlabel("step")
        axes[0].set_ylabel("rel-L2")
        axes[1].set_xlabel("step")
        axes[1].set_ylabel("conservation drift (relative)")
        axes[1].legend(fontsize=7)
        save_figure(fig, Path(out_dir) / f"{name}_rollout.png")
        res.add_figure(f"{name}_rollout.png", f"{name}: rollout error and conservation drift")


def _claims_linear(res, name, per, roll, exact_variants, plain="plain"):
    def mean_rel(v):
        return float(np.mean([r["ev32"]["rel_l2"] for r in per[v]]))

    def spread(v):
        return float(np.std([r["ev32"]["rel_l2"] for r in per[v]]))

    ref = per.get("_reference")
    note = "" if ref is None else f"; conserved-mean predictor {ref:.4g}"
    if "adaptive" in per and "projection" in per:
        a, p = mean_rel("adaptive"), mean_rel("projection")
        res.add_claim(
            f"{name}: adaptive <= projection in test rel-L2 (paper's ordering)",
            "adaptive <= projection (mean over seeds)",
            f"adaptive {a:.4g} ± {spread('adaptive'):.2g}, projection {p:.4g} ± "
            f"{spread('projection'):.2g}{note}",
            a <= p,
        )
    if "projection" in per:
        p, q = mean_rel("projection"), mean_rel(plain)
        res.add_claim(
            f"{name}: projection < plain in test rel-L2 (paper's ordering)",
            "projection < plain (mean over seeds)",
            f"projection {p:.4g} ± {spread('projection'):.2g}, plain {q:.4g} ± "
            f"{spread(plain):.2g}{note}",
            p < q,
        )
    if ref is not None:
        # every model the orderings above compare must beat the reference, not just the best one
        compared = [v for v in ("adaptive", "projection", plain) if v in per]
        worst = max(compared, key=mean_rel)
        res.add_claim(
            f"{name}: the trained models learn more than the conserved mean",
            "rel-L2 < 0.9 x the conserved-mean predictor's for every variant the orderings above "
            "compare (otherwise they compare models that learned little beyond the mean)",
            f"worst of {compared}: {worst} {mean_rel(worst):.4g}; conserved-mean predictor "
            f"{ref:.4g}",
            mean_rel(worst) < 0.9 * ref,
        )
    if "posthoc" in per:
        worst = 0.0
        for rp, rq in zip(per["posthoc"], per[plain], strict=True):
            a = np.array(rp["ev32"]["rel_l2_per_sample"])
            b = np.array(rq["ev32"]["rel_l2_per_sample"])
            worst = max(worst, float(np.max(a - b)))
        res.add_claim(
            f"{name}: post-hoc projection never increases the error (per sample)",
            "rel-L2(posthoc) <= rel-L2(plain) + 1e-6 for every test sample",
            f"max increase {worst:.3g}",
            worst <= 1e-6,
        )
    w32 = max(r["ev32"]["cons_max_rel"] for v in exact_variants for r in per[v])
    w64 = max(r["ev64"]["cons_max_rel"] for v in exact_variants for r in per[v])
    res.add_claim(
        f"{name}: corrected variants conserve exactly in float32",
        "max relative conservation error <= 10 eps(float32) = 1.2e-6",
        f"{w32:.3g} ({w32 / EPS32:.2f} eps)",
        w32 <= 10 * EPS32,
    )
    res.add_claim(
        f"{name}: corrected variants conserve exactly in float64 (same weights)",
        "max relative conservation error <= 10 eps(float64) = 2.2e-15",
        f"{w64:.3g} ({w64 / EPS64:.2f} eps)",
        w64 <= 10 * EPS64,
    )
    q = max(r["ev32"]["cons_max_rel"] for r in per[plain])
    res.add_claim(
        f"{name}: the unconstrained model violates the law",
        "plain max relative conservation error >= 1e-4",
        f"{q:.3g}",
        q >= 1e-4,
    )
    if "penalty" in per:
        q = min(r["ev32"]["cons_max_rel"] for r in per["penalty"])
        res.add_claim(
            f"{name}: the soft penalty is not exact",
            "penalty max relative conservation error >= 1e-5",
            f"{q:.3g}",
            q >= 1e-5,
        )
    if roll:
        worst = max(max(roll[v]["drift"]) for v in exact_variants if v in roll)
        plain_d = roll[plain]["drift"]
        res.add_claim(
            f"{name}: rollout drift stays at the float floor for corrected variants",
            "max drift over the rollout <= 10 eps(float32)",
            f"corrected {worst:.3g}; plain per step {[f'{d:.2g}' for d in plain_d]}",
            worst <= 10 * EPS32,
        )


def reproduce(
    out_dir,
    *,
    quick: bool = True,
    seed: int = 0,
    device="auto",
    case: str = "all",
    show_progress: bool = True,
    dt_override: dict | None = None,
    threads: int | None = None,
) -> Path:
    """Run the comparison and write ``result.json`` and PNG figures into ``out_dir``.

    Case ``burgers-mass`` (headline): plain, penalty, post-hoc projection, projection in training
    and adaptive correction on 1-D Burgers with the mass law, several seeds, plus an
    autoregressive rollout; ``nls-norm``: plain, post-hoc Q1 rescale, Q1 in training, adaptive Q2
    on NLS with its ``int |psi|^2`` law; ``ns-mean`` (full run only): 2-D Navier-Stokes with the
    zero-mean law. Claims state the paper's orderings and record whether they held here.
    ``dt_override`` maps a PDE name to generator parameters (tests use it to shorten the simulated
    time). ``threads``: torch intra-op threads for the run (recorded in ``result.json``; restored
    afterwards). ``None`` means one thread for ``quick`` (its models are so small that a second
    thread only adds synchronisation: on a shared two-core machine the quick run took about 25 s
    with one thread and 80 s with two) and torch's default otherwise.
    """
    if threads is None:
        threads = 1 if quick else torch.get_num_threads()
    if not isinstance(threads, int) or threads < 1:
        raise InputError(f"threads: expected a positive integer, got {threads!r}")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _reproduce(out_dir, quick, seed, device, case, show_progress, dt_override)
    finally:
        torch.set_num_threads(previous)


def _reproduce(out_dir, quick, seed, device, case, show_progress, dt_override) -> Path:
    over = dt_override or {}
    if case not in CASES:
        raise InputError(f"case: expected one of {CASES}, got {case!r}")
    dev = resolve_device(device)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    s = settings(quick)
    res = Result("fno-conserve", __version__, seed=seed, device=str(dev), quick=quick)
    timings = []
    if case in ("burgers-mass", "all"):
        t0 = time.perf_counter()
        variants = ["plain", "penalty", "posthoc", "projection", "adaptive"]
        per, roll, lam = _linear_case(
            res,
            "burgers_mass",
            "burgers",
            "mass",
            variants,
            s["burgers"],
            seed,
            dev,
            show_progress,
            True,
            out,
            pde_params=over.get("burgers"),
        )
        _claims_linear(res, "burgers_mass", per, roll, ["posthoc", "projection", "adaptive"])
        timings.append(["burgers-mass", time.perf_counter() - t0, f"penalty weight {lam}"])
    if case in ("nls-norm", "all"):
        t0 = time.perf_counter()
        sn = s["nls"]
        variants = ["plain", "posthoc", "rescale", "adaptive-rescale"]
        per, roll, _ = _linear_case(
            res,
            "nls_norm",
            "nls",
            "norm",
            variants,
            sn | {"val": 0},
            seed,
            dev,
            show_progress,
            False,
            out,
            pde_params=over.get("nls"),
        )
        for v in ("posthoc", "rescale", "adaptive-rescale"):
            w = max(r["ev32"]["cons_max_rel"] for r in per[v])
            res.add_claim(
                f"nls_norm: {v} conserves int |psi|^2 exactly in float32",
                "max relative |Q(u*) - c| <= 1e-6",
                f"{w:.3g}",
                w <= 1e-6,
            )
        q = max(r["ev32"]["cons_max_rel"] for r in per["plain"])
        res.add_claim(
            "nls_norm: the unconstrained model violates the norm law",
            "plain max relative |Q(u) - c| >= 1e-4",
            f"{q:.3g}",
            q >= 1e-4,
        )
        timings.append(["nls-norm", time.perf_counter() - t0, "no ordering predicted"])
    if case in ("ns-mean", "all") and s["ns"] is not None:
        t0 = time.perf_counter()
        variants = ["plain", "posthoc", "projection", "adaptive"]
        per, roll, _ = _linear_case(
            res,
            "ns_mean",
            "navier-stokes",
            "mean-zero",
            variants,
            s["ns"] | {"val": 0},
            seed,
            dev,
            show_progress,
            False,
            out,
            dim=2,
            pde_params=over.get("navier-stokes"),
        )
        # the section 2.5 measure (relative to sum |w_i omega_i|), as for the other cases: an
        # absolute bound would depend on the vorticity's magnitude
        w32 = max(r["ev32"]["cons_max_rel"] for v in variants[1:] for r in per[v])
        a32 = max(r["ev32"]["cons_max_abs"] for v in variants[1:] for r in per[v])
        res.add_claim(
            "ns_mean: corrected variants keep the mean vorticity at zero (float32)",
            "max relative conservation error <= 10 eps(float32) = 1.2e-6",
            f"{w32:.3g} ({w32 / EPS32:.2f} eps; max |int w| {a32:.3g})",
            w32 <= 10 * EPS32,
        )
        timings.append(["ns-mean", time.perf_counter() - t0, ""])
    res.add_table(
        "settings",
        "Settings of this run (lr and epochs identical for every variant)",
        ["case", "settings"],
        [[k, str(v)] for k, v in s.items()],
    )
    res.add_table("timings", "Wall time per case (seconds)", ["case", "seconds", "note"], timings)
    return res.save(out)
