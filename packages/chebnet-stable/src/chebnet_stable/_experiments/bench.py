"""``chebnet-stable bench``: ChebConv against PyG's ``ChebConv``, ``speedup = t_PyG / t_ours``.

Same weights (:meth:`ChebConv.to_pyg_state_dict`), same inputs, same process, forward + backward.
"Warm" rows use our cached :class:`ScaledLaplacian` (built once per graph, as a training loop
would); "cold" rows rebuild it on every call, as PyG always does; "lean" rows use the
memory-efficient backward (memory flat in K, about 3(K−1) instead of 2(K−1) SpMMs). The
memory cells run in a fresh subprocess each and report the peak RSS growth of one forward +
backward (CPU).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

import torch

from sciml_core import Comparison, InputError, compare_timing, require_extra, resolve_device

from .._cheb_conv import ChebConv
from .._datasets import GRAPH_FAMILIES, GraphFamily, er_edge_index, family_edge_index
from .._laplacian import ScaledLaplacian

__all__ = ["bench", "bench_end_to_end", "bench_memory"]


def _fwd_bwd(
    module: Callable[..., torch.Tensor], graph: Any, x: torch.Tensor, probe: torch.Tensor
) -> Callable[[], None]:
    """One forward + backward of ``module(x, graph)`` (``x.grad`` reset each time)."""

    def run() -> None:
        x.grad = None
        (module(x, graph) * probe).sum().backward()

    return run


def bench(
    *,
    quick: bool,
    seed: int,
    device: str = "cpu",
    Ks: Sequence[int] | None = None,
    nodes: Sequence[int] | None = None,
    features: Sequence[int] | None = None,
    graph: GraphFamily = "er",
    repeats: int | None = None,
    cold: bool = True,
) -> list[Comparison]:
    """Time forward + backward of our ChebConv and PyG's on the same inputs.

    Defaults: quick N = 10⁴, F = 32, K ∈ {2, 8, 32}; full N ∈ {10³, 10⁴}, F = 32,
    K ∈ {2, 4, 8, 16, 32, 64, 128} (a few minutes on one core).

    Returns:
        One :class:`sciml_core.Comparison` per cell; labels carry N, F, K, warm/cold and the
        largest output difference to PyG.
    """
    pyg_nn = require_extra("torch_geometric.nn", extra="pyg", package="chebnet-stable")
    if graph not in GRAPH_FAMILIES:
        raise InputError(f"graph: expected one of {GRAPH_FAMILIES}, got {graph!r}")
    dev = resolve_device(device)
    Ks = list(Ks) if Ks is not None else ([2, 8, 32] if quick else [2, 4, 8, 16, 32, 64, 128])
    nodes = list(nodes) if nodes is not None else ([10_000] if quick else [1_000, 10_000])
    features = list(features) if features is not None else [32]
    repeats = repeats if repeats is not None else (5 if quick else 10)
    rows: list[Comparison] = []
    gen = torch.Generator().manual_seed(seed)
    for n in nodes:
        ei = family_edge_index(graph, n, seed=seed).to(dev)
        lap = ScaledLaplacian.from_graph((ei, None, n), device=dev)
        for f in features:
            x = torch.randn(n, f, generator=gen).to(dev).requires_grad_(True)
            probe = torch.randn(n, f, generator=gen).to(dev)
            for K in Ks:
                torch.manual_seed(seed)
                ours = ChebConv(f, f, K).to(dev)
                peer = pyg_nn.ChebConv(f, f, K).to(dev)
                peer.load_state_dict(ours.to_pyg_state_dict())
                with torch.no_grad():
                    diff = float((ours(x, lap) - peer(x, ei)).abs().max())
                tag = f"{graph} N={n} F={f} K={K}"
                peer_fn = _fwd_bwd(peer, ei, x, probe)
                rows.append(
                    compare_timing(
                        _fwd_bwd(ours, lap, x, probe),
                        peer_fn,
                        repeats=repeats,
                        warmup=2,
                        device=dev,
                        label=f"{tag} warm |Δ|={diff:.1e}",
                    )
                )
                lean = ChebConv(f, f, K, memory_efficient=True).to(dev)
                lean.load_state_dict(ours.state_dict())
                rows.append(
                    compare_timing(
                        _fwd_bwd(lean, lap, x, probe),
                        peer_fn,
                        repeats=repeats,
                        warmup=2,
                        device=dev,
                        label=f"{tag} warm lean",
                    )
                )
                if cold:
                    rows.append(
                        compare_timing(
                            _fwd_bwd(ours, (ei, None, n), x, probe),
                            peer_fn,
                            repeats=repeats,
                            warmup=2,
                            device=dev,
                            label=f"{tag} cold",
                        )
                    )
    return rows


def _pyg_stable_stack(pyg_nn: Any, d: int, K: int, steps: int, eps: float, gamma: float) -> Any:
    """The authors' layer as they build it on PyG (eq. 9, §1.3): per step a PyG ``ChebConv`` whose
    order-k weight is V_k − V_kᵀ − γI (triu V), bias inside the step, tanh after it; the Laplacian
    is rebuilt by PyG on every step."""

    class Step(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cheb = pyg_nn.ChebConv(d, d, K)
            self.V = torch.nn.Parameter(torch.randn(K, d, d) / d**0.5)

        def forward(self, x: torch.Tensor, ei: torch.Tensor) -> torch.Tensor:
            a = self.V.triu(1) - self.V.triu(1).transpose(1, 2)
            w = a - gamma * torch.eye(d)
            # PyG's Linear applies x @ W^T: feed the weights through its functional form
            out = None
            tx0, tx1 = x, x
            edge_index, norm = self.cheb.__norm__(ei, x.shape[0], None, "sym", None, x.dtype)
            for k in range(K):
                if k == 1:
                    tx1 = self.cheb.propagate(edge_index, x=x, norm=norm)
                elif k > 1:
                    tx0, tx1 = tx1, 2.0 * self.cheb.propagate(edge_index, x=tx1, norm=norm) - tx0
                term = (x if k == 0 else tx1) @ w[k].t()
                out = term if out is None else out + term
            assert out is not None
            return torch.tanh(x + eps * (out + self.cheb.bias))

    return torch.nn.ModuleList(Step() for _ in range(steps))


def bench_end_to_end(*, quick: bool, seed: int, repeats: int | None = None) -> Comparison:
    """One training step (forward + backward) of a Stable-ChebNet stack on a GraphProp batch:
    ours (cached Laplacian) against the PyG-based official layer, ``speedup = t_PyG / t_ours``."""
    pyg_nn = require_extra("torch_geometric.nn", extra="pyg", package="chebnet-stable")
    from .._datasets import make_graphprop
    from .._graph import collate
    from .._stable_conv import StableChebConv

    d, K, steps, eps, gamma = 40, 4, 5, 0.7, 0.01
    batch = collate(make_graphprop(64 if quick else 256, task="sssp", seed=seed))
    torch.manual_seed(seed)
    enc = torch.nn.Linear(2, d)
    ours = torch.nn.ModuleList(StableChebConv(d, K, epsilon=eps, gamma=gamma) for _ in range(steps))
    peer = _pyg_stable_stack(pyg_nn, d, K, steps, eps, gamma)
    lap = ScaledLaplacian.from_graph(batch)
    assert batch.x is not None
    x = batch.x

    def run_ours() -> None:
        h = enc(x)
        for conv in ours:
            h = torch.tanh(conv(h, lap))
        h.square().mean().backward()

    def run_peer() -> None:
        h = enc(x)
        for step in peer:
            h = step(h, batch.edge_index)
        h.square().mean().backward()

    return compare_timing(
        run_ours,
        run_peer,
        repeats=repeats or (5 if quick else 10),
        warmup=2,
        label=f"Stable-ChebNet step, GraphProp batch N={batch.num_nodes}, "
        f"d={d} K={K} steps={steps}",
    )


def _memory_cell(n: int, f: int, K: int, lean: bool, seed: int) -> dict[str, float]:
    """Peak RSS growth (MiB) of one forward + backward, measured in this (fresh) process."""
    torch.set_num_threads(1)
    ei = er_edge_index(n, 8, seed)
    lap = ScaledLaplacian.from_graph((ei, None, n))
    conv = ChebConv(f, f, K, memory_efficient=lean)
    x = torch.randn(n, f, requires_grad=True)
    with open("/proc/self/statm") as fh:
        rss_setup = int(fh.read().split()[1]) * resource.getpagesize() / 2**20
    (conv(x, lap) ** 2).sum().backward()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"n": n, "f": f, "K": K, "lean": lean, "peak_growth_mib": peak - rss_setup}


def bench_memory(
    *, n: int = 20_000, f: int = 32, Ks: Sequence[int] = (8, 64, 256), seed: int = 0
) -> list[dict[str, Any]]:
    """Peak memory of one forward + backward against K, plain autograd vs the lean backward.

    Each cell runs in a fresh Python process (``ru_maxrss`` is a process-lifetime peak). Linux only.
    """
    if not sys.platform.startswith("linux"):
        raise InputError("memory: the RSS measurement reads /proc and runs on Linux only")
    # glibc serves mid-sized blocks from a heap whose fragmentation inflates RSS at random; a low
    # mmap threshold returns every freed tensor to the OS, so the peak tracks live tensors
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MALLOC_MMAP_THRESHOLD_": "65536"}
    out = []
    for K in Ks:
        for lean in (False, True):
            code = (
                "import json; from chebnet_stable._experiments.bench import _memory_cell; "
                f"print(json.dumps(_memory_cell({n}, {f}, {K}, {lean}, {seed})))"
            )
            proc = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out
