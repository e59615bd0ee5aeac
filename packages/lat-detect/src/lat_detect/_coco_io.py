"""COCO JSON at the file boundary: ``xywh`` in files, ``xyxy`` inside (spec 5.1).

:func:`load_coco` validates everything a user's file can get wrong (missing keys, duplicate ids,
an annotation on a missing image or with a category outside the label space, boxes with
non-positive size, NaN, or outside the image, missing image files) and raises one
``InputError`` naming the argument and the offending id. :func:`save_coco` always writes
``info`` and ``licenses`` (pycocotools 2.0.9-2.0.10 raise ``KeyError: 'info'`` without them).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from sciml_core import InputError, atomic_write_text, read_user_file

from ._data import DetectionDataset, ImageRecord, _check_boxes
from ._labelspace import LabelSpace

__all__ = [
    "load_coco",
    "load_label_space",
    "load_results",
    "read_coco_image",
    "save_coco",
    "save_label_space",
    "save_results",
    "to_coco_dict",
]


def _read_json(path: str | Path, argument: str, what: str) -> Any:
    return read_user_file(
        Path(path), argument=argument, decode=lambda p: json.loads(p.read_text()), what=what
    )


def _categories(data: Any, argument: str, name: str) -> LabelSpace:
    cats = data.get("categories") if isinstance(data, dict) else None
    if not isinstance(cats, list) or not cats:
        raise InputError(f"{argument}: expected a non-empty 'categories' list")
    try:
        cats = sorted(cats, key=lambda c: int(c["id"]))
        ids = [int(c["id"]) for c in cats]
        names = [str(c["name"]) for c in cats]
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(
            f"{argument}: every category needs an integer 'id' and a 'name' ({err})"
        ) from None
    if len(set(ids)) != len(ids):
        raise InputError(f"{argument}: duplicate category ids {ids}")
    return LabelSpace(name, tuple(names), tuple(ids))


def load_label_space(
    path: str | Path, *, name: str | None = None, argument: str = "--label-space"
) -> LabelSpace:
    """A label space from a JSON file ``{"name": ..., "categories": [{"id", "name"}, ...]}``.

    A COCO annotation file works too (its ``categories``); ``name`` overrides the file's name.
    """
    data = _read_json(path, argument, "a label-space JSON file")
    file_name = data.get("name") if isinstance(data, dict) else None
    return _categories(data, argument, name or str(file_name or Path(path).stem))


def save_label_space(space: LabelSpace, path: str | Path) -> Path:
    """Write ``space`` as ``{"name", "categories"}`` JSON, atomically."""
    return atomic_write_text(
        path, json.dumps({"name": space.name, "categories": space.to_coco()}, indent=1)
    )


def read_coco_image(
    path: Path, *, argument: str, width: int | None = None, height: int | None = None
) -> torch.Tensor:
    """Decode an RGB image file (Pillow, through ``sciml_core.read_image``) to ``(3, H, W)``
    float in ``[0, 1]``; other channel counts and a size other than the annotation's are refused."""
    import numpy as np

    from sciml_core import read_image

    arr, axes = read_image(path, argument=argument)
    if axes != "YXS" or arr.shape[2] != 3:
        raise InputError(
            f"{argument}: image '{path}' has axes {axes} {tuple(arr.shape)}; expected an RGB "
            "image (3 channels)"
        )
    if (width is not None and arr.shape[1] != width) or (
        height is not None and arr.shape[0] != height
    ):
        raise InputError(
            f"{argument}: image '{path}' is {arr.shape[1]}x{arr.shape[0]}; the annotation "
            f"file says {width}x{height}"
        )
    scale = float(np.iinfo(arr.dtype).max) if np.issubdtype(arr.dtype, np.integer) else 1.0
    return (
        torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32) / scale)
        .permute(2, 0, 1)
        .contiguous()
    )


def _check_image_header(path: Path, where: str, iid: int, width: int, height: int) -> None:
    """Refuse a missing, non-RGB or mis-sized image before any work (Pillow reads the "
    "header only)."""
    if not path.is_file():
        raise InputError(f"{where}: image file '{path}' of image {iid} is missing")

    def header(p: Path) -> tuple[str, tuple[int, int]]:
        from PIL import Image

        with Image.open(p) as im:
            return str(im.mode), (int(im.size[0]), int(im.size[1]))

    mode, size = read_user_file(path, argument=where, decode=header, what="an image")
    if mode != "RGB":
        raise InputError(
            f"{where}: image '{path}' has mode {mode}; expected an RGB image (3 channels)"
        )
    if size != (width, height):
        raise InputError(
            f"{where}: image '{path}' is {size[0]}x{size[1]}; the annotation file says "
            f"{width}x{height}"
        )


def load_coco(
    annotations: str | Path,
    image_dir: str | Path | None,
    *,
    name: str,
    space: LabelSpace | None = None,
    argument: str = "--dataset",
) -> DetectionDataset:
    """Read a COCO detection file; images decoded lazily from ``image_dir``.

    Args:
        annotations: The COCO JSON (``images``, ``annotations``, ``categories``).
        image_dir: Folder the images' ``file_name`` are relative to; None reads annotations
            only (evaluating a predictions file), and decoding an image then raises.
        name: Dataset name.
        space: Label space the annotations must use (a ``--label-space`` file); default: the
            file's own ``categories``. A category id outside it is refused.
        argument: Named in every error.

    Raises:
        InputError: any of the problems listed in the module docstring.
    """
    where = f"{argument} {name}"
    data = _read_json(annotations, where, "a COCO annotation file")
    if not isinstance(data, dict):
        raise InputError(f"{where}: '{annotations}' is not a COCO object (a JSON dict)")
    for key in ("images", "categories"):
        if key not in data:
            raise InputError(f"{where}: '{annotations}' has no '{key}' list")
    file_space = _categories(data, where, name)
    space = file_space if space is None else LabelSpace(name, space.classes, space.category_ids)
    images = data["images"]
    if not isinstance(images, list) or not images:
        raise InputError(f"{where}: '{annotations}' has no images (an empty dataset)")
    folder = Path(image_dir) if image_dir is not None else None
    if folder is not None and not folder.is_dir():
        raise InputError(f"{where}: image folder '{folder}' does not exist")
    by_id: dict[int, dict[str, Any]] = {}
    for im in images:
        try:
            iid, w, h, fn = int(im["id"]), int(im["width"]), int(im["height"]), str(im["file_name"])
        except (KeyError, TypeError, ValueError) as err:
            raise InputError(
                f"{where}: every image needs id, width, height, file_name ({err})"
            ) from None
        if iid in by_id:
            raise InputError(f"{where}: duplicate image id {iid}")
        if w <= 0 or h <= 0:
            raise InputError(f"{where}: image {iid} has size {w}x{h}")
        if folder is not None:
            _check_image_header(folder / fn, where, iid, w, h)
        by_id[iid] = {"file_name": fn, "width": w, "height": h, "anns": []}
    seen: set[int] = set()
    for ann in data.get("annotations", []) or []:
        try:
            aid, iid, cid = int(ann["id"]), int(ann["image_id"]), int(ann["category_id"])
            x, y, bw, bh = (float(v) for v in ann["bbox"])
        except (KeyError, TypeError, ValueError) as err:
            raise InputError(
                f"{where}: every annotation needs id, image_id, category_id and a 4-number "
                f"bbox ({err})"
            ) from None
        if aid in seen:
            raise InputError(f"{where}: duplicate annotation id {aid}")
        seen.add(aid)
        if iid not in by_id:
            raise InputError(
                f"{where}: annotation {aid} refers to image {iid}, which is not in 'images'"
            )
        if not all(math.isfinite(v) for v in (x, y, bw, bh)) or bw <= 0 or bh <= 0:
            raise InputError(
                f"{where}: annotation {aid} has bbox {[x, y, bw, bh]}: needs finite numbers, "
                "w > 0 and h > 0"
            )
        try:
            local = space.local_label(cid)
        except InputError as err:
            raise InputError(f"{where}: annotation {aid}: {err}") from None
        rec = by_id[iid]
        box = torch.tensor([[x, y, x + bw, y + bh]], dtype=torch.float32)
        try:
            _check_boxes(box, rec["width"], rec["height"], f"{where}: annotation {aid}")
        except InputError as err:
            raise InputError(str(err).replace("box 0 ", "bbox ")) from None
        score = float(ann.get("score", 1.0))
        rec["anns"].append((aid, box[0], local, score))
    records: list[ImageRecord] = []
    for iid, rec in by_id.items():
        anns = rec["anns"]
        boxes = torch.stack([a[1] for a in anns]) if anns else torch.zeros((0, 4))
        labels = torch.tensor([a[2] for a in anns], dtype=torch.int64)
        scores = torch.tensor([a[3] for a in anns], dtype=torch.float32)
        records.append(
            ImageRecord(
                iid,
                rec["file_name"],
                rec["width"],
                rec["height"],
                boxes,
                labels,
                scores,
                tuple(a[0] for a in anns),
            )
        )

    def load(i: int) -> torch.Tensor:
        r = records[i]
        if folder is None:
            raise InputError(
                f"{where}: no image folder was given, so image {r.image_id} cannot be read"
            )
        return read_coco_image(folder / r.file_name, argument=where, width=r.width, height=r.height)

    return DetectionDataset(name, space, records, load)


def to_coco_dict(
    dataset: DetectionDataset, *, info: dict[str, Any] | None = None, with_scores: bool = False
) -> dict[str, Any]:
    """The COCO dict of ``dataset`` (``xywh``, ``area = w h``, ``iscrowd = 0``)."""
    images, anns = [], []
    aid = 1
    for rec in dataset.records:
        images.append(
            {
                "id": rec.image_id,
                "file_name": rec.file_name,
                "width": rec.width,
                "height": rec.height,
            }
        )
        for k in range(rec.boxes.shape[0]):
            x0, y0, x1, y1 = (float(v) for v in rec.boxes[k])
            ann: dict[str, Any] = {
                "id": aid,
                "image_id": rec.image_id,
                "category_id": dataset.space.category_id(int(rec.labels[k])),
                "bbox": [x0, y0, x1 - x0, y1 - y0],
                "area": (x1 - x0) * (y1 - y0),
                "iscrowd": 0,
            }
            if with_scores and rec.scores is not None:
                ann["score"] = float(rec.scores[k])
            anns.append(ann)
            aid += 1
    return {
        "info": info or {"description": f"{dataset.name}, written by lat-detect"},
        "licenses": [],
        "images": images,
        "annotations": anns,
        "categories": dataset.space.to_coco(),
    }


def save_coco(
    dataset: DetectionDataset,
    path: str | Path,
    *,
    info: dict[str, Any] | None = None,
    with_scores: bool = False,
) -> Path:
    """Write ``dataset`` as a COCO file atomically (``info``, ``licenses`` always present)."""
    return atomic_write_text(
        path, json.dumps(to_coco_dict(dataset, info=info, with_scores=with_scores))
    )


def save_results(predictions: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write COCO results (``image_id``, ``category_id``, ``bbox`` xywh, ``score``) atomically."""
    return atomic_write_text(path, json.dumps(list(predictions)))


def load_results(
    path: str | Path, gt: DetectionDataset, *, argument: str = "PREDICTIONS"
) -> list[dict[str, Any]]:
    """Read a COCO results list and check it against ``gt`` (image ids, categories, boxes)."""
    data = _read_json(path, argument, "a COCO results file")
    if not isinstance(data, list):
        raise InputError(f"{argument}: '{path}' must hold a JSON list of detections")
    ids = {r.image_id: r for r in gt.records}
    out = []
    for k, det in enumerate(data):
        try:
            iid, cid, score = int(det["image_id"]), int(det["category_id"]), float(det["score"])
            x, y, w, h = (float(v) for v in det["bbox"])
        except (KeyError, TypeError, ValueError) as err:
            raise InputError(
                f"{argument}: detection {k} needs image_id, category_id, bbox, score ({err})"
            ) from None
        if iid not in ids:
            raise InputError(
                f"{argument}: detection {k} is on image {iid}, which the ground truth lacks"
            )
        gt.space.local_label(cid)
        if not all(math.isfinite(v) for v in (x, y, w, h, score)) or w <= 0 or h <= 0:
            raise InputError(f"{argument}: detection {k} has bbox {[x, y, w, h]} score {score}")
        out.append({"image_id": iid, "category_id": cid, "bbox": [x, y, w, h], "score": score})
    return out
