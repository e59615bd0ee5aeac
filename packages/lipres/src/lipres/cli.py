"""Command line of lipres: ``train``, ``certify``, ``check``, ``reproduce``, ``bench``.

Every user file is read through the shared readers of ``sciml_core``: data archives with
``read_archive`` (every member decoded at once; object arrays, truncated and junk files refused),
checkpoints with ``load_checkpoint`` (``read_torch_file``, ``weights_only``). Bad input is one
line ``lipres: error: ...`` naming the argument (and the file), exit status 2, before any work
and without an output file; ``-o``/``--out`` are checked for writing before the command runs
(``sciml_core.cli.App``). On success a command that writes a file prints one line
``wrote PATH`` on stdout (``certify`` and ``check`` print their JSON report there instead);
progress bars go to stderr and ``--quiet`` silences them.

The experiments are imported inside the command functions only, so that ``import lipres``
never loads them.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import typing
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from sciml_core import InputError, atomic_write_text, format_comparisons, read_archive
from sciml_core.cli import App, is_quiet, wrote

from .__about__ import __version__
from ._certify import NotCertifiedError, certified_accuracy, lipschitz_bound
from ._empirical import empirical_lipschitz
from ._io import load_model, save_model
from ._networks import ARCHITECTURES, LipResNetClassifier
from ._training import fit_classifier

Case = Literal["approximation", "digits", "all"]
CASES: tuple[Case, ...] = typing.get_args(Case)
"""``reproduce --case``: one registered study (``_experiments.registry.STUDIES``) or all."""

Peer = Literal["orthogonium", "deel-torchlip", "all"]
PEERS: tuple[Peer, ...] = typing.get_args(Peer)
"""``bench --peer``: one peer library (``_experiments.bench.PEER_NAMES``) or all."""

CHECKPOINT_SUFFIXES = (".pt", ".pth")
"""What ``train -o`` accepts (a ``sciml_core`` checkpoint written by ``torch.save``)."""

app = App(
    "lipres",
    version=__version__,
    description="Certified 1-Lipschitz ResNets from gradient-flow steps.",
)


def _read_data(path: Path, *, argument: str, labels: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """``x`` (float32 ``[N, d]``, finite) and, with ``labels``, ``y`` (int64 ``[N]``) from an
    ``.npz`` read by ``sciml_core.read_archive``; anything else is an ``InputError`` naming
    ``argument`` and the file."""
    arrays = read_archive(path, argument=argument, required=("x", "y") if labels else ("x",))
    where = f"{argument}: {str(path)!r}"
    x = arrays["x"]
    if x.ndim != 2 or x.shape[0] < 1 or x.dtype.kind not in "fiu":
        raise InputError(f"{where}: x must be a numeric [N, d] array, got {x.dtype} {x.shape}")
    if not np.all(np.isfinite(x)):
        raise InputError(f"{where}: x must be finite; it holds NaN or inf")
    if not labels:
        return x.astype(np.float32), None
    y = arrays["y"]
    if y.ndim != 1 or y.shape[0] != x.shape[0] or y.dtype.kind not in "iu":
        raise InputError(
            f"{where}: y must be integer labels [N={x.shape[0]}], got {y.dtype} {y.shape}"
        )
    return x.astype(np.float32), y.astype(np.int64)


def _check_features(model: nn.Module, x: np.ndarray, path: Path) -> None:
    d = getattr(model, "in_features", None)
    if d is not None and x.shape[1] != d:
        raise InputError(
            f"--data: {str(path)!r}: x has {x.shape[1]} features, the model expects {d}"
        )


def _eps_list(text: str) -> list[float]:
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InputError(f"--eps: expected comma-separated numbers > 0, got {text!r}") from None
    if not values or not all(math.isfinite(v) and v > 0 for v in values):
        raise InputError(f"--eps: expected comma-separated numbers > 0, got {text!r}")
    return values


def _check_flags(args: argparse.Namespace) -> None:
    """``train``'s numeric flags, each named, before any file is read."""
    for name, low in (("width", 1), ("depth", 0), ("epochs", 1), ("batch_size", 1)):
        value = getattr(args, name)
        if value < low:
            flag = "--" + name.replace("_", "-")
            raise InputError(f"{flag}: expected an integer >= {low}, got {value}")
    if args.architecture == "fixed-width" and args.width < 3:
        raise InputError(f"--width: the fixed-width architecture needs >= 3, got {args.width}")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise InputError(f"--lr: expected a finite number > 0, got {args.lr}")
    if not (math.isfinite(args.margin) and args.margin >= 0):
        raise InputError(f"--margin: expected a finite number >= 0, got {args.margin}")


def _train(args: argparse.Namespace) -> int:
    _check_flags(args)
    data = Path(args.data)
    x, y = _read_data(data, argument="--data", labels=True)
    assert y is not None
    n_classes = int(y.max()) + 1
    if n_classes < 2 or int(y.min()) < 0:
        raise InputError(
            f"--data: {str(data)!r}: labels must be 0..K-1 with K >= 2, "
            f"got [{int(y.min())}, {int(y.max())}]"
        )
    torch.manual_seed(args.seed)
    model = LipResNetClassifier(
        x.shape[1], n_classes, args.width, args.depth, architecture=args.architecture
    )
    fit_classifier(
        model,
        torch.from_numpy(x),
        torch.from_numpy(y),
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        margin=args.margin,
        seed=args.seed,
        show_progress=not is_quiet(),
    )
    wrote(save_model(model, args.output, overwrite=args.overwrite))
    return 0


def _load(path: str) -> nn.Module:
    return load_model(Path(path), argument="checkpoint")


def _certify(args: argparse.Namespace) -> int:
    eps = _eps_list(args.eps)
    model = _load(args.checkpoint)
    if not isinstance(model, LipResNetClassifier):
        raise InputError(
            f"checkpoint: {args.checkpoint!r} holds a {type(model).__name__}; "
            "certify needs a LipResNetClassifier (lipres train)"
        )
    data = Path(args.data)
    x, y = _read_data(data, argument="--data", labels=True)
    assert y is not None
    _check_features(model, x, data)
    k = model.n_classes
    if int(y.min()) < 0 or int(y.max()) >= k:
        raise InputError(
            f"--data: {str(data)!r}: labels must lie in [0, {k - 1}], "
            f"got [{int(y.min())}, {int(y.max())}]"
        )
    xt = torch.from_numpy(x).to(next(model.parameters()).dtype)
    yt = torch.from_numpy(y)
    with torch.no_grad():
        clean = float((model(xt).argmax(1) == yt).double().mean())
    cert = certified_accuracy(model, xt, yt, eps)
    assert isinstance(cert, list)
    out = {
        "clean": clean,
        "lipschitz_bound": lipschitz_bound(model),
        "certified": dict(zip([str(e) for e in eps], cert, strict=True)),
    }
    print(json.dumps(out, indent=2))
    return 0


def _check(args: argparse.Namespace) -> int:
    model = _load(args.checkpoint).double()
    d = getattr(model, "in_features", None)
    gen = torch.Generator().manual_seed(args.seed)
    if args.data is not None:
        if d is None:
            raise InputError(
                f"--data: probe points [N, d] fit a LipResNet or LipResNetClassifier; "
                f"checkpoint {args.checkpoint!r} holds a {type(model).__name__}"
            )
        data = Path(args.data)
        arr, _ = _read_data(data, argument="--data", labels=False)
        _check_features(model, arr, data)
        x = torch.from_numpy(arr).double()
    elif d is not None:
        x = torch.randn(256, d, generator=gen, dtype=torch.float64)
    else:
        critic: Any = model  # a LipCritic: (in_channels, image_size) images
        shape = (int(critic.in_channels), *critic.image_size)
        x = torch.randn(64, *shape, generator=gen, dtype=torch.float64)
    try:
        bound = lipschitz_bound(model)
    except NotCertifiedError as err:
        print(f"not certified: {err}")
        return 1
    found = {
        m: empirical_lipschitz(model, x, method=m, seed=args.seed)
        for m in ("jacobian", "pairs", "ascent")
    }
    worst = max(found.values())
    print(json.dumps({"lipschitz_bound": bound, "empirical": found}, indent=2))
    return 0 if worst <= bound * (1 + 1e-12) else 1


def _reproduce(args: argparse.Namespace) -> int:
    from ._experiments.reproduce import reproduce

    studies = None if args.case == "all" else [args.case]
    wrote(
        reproduce(Path(args.out), quick=args.quick, seed=args.seed, device="cpu", studies=studies)
    )
    return 0


def _bench(args: argparse.Namespace) -> int:
    from ._experiments.bench import PEER_NAMES, bench

    device = "cpu" if args.device == "auto" and not torch.cuda.is_available() else args.device
    device = "cuda" if device == "auto" else device
    peers = PEER_NAMES if args.peer == "all" else (args.peer,)
    rows = bench(quick=args.quick, seed=args.seed, device=device, peers=peers)
    print(format_comparisons(rows), file=sys.stderr)
    path = Path(args.out) / "bench.json"
    report: dict[str, Any] = {
        "package": "lipres",
        "version": __version__,
        "quick": args.quick,
        "seed": args.seed,
        "peers": list(peers),
        "rows": [row.row() for row in rows],
    }
    atomic_write_text(path, json.dumps(report, indent=2) + "\n")
    wrote(path)
    return 0


p = app.add_command(
    "train",
    _train,
    help="train a certified LipResNetClassifier on FILE.npz (x, y)",
    common=("seed", "quiet"),
)
p.add_argument(
    "--data",
    required=True,
    metavar="FILE.npz",
    help=".npz with x [N, d] (finite numbers) and integer labels y [N] in 0..K-1 (required)",
)
p.add_argument(
    "--architecture",
    choices=ARCHITECTURES,
    default="gradient",
    help="backbone (default: %(default)s)",
)
p.add_argument("--width", type=int, default=64, help="hidden width (default: %(default)s)")
p.add_argument("--depth", type=int, default=4, help="residual blocks (default: %(default)s)")
p.add_argument("--epochs", type=int, default=30, help="training epochs (default: %(default)s)")
p.add_argument("--batch-size", type=int, default=64, help="mini-batch size (default: %(default)s)")
p.add_argument(
    "--lr", type=float, default=3e-3, help="Adam learning rate, cosine decay (default: %(default)s)"
)
p.add_argument(
    "--margin",
    type=float,
    default=0.25,
    help="certified margin μ of the loss, in input distance (default: %(default)s)",
)
app.add_output_argument(p, suffixes=CHECKPOINT_SUFFIXES)

p = app.add_command(
    "certify",
    _certify,
    help="clean and certified accuracy of a checkpoint (JSON on stdout)",
    common=("quiet",),
)
p.add_argument("checkpoint", help="a LipResNetClassifier saved by `lipres train`")
p.add_argument(
    "--data",
    required=True,
    metavar="FILE.npz",
    help=".npz with x [N, d] and integer labels y [N] (required)",
)
p.add_argument(
    "--eps", default="0.1,0.25,0.5", help="comma-separated ℓ2 radii > 0 (default: %(default)s)"
)

p = app.add_command(
    "check",
    _check,
    help="certified bound vs empirical Lipschitz estimates (JSON on stdout; exit 1 if beaten)",
    common=("seed", "quiet"),
)
p.add_argument("checkpoint", help="a model saved by lipres.save_model or `lipres train`")
p.add_argument(
    "--data",
    default=None,
    metavar="FILE.npz",
    help=".npz whose x [N, d] are the probe points (default: 256 seeded Gaussian points)",
)

p = app.add_reproduce(_reproduce, device=False)
p.add_argument(
    "--case", choices=CASES, default="all", help="which study to run (default: %(default)s)"
)
p = app.add_bench(_bench)
p.add_argument(
    "--peer",
    choices=PEERS,
    default="all",
    help="the peer library timed against ours; a peer that is not installed is skipped with a "
    "note (default: %(default)s)",
)


def main(argv: list[str] | None = None) -> int:
    return app.run(argv)
