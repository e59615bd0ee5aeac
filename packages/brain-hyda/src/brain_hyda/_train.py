"""Training loops: pre-training the TinyUNet backbone, fitting an adapter, predicting.

Every loop is seeded (``torch.Generator`` for batches and flips, parameters seeded by their
builders) and single-process. A frozen adapter's encoder maps are computed once per patient and
reused at every step (the encoder is frozen, so they do not change): the step then costs only the
fusion, the frozen decoder and the head.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from sciml_core.cli import progress

from ._encoders import TinyUNet
from ._hyda import HyDA, Scratch
from ._metrics import dice, dice_ce_loss
from ._synthetic import synthetic_brains

__all__ = ["FitLog", "Subjects", "fit", "predict", "pretrain_backbone", "to_subjects"]


@dataclass
class Subjects:
    """Patients as tensors: ``volumes[m]`` ``(N, 1, S, S, S)``, ``labels`` ``(N, S, S, S)``,
    ``groups`` ``(N,)`` (corruption or site id, for the oracle), ``patient_labels`` ``(N,)``."""

    volumes: dict[str, Tensor]
    labels: Tensor
    groups: Tensor
    patient_labels: Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def take(self, idx: Tensor | Sequence[int]) -> Subjects:
        """The patients ``idx``."""
        i = torch.as_tensor(idx, dtype=torch.long)
        return Subjects(
            {m: v[i] for m, v in self.volumes.items()},
            self.labels[i],
            self.groups[i],
            self.patient_labels[i],
        )


def to_subjects(data: dict[str, Any], *, groups: str = "corruption") -> Subjects:
    """:func:`~brain_hyda.synthetic_brains` output as :class:`Subjects`."""
    return Subjects(
        {m: torch.from_numpy(v) for m, v in data["volumes"].items()},
        torch.from_numpy(data["labels"]),
        torch.from_numpy(np.asarray(data[groups])).long().clamp_min(0),
        torch.from_numpy(np.asarray(data["patient_labels"])).long(),
    )


def _class_weights(labels: Tensor, k: int) -> Tensor:
    counts = torch.bincount(labels.flatten(), minlength=k).double().clamp_min(1)
    w = (counts.sum() / (k * counts)).sqrt()
    return (w / w.min()).float()


def _flip(x: Tensor, dims: list[int]) -> Tensor:
    return x.flip(dims) if dims else x


def pretrain_backbone(
    *,
    subjects: int = 200,
    epochs: int = 3,
    size: int = 32,
    lr: float = 3e-3,
    batch: int = 4,
    seed: int = 0,
    show_progress: bool = True,
) -> tuple[TinyUNet, dict[str, float]]:
    """Pre-train a single-channel TinyUNet on the ``pretrain`` preset (the SAM-Brain3D stand-in).

    Every (subject, sequence) volume of ``subjects`` synthetic subjects (T1, FLAIR, T2; six
    pretraining sites) is one sample; 5 classes (background, grey, white, ventricle, lesion);
    AdamW, weighted cross-entropy + soft Dice, random flips. Returns the network and its held-out
    FLAIR Dice per class (on 8 further subjects).
    """
    data = synthetic_brains(subjects, preset="pretrain", size=size, seed=seed)
    x = torch.from_numpy(np.concatenate([data["volumes"][m] for m in data["modalities"]]))
    y = torch.from_numpy(np.concatenate([data["labels"]] * len(data["modalities"])))
    torch.manual_seed(seed)
    net = TinyUNet(1, 5)
    opt = torch.optim.AdamW(net.parameters(), lr=lr)
    weight = _class_weights(y, 5)
    gen = torch.Generator().manual_seed(seed)
    steps = epochs * ((len(x) + batch - 1) // batch)
    bar = progress(total=steps, desc="pretrain", unit="step", disable=not show_progress)
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=gen)
        for j in range(0, len(x), batch):
            idx = perm[j : j + batch]
            dims = [d for d in (2, 3, 4) if torch.rand((), generator=gen) < 0.5]
            xb = _flip(x[idx], dims)
            yb = _flip(y[idx], [d - 1 for d in dims])
            loss = dice_ce_loss(net(xb), yb, weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            bar.update(1)
    bar.close()
    net.eval()
    held = synthetic_brains(8, preset="pretrain", size=size, seed=seed, start=subjects)
    with torch.no_grad():
        pred = net(torch.from_numpy(held["volumes"]["FLAIR"])).argmax(1)
    d = dice(pred, torch.from_numpy(held["labels"]), num_classes=5)
    names = ("grey", "white", "ventricle", "lesion")
    return net, {n: float(v) for n, v in zip(names, d)}


@dataclass
class FitLog:
    """What :func:`fit` did: validation Dice at each checkpoint, the step kept, seconds."""

    val: dict[int, float] = field(default_factory=dict)
    best_step: int = 0
    seconds: float = 0.0


def predict(model: nn.Module, data: Subjects, *, batch: int = 4) -> Tensor:
    """Voxel labels ``(N, S, S, S)`` (argmax of the logits), in eval mode."""
    model.eval()
    out = []
    with torch.no_grad():
        for j in range(0, len(data), batch):
            part = data.take(range(j, min(j + batch, len(data))))
            out.append(model(part.volumes, groups=part.groups).argmax(1))
    return torch.cat(out)


def _bank(model: nn.Module, train: Subjects) -> Any:
    if isinstance(model, HyDA) and model.frozen:
        with torch.no_grad():
            feats = model.encode(train.volumes)
        model.update_bank(feats)
        return feats
    return None


def train_loop(
    model: nn.Module,
    n: int,
    step_loss: Callable[[Tensor, torch.Generator], Tensor],
    *,
    steps: int,
    lr: float,
    batch: int = 4,
    seed: int = 0,
    score: Callable[[], Any] | None = None,
    eval_at: Sequence[int] = (),
    show_progress: bool = False,
) -> tuple[dict[int, Any], int]:
    """The AdamW loop that :func:`fit` and the classification study share.

    Each step draws ``min(batch, n)`` of the ``n`` training patients (a seeded permutation),
    anneals a :class:`HyDA`'s temperature linearly from ``tau0`` to 1 over the first half of the
    steps, and takes one step on ``step_loss(idx, generator)`` (the generator is the loop's, for
    draws such as augmentation). With ``score``, the score (anything ordered, higher is better)
    is measured at the ``eval_at`` steps and at ``steps``, and the best checkpoint is restored.

    Returns:
        The scores by step, and the best step (``steps`` without ``score``).
    """
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    checkpoints = (
        sorted({s for s in eval_at if 0 < s <= steps} | {steps}) if score is not None else []
    )
    scores: dict[int, Any] = {}
    best: tuple[Any, dict[str, Tensor]] | None = None
    best_step = steps
    model.train()
    for step in progress(range(1, steps + 1), desc="fit", unit="step", disable=not show_progress):
        if isinstance(model, HyDA) and model.router is not None:
            half = max(steps // 2, 1)
            model.router.set_tau(max(1.0, model.tau0 + (1.0 - model.tau0) * (step - 1) / half))
        idx = torch.randperm(n, generator=gen)[: min(batch, n)]
        loss = step_loss(idx, gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step in checkpoints:
            assert score is not None
            got = score()
            scores[step] = got
            if best is None or got > best[0]:
                best = (got, {k: v.detach().clone() for k, v in model.state_dict().items()})
                best_step = step
            model.train()
    if best is not None:
        model.load_state_dict(best[1])
    model.eval()
    return scores, best_step


def fit(
    model: nn.Module,
    train: Subjects,
    *,
    steps: int,
    lr: float,
    batch: int = 4,
    seed: int = 0,
    val: Subjects | None = None,
    eval_at: Sequence[int] = (),
    augment: bool = False,
    show_progress: bool = False,
) -> FitLog:
    """Train ``model``'s trainable parameters on ``train`` for ``steps`` AdamW steps.

    With ``val`` and ``eval_at``, the pooled validation Dice is measured at those steps (and at
    ``steps``) and the parameters of the best checkpoint are restored (the length is chosen on
    validation data, never on test data). A :class:`HyDA`'s temperature anneals linearly from
    ``tau0`` to 1 over the first half of the steps; its bank holds the training patients.
    """
    start = time.perf_counter()
    k = int(getattr(model, "num_classes", 2) if not isinstance(model, Scratch) else 2)
    weight = _class_weights(train.labels, k)
    feats = _bank(model, train)

    def step_loss(idx: Tensor, gen: torch.Generator) -> Tensor:
        part = train.take(idx)
        if feats is not None:
            fb = [[f[idx] for f in maps] for maps in feats]
            logits = model(features=fb, bank_ids=idx, groups=part.groups)
            target = part.labels
        else:
            vols, target = part.volumes, part.labels
            if augment:
                dims = [d for d in (2, 3, 4) if torch.rand((), generator=gen) < 0.5]
                scale = 1.0 + 0.1 * (torch.rand((), generator=gen).item() - 0.5)
                vols = {m: _flip(v, dims) * scale for m, v in vols.items()}
                target = _flip(target, [d - 1 for d in dims])
            logits = model(vols, groups=part.groups)
        return dice_ce_loss(logits, target, weight=weight)

    def score() -> float:
        assert val is not None
        return float(dice(predict(model, val), val.labels, num_classes=2)[0])

    log = FitLog()
    log.val, log.best_step = train_loop(
        model,
        len(train),
        step_loss,
        steps=steps,
        lr=lr,
        batch=batch,
        seed=seed,
        score=score if val is not None else None,
        eval_at=eval_at,
        show_progress=show_progress,
    )
    log.seconds = time.perf_counter() - start
    return log
