"""Baselines run side by side in ``reproduce``: MLP, GCN and an antisymmetric DGN (A-DGN form)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ._cheb_conv import as_laplacian
from ._laplacian import ScaledLaplacian, _csr
from ._models import Activation, Readout, _Head, activation
from ._stable_conv import StableChebConv

__all__ = ["ADGN", "GCN", "MLP", "gcn_operator"]


def gcn_operator(lap: ScaledLaplacian) -> Tensor:
    r"""Kipf–Welling propagation :math:`\tilde D^{-1/2}(A + I)\tilde D^{-1/2}`, sparse CSR.

    Built (once, then cached on ``lap``) from the graph ``lap`` holds, in its dtype and device.
    """
    cached = lap.__dict__.get("_gcn")
    if cached is not None:
        return cached
    base = lap.laplacian
    n, w = base.num_nodes, base.weight
    deg = torch.ones(n, dtype=torch.float64, device=w.device).index_add_(0, base.src, w)
    dis = deg.rsqrt()
    ar = torch.arange(n, device=w.device)
    rows = torch.cat([base.dst, ar])
    cols = torch.cat([base.src, ar])
    vals = torch.cat([dis[base.dst] * w * dis[base.src], dis * dis])
    op = _csr(rows, cols, vals.to(lap.dtype), n).to(lap.device)
    lap.__dict__["_gcn"] = op
    return op


class MLP(nn.Module):
    """Per-node MLP that ignores the graph (the no-propagation baseline)."""

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        *,
        num_layers: int = 2,
        act: Activation = "relu",
        readout: Readout = "node",
    ) -> None:
        super().__init__()
        self.config = {
            "model": "mlp",
            "in_channels": in_channels,
            "hidden_channels": hidden_channels,
            "out_channels": out_channels,
            "num_layers": num_layers,
            "act": act,
            "readout": readout,
        }
        self.act = activation(act)
        self.lins = nn.ModuleList(
            nn.Linear(in_channels if i == 0 else hidden_channels, hidden_channels)
            for i in range(num_layers)
        )
        self.head = _Head(hidden_channels, out_channels, readout, self.act)

    def forward(self, x: Tensor, graph: Any, *, batch: Tensor | None = None) -> Tensor:
        """The per-node MLP (the graph is used only by a ``'graph'`` readout's pooling).

        Shapes:
            x: ``[N, in_channels]``; batch: ``[N]``; output: ``[N, out_channels]`` (node readout)
            or ``[num_graphs, out_channels]`` (graph readout).
        """
        lap = as_laplacian(graph, x, normalization="sym", batch=batch)
        h = x
        for lin in self.lins:
            h = self.act(lin(h))
        return self.head(h, lap)


class GCN(nn.Module):
    r"""Kipf & Welling's GCN: ``num_layers`` × (:math:`\hat A H W + b` → act) → head."""

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        *,
        num_layers: int,
        act: Activation = "relu",
        readout: Readout = "node",
    ) -> None:
        super().__init__()
        self.config = {
            "model": "gcn",
            "in_channels": in_channels,
            "hidden_channels": hidden_channels,
            "out_channels": out_channels,
            "num_layers": num_layers,
            "act": act,
            "readout": readout,
        }
        self.act = activation(act)
        self.lins = nn.ModuleList(
            nn.Linear(in_channels if i == 0 else hidden_channels, hidden_channels)
            for i in range(num_layers)
        )
        self.head = _Head(hidden_channels, out_channels, readout, self.act)

    def forward(self, x: Tensor, graph: Any, *, batch: Tensor | None = None) -> Tensor:
        """``num_layers`` GCN layers, then the head.

        Shapes:
            x: ``[N, in_channels]``; batch: ``[N]``; output: ``[N, out_channels]`` (node readout)
            or ``[num_graphs, out_channels]`` (graph readout).
        """
        lap = as_laplacian(graph, x, normalization="sym", batch=batch)
        a_hat = gcn_operator(lap)
        h = x
        for lin in self.lins:
            h = self.act(torch.sparse.mm(a_hat, lin(h)))
        return self.head(h, lap)


class ADGN(nn.Module):
    r"""Antisymmetric DGN baseline in A-DGN's form, built from :class:`StableChebConv`.

    :math:`X \leftarrow X + \varepsilon\tanh(\sum_{k<2} T_k(\hat L)X(A_k - \gamma\delta_{k0}I) + b)`
    with K = 2 (self and one hop), one set of weights shared by all steps, ε = γ = 0.1 (PyG
    ``AntiSymmetricConv``'s defaults). Unlike A-DGN, the neighbour weight is antisymmetric too.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        *,
        steps: int,
        epsilon: float = 0.1,
        gamma: float = 0.1,
        readout: Readout = "node",
    ) -> None:
        super().__init__()
        self.config = {
            "model": "adgn",
            "in_channels": in_channels,
            "hidden_channels": hidden_channels,
            "out_channels": out_channels,
            "steps": steps,
            "epsilon": epsilon,
            "gamma": gamma,
            "readout": readout,
        }
        self.steps = steps
        self.encoder = nn.Linear(in_channels, hidden_channels)
        self.conv = StableChebConv(
            hidden_channels,
            2,
            epsilon=epsilon,
            gamma=gamma,
            damping="identity",
            param="full",
            inner_act=torch.tanh,
        )
        self.head = _Head(hidden_channels, out_channels, readout, torch.relu)

    def forward(self, x: Tensor, graph: Any, *, batch: Tensor | None = None) -> Tensor:
        """Encoder, ``steps`` shared antisymmetric steps, head.

        Shapes:
            x: ``[N, in_channels]``; batch: ``[N]``; output: ``[N, out_channels]`` (node readout)
            or ``[num_graphs, out_channels]`` (graph readout).
        """
        lap = as_laplacian(graph, x, normalization="sym", batch=batch)
        h = self.encoder(x)
        for _ in range(self.steps):
            h = self.conv(h, lap)
        return self.head(h, lap)
