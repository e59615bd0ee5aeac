"""Models for node- and graph-level tasks: ChebNet, Stable-ChebNet, and the official presets."""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Literal

import torch
from torch import Tensor, nn

from sciml_core import InputError

from ._cheb_conv import ChebConv, Init, as_laplacian
from ._laplacian import Normalization, ScaledLaplacian
from ._stable_conv import Damping, EpsilonScaling, Integrator, StableChebConv

__all__ = [
    "ACTIVATIONS",
    "PRESETS",
    "READOUTS",
    "Activation",
    "ChebNet",
    "Readout",
    "StableChebNet",
    "activation",
    "graph_readout",
]

Activation = Literal["relu", "tanh", "silu", "identity"]
"""The activations a model applies between layers (after each Euler step)."""
ACTIVATIONS: tuple[Activation, ...] = typing.get_args(Activation)
_ACTS: dict[Activation, Callable[[Tensor], Tensor]] = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "silu": nn.functional.silu,
    "identity": lambda t: t,
}
Readout = Literal["node", "graph"]
"""``'node'``: a linear head per node; ``'graph'``: add/max/mean pooling, then an MLP."""
READOUTS: tuple[Readout, ...] = typing.get_args(Readout)


def activation(name: Activation) -> Callable[[Tensor], Tensor]:
    """The activation called ``name`` (``relu``, ``tanh``, ``silu``, ``identity``)."""
    if name not in _ACTS:
        raise InputError(f"act: expected one of {ACTIVATIONS}, got {name!r}")
    return _ACTS[name]


def _check_int(name: str, value: Any, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InputError(f"{name}: expected an integer >= {low}, got {value!r}")


def graph_readout(h: Tensor, batch: Tensor | None, num_graphs: int) -> Tensor:
    """Concatenated add, max and mean pooling per graph: ``[N, F]`` -> ``[num_graphs, 3F]``."""
    if batch is None:
        batch = torch.zeros(h.shape[0], dtype=torch.long, device=h.device)
    f = h.shape[1]
    idx = batch.unsqueeze(1).expand(-1, f)
    add = torch.zeros(num_graphs, f, dtype=h.dtype, device=h.device).scatter_add(0, idx, h)
    mx = torch.full((num_graphs, f), -torch.inf, dtype=h.dtype, device=h.device)
    mx = mx.scatter_reduce(0, idx, h, reduce="amax", include_self=True)
    count = torch.bincount(batch, minlength=num_graphs).clamp_min(1).to(h.dtype)
    return torch.cat([add, mx, add / count.unsqueeze(1)], dim=1)


class _Head(nn.Module):
    def __init__(
        self, hidden: int, out: int, readout: Readout, act: Callable[[Tensor], Tensor]
    ) -> None:
        super().__init__()
        if readout not in READOUTS:
            raise InputError(f"readout: expected one of {READOUTS}, got {readout!r}")
        self.readout, self.act = readout, act
        if readout == "node":
            self.lin = nn.Linear(hidden, out)
        else:
            self.lin1 = nn.Linear(3 * hidden, hidden)
            self.lin = nn.Linear(hidden, out)

    def forward(self, h: Tensor, lap: ScaledLaplacian) -> Tensor:
        """Per-node linear head, or pooling per graph then a two-layer MLP.

        Shapes:
            h: ``[N, hidden]``; output: ``[N, out]`` (node) or ``[num_graphs, out]`` (graph).
        """
        if self.readout == "node":
            return self.lin(h)
        pooled = graph_readout(h, lap.batch, lap.num_graphs)
        return self.lin(self.act(self.lin1(pooled)))


class ChebNet(nn.Module):
    r"""A stack of :class:`ChebConv` layers: ``num_layers`` × (ChebConv → act → dropout) → head.

    The Laplacian is built once per forward (or passed in, cached) and shared by every layer.

    Args:
        in_channels, hidden_channels, out_channels: feature sizes.
        K: Chebyshev terms per layer (K − 1 hops each).
        num_layers: number of ChebConv layers.
        act: ``'relu'``, ``'tanh'``, ``'silu'`` or ``'identity'``.
        dropout: dropout after every layer.
        readout: ``'node'`` (a linear head per node) or ``'graph'`` (add/max/mean pooling + MLP).
        normalization: Laplacian normalisation.
        init: ``'glorot'`` or ``'variance_preserving'``.
        memory_efficient: the recomputing backward in every layer.

    Shapes:
        x ``[N, in]`` -> ``[N, out]`` (node) or ``[num_graphs, out]`` (graph).

    Examples:
        >>> net = ChebNet(3, 8, 2, K=4, num_layers=2)
        >>> ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> net(torch.randn(3, 3), ei).shape
        torch.Size([3, 2])
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        *,
        K: int,
        num_layers: int,
        act: Activation = "relu",
        dropout: float = 0.0,
        readout: Readout = "node",
        normalization: Normalization | None = "sym",
        init: Init = "glorot",
        memory_efficient: bool = False,
    ) -> None:
        super().__init__()
        _check_int("num_layers", num_layers)
        self.config = {
            "model": "chebnet",
            "in_channels": in_channels,
            "hidden_channels": hidden_channels,
            "out_channels": out_channels,
            "K": K,
            "num_layers": num_layers,
            "act": act,
            "dropout": dropout,
            "readout": readout,
            "normalization": normalization,
            "init": init,
        }
        self.act = activation(act)
        self.dropout = float(dropout)
        self.normalization = normalization
        self.convs = nn.ModuleList(
            ChebConv(
                in_channels if i == 0 else hidden_channels,
                hidden_channels,
                K,
                normalization=normalization,
                init=init,
                memory_efficient=memory_efficient,
            )
            for i in range(num_layers)
        )
        self.head = _Head(hidden_channels, out_channels, readout, self.act)

    def forward(
        self, x: Tensor, graph: Any, *, batch: Tensor | None = None, lambda_max: Any = None
    ) -> Tensor:
        """``num_layers`` × (ChebConv → act → dropout), then the head; one Laplacian for all.

        Shapes:
            x: ``[N, in_channels]``; batch: ``[N]``; output: ``[N, out_channels]`` (node readout)
            or ``[num_graphs, out_channels]`` (graph readout).
        """
        lap = as_laplacian(
            graph, x, normalization=self.normalization, batch=batch, lambda_max=lambda_max
        )
        h = x
        for conv in self.convs:
            h = nn.functional.dropout(self.act(conv(h, lap)), self.dropout, self.training)
        return self.head(h, lap)


class StableChebNet(nn.Module):
    r"""Stable-ChebNet: encoder → ``steps`` × (:class:`StableChebConv` → act → dropout) → head.

    Each step is :math:`X \leftarrow \sigma(X + \varepsilon[\sum_k T_k(\hat L)X(A_k - \gamma c_kI)
    + b])`
    (paper eq. 9, activation after the step as in the authors' models), with separate weights per
    step unless ``share_weights``.

    Args:
        in_channels, hidden_channels, out_channels: feature sizes (the ODE runs at ``hidden``).
        K: Chebyshev terms.
        steps: Euler steps (layers).
        epsilon: step ε.
        gamma: dissipation γ.
        damping: ``'per_order'`` (official), ``'identity'`` or ``'fejer'``.
        share_weights: one StableChebConv for all steps.
        act: activation after each step.
        dropout: dropout after each step.
        readout: ``'node'`` or ``'graph'``.
        init: ``'glorot'`` or ``'variance_preserving'``.
        epsilon_scaling: ``'none'`` or ``'inv_sqrt_K'``.
        memory_efficient: the recomputing backward in every step.
        integrator: ``'euler'`` (the paper's) or ``'cayley'`` (norm-preserving linear part, see
            :class:`StableChebConv`; beyond the paper).

    Examples:
        >>> net = StableChebNet(3, 8, 1, K=4, steps=3, epsilon=0.3)
        >>> ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> net(torch.randn(3, 3), ei).shape
        torch.Size([3, 1])
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        *,
        K: int,
        steps: int,
        epsilon: float,
        gamma: float = 0.0,
        damping: Damping = "per_order",
        share_weights: bool = False,
        act: Activation = "tanh",
        dropout: float = 0.0,
        readout: Readout = "node",
        init: Init = "glorot",
        epsilon_scaling: EpsilonScaling = "none",
        memory_efficient: bool = False,
        integrator: Integrator = "euler",
    ) -> None:
        super().__init__()
        _check_int("steps", steps)
        self.config = {
            "model": "stable-chebnet",
            "in_channels": in_channels,
            "hidden_channels": hidden_channels,
            "out_channels": out_channels,
            "K": K,
            "steps": steps,
            "epsilon": epsilon,
            "gamma": gamma,
            "damping": damping,
            "share_weights": share_weights,
            "act": act,
            "dropout": dropout,
            "readout": readout,
            "init": init,
            "epsilon_scaling": epsilon_scaling,
            "integrator": integrator,
        }
        self.act = activation(act)
        self.dropout = float(dropout)
        self.encoder = nn.Linear(in_channels, hidden_channels)

        def make() -> StableChebConv:
            return StableChebConv(
                hidden_channels,
                K,
                epsilon=epsilon,
                gamma=gamma,
                damping=damping,
                init=init,
                epsilon_scaling=epsilon_scaling,
                memory_efficient=memory_efficient,
                integrator=integrator,
            )

        shared = make() if share_weights else None
        self.convs = nn.ModuleList(shared if shared is not None else make() for _ in range(steps))
        self.head = _Head(hidden_channels, out_channels, readout, self.act)

    def encode(self, x: Tensor) -> Tensor:
        """The linear encoder: ``[N, in_channels]`` -> ``[N, hidden_channels]``."""
        return self.encoder(x)

    def propagate(self, h: Tensor, lap: ScaledLaplacian) -> Tensor:
        """The ``steps`` Euler steps (with activation and dropout) on hidden features."""
        for conv in self.convs:
            h = nn.functional.dropout(self.act(conv(h, lap)), self.dropout, self.training)
        return h

    def forward(
        self, x: Tensor, graph: Any, *, batch: Tensor | None = None, lambda_max: Any = None
    ) -> Tensor:
        """Encoder, ``steps`` Euler steps (each followed by act and dropout), head.

        Shapes:
            x: ``[N, in_channels]``; batch: ``[N]``; output: ``[N, out_channels]`` (node readout)
            or ``[num_graphs, out_channels]`` (graph readout).
        """
        lap = as_laplacian(graph, x, normalization="sym", batch=batch, lambda_max=lambda_max)
        return self.head(self.propagate(self.encode(x), lap), lap)

    @classmethod
    def from_preset(
        cls, name: str, in_channels: int, out_channels: int, **overrides: Any
    ) -> StableChebNet:
        """A model with the official settings of :data:`PRESETS` (``overrides`` win)."""
        if name not in PRESETS:
            raise InputError(f"name: expected one of {sorted(PRESETS)}, got {name!r}")
        cfg = {k: v for k, v in PRESETS[name].items() if k in _MODEL_KEYS}
        cfg.update(overrides)
        hidden = cfg.pop("hidden_channels")
        return cls(in_channels, hidden, out_channels, **cfg)


_MODEL_KEYS = {
    "hidden_channels",
    "K",
    "steps",
    "epsilon",
    "gamma",
    "act",
    "dropout",
    "readout",
    "damping",
    "init",
    "epsilon_scaling",
    "integrator",
}

#: Official settings from the authors' configs (commit 7d7a7e2 of ahariri13/Stable-ChebNet).
PRESETS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "peptides-func": MappingProxyType(
            {
                "hidden_channels": 145,
                "steps": 3,
                "K": 10,
                "epsilon": 0.45,
                "gamma": 0.1,
                "act": "silu",
                "dropout": 0.15,
                "readout": "graph",
                "lr": 1e-3,
                "epochs": 200,
            }
        ),
        "peptides-struct": MappingProxyType(
            {
                "hidden_channels": 150,
                "steps": 3,
                "K": 8,
                "epsilon": 0.3,
                "gamma": 0.005,
                "act": "silu",
                "readout": "graph",
                "lr": 5e-3,
                "epochs": 350,
            }
        ),
        "graphprop": MappingProxyType(
            {
                "hidden_channels": 40,
                "steps": 5,
                "K": 4,
                "epsilon": 0.7,
                "gamma": 0.01,
                "act": "tanh",
                "lr": 3e-3,
                "weight_decay": 1e-6,
                "epochs": 1500,
            }
        ),
        "barbell": MappingProxyType(
            {
                "hidden_channels": 128,
                "steps": 4,
                "K": 20,
                "epsilon": 0.3,
                "gamma": 0.0,
                "act": "relu",
                "lr": 1e-3,
                "epochs": 600,
            }
        ),
        "ogbn-proteins": MappingProxyType(
            {
                "hidden_channels": 50,
                "steps": 4,
                "K": 7,
                "epsilon": 0.3,
                "gamma": 0.01,
                "act": "tanh",
                "dropout": 0.1,
                "lr": 1e-3,
                "epochs": 350,
            }
        ),
        # our large-K preset: ε/√K keeps the per-step gain √(1 + ε²ω²) bounded as K grows
        "large-k": MappingProxyType(
            {
                "hidden_channels": 64,
                "steps": 8,
                "K": 128,
                "epsilon": 0.5,
                "gamma": 0.0,
                "act": "tanh",
                "init": "variance_preserving",
                "epsilon_scaling": "inv_sqrt_K",
                "lr": 1e-3,
                "epochs": 200,
            }
        ),
    }
)
