"""``lat-detect bench``: ``speedup = t_peer / t_ours`` on the same inputs, same process.

Rows: one training step of :class:`LATModel` (PPG proposals, SFF, no RPN, frozen backbone)
against torchvision's ``FasterRCNN`` with the same frozen backbone and images (RPN and RoI
sampling active), with and without SFF; and the COCO evaluation of the same detections by
pycocotools (our default backend) against faster-coco-eval (skipped with a note when missing).
"""

from __future__ import annotations

import importlib.util
import warnings

import torch

from sciml_core import Comparison, as_generator, compare_timing

from .._backbones import build_backbone
from .._coco_eval import coco_ap
from .._detector import build_detector
from .._labelspace import ConcatLabelSpace
from .._model import LATModel
from .._ppg import PrivilegedProposalGenerator
from .._synthetic import synthetic_benchmark


def _step_rows(quick: bool, seed: int) -> list[Comparison]:
    torch.manual_seed(seed)
    bench = synthetic_benchmark(
        target_train=4, target_val=1, target_test=1, source_size=1, seed=seed
    )
    ds = bench.target_train
    samples = [ds[i] for i in range(4)]
    images = [s.image for s in samples]
    space = ConcatLabelSpace([ds.space])
    ppg = PrivilegedProposalGenerator()
    gen = torch.Generator().manual_seed(seed)
    props = [ppg(s.boxes, s.labels, image_size=(96, 96), generator=gen) for s in samples]
    masks = space.mask("T")[None, :].expand(4, -1)
    targets_lat = [(s.boxes, s.labels) for s in samples]
    targets_tv = [{"boxes": s.boxes, "labels": s.labels} for s in samples]
    rows = []
    backbone = build_backbone("tiny")
    tv = build_detector(len(ds.space), backbone=backbone).train()
    for p in backbone.parameters():
        p.requires_grad_(False)
    for sff in (True, False):
        lat = LATModel(
            build_backbone("tiny"), num_classes=space.num_classes, num_datasets=1, sff=sff
        ).train()

        def ours(model: LATModel = lat) -> None:
            losses = model(images, props, masks, targets_lat)
            assert isinstance(losses, dict)
            torch.stack(list(losses.values())).sum().backward()

        def peer() -> None:
            torch.stack(list(tv(images, targets_tv).values())).sum().backward()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            rows.append(
                compare_timing(
                    ours,
                    peer,
                    repeats=5 if quick else 30,
                    warmup=1 if quick else 5,
                    label=f"train step, tiny 96x96 batch 4, LATModel (sff={sff}) vs FasterRCNN",
                )
            )
    return rows


def _eval_rows(quick: bool, seed: int) -> list[Comparison]:
    if (
        importlib.util.find_spec("faster_coco_eval") is None
        or importlib.util.find_spec("pycocotools") is None
    ):
        warnings.warn(
            "bench: pycocotools or faster-coco-eval missing: the evaluator row is skipped",
            RuntimeWarning,
            stacklevel=2,
        )
        return []
    n_images = 500 if quick else 5000
    rng = as_generator(seed)
    images = [
        {"id": i + 1, "file_name": f"{i}.png", "width": 640, "height": 480} for i in range(n_images)
    ]
    anns: list[dict[str, object]] = []
    dets: list[dict[str, object]] = []
    for i in range(n_images):
        for _ in range(int(rng.integers(1, 8))):
            x, y, w, h = (
                rng.uniform(0, 500),
                rng.uniform(0, 380),
                rng.uniform(8, 120),
                rng.uniform(8, 90),
            )
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": i + 1,
                    "category_id": int(rng.integers(1, 81)),
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                }
            )
        for _ in range(20 if quick else 100):
            x, y, w, h = (
                rng.uniform(0, 500),
                rng.uniform(0, 380),
                rng.uniform(8, 120),
                rng.uniform(8, 90),
            )
            dets.append(
                {
                    "image_id": i + 1,
                    "category_id": int(rng.integers(1, 81)),
                    "bbox": [x, y, w, h],
                    "score": float(rng.random()),
                }
            )
    gt = {
        "info": {},
        "licenses": [],
        "images": images,
        "annotations": anns,
        "categories": [{"id": c, "name": f"c{c}"} for c in range(1, 81)],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return [
            compare_timing(
                lambda: coco_ap(gt, dets, backend="pycocotools"),
                lambda: coco_ap(gt, dets, backend="faster-coco-eval"),
                repeats=2 if quick else 5,
                warmup=0 if quick else 1,
                label=(
                    f"COCO eval, {n_images} images: pycocotools (ours: default backend) vs "
                    "faster-coco-eval"
                ),
            )
        ]


def bench(*, quick: bool, seed: int, device: str = "cpu") -> list[Comparison]:
    """Run the benchmark rows (CPU) and return them."""
    del device
    return _step_rows(quick, seed) + _eval_rows(quick, seed)
