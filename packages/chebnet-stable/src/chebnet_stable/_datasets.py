"""Synthetic long-range benchmarks, generated from seeds (sample i from SeedSequence(seed,
(i,)))."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from sciml_core import InputError, SeedLike, root_seed, sample_generator

from ._graph import GraphData

__all__ = [
    "barbell_edge_index",
    "crossed_ring_edge_index",
    "make_barbell",
    "make_graph_transfer",
    "make_ring_transfer",
]


def _undirected(pairs: list[tuple[int, int]]) -> torch.Tensor:
    e = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).t()
    return torch.cat([e, e.flip(0)], dim=1)


def _check_int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InputError(f"{name}: expected an integer >= {low}, got {value!r}")
    return value


def barbell_edge_index(n: int) -> torch.Tensor:
    """``networkx.barbell_graph(n, 0)``: cliques 0..n-1 and n..2n-1 joined by the edge (n-1, n)."""
    _check_int("n", n, 2)
    pairs = [(i, j) for c in (0, n) for i in range(c, c + n) for j in range(i + 1, c + n)]
    pairs.append((n - 1, n))
    return _undirected(pairs)


def _samples(
    num: int, seed: SeedLike, make: Callable[[np.random.Generator], GraphData]
) -> list[GraphData]:
    base = root_seed(seed)
    return [make(sample_generator(base, i)) for i in range(num)]


def make_barbell(n: int, num_samples: int, *, seed: SeedLike) -> list[GraphData]:
    r"""Barbell regression (Bamberger et al., BuNN; the paper's Table 2) on one fixed graph.

    ``barbell_graph(n, 0)``; clique A draws :math:`x \sim U(\mu_1 \pm \sqrt3\sigma)` with
    :math:`\mu_1 = -\sqrt{3n}`, clique B the same around :math:`\mu_2 = +\sqrt{3n}`,
    :math:`\sigma = \sqrt n`; every node's target is the mean of the **opposite** clique, whose
    variance is 1: an MSE near 1 means nothing crossed the bridge.

    Args:
        n: clique size.
        num_samples: number of signals.
        seed: sample i uses ``SeedSequence(seed, spawn_key=(i,))``.

    Returns:
        Graphs with ``x`` ``[2n, 1]`` and ``y`` ``[2n, 1]``.

    Examples:
        >>> g = make_barbell(5, 2, seed=0)[0]
        >>> g.num_nodes, tuple(g.y.shape), bool((g.y[:5] > 0).all())
        (10, (10, 1), True)
    """
    _check_int("n", n, 2)
    _check_int("num_samples", num_samples, 1)
    ei = barbell_edge_index(n)
    mu, half = math.sqrt(3 * n), math.sqrt(3) * math.sqrt(n)

    def make(rng: np.random.Generator) -> GraphData:
        a = rng.uniform(-mu - half, -mu + half, n)
        b = rng.uniform(mu - half, mu + half, n)
        x = torch.tensor(np.concatenate([a, b]), dtype=torch.float32).unsqueeze(1)
        y = torch.cat([torch.full((n,), float(b.mean())), torch.full((n,), float(a.mean()))])
        return GraphData(x, ei, y=y.unsqueeze(1), num_nodes=2 * n)

    return _samples(num_samples, seed, make)


def make_ring_transfer(
    n: int, num_samples: int, *, classes: int = 5, noise_channels: int = 0, seed: SeedLike
) -> list[GraphData]:
    """RingTransfer (Bodnar et al. 2023): carry a class label ``n // 2`` hops around a cycle.

    ``cycle_graph(n)``; every node's features are ones, node 0's zeros, node ``n // 2`` carries
    one-hot(class); optional U[0, 1] noise channels on the filler nodes. The label is read at
    node 0 (``mask``), cross-entropy over ``classes``.

    Returns:
        Graphs with ``x`` ``[n, classes + noise_channels]``, ``y`` ``[1]`` (long) and ``mask``
        ``[n]`` (True at node 0).
    """
    _check_int("n", n, 3)
    _check_int("num_samples", num_samples, 1)
    _check_int("classes", classes, 2)
    _check_int("noise_channels", noise_channels, 0)
    ei = _undirected([(i, (i + 1) % n) for i in range(n)])
    mask = torch.zeros(n, dtype=torch.bool)
    mask[0] = True

    def make(rng: np.random.Generator) -> GraphData:
        label = int(rng.integers(classes))
        x = torch.ones(n, classes + noise_channels)
        if noise_channels:
            x[:, classes:] = torch.tensor(
                rng.uniform(0, 1, (n, noise_channels)), dtype=torch.float32
            )
        x[0] = 0.0
        x[n // 2] = 0.0
        x[n // 2, label] = 1.0
        return GraphData(x, ei, y=torch.tensor([label]), mask=mask, num_nodes=n)

    return _samples(num_samples, seed, make)


def crossed_ring_edge_index(d: int) -> torch.Tensor:
    """Ring of 2d nodes plus chords i ↔ 2d−1−i and i ↔ 2d+1−i (where valid), each edge once.

    SWAN's generator (``gravins/SWAN:graph_transfer/graph_transfer_data.py``) also appends the
    chords (0, 2d−1) and (d−1, d), which repeat ring edges and so double their weight under sum
    aggregation; we keep every edge once (d = 5: 16 edges).
    """
    m = 2 * d
    pairs = {tuple(sorted((i, (i + 1) % m))) for i in range(m)}
    for i in range(m):
        for j in (m - 1 - i, m + 1 - i):
            if 0 <= j < m and j != i:
                pairs.add(tuple(sorted((i, j))))
    return _undirected(sorted(pairs))


def make_graph_transfer(
    topology: str, distance: int, num_graphs: int, *, seed: SeedLike
) -> list[GraphData]:
    """Graph transfer (Gravina et al., SWAN): move the source's value to a target ``distance`` away.

    Topologies: ``'line'`` (path of ``distance`` nodes, target at the far end), ``'ring'``
    (cycle of ``2·distance``, target ``distance``), ``'crossed_ring'`` (the ring plus chords).
    ``x ~ U[0, 1]`` with ``x[src] = 1``, ``x[tgt] = 0``; ``y = x`` except ``y[src] = 0``,
    ``y[tgt] = 1``. ``mask`` marks the target node.
    """
    _check_int("distance", distance, 2)
    _check_int("num_graphs", num_graphs, 1)
    if topology == "line":
        n, tgt = distance, distance - 1
        ei = _undirected([(i, i + 1) for i in range(n - 1)])
    elif topology == "ring":
        n, tgt = 2 * distance, distance
        ei = _undirected([(i, (i + 1) % n) for i in range(n)])
    elif topology == "crossed_ring":
        n, tgt = 2 * distance, distance
        ei = crossed_ring_edge_index(distance)
    else:
        raise InputError(f"topology: expected 'line', 'ring' or 'crossed_ring', got {topology!r}")
    mask = torch.zeros(n, dtype=torch.bool)
    mask[tgt] = True

    def make(rng: np.random.Generator) -> GraphData:
        x = torch.tensor(rng.uniform(0, 1, (n, 1)), dtype=torch.float32)
        x[0], x[tgt] = 1.0, 0.0
        y = x.clone()
        y[0], y[tgt] = 0.0, 1.0
        return GraphData(x, ei, y=y, mask=mask, num_nodes=n)

    return _samples(num_graphs, seed, make)
