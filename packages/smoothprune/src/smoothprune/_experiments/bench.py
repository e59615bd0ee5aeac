"""``smoothprune bench``: compression time against Tucker-2, Torch-Pruning and ``torch.nn.utils.
prune``, the penalties' cost per training step, compressed inference, checkpoint bytes and the
peak memory of compressing ResNet-18.

Timing rows report ``speedup = t_peer / t_ours`` (``sciml_core.compare_timing``: medians,
alternating order, load average, threads and device recorded). A missing peer (tensorly,
Torch-Pruning, torchvision) is a printed ``skipped`` line, not an error. The memory rows (bytes of
checkpoints, peak-RSS increase) are printed as their own table; nothing is asserted.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import prune

from sciml_core import Comparison, compare_timing, save_checkpoint

from ..__about__ import __version__
from .._compress import compress_model, compressible_layers, save_compressed
from .._count import count_parameters
from .._layers import LowRankConv2d
from .._models import SmallCNN
from .._prune import PEERS, Peer, prune_channels, prune_unstructured, tucker2_factors
from .._regularizer import SmoothnessRegularizer

# Peak resident memory of compress_model(cifar_resnet18(), params=0.3) in a fresh interpreter:
# ru_maxrss (KiB on Linux) before and after, and the float32 weights' bytes.
_RSS_SCRIPT = """
import resource, torch
torch.set_num_threads(1)
from smoothprune import compress_model, cifar_resnet18
model = cifar_resnet18().eval()
weights = sum(p.numel() * p.element_size() for p in model.parameters())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
compress_model(model, params=0.3)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before * 1024, after * 1024, weights)
"""


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _skip(what: str, module: str) -> None:
    print(f"skipped: {what} ({module} not installed; the [bench] or [vision] extra)")


def _tucker_rows(model: SmallCNN, repeats: int, dev: torch.device) -> list[Comparison]:
    if not _installed("tensorly"):
        _skip("SVD vs Tucker-2", "tensorly")
        return []
    convs = [model.c2, model.c3]

    def ours() -> None:
        for c in convs:
            LowRankConv2d.from_dense(c, c.out_channels // 2)

    def peer() -> None:
        for c in convs:
            tucker2_factors(c.weight, (c.out_channels // 2, c.in_channels // 2))

    label = "compress c2+c3: SVD (float64) vs tensorly Tucker-2 (HOOI, ranks O/2, I/2)"
    return [compare_timing(ours, peer, repeats=repeats, device=dev, label=label)]


def _compression_rows(
    model: SmallCNN, repeats: int, dev: torch.device, example: torch.Tensor, peer: Peer
) -> list[Comparison]:
    """Whole-model compression time: ours (keep=0.3) against the pruning baselines."""

    def ours() -> None:
        compress_model(model, keep=0.3)

    peers: list[tuple[str, Callable[[], object]]] = []
    if peer in ("all", "torch-prune"):
        peers.append(("global_unstructured 70 % + remove", lambda: prune_unstructured(model, 0.7)))
    if peer in ("all", "torch-pruning"):
        if _installed("torch_pruning"):
            peers.append(
                (
                    "Torch-Pruning MetaPruner 50 % channels",
                    lambda: prune_channels(
                        model, 0.5, backend="torch-pruning", example_inputs=example
                    ),
                )
            )
        else:
            _skip("compression time vs Torch-Pruning", "torch_pruning")
    return [
        compare_timing(
            ours,
            peer_fn,
            repeats=repeats,
            device=dev,
            label=f"compress SmallCNN: SVD keep=0.3 vs {name}",
        )
        for name, peer_fn in peers
    ]


def _penalty_rows(repeats: int, dev: torch.device) -> list[Comparison]:
    """Cost of a training step with each penalty (ratio = penalised step / plain step)."""
    x = torch.randn(128, 1, 20, 20, device=dev)
    y = torch.randint(0, 10, (128,), device=dev)
    model = SmallCNN().to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step(reg: SmoothnessRegularizer | None) -> None:
        loss = F.cross_entropy(model(x), y)
        if reg is not None:
            loss = loss + reg()
        opt.zero_grad()
        loss.backward()
        opt.step()

    rows = []
    variants: list[tuple[str, SmoothnessRegularizer, int]] = [
        ("Δ² along out", SmoothnessRegularizer(model, second_order=3e-3), 1),
        ("Δ¹ along out", SmoothnessRegularizer(model, first_order=3e-3, second_order=0.0), 1),
        (
            "nuclear penalty (svdvals every step)",
            SmoothnessRegularizer(model, nuclear=1e-3, second_order=0.0),
            1,
        ),
    ]
    for every in (1, 10):
        reg = SmoothnessRegularizer(
            model, nuclear=1.0, second_order=0.0, nuclear_mode="prox", every=every
        )
        variants.append((f"nuclear prox every {every}", reg, every))
    for name, reg, steps in variants:

        def plain(n: int = steps) -> None:
            for _ in range(n):
                step(None)

        def penalised(r: SmoothnessRegularizer = reg, n: int = steps) -> None:
            for _ in range(n):
                step(r)
            r.prox_step(1e-3)  # does nothing outside prox mode

        rows.append(
            compare_timing(
                plain,
                penalised,
                repeats=repeats,
                device=dev,
                label=f"train step: plain vs {name} (ratio = cost of the penalised step)",
            )
        )
    return rows


def _inference_rows(
    model: SmallCNN, repeats: int, dev: torch.device, example: torch.Tensor, peer: Peer
) -> list[Comparison]:
    compressed = compress_model(model, params=0.3).model.eval()
    peers: list[tuple[str, nn.Module]] = []
    if peer in ("all", "torch-prune"):
        peers.append(("dense", model))
        peers.append(
            ("70 % unstructured (masked, dense cost)", prune_unstructured(model, 0.7).eval())
        )
    if peer in ("all", "torch-pruning") and _installed("torch_pruning"):
        pruned = prune_channels(model, 0.5, backend="torch-pruning", example_inputs=example)
        peers.append((f"Torch-Pruning 50 % channels ({count_parameters(pruned)} params)", pruned))
    rows = []
    for batch in (1, 64):
        xb = torch.randn(batch, 1, 20, 20, device=dev)
        for name, peer_model in peers:

            def run_ours(inp: torch.Tensor = xb) -> None:
                compressed(inp)

            def run_peer(inp: torch.Tensor = xb, m: nn.Module = peer_model) -> None:
                m(inp)

            with torch.no_grad():
                rows.append(
                    compare_timing(
                        run_ours,
                        run_peer,
                        repeats=repeats * 5,
                        device=dev,
                        label=f"inference, params=0.3 factorised "
                        f"({count_parameters(compressed)} params) vs {name}, batch {batch}",
                    )
                )
    return rows


def checkpoint_bytes(model: nn.Module, example: torch.Tensor) -> list[tuple[str, int, int]]:
    """``(what, stored parameters, file bytes)`` of the dense model and its compressed forms.

    Every file is a ``sciml_core.save_checkpoint`` (the factorised one through
    :func:`save_compressed`), so the container is the same and only the weights differ.
    """
    masked = copy.deepcopy(model)
    params = [(m, "weight") for _, m in compressible_layers(masked)]
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=0.7)
    forms: list[tuple[str, nn.Module]] = [
        ("dense", model),
        ("70 % unstructured before prune.remove (weight_orig + weight_mask)", masked),
        ("70 % unstructured after prune.remove", prune_unstructured(model, 0.7)),
        ("50 % channels removed (native)", prune_channels(model, 0.5)),
    ]
    if _installed("torch_pruning"):
        forms.append(
            (
                "50 % channels (Torch-Pruning)",
                prune_channels(model, 0.5, backend="torch-pruning", example_inputs=example),
            )
        )
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, m) in enumerate(forms):
            path = Path(tmp) / f"{i}.pt"
            save_checkpoint(
                path, m.state_dict(), config={}, package="smoothprune", version=__version__
            )
            stored = sum(t.numel() for t in m.state_dict().values() if t.is_floating_point())
            out.append((name, stored, path.stat().st_size))
        for keep in (0.3, 0.1):
            rep = compress_model(model, keep=keep)
            path = save_compressed(rep, Path(tmp) / f"keep{keep}.pt")
            out.append((f"SVD keep={keep:g} (factorised)", rep.params_after, path.stat().st_size))
    return out


def peak_rss_of_compressing_resnet18() -> tuple[int, int, int] | None:
    """``(peak RSS before, peak RSS after, weight bytes)`` of ``compress_model(cifar_resnet18(),
    params=0.3)`` in a fresh interpreter (Linux ``ru_maxrss``), or None without torchvision."""
    if not _installed("torchvision"):
        _skip("peak RSS of compressing ResNet-18", "torchvision")
        return None
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT], capture_output=True, text=True, check=True, env=env
    )
    before, after, weights = (int(v) for v in done.stdout.split()[-3:])
    return before, after, weights


def _print_memory(model: nn.Module, example: torch.Tensor) -> None:
    print("memory (SmallCNN checkpoints, sciml_core.save_checkpoint files):")
    for name, stored, size in checkpoint_bytes(model.cpu(), example.cpu()):
        print(f"  {name:<66} {stored:>8} stored values {size:>9} bytes")
    rss = peak_rss_of_compressing_resnet18()
    if rss is not None:
        before, after, weights = rss
        print(
            f"  compress_model(cifar_resnet18(), params=0.3): peak RSS {before / 2**20:.1f} -> "
            f"{after / 2**20:.1f} MiB (+{(after - before) / 2**20:.1f} MiB; float32 weights "
            f"{weights / 2**20:.1f} MiB)"
        )


def bench(*, quick: bool, seed: int, device: str = "cpu", peer: Peer = "all") -> list[Comparison]:
    """Run the benchmark rows, print the memory table, return the timing rows (nothing is
    asserted).

    ``peer`` other than ``"all"`` runs only the timing rows against that peer (``"tensorly"``:
    Tucker-2; ``"torch-prune"``: ``torch.nn.utils.prune`` and the dense model;
    ``"torch-pruning"``: Torch-Pruning); the penalty rows and the memory table run with ``"all"``.
    A peer that is not installed is a printed ``skipped`` line.
    """
    if peer not in PEERS:
        raise ValueError(f"peer must be one of {PEERS}; got {peer!r}")
    torch.manual_seed(seed)
    dev = torch.device("cpu" if device == "auto" else device)
    repeats = 3 if quick else 7
    model = SmallCNN().to(dev).eval()
    example = torch.randn(1, 1, 20, 20, device=dev)
    if peer == "all":
        _print_memory(model, example)
    rows = _tucker_rows(model, repeats, dev) if peer in ("all", "tensorly") else []
    if peer != "tensorly":
        rows += _compression_rows(model, repeats, dev, example, peer)
    if peer == "all":
        rows += _penalty_rows(repeats, dev)
    if peer != "tensorly":
        rows += _inference_rows(model, repeats, dev, example, peer)
    print(f"threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}, device {dev}")
    return rows
