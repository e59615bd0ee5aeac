"""``lipres bench``: our dense gradient step against orthogonium's SLL and deel-torchlip.

One process, same inputs: a training step (forward, backward, Adam step) on a batch of 256 in
float32, ``speedup = t_peer / t_ours``. Ours: ``GradientStep()`` (``norm="verified"``, the default:
a Cholesky-certified bound within ``1e-4`` of the exact norm at every step), ``norm="exact"`` (the
exact norm from the Gram matrix's largest eigenvalue at every step) and ``norm="power"`` (two warm
power steps: fast, not certified between exact refreshes). Peers, when installed (``pip install
'lipres[bench]'``): orthogonium's ``SDPBasedLipschitzDense`` (SLL, Araujo et al. 2023) and
deel-torchlip's ``SpectralLinear`` + ``GroupSort2`` with Björck orthogonalisation on and off.
A missing peer is skipped with a note. The last rows time each norm's overhead: the same block
with a fixed step and no norm (``t_peer``) against ours (``t_ours``), so ``speedup`` < 1 is the
fraction kept.

``peers`` picks the peer libraries (``lipres bench --peer orthogonium|deel-torchlip|all``); the
overhead rows run whatever is picked. Not timed (spec §7, open): SLL's ``t`` and Björck as overhead
rows, our own SLL/AOL layers when no peer is installed (not re-implemented), and the certification
throughput.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata as md
import inspect
import typing
import warnings
from collections.abc import Callable, Sequence
from typing import Literal

import torch
from torch import nn

import lipres
from sciml_core import Comparison, compare_timing

BATCH = 256

PeerName = Literal["orthogonium", "deel-torchlip"]
PEER_NAMES: tuple[PeerName, ...] = typing.get_args(PeerName)


def _step_fn(module: nn.Module, x: torch.Tensor) -> Callable[[], None]:
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)
    module.train()

    def step() -> None:
        opt.zero_grad()
        module(x).square().mean().backward()
        opt.step()

    return step


def _sll(d: int) -> nn.Module | None:
    for path in (
        "orthogonium.layers.conv.SLL.sll_layer",
        "orthogonium.layers.conv.SLL",
        "orthogonium.layers",
    ):
        try:
            mod = importlib.import_module(path)
        except ImportError:
            continue
        cls = getattr(mod, "SDPBasedLipschitzDense", None)
        if cls is not None:
            return cls(d, d, d)
    return None


def _deel(d: int, bjorck: bool) -> nn.Module | None:
    try:
        tl = importlib.import_module("deel.torchlip")
    except ImportError:
        return None
    params = inspect.signature(tl.SpectralLinear.__init__).parameters
    kwargs: dict[str, object] = {}
    if not bjorck:
        kwargs = {"eps_bjorck": None} if "eps_bjorck" in params else {"niter_bjorck": 0}
    return nn.Sequential(tl.SpectralLinear(d, d, **kwargs), tl.GroupSort2())


def blas_threads_as_torch() -> contextlib.AbstractContextManager[object]:
    """Limit numpy's BLAS to ``torch.get_num_threads()`` threads while timing.

    ``verified_spectral_norm`` runs on numpy on the CPU, whose BLAS threads are not the ones
    ``torch.set_num_threads`` sets: without the limit our step could use more cores than the
    peer's. Needs threadpoolctl (in ``lipres[bench]``); without it a warning says the numpy side
    runs with its own thread count (``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS``).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        warnings.warn(
            "bench: threadpoolctl is not installed (pip install 'lipres[bench]'): numpy's BLAS "
            "threads follow OPENBLAS_NUM_THREADS / OMP_NUM_THREADS, not torch's thread count",
            UserWarning,
            stacklevel=2,
        )
        return contextlib.nullcontext()
    return typing.cast(
        contextlib.AbstractContextManager[object],
        threadpool_limits(limits=torch.get_num_threads(), user_api="blas"),
    )


def _version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


def bench(
    *, quick: bool, seed: int, device: str = "cpu", peers: Sequence[PeerName] = PEER_NAMES
) -> list[Comparison]:
    """Run the rows and return them (a peer that is not installed is skipped with a warning).

    Args:
        quick: widths 64 and 256, 5 timed calls (else 256 and 1024, 20 calls).
        seed: seeds the inputs.
        device: where everything runs.
        peers: the peer libraries to time against (module docstring).
    """
    unknown = [p for p in peers if p not in PEER_NAMES]
    if unknown:
        raise ValueError(f"peers: unknown {unknown}; expected some of {PEER_NAMES}")
    with blas_threads_as_torch():
        return _rows(quick=quick, seed=seed, device=device, peers=peers)


def _rows(*, quick: bool, seed: int, device: str, peers: Sequence[PeerName]) -> list[Comparison]:
    widths = (64, 256) if quick else (256, 1024)
    repeats, warmup = (5, 1) if quick else (20, 3)
    rows: list[Comparison] = []
    notes = {d: _version(d) for d in ("orthogonium", "deel-torchlip")}
    for d in widths:
        gen = torch.Generator().manual_seed(seed)
        x = torch.randn(BATCH, d, generator=gen).to(device)
        ours = {
            "verified": lipres.GradientStep(d).to(device),
            "exact": lipres.GradientStep(d, norm="exact").to(device),
            "power": lipres.GradientStep(d, norm="power").to(device),
        }
        steps = {k: _step_fn(m, x) for k, m in ours.items()}
        chosen: dict[str, nn.Module | None] = {}
        if "orthogonium" in peers:
            chosen[f"orthogonium {notes['orthogonium']} SLL"] = _sll(d)
        if "deel-torchlip" in peers:
            chosen[f"deel-torchlip {notes['deel-torchlip']} Björck"] = _deel(d, True)
            chosen[f"deel-torchlip {notes['deel-torchlip']} no Björck"] = _deel(d, False)
        for label, peer in chosen.items():
            if peer is None:
                warnings.warn(
                    f"bench: {label.split()[0]} is not installed (pip install 'lipres[bench]'); "
                    "its rows are skipped",
                    UserWarning,
                    stacklevel=2,
                )
                continue
            peer_step = _step_fn(peer.to(device), x)
            for kind, ours_step in steps.items():
                rows.append(
                    compare_timing(
                        ours_step,
                        peer_step,
                        repeats=repeats,
                        warmup=warmup,
                        device=device,
                        label=f"d={d}: ours ({kind}) vs {label}",
                    )
                )
        plain = lipres.GradientStep(d, step=1.0 / d).to(device)
        plain_block = _PlainStep(plain)
        plain_step = _step_fn(plain_block, x)
        for kind, ours_step in steps.items():
            rows.append(
                compare_timing(
                    ours_step,
                    plain_step,
                    repeats=repeats,
                    warmup=warmup,
                    device=device,
                    label=f"d={d}: overhead of the {kind} norm (plain step / {kind})",
                )
            )
    return rows


class _PlainStep(nn.Module):
    """The same block with a fixed step and no norm at all: the cost floor of a gradient step."""

    def __init__(self, block: lipres.GradientStep) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = self.block
        act = torch.relu(nn.functional.linear(x, b.weight, b.bias))
        return x - 0.5 * (act @ b.weight)
