"""Command line of chebnet-stable: ``reproduce``, ``bench``, ``spectrum``, ``lambda-max``,
``train``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sciml_core import InputError, atomic_write_text, format_comparisons
from sciml_core.cli import App

from .__about__ import __version__
from ._datasets import GRAPH_FAMILIES
from ._lambda_max import LAMBDA_MAX_METHODS
from ._laplacian import NORMALIZATION_NAMES
from ._models import PRESETS
from ._stable_conv import DAMPINGS
from ._train import TRAIN_MODELS, TRAIN_TASKS

app = App(
    "chebnet-stable",
    version=__version__,
    description="ChebNet and Stable-ChebNet for long-range graph learning (Hariri et al. 2025).",
)


def _int_list(text: str) -> list[int]:
    try:
        return [int(float(t)) for t in text.split(",") if t]
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from err


def _reproduce(args: argparse.Namespace) -> int:
    from ._experiments import reproduce

    studies = None if args.tasks is None else [t for t in args.tasks.split(",") if t]
    path = reproduce(
        Path(args.out), quick=args.quick, seed=args.seed, device=args.device, studies=studies
    )
    print(path)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from ._experiments.bench import bench, bench_end_to_end, bench_memory

    rows = bench(
        quick=args.quick,
        seed=args.seed,
        device=args.device,
        Ks=args.K,
        nodes=args.nodes,
        features=args.features,
        graph=args.graph,
    )
    rows.append(bench_end_to_end(quick=args.quick, seed=args.seed))
    print(format_comparisons(rows))
    out: dict[str, Any] = {"timing": [r.row() for r in rows]}
    if args.memory:
        mem = bench_memory(Ks=args.K or (8, 64, 256), seed=args.seed)
        print("\npeak RSS growth of one forward + backward (MiB), ER N=2e4 (degree 8), F=32:")
        print(f"{'K':>5} {'plain':>10} {'lean':>10}")
        for K in sorted({m["K"] for m in mem}):
            plain = next(m for m in mem if m["K"] == K and not m["lean"])["peak_growth_mib"]
            lean = next(m for m in mem if m["K"] == K and m["lean"])["peak_growth_mib"]
            print(f"{K:>5} {plain:>10.1f} {lean:>10.1f}")
        out["memory"] = mem
    Path(args.out).mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(args.out) / "bench.json", json.dumps(out, indent=1))
    return 0


def _graph_from_spec(spec: str) -> tuple[Any, str]:
    """``barbell:10``, ``ring:40``, ``path:41``, ``grid:8x8`` or a graph file."""
    from ._datasets import barbell_edge_index, grid_edge_index, path_edge_index, ring_edge_index

    kind, _, arg = spec.partition(":")

    def size(text: str, low: int) -> int:
        n = int(text)
        if n < low:
            raise InputError(f"graph: {spec!r} needs sizes >= {low}, got {n}")
        return n

    try:
        if kind == "barbell" and arg:
            n = size(arg, 2)
            return (barbell_edge_index(n), None, 2 * n), spec
        if kind == "ring" and arg:
            n = size(arg, 3)
            return (ring_edge_index(n), None, n), spec
        if kind == "path" and arg:
            n = size(arg, 2)
            return (path_edge_index(n), None, n), spec
        if kind == "grid" and arg:
            r, c = (size(v, 1) for v in arg.split("x"))
            if r * c < 2:
                raise InputError(f"graph: {spec!r} needs at least 2 nodes")
            return (grid_edge_index(r, c), None, r * c), spec
    except ValueError as err:
        if isinstance(err, InputError):
            raise
        raise InputError(f"graph: cannot parse {spec!r}") from err
    from ._io import load_graphs

    graphs = load_graphs(spec)
    if len(graphs) != 1:
        raise InputError(f"graph: {spec} holds {len(graphs)} graphs; spectrum takes one")
    return graphs[0], spec


def _spectrum(args: argparse.Namespace) -> int:
    import torch

    from ._diagnostics import euler_step_gain, jacobian_spectrum
    from ._laplacian import ScaledLaplacian
    from ._stable_conv import damping_kernel

    if args.hidden < 1:
        raise InputError(f"hidden: expected an integer >= 1, got {args.hidden}")
    mu = torch.linspace(-1, 1, 200_001, dtype=torch.float64)
    s = damping_kernel(args.K, mu, damping=args.damping)
    graph, name = _graph_from_spec(args.graph)
    lap = ScaledLaplacian.from_graph(graph, dtype=torch.float64)
    gen = torch.Generator().manual_seed(args.seed)
    v = torch.randn(args.K, args.hidden, args.hidden, dtype=torch.float64, generator=gen)
    a = v.triu(1) - v.triu(1).transpose(1, 2)
    spec0 = jacobian_spectrum(lap, a)
    spec = jacobian_spectrum(lap, a, gamma=args.gamma, damping=args.damping)
    gain = euler_step_gain(lap, a, epsilon=args.epsilon, gamma=args.gamma, damping=args.damping)
    print(
        f"graph {name}: N = {lap.num_nodes}, K = {args.K}, d = {args.hidden}, "
        f"damping {args.damping}"
    )
    print(f"fraction of [-1, 1] with s < 0: {float((s < 0).double().mean()):.4f}")
    print(f"min s: {float(s.min()):.4f}")
    print(f"max |Re λ| at gamma = 0: {float(spec0.real.abs().max()):.3e}")
    print(f"max Re λ at gamma = {args.gamma}: {float(spec.real.max()):.4f}")
    print(f"Euler-step gain (epsilon = {args.epsilon}): {gain:.6f}")
    if args.out is not None:
        from sciml_core import get_pyplot, save_figure

        plt = get_pyplot("chebnet-stable")
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
        axes[0].plot(mu[::100], s[::100])
        axes[0].axhline(0, color="k", lw=0.5)
        axes[0].set_xlabel("μ")
        axes[0].set_ylabel(f"s(μ), {args.damping}, K = {args.K}")
        axes[1].scatter(spec.real, spec.imag, s=6)
        axes[1].set_xlabel("Re λ")
        axes[1].set_ylabel("Im λ")
        axes[1].set_title(f"{name}, γ = {args.gamma}")
        Path(args.out).mkdir(parents=True, exist_ok=True)
        path = save_figure(fig, Path(args.out) / "spectrum.png")
        plt.close(fig)
        print(path)
    return 0


def _lambda_max(args: argparse.Namespace) -> int:
    from ._io import load_graphs
    from ._lambda_max import lambda_max_bound

    norm = None if args.normalization == "none" else args.normalization
    graphs = load_graphs(args.graph)
    note = "  (exact: lower is the eigenvalue itself)" if args.method == "exact" else ""
    ests = [
        lambda_max_bound(g, normalization=norm, method=args.method, symmetrize=True) for g in graphs
    ]
    print(f"{'graph':>5} {'lower':>12} {'upper':>12} certified{note}")
    for i, est in enumerate(ests):
        lo, up = float(est.lower[0]), float(est.upper[0])
        print(f"{i:>5} {lo:>12.6f} {up:>12.6f} {bool(est.certified[0])}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from ._train import run_train

    return run_train(args)


p = app.add_reproduce(_reproduce)
p.add_argument(
    "--tasks",
    default=None,
    help="comma-separated subset of spectrum,stability,barbell,ring,transfer,graphprop",
)
p = app.add_bench(_bench)
p.add_argument("--K", type=_int_list, default=None, help="comma-separated K values")
p.add_argument("--nodes", type=_int_list, default=None, help="comma-separated node counts")
p.add_argument("--features", type=_int_list, default=None, help="comma-separated feature sizes")
p.add_argument("--graph", default="er", choices=GRAPH_FAMILIES)
p.add_argument("--memory", action="store_true", help="also measure peak memory vs K (subprocesses)")
p = app.add_command(
    "spectrum",
    _spectrum,
    help="damping kernel and exact Stable ODE spectrum of a graph",
    common=("seed", "quiet"),
)
p.add_argument(
    "--graph", default="barbell:10", help="barbell:N, ring:N, path:N, grid:RxC or a file"
)
p.add_argument("--K", type=int, default=10)
p.add_argument("--epsilon", type=float, default=0.45)
p.add_argument("--gamma", type=float, default=0.1)
p.add_argument("--damping", default="per_order", choices=DAMPINGS)
p.add_argument("--hidden", type=int, default=8)
p.add_argument("--out", type=Path, default=None, metavar="DIR", help="write spectrum.png here")
p = app.add_command(
    "lambda-max",
    _lambda_max,
    help="bounds on the largest Laplacian eigenvalue per graph",
    common=("quiet",),
)
p.add_argument("graph", help="graph file (edge list, GraphML/GML, .npz, PyG .pt)")
p.add_argument("--normalization", default="sym", choices=NORMALIZATION_NAMES)
p.add_argument("--method", default="analytic", choices=LAMBDA_MAX_METHODS)
p = app.add_command(
    "train",
    _train,
    help="train one model on a synthetic task; writes a checkpoint and metrics.json",
    common=("seed", "device", "out", "quiet"),
)
p.add_argument(
    "--task",
    required=True,
    choices=TRAIN_TASKS,
)
p.add_argument("--data", default=None, help="graph file for --task file (x, y, optional masks)")
p.add_argument("--model", default="stable-chebnet", choices=TRAIN_MODELS)
p.add_argument(
    "--n", type=int, default=10, help="barbell clique size / ring size / transfer distance"
)
p.add_argument("--K", type=int, default=None)
p.add_argument("--steps", type=int, default=None)
p.add_argument(
    "--preset",
    default=None,
    choices=tuple(PRESETS),
    help="official settings (PRESETS) for stable-chebnet",
)
p.add_argument("--epochs", type=int, default=50)
p.add_argument("--lr", type=float, default=1e-2)
p.add_argument("--samples", type=int, default=100, help="training graphs (val and test: the same)")
p.add_argument(
    "--overwrite", action="store_true", help="replace model.pt and metrics.json in --out"
)


def main(argv: list[str] | None = None) -> int:
    return app.run(argv)
