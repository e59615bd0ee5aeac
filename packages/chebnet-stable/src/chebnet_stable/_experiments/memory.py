"""``chebnet-stable bench --memory``: peak memory of one forward + backward against K.

Each cell (one graph size, feature size, K and variant) runs in a **fresh Python interpreter**
started with :mod:`subprocess`, which imports only torch, numpy and this package (no PyG unless
the cell is a PyG cell), builds the graph and the layer, and then measures:

* ``baseline_mib``: the child's resident set size after its imports and setup (``VmRSS``);
* ``peak_mib``: the child's peak resident set size during one forward + backward (``VmHWM``,
  reset to the current RSS just before the pass by writing ``5`` to ``/proc/self/clear_refs``);
* ``growth_mib = peak_mib - baseline_mib``: what the forward + backward itself costs.

``ru_maxrss`` is **not** used: Linux keeps it across ``fork`` + ``exec``, so a child would report
its parent's peak (a test process holding gigabytes made every cell show the parent's 3.3 GiB).
``VmHWM`` belongs to the child's own address space, which ``exec`` creates afresh. Where the
kernel refuses the reset (``hwm_reset: false``), ``peak_mib`` is the child's lifetime peak,
imports included, and ``growth_mib`` can understate the pass. Linux only (``/proc``), CPU only.

Variants (:data:`MEMORY_VARIANTS`): ``plain`` (our :class:`ChebConv`, autograd keeps every
T_kX: O(K·N·F)), ``lean`` (``memory_efficient=True``: O(N·F)) and ``pyg`` (PyG's ``ChebConv``;
skipped with a note when PyG is not installed).
"""

from __future__ import annotations

import dataclasses
import gc
import importlib.util
import json
import os
import subprocess
import sys
import typing
from collections.abc import Sequence
from typing import Any, Literal

import torch

from sciml_core import InputError
from sciml_core.cli import progress

from .._cheb_conv import ChebConv
from .._datasets import GRAPH_FAMILIES, GraphFamily, family_edge_index
from .._laplacian import ScaledLaplacian

__all__ = ["MEMORY_VARIANTS", "MemoryTable", "MemoryVariant", "bench_memory", "measure_cell"]

MemoryVariant = Literal["plain", "lean", "pyg"]
"""Our ChebConv with plain autograd, with the memory-efficient backward, and PyG's ChebConv."""
MEMORY_VARIANTS: tuple[MemoryVariant, ...] = typing.get_args(MemoryVariant)
MAX_PLAIN_BYTES = 8 * 2**30
"""Cells whose plain activations (3·K·N·F·4 bytes) exceed this are skipped (spec §6)."""


@dataclasses.dataclass(frozen=True)
class MemoryTable:
    """The measured cells (one dict per cell, JSON-ready) and notes on what was skipped."""

    cells: list[dict[str, Any]]
    notes: list[str]


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    raise ValueError(f"/proc/self/status has no {field}")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        return False
    return True


def measure_cell(
    n: int, f: int, K: int, variant: MemoryVariant, *, graph: GraphFamily, seed: int
) -> dict[str, Any]:
    """Peak RSS of one forward + backward, measured in **this** process (run it in a fresh one).

    Returns:
        ``{"n", "f", "K", "variant", "baseline_mib", "peak_mib", "growth_mib", "hwm_reset"}``.
    """
    torch.set_num_threads(1)
    ei = family_edge_index(graph, n, seed=seed)
    x = torch.randn(n, f, generator=torch.Generator().manual_seed(seed), requires_grad=True)
    conv: Any
    g: Any
    if variant == "pyg":
        from torch_geometric.nn import ChebConv as PygChebConv

        conv, g = PygChebConv(f, f, K), ei
    else:
        conv = ChebConv(f, f, K, memory_efficient=variant == "lean")
        g = ScaledLaplacian.from_graph((ei, None, n))
    gc.collect()
    baseline = _status_mib("VmRSS")
    reset = _reset_peak()
    (conv(x, g) ** 2).sum().backward()
    peak = _status_mib("VmHWM")
    return {
        "n": n,
        "f": f,
        "K": K,
        "variant": variant,
        "baseline_mib": baseline,
        "peak_mib": peak,
        "growth_mib": peak - baseline,
        "hwm_reset": reset,
    }


def _child(argv: Sequence[str]) -> None:
    """Entry point of a cell's interpreter: ``argv[0]`` is the cell as JSON; prints the result."""
    cell = json.loads(argv[0])
    print(json.dumps(measure_cell(**cell)))


def _run_in_fresh_interpreter(cell: dict[str, Any]) -> dict[str, Any]:
    # glibc serves mid-sized blocks from a heap whose fragmentation inflates RSS at random; a low
    # mmap threshold returns every freed tensor to the OS, so the peak tracks live tensors
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MALLOC_MMAP_THRESHOLD_": "65536"}
    code = "import sys; from chebnet_stable._experiments.memory import _child; _child(sys.argv[1:])"
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(cell)], capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory cell {cell} failed in its subprocess:\n{proc.stderr[-2000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def bench_memory(
    *,
    nodes: Sequence[int] = (20_000,),
    features: Sequence[int] = (32,),
    Ks: Sequence[int] = (8, 64, 256),
    graph: GraphFamily = "er",
    seed: int = 0,
    variants: Sequence[MemoryVariant] = MEMORY_VARIANTS,
) -> MemoryTable:
    """Peak memory of one forward + backward per (N, F, K, variant), each in a fresh process.

    Args:
        nodes: graph sizes N.
        features: feature sizes F (in = out).
        Ks: Chebyshev terms.
        graph: ``'er'`` (average degree 8) or ``'ring'``.
        seed: seed of the graph and the features.
        variants: which of :data:`MEMORY_VARIANTS` to measure; ``'pyg'`` is skipped (with a note)
            when PyG is not installed.

    Returns:
        The cells, in (N, F, K, variant) order, and notes naming what was skipped.

    Raises:
        InputError: not on Linux, an unknown graph or variant, or a size below 1.
    """
    if not sys.platform.startswith("linux"):
        raise InputError("memory: the RSS measurement reads /proc and runs on Linux only")
    if graph not in GRAPH_FAMILIES:
        raise InputError(f"graph: expected one of {GRAPH_FAMILIES}, got {graph!r}")
    bad = [v for v in variants if v not in MEMORY_VARIANTS]
    if bad:
        raise InputError(f"variants: expected names from {MEMORY_VARIANTS}, got {bad}")
    for name, values in (("nodes", nodes), ("features", features), ("K", Ks)):
        if not values or min(values) < 1:
            raise InputError(f"{name}: expected integers >= 1, got {list(values)}")
    notes: list[str] = []
    wanted = list(variants)
    if "pyg" in wanted and importlib.util.find_spec("torch_geometric") is None:
        wanted.remove("pyg")
        notes.append(
            "pyg cells skipped: PyTorch Geometric is not installed "
            "(pip install 'chebnet-stable[pyg]')"
        )
    todo: list[dict[str, Any]] = []
    for n in nodes:
        for f in features:
            for K in Ks:
                if 3 * K * n * f * 4 > MAX_PLAIN_BYTES:
                    notes.append(f"N={n} F={f} K={K} skipped: plain activations exceed 8 GiB")
                    continue
                todo.extend(
                    {"n": n, "f": f, "K": K, "variant": v, "graph": graph, "seed": seed}
                    for v in wanted
                )
    cells = [_run_in_fresh_interpreter(c) for c in progress(todo, desc="memory", unit="cell")]
    return MemoryTable(cells, notes)
