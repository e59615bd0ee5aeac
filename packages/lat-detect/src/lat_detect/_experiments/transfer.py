"""Transfer study: specialists, pseudo-labels, LAT's transferred labels against the oracle."""

from __future__ import annotations

import time

import torch
from torchvision.ops import box_iou

from .._backbones import FeatureBackbone
from .._labelspace import ConcatLabelSpace
from .._pipeline import LATConfig, naive_merge, pseudo_label_relabel, run_lat, train_lat_model
from .._transfer import transfer_annotations
from .context import Context
from .zoo import benchmark, transfer_ap


def _lat_config(ctx: Context, **changes: object) -> LATConfig:
    c = ctx.config
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


def run(ctx: Context) -> None:
    """Per seed: LAT's transfer, the pseudo-label and naive-merge relabelling, their label AP."""
    rows = []
    for offset in ctx.config.seeds:
        seed = ctx.seed + offset
        bench = benchmark(ctx, offset)
        datasets = {"T": bench.target_train, **bench.sources}
        t0 = time.perf_counter()
        lat = run_lat(
            datasets,
            "T",
            config=_lat_config(ctx),
            seed=seed,
            progress=ctx.progress,
            image_size=ctx.config.image_size,
        )
        ctx.values["seconds", offset, "lat_pipeline"] = time.perf_counter() - t0
        for stage, sec in lat.seconds.items():
            ctx.values["seconds", offset, stage] = sec
        ctx.values["pl_passes", offset] = len(datasets) * (len(datasets) - 1)
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
        if ctx.config.sff_ablation and offset == ctx.config.seeds[0]:
            cfg = _lat_config(ctx, sff=False)
            space = ConcatLabelSpace([d.space for d in datasets.values()])
            backbone = lat.specialists["T"].backbone
            assert isinstance(backbone, FeatureBackbone)
            model = train_lat_model(
                datasets,
                lat.pseudo_labels,
                space,
                backbone,
                config=cfg,
                seed=seed,
                progress=ctx.progress,
            )
            relabelled["lat-no-sff"] = {
                n: transfer_annotations(model, s, lat.pseudo_labels[n], space, "T")
                for n, s in bench.sources.items()
            }
        ctx.store[f"relabelled/{offset}"] = relabelled
        ctx.store[f"specialists/{offset}"] = lat.specialists
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
        ctx.values["target_space", offset] = (
            total,
            outside,
            bad_boxes,
            lat.transferred["A"].space.name,
        )
        b_src = bench.sources["B"]
        ctx.values["signs", offset] = _signs(
            [(r.boxes, r.labels) for r in b_src.records],
            [r.boxes for r in lat.transferred["B"].records],
            b_src.space.classes.index("sign") + 1,
        )
        for method, sets in relabelled.items():
            aps = {n: transfer_ap(sets[n], bench.oracle[n]) for n in bench.sources}
            for n, st in aps.items():
                ctx.values["transfer_ap", offset, method, n, "AP"] = st.ap
                ctx.values["transfer_ap", offset, method, n, "AP50"] = st.ap50
            ap = sum(s.ap for s in aps.values()) / len(aps)
            ap50 = sum(s.ap50 for s in aps.values()) / len(aps)
            ctx.values["transfer_ap", offset, method, "mean", "AP"] = ap
            ctx.values["transfer_ap", offset, method, "mean", "AP50"] = ap50
            boxes = sum(sets[n].num_boxes() for n in bench.sources)
            rows.append(
                [
                    seed,
                    method,
                    aps["A"].ap,
                    aps["A"].ap50,
                    aps["B"].ap,
                    aps["B"].ap50,
                    ap,
                    ap50,
                    boxes,
                ]
            )
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
