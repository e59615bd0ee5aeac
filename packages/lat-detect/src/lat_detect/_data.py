"""Detection samples and datasets: images with ``xyxy`` boxes and local labels (spec 5.1)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from sciml_core import InputError

from ._labelspace import LabelSpace

__all__ = ["DetectionDataset", "DetectionSample", "ImageRecord", "check_dataset", "concat_datasets"]


@dataclass(frozen=True)
class DetectionSample:
    """One image with its boxes.

    Attributes:
        image: ``(3, H, W)`` float in ``[0, 1]``.
        boxes: ``(N, 4)`` float ``xyxy`` in absolute pixels.
        labels: ``(N,)`` int64 local labels ``1 .. |L|`` of ``dataset``.
        dataset: The dataset's name.
        image_id: The COCO image id.
        scores: ``(N,)`` confidence of each box (1 for ground truth).
    """

    image: torch.Tensor
    boxes: torch.Tensor
    labels: torch.Tensor
    dataset: str
    image_id: int
    scores: torch.Tensor | None = None


@dataclass(frozen=True)
class ImageRecord:
    """An image's annotations, without its pixels (``file_name`` relative to the image folder)."""

    image_id: int
    file_name: str
    width: int
    height: int
    boxes: torch.Tensor
    labels: torch.Tensor
    scores: torch.Tensor | None = None
    ann_ids: tuple[int, ...] = ()


def _check_boxes(boxes: torch.Tensor, width: int, height: int, where: str) -> None:
    """Refuse NaN, non-positive size and boxes outside the image (0.5 px tolerance)."""
    if boxes.numel() == 0:
        return
    bad = ~torch.isfinite(boxes).all(dim=1)
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    bad |= (w <= 0) | (h <= 0)
    tol = 0.5
    bad |= (boxes[:, 0] < -tol) | (boxes[:, 1] < -tol)
    bad |= (boxes[:, 2] > width + tol) | (boxes[:, 3] > height + tol)
    if bool(bad.any()):
        i = int(torch.nonzero(bad)[0, 0])
        b = [round(float(v), 3) for v in boxes[i]]
        raise InputError(
            f"{where}: box {i} {b} (xyxy) must have positive width and height and lie inside "
            f"the {width}x{height} image"
        )


@dataclass
class DetectionDataset:
    """A detection dataset in one label space; pixels decoded lazily through ``load_image``.

    Args:
        name: Dataset name (equal to ``space.name``).
        space: Its label space.
        records: One :class:`ImageRecord` per image.
        load_image: ``load_image(i)`` returns image ``i`` as ``(3, H, W)`` float in ``[0, 1]``.
    """

    name: str
    space: LabelSpace
    records: list[ImageRecord]
    load_image: Callable[[int], torch.Tensor] = field(repr=False)

    def __post_init__(self) -> None:
        if self.name != self.space.name:
            raise ValueError(f"dataset {self.name!r} needs a label space of the same name")
        for rec in self.records:
            labels = rec.labels
            if labels.numel() and (int(labels.min()) < 1 or int(labels.max()) > len(self.space)):
                raise ValueError(f"dataset {self.name!r} image {rec.image_id}: labels out of range")

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> DetectionSample:
        rec = self.records[i]
        return DetectionSample(
            self.load_image(i), rec.boxes, rec.labels, self.name, rec.image_id, rec.scores
        )

    def num_boxes(self) -> int:
        """Total number of boxes."""
        return sum(int(r.boxes.shape[0]) for r in self.records)

    def subset(self, indices: Sequence[int], *, name: str | None = None) -> DetectionDataset:
        """The images at ``indices`` (same label space unless renamed)."""
        idx = list(indices)
        space = (
            self.space
            if name is None
            else LabelSpace(name, self.space.classes, self.space.category_ids)
        )
        base = self.load_image
        return DetectionDataset(
            space.name, space, [self.records[i] for i in idx], lambda j: base(idx[j])
        )

    def with_annotations(
        self,
        annotations: Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]],
        space: LabelSpace,
    ) -> DetectionDataset:
        """Same images, new ``(boxes, labels, scores)`` per image in ``space`` (a "
        "relabelled copy)."""
        if len(annotations) != len(self.records):
            raise ValueError("one annotation triple per image is needed")
        recs = [
            ImageRecord(r.image_id, r.file_name, r.width, r.height, b, lab, s)
            for r, (b, lab, s) in zip(self.records, annotations, strict=True)
        ]
        return DetectionDataset(space.name, space, recs, self.load_image)


def check_dataset(ds: DetectionDataset, *, argument: str) -> None:
    """Refuse an empty dataset and any invalid box (InputError naming ``argument``)."""
    if len(ds) == 0:
        raise InputError(f"{argument}: dataset {ds.name!r} has no images")
    for rec in ds.records:
        _check_boxes(rec.boxes, rec.width, rec.height, f"{argument}: image {rec.image_id}")


def concat_datasets(parts: Sequence[DetectionDataset], space: LabelSpace) -> DetectionDataset:
    """Images of several datasets whose labels are already in ``space``, as one dataset."""
    records: list[ImageRecord] = []
    owners: list[tuple[int, int]] = []
    for k, part in enumerate(parts):
        for i, rec in enumerate(part.records):
            records.append(rec)
            owners.append((k, i))

    def load(j: int) -> torch.Tensor:
        k, i = owners[j]
        return parts[k].load_image(i)

    return DetectionDataset(space.name, space, records, load)
