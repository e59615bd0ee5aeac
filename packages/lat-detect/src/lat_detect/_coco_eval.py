"""COCO AP through the field's reference evaluators, behind one small adapter (spec 2.7, issue 17).

No evaluator is written here: :func:`coco_ap` hands the ground truth and the detections to
pycocotools' ``COCOeval(..., "bbox")`` (the reference) or faster-coco-eval's ``COCOeval_faster``
(a second reference) and returns their 12 summary numbers plus per-class AP.

The empty case: pycocotools 2.0.11 raises ``IndexError`` in ``loadRes([])``. With no detections
the adapter builds the (empty) result set itself, so the evaluator still runs and reports AP 0
for every category with ground truth (and -1 where the reference reports -1: no ground truth in
an area range).
"""

from __future__ import annotations

import contextlib
import copy
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import torch

from sciml_core import require_extra

from ._coco_io import to_coco_dict
from ._data import DetectionDataset

__all__ = ["BACKENDS", "STAT_NAMES", "Backend", "COCOStats", "coco_ap", "to_results"]

Backend = Literal["pycocotools", "faster-coco-eval"]
BACKENDS: tuple[Backend, ...] = get_args(Backend)

#: The 12 numbers of ``COCOeval.summarize()``, in its order.
STAT_NAMES = (
    "AP",
    "AP50",
    "AP75",
    "APs",
    "APm",
    "APl",
    "AR1",
    "AR10",
    "AR100",
    "ARs",
    "ARm",
    "ARl",
)


@dataclass(frozen=True)
class COCOStats:
    """``stats``: the 12 summary numbers; ``per_class``: AP (0.50:0.95) per class name."""

    stats: tuple[float, ...]
    per_class: dict[str, float]
    backend: str

    @property
    def ap(self) -> float:
        """AP at IoU 0.50:0.95."""
        return self.stats[0]

    @property
    def ap50(self) -> float:
        """AP at IoU 0.50."""
        return self.stats[1]

    def as_dict(self) -> dict[str, float]:
        """``{stat name: value}``."""
        return dict(zip(STAT_NAMES, self.stats, strict=True))


def to_results(
    dataset: DetectionDataset,
    detections: Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
) -> list[dict[str, Any]]:
    """COCO results (``xywh``, category ids of ``dataset``'s space) of per-image detections."""
    if len(detections) != len(dataset):
        raise ValueError(
            f"one detection triple per image: {len(detections)} for {len(dataset)} images"
        )
    out = []
    for rec, (boxes, labels, scores) in zip(dataset.records, detections, strict=True):
        for b, lab, s in zip(boxes.tolist(), labels.tolist(), scores.tolist(), strict=True):
            out.append(
                {
                    "image_id": rec.image_id,
                    "category_id": dataset.space.category_id(int(lab)),
                    "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]],
                    "score": float(s),
                }
            )
    return out


def _modules(backend: Backend) -> tuple[Any, Any]:
    if backend == "pycocotools":
        coco = require_extra("pycocotools.coco", extra="coco", package="lat-detect")
        cocoeval = require_extra("pycocotools.cocoeval", extra="coco", package="lat-detect")
        return coco.COCO, cocoeval.COCOeval
    fce = require_extra("faster_coco_eval", extra="coco", package="lat-detect")
    return fce.COCO, fce.COCOeval_faster


def _empty_results(coco_cls: Any, gt: Any) -> Any:
    """The result set of no detections (``loadRes([])`` raises ``IndexError`` in 2.0.11)."""
    dt = coco_cls()
    dt.dataset = {
        "info": {},
        "licenses": [],
        "images": copy.deepcopy(gt.dataset["images"]),
        "categories": copy.deepcopy(gt.dataset["categories"]),
        "annotations": [],
    }
    dt.createIndex()
    return dt


def coco_ap(
    gt: DetectionDataset | dict[str, Any],
    results: Sequence[dict[str, Any]],
    *,
    backend: Backend = "pycocotools",
) -> COCOStats:
    """COCO box AP of ``results`` (COCO result dicts) against ``gt``, by a reference evaluator.

    Args:
        gt: The ground truth (a dataset, or a COCO dict with ``info``/``images``/... ).
        results: ``{"image_id", "category_id", "bbox" (xywh), "score"}`` per detection.
        backend: ``"pycocotools"`` or ``"faster-coco-eval"`` (both in the ``[coco]`` extra).

    Returns:
        The 12 numbers of ``summarize()`` and per-class AP (``-1`` for a class without ground
        truth, as the reference reports it).

    Raises:
        MissingExtraError: the backend is not installed (``pip install lat-detect[coco]``).

    Examples:
        >>> from lat_detect import synthetic_benchmark
        >>> bench = synthetic_benchmark(target_train=2, target_val=1, target_test=1, source_size=1)
        >>> t = bench.target_train
        >>> gt_as_dets = [(r.boxes, r.labels, torch.ones(len(r.labels))) for r in t.records]
        >>> perfect = to_results(t, gt_as_dets)
        >>> round(coco_ap(t, perfect).ap, 6), coco_ap(t, []).ap
        (1.0, 0.0)
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {list(BACKENDS)}; got {backend!r}")
    coco_cls, eval_cls = _modules(backend)
    data = to_coco_dict(gt) if isinstance(gt, DetectionDataset) else gt
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        coco_gt = coco_cls()
        coco_gt.dataset = copy.deepcopy(data)
        coco_gt.createIndex()
        if len(results) == 0:
            coco_dt = _empty_results(coco_cls, coco_gt)
        else:
            coco_dt = coco_gt.loadRes(copy.deepcopy(list(results)))
        ev = eval_cls(coco_gt, coco_dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    stats = tuple(float(x) for x in np.asarray(ev.stats)[:12])
    precision = np.asarray(ev.eval["precision"])  # (T, R, K, A, M)
    names = {int(c["id"]): str(c["name"]) for c in data["categories"]}
    per_class: dict[str, float] = {}
    for k, cid in enumerate(ev.params.catIds):
        p = precision[:, :, k, 0, -1]
        p = p[p > -1]
        per_class[names[int(cid)]] = float(p.mean()) if p.size else -1.0
    return COCOStats(stats, per_class, backend)
