"""``fno-conserve bench``: training step vs neuraloperator's FNO, correction overhead, data
speed."""

from __future__ import annotations

import json
import math
import os
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from sciml_core import (
    Comparison,
    InputError,
    MissingExtraError,
    atomic_write_text,
    compare_timing,
    format_comparisons,
    resolve_device,
    root_seed,
)
from sciml_core.cli import progress

from .._constraints import Constraint, LinearConstraint, QuadraticConstraint
from .._correction import ConservationCorrection, Direction
from .._data import PDE, generate
from .._fno import FNO, Embedding, SpectralConv
from .._loss import RelLpLoss
from .._wrapper import ConservedOperator
from ..cli import PEERS, Peer

Step = Callable[[], None]


def _n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters())


def _peer_fno(dim: int, modes: int, target_params: int) -> tuple[nn.Module, int]:
    """neuraloperator's FNO with ``n_modes = 2 m`` and the hidden width matching our parameters."""
    try:
        from neuralop.models import FNO as PeerFNO
    except ImportError as err:
        raise MissingExtraError(
            "neuraloperator is needed for the peer rows: pip install 'fno-conserve[bench]'"
        ) from err
    best: tuple[float, int, nn.Module] | None = None
    for hidden in range(4, 129):
        model = PeerFNO(
            n_modes=(2 * modes,) * dim,
            in_channels=1,
            out_channels=1,
            hidden_channels=hidden,
            n_layers=4,
        )
        gap = abs(_n_params(model) - target_params) / target_params
        if best is None or gap < best[0]:
            best = (gap, hidden, model)
        if _n_params(model) > target_params:
            break
    if best is None:
        raise ValueError("target_params: no hidden width was tried")
    return best[2], best[1]


def _first_spectral_weight(model: FNO) -> torch.Tensor:
    """The weight of our FNO's first Fourier layer."""
    layer = model.spectral[0]
    if not isinstance(layer, SpectralConv):
        raise TypeError(f"model: expected a SpectralConv first layer, got {type(layer).__name__}")
    return layer.weight


def _step(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    opt: torch.optim.Optimizer,
) -> Step:
    """One training step (forward, backward, optimiser step) as a timing closure."""

    def run() -> None:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return run


def _cpu_ratio(ours: Step, base: Step, *, rounds: int, calls: int) -> dict[str, float]:
    """``t_ours / t_base`` in process CPU time, interleaved (the order alternates per round).

    Each round times ``calls`` calls of each; the ratio is the median of the per-round ratios, so
    a slow spell of the machine hits both sides of a round. CPU time, unlike wall time, does not
    count the time the process waits for a core on a loaded machine; with one intra-op thread it
    is the work of the step itself (with several threads it is their sum, not the latency).
    """
    ours()
    base()
    ratios: list[float] = []
    t_a: list[float] = []
    t_b: list[float] = []
    for r in range(rounds):
        pair: list[float] = []
        for fn in (ours, base) if r % 2 == 0 else (base, ours):
            start = time.process_time()
            for _ in range(calls):
                fn()
            pair.append((time.process_time() - start) / calls)
        ta, tb = pair if r % 2 == 0 else pair[::-1]
        t_a.append(ta)
        t_b.append(tb)
        ratios.append(ta / tb if tb > 0 else math.inf)
    return {
        "ratio": statistics.median(ratios),
        "t_ours_cpu": statistics.median(t_a),
        "t_base_cpu": statistics.median(t_b),
        "rounds": rounds,
        "calls": calls,
    }


def _smooth_input(shape: tuple[int, ...], dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A smooth periodic test input ``(1, 1, *shape)``."""
    coords = [torch.arange(n, dtype=dtype) / n for n in shape]
    grids = torch.meshgrid(*coords, indexing="ij")
    f = torch.zeros(shape, dtype=dtype)
    for k, g in enumerate(grids):
        f = f + torch.sin(2 * math.pi * (k + 1) * g + k) / (k + 1)
    for g in grids:
        f = f + 0.5 * torch.cos(4 * math.pi * g)
    return f.reshape(1, 1, *shape)


def _consistency(model: nn.Module, dim: int, dtype: torch.dtype) -> dict[int, float]:
    """Relative N-vs-2N output difference at N = 64, 128, 256 (1-D) or 16, 32, 64 (2-D)."""
    sizes = (64, 128, 256) if dim == 1 else (16, 32, 64)
    out = []
    with torch.no_grad():
        for n in sizes:
            a = model(_smooth_input((n,) * dim, dtype))
            b = model(_smooth_input((2 * n,) * dim, dtype))[(..., *[slice(None, None, 2)] * dim)]
            out.append(float((a - b).norm() / b.norm()))
    return dict(zip(sizes, out, strict=True))


def _accuracy(
    quick: bool, seed: int, dev: torch.device, report: dict[str, Any], show_progress: bool
) -> None:
    """Train ours and the peer on the same data, epochs and optimiser; compare test rel-L2."""
    from neuralop.models import FNO as PeerFNO

    loss_fn = RelLpLoss()
    # (pde, N, our embedding, our padding, the peer's keyword arguments)
    cases: list[tuple[Literal["burgers", "darcy"], int, Embedding, float, dict[str, Any]]] = [
        ("burgers", 64 if quick else 128, "periodic", 0.0, {}),
        ("darcy", 32, "cells", 0.125, {"domain_padding": 0.125}),
    ]
    n_train, n_test, epochs = (256, 64, 5) if quick else (1000, 200, 20)
    for pde, n, embedding, padding, peer_kw in cases:
        train = generate(pde, n_train, n, seed=seed, show_progress=False)
        test = generate(pde, n_test, n, seed=seed, offset=n_train, show_progress=False)
        dim = train["x"].ndim - 2
        modes, width = (16, 32) if dim == 1 else (8, 24)
        x, y = train["x"].float().to(dev), train["y"].float().to(dev)
        scale = float(y.abs().max())  # Darcy's u ~ 0.02: both train on a unit-scale target
        torch.manual_seed(seed)
        ours = FNO(dim, 1, 1, modes, width=width, grid=embedding, padding=padding).to(dev)
        _, hidden = _peer_fno(dim, modes, _n_params(ours))
        theirs = PeerFNO(
            n_modes=(2 * modes,) * dim,
            in_channels=1,
            out_channels=1,
            hidden_channels=hidden,
            n_layers=4,
            **peer_kw,
        ).to(dev)
        results: dict[str, float] = {}
        for name, model in (("ours", ours), ("peer", theirs)):
            gen = torch.Generator().manual_seed(seed)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            steps = math.ceil(n_train / 20)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps)
            for _ in progress(
                range(epochs),
                desc=f"accuracy {pde} {name}",
                unit="epoch",
                disable=not show_progress,
            ):
                perm = torch.randperm(n_train, generator=gen)
                for i in range(steps):
                    idx = perm[i * 20 : (i + 1) * 20]
                    loss = loss_fn(model(x[idx]), y[idx] / scale)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    sched.step()
            with torch.no_grad():
                pred = model(test["x"].float().to(dev)) * scale
                results[name] = float(loss_fn(pred.double(), test["y"].to(dev)))
        ratio = results["ours"] / results["peer"]
        report["accuracy"][f"{pde} N={n}"] = results | {
            "ratio": ratio,
            "parity": abs(ratio - 1) <= 0.1,
            "epochs": epochs,
            "n_train": n_train,
        }


def bench(
    out_dir: str | os.PathLike[str],
    *,
    quick: bool = False,
    seed: int = 0,
    device: str | torch.device = "auto",
    peer: Peer = "neuraloperator",
    threads: int = 2,
    accuracy: bool = False,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Run the benchmark rows, print them with ``speedup = t_peer / t_ours``, write ``bench.json``.

    Rows: the FNO training step (forward + backward + AdamW) against neuraloperator's FNO at equal
    parameter count (1-D N = 128, batch 20, width 32, modes 16; 2-D 64x64, batch 8, width 24,
    modes 8) in float32, a float64 row (ours; the peer's exception is recorded), the N-vs-2N
    consistency of both models, the correction overhead ``t_corrected / t_plain - 1`` of a training
    step, and data-generation throughput. ``quick`` uses fewer repeats and rows.
    """
    if peer not in PEERS:
        raise InputError(f"peer: expected one of {PEERS}, got {peer!r}")
    if not isinstance(threads, int) or threads < 1:
        raise InputError(f"threads: expected a positive integer, got {threads!r}")
    dev = resolve_device(device)
    torch.manual_seed(root_seed(seed))
    torch.set_num_threads(threads)
    repeats, warmup = (5, 2) if quick else (15, 3)
    rows: list[Comparison] = []
    report: dict[str, Any] = {
        "device": str(dev),
        "threads": threads,
        "peer": {},
        "overhead": [],
        "consistency": {},
        "data": {},
        "accuracy": {},
    }
    loss_fn = RelLpLoss()
    configs = [(1, 128, 20, 32, 16), (2, 64, 8, 24, 8)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # loaded machine: recorded in each row
        warnings.simplefilter("ignore", UserWarning)
        for dim, n, batch, width, modes in progress(
            configs, desc="bench train step", unit="row", disable=not show_progress
        ):
            ours = FNO(dim, 1, 1, modes, width=width).to(dev)
            theirs: nn.Module | None
            try:
                theirs, hidden = _peer_fno(dim, modes, _n_params(ours))
            except MissingExtraError as err:
                print(f"peer rows skipped: {err}")
                theirs = None
            x = torch.randn(batch, 1, *(n,) * dim, device=dev)
            y = torch.randn(batch, 1, *(n,) * dim, device=dev)
            label = f"train step {dim}-D N={n} batch={batch} float32"
            if theirs is not None:
                theirs = theirs.to(dev)
                c = compare_timing(
                    _step(ours, x, y, loss_fn, torch.optim.AdamW(ours.parameters(), 1e-3)),
                    _step(theirs, x, y, loss_fn, torch.optim.AdamW(theirs.parameters(), 1e-3)),
                    repeats=repeats,
                    warmup=warmup,
                    device=dev,
                    label=label,
                )
                rows.append(c)
                spec_w = next(p for nm, p in theirs.named_parameters() if "convs.0.weight" in nm)
                report["peer"][label] = c.row() | {
                    "params_ours": _n_params(ours),
                    "params_peer": _n_params(theirs),
                    "peer_hidden_channels": hidden,
                    "spectral_weight_ours": list(_first_spectral_weight(ours).shape),
                    "spectral_weight_peer": list(spec_w.shape),
                }
                try:
                    theirs.double()(x.double())
                    report["peer"][f"{dim}-D float64"] = "ran"
                except Exception as err:  # the peer's failure is the measurement
                    report["peer"][f"{dim}-D float64"] = f"{type(err).__name__}: {str(err)[:120]}"
                report["consistency"][f"peer {dim}-D"] = _consistency(
                    theirs.double()
                    if report["peer"][f"{dim}-D float64"] == "ran"
                    else theirs.float(),
                    dim,
                    torch.float64 if report["peer"][f"{dim}-D float64"] == "ran" else torch.float32,
                )
            ours64 = FNO(dim, 1, 1, modes, width=width).to(dev).double()
            report["consistency"][f"ours {dim}-D"] = _consistency(ours64, dim, torch.float64)
            c64 = compare_timing(
                _step(
                    ours64,
                    x.double(),
                    y.double(),
                    loss_fn,
                    torch.optim.AdamW(ours64.parameters(), 1e-3),
                ),
                _step(ours, x, y, loss_fn, torch.optim.AdamW(ours.parameters(), 1e-3)),
                repeats=repeats,
                warmup=warmup,
                device=dev,
                label=f"ours float64 vs ours float32, {dim}-D (speedup = t32/t64)",
            )
            rows.append(c64)
        # correction overhead: (t_corrected - t_plain) / t_plain of a training step
        cases = [(1, 128, 20, 32, 16), (1, 1024, 20, 32, 16), (2, 64, 8, 24, 8)]
        laws: dict[str, list[Constraint]] = {
            "mass": [LinearConstraint.mass()],
            "3 moments": [LinearConstraint.moments(2)],
            "Q2": [QuadraticConstraint((0,), mode="adaptive")],
        }
        for dim, n, batch, width, modes in progress(
            cases, desc="bench correction overhead", unit="grid", disable=not show_progress
        ):
            x = torch.randn(batch, 1, *(n,) * dim, device=dev)
            y = torch.randn(batch, 1, *(n,) * dim, device=dev)
            for law_name, law in laws.items():
                if dim == 2 and law_name == "3 moments":
                    continue
                directions: tuple[Direction, ...] = ("head", "net")
                for direction in directions:
                    # float32 solves only on the smallest grid: the solve is m x m either way
                    small = (dim, n) == (1, 128)
                    dtypes = (
                        (torch.float64, torch.float32) if small and not quick else (torch.float64,)
                    )
                    for cd in dtypes:
                        if quick and (law_name != "mass" or (direction == "net" and not small)):
                            continue
                        torch.manual_seed(0)
                        aux = 1 if direction == "head" else 0
                        plain = FNO(dim, 1, 1, modes, width=width, aux_channels=aux).to(dev)
                        wrapped = ConservedOperator(
                            FNO(dim, 1, 1, modes, width=width, aux_channels=aux),
                            ConservationCorrection(law, direction=direction, compute_dtype=cd),
                        ).to(dev)

                        def plain_loss(out: torch.Tensor, yy: torch.Tensor) -> torch.Tensor:
                            return loss_fn(out[:, :1], yy)

                        label = (
                            f"overhead {dim}-D N={n} {law_name} {direction} "
                            f"{str(cd).replace('torch.', '')}"
                        )
                        c = compare_timing(
                            _step(
                                wrapped,
                                x,
                                y,
                                loss_fn,
                                torch.optim.AdamW(wrapped.parameters(), 1e-3),
                            ),
                            _step(
                                plain, x, y, plain_loss, torch.optim.AdamW(plain.parameters(), 1e-3)
                            ),
                            repeats=repeats,
                            warmup=warmup,
                            device=dev,
                            label=label,
                        )
                        rows.append(c)
                        cpu = (
                            _cpu_ratio(
                                _step(
                                    wrapped,
                                    x,
                                    y,
                                    loss_fn,
                                    torch.optim.AdamW(wrapped.parameters(), 1e-3),
                                ),
                                _step(
                                    plain,
                                    x,
                                    y,
                                    plain_loss,
                                    torch.optim.AdamW(plain.parameters(), 1e-3),
                                ),
                                rounds=2 * repeats,
                                calls=3,
                            )
                            if dev.type == "cpu"
                            else None
                        )
                        # the correction alone (forward + backward) as a fraction of the plain
                        # step: robust where the difference of two noisy medians is not
                        corr = wrapped.correction
                        u0 = torch.randn_like(x, requires_grad=True)
                        raw = torch.randn_like(x, requires_grad=True)

                        def correction_only(
                            corr: ConservationCorrection = corr,
                            u0: torch.Tensor = u0,
                            raw: torch.Tensor = raw,
                            x: torch.Tensor = x,
                        ) -> None:
                            out, _ = corr(u0, x, s=corr.positive(raw), residuals=False)
                            out.sum().backward()

                        alone = compare_timing(
                            correction_only,
                            _step(
                                plain, x, y, plain_loss, torch.optim.AdamW(plain.parameters(), 1e-3)
                            ),
                            repeats=repeats,
                            warmup=warmup,
                            device=dev,
                            label=label + " alone",
                        )
                        report["overhead"].append(
                            c.row()
                            | {
                                "overhead": c.t_ours / c.t_peer - 1,
                                "correction_alone": alone.t_ours / alone.t_peer,
                                "direction": direction,
                                "ratio_to_plain_cpu": None if cpu is None else cpu["ratio"],
                                "cpu_timing": cpu,
                            }
                        )
        speed_rows: tuple[tuple[PDE, int, int], ...] = (
            ("burgers", 128, 16),
            ("nls", 256, 8),
            ("darcy", 64, 8),
        )
        for pde, n, k in speed_rows:
            if quick and pde != "burgers":
                continue
            t0 = time.perf_counter()
            generate(pde, k, n, seed=0, show_progress=False)
            report["data"][f"{pde} N={n}"] = k / (time.perf_counter() - t0)
        if accuracy:
            _accuracy(quick, root_seed(seed), dev, report, show_progress)
    print(format_comparisons(rows))
    for label, info in report["peer"].items():
        if isinstance(info, dict):
            print(
                f"{label}: params ours {info['params_ours']}, peer {info['params_peer']} "
                f"(hidden {info['peer_hidden_channels']}); spectral weight ours "
                f"{info['spectral_weight_ours']}, peer {info['spectral_weight_peer']}"
            )
        else:
            print(f"peer {label}: {info}")
    for label, diffs in report["consistency"].items():
        print(
            f"N-vs-2N relative difference, {label}: "
            + ", ".join(f"N={k}: {v:.2e}" for k, v in diffs.items())
        )
    for row in report["overhead"]:
        cpu_text = (
            ""
            if row["ratio_to_plain_cpu"] is None
            else f"step / plain step {row['ratio_to_plain_cpu']:.3f} in process CPU time "
            f"(interleaved, median of {row['cpu_timing']['rounds']} rounds); "
        )
        print(
            f"{row['label']}: {cpu_text}wall-clock overhead {100 * row['overhead']:+.1f}% "
            f"(difference of medians, load {row['load_avg']:.1f}); the correction alone costs "
            f"{100 * row['correction_alone']:.1f}% of the plain step"
        )
    for label, acc in report["accuracy"].items():
        print(
            f"accuracy {label} ({acc['epochs']} epochs, {acc['n_train']} samples): test rel-L2 "
            f"ours {acc['ours']:.4g}, peer {acc['peer']:.4g}, ratio {acc['ratio']:.3f} "
            f"(parity within 10 %: {acc['parity']})"
        )
    for label, rate in report["data"].items():
        print(f"data generation {label}: {rate:.1f} samples/s")
    report["rows"] = [c.row() for c in rows]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "bench.json", json.dumps(report, indent=2, default=str))
    return report
