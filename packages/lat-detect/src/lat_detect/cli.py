"""Command line of lat-detect: ``specialists``, ``transfer``, ``train``, ``evaluate``,
``reproduce``, ``bench``.

Datasets are COCO files on disk (``--dataset NAME ANN.json IMAGE_DIR``); a ``--label-space``
file fixes the target's classes. Checkpoints are ``sciml_core.save_checkpoint`` files of this
package and version (another version is refused); foreign backbone weights load through
``sciml_core.load_pretrained``. Bad input is one line ``lat-detect: error: ...`` with exit
status 2; success is one line ``wrote PATH`` on stdout; progress bars go to stderr. The
experiments are imported inside the command functions only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch

from sciml_core import (
    InputError,
    atomic_write_text,
    format_comparisons,
    load_checkpoint,
    save_checkpoint,
)
from sciml_core.cli import App, is_quiet, wrote

from .__about__ import __version__
from ._backbones import BACKBONES, build_backbone, load_backbone_weights
from ._coco_eval import BACKENDS, coco_ap, to_results
from ._coco_io import load_coco, load_label_space, load_results, save_coco, save_results
from ._data import DetectionDataset, check_dataset
from ._detector import SCHEDULES, build_detector, predict, train_detector
from ._labelspace import LabelSpace

app = App(
    "lat-detect",
    version=__version__,
    description="Label-Aligned Transfer: merge detection datasets into one target label space "
    "(torchvision Faster R-CNN).",
)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {text}")
    return value


def _lr(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number; got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1); got {text}")
    return value


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _datasets(
    args: argparse.Namespace, space: LabelSpace | None = None, target: str | None = None
) -> dict[str, DetectionDataset]:
    out: dict[str, DetectionDataset] = {}
    for name, ann, images in args.dataset or []:
        if name in out:
            raise InputError(f"--dataset: the name {name!r} is given twice")
        ds = load_coco(ann, images, name=name, space=space if name == target else None)
        check_dataset(ds, argument=f"--dataset {name}")
        out[name] = ds
    return out


def _check_out_dir(out: Path, overwrite: bool) -> None:
    if any(p.name != ".lat-detect-probe" for p in out.iterdir()) and not overwrite:
        raise InputError(f"--out: '{out}' is not empty; pass --overwrite to write into it")


def _backbone(args: argparse.Namespace) -> Any:
    bb = build_backbone(args.backbone)
    if args.backbone_weights is not None:
        report = load_backbone_weights(bb, args.backbone_weights, sha256=args.sha256)
        if not is_quiet():
            _say(
                f"backbone weights: {report.fraction:.0%} of the entries matched, sha256 "
                f"{report.sha256[:12]}"
            )
    elif args.sha256 is not None:
        raise InputError("--sha256 checks --backbone-weights: give the file too")
    return bb


def _detector_config(
    space: LabelSpace, args: argparse.Namespace, role: str, num_classes: int | None = None
) -> dict[str, Any]:
    return {
        "role": role,
        "name": space.name,
        "classes": list(space.classes),
        "category_ids": list(space.category_ids),
        "backbone": args.backbone,
        "image_size": args.image_size,
        "num_classes": num_classes or len(space),
    }


def _load_detector(path: Path, argument: str) -> tuple[torch.nn.Module, LabelSpace, dict[str, Any]]:
    ckpt = load_checkpoint(path, package="lat-detect", version=__version__, argument=argument)
    cfg = ckpt.config if isinstance(ckpt.config, dict) else {}
    if cfg.get("role") not in ("specialist", "detector"):
        raise InputError(
            f"{argument}: '{path}' is not a detector written by lat-detect specialists or train"
        )
    space = LabelSpace(str(cfg["name"]), tuple(cfg["classes"]), tuple(cfg["category_ids"]))
    det = build_detector(
        int(cfg["num_classes"]), backbone=str(cfg["backbone"]), image_size=int(cfg["image_size"])
    )
    det.load_state_dict(ckpt.state_dict)
    return det.eval(), space, cfg


def _specialists(args: argparse.Namespace) -> int:
    from ._pipeline import LATConfig, train_specialists

    _check_out_dir(args.out, args.overwrite)
    bb = _backbone(args)
    datasets = _datasets(args)
    if not datasets:
        raise InputError("--dataset: give at least one dataset (NAME ANN.json IMAGE_DIR)")
    config = LATConfig(specialist_steps=args.steps, specialist_lr=args.lr, backbone=args.backbone)
    specs = train_specialists(
        datasets,
        config=config,
        seed=args.seed,
        progress=not is_quiet(),
        image_size=args.image_size,
        backbone=bb,
    )
    for name, det in specs.items():
        path = save_checkpoint(
            args.out / f"{name}.pt",
            det.state_dict(),
            config=_detector_config(datasets[name].space, args, "specialist"),
            package="lat-detect",
            version=__version__,
            overwrite=args.overwrite,
        )
        wrote(path)
    return 0


def _transfer(args: argparse.Namespace) -> int:
    from ._labelspace import ConcatLabelSpace
    from ._pipeline import LATConfig, run_lat

    _check_out_dir(args.out, args.overwrite)
    weights = args.backbone_weights is not None or args.sha256 is not None
    if weights and args.specialists is not None:
        flag = "--backbone-weights" if args.backbone_weights is not None else "--sha256"
        raise InputError(
            f"{flag}: the backbones come from --specialists '{args.specialists}'; give the "
            "weights to lat-detect specialists instead, or leave out --specialists"
        )
    space = load_label_space(args.label_space, name=args.target) if args.label_space else None
    datasets = _datasets(args, space, args.target)
    if len(datasets) < 2:
        raise InputError(
            "--dataset: LAT needs at least two datasets (a target and a source); got "
            f"{len(datasets)}"
        )
    if args.target not in datasets:
        raise InputError(
            f"--target: {args.target!r} is not one of the --dataset names {list(datasets)}"
        )
    if datasets[args.target].num_boxes() == 0:
        raise InputError(f"--target: dataset {args.target!r} has no annotated training image")
    bb = _backbone(args) if weights else None  # after the datasets: a bad one is the only line
    specs = None
    if args.specialists is not None:
        specs = {}
        for name, ds in datasets.items():
            path = args.specialists / f"{name}.pt"
            det, sp, cfg = _load_detector(path, "--specialists")
            if sp.classes != ds.space.classes or sp.category_ids != ds.space.category_ids:
                raise InputError(
                    f"--specialists: '{path}' was trained on classes {list(sp.classes)}; "
                    f"dataset {name} has {list(ds.space.classes)}"
                )
            if cfg["image_size"] != args.image_size:
                raise InputError(
                    f"--specialists: '{path}' was trained at --image-size "
                    f"{cfg['image_size']}; got {args.image_size}"
                )
            if cfg["backbone"] != args.backbone:
                raise InputError(
                    f"--specialists: '{path}' was trained with --backbone {cfg['backbone']}; "
                    f"got {args.backbone}"
                )
            specs[name] = det
    config = LATConfig(
        specialist_steps=args.specialist_steps,
        transfer_steps=args.steps,
        sff=not args.no_sff,
        backbone=args.backbone,
    )
    result = run_lat(
        datasets,
        args.target,
        config=config,
        specialists=specs,
        seed=args.seed,
        progress=not is_quiet(),
        image_size=args.image_size,
        backbone=bb,
    )
    (args.out / "checkpoints").mkdir(exist_ok=True)
    concat = ConcatLabelSpace([d.space for d in datasets.values()])
    save_checkpoint(
        args.out / "checkpoints" / "transfer.pt",
        result.model.state_dict(),
        config={
            "role": "transfer",
            "datasets": list(concat.names),
            "target": args.target,
            "lat": config.as_dict(),
        },
        package="lat-detect",
        version=__version__,
        overwrite=True,
    )
    report: dict[str, Any] = {
        "target": args.target,
        "config": config.as_dict(),
        "seconds": result.seconds,
        "files": {},
    }
    for name, ds in result.transferred.items():
        path = save_coco(
            ds,
            args.out / f"{name}.in_{args.target}.json",
            with_scores=True,
            info={
                "description": f"{name} transferred into {args.target} by lat-detect {__version__}"
            },
        )
        report["files"][name] = {
            "file": path.name,
            "boxes": ds.num_boxes(),
            "source_boxes": datasets[name].num_boxes(),
        }
        wrote(path)
    wrote(atomic_write_text(args.out / "report.json", json.dumps(report, indent=1)))
    return 0


def _train(args: argparse.Namespace) -> int:
    from ._data import concat_datasets

    space = load_label_space(args.label_space, name=args.target[0]) if args.label_space else None
    name, ann, images = args.target
    target = load_coco(ann, images, name=name, space=space, argument="--target")
    check_dataset(target, argument="--target")
    if target.num_boxes() == 0:
        raise InputError(f"--target: dataset {name!r} has no annotated training image")
    extras = []
    for ann_x, images_x in args.extra or []:
        ds = load_coco(ann_x, images_x, name=name, space=target.space, argument="--extra")
        check_dataset(ds, argument=f"--extra {ann_x}")
        extras.append(ds)
    union = concat_datasets([target, *extras], target.space)
    backbone = _backbone(args)  # after the datasets: a bad one is the only line on stderr
    det = build_detector(len(target.space), backbone=backbone, image_size=args.image_size)
    train_detector(
        det,
        union,
        steps=args.steps,
        lr=args.lr,
        batch_size=args.batch_size,
        schedule=args.schedule,
        target=(target, 0),
        ft_steps=args.ft_steps,
        ft_lr=args.lr / 4,
        seed=args.seed,
        progress=not is_quiet(),
    )
    save_checkpoint(
        args.output,
        det.state_dict(),
        config=_detector_config(target.space, args, "detector"),
        package="lat-detect",
        version=__version__,
        overwrite=args.overwrite,
    )
    wrote(args.output)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    if (args.model is None) == (args.predictions is None):
        raise InputError("give exactly one of --model (with --images) and --predictions")
    if args.model is not None:
        if args.images is None:
            raise InputError("--model needs --images (the folder of GT's images)")
        det, space, _ = _load_detector(args.model, "--model")
        gt = load_coco(args.gt, args.images, name=space.name, space=space, argument="GT")
        results = to_results(gt, predict(det, gt, progress=not is_quiet()))
    else:
        gt = load_coco(args.gt, args.images, name="gt", argument="GT")
        results = load_results(args.predictions, gt)
    stats = coco_ap(gt, results, backend=args.backend)
    text = json.dumps(
        {"backend": args.backend, "stats": stats.as_dict(), "per_class": stats.per_class}, indent=1
    )
    if args.output is not None:
        save_results(results, args.output)
        wrote(args.output)
        _say(text)
    else:
        print(text)
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from ._experiments.reproduce import reproduce

    if args.extended and args.quick:
        raise InputError("--extended: runs the full protocol and more; it cannot go with --quick")
    wrote(
        reproduce(
            Path(args.out),
            quick=args.quick,
            seed=args.seed,
            device="cpu",
            workers=args.workers,
            extended=args.extended,
        )
    )
    return 0


def _bench(args: argparse.Namespace) -> int:
    from ._experiments.bench import bench, format_memory, sff_memory

    rows = bench(quick=args.quick, seed=args.seed, device="cpu")
    memory = sff_memory(args.quick)
    print(format_comparisons(rows))
    print(format_memory(memory))
    out = Path(args.out) / "bench.json"
    report = {"rows": [r.row() for r in rows], "sff_memory": memory, "quick": args.quick}
    atomic_write_text(out, json.dumps(report, indent=1) + "\n")
    wrote(out)
    return 0


def _dataset_args(p: argparse.ArgumentParser, *, help: str) -> None:
    p.add_argument(
        "--dataset", nargs=3, action="append", metavar=("NAME", "ANN", "IMAGES"), help=help
    )


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--backbone", choices=BACKBONES, default="tiny", help="detector backbone (default: tiny)"
    )
    p.add_argument(
        "--backbone-weights",
        type=Path,
        default=None,
        metavar="FILE",
        help=(
            "local weights for the backbone, read with sciml_core.load_pretrained "
            "(default: random init)"
        ),
    )
    p.add_argument(
        "--sha256",
        default=None,
        metavar="HEX",
        help="expected SHA-256 of --backbone-weights (default: not checked)",
    )
    p.add_argument(
        "--image-size", type=_positive_int, default=96, help="detector input size (default: 96)"
    )


_p = app.add_command(
    "specialists",
    _specialists,
    help="train one detector per dataset in its own label space",
    common=("seed", "out", "quiet"),
)
_dataset_args(_p, help="a dataset: name, COCO annotation file, image folder (repeat)")
_model_args(_p)
_p.add_argument(
    "--steps", type=_positive_int, default=300, help="training steps per specialist (default: 300)"
)
_p.add_argument("--lr", type=_lr, default=2e-3, help="AdamW learning rate (default: 2e-3)")
_p.add_argument(
    "--overwrite", action="store_true", help="write into a non-empty --out (default: refuse)"
)

_p = app.add_command(
    "transfer",
    _transfer,
    help="transfer every source's annotations into the target's label space",
    common=("seed", "out", "quiet"),
)
_dataset_args(
    _p, help="a dataset: name, COCO annotation file, image folder (repeat; the target too)"
)
_p.add_argument("--target", required=True, help="name of the target dataset")
_p.add_argument(
    "--label-space",
    type=Path,
    default=None,
    metavar="FILE",
    help=(
        "JSON {name, categories} fixing the target's classes (default: the target file's "
        "categories)"
    ),
)
_p.add_argument(
    "--specialists",
    type=Path,
    default=None,
    metavar="DIR",
    help="folder of NAME.pt from lat-detect specialists, with their own backbones (not with "
    "--backbone-weights; default: train them here, from --backbone-weights if given)",
)
_p.add_argument(
    "--specialist-steps",
    type=_positive_int,
    default=300,
    help="steps of each specialist trained here (default: 300)",
)
_p.add_argument(
    "--steps", type=_positive_int, default=300, help="transfer-model steps (default: 300)"
)
_p.add_argument(
    "--no-sff",
    action="store_true",
    help="no Semantic Feature Fusion (the ablation; default: SFF on)",
)
_model_args(_p)
_p.add_argument(
    "--overwrite", action="store_true", help="write into a non-empty --out (default: refuse)"
)

_p = app.add_command(
    "train",
    _train,
    help="train a detector on the target plus transferred datasets",
    common=("seed", "quiet"),
)
_p.add_argument(
    "--target", nargs=3, required=True, metavar=("NAME", "ANN", "IMAGES"), help="the target dataset"
)
_p.add_argument(
    "--extra",
    nargs=2,
    action="append",
    metavar=("ANN", "IMAGES"),
    help="a dataset in the target's label space, e.g. A.in_T.json from transfer (repeat)",
)
_p.add_argument(
    "--label-space",
    type=Path,
    default=None,
    metavar="FILE",
    help="JSON {name, categories} fixing the target's classes (default: the target file's)",
)
_p.add_argument(
    "--steps", type=_positive_int, default=300, help="steps on the union (default: 300)"
)
_p.add_argument(
    "--ft-steps",
    type=int,
    default=90,
    help="fine-tune steps on the target alone with --schedule merge_then_target (default: 90)",
)
_p.add_argument(
    "--schedule",
    choices=SCHEDULES,
    default="merge_then_target",
    help="single or merge_then_target (default: merge_then_target)",
)
_p.add_argument(
    "--lr",
    type=_lr,
    default=2e-3,
    help="learning rate; the fine-tune uses a quarter (default: 2e-3)",
)
_p.add_argument("--batch-size", type=_positive_int, default=4, help="images per step (default: 4)")
_model_args(_p)
app.add_output_argument(_p, suffixes=(".pt",))

_p = app.add_command(
    "evaluate", _evaluate, help="COCO box AP of a model or of a predictions file (pycocotools)"
)
_p.add_argument("gt", type=Path, metavar="GT", help="COCO ground-truth file")
_p.add_argument(
    "--model", type=Path, default=None, help="a detector from lat-detect train or specialists"
)
_p.add_argument(
    "--images", type=Path, default=None, help="the ground truth's image folder (with --model)"
)
_p.add_argument(
    "--predictions", type=Path, default=None, help="a COCO results file (list of detections)"
)
_p.add_argument(
    "--backend",
    choices=BACKENDS,
    default="pycocotools",
    help="reference evaluator (default: pycocotools)",
)
app.add_output_argument(_p, required=False, suffixes=(".json",))

_p = app.add_reproduce(
    _reproduce,
    device=False,
    quick_help="small run: about a minute on one CPU thread (default: --full)",
)
_p.add_argument(
    "--workers",
    type=_positive_int,
    default=1,
    help="single-threaded worker processes for the independent units (seeds, methods, learning "
    "rates, ablations); the numbers are the same for any value (default: %(default)s)",
)
_p.add_argument(
    "--extended",
    action="store_true",
    help="the full protocol plus seed 2 and the other transfer-label ablations of spec 7.3 "
    "(not with --quick)",
)
app.add_bench(_bench, device=False)


def main(argv: list[str] | None = None) -> int:
    return app.run(argv)


if __name__ == "__main__":
    raise SystemExit(main())
