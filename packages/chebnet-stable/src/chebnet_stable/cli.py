"""Command line of chebnet-stable: ``reproduce``, ``bench``, ``spectrum``, ``lambda-max``,
``train``.

The experiments (``reproduce``, ``bench``, and the model zoo ``train`` shares with the
reproduction) are imported inside the command functions only, so importing this module (or the
package) never loads :mod:`chebnet_stable._experiments`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sciml_core import InputError, atomic_write_text, format_comparisons
from sciml_core.cli import App, is_quiet, progress, wrote

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
        values = [int(float(t)) for t in text.split(",") if t]
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from err
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected integers >= 1, got {text!r}")
    return values


def _reproduce(args: argparse.Namespace) -> int:
    from ._experiments.reproduce import reproduce

    studies = None if args.tasks is None else [t for t in args.tasks.split(",") if t]
    path = reproduce(
        Path(args.out), quick=args.quick, seed=args.seed, device=args.device, studies=studies
    )
    wrote(path)
    return 0


def _bench(args: argparse.Namespace) -> int:
    if args.memory:
        return _bench_memory(args)
    from ._experiments.bench import bench, bench_end_to_end

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
    path = Path(args.out) / "bench.json"
    atomic_write_text(path, json.dumps({"timing": [r.row() for r in rows]}, indent=1))
    wrote(path)
    return 0


def _bench_memory(args: argparse.Namespace) -> int:
    """``bench --memory``: the memory table alone, each cell in a fresh process (no PyG needed)."""
    from sciml_core import resolve_device

    from ._experiments.memory import MEMORY_VARIANTS, bench_memory

    if args.device.strip().lower() != "auto" and resolve_device(args.device).type != "cpu":
        raise InputError(
            f"device: bench --memory measures CPU memory (RSS), got --device {args.device}"
        )
    table = bench_memory(
        nodes=args.nodes or ([10_000] if args.quick else [20_000]),
        features=args.features or [32],
        Ks=args.K or [8, 64, 256],
        graph=args.graph,
        seed=args.seed,
    )
    print(
        "peak memory of one forward + backward, each cell in a fresh process (CPU RSS, MiB): "
        "growth = peak - the process's RSS after its imports and setup (baseline)"
    )
    cells = {(c["n"], c["f"], c["K"], c["variant"]): c for c in table.cells}
    names = " ".join(f"{v:>10}" for v in MEMORY_VARIANTS)
    print(f"{'N':>8} {'F':>5} {'K':>5} {names} {'baseline':>10}")
    for n, f, K in dict.fromkeys((c["n"], c["f"], c["K"]) for c in table.cells):
        row = [cells.get((n, f, K, v)) for v in MEMORY_VARIANTS]
        text = " ".join(f"{c['growth_mib']:>10.1f}" if c else f"{'-':>10}" for c in row)
        base = min(c["baseline_mib"] for c in row if c)
        print(f"{n:>8} {f:>5} {K:>5} {text} {base:>10.1f}")
    for note in table.notes:
        print(f"note: {note}")
    path = Path(args.out) / "memory.json"
    atomic_write_text(path, json.dumps({"memory": table.cells, "notes": table.notes}, indent=1))
    wrote(path)
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

    graphs = load_graphs(spec, argument="--graph")
    if len(graphs) != 1:
        raise InputError(f"--graph: {spec} holds {len(graphs)} graphs; spectrum takes one")
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
        wrote(path)
    return 0


def _lambda_max(args: argparse.Namespace) -> int:
    from ._io import load_graphs
    from ._lambda_max import lambda_max_bound

    norm = None if args.normalization == "none" else args.normalization
    graphs = load_graphs(args.graph, argument="graph")
    note = "  (exact: lower is the eigenvalue itself)" if args.method == "exact" else ""
    ests = [
        lambda_max_bound(g, normalization=norm, method=args.method, symmetrize=True)
        for g in progress(graphs, desc="lambda-max", unit="graph")
    ]
    print(f"{'graph':>5} {'lower':>12} {'upper':>12} certified{note}")
    for i, est in enumerate(ests):
        lo, up = float(est.lower[0]), float(est.upper[0])
        print(f"{i:>5} {lo:>12.6f} {up:>12.6f} {bool(est.certified[0])}")
    return 0


def _train(args: argparse.Namespace) -> int:
    """One model on one task; ``model.pt`` and ``metrics.json`` in ``--out``.

    On the synthetic tasks the models, data seeds, width and loss are the reproduction's (the
    ``reproduce`` model zoo and ``--quick`` configuration), so the same command reaches the
    same numbers; ``--K``/``--steps`` override the Chebyshev terms and the depth.
    """
    import dataclasses
    import math

    import torch

    from sciml_core import resolve_device, save_checkpoint

    from ._baselines import ADGN, GCN, MLP
    from ._datasets import make_barbell, make_graph_transfer, make_graphprop, make_ring_transfer
    from ._experiments.config import QUICK
    from ._experiments.zoo import ModelFactory, ZooTask, model_zoo
    from ._models import ChebNet, Readout, StableChebNet
    from ._train import TaskType, file_splits, train_model

    out = Path(args.out)
    existing = [p.name for p in (out / "model.pt", out / "metrics.json") if p.exists()]
    if existing and not args.overwrite:
        raise InputError(
            f"--out {str(out)!r} already holds {', '.join(existing)}; pass --overwrite to "
            "replace them or choose another folder"
        )
    for name in ("K", "steps"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise InputError(f"{name}: expected an integer >= 1, got {value}")
    if args.preset is not None and args.model != "stable-chebnet":
        raise InputError(f"preset: presets configure stable-chebnet, got --model {args.model}")
    device = resolve_device(args.device)
    n, m, seed = args.n, args.samples, args.seed
    # the reproduction's data seeds: split i of size n is seed * stride + 10 n + i
    base = seed * QUICK.data_seed_stride
    readout: Readout = "node"
    task_type: TaskType
    zoo_task: ZooTask | None = None
    split_how: str | None = None  # how a graph file was split
    hidden = QUICK.hidden
    if args.task == "barbell":
        splits = [make_barbell(n, m, seed=base + 10 * n + i) for i in range(3)]
        task_type, in_ch, out_ch, zoo_task = "regression", 1, 1, "barbell"
    elif args.task == "ring":
        splits = [make_ring_transfer(n, m, seed=base + 10 * n + i) for i in range(3)]
        task_type, in_ch, out_ch, zoo_task = "classification", 5, 5, "ring"
    elif args.task == "transfer":
        splits = [make_graph_transfer("ring", n, m, seed=base + 10 * n + i) for i in range(3)]
        task_type, in_ch, out_ch, zoo_task = "regression", 1, 1, "transfer"
    elif args.task.startswith("graphprop-"):
        gp = args.task.split("-", 1)[1]
        splits = [make_graphprop(m, task=gp, seed=base + i) for i in range(3)]
        # targets divided by the train maximum, as in reproduce (GraphProp's convention)
        scale = max(float(g.y.max()) for g in splits[0] if g.y is not None) or 1.0
        splits = [
            [dataclasses.replace(g, y=g.y / scale if g.y is not None else None) for g in sp]
            for sp in splits
        ]
        task_type, in_ch, out_ch, zoo_task = "regression", 2, 1, "graphprop"
        readout, hidden = ("graph" if gp == "diam" else "node"), QUICK.graphprop_hidden
    else:
        splits, task_type, in_ch, out_ch, split_how = file_splits(args.data, seed)
        if not is_quiet():
            print(f"split: {split_how}", file=sys.stderr)
    make: ModelFactory
    if args.preset is not None:
        ro = readout

        def make() -> torch.nn.Module:
            return StableChebNet.from_preset(args.preset, in_ch, out_ch, readout=ro)

    elif zoo_task is not None:
        zoo = model_zoo(
            zoo_task, n, in_ch, out_ch, hidden, readout=readout, K=args.K, depth=args.steps
        )
        make = zoo["chebnet-4-layers" if zoo_task == "transfer" and args.model == "chebnet"
                   else args.model]  # fmt: skip
    else:  # a graph file: 4 layers or steps reaching 4 hops
        steps = args.steps if args.steps is not None else 4
        K = args.K if args.K is not None else max(2, math.ceil(4 / steps) + 1)
        builders: dict[str, ModelFactory] = {
            "stable-chebnet": lambda: StableChebNet(
                in_ch, hidden, out_ch, K=K, steps=steps, epsilon=0.3, readout=readout
            ),
            "stable-chebnet-cayley": lambda: StableChebNet(
                in_ch,
                hidden,
                out_ch,
                K=K,
                steps=steps,
                epsilon=0.3,
                readout=readout,
                integrator="cayley",
            ),
            "chebnet": lambda: ChebNet(
                in_ch, hidden, out_ch, K=K, num_layers=steps, readout=readout
            ),
            "gcn": lambda: GCN(in_ch, hidden, out_ch, num_layers=steps, readout=readout),
            "adgn": lambda: ADGN(in_ch, hidden, out_ch, steps=steps, readout=readout),
            "mlp": lambda: MLP(in_ch, hidden, out_ch, readout=readout),
        }
        make = builders[args.model]
    torch.manual_seed(seed)
    model = make()
    result = train_model(
        model,
        *splits,
        task_type=task_type,
        epochs=args.epochs,
        lr=args.lr,
        seed=seed,
        device=device,
        show_progress=True,
    )
    config: dict[str, Any] = dict(getattr(model, "config", {}))
    config.update(task=args.task, n=n, samples=m, lr=args.lr)
    save_checkpoint(
        out / "model.pt",
        result.pop("state"),
        config=config,
        package="chebnet-stable",
        version=__version__,
        overwrite=True,
    )
    metric = "mse" if task_type == "regression" else "accuracy"
    metrics = {
        "task": args.task,
        **({} if split_how is None else {"split": split_how}),
        "model": args.model,
        "metric": metric,
        **dict(result),
        "seed": seed,
        "device": str(device),
    }
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=1))
    print(
        f"test {metric} {result['test']:.4g} (train {result['train']:.4g}, val {result['val']:.4g})"
        f" at the best validation epoch {result['best_epoch']} of {result['epochs']}"
    )
    wrote(out)
    return 0


p = app.add_reproduce(_reproduce)
p.add_argument(
    "--tasks",
    default=None,
    metavar="NAMES",
    help="comma-separated studies to run, in the reproduction's order whatever the order given; "
    "an unknown name is refused with the list of names (default: all)",
)
p = app.add_bench(_bench)
p.add_argument(
    "--K",
    type=_int_list,
    default=None,
    metavar="LIST",
    help="comma-separated K values (default: 2,8,32 with --quick, 2,4,...,128 full; "
    "with --memory 8,64,256)",
)
p.add_argument(
    "--nodes",
    type=_int_list,
    default=None,
    metavar="LIST",
    help="comma-separated node counts (default: 10000 with --quick, 1000,10000 full; "
    "with --memory 10000 with --quick, 20000 full)",
)
p.add_argument(
    "--features",
    type=_int_list,
    default=None,
    metavar="LIST",
    help="comma-separated feature sizes F (default: 32)",
)
p.add_argument(
    "--graph",
    default="er",
    choices=GRAPH_FAMILIES,
    help="er: Erdős–Rényi with average degree 8; ring: a cycle (default: %(default)s)",
)
p.add_argument(
    "--memory",
    action="store_true",
    help="run only the memory table: peak RSS of one forward + backward against K for plain "
    "autograd, the memory-efficient backward and PyG (skipped without PyG), each cell in a "
    "fresh process; writes memory.json (default: run only the timing bench, bench.json)",
)
p = app.add_command(
    "spectrum",
    _spectrum,
    help="damping kernel and exact Stable ODE spectrum of a graph",
    common=("seed", "quiet"),
)
p.add_argument(
    "--graph",
    default="barbell:10",
    help="barbell:N, ring:N, path:N, grid:RxC or a graph file (default: %(default)s)",
)
p.add_argument("--K", type=int, default=10, help="Chebyshev terms (default: %(default)s)")
p.add_argument("--epsilon", type=float, default=0.45, help="Euler step ε (default: %(default)s)")
p.add_argument("--gamma", type=float, default=0.1, help="dissipation γ (default: %(default)s)")
p.add_argument(
    "--damping",
    default="per_order",
    choices=DAMPINGS,
    help="where γ enters: every order (the paper's), T_0 only, or Fejér-weighted "
    "(default: %(default)s)",
)
p.add_argument(
    "--hidden", type=int, default=8, help="feature size d of the weights (default: %(default)s)"
)
p.add_argument(
    "--out",
    type=Path,
    default=None,
    metavar="DIR",
    help="write spectrum.png into this folder (default: no figure)",
)
p = app.add_command(
    "lambda-max",
    _lambda_max,
    help="bounds on the largest Laplacian eigenvalue per graph",
    common=("quiet",),
)
p.add_argument("graph", help="graph file (edge list, GraphML/GML, .npz, PyG .pt)")
p.add_argument(
    "--normalization",
    default="sym",
    choices=NORMALIZATION_NAMES,
    help="Laplacian normalisation (default: %(default)s)",
)
p.add_argument(
    "--method",
    default="analytic",
    choices=LAMBDA_MAX_METHODS,
    help="bound: analytic and exact are certified upper bounds, lanczos and power estimates "
    "(default: %(default)s)",
)
p = app.add_command(
    "train",
    _train,
    help="train one model on a synthetic task or a graph file; writes model.pt and metrics.json",
    common=("seed", "device", "out", "quiet"),
)
p.add_argument(
    "--task",
    required=True,
    choices=TRAIN_TASKS,
    help="synthetic task (the reproduction's data and models) or 'file' (graphs from --data)",
)
p.add_argument(
    "--data",
    default=None,
    metavar="PATH",
    help="graph file for --task file, with node features x and labels y (default: none)",
)
p.add_argument(
    "--model", default="stable-chebnet", choices=TRAIN_MODELS, help="(default: %(default)s)"
)
p.add_argument(
    "--n",
    type=int,
    default=10,
    help="barbell clique size / ring size / transfer distance (default: %(default)s)",
)
p.add_argument(
    "--K",
    type=int,
    default=None,
    help="Chebyshev terms (default: the reproduction's for the task, e.g. 10 on barbell; "
    "a graph file: 2)",
)
p.add_argument(
    "--steps",
    type=int,
    default=None,
    help="layers or Euler steps (default: the reproduction's for the task, e.g. 4 on barbell; "
    "a graph file: 4)",
)
p.add_argument(
    "--preset",
    default=None,
    choices=tuple(PRESETS),
    help="official settings (PRESETS) for stable-chebnet (default: none)",
)
p.add_argument("--epochs", type=int, default=50, help="training epochs (default: %(default)s)")
p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate (default: %(default)s)")
p.add_argument(
    "--samples",
    type=int,
    default=100,
    help="training graphs; validation and test get as many (default: %(default)s)",
)
p.add_argument(
    "--overwrite",
    action="store_true",
    help="replace model.pt and metrics.json in --out (default: refuse)",
)


def main(argv: list[str] | None = None) -> int:
    return app.run(argv)
