"""Command line of smoothprune: ``train``, ``compress``, ``evaluate``, ``reproduce``, ``bench``.

The experiments are imported inside the command functions only, so that ``import smoothprune``
never loads them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from sciml_core import (
    InputError,
    format_comparisons,
    load_checkpoint,
    load_pretrained,
    save_checkpoint,
)
from sciml_core.cli import App, wrote

from .__about__ import __version__
from ._compress import COUNTS, compress_model, load_compressed, save_compressed
from ._differences import AXES
from ._layers import SCHEMES
from ._models import ARCHS, build_model
from ._regularizer import NUCLEAR_MODES, SmoothnessRegularizer
from ._train import accuracy, train_classifier

app = App("smoothprune", version=__version__,
          description="Smoothness-regularised training and SVD compression without fine-tuning.")  # fmt: skip

_TRAINABLE = ("smallcnn", "gapcnn")


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1]; got {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1]; got {text}")
    return value


def _digits_test() -> tuple[torch.Tensor, torch.Tensor]:
    from ._data import digits20

    _, _, x, y = digits20(seed=0)
    return x, y


def _train(args: argparse.Namespace) -> int:
    from ._data import digits20

    if args.arch not in _TRAINABLE:
        raise InputError(f"--arch: train supports {_TRAINABLE} on digits20; got {args.arch!r}")
    x, y, xt, yt = digits20(seed=args.seed)
    torch.manual_seed(args.seed)
    model = build_model(args.arch)
    reg = SmoothnessRegularizer(model, nuclear=args.nuclear, first_order=args.first_order,
                                second_order=args.second_order, axes=args.axes,
                                nuclear_mode=args.nuclear_mode, every=args.every)  # fmt: skip
    lr = 1e-3 if args.arch == "smallcnn" else 2e-3
    train_classifier(model, x[:4000], y[:4000], epochs=args.epochs, lr=lr,
                     weight_decay=args.weight_decay, regularizer=reg, seed=args.seed)  # fmt: skip
    print(f"test accuracy {accuracy(model, xt, yt):.4f}")
    save_checkpoint(args.output, model.state_dict(), config={"arch": args.arch}, package="smoothprune",
                    version=__version__, overwrite=args.overwrite)  # fmt: skip
    wrote(args.output)
    return 0


def _load_model(path: Path, arch: str | None, sha256: str | None) -> torch.nn.Module:
    """A ``smoothprune train`` checkpoint, or (with ``--arch``) any state dict via load_pretrained."""
    if arch is None:
        ckpt = load_checkpoint(path, package="smoothprune", version=__version__, argument="MODEL")
        config = ckpt.config if isinstance(ckpt.config, dict) else {}
        if config.get("arch") not in ARCHS or "ranks" in config:
            raise InputError(f"MODEL: '{path}' is not a dense model written by smoothprune train; "
                             "pass --arch for a foreign state dict")  # fmt: skip
        model = build_model(config["arch"])
        model.load_state_dict(ckpt.state_dict)
        return model
    model = build_model(arch)  # type: ignore[arg-type]
    load_pretrained(model, path, sha256=sha256, min_matched=1.0)
    return model


def _compress(args: argparse.Namespace) -> int:
    model = _load_model(args.model, args.arch, args.sha256)
    rules = {"params": args.params, "energy": args.energy, "keep": args.keep}
    if sum(v is not None for v in rules.values()) != 1:
        raise InputError("give exactly one of --params, --energy, --keep")
    report = compress_model(model, params=args.params, energy=args.energy, keep=args.keep,
                            scheme=args.scheme, count=args.count)  # fmt: skip
    print(report.table())
    if args.eval:
        x, y = _digits_test()
        print(
            f"digits20 accuracy: dense {accuracy(model, x, y):.4f}, compressed {accuracy(report.model, x, y):.4f}"
        )
    save_compressed(report, args.output, overwrite=args.overwrite)
    wrote(args.output)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    ckpt = load_checkpoint(args.model, package="smoothprune", version=__version__, argument="MODEL")
    config = ckpt.config if isinstance(ckpt.config, dict) else {}
    arch = config.get("arch")
    if "ranks" in config:
        names = {"SmallCNN": "smallcnn", "GapCNN": "gapcnn", "ResNet": "resnet18"}
        if arch not in names:
            raise InputError(f"MODEL: '{args.model}' holds an unknown architecture {arch!r}")
        model = load_compressed(args.model, build_model(names[arch]), argument="MODEL")  # type: ignore[arg-type]
    elif arch in ARCHS:
        model = build_model(arch)
        model.load_state_dict(ckpt.state_dict)
    else:
        raise InputError(f"MODEL: '{args.model}' is not a smoothprune model")
    x, y = _digits_test()
    print(f"digits20 test accuracy {accuracy(model, x, y):.4f}")
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from sciml_core import resolve_device

    from ._experiments import reproduce

    if args.cifar10 is not None and not Path(args.cifar10).is_dir():
        raise InputError(f"--cifar10: '{args.cifar10}' is not a folder")
    device = str(resolve_device(args.device))
    path = reproduce(
        Path(args.out), quick=args.quick, seed=args.seed, device=device, cifar10=args.cifar10
    )
    wrote(path)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from ._experiments import bench

    print(format_comparisons(bench(quick=args.quick, seed=args.seed, device=args.device)))
    return 0


_p = app.add_command("train", _train, help="train SmallCNN or GapCNN on digits20 with the penalties",
                     common=("seed", "quiet"))  # fmt: skip
_p.add_argument("--arch", choices=_TRAINABLE, default="smallcnn")
_p.add_argument("--epochs", type=int, default=12)
_p.add_argument("--second-order", type=float, default=3e-3)
_p.add_argument("--first-order", type=float, default=0.0)
_p.add_argument("--nuclear", type=float, default=0.0)
_p.add_argument("--nuclear-mode", choices=NUCLEAR_MODES, default="penalty")
_p.add_argument("--every", type=int, default=1)
_p.add_argument("--axes", nargs="+", choices=AXES, default=["out"])
_p.add_argument("--weight-decay", type=float, default=5e-4)
app.add_output_argument(_p, suffixes=(".pt",))

_p = app.add_command("compress", _compress, help="SVD-compress a model to a budget, no fine-tuning")
_p.add_argument(
    "model",
    type=Path,
    metavar="MODEL",
    help="checkpoint of smoothprune train, or a state dict with --arch",
)
_p.add_argument("--arch", choices=ARCHS, default=None, help="architecture of a foreign state dict")
_p.add_argument("--sha256", default=None, help="expected SHA-256 of a foreign state dict")
_p.add_argument(
    "--params", type=_fraction, default=None, help="global budget: fraction of parameters kept"
)
_p.add_argument(
    "--energy", type=_fraction, default=None, help="per layer: fraction of sigma^2 kept"
)
_p.add_argument("--keep", type=_fraction, default=None, help="per layer: fraction of weights kept")
_p.add_argument("--scheme", choices=SCHEMES, default="channel")
_p.add_argument("--count", choices=COUNTS, default="model")
_p.add_argument("--eval", action="store_true", help="print digits20 accuracy before and after")
app.add_output_argument(_p, suffixes=(".pt",))

_p = app.add_command(
    "evaluate", _evaluate, help="digits20 test accuracy of a dense or compressed model"
)
_p.add_argument("model", type=Path, metavar="MODEL")

_p = app.add_reproduce(_reproduce)
_p.add_argument("--cifar10", type=Path, default=None, metavar="ROOT",
                help="folder with cifar-10-batches-py: also run ResNet-18 on CIFAR-10 (hours on a CPU)")  # fmt: skip
app.add_bench(_bench)


def main(argv: list[str] | None = None) -> int:
    return app.run(argv)
