"""Command line of lipres: ``train``, ``certify``, ``check``, ``reproduce``, ``bench``.

The experiments are imported inside the command functions only, so that ``import lipres``
never loads them.
"""

from __future__ import annotations

import argparse
import json
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml_core import InputError, format_comparisons
from sciml_core.cli import App

from .__about__ import __version__
from ._certify import NotCertifiedError, certified_accuracy, lipschitz_bound
from ._empirical import empirical_lipschitz
from ._io import load_model, save_model
from ._networks import ARCHITECTURES, LipResNetClassifier
from ._training import fit_classifier

app = App(
    "lipres",
    version=__version__,
    description="Certified 1-Lipschitz ResNets from gradient-flow steps.",
)


def _read_npz(path: Path, *, argument: str) -> tuple[np.ndarray, np.ndarray]:
    """``x`` (float ``[N, d]``) and ``y`` (int ``[N]``) from an ``.npz``; else InputError."""
    if not path.is_file():
        raise InputError(f"{argument}: file {str(path)!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in ("x", "y") if k not in data.files]
            if missing:
                raise InputError(
                    f"{argument}: {str(path)!r} has no array(s) {missing} (keys: {data.files})"
                )
            x, y = np.asarray(data["x"]), np.asarray(data["y"])
    except InputError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise InputError(
            f"{argument}: cannot read arrays from {str(path)!r}: {type(err).__name__}: {err}"
        ) from None
    if x.ndim != 2 or x.dtype.kind not in "fiu":
        raise InputError(f"{argument}: x must be a numeric [N, d] array, got {x.dtype} {x.shape}")
    if y.ndim != 1 or y.shape[0] != x.shape[0] or y.dtype.kind not in "iu":
        raise InputError(
            f"{argument}: y must be integer labels [N={x.shape[0]}], got {y.dtype} {y.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise InputError(f"{argument}: x must be finite; got NaN or inf")
    return x.astype(np.float32), y.astype(np.int64)


def _eps_list(text: str) -> list[float]:
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InputError(f"--eps: expected comma-separated numbers > 0, got {text!r}") from None
    if not values or not all(math.isfinite(v) and v > 0 for v in values):
        raise InputError(f"--eps: expected comma-separated numbers > 0, got {text!r}")
    return values


def _train(args: argparse.Namespace) -> int:
    x, y = _read_npz(Path(args.data), argument="--data")
    n_classes = int(y.max()) + 1
    if n_classes < 2 or int(y.min()) < 0:
        raise InputError(
            f"--data: labels must be 0..K-1 with K >= 2, got [{int(y.min())}, {int(y.max())}]"
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
        lr=args.lr,
        margin=args.margin,
        seed=args.seed,
    )
    save_model(model, args.output, overwrite=args.overwrite)
    print(f"wrote {args.output}")
    return 0


def _load(path: str) -> Any:
    return load_model(Path(path))


def _certify(args: argparse.Namespace) -> int:
    eps = _eps_list(args.eps)
    model = _load(args.checkpoint)
    x, y = _read_npz(Path(args.data), argument="--data")
    d = getattr(model, "in_features", None)
    if d is not None and x.shape[1] != d:
        raise InputError(f"--data: x has {x.shape[1]} features, the model expects {d}")
    xt, yt = torch.from_numpy(x).to(next(model.parameters()).dtype), torch.from_numpy(y)
    k = getattr(model, "n_classes", None)
    if k is not None and (int(yt.min()) < 0 or int(yt.max()) >= k):
        raise InputError(
            f"--data: labels must lie in [0, {k - 1}], got [{int(yt.min())}, {int(yt.max())}]"
        )
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
    try:
        bound = lipschitz_bound(model)
    except NotCertifiedError as err:
        print(f"not certified: {err}")
        return 1
    d = getattr(model, "in_features", None)
    if args.data is not None:
        x = torch.from_numpy(_read_npz(Path(args.data), argument="--data")[0]).double()
    elif d is not None:
        x = torch.randn(
            256, d, generator=torch.Generator().manual_seed(args.seed), dtype=torch.float64
        )
    else:
        shape = (model.in_channels, *model.image_size)
        x = torch.randn(
            64, *shape, generator=torch.Generator().manual_seed(args.seed), dtype=torch.float64
        )
    found = {
        m: empirical_lipschitz(model, x, method=m, seed=args.seed)
        for m in ("jacobian", "pairs", "ascent")
    }
    worst = max(found.values())
    print(json.dumps({"lipschitz_bound": bound, "empirical": found}, indent=2))
    return 0 if worst <= bound * (1 + 1e-12) else 1


def _reproduce(args: argparse.Namespace) -> int:
    from ._experiments import reproduce

    studies = None if args.case == "all" else [args.case]
    path = reproduce(
        Path(args.out), quick=args.quick, seed=args.seed, device="cpu", studies=studies
    )
    print(f"wrote {path}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from ._experiments import bench

    device = "cpu" if args.device == "auto" and not torch.cuda.is_available() else args.device
    device = "cuda" if device == "auto" else device
    print(format_comparisons(bench(quick=args.quick, seed=args.seed, device=device)))
    return 0


p = app.add_command(
    "train",
    _train,
    help="train a certified LipResNetClassifier on FILE.npz (x, y)",
    common=("seed", "quiet"),
)
p.add_argument("--data", required=True, help=".npz with x [N, d] and integer labels y [N]")
p.add_argument("--architecture", choices=ARCHITECTURES, default="gradient")
p.add_argument("--width", type=int, default=64)
p.add_argument("--depth", type=int, default=4)
p.add_argument("--epochs", type=int, default=30)
p.add_argument("--lr", type=float, default=3e-3)
p.add_argument("--margin", type=float, default=0.25, help="certified margin μ of the loss")
app.add_output_argument(p)

p = app.add_command(
    "certify", _certify, help="clean and certified accuracy of a checkpoint", common=("quiet",)
)
p.add_argument("checkpoint")
p.add_argument("--data", required=True, help=".npz with x and y")
p.add_argument("--eps", default="0.1,0.25,0.5", help="comma-separated ℓ2 radii")

p = app.add_command(
    "check",
    _check,
    help="certified bound vs empirical Lipschitz estimates (exit 1 if beaten)",
    common=("seed", "quiet"),
)
p.add_argument("checkpoint")
p.add_argument("--data", default=None, help=".npz whose x are the probe points")

p = app.add_reproduce(_reproduce)
p.add_argument("--case", choices=("approximation", "digits", "all"), default="all")
app.add_bench(_bench)


def main(argv: list[str] | None = None) -> int:
    return app.run(argv)
