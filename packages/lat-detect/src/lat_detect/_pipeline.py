"""The LAT pipeline end to end, and the baselines' relabelling (spec 2.2, 2.6).

``run_lat``: specialists (one torchvision Faster R-CNN per dataset, native space) ->
cross pseudo-labels -> the transfer model (frozen copy of the target specialist's backbone,
PPG, SFF) trained on every dataset with dataset-balanced batches -> every source transferred
into the target space. Downstream training is any detector on the target plus the transferred
sources (:func:`lat_detect.train_detector`).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from sciml_core import InputError, as_generator, as_torch_generator, check_finite
from sciml_core.cli import progress as _bar

from ._backbones import BackboneName, FeatureBackbone
from ._data import DetectionDataset, check_dataset
from ._detector import build_detector, flip_sample, train_detector
from ._labelspace import ConcatLabelSpace, LabelSpace
from ._model import LATModel, Match
from ._ppg import PrivilegedProposalGenerator
from ._pseudo import PseudoLabels, cross_pseudo_labels, filter_detections
from ._sff import ClampMode, ClassInput, ConfMode
from ._transfer import ProposalSource, transfer_annotations

__all__ = [
    "LATConfig",
    "LATResult",
    "naive_merge",
    "pseudo_label_relabel",
    "run_lat",
    "train_lat_model",
    "train_specialists",
]


@dataclass(frozen=True)
class LATConfig:
    """Every default of spec section 2 (our reconstruction where the paper is not readable).

    Attributes:
        specialist_steps, specialist_lr: Training of each specialist (batch ``batch_size``).
        pl_score, pl_nms: Pseudo-label threshold and class-wise NMS IoU.
        transfer_steps, transfer_lr, transfer_batch: Training of the transfer model; each
            step takes ``transfer_batch`` images of one dataset (datasets in turn: balanced).
        jitter, drop: PPG.
        fg_iou, match: Foreground rule of privileged proposals.
        sff, clamp_mode, conf_mode, class_input, overlap_mask: SFF.
        freeze_backbone: Keep the (target specialist's) backbone frozen.
        proposals, keep_thr, bg_thr, nms_iou: Transfer.
        batch_size: Specialists' batch.
        backbone: Backbone of the specialists.
    """

    specialist_steps: int = 300
    specialist_lr: float = 2e-3
    pl_score: float = 0.5
    pl_nms: float = 0.5
    transfer_steps: int = 300
    transfer_lr: float = 1e-3
    transfer_batch: int = 2
    jitter: float = 0.08
    drop: float = 0.15
    fg_iou: float = 0.3
    match: Match = "iou"
    sff: bool = True
    clamp_mode: ClampMode = "rescale"
    conf_mode: ConfMode = "multiply"
    class_input: ClassInput = "label"
    overlap_mask: bool = False
    freeze_backbone: bool = True
    proposals: ProposalSource = "gt+pl"
    keep_thr: float = 0.5
    bg_thr: float = 0.5
    nms_iou: float = 0.5
    batch_size: int = 4
    backbone: BackboneName = "tiny"

    def as_dict(self) -> dict[str, object]:
        """The config as a JSON-able dict."""
        return asdict(self)


#: The defaults of spec section 2.
DEFAULT_CONFIG = LATConfig()


@dataclass
class LATResult:
    """What :func:`run_lat` made: ``transferred[source]`` in the target space, the models,
    the pseudo-labels and seconds per stage."""

    transferred: dict[str, DetectionDataset]
    specialists: dict[str, nn.Module]
    model: LATModel
    pseudo_labels: PseudoLabels
    space: ConcatLabelSpace
    seconds: dict[str, float] = field(default_factory=dict)


def _check_inputs(datasets: Mapping[str, DetectionDataset], target: str) -> None:
    if len(datasets) < 2:
        raise InputError(
            f"datasets: LAT needs at least two (a target and a source); got {len(datasets)}"
        )
    if target not in datasets:
        raise InputError(f"target: {target!r} is not one of the datasets {list(datasets)}")
    for name, ds in datasets.items():
        if ds.name != name:
            raise ValueError(f"dataset key {name!r} differs from its name {ds.name!r}")
        check_dataset(ds, argument=f"dataset {name}")
    if datasets[target].num_boxes() == 0:
        raise InputError(f"target: dataset {target!r} has no annotated training image")


def train_specialists(
    datasets: Mapping[str, DetectionDataset],
    *,
    config: LATConfig = DEFAULT_CONFIG,
    seed: int = 0,
    progress: bool = True,
    image_size: int = 96,
    backbone: FeatureBackbone | None = None,
) -> dict[str, nn.Module]:
    """One detector per dataset in its own label space; each starts from a copy of
    ``backbone`` when given (e.g. local pretrained weights), else from ``config.backbone``."""
    out: dict[str, nn.Module] = {}
    for k, (name, ds) in enumerate(datasets.items()):
        torch.manual_seed(seed + 101 * k)
        bb = copy.deepcopy(backbone) if backbone is not None else config.backbone
        det = build_detector(len(ds.space), backbone=bb, image_size=image_size)
        train_detector(
            det,
            ds,
            steps=config.specialist_steps,
            lr=config.specialist_lr,
            batch_size=config.batch_size,
            seed=seed + 101 * k,
            progress=progress,
            desc=f"specialist {name}",
        )
        out[name] = det.eval()
    return out


def train_lat_model(
    datasets: Mapping[str, DetectionDataset],
    pseudo: PseudoLabels,
    space: ConcatLabelSpace,
    backbone: FeatureBackbone,
    *,
    config: LATConfig = DEFAULT_CONFIG,
    seed: int = 0,
    progress: bool = True,
) -> LATModel:
    """Train the transfer model on every dataset (GT + pseudo-labels through the PPG)."""
    torch.manual_seed(seed)
    model = LATModel(
        copy.deepcopy(backbone),
        num_classes=space.num_classes,
        num_datasets=len(space.names),
        sff=config.sff,
        freeze_backbone=config.freeze_backbone,
        fg_iou=config.fg_iou,
        match=config.match,
        clamp_mode=config.clamp_mode,
        conf_mode=config.conf_mode,
        class_input=config.class_input,
        overlap_mask=config.overlap_mask,
    )
    ppg = PrivilegedProposalGenerator(jitter=config.jitter, drop=config.drop)
    gen = as_torch_generator(seed)
    rng = as_generator(seed + 1)
    names = list(datasets)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.transfer_lr, weight_decay=1e-4)
    model.train()
    for step in _bar(
        range(config.transfer_steps), desc="transfer model", unit="step", disable=not progress
    ):
        name = names[step % len(names)]
        ds = datasets[name]
        o = space.offset(name)
        idx = rng.integers(0, len(ds), config.transfer_batch)
        images, props, targets = [], [], []
        for i in idx:
            s = ds[int(i)]
            img, boxes = s.image, s.boxes
            pb, pl, ps = pseudo[name][int(i)]
            if rng.random() < 0.5:
                img, boxes = flip_sample(img, boxes)
                _, pb = flip_sample(s.image, pb)
            labels = s.labels + o
            images.append(img)
            props.append(
                ppg(
                    boxes,
                    labels,
                    (pb, pl, ps),
                    image_size=(int(img.shape[1]), int(img.shape[2])),
                    generator=gen,
                )
            )
            targets.append((boxes, labels))
        if sum(len(p) for p in props) == 0:
            continue
        masks = space.mask(name)[None, :].expand(len(images), -1)
        losses = model(images, props, masks, targets)
        assert isinstance(losses, dict)
        loss = losses["loss_classifier"] + losses["loss_box_reg"]
        check_finite(loss.detach(), f"transfer-model loss (step {step}; lower the learning rate)")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval()


def run_lat(
    datasets: Mapping[str, DetectionDataset],
    target: str,
    *,
    config: LATConfig = DEFAULT_CONFIG,
    specialists: Mapping[str, nn.Module] | None = None,
    seed: int = 0,
    progress: bool = True,
    image_size: int = 96,
    backbone: FeatureBackbone | None = None,
) -> LATResult:
    """Transfer every source of ``datasets`` into ``target``'s label space (module docstring).

    Args:
        datasets: ``{name: dataset}``, at least two, names as in their label spaces.
        target: The target's name.
        config: The method's settings.
        specialists: Trained specialists by name (default: trained here).
        seed: Seed of every stage.
        progress: Show progress bars.
        image_size: Detector input size of specialists trained here.
        backbone: Start of every specialist trained here (e.g. local pretrained weights; a copy
            each); the transfer model takes the target specialist's. Default: a new
            ``config.backbone``. Not with ``specialists``, which carry their own.
    """
    if backbone is not None and specialists is not None:
        raise InputError(
            "backbone: the given specialists carry their own backbones; give one or the other"
        )
    _check_inputs(datasets, target)
    space = ConcatLabelSpace([ds.space for ds in datasets.values()])
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    if specialists is None:
        specs = train_specialists(
            datasets,
            config=config,
            seed=seed,
            progress=progress,
            image_size=image_size,
            backbone=backbone,
        )
    else:
        specs = dict(specialists)
    seconds["specialists"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pseudo = cross_pseudo_labels(
        datasets, specs, space, score_thr=config.pl_score, nms_iou=config.pl_nms
    )
    seconds["pseudo_labels"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    target_backbone = specs[target].backbone
    assert isinstance(target_backbone, FeatureBackbone)
    model = train_lat_model(
        datasets, pseudo, space, target_backbone, config=config, seed=seed, progress=progress
    )
    seconds["transfer_model"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    transferred = {
        name: transfer_annotations(
            model,
            ds,
            pseudo[name],
            space,
            target,
            proposals=config.proposals,
            keep_thr=config.keep_thr,
            bg_thr=config.bg_thr,
            nms_iou=config.nms_iou,
        )
        for name, ds in datasets.items()
        if name != target
    }
    seconds["transfer"] = time.perf_counter() - t0
    return LATResult(transferred, specs, model, pseudo, space, seconds)


def pseudo_label_relabel(
    source: DetectionDataset,
    target_specialist: nn.Module,
    target_space: LabelSpace,
    *,
    score_thr: float = 0.5,
    nms_iou: float = 0.5,
) -> DetectionDataset:
    """The pseudo-label baseline: the target specialist labels the source images (filtered)."""
    from ._detector import predict

    dets = predict(target_specialist, source, score_thr=score_thr)
    return source.with_annotations(
        [filter_detections(b, lab, s, score_thr=score_thr, nms_iou=nms_iou) for b, lab, s in dets],
        target_space,
    )


def naive_merge(
    source: DetectionDataset, target_space: LabelSpace, name_map: Mapping[str, str]
) -> DetectionDataset:
    """Source boxes as given, classes renamed by ``name_map``; unmapped classes dropped."""
    bad = {v for v in name_map.values() if v not in target_space.classes}
    if bad:
        raise InputError(
            f"name_map: target classes {sorted(bad)} are not in {list(target_space.classes)}"
        )
    lut = torch.zeros(len(source.space) + 1, dtype=torch.long)
    for c, cls in enumerate(source.space.classes, start=1):
        if cls in name_map:
            lut[c] = target_space.classes.index(name_map[cls]) + 1
    anns: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]] = []
    for rec in source.records:
        new = lut[rec.labels]
        keep = new > 0
        anns.append((rec.boxes[keep], new[keep], None))
    return source.with_annotations(anns, target_space)
