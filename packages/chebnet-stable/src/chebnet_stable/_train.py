"""A small, deterministic training loop for the synthetic tasks (best-validation selection)."""

from __future__ import annotations

import itertools
import math
import time
import typing
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor, nn

from sciml_core import InputError, resolve_device
from sciml_core.cli import progress

from ._graph import GraphData, collate
from ._laplacian import ScaledLaplacian

__all__ = [
    "TASK_TYPES",
    "TRAIN_MODELS",
    "TRAIN_TASKS",
    "TaskType",
    "TrainModel",
    "TrainResult",
    "TrainTask",
    "file_splits",
    "train_model",
]

TaskType = Literal["regression", "classification"]
"""MSE loss and metric, or cross-entropy loss with accuracy."""
TASK_TYPES: tuple[TaskType, ...] = typing.get_args(TaskType)
TrainTask = Literal[
    "barbell", "ring", "transfer", "graphprop-sssp", "graphprop-ecc", "graphprop-diam", "file"
]
"""The tasks of ``chebnet-stable train`` (``'file'``: graphs from ``--data``)."""
TRAIN_TASKS: tuple[TrainTask, ...] = typing.get_args(TrainTask)
TrainModel = Literal["stable-chebnet", "stable-chebnet-cayley", "chebnet", "gcn", "adgn", "mlp"]
"""The models of ``chebnet-stable train``."""
TRAIN_MODELS: tuple[TrainModel, ...] = typing.get_args(TrainModel)


class TrainResult(dict[str, Any]):
    """Metrics at the best validation epoch: ``train``, ``val``, ``test``, ``best_epoch``,
    ``epochs``, ``wall_s`` (and the trained ``state_dict`` under ``state``, not serialised)."""


class _Batches:
    """Mini-batches of graphs; when every graph has the same topology the batched Laplacian of a
    given batch size is built once and reused (it does not depend on which samples are drawn)."""

    def __init__(self, graphs: Sequence[GraphData], *, shared: bool, device: torch.device) -> None:
        self.graphs = list(graphs)
        self.shared = shared
        self.device = device
        self._laps: dict[int, ScaledLaplacian] = {}

    def lap(self, batch: GraphData, size: int) -> ScaledLaplacian:
        if self.shared and size in self._laps:
            return self._laps[size]
        lap = ScaledLaplacian.from_graph(batch).to(self.device)
        if self.shared:
            self._laps[size] = lap
        return lap

    def iterate(
        self, batch_size: int, order: np.ndarray | None = None
    ) -> Iterator[tuple[GraphData, ScaledLaplacian]]:
        idx = np.arange(len(self.graphs)) if order is None else order
        for start in range(0, len(idx), batch_size):
            chunk = [self.graphs[i] for i in idx[start : start + batch_size]]
            batch = collate(chunk)
            yield batch.to(self.device), self.lap(batch, len(chunk))


def _cpu_state(model: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _same_topology(graphs: Sequence[GraphData]) -> bool:
    first = graphs[0]
    return all(g.num_nodes == first.num_nodes and g.edge_index is first.edge_index for g in graphs)


def _loss_and_metric(
    out: Tensor, batch: GraphData, task_type: TaskType
) -> tuple[Tensor, float, int]:
    assert batch.y is not None
    if batch.mask is not None and out.shape[0] == batch.mask.shape[0]:
        out = out[batch.mask]
        y = batch.y if batch.y.shape[0] == out.shape[0] else batch.y[batch.mask]
    else:
        y = batch.y
    if task_type == "classification":
        y = y.reshape(-1).long()
        loss = nn.functional.cross_entropy(out, y)
        correct = float((out.argmax(1) == y).sum())
        return loss, correct, int(y.numel())
    y = y.reshape(out.shape).to(out.dtype)
    loss = nn.functional.mse_loss(out, y)
    return loss, float(loss.detach()) * y.numel(), int(y.numel())


def _evaluate(model: nn.Module, data: _Batches, task_type: TaskType, batch_size: int) -> float:
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch, lap in data.iterate(batch_size):
            assert batch.x is not None
            _, m, c = _loss_and_metric(model(batch.x, lap), batch, task_type)
            total, count = total + m, count + c
    return total / max(count, 1)


def train_model(
    model: nn.Module,
    train: Sequence[GraphData],
    val: Sequence[GraphData],
    test: Sequence[GraphData],
    *,
    task_type: TaskType,
    epochs: int,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    batch_size: int = 64,
    seed: int = 0,
    patience: int | None = None,
    time_budget_s: float | None = None,
    device: torch.device | str = "cpu",
    show_progress: bool = False,
) -> TrainResult:
    """Adam on mini-batches; returns train/val/test metrics at the best validation epoch.

    The metric is MSE for ``'regression'`` (lower is better) and accuracy for
    ``'classification'`` (higher is better); the loss is MSE or cross-entropy, read at ``mask``
    nodes when graphs carry a mask. ``time_budget_s`` (an explicit opt-in, default off) stops early
    once that many seconds have passed (recorded as ``epochs``); results then depend on machine
    load, so ``reproduce`` never uses it and trains every model for a fixed number of epochs.
    The model is moved to ``device`` and every batch with it. ``show_progress`` shows a bar over
    epochs on stderr (:func:`sciml_core.cli.progress`, silenced by ``--quiet``).
    """
    if task_type not in TASK_TYPES:
        raise InputError(f"task_type: expected one of {TASK_TYPES}, got {task_type!r}")
    if not train or not val or not test:
        raise InputError("train/val/test: every split needs at least one graph")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise InputError(f"epochs: expected an integer >= 1, got {epochs!r}")
    if not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
        raise InputError(f"lr: expected a finite number > 0, got {lr!r}")
    dev = resolve_device(device)
    start = time.perf_counter()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model.to(dev)
    data = {
        name: _Batches(split, shared=_same_topology(split), device=dev)
        for name, split in (("train", train), ("val", val), ("test", test))
    }
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    better = (lambda a, b: a < b) if task_type == "regression" else (lambda a, b: a > b)
    best_val = math.inf if task_type == "regression" else -math.inf
    best_state = _cpu_state(model)
    best_epoch, since, ran = 0, 0, 0
    bar = progress(total=epochs, desc="train", unit="epoch", disable=not show_progress)
    for epoch in range(1, epochs + 1):
        model.train()
        for batch, lap in data["train"].iterate(batch_size, rng.permutation(len(train))):
            assert batch.x is not None
            loss, _, _ = _loss_and_metric(model(batch.x, lap), batch, task_type)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        ran = epoch
        v = _evaluate(model, data["val"], task_type, batch_size)
        if better(v, best_val):
            best_val, best_epoch, since = v, epoch, 0
            best_state = _cpu_state(model)
        else:
            since += 1
        bar.update()
        bar.set_postfix(val=f"{v:.4g}", best=f"{best_val:.4g}", refresh=False)
        if patience is not None and since >= patience:
            break
        if time_budget_s is not None and time.perf_counter() - start > time_budget_s:
            break
    bar.close()
    model.load_state_dict(best_state)
    result = TrainResult(
        train=_evaluate(model, data["train"], task_type, batch_size),
        val=best_val,
        test=_evaluate(model, data["test"], task_type, batch_size),
        best_epoch=best_epoch,
        epochs=ran,
        wall_s=time.perf_counter() - start,
    )
    result["state"] = best_state
    return result


def _labels(g: GraphData) -> Tensor:
    assert g.y is not None
    return g.y


def file_splits(path: Any, seed: int) -> tuple[list[list[GraphData]], TaskType, int, int, str]:
    """Train/val/test from a graph file (``train --task file --data PATH``).

    Graphs 80/10/10 in file order; for a single graph the file's own ``train_mask``/
    ``val_mask``/``test_mask`` (see :func:`~chebnet_stable.load_split_masks`), or, when it
    carries none, node masks 60/20/20 (seeded). Integer labels make a classification task, floats
    regression.

    Returns:
        The three splits, the task type, input features, outputs and a one-line description of
        the split used.
    """
    import dataclasses

    from ._io import read_graph_file, split_masks_of

    if path is None:
        raise InputError("data: --task file needs --data PATH")
    graphs, raw_masks = read_graph_file(path, argument="--data")  # the file is read once
    for i, g in enumerate(graphs):
        if g.x is None or g.y is None:
            raise InputError(f"data: graph {i} of {path} needs node features x and labels y")
    y0 = _labels(graphs[0])
    x0 = graphs[0].x
    assert x0 is not None
    classification = not y0.is_floating_point()
    out_ch = (
        int(max(int(g.y.max()) for g in graphs if g.y is not None)) + 1
        if classification
        else (1 if y0.dim() == 1 else int(y0.shape[1]))
    )
    if not classification:
        graphs = [
            dataclasses.replace(g, y=_labels(g).reshape(g.num_nodes or 1, -1).float())
            if _labels(g).shape[0] == g.num_nodes
            else g
            for g in graphs
        ]
    in_ch = int(x0.shape[1])
    if len(graphs) >= 3:
        a, b = max(1, int(0.8 * len(graphs))), max(2, int(0.9 * len(graphs)))
        b = min(b, len(graphs) - 1)
        splits = [graphs[:a], graphs[a:b], graphs[b:]]
        how = f"graphs 80/10/10 in file order ({a}/{b - a}/{len(graphs) - b})"
    elif masks := split_masks_of(graphs, raw_masks, argument="--data"):
        g = graphs[0]
        splits = [[dataclasses.replace(g, mask=masks[k])] for k in ("train", "val", "test")]
        counts = "/".join(str(int(masks[k].sum())) for k in ("train", "val", "test"))
        how = f"the file's train/val/test masks ({counts} nodes)"
    else:
        g = graphs[0]
        n = int(g.num_nodes or 0)
        how = f"no split masks in the file: nodes 60/20/20 at random (seed {seed})"
        perm = torch.from_numpy(np.random.default_rng(seed).permutation(n))
        cuts = (0, int(0.6 * n), int(0.8 * n), n)
        splits = []
        for lo, hi in itertools.pairwise(cuts):
            mask = torch.zeros(n, dtype=torch.bool)
            mask[perm[lo:hi]] = True
            splits.append([dataclasses.replace(g, mask=mask)])
    return splits, "classification" if classification else "regression", in_ch, out_ch, how
