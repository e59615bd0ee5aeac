"""Our training step against its peers', in turn: ``python -m lipres._experiments.step_ratio``.

``lipres bench`` (``sciml_core.compare_timing``) takes medians of single calls, one contender after
the other, which on a loaded machine measures the scheduler as much as the step. This sweep runs
the contenders in turn, in batches of ``calls`` steps, for ``rounds`` rounds, and reports for each
the median of the per-round ratios ``t_peer / t_ours`` (so a load change during the run moves
both sides of a ratio). Ours: ``GradientStep()`` (``norm="verified"``), ``norm="exact"``,
``norm="power"``, the SVD cap of lipres 0.1 (``"svd"``), and the same block with a fixed step and
no norm (``"plain"``). Peers (``--peer``, repeatable; default SLL): ``PEERS``; they need
``lipres[bench]``. One thread; widths from the command line (default 256).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

import torch
from torch import nn

import lipres
from lipres._experiments.bench import (
    BATCH,
    _deel,
    _PlainStep,
    _sll,
    _step_fn,
    blas_threads_as_torch,
)


class _SvdCapStep(lipres.GradientStep):
    """The 0.1 default: the cap from the float64 SVD at every forward."""

    def _certified_norm(self, *, update: bool) -> float:
        return lipres.spectral_norm(self.weight).upper


PEERS: dict[str, Callable[[int], nn.Module | None]] = {
    "sll": _sll,
    "deel": lambda d: _deel(d, True),
    "deel-no-bjorck": lambda d: _deel(d, False),
}
"""The peers ``--peer`` can time against: orthogonium's SLL, deel-torchlip's ``SpectralLinear`` +
``GroupSort2`` with its default Björck orthogonalisation, and the same without Björck."""


def ratio_table(
    width: int,
    *,
    peers: Sequence[str] = ("sll",),
    rounds: int = 7,
    calls: int = 10,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """``{peer: {ours: median over rounds of t_peer / t_ours}}`` at one width; every contender,
    ours and the peers', runs in turn in each round."""
    torch.manual_seed(seed)
    x = torch.randn(BATCH, width)
    steps: dict[str, Callable[[], None]] = {}
    for peer in peers:
        module = PEERS[peer](width)
        if module is None:
            raise SystemExit(f"step_ratio: {peer}'s library is not installed (lipres[bench])")
        steps[peer] = _step_fn(module, x)
    ours = {
        "verified": _step_fn(lipres.GradientStep(width), x),
        "exact": _step_fn(lipres.GradientStep(width, norm="exact"), x),
        "power": _step_fn(lipres.GradientStep(width, norm="power"), x),
        "svd": _step_fn(_SvdCapStep(width), x),
        "plain": _step_fn(_PlainStep(lipres.GradientStep(width, step=1.0 / width)), x),
    }
    steps.update(ours)
    for step in steps.values():
        for _ in range(3):
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(calls):
                step()
            times[name].append((time.perf_counter() - start) / calls)
    return {
        peer: {
            name: statistics.median(p / t for p, t in zip(times[peer], times[name], strict=True))
            for name in ours
        }
        for peer in peers
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("widths", nargs="*", type=int, default=[256], help="block widths")
    parser.add_argument("--rounds", type=int, default=7, help="rounds (default %(default)s)")
    parser.add_argument(
        "--peer",
        action="append",
        choices=[*PEERS, "all"],
        help="a peer to time against, repeatable, or all (default: sll)",
    )
    args = parser.parse_args()
    peers = list(PEERS) if "all" in (args.peer or []) else (args.peer or ["sll"])
    for peer in peers:
        if PEERS[peer](8) is None:
            parser.error(f"--peer {peer}: its library is not installed (pip install lipres[bench])")
    torch.set_num_threads(1)
    for width in args.widths:
        calls = max(1, 2560 // width)
        with blas_threads_as_torch():
            table = ratio_table(width, peers=peers, rounds=args.rounds, calls=calls)
        for peer, row in table.items():
            print(
                f"d={width}: t_{peer}/t_ours " + ", ".join(f"{k} {v:.2f}x" for k, v in row.items())
            )


if __name__ == "__main__":
    main()
