"""Shared pieces of the studies: the benchmark per seed, each method's training data, training
with fine-tune checkpoints, and evaluation through the reference COCO evaluator."""

from __future__ import annotations

import copy
import functools
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .._coco_eval import COCOStats, coco_ap, to_results
from .._data import DetectionDataset
from .._detector import build_detector, predict, train_detector
from .._labelspace import ConcatLabelSpace, LabelSpace
from .._synthetic import SyntheticBenchmark, synthetic_benchmark
from .config import Config, Method
from .context import Context


@functools.lru_cache(maxsize=4)
def benchmark_for(config: Config, seed: int) -> SyntheticBenchmark:
    """The level-2 benchmark of ``config``'s sizes and ``seed`` (built once per process: every
    worker rebuilds the same images from the seed instead of receiving them)."""
    return synthetic_benchmark(
        2,
        target_train=config.target_train,
        target_val=config.target_val,
        target_test=config.target_test,
        source_size=config.source_size,
        image_size=config.image_size,
        seed=seed,
    )


def benchmark(ctx: Context, offset: int) -> SyntheticBenchmark:
    """The level-2 benchmark of seed ``ctx.seed + offset``."""
    return benchmark_for(ctx.config, ctx.seed + offset)


#: A relabelled dataset without its images (picklable): its label space and per-image
#: ``(boxes, labels, scores)``; :func:`unpack` puts it back on the images it was made from.
Packed = tuple[LabelSpace, list[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]]]


def pack(ds: DetectionDataset) -> Packed:
    """``ds``'s annotations and label space, without the (unpicklable) image loader."""
    return ds.space, [(r.boxes, r.labels, r.scores) for r in ds.records]


def unpack(packed: Packed, images: DetectionDataset) -> DetectionDataset:
    """The annotations of :func:`pack` on ``images`` (the dataset they were made from)."""
    space, anns = packed
    return images.with_annotations(anns, space)


def unpack_sets(
    packed: dict[str, dict[str, Packed]], bench: SyntheticBenchmark
) -> dict[str, dict[str, DetectionDataset]]:
    """``{method: {source: packed}}`` back on ``bench``'s source images."""
    return {
        method: {n: unpack(p, bench.sources[n]) for n, p in sets.items()}
        for method, sets in packed.items()
    }


def evaluate(
    model: nn.Module, gt: DetectionDataset, *, offset: int = 0, backend: Any = "pycocotools"
) -> tuple[COCOStats, list[dict[str, Any]]]:
    """COCO AP of ``model`` on ``gt`` (labels ``offset + 1 .. offset + |T|`` read as T's)."""
    dets = predict(model, gt, label_offset=offset, num_local=len(gt.space))
    results = to_results(gt, dets)
    return coco_ap(gt, results, backend=backend), results


def transfer_ap(labelled: DetectionDataset, oracle: DetectionDataset) -> COCOStats:
    """AP of transferred (or relabelled) annotations against the oracle's, scores as confidence."""
    dets = [
        (r.boxes, r.labels, r.scores if r.scores is not None else torch.ones(len(r.labels)))
        for r in labelled.records
    ]
    return coco_ap(oracle, to_results(oracle, dets))


@dataclass(frozen=True)
class MethodData:
    """How a method trains: ``parts`` (dataset, label offset), the fine-tune part, the number of
    classes of its detector, and the offset of T's labels in it."""

    parts: list[tuple[DetectionDataset, int]]
    target: tuple[DetectionDataset, int]
    num_classes: int
    offset: int


def method_data(
    method: Method, bench: SyntheticBenchmark, relabelled: dict[str, dict[str, DetectionDataset]]
) -> MethodData:
    """The training data of ``method`` (``relabelled[method][source]`` in T's space)."""
    t = bench.target_train
    if method == "target-only":
        return MethodData([(t, 0)], (t, 0), len(t.space), 0)
    if method == "concat-pretrain":
        space = ConcatLabelSpace([t.space, *(s.space for s in bench.sources.values())])
        parts = [(t, 0)] + [(s, space.offset(n)) for n, s in bench.sources.items()]
        return MethodData(parts, (t, 0), space.num_classes, 0)
    sources = bench.oracle if method == "oracle" else relabelled[method]
    return MethodData([(t, 0)] + [(s, 0) for s in sources.values()], (t, 0), len(t.space), 0)


def train_with_checkpoints(
    data: MethodData,
    config: Config,
    *,
    lr: float,
    ft_lengths: tuple[int, ...],
    seed: int,
    progress: bool,
    desc: str,
) -> tuple[dict[int, dict[str, torch.Tensor]], float, nn.Module]:
    """Union phase, then fine-tune on T; state dicts at fine-tune step 0 and each length."""
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    model = build_detector(data.num_classes, image_size=config.image_size)
    train_detector(
        model,
        data.parts,
        steps=config.union_steps,
        lr=lr,
        batch_size=config.batch_size,
        seed=seed,
        progress=progress,
        desc=desc,
    )
    states = {0: copy.deepcopy(model.state_dict())}
    done = 0
    for k, length in enumerate(sorted(ft_lengths)):
        train_detector(
            model,
            [data.target],
            steps=length - done,
            lr=lr / 4,
            batch_size=config.batch_size,
            seed=seed + 7919 * (k + 1),
            progress=progress,
            desc=f"{desc} ft",
        )
        done = length
        states[length] = copy.deepcopy(model.state_dict())
    return states, time.perf_counter() - t0, model
