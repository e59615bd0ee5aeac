"""Command line: ``potcontrast npc``, ``potcontrast reproduce``, ``potcontrast bench``."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import typing
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sciml_core import InputError, atomic_write_bytes, atomic_write_text, require_extra
from sciml_core.cli import App

from .__about__ import __version__
from ._io import GRAY_MODES, GrayMode, read_image, read_labels, read_masks
from ._measures import auc, bhattacharyya, fisher_ratio, jeffries_matusita, ks_statistic
from ._npc import result_from_binned
from ._samples import NAN_POLICIES, OUT_OF_RANGE_POLICIES, bin_image
from ._sparsity import warn_if_sparse
from ._stats import null_values

__all__ = ["CLASS_MAP_SUFFIXES", "MEASURES", "NULL_METHODS", "Measure", "NullMethod", "app", "main"]

Measure = Literal["fisher", "bhattacharyya", "jm", "ks", "auc"]
"""Companion measures ``--measures`` adds as columns (``ks``, ``auc``: two classes only)."""
MEASURES: tuple[Measure, ...] = typing.get_args(Measure)

NullMethod = Literal["permutation"]
"""How ``--null`` builds the null distribution of NPC."""
NULL_METHODS: tuple[NullMethod, ...] = typing.get_args(NullMethod)

ClassMapSuffix = Literal[".npy", ".png"]
"""``--class-map`` formats: exact labels (``.npy``) or a grey viewing image (``.png``)."""
CLASS_MAP_SUFFIXES: tuple[ClassMapSuffix, ...] = typing.get_args(ClassMapSuffix)

app = App(
    "potcontrast",
    version=__version__,
    description="Multi-class normalized potential contrast (NPC) of labelled pixels, per band.",
)


def _parse_range(text: str) -> Any:
    if text == "auto":
        return None
    if text == "dtype":
        return "dtype"
    parts = text.split(",")
    try:
        lo, hi = (float(x) for x in parts)
    except ValueError:
        raise InputError(f"--range must be LO,HI, 'dtype' or 'auto'; got {text!r}") from None
    return (lo, hi)


def _parse_bins(text: str) -> int | str:
    if text == "unique":
        return text
    try:
        return int(text)
    except ValueError:
        raise InputError(f"--bins must be a positive integer or 'unique'; got {text!r}") from None


def _load_stack(paths: Sequence[str], gray: GrayMode | None) -> np.ndarray:
    arrays = [read_image(p, gray=gray) for p in paths]
    if len(arrays) == 1:
        return arrays[0]
    if any(a.ndim != 2 for a in arrays):
        shapes = [a.shape for a in arrays]
        raise InputError(
            f"several IMAGE files are the bands of one stack: each must be 2-D; got {shapes}"
        )
    if len({a.shape for a in arrays}) != 1 or len({a.dtype for a in arrays}) != 1:
        desc = [(a.shape, str(a.dtype)) for a in arrays]
        raise InputError(f"IMAGE files must share shape and dtype to form a stack; got {desc}")
    return np.stack(arrays, axis=-1)


_MEASURES: dict[Measure, Callable[..., float | np.ndarray]] = {
    "fisher": fisher_ratio,
    "bhattacharyya": bhattacharyya,
    "jm": jeffries_matusita,
    "ks": ks_statistic,
    "auc": auc,
}


def _measure_names(text: str | None) -> list[Measure]:
    if not text:
        return []
    names = [n.strip() for n in text.split(",") if n.strip() and n.strip() not in ("npc", "pc")]
    unknown = [n for n in names if n not in MEASURES]
    if unknown:
        raise InputError(f"--measures: unknown {unknown}; choose from npc,pc,{','.join(MEASURES)}")
    return [typing.cast(Measure, n) for n in names]


def _measures(
    text: str | None, image: np.ndarray, classes: Any, kwargs: dict[str, Any]
) -> dict[str, np.ndarray]:
    names = _measure_names(text)
    if not names:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # already reported once for the NPC computation
        return {n: np.atleast_1d(_MEASURES[n](image, classes, **kwargs)) for n in names}


def _rows(res: Any, null: np.ndarray | None) -> tuple[list[str], list[list[Any]]]:
    labels = [str(x) for x in res.class_labels.tolist()]
    columns = ["band", "npc", "pc", *(f"n[{lab}]" for lab in labels)]
    if null is not None:
        columns += ["null_mean", "p_value"]
    rows = []
    for b in range(res.npc.size):
        row: list[Any] = [b, float(res.npc[b]), float(res.pc[b]), *res.n_samples[b].tolist()]
        if null is not None:
            p = (1 + np.sum(null[:, b] >= res.npc[b] - 1e-12)) / (1 + null.shape[0])
            row += [float(null[:, b].mean()), float(p)]
        rows.append(row)
    return columns, rows


def _check_class_map(path: Path | None, image: np.ndarray, overwrite: bool) -> None:
    """Refuse a bad ``--class-map`` before anything is computed or written."""
    if path is None:
        return
    suffix = path.suffix.lower()
    if suffix not in CLASS_MAP_SUFFIXES:
        raise InputError(
            f"--class-map must end in {' or '.join(CLASS_MAP_SUFFIXES)}; got {str(path)!r}"
        )
    if suffix == ".png" and image.ndim != 2:
        raise InputError(
            f"--class-map .png shows one band, but the image has shape {image.shape}; use .npy "
            "for a stack"
        )
    if path.is_dir():
        raise InputError(f"--class-map {str(path)!r} is a folder; it takes a file")
    if path.exists() and not overwrite:
        raise InputError(f"--class-map file {str(path)!r} exists; pass --overwrite to replace it")
    if not path.parent.is_dir():
        raise InputError(f"folder {str(path.parent)!r} of --class-map {str(path)!r} does not exist")
    if suffix == ".png":
        require_extra("PIL.Image", extra="io", package="potcontrast")


def _write_class_map(path: Path, cmap: np.ndarray, n_classes: int) -> None:
    if path.suffix.lower() == ".npy":
        buf = io.BytesIO()
        np.save(buf, cmap)
        atomic_write_bytes(path, buf.getvalue())
        return
    pil = require_extra("PIL.Image", extra="io", package="potcontrast")
    grey = np.round(255.0 * np.maximum(cmap, 0) / max(n_classes - 1, 1)).astype(np.uint8)
    alpha = np.where(cmap >= 0, 255, 0).astype(np.uint8)
    buf = io.BytesIO()
    pil.fromarray(np.stack([grey, alpha], axis=-1)).save(buf, format="PNG")  # LA
    atomic_write_bytes(path, buf.getvalue())


def run_npc(args: argparse.Namespace) -> int:
    """``potcontrast npc``: NPC per band of an image or stack from label or mask files.

    Warnings (sparse bins, dropped samples, a dropped alpha channel) go to stderr as one line
    each, ``potcontrast: warning: ...``, rather than Python's two-line source-location format.
    """
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            return _run_npc(args)
        finally:
            for w in seen:
                text = " ".join(str(w.message).split())
                print(f"potcontrast: warning: {w.category.__name__}: {text}", file=sys.stderr)


def _run_npc(args: argparse.Namespace) -> int:
    if len(args.image) > 1 and args.band_axis is not None:
        raise InputError(
            f"--band-axis {args.band_axis} applies to one stack file; {len(args.image)} IMAGE "
            "files are stacked with the bands last, in the order given"
        )
    image = _load_stack(args.image, args.gray)
    if (args.labels is None) == (args.masks is None):
        raise InputError("give exactly one of --labels FILE or --masks FILE [FILE ...]")
    classes = (
        read_labels(args.labels)
        if args.labels
        else read_masks(args.masks, invert=args.invert_masks)
    )
    _check_class_map(args.class_map, image, args.overwrite)
    _measure_names(args.measures)  # an unknown name fails before any work
    if args.null == "permutation" and args.n_perm < 1:
        raise InputError(f"--n-perm must be >= 1; got {args.n_perm}")
    kwargs = dict(
        bins=_parse_bins(args.bins),
        range=_parse_range(args.range),
        band_axis=args.band_axis,
        background=args.background,
        out_of_range=args.out_of_range,
        nan_policy=args.nan,
    )
    binned = bin_image(image, classes, **kwargs)
    warn_if_sparse(binned.counts, stacklevel=2)
    res = result_from_binned(binned)
    null = None
    if args.null == "permutation":
        null = null_values(binned, args.n_perm, args.seed)
    columns, rows = _rows(res, null)
    p_values = [r[-1] for r in rows] if null is not None else []
    extra = _measures(args.measures, image, classes, kwargs)
    columns += list(extra)
    for b, row in enumerate(rows):
        row += [float(v[b]) for v in extra.values()]
    payload = res.to_dict()
    payload.update({name: v.tolist() for name, v in extra.items()})
    if null is not None:
        payload["null"] = {
            "n_perm": int(null.shape[0]),
            "null_mean": null.mean(0).tolist(),
            "p_value": p_values,
        }
    if args.pairwise:
        payload["pairwise"] = res.pairwise.tolist()
    if args.json:
        print(json.dumps(payload))
    else:
        print("\t".join(columns))
        for row in rows:
            print("\t".join(f"{v:.6f}" if isinstance(v, float) else str(v) for v in row))
        best = int(res.rank_bands()[0])
        print(f"best band: {best} (NPC {res.npc[best]:.6f})")
        if args.pairwise:
            for b in range(res.npc.size):
                print(f"pairwise band {b}: {np.round(res.pairwise[b], 6).tolist()}")
    if args.output is not None:
        if args.output.suffix.lower() == ".csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(rows)
            atomic_write_text(args.output, buf.getvalue())
        else:
            atomic_write_text(args.output, json.dumps(payload, indent=1) + "\n")
    if args.class_map is not None:
        cmap = res.class_map(image, band_axis=args.band_axis)
        _write_class_map(args.class_map, cmap, res.class_labels.size)
    return 0


def run_reproduce(args: argparse.Namespace) -> int:
    """``potcontrast reproduce``."""
    from ._experiments import reproduce

    if args.device not in ("auto", "cpu"):
        raise InputError(
            f"--device: potcontrast is numpy-only and runs on cpu; got {args.device!r}"
        )
    path = reproduce(args.out, quick=args.quick, seed=args.seed, device="cpu")
    print(f"wrote {path}")
    return 0


def run_bench(args: argparse.Namespace) -> int:
    """``potcontrast bench``."""
    from ._experiments import bench

    if args.device not in ("auto", "cpu"):
        raise InputError(
            f"--device: potcontrast is numpy-only and runs on cpu; got {args.device!r}"
        )
    bench(args.out, quick=args.quick, seed=args.seed, extended=args.extended)
    return 0


_p = app.add_command(
    "npc", run_npc, help="NPC per band of an image or stack", common=("seed", "quiet")
)
_p.add_argument("image", nargs="+", help="image file(s); several files are the bands of one stack")
_p.add_argument("--labels", help="integer label image (0 = unlabelled unless --background)")
_p.add_argument("--background", type=int, default=0, help="label of unlabelled pixels (default 0)")
_p.add_argument("--masks", nargs="+", help="one mask file per class (non-zero = selected)")
_p.add_argument("--invert-masks", action="store_true", help="select the zero pixels of each mask")
_p.add_argument("--bins", default="256", help="number of bins, or 'unique' (default 256)")
_p.add_argument(
    "--range", default="auto", help="LO,HI | dtype | auto (whole-band min,max; default)"
)
_p.add_argument(
    "--band-axis", type=int, default=None, help="band axis of a 3-D stack (default last)"
)
_p.add_argument(
    "--gray", choices=GRAY_MODES, default=None, help="Pillow 8-bit luma, as the reference"
)
_p.add_argument("--out-of-range", choices=OUT_OF_RANGE_POLICIES, default="raise")
_p.add_argument("--nan", choices=NAN_POLICIES, default="raise")
_p.add_argument("--pairwise", action="store_true", help="also print the K x K pairwise NPC")
_p.add_argument(
    "--measures", default=None, help=f"extra columns: {','.join(MEASURES)} (ks/auc: K=2)"
)
_p.add_argument("--null", choices=NULL_METHODS, default=None, help="permutation null")
_p.add_argument("--n-perm", type=int, default=200, help="permutations for --null (default 200)")
_p.add_argument("--class-map", type=Path, default=None, help="write the class map (.npy or .png)")
_p.add_argument("--json", action="store_true", help="print the full result as JSON")
app.add_output_argument(_p, required=False)
app.add_reproduce(run_reproduce)
_b = app.add_bench(run_bench)
_b.add_argument("--extended", action="store_true", help="add rows for 4096/65536 bins, 64 bands")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``potcontrast`` console script."""
    return app.run(argv)
