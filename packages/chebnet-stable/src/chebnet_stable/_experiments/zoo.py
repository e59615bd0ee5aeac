"""The models every trained study runs side by side, and how each is trained.

Every trained study (barbell, ring, transfer, GraphProp) runs MLP, GCN and A-DGN beside ChebNet
and Stable-ChebNet (spec §5). Models are identified by a stable :data:`ModelId`; tables show its
:data:`LABELS` entry and claims read measured values by id.
"""

from __future__ import annotations

import functools
import math
import typing
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from sciml_core.cli import progress

from .._baselines import ADGN, GCN, MLP
from .._graph import GraphData, collate
from .._models import ChebNet, Readout, StableChebNet
from .._train import TaskType, TrainResult, train_model

__all__ = [
    "LABELS",
    "MODEL_IDS",
    "ModelId",
    "ZooTask",
    "fit",
    "model_zoo",
    "sci",
    "summarise",
    "target_mse",
    "train_all",
]

ModelId = Literal[
    "mlp",
    "gcn",
    "adgn",
    "chebnet",
    "chebnet-1-layer",
    "chebnet-4-layers",
    "stable-chebnet",
    "stable-chebnet-cayley",
]
"""Stable ids of the compared models (``chebnet-*-layers``: the two ChebNets of transfer)."""
MODEL_IDS: tuple[ModelId, ...] = typing.get_args(ModelId)
LABELS: dict[ModelId, str] = {
    "mlp": "MLP",
    "gcn": "GCN",
    "adgn": "A-DGN",
    "chebnet": "ChebNet",
    "chebnet-1-layer": "ChebNet (1 layer)",
    "chebnet-4-layers": "ChebNet (4 layers)",
    "stable-chebnet": "Stable-ChebNet",
    "stable-chebnet-cayley": "Stable-ChebNet, Cayley step (ours)",
}
"""How each model is named in tables and figures."""
ZooTask = Literal["barbell", "ring", "transfer", "graphprop"]
"""The trained studies; each has its own zoo (depths and K follow the task's range)."""

ModelFactory = Callable[[], nn.Module]


def model_zoo(
    task: ZooTask,
    n: int,
    in_ch: int,
    out_ch: int,
    hidden: int,
    *,
    readout: Readout = "node",
    K: int | None = None,
    depth: int | None = None,
    cayley: bool = True,
) -> dict[ModelId, ModelFactory]:
    """Constructors of the task's models, in table order (built on call: seed first).

    ``reproduce`` uses the task's settings; ``chebnet-stable train`` uses the same ones by
    default, so its models are the reproduction's, and ``--K``/``--steps`` override them.

    Args:
        task: the study.
        n: barbell clique size (unused: K = 10), ring size, or transfer distance.
        in_ch: input features.
        out_ch: outputs per node (per graph with ``readout='graph'``).
        hidden: hidden width.
        readout: ``'graph'`` for GraphProp's diameter.
        K: Chebyshev terms of every ChebNet and Stable-ChebNet (default: the task's).
        depth: layers or steps of every multi-layer model (default: the task's; the one-layer
            ChebNet of ``transfer`` stays one layer).
        cayley: include ``'stable-chebnet-cayley'`` (Stable-ChebNet with the Cayley step, ours).

    Returns:
        ``{model id: constructor}``.
    """
    zoo = _zoo(task, n, in_ch, out_ch, hidden, readout=readout, K=K, depth=depth)
    if cayley:
        stable = zoo["stable-chebnet"]
        if not isinstance(stable, functools.partial):
            raise TypeError(f"model_zoo: the {task} zoo's Stable-ChebNet must be a partial")
        # the same Stable-ChebNet with the Cayley step: only the integrator differs
        zoo["stable-chebnet-cayley"] = functools.partial(stable, integrator="cayley")
    return zoo


def _zoo(
    task: ZooTask,
    n: int,
    in_ch: int,
    out_ch: int,
    hidden: int,
    *,
    readout: Readout,
    K: int | None,
    depth: int | None,
) -> dict[ModelId, ModelFactory]:

    def k(default: int) -> int:
        return default if K is None else K

    def deep(default: int) -> int:
        return default if depth is None else depth

    if task == "barbell":
        return {
            "mlp": lambda: MLP(in_ch, hidden, out_ch),
            "gcn": lambda: GCN(in_ch, hidden, out_ch, num_layers=deep(4)),
            "adgn": lambda: ADGN(in_ch, hidden, out_ch, steps=deep(4)),
            "chebnet": lambda: ChebNet(in_ch, hidden, out_ch, K=k(10), num_layers=deep(4)),
            "stable-chebnet": functools.partial(
                StableChebNet,
                in_ch,
                hidden,
                out_ch,
                K=k(10),
                steps=deep(4),
                epsilon=0.3,
                gamma=0.0,
                act="relu",
            ),
        }
    if task == "transfer":  # n is the source-target distance
        k4 = math.ceil(n / 4) + 1
        return {
            "mlp": lambda: MLP(in_ch, hidden, out_ch),
            "gcn": lambda: GCN(in_ch, hidden, out_ch, num_layers=deep(n)),
            "adgn": lambda: ADGN(in_ch, hidden, out_ch, steps=deep(n)),
            "chebnet-1-layer": lambda: ChebNet(in_ch, hidden, out_ch, K=k(n + 1), num_layers=1),
            "chebnet-4-layers": lambda: ChebNet(in_ch, hidden, out_ch, K=k(k4), num_layers=deep(4)),
            "stable-chebnet": functools.partial(
                StableChebNet,
                in_ch,
                hidden,
                out_ch,
                K=k(k4),
                steps=deep(4),
                epsilon=0.3,
                act="tanh",
            ),
        }
    if task == "graphprop":
        ro = readout
        return {
            "mlp": lambda: MLP(in_ch, hidden, out_ch, readout=ro),
            "gcn": lambda: GCN(in_ch, hidden, out_ch, num_layers=deep(4), readout=ro),
            "adgn": lambda: ADGN(in_ch, hidden, out_ch, steps=deep(4), readout=ro),
            "chebnet": lambda: ChebNet(
                in_ch, hidden, out_ch, K=k(4), num_layers=deep(5), readout=ro
            ),
            "stable-chebnet": functools.partial(
                StableChebNet,
                in_ch,
                hidden,
                out_ch,
                K=k(4),
                steps=deep(5),
                epsilon=0.7,
                gamma=0.01,
                act="tanh",
                readout=ro,
            ),
        }
    if task == "ring":
        return {
            "mlp": lambda: MLP(in_ch, hidden, out_ch),
            "gcn": lambda: GCN(in_ch, hidden, out_ch, num_layers=deep(n // 2)),
            "adgn": lambda: ADGN(in_ch, hidden, out_ch, steps=deep(n // 2)),
            "chebnet": lambda: ChebNet(in_ch, hidden, out_ch, K=k(n // 2 + 1), num_layers=deep(1)),
            "stable-chebnet": functools.partial(
                StableChebNet,
                in_ch,
                hidden,
                out_ch,
                K=k(math.ceil(n / 4) + 1),
                steps=deep(2),
                epsilon=0.3,
                act="tanh",
            ),
        }
    raise ValueError(f"model_zoo: unknown task {task!r}")


def fit(
    make: ModelFactory,
    splits: Sequence[Sequence[GraphData]],
    *,
    task_type: TaskType,
    epochs: int,
    lr: float,
    seed: int,
    weight_decay: float = 0.0,
    patience: int | None = None,
) -> tuple[nn.Module, TrainResult]:
    """Seed torch with ``seed``, build the model, train it for ``epochs`` (no wall-clock budget).

    Returns:
        The model (at its best validation epoch) and :func:`train_model`'s metrics.
    """
    torch.manual_seed(seed)
    model = make()
    result = train_model(
        model,
        *splits,
        task_type=task_type,
        epochs=epochs,
        lr=lr,
        weight_decay=weight_decay,
        seed=seed,
        patience=patience,
    )
    return model, result


def train_all(
    task: ZooTask,
    n: int,
    splits: Sequence[Sequence[GraphData]],
    *,
    task_type: TaskType,
    in_ch: int,
    out_ch: int,
    hidden: int,
    epochs: int,
    lr: float,
    seeds: Sequence[int],
    cayley: bool = True,
) -> dict[ModelId, list[dict[str, Any]]]:
    """Train every model of the task's zoo (``cayley``: with the Cayley-step model) for exactly
    ``epochs`` epochs per seed.

    No wall-clock budget: the same seed gives the same numbers whatever the machine load, and a
    slower model is not handicapped with fewer epochs.

    Returns:
        ``{model id: [metrics per seed]}`` (metrics without the state dict).
    """
    zoo = model_zoo(task, n, in_ch, out_ch, hidden, cayley=cayley)
    results: dict[ModelId, list[dict[str, Any]]] = {name: [] for name in zoo}
    for s in seeds:
        for name, make in progress(list(zoo.items()), desc=f"{task} n={n} seed={s}"):
            _, r = fit(make, splits, task_type=task_type, epochs=epochs, lr=lr, seed=s)
            r.pop("state")
            results[name].append(dict(r))
    return results


def summarise(vals: Sequence[float]) -> tuple[float, float]:
    """Mean and (population) standard deviation."""
    arr = np.asarray(vals, dtype=float)
    return float(arr.mean()), float(arr.std())


def target_mse(model: nn.Module, graphs: Sequence[GraphData]) -> float:
    """MSE at the masked (target) node of every graph."""
    model.eval()
    b = collate(list(graphs))
    assert b.y is not None and b.mask is not None
    with torch.no_grad():
        out = model(b.x, b)
    return float(((out - b.y)[b.mask] ** 2).mean())


def sci(x: float) -> str:
    """``1e-2`` for 0.01, ``3e-3`` for 0.003: how the table titles write learning rates."""
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"
