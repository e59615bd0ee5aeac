"""Reading a user's files: every failure is one :class:`InputError` naming argument, file and cause.

A command line reads files that a user made, copied or cut short. Whatever goes wrong (the path is
missing, is a folder, cannot be read, is empty, or its decoder raises) becomes one
:class:`~sciml_core.InputError` of the form::

    <argument>: cannot read <what> from '<path>': <cause>

so :meth:`sciml_core.cli.App.run` prints one line and exits with status 2 instead of a traceback.
:func:`read_user_file` does this for any decoder; the readers below use it for the formats that
several packages read:

============================  =====================================================  ===========
reader                        formats                                                needs
============================  =====================================================  ===========
:func:`read_array`            ``.npy``, ``.npz`` (one array), ``.txt``/``.csv``      numpy
:func:`read_archive`          ``.npz`` (every array, decoded eagerly)                numpy
:func:`read_image`            ``.tif``/``.tiff``; ``.png``, ``.jpg``, ... (Pillow)   ``[io]``
:func:`read_torch_file`       ``torch.save`` files, ``weights_only=True``            ``[torch]``
============================  =====================================================  ===========

No reader ever unpickles a user's file: numpy files are read with ``allow_pickle=False`` (an
object-dtype array is refused), torch files with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import pickle
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np

from ._errors import InputError, MissingExtraError, require_extra

__all__ = ["read_archive", "read_array", "read_image", "read_torch_file", "read_user_file"]

T = TypeVar("T")

_NUMERIC_KINDS = "biufc"
_TIFF_SUFFIXES = (".tif", ".tiff")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _first_line(text: str) -> str:
    lines = [line.strip() for line in _ANSI.sub("", text).splitlines()]
    return next((line for line in lines if line), "")


def _cause(err: BaseException) -> str:
    """The exception as one line: ``Type: message`` (an InputError's message needs no type)."""
    message = _first_line(str(err))
    if isinstance(err, InputError):
        return message
    return f"{type(err).__name__}: {message}" if message else type(err).__name__


def read_user_file(
    path: str | os.PathLike[str],
    *,
    argument: str,
    decode: Callable[[Path], T],
    what: str,
    allow_empty: bool = False,
) -> T:
    """Decode a user's file, turning every failure into one :class:`InputError`.

    Checked first, each with its own message: the path exists, is not a folder, is readable
    (``os.access``), and is not empty (unless ``allow_empty``). Then ``decode(path)`` runs; any
    exception it raises becomes ``InputError("<argument>: cannot read <what> from '<path>':
    <cause>")``, the cause being the exception's type and the first line of its message (an
    ``InputError`` raised by ``decode`` keeps its message without the type). Only
    ``KeyboardInterrupt``, ``MemoryError`` and :class:`~sciml_core.MissingExtraError` (an
    optional dependency is missing: not the file's fault) pass through unchanged.

    Args:
        path: The file the user named.
        argument: How the user named it, e.g. ``"--checkpoint"`` or ``"image"``.
        decode: Reads the file, e.g. ``lambda p: json.loads(p.read_text())``.
        what: What the file should hold, for the message, e.g. ``"a graph"``.
        allow_empty: Pass an empty file to ``decode`` (default: refuse it).

    Returns:
        What ``decode`` returned.

    Raises:
        InputError: The file is missing, a folder, unreadable or empty, or ``decode`` failed.
        MissingExtraError: ``decode`` needs an optional dependency that is not installed.

    Examples:
        >>> import json, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> cfg = Path(tmp.name) / "cfg.json"
        >>> _ = cfg.write_text('{"width": 4')
        >>> read_user_file(cfg, argument="--config", decode=lambda f: json.loads(f.read_text()),
        ...                what="a JSON config")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        sciml_core._errors.InputError: --config: cannot read a JSON config from '...cfg.json': JSONDecodeError: Expecting ',' delimiter: line 1 column 12 (char 11)
        >>> read_user_file(Path(tmp.name) / "nope.json", argument="--config", decode=json.loads,
        ...                what="a JSON config")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        sciml_core._errors.InputError: --config: file '...nope.json' does not exist
        >>> tmp.cleanup()
    """  # noqa: E501
    p = Path(path)
    try:  # stat() errors other than "no such file" (EACCES above, ENAMETOOLONG) are raised
        if not p.exists():
            raise InputError(f"{argument}: file {str(p)!r} does not exist")
        if p.is_dir():
            raise InputError(f"{argument}: {str(p)!r} is a folder; expected a file holding {what}")
        if not os.access(p, os.R_OK):
            raise InputError(f"{argument}: cannot read {str(p)!r}: permission denied")
        if not allow_empty and p.is_file() and p.stat().st_size == 0:
            raise InputError(f"{argument}: {str(p)!r} is empty (0 bytes); expected {what}")
    except OSError as err:
        raise InputError(f"{argument}: cannot read {str(p)!r}: {err.strerror or err}") from None
    try:
        return decode(p)
    except (MemoryError, MissingExtraError):
        raise
    except Exception as err:
        raise InputError(f"{argument}: cannot read {what} from {str(p)!r}: {_cause(err)}") from err


# --------------------------------------------------------------------------------------- numpy


def _check_npy_header(fh: IO[bytes], size: int, name: str) -> np.dtype[Any]:
    """Read a ``.npy`` header from ``fh`` (``size`` bytes long), refusing objects and truncation.

    Reading the header first means a truncated or forged file never makes numpy allocate the
    size its header claims, and an object array is refused before anything is unpickled.
    """
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    else:
        raise InputError(f"{name} has .npy format version {version}; versions 1.0 and 2.0 are read")
    if dtype.hasobject:
        raise InputError(
            f"{name} holds Python objects (dtype {dtype}), which only unpickling could restore; "
            "a user's file is never unpickled: save plain numbers"
        )
    expected = math.prod(shape) * dtype.itemsize
    present = size - fh.tell()
    if present < expected:
        raise InputError(
            f"{name} is truncated: its header promises {expected} bytes of data (shape "
            f"{tuple(shape)}, dtype {dtype}), only {present} are there"
        )
    return dtype


def _require_numbers(arr: np.ndarray, name: str, allow_object: bool) -> np.ndarray:
    if not allow_object and arr.dtype.kind not in _NUMERIC_KINDS:
        raise InputError(
            f"{name} holds values of dtype {arr.dtype}; expected numbers (bool, int, float or "
            "complex)"
        )
    return arr


def _decode_npy(p: Path) -> np.ndarray:
    with open(p, "rb") as fh:
        _check_npy_header(fh, p.stat().st_size, "the file")
    arr = np.load(p, allow_pickle=False)
    if not isinstance(arr, np.ndarray):
        raise InputError(f"expected a .npy array; got {type(arr).__name__}")
    return arr


def _decode_npz(p: Path) -> dict[str, np.ndarray]:
    if not zipfile.is_zipfile(p):
        raise InputError(
            "not an .npz archive: no zip directory found (not a zip file, or one cut short)"
        )
    out: dict[str, np.ndarray] = {}
    with np.load(p, allow_pickle=False) as archive:
        for info in archive.zip.infolist():
            key = info.filename.removesuffix(".npy")
            with archive.zip.open(info) as member:
                _check_npy_header(member, info.file_size, f"member {key!r}")
            try:
                out[key] = np.asarray(archive[key])
            except Exception as err:
                raise InputError(f"member {key!r}: {_cause(err)}") from err
    return out


def _decode_text(p: Path) -> np.ndarray:
    delimiter = "," if p.suffix.lower() == ".csv" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "input contained no data": refused below
        arr = np.loadtxt(p, delimiter=delimiter, dtype=np.float64)
    if arr.size == 0:
        raise InputError("it holds no numbers")
    return arr


def read_archive(
    path: str | os.PathLike[str], *, argument: str, required: Sequence[str] = ()
) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` archive, refusing a damaged one whole.

    Every member is decoded here (``np.load`` alone reads members lazily, so a truncated member
    would fail later, deep inside a command). Each member's ``.npy`` header is checked first:
    object arrays are refused (never unpickled) and a member whose data is cut short is named.

    Args:
        path: The ``.npz`` file.
        argument: How the user named it, e.g. ``"--data"``.
        required: Keys the archive must hold; a missing one is named with the keys present.

    Returns:
        Key to array, in the archive's order.

    Raises:
        InputError: Missing, unreadable, empty or damaged file, an object array, or a missing
            ``required`` key.

    Examples:
        >>> import tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> data = Path(tmp.name) / "data.npz"
        >>> np.savez(data, x=np.zeros(3), y=np.ones(3))
        >>> read_archive(data, argument="--data", required=["x"])
        {'x': array([0., 0., 0.]), 'y': array([1., 1., 1.])}
        >>> read_archive(data, argument="--data", required=["u", "x"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        sciml_core._errors.InputError: --data: '...data.npz' has no array 'u'; it holds 'x', 'y'
        >>> tmp.cleanup()
    """
    p = Path(path)
    arrays = read_user_file(p, argument=argument, decode=_decode_npz, what="an .npz archive")
    missing = [k for k in required if k not in arrays]
    if missing:
        names = ", ".join(repr(k) for k in missing)
        held = ", ".join(repr(k) for k in arrays) or "nothing"
        plural = "s" if len(missing) > 1 else ""
        raise InputError(f"{argument}: {str(p)!r} has no array{plural} {names}; it holds {held}")
    return arrays


def read_array(
    path: str | os.PathLike[str],
    *,
    argument: str,
    allow_object: bool = False,
    key: str | None = None,
) -> np.ndarray:
    """Read one numeric array from ``.npy``, ``.npz`` or a text table (``.txt``, ``.csv``).

    ``.npy`` headers are checked before any data is read: a truncated file, junk bytes or an
    object array (which only unpickling could restore) are refused. ``.npz``: the array named
    ``key``, or the only array (through :func:`read_archive`). ``.txt``: numbers separated by
    white space, ``.csv``: by commas, ``#`` comments; read as float64.

    Args:
        path: The file.
        argument: How the user named it, e.g. ``"--input"``.
        allow_object: Also accept arrays that are not numbers (strings, records, dates). An
            object-dtype array (Python objects) is refused either way: no user file is ever
            unpickled.
        key: For ``.npz``: which array (default: the only one).

    Returns:
        The array, with the file's dtype and shape.

    Raises:
        InputError: Missing, unreadable, empty, truncated or undecodable file, an unknown suffix,
            non-numeric values (unless ``allow_object``), or no such ``key``.

    Examples:
        >>> import tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> good, cut = Path(tmp.name) / "x.npy", Path(tmp.name) / "cut.npy"
        >>> np.save(good, np.arange(3.0))
        >>> read_array(good, argument="--input")
        array([0., 1., 2.])
        >>> _ = cut.write_bytes(good.read_bytes()[:-8])
        >>> read_array(cut, argument="--input")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        sciml_core._errors.InputError: --input: cannot read an array from '...cut.npy': the file is truncated: its header promises 24 bytes of data (shape (3,), dtype float64), only 16 are there
        >>> tmp.cleanup()
    """  # noqa: E501
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".npz":
        arrays = read_archive(p, argument=argument, required=[] if key is None else [key])
        if key is None:
            if len(arrays) != 1:
                held = ", ".join(repr(k) for k in arrays) or "no array"
                raise InputError(f"{argument}: {str(p)!r} holds {held}; say which array to read")
            key = next(iter(arrays))
        return _require_numbers(
            arrays[key], f"{argument}: array {key!r} of {str(p)!r}", allow_object
        )
    decoders: dict[str, Callable[[Path], np.ndarray]] = {
        ".npy": _decode_npy,
        ".txt": _decode_text,
        ".csv": _decode_text,
    }
    decode = decoders.get(suffix)
    if decode is None:
        raise InputError(
            f"{argument}: cannot tell the format of {str(p)!r}; expected .npy, .npz, .txt or .csv"
        )
    arr = read_user_file(p, argument=argument, decode=decode, what="an array")
    return _require_numbers(arr, f"{argument}: {str(p)!r}", allow_object)


# --------------------------------------------------------------------------------------- images


class _HeldRecords(logging.Handler):
    """Holds tifffile's log records while a file is decoded (see :func:`_decode_tiff`)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _decode_tiff(p: Path, tifffile: Any) -> tuple[np.ndarray, str]:
    # tifffile logs what it finds wrong (``invalid page offset``) before it raises: held back, so
    # that a file it cannot read gives the one-line error alone; passed on when the read succeeds.
    logger = logging.getLogger("tifffile")
    held = _HeldRecords()
    logger.addHandler(held)
    propagate, logger.propagate = logger.propagate, False
    try:
        result = _decode_tiff_held(p, tifffile)
    finally:
        logger.removeHandler(held)
        logger.propagate = propagate
    for record in held.records:
        logger.handle(record)
    return result


def _decode_tiff_held(p: Path, tifffile: Any) -> tuple[np.ndarray, str]:
    with tifffile.TiffFile(p) as tif:
        series = list(tif.series)
        if not series:
            raise InputError("it holds no image")
        first = series[0]
        same = all(s.shape == first.shape and s.dtype == first.dtype for s in series)
        if len(series) > 1 and same:  # pages written one by one: one series each, a stack
            return np.stack([s.asarray() for s in series]), "I" + str(first.axes)
        return np.asarray(first.asarray()), str(first.axes)


def _pil_frame(im: Any) -> np.ndarray:
    if im.mode == "P":  # palette indices are not intensities: give the colours
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode == "PA":
        im = im.convert("RGBA")
    arr = np.asarray(im)
    if im.format == "PNG" and im.mode == "I" and arr.dtype != np.uint16:
        arr = arr.astype(np.uint16)  # PNG samples have at most 16 bits; older Pillow gives int32
    return arr


def _decode_pil(p: Path, pil: Any) -> tuple[np.ndarray, str]:
    with pil.open(p) as im:
        frames: list[np.ndarray] = []
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            im.load()
            frame = _pil_frame(im)
            if frames and (frame.shape, frame.dtype) != (frames[0].shape, frames[0].dtype):
                raise InputError(
                    f"frame {i} has shape {frame.shape} and dtype {frame.dtype}, frame 0 has "
                    f"{frames[0].shape} and {frames[0].dtype}"
                )
            frames.append(frame)
    axes = "YX" if frames[0].ndim == 2 else "YXS"
    if len(frames) == 1:
        return frames[0], axes
    return np.stack(frames), "I" + axes


def read_image(
    path: str | os.PathLike[str],
    *,
    argument: str,
    package: str = "sciml-core",
    extra: str = "io",
) -> tuple[np.ndarray, str]:
    """Read an image or image stack in the file's own axis order, with its axes named.

    TIFF (``.tif``, ``.tiff``) is read with tifffile, every other suffix with Pillow (PNG, JPEG,
    BMP, GIF, WebP, ...). Values and dtype are kept (a 16-bit image stays ``uint16``); nothing is
    converted to 8 bits or grey. The axes string uses tifffile's letters: ``Y``, ``X`` rows and
    columns, ``S`` samples (RGB channels or bands stored with each pixel, always last), and a
    leading page axis such as ``Q``, ``I``, ``Z``, ``C`` or ``T`` for a stack (``S`` first means
    a planar TIFF). So a grey image is ``"YX"``, an RGB image or an ``(H, W, B)`` TIFF is
    ``"YXS"``, a multi-page TIFF of ``P`` pages is ``(P, H, W)`` with axes ``"QYX"`` or ``"IYX"``.
    Palette images come back as their RGB(A) colours.

    Args:
        path: The image file.
        argument: How the user named it, e.g. ``"image"``.
        package: The distribution whose extra installs tifffile and Pillow, for the message of a
            missing one (e.g. ``"potcontrast"``).
        extra: That extra's name.

    Returns:
        ``(array, axes)`` with ``len(axes) == array.ndim``.

    Raises:
        InputError: Missing, unreadable, empty, truncated or undecodable file.
        MissingExtraError: tifffile (TIFF) or Pillow (other formats) is not installed; the
            message names ``pip install '<package>[<extra>]'``.

    Examples:
        >>> import tempfile, tifffile
        >>> stack = np.arange(2 * 3 * 4, dtype=np.uint16).reshape(2, 3, 4)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     tifffile.imwrite(Path(d) / "s.tif", stack, photometric="minisblack")
        ...     arr, axes = read_image(Path(d) / "s.tif", argument="image")
        >>> arr.shape, arr.dtype, axes
        ((2, 3, 4), dtype('uint16'), 'QYX')
    """
    p = Path(path)
    if p.suffix.lower() in _TIFF_SUFFIXES:
        tifffile = require_extra("tifffile", extra=extra, package=package)
        return read_user_file(
            p, argument=argument, decode=lambda f: _decode_tiff(f, tifffile), what="a TIFF image"
        )
    pil = require_extra("PIL.Image", extra=extra, package=package)
    return read_user_file(
        p, argument=argument, decode=lambda f: _decode_pil(f, pil), what="an image"
    )


# --------------------------------------------------------------------------------------- torch

_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")
_WEIGHTS_ERROR = re.compile(r"WeightsUnpickler error: (.*?)(?: Check the documentation|$)")


def _refused_global(err: BaseException) -> str:
    """`` (module.Name)`` of the global that ``weights_only`` refused, or ``""``."""
    found = _GLOBAL.search(_ANSI.sub("", str(err)))
    return f" ({found.group(1)})" if found else ""


@contextlib.contextmanager
def _held_warnings() -> Iterator[None]:
    """Warnings of a decoder, dropped when it fails and passed on unchanged when it succeeds.

    torch warns about the pickle protocol of foreign bytes before it raises: a file it cannot read
    then gives our one-line error alone, as tifffile's log lines are held in :func:`_decode_tiff`.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


def _sort_torch_error(err: Exception) -> tuple[bool, str]:
    """Sort an exception of ``torch.load(weights_only=True)``: the one place that reads them.

    Returns ``(True, " (module.Name)")`` (or ``(True, "")``) when the file holds a pickled Python
    object that ``weights_only`` refused, and ``(False, cause)`` for bytes that are no
    ``torch.save`` file at all (junk, a truncated file, a foreign pickle). torch raises
    ``UnpicklingError`` for both; only a refused object names the ``GLOBAL`` it refused, so junk
    is never reported as a pickled object (whose advice, ``weights_only=False``, would be wrong).
    Used by :func:`read_torch_file` and ``load_pretrained``/``inspect_weights``.
    """
    if isinstance(err, pickle.UnpicklingError):
        what = _refused_global(err)
        if what:
            return True, what
        text = " ".join(_ANSI.sub("", str(err)).split())
        found = _WEIGHTS_ERROR.search(text)
        detail = found.group(1) if found else _first_line(str(err))
        return False, f"UnpicklingError: {detail}" if detail else "UnpicklingError"
    return False, _cause(err)


def _decode_torch(p: Path, torch: Any, map_location: Any, safe_globals: Sequence[Any]) -> Any:
    try:
        with _held_warnings(), torch.serialization.safe_globals(list(safe_globals)):
            return torch.load(p, map_location=map_location, weights_only=True)
    except MemoryError:
        raise
    except Exception as err:  # torch's errors for foreign bytes vary: KeyError, IndexError, ...
        pickled, detail = _sort_torch_error(err)
        if not pickled:
            raise InputError(f"not a file written by torch.save ({detail})") from err
        raise InputError(
            f"it holds pickled Python objects{detail}, which are never unpickled "
            "(torch.load(weights_only=True)): save tensors and plain containers, e.g. "
            "torch.save(model.state_dict(), path) instead of torch.save(model, path)"
        ) from err


def read_torch_file(
    path: str | os.PathLike[str],
    *,
    argument: str,
    map_location: Any = "cpu",
    safe_globals: Sequence[Any] = (),
    what: str = "a torch file",
    package: str = "sciml-core",
    extra: str = "torch",
) -> Any:
    """Read a ``torch.save`` file with ``torch.load(weights_only=True)``: no code runs.

    Only tensors, numbers, strings and plain containers are read (plus the classes in
    ``safe_globals``); a pickled ``nn.Module`` or any other Python object is refused with the
    advice to save a ``state_dict``. torch is imported only when this is called.

    Args:
        path: The file, e.g. a checkpoint.
        argument: How the user named it, e.g. ``"--checkpoint"``.
        map_location: Where to put the tensors, as for ``torch.load``.
        safe_globals: Further classes to allow, e.g. PyG's ``Data`` (see
            ``torch.serialization.safe_globals``).
        what: What the file should hold, for the messages, e.g. ``"a checkpoint"``.
        package: The distribution whose extra installs torch, for the message if it is missing.
        extra: That extra's name.

    Returns:
        The loaded object.

    Raises:
        InputError: Missing, unreadable, empty, truncated or foreign file, or pickled objects.
        MissingExtraError: torch is not installed.

    Examples:
        >>> import tempfile, torch
        >>> tmp = tempfile.TemporaryDirectory()
        >>> torch.save({"w": torch.ones(2)}, Path(tmp.name) / "w.pt")
        >>> read_torch_file(Path(tmp.name) / "w.pt", argument="--weights")
        {'w': tensor([1., 1.])}
        >>> torch.save(torch.nn.Linear(2, 1), Path(tmp.name) / "model.pt")
        >>> read_torch_file(Path(tmp.name) / "model.pt", argument="--weights")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        sciml_core._errors.InputError: --weights: cannot read a torch file from '...model.pt': it holds pickled Python objects (torch.nn.modules.linear.Linear), which are never unpickled (torch.load(weights_only=True)): save tensors and plain containers, e.g. torch.save(model.state_dict(), path) instead of torch.save(model, path)
        >>> tmp.cleanup()
    """  # noqa: E501
    torch = require_extra("torch", extra=extra, package=package)
    return read_user_file(
        path,
        argument=argument,
        decode=lambda f: _decode_torch(f, torch, map_location, safe_globals),
        what=what,
    )
