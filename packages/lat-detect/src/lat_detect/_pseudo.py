"""Cross-dataset pseudo-labels: every specialist labels every other dataset (spec 2.2 step 2).

Specialist ``M_m`` (trained on ``D_m`` in its own space) runs on the images of ``D_n``,
``m != n``; detections with score ``>= score_thr`` after class-wise NMS (IoU ``nms_iou``) are
kept with their concatenated ids ``o_m + c``. That is ``N (N - 1)`` passes over datasets.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from sciml_core import InputError

from ._data import DetectionDataset
from ._detector import predict
from ._labelspace import ConcatLabelSpace

__all__ = ["PseudoLabels", "cross_pseudo_labels", "filter_detections"]

#: ``{dataset: [(boxes, internal labels, scores) per image]}``.
PseudoLabels = dict[str, list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]]


def filter_detections(
    boxes: torch.Tensor,
    labels: torch.Tensor,
    scores: torch.Tensor,
    *,
    score_thr: float,
    nms_iou: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keep ``score >= score_thr``, then class-wise NMS at ``nms_iou`` (sorted by score)."""
    from torchvision.ops import batched_nms

    keep = scores >= score_thr
    boxes, labels, scores = boxes[keep], labels[keep], scores[keep]
    idx = batched_nms(boxes.float(), scores.float(), labels, nms_iou)
    return boxes[idx], labels[idx], scores[idx]


def cross_pseudo_labels(
    datasets: Mapping[str, DetectionDataset],
    specialists: Mapping[str, nn.Module],
    space: ConcatLabelSpace,
    *,
    score_thr: float = 0.5,
    nms_iou: float = 0.5,
    progress: bool = False,
) -> PseudoLabels:
    """Pseudo-labels of every dataset by every other dataset's specialist, in internal ids.

    Returns:
        For each dataset, one ``(boxes, labels, scores)`` per image, the specialists' boxes
        concatenated in dataset order.
    """
    if not 0.0 <= score_thr <= 1.0:
        raise InputError(f"score_thr: expected a number in [0, 1]; got {score_thr}")
    missing = [n for n in datasets if n not in specialists]
    if missing:
        raise InputError(f"specialists: none for dataset(s) {missing}")
    out: PseudoLabels = {}
    for n, ds in datasets.items():
        per_image: list[list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]] = [
            [] for _ in range(len(ds))
        ]
        for m in space.names:
            if m == n or m not in specialists:
                continue
            dets = predict(specialists[m], ds, score_thr=score_thr, progress=progress)
            for i, (b, lab, s) in enumerate(dets):
                b, lab, s = filter_detections(b, lab, s, score_thr=score_thr, nms_iou=nms_iou)
                per_image[i].append((b, lab + space.offset(m), s))
        out[n] = [
            (
                torch.cat([p[0] for p in parts]).reshape(-1, 4) if parts else torch.zeros((0, 4)),
                torch.cat([p[1] for p in parts]) if parts else torch.zeros(0, dtype=torch.long),
                torch.cat([p[2] for p in parts]) if parts else torch.zeros(0),
            )
            for parts in per_image
        ]
    return out
