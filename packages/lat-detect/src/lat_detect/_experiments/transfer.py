"""Transfer study: specialists, pseudo-labels, LAT's transferred labels against the oracle."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch
from torchvision.ops import box_iou

from sciml_core import Job, run_jobs

from .._backbones import FeatureBackbone
from .._data import DetectionDataset
from .._labelspace import ConcatLabelSpace
from .._pipeline import LATConfig, naive_merge, pseudo_label_relabel, run_lat, train_lat_model
from .._pseudo import PseudoLabels
from .._synthetic import SyntheticBenchmark
from .._transfer import transfer_annotations
from .config import Config
from .context import Context
from .zoo import Packed, benchmark_for, method_data, pack, train_with_checkpoints, transfer_ap


def _lat_config(c: Config, **changes: object) -> LATConfig:
    base = LATConfig(
        specialist_steps=c.specialist_steps,
        transfer_steps=c.transfer_steps,
        transfer_batch=c.transfer_batch,
        batch_size=c.batch_size,
    )
    return LATConfig(**{**base.as_dict(), **changes})  # type: ignore[arg-type]


def _signs(
    bench_b_gt: list[tuple[torch.Tensor, torch.Tensor]],
    transferred: list[torch.Tensor],
    sign_label: int,
) -> tuple[int, int]:
    """(B's sign boxes, how many of them a transferred box covers at IoU >= 0.5)."""
    total = covered = 0
    for (boxes, labels), out in zip(bench_b_gt, transferred, strict=True):
        signs = boxes[labels == sign_label]
        total += len(signs)
        if len(signs) and len(out):
            covered += int((box_iou(signs, out).max(dim=1).values >= 0.5).sum())
    return total, covered


@dataclass
class TransferOut:
    """What one seed's transfer unit measured: values by key, its table rows, the relabelled
    sources (packed), and what an ablation of that seed reuses (pseudo-labels, backbone)."""

    values: dict[tuple[Any, ...], Any]
    rows: list[list[Any]]
    relabelled: dict[str, dict[str, Packed]]
    pseudo_labels: PseudoLabels | None = None
    backbone: FeatureBackbone | None = None


def _label_rows(
    values: dict[tuple[Any, ...], Any],
    offset: int,
    seed: int,
    relabelled: dict[str, dict[str, DetectionDataset]],
    bench: SyntheticBenchmark,
) -> list[list[Any]]:
    """Transfer-label AP of every relabelling against the oracle (values and table rows)."""
    rows = []
    for method, sets in relabelled.items():
        aps = {n: transfer_ap(sets[n], bench.oracle[n]) for n in bench.sources}
        for n, st in aps.items():
            values["transfer_ap", offset, method, n, "AP"] = st.ap
            values["transfer_ap", offset, method, n, "AP50"] = st.ap50
            for cls, ap in st.per_class.items():
                values["transfer_class", offset, method, n, cls] = ap
        ap = sum(s.ap for s in aps.values()) / len(aps)
        ap50 = sum(s.ap50 for s in aps.values()) / len(aps)
        values["transfer_ap", offset, method, "mean", "AP"] = ap
        values["transfer_ap", offset, method, "mean", "AP50"] = ap50
        boxes = sum(sets[n].num_boxes() for n in bench.sources)
        rows.append(
            [seed, method, aps["A"].ap, aps["A"].ap50, aps["B"].ap, aps["B"].ap50, ap, ap50, boxes]
        )
    return rows


def transfer_unit(config: Config, seed0: int, offset: int, progress: bool) -> TransferOut:
    """One seed: LAT's transfer, the pseudo-label and naive-merge relabelling, their label AP."""
    seed = seed0 + offset
    bench = benchmark_for(config, seed)
    values: dict[tuple[Any, ...], Any] = {}
    datasets = {"T": bench.target_train, **bench.sources}
    t0 = time.perf_counter()
    lat = run_lat(
        datasets,
        "T",
        config=_lat_config(config),
        seed=seed,
        progress=progress,
        image_size=config.image_size,
    )
    values["seconds", offset, "lat_pipeline"] = time.perf_counter() - t0
    for stage, sec in lat.seconds.items():
        values["seconds", offset, stage] = sec
    values["pl_passes", offset] = len(datasets) * (len(datasets) - 1)
    t_space = bench.target_train.space
    relabelled = {
        "lat": lat.transferred,
        "pseudo-label": {
            n: pseudo_label_relabel(s, lat.specialists["T"], t_space)
            for n, s in bench.sources.items()
        },
        "naive-merge": {
            n: naive_merge(s, t_space, bench.name_map) for n, s in bench.sources.items()
        },
    }
    # Every transferred label must be a target class, every box inside its image.
    outside = bad_boxes = total = 0
    for ds in lat.transferred.values():
        for rec in ds.records:
            total += len(rec.labels)
            outside += int(((rec.labels < 1) | (rec.labels > len(t_space))).sum())
            b = rec.boxes
            bad_boxes += int(
                (
                    (b[:, 0] < 0)
                    | (b[:, 1] < 0)
                    | (b[:, 2] > rec.width)
                    | (b[:, 3] > rec.height)
                    | (b[:, 2] <= b[:, 0])
                    | (b[:, 3] <= b[:, 1])
                ).sum()
            )
    values["target_space", offset] = (total, outside, bad_boxes, lat.transferred["A"].space.name)
    b_src = bench.sources["B"]
    values["signs", offset] = _signs(
        [(r.boxes, r.labels) for r in b_src.records],
        [r.boxes for r in lat.transferred["B"].records],
        b_src.space.classes.index("sign") + 1,
    )
    rows = _label_rows(values, offset, seed, relabelled, bench)
    backbone = lat.specialists["T"].backbone
    assert isinstance(backbone, FeatureBackbone)
    ablate = bool(ablations(config)) and offset == config.seeds[0]
    return TransferOut(
        values,
        rows,
        {m: {n: pack(d) for n, d in sets.items()} for m, sets in relabelled.items()},
        lat.pseudo_labels if ablate else None,
        backbone if ablate else None,
    )


def ablations(config: Config) -> dict[str, dict[str, Any]]:
    """The transfer-label ablations of ``config`` (first seed): ``{name: LATConfig changes}``;
    ``"backbone": "concat-pretrain"`` takes the backbone of a concat-pretrain detector instead of
    the target specialist's."""
    out: dict[str, dict[str, Any]] = {}
    if config.sff_ablation:
        out["lat-no-sff"] = {"sff": False}
    if config.extended_ablations:
        out.update(EXTENDED_ABLATIONS)
    return out


#: ``--extended``'s ablations (spec 7.3), transfer-label AP on the first seed.
EXTENDED_ABLATIONS: dict[str, dict[str, Any]] = {
    "lat-conf-log": {"conf_mode": "log"},
    "lat-fg-iou-0.5": {"fg_iou": 0.5},
    "lat-unfrozen": {"freeze_backbone": False},
    "lat-proposals-gt": {"proposals": "gt"},
    "lat-concat-backbone": {"backbone": "concat-pretrain"},
}


def ablation_unit(
    config: Config,
    seed0: int,
    offset: int,
    name: str,
    changes: dict[str, Any],
    pseudo: PseudoLabels,
    backbone: FeatureBackbone,
    progress: bool,
) -> tuple[dict[tuple[Any, ...], Any], list[list[Any]]]:
    """LAT's transfer model retrained with ``changes`` (same seed, specialists and
    pseudo-labels as the main run); its transferred labels' AP against the oracle."""
    seed = seed0 + offset
    bench = benchmark_for(config, seed)
    datasets = {"T": bench.target_train, **bench.sources}
    changes = dict(changes)
    if changes.pop("backbone", None) == "concat-pretrain":
        data = method_data("concat-pretrain", bench, {})
        _, _, det = train_with_checkpoints(
            data,
            config,
            lr=LATConfig().specialist_lr,
            ft_lengths=(),
            seed=seed,
            progress=progress,
            desc="concat-pretrain backbone",
        )
        trained = det.backbone
        assert isinstance(trained, FeatureBackbone)
        backbone = trained
    cfg = _lat_config(config, **changes)
    space = ConcatLabelSpace([d.space for d in datasets.values()])
    model = train_lat_model(
        datasets, pseudo, space, backbone, config=cfg, seed=seed, progress=progress
    )
    relabelled = {
        name: {
            n: transfer_annotations(
                model,
                s,
                pseudo[n],
                space,
                "T",
                proposals=cfg.proposals,
                keep_thr=cfg.keep_thr,
                bg_thr=cfg.bg_thr,
                nms_iou=cfg.nms_iou,
            )
            for n, s in bench.sources.items()
        }
    }
    values: dict[tuple[Any, ...], Any] = {}
    return values, _label_rows(values, offset, seed, relabelled, bench)


def run(ctx: Context) -> None:
    """Per seed (one unit each): LAT's transfer and the relabelling baselines; then the
    ablations of the first seed (one unit each); tables assembled in seed order."""
    c = ctx.config
    quiet = ctx.workers > 1 or not ctx.progress
    outs: list[TransferOut] = run_jobs(
        [
            Job(f"transfer seed {ctx.seed + o}", transfer_unit, (c, ctx.seed, o, not quiet))
            for o in c.seeds
        ],
        workers=ctx.workers,
        desc="transfer",
        show_progress=ctx.progress,
    )
    first = outs[0]
    abl = ablations(c)
    abl_outs: list[tuple[dict[tuple[Any, ...], Any], list[list[Any]]]] = []
    if abl:
        assert first.pseudo_labels is not None and first.backbone is not None
        abl_outs = run_jobs(
            [
                Job(
                    f"ablation {name}",
                    ablation_unit,
                    (
                        c,
                        ctx.seed,
                        c.seeds[0],
                        name,
                        ch,
                        first.pseudo_labels,
                        first.backbone,
                        not quiet,
                    ),
                )
                for name, ch in abl.items()
            ],
            workers=ctx.workers,
            desc="ablations",
            show_progress=ctx.progress,
        )
    rows = []
    for offset, out in zip(c.seeds, outs, strict=True):
        ctx.values.update(out.values)
        rows.extend(out.rows)
        ctx.store[f"relabelled/{offset}"] = out.relabelled
        if offset == c.seeds[0]:
            for values, arows in abl_outs:
                ctx.values.update(values)
                rows.extend(arows)
    ctx.result.add_table(
        "transfer_labels",
        "Transferred labels against the oracle (sources re-annotated with T's protocol): "
        "COCO AP of the labels, scores as confidence",
        ["seed", "method", "A AP", "A AP50", "B AP", "B AP50", "mean AP", "mean AP50", "boxes"],
        rows,
    )
    srows = []
    for offset in ctx.config.seeds:
        srows.append(
            [
                ctx.seed + offset,
                *(
                    round(float(ctx.values.get(("seconds", offset, s), float("nan"))), 2)
                    for s in ("specialists", "pseudo_labels", "transfer_model", "transfer")
                ),
                ctx.values["pl_passes", offset],
            ]
        )
    ctx.result.add_table(
        "lat_stages",
        "LAT stage times (s) and pseudo-label passes N(N-1)",
        ["seed", "specialists_s", "pseudo_labels_s", "transfer_model_s", "transfer_s", "pl_passes"],
        srows,
    )
