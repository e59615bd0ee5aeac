"""``chebnet-stable bench``: ChebConv against PyG's ``ChebConv``, ``speedup = t_PyG / t_ours``.

Same weights (:meth:`ChebConv.to_pyg_state_dict`), same inputs, same process, forward + backward.
"Warm" rows use our cached :class:`ScaledLaplacian` (built once per graph, as a training loop
would); "cold" rows rebuild it on every call, as PyG always does; "lean" rows use the
memory-efficient backward (memory flat in K, about 3(K−1) instead of 2(K−1) SpMMs). Peak memory
is measured apart, each cell in a fresh interpreter (:mod:`.memory`, ``bench --memory``).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

from sciml_core import Comparison, InputError, compare_timing, require_extra, resolve_device
from sciml_core.cli import progress

from .._cheb_conv import ChebConv
from .._datasets import GRAPH_FAMILIES, GraphFamily, family_edge_index
from .._laplacian import ScaledLaplacian

__all__ = ["BATCH_S", "bench", "bench_end_to_end", "compare_batches"]


def _fwd_bwd(
    module: Callable[..., torch.Tensor], graph: Any, x: torch.Tensor, probe: torch.Tensor
) -> Callable[[], None]:
    """One forward + backward of ``module(x, graph)`` (``x.grad`` reset each time)."""

    def run() -> None:
        x.grad = None
        (module(x, graph) * probe).sum().backward()

    return run


BATCH_S = 0.25
"""Seconds a timed batch of calls lasts at least (:func:`compare_batches`)."""


def _batch(fn: Callable[[], None], calls: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(calls):
            fn()

    return run


def compare_batches(
    ours: Callable[[], None],
    peer: Callable[[], None],
    *,
    repeats: int,
    device: torch.device,
    label: str,
    batch_s: float = BATCH_S,
) -> Comparison:
    """:func:`sciml_core.compare_timing` of batches of calls lasting at least ``batch_s`` each,
    reported per call.

    On a shared, oversubscribed machine a call of a few milliseconds is either not preempted or
    preempted for many milliseconds, so medians of single calls mostly measure the scheduler.
    Each side runs as many calls per batch as fill ``batch_s`` (counted from two warm-up calls,
    once per row), batches alternate (A B, B A, ...) and the median batch is divided by its
    number of calls. ``batch_s = 0`` times single calls.
    """
    calls = []
    for fn in (ours, peer):
        fn()  # warm-up
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        calls.append(max(1, math.ceil(batch_s / max(time.perf_counter() - start, 1e-6))))
    c = compare_timing(
        _batch(ours, calls[0]),
        _batch(peer, calls[1]),
        repeats=repeats,
        warmup=0,
        device=device,
        label=label,
    )
    t_ours, t_peer = c.t_ours / calls[0], c.t_peer / calls[1]
    return dataclasses.replace(c, t_ours=t_ours, t_peer=t_peer, speedup=t_peer / t_ours)


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
    batch_s: float = BATCH_S,
) -> list[Comparison]:
    """Time forward + backward of our ChebConv and PyG's on the same inputs.

    Defaults: quick N = 10⁴, F = 32, K ∈ {2, 8, 32}; full N ∈ {10³, 10⁴}, F = 32,
    K ∈ {2, 4, 8, 16, 32, 64, 128} (a few minutes on one core). Each row is the median of
    ``repeats`` alternating batches of calls lasting at least ``batch_s`` seconds
    (:func:`compare_batches`), per call.

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
    bar = progress(total=len(nodes) * len(features) * len(Ks), desc="bench", unit="cell")
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
                    compare_batches(
                        _fwd_bwd(ours, lap, x, probe),
                        peer_fn,
                        repeats=repeats,
                        device=dev,
                        label=f"{tag} warm |Δ|={diff:.1e}",
                        batch_s=batch_s,
                    )
                )
                lean = ChebConv(f, f, K, memory_efficient=True).to(dev)
                lean.load_state_dict(ours.state_dict())
                rows.append(
                    compare_batches(
                        _fwd_bwd(lean, lap, x, probe),
                        peer_fn,
                        repeats=repeats,
                        device=dev,
                        label=f"{tag} warm lean",
                        batch_s=batch_s,
                    )
                )
                if cold:
                    rows.append(
                        compare_batches(
                            _fwd_bwd(ours, (ei, None, n), x, probe),
                            peer_fn,
                            repeats=repeats,
                            device=dev,
                            label=f"{tag} cold",
                            batch_s=batch_s,
                        )
                    )
                bar.update()
    bar.close()
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

    return compare_batches(
        run_ours,
        run_peer,
        repeats=repeats or (5 if quick else 10),
        device=torch.device("cpu"),
        label=f"Stable-ChebNet step, GraphProp batch N={batch.num_nodes}, "
        f"d={d} K={K} steps={steps}",
    )
