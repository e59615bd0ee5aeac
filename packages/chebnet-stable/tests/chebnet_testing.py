"""Graph helpers shared by the tests (tests/ is on pytest's pythonpath)."""

import networkx as nx
import torch


def er_edge_index(n: int, p: float, seed: int) -> torch.Tensor:
    """Undirected Erdős–Rényi graph (both directions stored, no self-loops)."""
    g = nx.gnp_random_graph(n, p, seed=seed)
    return nx_edge_index(g)


def nx_edge_index(g) -> torch.Tensor:
    e = torch.tensor(list(g.edges()), dtype=torch.long).reshape(-1, 2).t()
    return torch.cat([e, e.flip(0)], dim=1)
