"""torchvision's two-stage detector, small enough for a CPU, and its training loop (spec 7.1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

import torch
from torch import nn

from sciml_core import InputError, as_generator, check_finite
from sciml_core.cli import progress as _bar

from ._backbones import BackboneName, FeatureBackbone, build_backbone
from ._data import DetectionDataset

__all__ = ["SCHEDULES", "Schedule", "build_detector", "flip_sample", "predict", "train_detector"]

Schedule = Literal["single", "merge_then_target"]
SCHEDULES: tuple[Schedule, ...] = get_args(Schedule)

#: Every stage of the package feeds images in [0, 1]; the detector normalises with these.
IMAGE_MEAN = (0.5, 0.5, 0.5)
IMAGE_STD = (0.25, 0.25, 0.25)


def build_detector(
    num_classes: int,
    *,
    backbone: BackboneName | str | FeatureBackbone = "tiny",
    image_size: int = 96,
    **frcnn_kwargs: Any,
) -> nn.Module:
    """torchvision ``FasterRCNN`` over ``num_classes`` foreground classes (labels ``1..K``).

    Anchors ``(8, 16, 32, 48)`` x ``(0.5, 1, 2)`` on one stride-8 map, ``RoIAlign`` 7x7,
    ``TwoMLPHead(C * 49, 256)``, ``min_size = max_size = image_size``, 100 RPN proposals per image
    in training, 64 sampled RoIs. Nothing is downloaded: the backbone is built here or given.

    Examples:
        >>> det = build_detector(4).eval()
        >>> out = det([torch.rand(3, 96, 96)])[0]
        >>> sorted(out), out["boxes"].shape[1]
        (['boxes', 'labels', 'scores'], 4)
    """
    from torchvision.models.detection import FasterRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.ops import MultiScaleRoIAlign

    if num_classes < 1:
        raise InputError(f"num_classes: expected >= 1; got {num_classes}")
    bb = backbone if isinstance(backbone, FeatureBackbone) else build_backbone(backbone)
    kwargs: dict[str, Any] = {
        "min_size": image_size,
        "max_size": image_size,
        "image_mean": list(IMAGE_MEAN),
        "image_std": list(IMAGE_STD),
        "rpn_pre_nms_top_n_train": 300,
        "rpn_post_nms_top_n_train": 100,
        "rpn_pre_nms_top_n_test": 300,
        "rpn_post_nms_top_n_test": 100,
        "box_batch_size_per_image": 64,
        "box_detections_per_img": 100,
    }
    kwargs.update(frcnn_kwargs)
    anchors = AnchorGenerator(sizes=((8, 16, 32, 48),), aspect_ratios=((0.5, 1.0, 2.0),))
    roi = MultiScaleRoIAlign(featmap_names=["0"], output_size=7, sampling_ratio=2)
    head = TwoMLPHead(bb.out_channels * 49, 256)
    return FasterRCNN(
        bb,
        num_classes=None,
        rpn_anchor_generator=anchors,
        box_roi_pool=roi,
        box_head=head,
        box_predictor=FastRCNNPredictor(256, num_classes + 1),
        **kwargs,
    )


def flip_sample(image: torch.Tensor, boxes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Horizontal flip of an image and its ``xyxy`` boxes."""
    w = image.shape[-1]
    flipped = boxes.clone()
    flipped[:, 0] = w - boxes[:, 2]
    flipped[:, 2] = w - boxes[:, 0]
    return image.flip(-1), flipped


def _batches(
    parts: Sequence[DetectionDataset], steps: int, batch_size: int, seed: int
) -> list[list[tuple[int, int, bool]]]:
    """For each step, ``batch_size`` (part, image, flip) drawn uniformly over the union."""
    rng = as_generator(seed)
    sizes = [len(p) for p in parts]
    total = sum(sizes)
    out = []
    for _ in range(steps):
        flat = rng.integers(0, total, batch_size)
        flips = rng.random(batch_size) < 0.5
        batch = []
        for f, flip in zip(flat, flips, strict=True):
            k, f = 0, int(f)
            while f >= sizes[k]:
                f -= sizes[k]
                k += 1
            batch.append((k, f, bool(flip)))
        out.append(batch)
    return out


def _phase(
    model: nn.Module,
    parts: Sequence[tuple[DetectionDataset, int]],
    *,
    steps: int,
    lr: float,
    batch_size: int,
    seed: int,
    desc: str,
    show: bool,
    device: torch.device,
) -> None:
    """AdamW steps on the union of ``(dataset, label_offset)`` parts."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    datasets = [p[0] for p in parts]
    model.train()
    for step, batch in enumerate(
        _bar(_batches(datasets, steps, batch_size, seed), desc=desc, unit="step", disable=not show)
    ):
        images, targets = [], []
        for k, i, flip in batch:
            sample = datasets[k][i]
            img, boxes = sample.image, sample.boxes
            if flip:
                img, boxes = flip_sample(img, boxes)
            images.append(img.to(device))
            targets.append(
                {"boxes": boxes.to(device), "labels": (sample.labels + parts[k][1]).to(device)}
            )
        losses = model(images, targets)
        loss = sum(losses.values())
        check_finite(loss.detach(), f"training loss ({desc}, step {step}; lower the learning rate)")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def train_detector(
    model: nn.Module,
    parts: Sequence[tuple[DetectionDataset, int]] | DetectionDataset,
    *,
    steps: int,
    lr: float = 2e-3,
    batch_size: int = 4,
    schedule: Schedule = "single",
    target: tuple[DetectionDataset, int] | None = None,
    ft_steps: int = 0,
    ft_lr: float = 5e-4,
    seed: int = 0,
    progress: bool = True,
    desc: str = "train",
) -> nn.Module:
    """Train ``model`` on the union of ``parts`` (each ``(dataset, label offset)``).

    ``schedule="merge_then_target"`` then fine-tunes ``ft_steps`` on ``target`` alone at
    ``ft_lr`` (the paper's schedule per the notes). Batches are drawn uniformly over all images,
    with horizontal flips; a non-finite loss stops training naming the step.
    """
    if isinstance(parts, DetectionDataset):
        parts = [(parts, 0)]
    if schedule not in SCHEDULES:
        raise InputError(f"schedule: expected one of {list(SCHEDULES)}; got {schedule!r}")
    if steps < 0 or ft_steps < 0:
        raise InputError(f"steps and ft_steps must be >= 0; got {steps}, {ft_steps}")
    if not parts or all(len(p[0]) == 0 for p in parts):
        raise InputError("train_detector: the training data is empty")
    device = next(model.parameters()).device
    torch.manual_seed(seed)
    _phase(
        model,
        parts,
        steps=steps,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        desc=desc,
        show=progress,
        device=device,
    )
    if schedule == "merge_then_target" and ft_steps > 0:
        if target is None:
            raise InputError("schedule='merge_then_target' needs target=(dataset, offset)")
        _phase(
            model,
            [target],
            steps=ft_steps,
            lr=ft_lr,
            batch_size=batch_size,
            seed=seed + 7919,
            desc=f"{desc} ft",
            show=progress,
            device=device,
        )
    return model


@torch.no_grad()
def predict(
    model: nn.Module,
    dataset: DetectionDataset,
    *,
    score_thr: float = 0.05,
    label_offset: int = 0,
    num_local: int | None = None,
    batch_size: int = 8,
    progress: bool = False,
) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """``(boxes xyxy, local labels, scores)`` per image; labels outside ``offset + 1 ..
    offset + num_local`` are dropped (a concatenated-space model predicting one dataset)."""
    model.eval()
    device = next(model.parameters()).device
    out: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    idx = list(range(len(dataset)))
    chunks = [idx[i : i + batch_size] for i in range(0, len(idx), batch_size)]
    for chunk in _bar(chunks, desc="predict", unit="batch", disable=not progress):
        dets = model([dataset[i].image.to(device) for i in chunk])
        for d in dets:
            labels = d["labels"].cpu() - label_offset
            keep = (d["scores"].cpu() >= score_thr) & (labels >= 1)
            if num_local is not None:
                keep &= labels <= num_local
            out.append((d["boxes"].cpu()[keep], labels[keep], d["scores"].cpu()[keep]))
    return out
