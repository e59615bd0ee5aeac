"""The synthetic multi-dataset benchmark (level 2, spec section 7.1).

One world of objects, three annotation protocols. Every image is drawn in numpy from
``SeedSequence(root_seed(seed), spawn_key=(d, i))`` (``d``: the split, ``i``: the image), so the
first images of a split are the same whatever its size (prefix-stable).

Objects: car (p 0.25, 14-21 x 8-11 px warm rectangle), truck (0.2, 26-35 x 14-19, a darker cab
block top right, 35 % x 50 %), person (0.2, 6-9 x 14-21 green-dominant ellipse), cyclist (0.15, a
person whose lower edge sits on a bicycle's centre: two true objects), parked bicycle (0.1, dark
ring, outer radius 5-7, thickness 2), sign (0.1, 6-8 px blue square with a white centre). Each
object casts a 4-pixel dark strip below it (x 0.6).

=========  ===========================================  ===========================================
dataset    label space                                  boxes
=========  ===========================================  ===========================================
T          car, truck, person, bicycle (cyclist = 2)    tight
A          vehicle (= car or truck); the rest is        tight + 20 % of w and h per side
           unannotated (background conflict)
B          car, truck, pedestrian, cyclist (one union   tight + shadow (4 px) + padding U(0, 30 %)
           box), sign; parked bicycles unannotated      per side, per object
oracle     A's and B's images, T's protocol             tight
=========  ===========================================  ===========================================

Domain shift: T grey-warm (noise sigma 0.05), A blue-tinted (0.08), B green-tinted (0.05).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sciml_core import InputError, root_seed

from ._data import DetectionDataset, ImageRecord
from ._labelspace import LabelSpace

__all__ = ["NAME_MAP", "TARGET_SPACE", "SyntheticBenchmark", "synthetic_benchmark"]

TARGET_SPACE = LabelSpace("T", ("car", "truck", "person", "bicycle"))
A_SPACE = LabelSpace("A", ("vehicle",))
B_SPACE = LabelSpace("B", ("car", "truck", "pedestrian", "cyclist", "sign"))

#: The human name map of the naive-merge baseline (source class -> target class; others dropped).
NAME_MAP: dict[str, str] = {
    "vehicle": "car",
    "car": "car",
    "truck": "truck",
    "pedestrian": "person",
    "cyclist": "person",
}

_KINDS = ("car", "truck", "person", "cyclist", "bicycle", "sign")
_PROBS = (0.25, 0.2, 0.2, 0.15, 0.1, 0.1)
_STYLE = {  # base colour, noise sigma
    "T": ((0.55, 0.52, 0.48), 0.05),
    "A": ((0.42, 0.48, 0.62), 0.08),
    "B": ((0.45, 0.58, 0.45), 0.05),
}
_SPLITS = {"T-train": 0, "T-val": 1, "T-test": 2, "A": 3, "B": 4}


@dataclass(frozen=True)
class SyntheticBenchmark:
    """The splits of the benchmark.

    Attributes:
        target_train, target_val, target_test: T's splits (label space ``T``).
        sources: ``{"A": ..., "B": ...}`` in their own label spaces.
        oracle: ``{"A": ..., "B": ...}``: the same images annotated with T's protocol (space ``T``).
        name_map: The naive-merge name map.
    """

    target_train: DetectionDataset
    target_val: DetectionDataset
    target_test: DetectionDataset
    sources: dict[str, DetectionDataset]
    oracle: dict[str, DetectionDataset]
    name_map: dict[str, str]


def _place(
    rng: np.random.Generator, size: int, w: int, h: int, taken: list[tuple[float, ...]]
) -> tuple[int, int] | None:
    """Top-left corner of a ``w x h`` footprint (plus its shadow) overlapping nothing taken."""
    for _ in range(40):
        x = int(rng.integers(1, size - w - 1))
        y = int(rng.integers(1, size - h - 6))
        box = (x - 2, y - 2, x + w + 2, y + h + 6)
        if all(box[2] <= t[0] or t[2] <= box[0] or box[3] <= t[1] or t[3] <= box[1] for t in taken):
            taken.append(box)
            return x, y
    return None


def _ellipse(img: np.ndarray, x0: int, y0: int, w: int, h: int, colour: np.ndarray) -> None:
    yy, xx = np.mgrid[y0 : y0 + h, x0 : x0 + w]
    inside = ((xx + 0.5 - x0 - w / 2) / (w / 2)) ** 2 + (
        (yy + 0.5 - y0 - h / 2) / (h / 2)
    ) ** 2 <= 1
    img[y0 : y0 + h, x0 : x0 + w][inside] = colour


def _ring(img: np.ndarray, cx: float, cy: float, r: int, colour: np.ndarray) -> None:
    y0, x0 = int(np.floor(cy - r)), int(np.floor(cx - r))
    yy, xx = np.mgrid[y0 : y0 + 2 * r, x0 : x0 + 2 * r]
    d = np.hypot(xx + 0.5 - cx, yy + 0.5 - cy)
    on = (d <= r) & (d >= r - 2)
    img[y0 : y0 + 2 * r, x0 : x0 + 2 * r][on] = colour


def _shadow(img: np.ndarray, x0: float, x1: float, y1: float) -> None:
    a, b = int(x0), int(np.ceil(x1))
    img[int(y1) : int(y1) + 4, a:b] *= 0.6


def _draw_image(
    seed: int, split: int, i: int, size: int, style: str
) -> tuple[np.ndarray, list[tuple[str, list[float]]]]:
    """One image and its true objects ``(kind, tight xyxy)``; a cyclist yields person + bicycle
    plus the marker ``("cyclist", union box)``."""
    rng = np.random.default_rng(np.random.SeedSequence(root_seed(seed), spawn_key=(split, i)))
    base, sigma = _STYLE[style]
    grad = np.linspace(-0.1, 0.1, size)[:, None, None]
    img = np.broadcast_to(np.asarray(base), (size, size, 3)) + grad
    img = np.array(img, dtype=np.float64)
    objects: list[tuple[str, list[float]]] = []
    taken: list[tuple[float, ...]] = []
    for _ in range(int(rng.integers(1, 5))):
        kind = _KINDS[int(rng.choice(len(_KINDS), p=_PROBS))]
        jitter = rng.uniform(-0.08, 0.08, 3)
        if kind == "car":
            w, h = int(rng.integers(14, 22)), int(rng.integers(8, 12))
            pos = _place(rng, size, w, h, taken)
            if pos is None:
                continue
            x, y = pos
            img[y : y + h, x : x + w] = np.array([0.85, 0.4, 0.2]) + jitter
            objects.append(("car", [x, y, x + w, y + h]))
        elif kind == "truck":
            w, h = int(rng.integers(26, 36)), int(rng.integers(14, 20))
            pos = _place(rng, size, w, h, taken)
            if pos is None:
                continue
            x, y = pos
            img[y : y + h, x : x + w] = np.array([0.7, 0.55, 0.3]) + jitter
            cw, ch = round(0.35 * w), round(0.5 * h)
            img[y : y + ch, x + w - cw : x + w] = np.array([0.35, 0.28, 0.15]) + jitter
            objects.append(("truck", [x, y, x + w, y + h]))
        elif kind == "person":
            w, h = int(rng.integers(6, 10)), int(rng.integers(14, 22))
            pos = _place(rng, size, w, h, taken)
            if pos is None:
                continue
            x, y = pos
            _ellipse(img, x, y, w, h, np.array([0.2, 0.75, 0.3]) + jitter)
            objects.append(("person", [x, y, x + w, y + h]))
        elif kind == "cyclist":
            pw, ph, r = int(rng.integers(6, 10)), int(rng.integers(14, 22)), int(rng.integers(5, 8))
            fw, fh = 2 * r, ph + r
            pos = _place(rng, size, fw, fh, taken)
            if pos is None:
                continue
            x, y = pos
            cx, cy = x + r, y + ph
            px = round(cx - pw / 2)
            _ring(img, cx, cy, r, np.array([0.12, 0.12, 0.14]))
            _ellipse(img, px, y, pw, ph, np.array([0.2, 0.75, 0.3]) + jitter)
            person: list[float] = [px, y, px + pw, y + ph]
            bike: list[float] = [cx - r, cy - r, cx + r, cy + r]
            objects.append(("person", person))
            objects.append(("bicycle", bike))
            objects.append(
                ("cyclist", [min(person[0], bike[0]), y, max(person[2], bike[2]), bike[3]])
            )
        elif kind == "bicycle":
            r = int(rng.integers(5, 8))
            pos = _place(rng, size, 2 * r, 2 * r, taken)
            if pos is None:
                continue
            x, y = pos
            _ring(img, x + r, y + r, r, np.array([0.12, 0.12, 0.14]))
            objects.append(("parked-bicycle", [x, y, x + 2 * r, y + 2 * r]))
        else:
            s = int(rng.integers(6, 9))
            pos = _place(rng, size, s, s, taken)
            if pos is None:
                continue
            x, y = pos
            img[y : y + s, x : x + s] = np.array([0.15, 0.25, 0.85])
            img[y + s // 3 : y + s - s // 3, x + s // 3 : x + s - s // 3] = 1.0
            objects.append(("sign", [x, y, x + s, y + s]))
    for kind, b in objects:
        if kind != "cyclist":
            _shadow(img, b[0], b[2], b[3])
    img = img + rng.normal(0.0, sigma, img.shape)
    pad = rng.uniform(0.0, 0.3, (len(objects), 4))
    objects = [(k, b + list(p)) for (k, b), p in zip(objects, pad, strict=True)]
    return np.clip(img, 0.0, 1.0).astype(np.float32), objects


def _clip(b: list[float], size: int) -> list[float]:
    return [max(0.0, b[0]), max(0.0, b[1]), min(float(size), b[2]), min(float(size), b[3])]


def _protocol(
    objects: list[tuple[str, list[float]]], protocol: str, size: int
) -> tuple[list[list[float]], list[int]]:
    """Boxes and local labels of one image under ``protocol`` (``"T"``, ``"A"``, ``"B"``)."""
    boxes: list[list[float]] = []
    labels: list[int] = []
    for kind, full in objects:
        b, pad = full[:4], full[4:]
        w, h = b[2] - b[0], b[3] - b[1]
        if protocol == "T":
            label = {"car": 1, "truck": 2, "person": 3, "bicycle": 4, "parked-bicycle": 4}.get(kind)
            if label is not None:
                boxes.append(list(map(float, b)))
                labels.append(label)
        elif protocol == "A":
            if kind in ("car", "truck"):
                boxes.append(
                    _clip([b[0] - 0.2 * w, b[1] - 0.2 * h, b[2] + 0.2 * w, b[3] + 0.2 * h], size)
                )
                labels.append(1)
        else:
            label = {"car": 1, "truck": 2, "pedestrian": 3, "cyclist": 4, "sign": 5}.get(
                "pedestrian" if kind == "person" else kind
            )
            if kind == "person" and _in_cyclist(b, objects):
                label = None
            if label is not None:
                grown = [
                    b[0] - pad[0] * w,
                    b[1] - pad[1] * h,
                    b[2] + pad[2] * w,
                    b[3] + 4 + pad[3] * h,
                ]
                boxes.append(_clip(grown, size))
                labels.append(label)
    return boxes, labels


def _in_cyclist(b: list[float], objects: list[tuple[str, list[float]]]) -> bool:
    return any(
        k == "cyclist" and c[1] == b[1] and c[0] <= b[0] and b[2] <= c[2] for k, c in objects
    )


def _split(
    seed: int, split: str, n: int, size: int, style: str, protocol: str, space: LabelSpace
) -> DetectionDataset:
    images, records = [], []
    for i in range(n):
        img, objects = _draw_image(seed, _SPLITS[split], i, size, style)
        boxes, labels = _protocol(objects, protocol, size)
        images.append(torch.from_numpy(img).permute(2, 0, 1).contiguous())
        records.append(
            ImageRecord(
                i + 1,
                f"{split}_{i:05d}.png",
                size,
                size,
                torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                torch.tensor(labels, dtype=torch.int64),
            )
        )
    return DetectionDataset(space.name, space, records, lambda j: images[j])


def synthetic_benchmark(
    level: int = 2,
    *,
    target_train: int = 24,
    target_val: int = 24,
    target_test: int = 200,
    source_size: int = 150,
    image_size: int = 96,
    seed: int = 0,
) -> SyntheticBenchmark:
    """The level-2 benchmark of the module docstring.

    Examples:
        >>> bench = synthetic_benchmark(target_train=2, target_val=1, target_test=1, source_size=3)
        >>> sorted(bench.sources), bench.oracle["A"].space.name, len(bench.sources["B"])
        (['A', 'B'], 'T', 3)
        >>> again = synthetic_benchmark(target_train=1, target_val=1, target_test=1, source_size=2)
        >>> same = again.sources["B"][1].image == bench.sources["B"][1].image  # prefix-stable
        >>> bool(same.all())
        True
    """
    if level != 2:
        raise InputError(f"level: only level 2 is implemented; got {level}")
    for name, value in (
        ("target_train", target_train),
        ("target_val", target_val),
        ("target_test", target_test),
        ("source_size", source_size),
    ):
        if value < 1:
            raise InputError(f"{name}: expected >= 1; got {value}")
    if image_size < 64:
        raise InputError(f"image_size: expected >= 64 (objects are up to 35 px); got {image_size}")
    s = image_size
    return SyntheticBenchmark(
        _split(seed, "T-train", target_train, s, "T", "T", TARGET_SPACE),
        _split(seed, "T-val", target_val, s, "T", "T", TARGET_SPACE),
        _split(seed, "T-test", target_test, s, "T", "T", TARGET_SPACE),
        {
            "A": _split(seed, "A", source_size, s, "A", "A", A_SPACE),
            "B": _split(seed, "B", source_size, s, "B", "B", B_SPACE),
        },
        {
            "A": _split(seed, "A", source_size, s, "A", "T", TARGET_SPACE),
            "B": _split(seed, "B", source_size, s, "B", "T", TARGET_SPACE),
        },
        dict(NAME_MAP),
    )
