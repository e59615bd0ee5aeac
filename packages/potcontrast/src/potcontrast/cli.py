"""Command line: ``potcontrast npc``, ``potcontrast reproduce``, ``potcontrast bench``.

Every user file is read through sciml-core's readers (a damaged file is one line naming the
argument and the file, exit 2), and every output location is checked before any work: ``-o`` by
:meth:`sciml_core.cli.App.run` (suffix ``.json`` or ``.csv``, folder writable), ``--class-map``
here in the same way, ``--out`` by ``App.run``.

Image layout: a single IMAGE file is read in its own axis order with its axes named
(:func:`._io.read_image_axes`); ``--band-axis N`` names the band axis by its index among those
axes, and without it the bands are the file's samples (``S``), else its pages (a multi-page TIFF),
else the last axis of a ``.npy``/``.npz``. Several IMAGE files are one band each.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import typing
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sciml_core import InputError, atomic_write_bytes, atomic_write_text, require_extra
from sciml_core.cli import App, check_output, progress, wrote

from .__about__ import __version__
from ._binning import MAX_BINS, MAX_HISTOGRAM_COUNTS, check_histogram_size
from ._io import (
    GRAY_MODES,
    GrayMode,
    bands_last,
    default_band_axis,
    labels_from_file,
    masks_from_files,
    read_image_axes,
)
from ._measures import auc, bhattacharyya, fisher_ratio, jeffries_matusita, ks_statistic
from ._npc import NPCResult, result_from_binned
from ._samples import NAN_POLICIES, OUT_OF_RANGE_POLICIES, bin_image
from ._sparsity import warn_if_sparse
from ._stats import null_values

__all__ = [
    "CLASS_MAP_SUFFIXES",
    "MEASURES",
    "NULL_METHODS",
    "OUTPUT_SUFFIXES",
    "ClassMapSuffix",
    "Measure",
    "NullMethod",
    "OutputSuffix",
    "app",
    "main",
]

Measure = Literal["fisher", "bhattacharyya", "jm", "ks", "auc"]
"""Companion measures ``--measures`` adds as columns (``ks``, ``auc``: two classes only)."""
MEASURES: tuple[Measure, ...] = typing.get_args(Measure)

NullMethod = Literal["permutation"]
"""How ``--null`` builds the null distribution of NPC."""
NULL_METHODS: tuple[NullMethod, ...] = typing.get_args(NullMethod)

ClassMapSuffix = Literal[".npy", ".png"]
"""``--class-map`` formats: exact labels (``.npy``) or a grey viewing image (``.png``)."""
CLASS_MAP_SUFFIXES: tuple[ClassMapSuffix, ...] = typing.get_args(ClassMapSuffix)

OutputSuffix = Literal[".json", ".csv"]
"""``-o`` formats: the full result as JSON, or the printed table as CSV."""
OUTPUT_SUFFIXES: tuple[OutputSuffix, ...] = typing.get_args(OutputSuffix)

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


def _parse_bins(text: str) -> int | Literal["unique"]:
    """``--bins``: ``unique`` or a count in ``1 .. MAX_BINS``, checked before any file is read."""
    if text == "unique":
        return "unique"
    value = _whole_number(text, "--bins", "a positive integer or 'unique'")
    if value > MAX_BINS:
        raise InputError(
            f"--bins {value}: at most {MAX_BINS:,} bins; the histograms hold bands x classes x "
            f"bins counts, at most {MAX_HISTOGRAM_COUNTS:,} (2**26, 512 MiB of int64)"
        )
    return value


def _whole_number(text: str, flag: str, expected: str) -> int:
    """``text`` as an integer >= 1, or an InputError naming ``flag`` and what it expects."""
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{flag} must be {expected}; got {text!r}") from None
    if value < 1:
        raise InputError(f"{flag} must be >= 1; got {value}")
    return value


def _parse_runs(text: str) -> int:
    """``bench --runs``: a whole number of complete passes, at least 1."""
    return _whole_number(text, "--runs", "an integer >= 1")


@dataclass(frozen=True)
class _Stack:
    """The IMAGE file(s) as read, and where their bands are."""

    image: np.ndarray  # as the file holds it (several files: stacked, bands last)
    band_axis: int | None  # None: one band, or bands last
    what: str  # for messages: the file, its axes and shape, the band axis used
    hint: str  # for messages about the layout: how to name another band axis

    @property
    def n_bands(self) -> int:
        return (
            1
            if self.image.ndim == 2
            else self.image.shape[2 if self.band_axis is None else self.band_axis]
        )

    @property
    def spatial(self) -> tuple[int, ...]:
        if self.image.ndim == 2 or self.band_axis is None:
            return tuple(self.image.shape[:2])
        return tuple(np.delete(self.image.shape, self.band_axis))


def _load_stack(paths: Sequence[str], gray: GrayMode | None, band_axis: int | None) -> _Stack:
    """Read the IMAGE file(s); a single 3-D file keeps its layout, its band axis resolved."""
    if len(paths) > 1 and band_axis is not None:
        raise InputError(
            f"--band-axis {band_axis} applies to one stack file; {len(paths)} IMAGE "
            "files are stacked with the bands last, in the order given"
        )
    if len(paths) == 1:
        arr, axes = read_image_axes(paths[0], argument="IMAGE", gray=gray)
        what = f"IMAGE {paths[0]!r}"
        bands_last(arr, axes, band_axis, what=what, flag="--band-axis")  # refuses a bad layout
        if arr.ndim == 2:
            return _Stack(arr, None, what, "")
        axis = default_band_axis(axes, 3) if band_axis is None else band_axis % 3
        names = "" if axes is None else f"axes {axes}, "
        return _Stack(
            arr,
            axis,
            f"{what} ({names}shape {arr.shape}) with its bands on axis {axis}",
            "; if the bands are on another axis, name it with --band-axis (counted in the "
            "file's axes)",
        )
    arrays = [read_image_axes(p, argument="IMAGE", gray=gray)[0] for p in paths]
    if any(a.ndim != 2 for a in arrays):
        shapes = [a.shape for a in arrays]
        raise InputError(
            f"several IMAGE files are the bands of one stack: each must be 2-D; got {shapes}"
        )
    if len({a.shape for a in arrays}) != 1 or len({a.dtype for a in arrays}) != 1:
        desc = [(a.shape, str(a.dtype)) for a in arrays]
        raise InputError(f"IMAGE files must share shape and dtype to form a stack; got {desc}")
    return _Stack(np.stack(arrays, axis=-1), None, f"the {len(arrays)} IMAGE files", "")


def _check_fits(stack: _Stack, classes: np.ndarray, flag: str) -> None:
    """Refuse label or mask files whose pixels are not the image's, naming the layout read."""
    spatial = classes.shape if flag == "--labels" else classes.shape[1:]
    if spatial != stack.spatial:
        h, w = stack.spatial
        raise InputError(
            f"{flag} is {spatial[0]} x {spatial[1]} pixels, but {stack.what} is {h} x {w}"
            f"{stack.hint}"
        )


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
    names: list[Measure], image: np.ndarray, classes: Any, kwargs: dict[str, Any]
) -> dict[str, np.ndarray]:
    if not names:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # already reported once for the NPC computation
        return {n: np.atleast_1d(_MEASURES[n](image, classes, **kwargs)) for n in names}


def _rows(res: NPCResult, null: np.ndarray | None) -> tuple[list[str], list[list[Any]]]:
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


def _check_class_map(path: Path | None, overwrite: bool) -> None:
    """Refuse a bad ``--class-map`` before any file is read (suffix, existing file, folder)."""
    if path is None:
        return
    check_output(path, overwrite, suffixes=CLASS_MAP_SUFFIXES, flag="--class-map")
    if path.suffix.lower() == ".png":
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


def _n_classes(classes: np.ndarray, from_labels: bool, background: int) -> int:
    if from_labels:
        return int(np.unique(classes[classes != background]).size)
    return int(classes.shape[0])


def _run_npc(args: argparse.Namespace) -> int:
    # everything that needs no file is checked first: a mistake costs no reading
    if (args.labels is None) == (args.masks is None):
        raise InputError("give exactly one of --labels FILE or --masks FILE [FILE ...]")
    bins = _parse_bins(args.bins)
    kwargs: dict[str, Any] = dict(
        bins=bins,
        range=_parse_range(args.range),
        background=args.background,
        out_of_range=args.out_of_range,
        nan_policy=args.nan,
    )
    names = _measure_names(args.measures)
    if args.null == "permutation" and args.n_perm < 1:
        raise InputError(f"--n-perm must be >= 1; got {args.n_perm}")
    _check_class_map(args.class_map, args.overwrite)

    stack = _load_stack(args.image, args.gray, args.band_axis)
    image = stack.image
    kwargs["band_axis"] = stack.band_axis
    if args.class_map is not None and args.class_map.suffix.lower() == ".png" and image.ndim != 2:
        raise InputError(
            f"--class-map .png shows one band, but {stack.what} has {stack.n_bands} bands; use "
            ".npy for a stack"
        )
    if args.labels is not None:
        classes = labels_from_file(args.labels, argument="--labels")
        _check_fits(stack, classes, "--labels")
    else:
        classes = masks_from_files(args.masks, invert=args.invert_masks, argument="--masks")
        _check_fits(stack, classes, "--masks")
    n_classes = _n_classes(classes, args.labels is not None, args.background)
    if isinstance(bins, int) and n_classes >= 2:
        check_histogram_size(stack.n_bands, n_classes, bins, argument="--bins")

    binned = bin_image(image, classes, **kwargs)
    warn_if_sparse(binned.counts, stacklevel=2)
    res = result_from_binned(binned)
    null = None
    if args.null == "permutation":
        with progress(
            total=args.n_perm * res.npc.size, desc="permutation null", unit="perm", delay=1.0
        ) as bar:
            null = null_values(binned, args.n_perm, args.seed, on_progress=bar.update)
    columns, rows = _rows(res, null)
    p_values = [r[-1] for r in rows] if null is not None else []
    extra = _measures(names, image, classes, kwargs)
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
    written = []
    if args.output is not None:
        if args.output.suffix.lower() == ".csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(rows)
            atomic_write_text(args.output, buf.getvalue())
        else:
            atomic_write_text(args.output, json.dumps(payload, indent=1) + "\n")
        written.append(args.output)
    if args.class_map is not None:
        cmap = res.class_map(image, band_axis=stack.band_axis)
        _write_class_map(args.class_map, cmap, res.class_labels.size)
        written.append(args.class_map)
    for path in written:
        if args.json:  # stdout holds the JSON alone
            print(f"wrote {path}", file=sys.stderr)
        else:
            wrote(path)
    return 0


def run_reproduce(args: argparse.Namespace) -> int:
    """``potcontrast reproduce``."""
    from ._experiments.reproduce import reproduce

    wrote(reproduce(args.out, quick=args.quick, seed=args.seed, device="cpu"))
    return 0


def run_bench(args: argparse.Namespace) -> int:
    """``potcontrast bench``."""
    from ._experiments.bench import bench

    bench(args.out, quick=args.quick, seed=args.seed, extended=args.extended, runs=args.runs)
    wrote(Path(args.out) / "result.json")
    return 0


_p = app.add_command(
    "npc", run_npc, help="NPC per band of an image or stack", common=("seed", "quiet")
)
_p.epilog = (
    "Layout: one IMAGE file is read in its own axis order (a multi-page TIFF is pages x rows x "
    "columns, an RGB or contiguous multi-sample TIFF rows x columns x samples, a .npy as saved). "
    "The bands are its sample axis, else its page axis, else (.npy/.npz) its last axis; "
    "--band-axis N names another axis by its index in the file. Several IMAGE files are one "
    f"band each. --bins: at most {MAX_BINS:,}, and bands x classes x bins at most "
    f"{MAX_HISTOGRAM_COUNTS:,} histogram counts."
)
_p.add_argument(
    "image",
    nargs="+",
    metavar="IMAGE",
    help="image file(s): .npy, .npz, .tif/.tiff, .png, ...; several files are the bands of one "
    "stack, in the order given",
)
_p.add_argument(
    "--labels",
    metavar="FILE",
    help="integer label image (PNG, TIFF, .npy); every label other than --background is a class "
    "(default: none; give --labels or --masks)",
)
_p.add_argument(
    "--background",
    type=int,
    default=0,
    metavar="LABEL",
    help="label of the unlabelled pixels in --labels (default: %(default)s)",
)
_p.add_argument(
    "--masks",
    nargs="+",
    metavar="FILE",
    help="one mask file per class, non-zero = selected (default: none; give --labels or --masks)",
)
_p.add_argument(
    "--invert-masks",
    action="store_true",
    help="select the zero pixels of each mask instead (default: the non-zero ones)",
)
_p.add_argument(
    "--bins",
    default="256",
    metavar="M|unique",
    help=f"number of equal-width bins (1 to {MAX_BINS:,}), or 'unique' for one bin per distinct "
    "sample value (default: %(default)s)",
)
_p.add_argument(
    "--range",
    default="auto",
    metavar="LO,HI|dtype|auto",
    help="LO,HI; 'dtype' for (0, 2**bits) of an integer image; 'auto' for each band's own "
    "(min, max) over the whole image (default: %(default)s)",
)
_p.add_argument(
    "--band-axis",
    type=int,
    default=None,
    metavar="N",
    help="the band axis of a single IMAGE file, counted in the file's own axes (0 = the pages of "
    "a multi-page TIFF, 2 or -1 = the last axis of an (H, W, B) file) (default: the file's "
    "sample axis, else its page axis, else the last axis of a .npy/.npz)",
)
_p.add_argument(
    "--gray",
    choices=GRAY_MODES,
    default=None,
    help="convert 8-bit RGB to grey with Pillow's luma, as the reference scripts do (default: "
    "keep every band)",
)
_p.add_argument(
    "--out-of-range",
    choices=OUT_OF_RANGE_POLICIES,
    default="raise",
    help="labelled samples outside the range: refuse, leave out (the reference's silent "
    "behaviour) or clamp, with a warning (default: %(default)s)",
)
_p.add_argument(
    "--nan",
    choices=NAN_POLICIES,
    default="raise",
    help="NaN samples: refuse, or leave out with a warning (default: %(default)s)",
)
_p.add_argument(
    "--pairwise",
    action="store_true",
    help="also print the K x K pairwise NPC per band (default: off)",
)
_p.add_argument(
    "--measures",
    default=None,
    metavar="LIST",
    help=f"comma-separated extra columns from {','.join(MEASURES)} (ks, auc: two classes only) "
    "(default: none)",
)
_p.add_argument(
    "--null",
    choices=NULL_METHODS,
    default=None,
    help="add the permutation null's mean and p-value per band (default: none)",
)
_p.add_argument(
    "--n-perm",
    type=int,
    default=200,
    metavar="N",
    help="permutations for --null (default: %(default)s)",
)
_p.add_argument(
    "--class-map",
    type=Path,
    default=None,
    metavar="FILE",
    help="also write the class map: .npy (exact class indices, -1 outside the range, in the "
    "layout of the IMAGE file; several files: (H, W, B)) or .png (one band, grey, out of range "
    "transparent) (default: none)",
)
_p.add_argument(
    "--json",
    action="store_true",
    help="print the full result as JSON instead of the table (default: the table)",
)
app.add_output_argument(_p, required=False, suffixes=OUTPUT_SUFFIXES)
app.add_reproduce(run_reproduce, device=False)
_b = app.add_bench(
    run_bench,
    device=False,
    quick_help="1024^2 stacks, K = 3 only (8/16-bit, 1/16 bands); about 100 s on one thread of "
    "a loaded 2-core machine (default: K = 2, 3, 5 and the 16 x 2000^2 headline)",
)
_b.add_argument(
    "--extended",
    action="store_true",
    help="add rows for image sizes 512^2 and 2048^2 and for 4096 and 65536 bins (default: off)",
)
_b.add_argument(
    "--runs",
    type=_parse_runs,
    default=1,
    metavar="N",
    help="complete passes over every row, one after the other; each row reports the median of "
    "the passes and their lowest and highest speedup (default: %(default)s)",
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``potcontrast`` console script."""
    return app.run(argv)
