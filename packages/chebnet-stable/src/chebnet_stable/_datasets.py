"""Synthetic long-range benchmarks, generated from seeds (sample i from SeedSequence(seed,
(i,)))."""

from __future__ import annotations

import math
import typing
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import torch

from sciml_core import InputError, SeedLike, require_extra, root_seed, sample_generator

from ._graph import GraphData

__all__ = [
    "GRAPHPROP_TASKS",
    "GRAPH_FAMILIES",
    "TRANSFER_TOPOLOGIES",
    "GraphFamily",
    "GraphPropTask",
    "TransferTopology",
    "barbell_edge_index",
    "crossed_ring_edge_index",
    "er_edge_index",
    "family_edge_index",
    "grid_edge_index",
    "make_barbell",
    "make_graph_transfer",
    "make_graphprop",
    "make_ring_transfer",
    "path_edge_index",
    "ring_edge_index",
]

TransferTopology = Literal["line", "ring", "crossed_ring"]
"""Graph-transfer topologies (SWAN): a path, a ring, a ring with chords."""
TRANSFER_TOPOLOGIES: tuple[TransferTopology, ...] = typing.get_args(TransferTopology)
GraphPropTask = Literal["sssp", "ecc", "diam"]
"""GraphProp targets: single-source shortest paths, eccentricity (node tasks), diameter (graph)."""
GRAPHPROP_TASKS: tuple[GraphPropTask, ...] = typing.get_args(GraphPropTask)
GraphFamily = Literal["er", "ring"]
"""Large sparse test graphs (:func:`family_edge_index`): Erdős–Rényi of average degree 8, ring."""
GRAPH_FAMILIES: tuple[GraphFamily, ...] = typing.get_args(GraphFamily)


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


def ring_edge_index(n: int) -> torch.Tensor:
    """``networkx.cycle_graph(n)``: node i joined to i + 1 (mod n), both directions stored."""
    _check_int("n", n, 3)
    return _undirected([(i, (i + 1) % n) for i in range(n)])


def path_edge_index(n: int) -> torch.Tensor:
    """``networkx.path_graph(n)``: node i joined to i + 1, both directions stored."""
    _check_int("n", n, 2)
    return _undirected([(i, i + 1) for i in range(n - 1)])


def grid_edge_index(rows: int, cols: int) -> torch.Tensor:
    """``networkx.grid_2d_graph(rows, cols)`` with node ``i·cols + j``, both directions stored."""
    _check_int("rows", rows, 1)
    _check_int("cols", cols, 1)
    pairs = [(i * cols + j, i * cols + j + 1) for i in range(rows) for j in range(cols - 1)]
    pairs += [(i * cols + j, (i + 1) * cols + j) for i in range(rows - 1) for j in range(cols)]
    return _undirected(pairs)


def er_edge_index(n: int, avg_degree: float, seed: int) -> torch.Tensor:
    """Undirected Erdős–Rényi-like graph with about ``avg_degree`` neighbours per node, in O(E).

    Draws ``n·avg_degree/2`` node pairs with replacement and keeps the distinct non-loop ones (so
    the degree is slightly below ``avg_degree``); both directions stored, sorted by pair.
    """
    _check_int("n", n, 2)
    rng = np.random.default_rng(seed)
    m = int(n * avg_degree / 2)
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    keep = src != dst
    key = np.unique(np.minimum(src[keep], dst[keep]) * n + np.maximum(src[keep], dst[keep]))
    e = torch.tensor(np.vstack([key // n, key % n]), dtype=torch.long)
    return torch.cat([e, e.flip(0)], dim=1)


def family_edge_index(family: GraphFamily, n: int, *, seed: int) -> torch.Tensor:
    """A large sparse graph of ``n`` nodes: ``'er'`` (average degree 8) or ``'ring'``.

    Examples:
        >>> family_edge_index("ring", 4, seed=0).shape
        torch.Size([2, 8])
    """
    if family == "er":
        return er_edge_index(n, 8, seed)
    if family == "ring":
        return ring_edge_index(n)
    raise InputError(f"graph: expected one of {GRAPH_FAMILIES}, got {family!r}")


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
    pairs: set[tuple[int, int]] = {(min(i, (i + 1) % m), max(i, (i + 1) % m)) for i in range(m)}
    for i in range(m):
        for j in (m - 1 - i, m + 1 - i):
            if 0 <= j < m and j != i:
                pairs.add((min(i, j), max(i, j)))
    return _undirected(sorted(pairs))


def make_graph_transfer(
    topology: TransferTopology, distance: int, num_graphs: int, *, seed: SeedLike
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
        raise InputError(f"topology: expected one of {TRANSFER_TOPOLOGIES}, got {topology!r}")
    mask = torch.zeros(n, dtype=torch.bool)
    mask[tgt] = True

    def make(rng: np.random.Generator) -> GraphData:
        x = torch.tensor(rng.uniform(0, 1, (n, 1)), dtype=torch.float32)
        x[0], x[tgt] = 1.0, 0.0
        y = x.clone()
        y[0], y[tgt] = 0.0, 1.0
        return GraphData(x, ei, y=y, mask=mask, num_nodes=n)

    return _samples(num_graphs, seed, make)


_GRAPHPROP_TYPES = (
    ("erdos_renyi", 0.20),
    ("barabasi_albert", 0.20),
    ("powerlaw_tree", 0.15),
    ("caterpillar", 0.10),
    ("lobster", 0.10),
    ("grid", 0.05),
    ("caveman", 0.05),
    ("ladder", 0.05),
    ("line", 0.05),
    ("star", 0.05),
)


def _graphprop_graph(kind: str, n: int, rng: np.random.Generator, nx: Any) -> Any:
    """One random graph of the PNA GraphProp families with about ``n`` nodes (networkx)."""
    seed = int(rng.integers(2**31))
    if kind == "erdos_renyi":
        return nx.gnp_random_graph(n, float(rng.uniform()), seed=seed)
    if kind == "barabasi_albert":
        return nx.barabasi_albert_graph(n, int(rng.uniform() * (n - 1)) + 1, seed=seed)
    if kind == "powerlaw_tree":
        try:
            return nx.random_powerlaw_tree(n, gamma=3, seed=seed, tries=10_000)
        except nx.NetworkXError:  # rare: fall back to a uniform random tree
            return nx.random_labeled_tree(n, seed=seed)
    if kind in ("caterpillar", "lobster"):
        # a backbone path, leaves hung on it (and, for lobsters, leaves on the leaves)
        backbone = max(2, int(rng.integers(n // 4, n // 2 + 1)))
        g = nx.path_graph(backbone)
        while g.number_of_nodes() < n:
            new = g.number_of_nodes()
            if kind == "lobster" and new > backbone and rng.uniform() < 0.5:
                parent = int(rng.integers(backbone, new))
            else:
                parent = int(rng.integers(backbone))
            g.add_edge(parent, new)
        return g
    if kind == "grid":
        r = max(2, round(math.sqrt(n)))
        return nx.grid_2d_graph(r, max(2, n // r))
    if kind == "caveman":
        k = max(2, int(rng.integers(2, 6)))
        return nx.connected_caveman_graph(k, max(2, n // k))
    if kind == "ladder":
        return nx.ladder_graph(n // 2)
    if kind == "line":
        return nx.path_graph(n)
    return nx.star_graph(n - 1)


def make_graphprop(
    num_graphs: int, *, task: GraphPropTask, nodes: tuple[int, int] = (25, 34), seed: SeedLike
) -> list[GraphData]:
    """GraphProp (Corso et al., PNA): single-source shortest paths, eccentricity, diameter.

    Graph i: N ~ U{nodes} (grid, caveman and ladder round it down a little); a family drawn
    with the PNA weights (Erdős–Rényi .20 with p ~ U[0, 1], Barabási–Albert .20 with
    m = ⌊U·(N−1)⌋ + 1, power-law tree .15, caterpillar .10, lobster .10, grid, caveman, ladder,
    line and star .05 each); nodes shuffled; each edge kept with probability 0.9 and non-edges
    added so that the expected edge count is unchanged; graphs with
    an isolated node are redrawn. Features: one-hot source indicator and a U[0, 1] scalar.
    Targets (unnormalised; divide by the train maximum): ``'sssp'`` BFS distance from the source
    (0 where unreachable), ``'ecc'`` each node's eccentricity within its connected component,
    ``'diam'`` the largest component diameter (a graph target ``[1, 1]``).

    Our caterpillar/lobster generator hangs leaves on a random backbone (networkx has no
    fixed-size lobster); the PNA code differs in such details, so numbers are not comparable to
    the paper's, only the ordering of models is.
    """
    nx = require_extra("networkx", extra="graphs", package="chebnet-stable")
    if task not in GRAPHPROP_TASKS:
        raise InputError(f"task: expected one of {GRAPHPROP_TASKS}, got {task!r}")
    _check_int("num_graphs", num_graphs, 1)
    lo, hi = nodes
    if not (isinstance(lo, int) and isinstance(hi, int) and 3 <= lo <= hi):
        raise InputError(
            f"nodes: expected (low, high) integers with 3 <= low <= high, got {nodes!r}"
        )
    kinds = [k for k, _ in _GRAPHPROP_TYPES]
    probs = np.array([p for _, p in _GRAPHPROP_TYPES])

    def make(rng: np.random.Generator) -> GraphData:
        while True:
            n = int(rng.integers(lo, hi + 1))
            kind = kinds[int(rng.choice(len(kinds), p=probs / probs.sum()))]
            g = nx.convert_node_labels_to_integers(_graphprop_graph(kind, n, rng, nx))
            n = g.number_of_nodes()
            perm = rng.permutation(n)
            edges = [(int(perm[u]), int(perm[v])) for u, v in g.edges()]
            keep = [e for e in edges if rng.uniform() < 0.9]
            m, pairs = len(edges), n * (n - 1) // 2
            q = 0.1 * m / max(pairs - m, 1)
            present = {tuple(sorted(e)) for e in edges}
            iu = np.triu_indices(n, 1)
            add = [
                (int(a), int(b))
                for a, b in zip(*iu, strict=True)
                if (int(a), int(b)) not in present and rng.uniform() < q
            ]
            h = nx.Graph()
            h.add_nodes_from(range(n))
            h.add_edges_from(keep + add)
            if min(dict(h.degree()).values()) > 0:
                break
        source = int(rng.integers(n))
        x = torch.zeros(n, 2)
        x[source, 0] = 1.0
        x[:, 1] = torch.tensor(rng.uniform(0, 1, n), dtype=torch.float32)
        if task == "sssp":
            dist = nx.single_source_shortest_path_length(h, source)
            y = torch.tensor([float(dist.get(v, 0)) for v in range(n)]).unsqueeze(1)
        else:
            ecc = torch.zeros(n)
            for comp in nx.connected_components(h):
                for v, e in nx.eccentricity(h.subgraph(comp)).items():
                    ecc[v] = float(e)
            y = ecc.unsqueeze(1) if task == "ecc" else ecc.max().reshape(1, 1)
        e = torch.tensor(list(h.edges()), dtype=torch.long).reshape(-1, 2).t()
        return GraphData(x, torch.cat([e, e.flip(0)], dim=1), y=y, num_nodes=n)

    return _samples(num_graphs, seed, make)
