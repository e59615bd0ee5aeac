"""Command line of brain-hyda: ``pretrain``, ``adapt``, ``segment``, ``inspect-weights``,
``reproduce``, ``bench``.

The experiments are imported inside the command functions only, so that ``import brain_hyda``
never loads them. Bad input is one line ``brain-hyda: error: ...`` naming the argument, exit
status 2, before any output is written; success prints one line ``wrote PATH`` on stdout
(summaries and progress bars go to stderr; ``inspect-weights`` prints its report on stdout).
"""

from __future__ import annotations

import argparse
import sys
import typing
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from sciml_core import (
    InputError,
    format_comparisons,
    inspect_weights,
    load_checkpoint,
    save_checkpoint,
)
from sciml_core.cli import App, is_quiet, wrote

from .__about__ import __version__
from ._encoders import TinyUNet
from ._hyda import (
    MISSING_MODES,
    FullFineTune,
    HyDA,
    Probe,
    Scratch,
    StaticAdapter,
    count_trainable,
)
from ._sam3d import SAM3D_VARIANTS, ViT3DTaps, build_image_encoder, load_sam3d_weights
from ._train import Subjects, fit, pretrain_backbone
from ._volumes import load_patient, load_volume, save_volume, sliding_window

Method = Literal["hyda", "static", "probe", "finetune", "scratch"]
METHODS: tuple[Method, ...] = typing.get_args(Method)
Backbone = Literal["tinyunet", "vit_b_ori", "small", "tiny"]
BACKBONES: tuple[Backbone, ...] = ("tinyunet", *SAM3D_VARIANTS)

app = App(
    "brain-hyda",
    version=__version__,
    description="A 3-D SAM-style brain backbone with the Hypergraph Dynamic Adapter (HyDA).",
)


def _say(text: str, *, always: bool = False) -> None:
    """An information line on stderr; ``--quiet`` silences it unless ``always`` (a warning)."""
    if always or not is_quiet():
        print(text, file=sys.stderr, flush=True)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {text}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0; got {text!r}") from None
    if not (value > 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0; got {text}")
    return value


def _modalities(text: str) -> list[str]:
    mods = [m.strip() for m in text.split(",") if m.strip()]
    if not mods:
        raise InputError(f"--modalities: expected names separated by commas; got {text!r}")
    if len(set(mods)) != len(mods):
        raise InputError(f"--modalities: a modality repeats: {text}")
    return mods


# -- models from configs --------------------------------------------------------------------------
def _backbone(config: dict[str, Any]) -> tuple[torch.nn.Module, torch.nn.Module | None, int]:
    """(encoder, decoder or None, ViT up-path steps) of a config's backbone."""
    kind = config["backbone"]
    if kind == "tinyunet":
        net = TinyUNet(1, 5)
        return net.encoder, net.decoder, 0
    enc = build_image_encoder(kind)
    taps = ViT3DTaps(enc, tuple(range(1, len(enc.blocks) + 1)))
    return taps, None, int(np.log2(enc.patch))


def _build(
    config: dict[str, Any], encoder: torch.nn.Module, decoder: torch.nn.Module | None, ups: int
) -> torch.nn.Module:
    mods, method = config["modalities"], config["method"]
    common: dict[str, Any] = {"num_classes": 2, "decoder": decoder, "upsample": ups, "seed": 0}
    if method == "scratch":
        return Scratch(mods, num_classes=2)
    if method == "probe":
        return Probe(encoder, mods, **common)
    if method == "finetune":
        return FullFineTune(encoder, mods, **common)
    hyda = HyDA(encoder, mods, **common)
    if method == "hyda":
        return hyda
    return StaticAdapter(encoder, mods, at_least=count_trainable(hyda), **common)


def _load_model(path: Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    ckpt = load_checkpoint(path, package="brain-hyda", version=__version__, argument="--model")
    config = ckpt.config if isinstance(ckpt.config, dict) else {}
    if config.get("kind") != "adapter" or config.get("method") not in METHODS:
        raise InputError(f"--model: '{path}' is not an adapter written by brain-hyda adapt")
    encoder, decoder, ups = _backbone(config)
    model = _build(config, encoder, decoder, ups)
    state = dict(ckpt.state_dict)
    if isinstance(model, HyDA) and "bank" in state:
        model.bank = torch.zeros_like(state["bank"])
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).splitlines()[0]
        raise InputError(f"--model: '{path}' does not match its own config: {first}") from None
    model.eval()
    return model, config


# -- commands --------------------------------------------------------------------------------------
def _pretrain(args: argparse.Namespace) -> int:
    net, held = pretrain_backbone(
        subjects=args.subjects,
        epochs=args.epochs,
        size=args.size,
        seed=args.seed,
        show_progress=not is_quiet(),
    )
    _say("held-out FLAIR Dice: " + ", ".join(f"{k} {v:.3f}" for k, v in held.items()))
    config = {
        "kind": "backbone",
        "backbone": "tinyunet",
        "subjects": args.subjects,
        "epochs": args.epochs,
        "size": args.size,
        "seed": args.seed,
    }
    save_checkpoint(
        args.output,
        net.state_dict(),
        config=config,
        package="brain-hyda",
        version=__version__,
        overwrite=args.overwrite,
    )
    wrote(args.output)
    return 0


def _read_dataset(folder: Path, mods: list[str]) -> tuple[Subjects, int]:
    if not folder.is_dir():
        raise InputError(f"DATA_DIR: '{folder}' is not a folder")
    subjects = sorted(p for p in folder.iterdir() if p.is_dir())
    if not subjects:
        raise InputError(f"DATA_DIR: '{folder}' holds no subject folders")
    vols: dict[str, list[np.ndarray]] = {m: [] for m in mods}
    labels = []
    shape = None
    for sub in subjects:
        files = []
        for name in [*mods, "labels"]:
            found = [
                sub / f"{name}{s}"
                for s in (".nii.gz", ".nii", ".npy")
                if (sub / f"{name}{s}").is_file()
            ]
            if not found:
                raise InputError(
                    f"DATA_DIR: '{sub}' has no {name}.nii.gz, {name}.nii or {name}.npy"
                )
            files.append(found[0])
        arrays, ref = load_patient(files[:-1], mods)
        lab = load_volume(files[-1], argument=f"DATA_DIR ({sub.name} labels)").array
        if lab.shape != ref.array.shape:
            raise InputError(
                f"DATA_DIR: '{files[-1]}' has shape {lab.shape}, its images {ref.array.shape}"
            )
        if not np.all(np.isin(lab, (0, 1))):
            raise InputError(f"DATA_DIR: '{files[-1]}' must hold labels 0 and 1 only")
        if shape is not None and lab.shape != shape:
            raise InputError(
                f"DATA_DIR: subjects differ in shape ({shape} and {lab.shape} in '{sub}')"
            )
        shape = lab.shape
        for m in mods:
            vols[m].append(arrays[m])
        labels.append(lab.astype(np.int64))
    assert shape is not None
    data = Subjects(
        {m: torch.from_numpy(np.stack(v)[:, None]) for m, v in vols.items()},
        torch.from_numpy(np.stack(labels)),
        torch.zeros(len(labels), dtype=torch.long),
        torch.zeros(len(labels), dtype=torch.long),
    )
    return data, int(shape[0])


def _adapt(args: argparse.Namespace) -> int:
    mods = _modalities(args.modalities)
    if args.backbone != "tinyunet" and args.weights is None and args.method != "scratch":
        raise InputError(f"--weights: a {args.backbone} backbone needs SAM-Med3D weights (FILE)")
    data, size = _read_dataset(Path(args.data_dir), mods)
    config: dict[str, Any] = {
        "kind": "adapter",
        "method": args.method,
        "modalities": mods,
        "backbone": args.backbone,
        "patch": size,
    }
    encoder, decoder, ups = _backbone(config)
    if args.backbone == "tinyunet" and args.weights is not None:
        ckpt = load_checkpoint(
            args.weights, package="brain-hyda", version=__version__, argument="--weights"
        )
        cfg = ckpt.config if isinstance(ckpt.config, dict) else {}
        if cfg.get("kind") != "backbone":
            raise InputError(
                f"--weights: '{args.weights}' is not a backbone of brain-hyda pretrain"
            )
        net = TinyUNet(1, 5)
        net.load_state_dict(ckpt.state_dict)
        encoder, decoder = net.encoder, net.decoder
    elif args.weights is not None:
        assert isinstance(encoder, ViT3DTaps)
        try:
            report = load_sam3d_weights(encoder.encoder, args.weights, sha256=args.sha256)
        except InputError as err:
            raise InputError(f"--weights: {str(err).removeprefix('path: ')}") from None
        _say(str(report))
    elif args.method != "scratch":
        _say(
            "no --weights: the backbone is random (a control, not a foundation model)",
            always=True,
        )
    model = _build(config, encoder, decoder, ups)
    _say(f"{args.method}: {count_trainable(model):,} trainable parameters, {len(data)} subjects")
    fit(
        model,
        data,
        steps=args.steps,
        lr=args.lr,
        seed=args.seed,
        augment=args.method == "scratch",
        show_progress=not is_quiet(),
    )
    save_checkpoint(
        args.output,
        model.state_dict(),
        config=config,
        package="brain-hyda",
        version=__version__,
        overwrite=args.overwrite,
    )
    wrote(args.output)
    return 0


def _segment(args: argparse.Namespace) -> int:
    mods = _modalities(args.modalities)
    model, config = _load_model(args.model)
    adapted = config["modalities"]
    subset = set(mods) < set(adapted)
    if sorted(mods) != sorted(adapted) and not (args.missing == "zero" and subset):
        hint = "; with --missing zero a subset of them" if args.missing == "zero" else ""
        raise InputError(
            f"--modalities: the model was adapted to {','.join(adapted)}{hint}; got "
            f"{','.join(mods)}"
        )
    if subset:
        if not isinstance(model, HyDA):
            raise InputError(
                f"--missing: 'zero' needs an adapter (hyda, static, probe, finetune); "
                f"'{args.model}' is a {config['method']} model"
            )
        model.missing = "zero"
    arrays, ref = load_patient(args.volumes, mods)
    vols = {m: torch.from_numpy(arrays[m])[None, None] for m in mods}
    patch = args.patch or int(config["patch"])
    embedding = None
    if isinstance(model, HyDA) and model.uses_embedding:
        pooled = []

        def collect(win: dict[str, torch.Tensor]) -> torch.Tensor:
            full, present = model.complete(win)
            pooled.append(model.pooled(model.mask_features(model.encode(full), present)))
            return torch.zeros(1, 1, *next(iter(win.values())).shape[2:])

        with torch.no_grad():
            sliding_window(collect, vols, patch=patch, overlap=args.overlap, show_progress=False)
            embedding = model.patient_embedding(pooled=torch.stack(pooled).mean(0))
    with torch.no_grad():
        logits = sliding_window(
            lambda win: model(win, embedding=embedding),
            vols,
            patch=patch,
            overlap=args.overlap,
            show_progress=not is_quiet(),
        )
    labels = logits.argmax(1)[0].numpy().astype(np.int16)
    _say(f"{int(labels.sum())} lesion voxels of {labels.size}")
    save_volume(labels, ref, args.output)
    wrote(args.output)
    return 0


def _inspect(args: argparse.Namespace) -> int:
    info = inspect_weights(args.checkpoint)
    print(info.describe())
    enc = build_image_encoder(args.variant)
    own = {k: tuple(v.shape) for k, v in enc.state_dict().items()}
    prefix = args.select.rstrip(".") + "." if args.select else ""
    names = [e.name for e in info.entries]
    for strip in ("module.", "_orig_mod.", "model."):
        if names and all(n.startswith(strip) for n in names):
            names = [n[len(strip) :] for n in names]
    shapes = {n: e.shape for n, e in zip(names, info.entries)}
    chosen = {n[len(prefix) :]: s for n, s in shapes.items() if n.startswith(prefix)}
    same = sum(1 for k, s in chosen.items() if own.get(k) == tuple(s))
    other = sum(1 for k, s in chosen.items() if k in own and own[k] != tuple(s))
    print(
        f"{args.variant} image encoder: {same} of {len(own)} entries would load from "
        f"'{prefix or '(top level)'}' ({other} of another shape, {len(own) - same - other} missing)"
    )
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from sciml_core import resolve_device

    from ._experiments.reproduce import reproduce

    path = reproduce(
        Path(args.out),
        quick=args.quick,
        seed=args.seed,
        device=str(resolve_device(args.device)),
        workers=args.workers,
    )
    wrote(path)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from sciml_core import atomic_write_text, resolve_device

    from ._experiments.bench import bench

    device = str(resolve_device(args.device))
    rows = bench(quick=args.quick, seed=args.seed, device=device)
    print(format_comparisons(rows), file=sys.stderr)
    import json

    out = Path(args.out) / "bench.json"
    atomic_write_text(out, json.dumps([r.row() for r in rows], indent=2))
    wrote(out)
    if not args.quick and device == "cpu" and sys.platform.startswith("linux"):
        from ._experiments.memory import memory_rows

        cells = memory_rows()
        for c in cells:
            print(
                f"peak memory of one step, {c['backbone']} {c['grid']}^3: HyDA "
                f"{c['hyda_growth_mib']} MiB vs full fine-tuning {c['finetune_growth_mib']} MiB, "
                f"ratio {c['memory_ratio']}",
                file=sys.stderr,
            )
        mem = Path(args.out) / "memory.json"
        atomic_write_text(mem, json.dumps(cells, indent=2))
        wrote(mem)
    return 0


_p = app.add_command(
    "pretrain",
    _pretrain,
    help="pre-train the TinyUNet backbone on synthetic brains",
    common=("seed", "quiet"),
)
_p.add_argument(
    "--subjects", type=_positive_int, default=200, help="subjects x (T1, FLAIR, T2) (default: 200)"
)
_p.add_argument("--epochs", type=_positive_int, default=3, help="epochs (default: 3)")
_p.add_argument(
    "--size", type=_positive_int, default=32, help="grid edge, a multiple of 8 (default: 32)"
)
app.add_output_argument(_p, suffixes=(".pt",))

_p = app.add_command(
    "adapt",
    _adapt,
    help="train an adapter (or a control) on labelled subjects",
    common=("seed", "quiet"),
)
_p.add_argument(
    "data_dir",
    metavar="DATA_DIR",
    help="one folder per subject holding <MODALITY>.nii.gz (or .nii, .npy) and labels.*",
)
_p.add_argument("--modalities", required=True, help="sequences, comma-separated, e.g. T1,FLAIR")
_p.add_argument("--method", choices=METHODS, default="hyda", help="what to train (default: hyda)")
_p.add_argument(
    "--backbone",
    choices=BACKBONES,
    default="tinyunet",
    help="TinyUNet (from brain-hyda pretrain) or a SAM-Med3D ViT variant (default: tinyunet)",
)
_p.add_argument(
    "--weights",
    type=Path,
    default=None,
    metavar="FILE",
    help="backbone weights: brain-hyda pretrain output, or a SAM-Med3D checkpoint "
    "(default: random)",
)
_p.add_argument(
    "--sha256", default=None, metavar="HEX", help="expected SHA-256 of a SAM-Med3D --weights file"
)
_p.add_argument("--steps", type=_positive_int, default=200, help="AdamW steps (default: 200)")
_p.add_argument("--lr", type=_positive_float, default=3e-3, help="learning rate (default: 3e-3)")
app.add_output_argument(_p, suffixes=(".pt",))

_p = app.add_command("segment", _segment, help="lesion labels of one patient, on the input grid")
_p.add_argument(
    "volumes",
    nargs="+",
    type=Path,
    metavar="VOLUMES",
    help="one file per sequence (.nii.gz, .nii or .npy), in the order of --modalities",
)
_p.add_argument("--modalities", required=True, help="sequences of VOLUMES, comma-separated")
_p.add_argument("--model", required=True, type=Path, help="adapter written by brain-hyda adapt")
_p.add_argument(
    "--missing",
    choices=MISSING_MODES,
    default="error",
    help="a sequence the model was adapted to but --modalities lacks: 'error', or 'zero' "
    "(a zero volume masked out of the fusion and the patient embedding) (default: error)",
)
_p.add_argument(
    "--patch", type=_positive_int, default=None, help="window edge (default: the training size)"
)
_p.add_argument(
    "--overlap", type=float, default=0.5, help="window overlap in [0, 1) (default: 0.5)"
)
app.add_output_argument(_p, suffixes=(".nii.gz", ".nii", ".npy"))

_p = app.add_command(
    "inspect-weights", _inspect, help="what a checkpoint holds and how much would load"
)
_p.add_argument("checkpoint", type=Path, metavar="CKPT", help="a torch.save or .safetensors file")
_p.add_argument(
    "--select",
    default="image_encoder.",
    help="sub-tree holding the encoder (default: image_encoder.)",
)
_p.add_argument(
    "--variant",
    choices=SAM3D_VARIANTS,
    default="vit_b_ori",
    help="encoder to match (default: vit_b_ori)",
)

_p = app.add_reproduce(
    _reproduce,
    quick_help="16^3 volumes, about 30 s on one thread: the two structural claims and a short "
    "table; --full (the spec's protocol and the classification study; not run yet, estimated "
    "at about 12,000 s of one thread) is the default",
)
_p.add_argument(
    "--workers",
    type=_positive_int,
    default=1,
    help="single-threaded worker processes for the independent training runs (segmentation "
    "and classification tables after pre-training); the numbers are the same for any value "
    "(default: %(default)s)",
)
app.add_bench(_bench)


def main(argv: list[str] | None = None) -> int:
    return app.run(argv)
