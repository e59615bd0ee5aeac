"""Command line of smoothprune: ``train``, ``compress``, ``evaluate``, ``spectrum``, ``reproduce``,
``bench``.

The experiments are imported inside the command functions only, so that ``import smoothprune``
never loads them. User files are read through sciml-core: ``smoothprune train`` checkpoints with
``load_checkpoint`` (``read_torch_file``, ``weights_only=True``), any other state dict with
``load_pretrained``. Bad input is one line ``smoothprune: error: ...`` naming the argument, exit
status 2, before any work; success is one line ``wrote PATH`` on stdout (tables, accuracies and
progress bars go to stderr, except ``evaluate``, whose accuracy is its result, and ``spectrum``
without ``--out``, whose table is; ``spectrum --out DIR`` writes two files and says ``wrote`` for
each).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import torch

from sciml_core import (
    InputError,
    atomic_write_text,
    format_comparisons,
    load_checkpoint,
    load_pretrained,
    read_torch_file,
    save_checkpoint,
)
from sciml_core.cli import App, is_quiet, wrote

from .__about__ import __version__
from ._compress import (
    COUNTS,
    _cost_per_rank,
    compress_model,
    compressible_layers,
    load_compressed,
    save_compressed,
    spectrum,
)
from ._differences import AXES
from ._layers import SCHEMES
from ._models import ARCHS, Arch, build_model
from ._prune import PEERS
from ._regularizer import NUCLEAR_MODES, SmoothnessRegularizer
from ._svd import layer_weight
from ._train import accuracy, train_classifier

app = App(
    "smoothprune",
    version=__version__,
    description="Smoothness-regularised training and SVD compression without fine-tuning.",
)

_TRAINABLE = ("smallcnn", "gapcnn")
_LR = {"smallcnn": 1e-3, "gapcnn": 2e-3}


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1]; got {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1]; got {text}")
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0; got {text!r}") from None
    if not (value >= 0.0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0; got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {text}")
    return value


def _say(text: str) -> None:
    """A summary line for the user, on stderr (stdout carries the one ``wrote PATH`` line)."""
    print(text, file=sys.stderr, flush=True)


def _digits_test() -> tuple[torch.Tensor, torch.Tensor]:
    from ._data import digits20

    _, _, x, y = digits20(seed=0)
    return x, y


def _train(args: argparse.Namespace) -> int:
    from ._data import digits20

    x, y, xt, yt = digits20(seed=args.seed)
    torch.manual_seed(args.seed)
    model = build_model(args.arch)
    reg = SmoothnessRegularizer(
        model,
        nuclear=args.nuclear,
        first_order=args.first_order,
        second_order=args.second_order,
        axes=args.axes,
        nuclear_mode=args.nuclear_mode,
        every=args.every,
    )
    train_classifier(
        model,
        x[:4000],
        y[:4000],
        epochs=args.epochs,
        lr=_LR[args.arch],
        weight_decay=args.weight_decay,
        regularizer=reg,
        seed=args.seed,
        progress=not is_quiet(),
    )
    _say(f"digits20 test accuracy {accuracy(model, xt, yt):.4f}")
    save_checkpoint(
        args.output,
        model.state_dict(),
        config={"arch": args.arch},
        package="smoothprune",
        version=__version__,
        overwrite=args.overwrite,
    )
    wrote(args.output)
    return 0


def _is_checkpoint(payload: Any) -> bool:
    """Whether a ``torch.load``-ed object looks like a ``sciml_core.save_checkpoint`` file."""
    return isinstance(payload, dict) and {"format", "package", "state_dict"} <= set(payload)


def _load_model(
    path: Path,
    arch: Arch | None,
    sha256: str | None,
    *,
    compressed: str = "a compressed one cannot be compressed again",
) -> torch.nn.Module:
    """A ``smoothprune train`` checkpoint, or (``--arch``) any state dict via load_pretrained."""
    if arch is None:
        payload = read_torch_file(path, argument="MODEL", what="a model checkpoint or state dict")
        if not _is_checkpoint(payload):
            raise InputError(
                f"MODEL: '{path}' is not a checkpoint of smoothprune train; for a plain state "
                f"dict pass --arch {{{','.join(ARCHS)}}}"
            )
        ckpt = load_checkpoint(path, package="smoothprune", version=__version__, argument="MODEL")
        config = ckpt.config if isinstance(ckpt.config, dict) else {}
        if config.get("arch") not in ARCHS or "ranks" in config:
            raise InputError(
                f"MODEL: '{path}' is not a dense model written by smoothprune train ({compressed})"
            )
        model = build_model(config["arch"])
        model.load_state_dict(ckpt.state_dict)
        return model
    model = build_model(arch)
    try:
        load_pretrained(model, path, sha256=sha256, min_matched=1.0)
    except InputError as err:
        raise InputError(f"MODEL (--arch {arch}): {err}") from None
    return model


def _compress(args: argparse.Namespace) -> int:
    rules = {"--params": args.params, "--energy": args.energy, "--keep": args.keep}
    given = [flag for flag, value in rules.items() if value is not None]
    if len(given) != 1:
        raise InputError(
            f"give exactly one of --params, --energy, --keep; got {', '.join(given) or 'none'}"
        )
    if args.sha256 is not None and args.arch is None:
        raise InputError("--sha256 checks a foreign state dict: it needs --arch")
    model = _load_model(args.model, args.arch, args.sha256)
    report = compress_model(
        model,
        params=args.params,
        energy=args.energy,
        keep=args.keep,
        scheme=args.scheme,
        count=args.count,
    )
    _say(report.table())
    if args.eval:
        x, y = _digits_test()
        dense, small = accuracy(model, x, y), accuracy(report.model, x, y)
        _say(f"digits20 test accuracy: dense {dense:.4f}, compressed {small:.4f}")
    save_compressed(report, args.output, overwrite=args.overwrite)
    wrote(args.output)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    ckpt = load_checkpoint(args.model, package="smoothprune", version=__version__, argument="MODEL")
    config = ckpt.config if isinstance(ckpt.config, dict) else {}
    arch = config.get("arch")
    if "ranks" in config:
        names: dict[str, Arch] = {"SmallCNN": "smallcnn", "GapCNN": "gapcnn", "ResNet": "resnet18"}
        if arch not in names:
            raise InputError(f"MODEL: '{args.model}' holds an unknown architecture {arch!r}")
        model = load_compressed(args.model, build_model(names[arch]), argument="MODEL")
    elif arch in ARCHS:
        model = build_model(arch)
        model.load_state_dict(ckpt.state_dict)
    else:
        raise InputError(f"MODEL: '{args.model}' is not a smoothprune model")
    x, y = _digits_test()
    print(f"digits20 test accuracy {accuracy(model, x, y):.4f}")
    return 0


def _spectrum_rows(model: torch.nn.Module, scheme: str) -> list[dict[str, Any]]:
    """Per compressible layer: shape, ranks and the singular values of its matrix."""
    values = spectrum(model, scheme=scheme)  # type: ignore[arg-type]  # checked by argparse
    rows = []
    for name, layer in compressible_layers(model):
        s = values[name]
        energy = s.square()
        total = float(energy.sum())
        cum = (energy.cumsum(0) / total).tolist() if total > 0 else [1.0] * len(s)
        per_rank, dense, max_rank = _cost_per_rank(layer, scheme)  # type: ignore[arg-type]
        top = float(s[0]) if len(s) else 0.0
        rows.append(
            {
                "layer": name,
                "shape": list(layer_weight(layer).shape),
                "max_rank": max_rank,
                "break_even": dense / per_rank,
                "sigma_1": top,
                "stable_rank": total / top**2 if top > 0 else 0.0,
                "rank_energy_0.9": next(i + 1 for i, c in enumerate(cum) if c >= 0.9 - 1e-12),
                "rank_energy_0.99": next(i + 1 for i, c in enumerate(cum) if c >= 0.99 - 1e-12),
                "sigma": [float(v) for v in s],
            }
        )
    return rows


def _spectrum_table(tables: dict[str, list[dict[str, Any]]]) -> str:
    lines = [
        f"{'model':<16} {'layer':<10} {'shape':<18} {'max rank':>8} {'r*':>7} {'sigma_1':>9} "
        f"{'stable rank':>11} {'r(90%)':>6} {'r(99%)':>6}"
    ]
    for label, rows in tables.items():
        for r in rows:
            shape = "x".join(map(str, r["shape"]))
            lines.append(
                f"{label:<16} {r['layer']:<10} {shape:<18} {r['max_rank']:>8} "
                f"{r['break_even']:>7.1f} {r['sigma_1']:>9.4f} {r['stable_rank']:>11.2f} "
                f"{r['rank_energy_0.9']:>6} {r['rank_energy_0.99']:>6}"
            )
    return "\n".join(lines)


def _spectrum(args: argparse.Namespace) -> int:
    paths: list[Path] = list(args.models)
    if args.label is not None and len(args.label) != len(paths):
        raise InputError(
            f"--label: give one label per MODEL; got {len(args.label)} labels for "
            f"{len(paths)} models"
        )
    labels = list(args.label) if args.label is not None else [p.stem for p in paths]
    if len(set(labels)) != len(labels):
        if args.label is not None:
            raise InputError(f"--label: the labels must differ; got {labels}")
        labels = [str(p) for p in paths]
    if len(set(labels)) != len(labels):
        raise InputError(f"MODEL: the same file is given twice: {labels}")
    if args.out is not None:
        from sciml_core import get_pyplot

        get_pyplot("smoothprune")  # before any work: the figure needs the [plot] extra
    models = {
        label: _load_model(
            path,
            args.arch,
            None,
            compressed="the spectrum of a compressed model is its truncation; pass the dense one",
        )
        for label, path in zip(labels, paths, strict=True)
    }
    tables = {label: _spectrum_rows(model, args.scheme) for label, model in models.items()}
    text = _spectrum_table(tables)
    if args.out is None:
        print(text)
        return 0
    from ._plots import plot_spectra

    _say(text)
    out = Path(args.out)
    figure = plot_spectra(
        {
            label: {r["layer"]: torch.tensor(r["sigma"]) for r in rows}
            for label, rows in tables.items()
        },
        out / "spectrum.png",
        title=f"normalised singular values (scheme {args.scheme})",
    )
    payload: dict[str, Any] = {
        "scheme": args.scheme,
        "models": dict(zip(labels, map(str, paths), strict=True)),
        "layers": tables,
    }
    data = atomic_write_text(out / "spectrum.json", json.dumps(payload, indent=1) + "\n")
    wrote(figure)
    wrote(data)
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from sciml_core import resolve_device

    from ._experiments.reproduce import reproduce

    if args.cifar10 is not None and not (Path(args.cifar10) / "cifar-10-batches-py").is_dir():
        raise InputError(
            f"--cifar10: '{args.cifar10}' holds no folder cifar-10-batches-py (the python "
            "batches of CIFAR-10; nothing is downloaded)"
        )
    device = str(resolve_device(args.device))
    path = reproduce(
        Path(args.out), quick=args.quick, seed=args.seed, device=device, cifar10=args.cifar10
    )
    wrote(path)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from sciml_core import resolve_device

    from ._experiments.bench import bench

    device = str(resolve_device(args.device))
    rows = bench(quick=args.quick, seed=args.seed, device=device, peer=args.peer)
    if rows:
        print(format_comparisons(rows))
    return 0


_p = app.add_command(
    "train",
    _train,
    help="train SmallCNN or GapCNN on digits20 with the penalties (needs the [data] extra)",
    common=("seed", "quiet"),
)
_p.add_argument("--arch", choices=_TRAINABLE, default="smallcnn", help="model (default: smallcnn)")
_p.add_argument("--epochs", type=_positive_int, default=12, help="epochs (default: 12)")
_p.add_argument(
    "--second-order",
    type=_non_negative,
    default=3e-3,
    metavar="LAMBDA",
    help="weight of the second-order difference penalty (default: 3e-3; GapCNN wants ~3e-4)",
)
_p.add_argument(
    "--first-order",
    type=_non_negative,
    default=0.0,
    metavar="LAMBDA",
    help="weight of the first-order difference penalty (default: 0)",
)
_p.add_argument(
    "--nuclear",
    type=_non_negative,
    default=0.0,
    metavar="LAMBDA",
    help="weight of the nuclear norm (default: 0)",
)
_p.add_argument(
    "--nuclear-mode",
    choices=NUCLEAR_MODES,
    default="penalty",
    help="differentiate the nuclear norm or apply its proximal step (default: penalty)",
)
_p.add_argument(
    "--every",
    type=_positive_int,
    default=1,
    metavar="N",
    help="with --nuclear-mode prox: the step runs after every N-th update (default: 1)",
)
_p.add_argument(
    "--axes",
    nargs="+",
    choices=AXES,
    default=["out"],
    help="weight axes the difference penalties run along (default: out)",
)
_p.add_argument(
    "--weight-decay",
    type=_non_negative,
    default=5e-4,
    metavar="WD",
    help="AdamW weight decay (default: 5e-4)",
)
app.add_output_argument(_p, suffixes=(".pt",))

_p = app.add_command("compress", _compress, help="SVD-compress a model to a budget, no fine-tuning")
_p.add_argument(
    "model",
    type=Path,
    metavar="MODEL",
    help="checkpoint of smoothprune train, or a plain state dict with --arch",
)
_p.add_argument(
    "--arch",
    choices=ARCHS,
    default=None,
    help="architecture of a plain state dict, read with sciml_core.load_pretrained "
    "(default: MODEL is a smoothprune train checkpoint)",
)
_p.add_argument(
    "--sha256",
    default=None,
    metavar="HEX",
    help="expected SHA-256 of a plain state dict (default: not checked)",
)
_p.add_argument(
    "--params",
    type=_fraction,
    default=None,
    help="global budget: fraction of the parameters kept (default: none; give one rule)",
)
_p.add_argument(
    "--energy",
    type=_fraction,
    default=None,
    help="per layer: fraction of sum(sigma^2) kept (default: none; give one rule)",
)
_p.add_argument(
    "--keep",
    type=_fraction,
    default=None,
    help="per layer: fraction of each layer's weights kept (default: none; give one rule)",
)
_p.add_argument(
    "--scheme",
    choices=SCHEMES,
    default="channel",
    help="factorisation of a convolution (default: channel)",
)
_p.add_argument(
    "--count",
    choices=COUNTS,
    default="model",
    help="what --params is a fraction of (default: model)",
)
_p.add_argument(
    "--eval",
    action="store_true",
    help="print digits20 test accuracy before and after (default: off; needs [data])",
)
app.add_output_argument(_p, suffixes=(".pt",))

_p = app.add_command(
    "evaluate", _evaluate, help="digits20 test accuracy of a dense or compressed model"
)
_p.add_argument(
    "model", type=Path, metavar="MODEL", help="checkpoint of smoothprune train or compress"
)

_p = app.add_command(
    "spectrum",
    _spectrum,
    help="singular values of every compressible layer of one or more dense models (smooth vs "
    "plain): a table, and with --out a figure and a JSON file",
)
_p.add_argument(
    "models",
    type=Path,
    nargs="+",
    metavar="MODEL",
    help="checkpoints of smoothprune train, or plain state dicts with --arch",
)
_p.add_argument(
    "--label",
    nargs="+",
    default=None,
    metavar="NAME",
    help="one name per MODEL for the table and the figure (default: the file names)",
)
_p.add_argument(
    "--arch",
    choices=ARCHS,
    default=None,
    help="architecture of plain state dicts, read with sciml_core.load_pretrained "
    "(default: every MODEL is a smoothprune train checkpoint)",
)
_p.add_argument(
    "--scheme",
    choices=SCHEMES,
    default="channel",
    help="which matrix of a convolution: mat(W) (channel) or the spatial rearrangement "
    "(default: channel)",
)
_p.add_argument(
    "--out",
    type=Path,
    default=None,
    metavar="DIR",
    help="write DIR/spectrum.png and DIR/spectrum.json (needs the [plot] extra; default: "
    "print the table only)",
)

_p = app.add_reproduce(
    _reproduce,
    quick_help="quick run: SmallCNN plain and smooth, 7 epochs, one seed (measured: 56 s of CPU "
    "on one thread); the default --full is both models, every run, 3 seeds, the peers (measured: "
    "about 23 min of CPU on one thread)",
)
_p.add_argument(
    "--cifar10",
    type=Path,
    default=None,
    metavar="ROOT",
    help="folder holding cifar-10-batches-py: also run ResNet-18 on CIFAR-10, hours on a CPU "
    "(default: digits only)",
)
_p = app.add_bench(_bench)
_p.add_argument(
    "--peer",
    choices=PEERS,
    default="all",
    help="time only against this peer; the penalty and memory rows run with all (default: all)",
)


def main(argv: list[str] | None = None) -> int:
    return app.run(argv)
