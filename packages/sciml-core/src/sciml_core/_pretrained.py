"""Weights that others trained, loaded into a module without running their code.

:func:`load_pretrained` reads a local file (a PyTorch state dict or checkpoint, or a
``.safetensors`` file), renames its keys to the module's and copies every entry whose name and
shape agree; :func:`inspect_weights` says what a file holds. Both need the ``[torch]`` extra
(``.safetensors`` files the ``[safetensors]`` extra); the core never imports torch at import time.

The steps of :func:`load_pretrained`, in order:

1. **Check.** ``path`` must be a local file. Its SHA-256 is computed in 1 MiB chunks, compared
   with ``sha256`` when one is given (before anything is unpickled) and always reported.
2. **Read.** ``torch.load(path, map_location="cpu", weights_only=True, mmap=True)`` for the zip
   files ``torch.save`` writes (a legacy pre-1.6 file is read without ``mmap``), or the
   ``safetensors`` package. ``weights_only=True`` refuses every pickled Python object, so a file
   holding a whole module (``torch.save(model)``) is refused with advice instead of running its
   code.
3. **Unwrap.** The first of the keys ``state_dict``, ``model_state_dict``, ``model``, ``module``,
   ``ema``, ``net`` whose value is a mapping holding tensors is the state dict; otherwise the top
   level is. Entries that are not tensors (an epoch counter, optimizer state) are not weights.
4. **Rename.** A ``strip`` prefix is removed when every file key carries it and the module's keys
   do not all carry it (a wrapper whose own keys all start with ``model.`` keeps it), repeatedly,
   so ``module._orig_mod.`` both go. ``select="encoder"`` then keeps the keys under ``encoder.``
   without that prefix (and ``strip`` applies once more). Last, ``key_map``'s ``(pattern,
   replacement)`` pairs are applied with :func:`re.sub`, in order.
5. **Match.** A module entry matches when the file has its name with the same shape and dtype,
   or with another floating-point (or complex) precision, which is cast to the module's dtype and
   listed in ``cast``. Entries of another shape, or of another kind of dtype (a float for an
   integer buffer), are listed and never loaded.
6. **Load.** Below ``min_matched`` nothing is loaded. Otherwise the matched entries are copied
   into the module's own tensors with ``load_state_dict(strict=False)``, 16 MiB at a time: its
   devices, dtypes, ``requires_grad`` flags and every unmatched entry stay as they were.

Memory: a zip file is memory-mapped, so tensors are read from the page cache as they are copied
instead of being loaded first. The pages of each copied chunk are then handed back to the kernel
(``madvise(MADV_DONTNEED)`` on Linux: they are clean pages of a private file mapping, so a later
read would fetch the same bytes from the file again), which keeps the resident memory at about the
module plus one chunk. ``benchmarks/pretrained_memory.py`` measures it beside a plain
``torch.load`` + ``load_state_dict``.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import math
import mmap
import os
import re
import sys
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from ._errors import InputError, require_extra
from ._readers import _cause, _held_warnings, _sort_torch_error

if TYPE_CHECKING:
    import torch

__all__ = [
    "CONTAINER_KEYS",
    "DEFAULT_STRIP",
    "LoadReport",
    "WeightsFormat",
    "WeightsInfo",
    "inspect_weights",
    "load_pretrained",
]

CONTAINER_KEYS: tuple[str, ...] = (
    "state_dict",
    "model_state_dict",
    "model",
    "module",
    "ema",
    "net",
)
"""Checkpoint keys that may hold the state dict, in the order they are tried."""

DEFAULT_STRIP: tuple[str, ...] = ("module.", "_orig_mod.", "model.", "backbone.")
"""Wrapper prefixes removed by default: DDP/DataParallel, ``torch.compile``, common wrappers."""

WeightsFormat = Literal["torch-zip", "torch-legacy", "safetensors"]
"""What :func:`inspect_weights` found: a ``torch.save`` zip file, a pre-1.6 pickle, safetensors."""

_FORMAT_LABELS: dict[str, str] = {
    "torch-zip": "PyTorch zip file (torch.save)",
    "torch-legacy": "PyTorch legacy file (torch.save before 1.6)",
    "safetensors": "safetensors file",
}

_HASH_CHUNK = 1 << 20  # SHA-256 is read in 1 MiB chunks
_COPY_CHUNK = 16 << 20  # bytes copied into the module between two page releases
_SHOWN = 10  # keys listed in an error message or a summary


class ShapeMismatch(NamedTuple):
    """An entry present in the file and the module with different shapes (never loaded)."""

    key: str
    file_shape: tuple[int, ...]
    module_shape: tuple[int, ...]


class DtypeChange(NamedTuple):
    """An entry whose dtype differs between the file and the module (``"float16"``, ...)."""

    key: str
    file_dtype: str
    module_dtype: str


@dataclass(frozen=True)
class LoadReport:
    """What :func:`load_pretrained` loaded into the module, and what it did not.

    ``matched``, ``missing``, ``shape_mismatch`` and ``dtype_mismatch`` partition the module's
    state-dict entries; ``unexpected`` are file entries (after renaming) the module has no entry
    for. Keys are the module's names (the file's names after unwrapping and renaming).

    Attributes:
        matched: Module keys that were loaded, in the module's order.
        missing: Module keys the file has no entry for.
        unexpected: File keys the module has no entry for, in the file's order.
        shape_mismatch: Entries present in both with different shapes; never loaded.
        fraction: ``len(matched)`` over the number of the module's state-dict entries.
        sha256: The file's SHA-256 (64 lower-case hex digits), whether or not one was expected.
        container: The checkpoint key the state dict was unwrapped from (``"model_state_dict"``,
            ...), or ``None`` when the file's top level is the state dict.
        cast: Floating-point entries loaded from another precision (cast to the module's dtype).
        dtype_mismatch: Entries whose dtypes are of different kinds (a float for an integer
            buffer, say); never loaded.
    """

    matched: tuple[str, ...]
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    shape_mismatch: tuple[ShapeMismatch, ...]
    fraction: float
    sha256: str
    container: str | None
    cast: tuple[DtypeChange, ...] = ()
    dtype_mismatch: tuple[DtypeChange, ...] = ()

    def __str__(self) -> str:
        total = len(self.matched) + len(self.missing)
        total += len(self.shape_mismatch) + len(self.dtype_mismatch)
        source = "the top level" if self.container is None else repr(self.container)
        lines = [
            f"loaded {len(self.matched)} of {total} module entries ({self.fraction:.1%}) "
            f"from {source}; SHA-256 {self.sha256}"
        ]
        if self.missing:
            lines.append(f"missing ({len(self.missing)}): {_first(self.missing)}")
        if self.unexpected:
            lines.append(f"unexpected ({len(self.unexpected)}): {_first(self.unexpected)}")
        if self.shape_mismatch:
            shown = [f"{m.key} {m.file_shape} in the file, {m.module_shape} in the module"
                     for m in self.shape_mismatch]  # fmt: skip
            lines.append(f"other shape, not loaded ({len(shown)}): {_first(shown)}")
        if self.dtype_mismatch:
            shown = [f"{m.key} {m.file_dtype} -> {m.module_dtype}" for m in self.dtype_mismatch]
            lines.append(f"other dtype, not loaded ({len(shown)}): {_first(shown)}")
        if self.cast:
            shown = [f"{m.key} {m.file_dtype} -> {m.module_dtype}" for m in self.cast]
            lines.append(f"cast ({len(shown)}): {_first(shown)}")
        return "\n".join(lines)


class WeightEntry(NamedTuple):
    """One tensor of a weights file: its name (after unwrapping), shape and dtype."""

    name: str
    shape: tuple[int, ...]
    dtype: str


@dataclass(frozen=True)
class WeightsInfo:
    """What a weights file holds, as read by :func:`inspect_weights` (no tensor data is read).

    Attributes:
        path: The file.
        format: ``"torch-zip"``, ``"torch-legacy"`` or ``"safetensors"``.
        container: The checkpoint key holding the state dict, or ``None`` (top level).
        other_keys: The checkpoint's other top-level keys (``"epoch"``, ``"optimizer"``, ...).
        sha256: The file's SHA-256.
        size: The file's size in bytes.
        entries: Every tensor of the state dict, in the file's order (by name for
            safetensors, whose header is a JSON object).
    """

    path: Path
    format: WeightsFormat
    container: str | None
    other_keys: tuple[str, ...]
    sha256: str
    size: int
    entries: tuple[WeightEntry, ...]

    @property
    def n_keys(self) -> int:
        """Number of tensors in the state dict."""
        return len(self.entries)

    @property
    def parameters(self) -> int:
        """Number of scalars over all tensors (buffers included)."""
        return sum(math.prod(e.shape) for e in self.entries)

    @property
    def dtypes(self) -> dict[str, int]:
        """Number of tensors of each dtype, the most frequent first."""
        counts: dict[str, int] = {}
        for entry in self.entries:
            counts[entry.dtype] = counts.get(entry.dtype, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def tree(self, depth: int = 1) -> list[tuple[str, int, int]]:
        """``(prefix, tensors, parameters)`` per key prefix of ``depth`` dotted parts, in file order.

        Examples:
            >>> info = WeightsInfo(Path("w.pt"), "torch-zip", None, (), "0" * 64, 0, (
            ...     WeightEntry("enc.0.w", (2, 3), "float32"), WeightEntry("enc.1.w", (3,), "float32"),
            ...     WeightEntry("head.w", (4,), "float32")))
            >>> info.tree()
            [('enc', 2, 9), ('head', 1, 4)]
            >>> info.tree(2)
            [('enc.0', 1, 6), ('enc.1', 1, 3), ('head.w', 1, 4)]
        """  # noqa: E501
        if depth < 1:
            raise ValueError(f"depth must be >= 1; got {depth}")
        return _groups(((e.name, math.prod(e.shape)) for e in self.entries), depth)

    def describe(self, *, max_lines: int = 40) -> str:
        """A readable summary: format, size, digest, container, counts, dtypes and key tree.

        The tree shows each top-level prefix and, under it, its second-level prefixes, with runs
        of numbered children (``blocks.0`` ... ``blocks.11``) on one line.
        """
        dtypes = ", ".join(f"{name} x{count}" for name, count in self.dtypes.items())
        lines = [
            str(self.path),
            f"  format: {_FORMAT_LABELS[self.format]}, {_size(self.size)}",
            f"  SHA-256: {self.sha256}",
        ]
        if self.container is not None:
            lines.append(f"  state dict under the checkpoint key {self.container!r}")
        if self.other_keys:
            lines.append(f"  other top-level keys: {_first([repr(k) for k in self.other_keys])}")
        lines.append(f"  {self.n_keys} tensors, {self.parameters:,} parameters; dtypes: {dtypes}")
        shared = _shared_prefixes([e.name for e in self.entries], DEFAULT_STRIP)
        if shared:
            lines.append(
                f"  every key starts with {shared!r}, which load_pretrained strips; the tree is "
                "shown without it"
            )
        lines.append("  key tree (tensors, parameters):")
        tree: list[str] = []
        numel = [(e.name[len(shared) :], math.prod(e.shape)) for e in self.entries]
        for prefix, count, params in _groups(numel, 1):
            tree.append(f"    {prefix}  ({count}, {params:,})")
            below = _groups([(n, p) for n, p in numel if n.startswith(prefix + ".")], 2)
            if len(below) > 1:
                tree += [f"      {name}  ({c}, {p:,})" for name, c, p in _collapse_numbered(below)]
        if len(tree) > max_lines:
            tree = [*tree[:max_lines], f"    ... {len(tree) - max_lines} more lines"]
        return "\n".join(lines + tree)

    def __str__(self) -> str:
        return self.describe()


def _torch() -> Any:
    return require_extra("torch", extra="torch", package="sciml-core")


def _first(items: Sequence[str], n: int = _SHOWN) -> str:
    if not items:
        return "none"
    shown = ", ".join(items[:n])
    return shown if len(items) <= n else f"{shown} (and {len(items) - n} more)"


def _size(nbytes: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} bytes"


def _groups(names: Iterable[tuple[str, int]], depth: int) -> list[tuple[str, int, int]]:
    rows: dict[str, list[int]] = {}
    for name, numel in names:
        row = rows.setdefault(".".join(name.split(".")[:depth]), [0, 0])
        row[0] += 1
        row[1] += numel
    return [(prefix, count, params) for prefix, (count, params) in rows.items()]


def _collapse_numbered(rows: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Merge ``a.0``, ``a.1``, ... into one row ``a.{0..n}`` (``a.{0,2}`` with gaps), placed first.

    Examples:
        >>> _collapse_numbered([("a.0", 1, 2), ("a.2", 1, 2), ("b", 1, 1), ("c.0", 1, 3)])
        [('a.{0,2}', 2, 4), ('b', 1, 1), ('c.0', 1, 3)]
    """
    out: list[tuple[str, int, int]] = []
    runs: dict[str, int] = {}
    numbers: dict[str, list[int]] = {}
    for name, count, params in rows:
        head, _, last = name.rpartition(".")
        if head and last.isdigit():
            if head not in runs:
                runs[head] = len(out)
                numbers[head] = []
                out.append((head, 0, 0))
            numbers[head].append(int(last))
            _, c, p = out[runs[head]]
            out[runs[head]] = (head, c + count, p + params)
        else:
            out.append((name, count, params))
    for head, index in runs.items():
        _, c, p = out[index]
        nums = sorted(numbers[head])
        if len(nums) == 1:
            label = f"{head}.{nums[0]}"
        elif nums == list(range(nums[0], nums[-1] + 1)):
            label = f"{head}.{{{nums[0]}..{nums[-1]}}}"
        else:
            shown = ",".join(map(str, nums[:6])) + (",..." if len(nums) > 6 else "")
            label = f"{head}.{{{shown}}}"
        out[index] = (label, c, p)
    return out


# --------------------------------------------------------------------------- argument checks


def _check_sha256(sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha256.strip()):
        raise InputError(
            f"sha256 must be 64 hexadecimal digits (a SHA-256 digest) or None; got {sha256!r}"
        )
    return sha256.strip().lower()


def _check_strip(strip: Sequence[str]) -> tuple[str, ...]:
    if isinstance(strip, str) or not isinstance(strip, Iterable):
        raise InputError(
            f"strip must be a sequence of key prefixes such as ('module.',); got {strip!r}"
        )
    prefixes = tuple(strip)
    for prefix in prefixes:
        if not isinstance(prefix, str) or not prefix:
            raise InputError(f"strip must hold non-empty strings; got {prefix!r} in {strip!r}")
    return prefixes


def _check_select(select: str | None) -> str | None:
    if select is None:
        return None
    if not isinstance(select, str) or not select.strip("."):
        raise InputError(f"select must be a key prefix such as 'encoder' or None; got {select!r}")
    return select.rstrip(".") + "."


def _check_key_map(
    key_map: Sequence[tuple[str, str]] | Mapping[str, str],
) -> list[tuple[re.Pattern[str], str]]:
    pairs = list(key_map.items()) if isinstance(key_map, Mapping) else key_map
    if isinstance(pairs, str) or not isinstance(pairs, Iterable):
        raise InputError(f"key_map must be (pattern, replacement) pairs; got {key_map!r}")
    compiled = []
    for i, pair in enumerate(pairs):
        if (
            not isinstance(pair, tuple | list)
            or len(pair) != 2
            or not all(isinstance(part, str) for part in pair)
        ):
            raise InputError(
                f"key_map[{i}] must be a (pattern, replacement) pair of strings; got {pair!r}"
            )
        try:
            compiled.append((re.compile(pair[0]), pair[1]))
        except re.error as err:
            raise InputError(
                f"key_map[{i}]: {pair[0]!r} is not a regular expression: {err}"
            ) from None
    return compiled


def _check_min_matched(min_matched: float) -> float:
    if (
        isinstance(min_matched, bool)
        or not isinstance(min_matched, int | float)
        or not 0.0 <= min_matched <= 1.0
    ):
        raise InputError(f"min_matched must be a number in [0, 1]; got {min_matched!r}")
    return float(min_matched)


def _local_file(path: str | os.PathLike[str], *, sha256: str | None) -> Path:
    expected = f"expected SHA-256 {sha256}" if sha256 else "no SHA-256 given"
    if isinstance(path, str) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", path):
        raise InputError(
            f"path must be a local file; got the URL {path!r} ({expected}). Download it first, "
            "check its digest and pass the local path"
        )
    if not isinstance(path, str | os.PathLike):
        raise InputError(f"path must be a file path; got {type(path).__name__}")
    src = Path(path)
    try:  # stat() errors other than "no such file" (EACCES above, ENAMETOOLONG) are raised
        if not src.exists():
            raise InputError(f"weights file '{src}' does not exist ({expected})")
        if not src.is_file():
            raise InputError(f"weights file '{src}' is not a file ({expected})")
    except OSError as err:
        raise InputError(
            f"weights file '{src}' cannot be looked up: {err.strerror or err} ({expected})"
        ) from None
    return src


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    buffer = bytearray(_HASH_CHUNK)
    view = memoryview(buffer)
    try:
        with open(path, "rb") as fh:
            while n := fh.readinto(buffer):
                digest.update(view[:n])
    except OSError as err:
        raise InputError(f"cannot read weights file '{path}': {err.strerror or err}") from None
    return digest.hexdigest()


# ------------------------------------------------------------------------------- reading


def _sniff(path: Path) -> WeightsFormat:
    """The format from the first bytes: a zip archive, a safetensors header, else a pickle."""
    with open(path, "rb") as fh:
        head = fh.read(9)
    if head[:4] == b"PK\x03\x04":
        return "torch-zip"
    header = int.from_bytes(head[:8], "little") if len(head) == 9 else 0
    if head[8:9] == b"{" and 0 < header <= path.stat().st_size - 8:
        return "safetensors"
    return "torch-legacy"


def _unreadable(path: Path, cause: str) -> InputError:
    return InputError(
        f"weights file '{path}' cannot be read (truncated, corrupt, or not a PyTorch or "
        f"safetensors file): {cause}"
    )


class _MappedPages:
    """The pages of a file that ``torch.load(mmap=True)`` mapped, handed back once copied.

    Only ranges inside this process's mappings of the file (``/proc/self/maps``) are released,
    page-aligned inwards. They are clean pages of a private file mapping (never written: the file
    was saved in this machine's byte order), so releasing them loses nothing; a later read
    fetches the same bytes from the file again.
    """

    def __init__(self, ranges: list[tuple[int, int]], madvise: Callable[..., int]) -> None:
        self._ranges = ranges
        self._madvise = madvise

    @classmethod
    def of(cls, path: Path) -> _MappedPages | None:
        advice = getattr(mmap, "MADV_DONTNEED", None)
        if not sys.platform.startswith("linux") or advice is None:
            return None
        target = os.path.realpath(path)
        ranges = []
        try:
            with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    fields = line.rstrip("\n").split(maxsplit=5)
                    if len(fields) == 6 and fields[5] == target:
                        lo, hi = (int(x, 16) for x in fields[0].split("-"))
                        ranges.append((lo, hi))
            libc = ctypes.CDLL(None, use_errno=True)
            madvise = libc.madvise
        except (OSError, AttributeError, ValueError):
            return None
        madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        madvise.restype = ctypes.c_int

        def release(start: int, length: int) -> int:
            return int(madvise(start, length, advice))

        return cls(ranges, release) if ranges else None

    def release(self, tensors: Iterable[Any]) -> None:
        page = mmap.PAGESIZE
        for tensor in tensors:
            storage = tensor.untyped_storage()
            start = storage.data_ptr()
            end = start + storage.nbytes()
            if not any(lo <= start and end <= hi for lo, hi in self._ranges):
                continue
            first, last = -(-start // page) * page, end // page * page
            if last > first:
                self._madvise(first, last - first)  # a failure only costs memory


@dataclass
class _Weights:
    """The tensors of an opened weights file: metadata up front, data on demand."""

    format: WeightsFormat
    container: str | None
    other_keys: tuple[str, ...]
    meta: dict[str, tuple[tuple[int, ...], Any]]  # name -> (shape, torch dtype), file order
    get: Callable[[str], Any]
    pages: _MappedPages | None = None


def _zip_checks(path: Path) -> bool:
    """Refuse TorchScript and broken archives; whether the file is in this machine's byte order."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if any(n.endswith("/constants.pkl") for n in names):
                raise InputError(
                    f"weights file '{path}' is a TorchScript archive (torch.jit.save), which "
                    "holds code as well as weights. If you trust it, load it once with "
                    "torch.jit.load and save its weights: torch.save(scripted.state_dict(), "
                    "'weights.pt')"
                )
            order = [n for n in names if n.endswith("/byteorder")]
            return not order or archive.read(order[0]).decode().strip() == sys.byteorder
    except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError, ValueError) as err:
        raise _unreadable(path, _cause(err)) from None


def _torch_load(torch: Any, path: Path, fmt: WeightsFormat) -> Any:
    mmap_ok = fmt == "torch-zip"
    try:
        with _held_warnings():
            if path.name.endswith(".safetensors"):
                # Recent torch hands a path ending in .safetensors to safetensors: not this file.
                with open(path, "rb") as fh:
                    return torch.load(fh, map_location="cpu", weights_only=True)
            return torch.load(os.fspath(path), map_location="cpu", weights_only=True, mmap=mmap_ok)
    except MemoryError:
        raise
    except Exception as err:
        pickled, detail = _sort_torch_error(err)
        if not pickled:
            raise _unreadable(path, detail) from None
        what = f"a pickled Python object{detail}" if detail else "pickled Python objects"
        raise InputError(
            f"weights file '{path}' holds {what}, not only tensors, and loading it would run "
            "code from the file (torch.load(weights_only=True) refuses it). If you trust its "
            "source, load it once with torch.load(path, weights_only=False) and save only the "
            "weights: torch.save(model.state_dict(), 'weights.pt')"
        ) from None


def _unwrap(torch: Any, obj: Any, path: Path) -> tuple[str | None, dict[str, Any], tuple[str, ...]]:
    def tensors_of(mapping: Mapping[Any, Any]) -> dict[str, Any]:
        return {k: v for k, v in mapping.items() if isinstance(k, str) and torch.is_tensor(v)}

    if not isinstance(obj, Mapping):
        raise InputError(
            f"weights file '{path}' holds a {type(obj).__name__}, not a state dict (a mapping "
            "of names to tensors) or a checkpoint dict holding one"
        )
    for key in CONTAINER_KEYS:
        value = obj.get(key)
        if isinstance(value, Mapping) and (found := tensors_of(value)):
            return key, found, tuple(str(k) for k in obj if k != key)
    found = tensors_of(obj)
    if not found:
        keys = _first([repr(k) for k in obj])
        raise InputError(
            f"weights file '{path}' holds no tensors at its top level nor under any of the "
            f"keys {', '.join(CONTAINER_KEYS)}; its top-level keys are: {keys}"
        )
    return None, found, tuple(str(k) for k in obj if k not in found)


def _safetensors_dtype(torch: Any, name: str) -> Any:
    table = {
        "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
        "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8",
        "U16": "uint16", "U32": "uint32", "U64": "uint64", "BOOL": "bool",
        "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2", "C64": "complex64",
    }  # fmt: skip
    dtype = getattr(torch, table.get(name, ""), None)
    return dtype if isinstance(dtype, torch.dtype) else None


def _open_weights(torch: Any, path: Path, stack: contextlib.ExitStack) -> _Weights:
    fmt = _sniff(path)
    if fmt == "safetensors":
        safetensors = require_extra("safetensors", extra="safetensors", package="sciml-core")
        try:
            try:  # read each tensor with pread(2): nothing of the file stays mapped
                opened = safetensors.safe_open(
                    os.fspath(path), framework="pt", device="cpu", backend="pread"
                )
            except TypeError:  # safetensors < 0.8 has no backend option and maps the file
                opened = safetensors.safe_open(os.fspath(path), framework="pt", device="cpu")
            handle = stack.enter_context(opened)
            meta: dict[str, tuple[tuple[int, ...], Any]] = {}
            for name in handle.keys():  # noqa: SIM118 (a safe_open handle, not a dict)
                piece = handle.get_slice(name)
                dtype = _safetensors_dtype(torch, piece.get_dtype())
                if dtype is None:  # a dtype this table does not name: read the tensor itself
                    dtype = handle.get_tensor(name).dtype
                meta[name] = (tuple(int(s) for s in piece.get_shape()), dtype)
        except MemoryError:
            raise
        except Exception as err:
            raise _unreadable(path, _cause(err)) from None

        def get(name: str) -> Any:
            try:
                return handle.get_tensor(name)
            except MemoryError:
                raise
            except Exception as err:
                raise _unreadable(path, _cause(err)) from None

        return _Weights(fmt, None, (), meta, get)
    native_order = _zip_checks(path) if fmt == "torch-zip" else False
    obj = _torch_load(torch, path, fmt)
    container, tensors, others = _unwrap(torch, obj, path)
    meta = {name: (tuple(t.shape), t.dtype) for name, t in tensors.items()}
    pages = _MappedPages.of(path) if native_order else None
    return _Weights(fmt, container, others, meta, tensors.__getitem__, pages)


# ------------------------------------------------------------------------------ renaming


def _shared_prefixes(names: Sequence[str], strip: Sequence[str]) -> str:
    """The concatenation of ``strip`` prefixes that every name carries, as removed in order."""
    removed = ""
    current = list(names)
    changed = True
    while changed and current:
        changed = False
        for prefix in strip:
            if all(n.startswith(prefix) and len(n) > len(prefix) for n in current):
                current = [n[len(prefix) :] for n in current]
                removed += prefix
                changed = True
    return removed


def _strip(
    names: dict[str, str], strip: Sequence[str], module_keys: Sequence[str]
) -> dict[str, str]:
    removed = _shared_prefixes(list(names), [p for p in strip if not _all_start(module_keys, p)])
    return {k[len(removed) :]: v for k, v in names.items()}


def _all_start(keys: Sequence[str], prefix: str) -> bool:
    return bool(keys) and all(k.startswith(prefix) for k in keys)


def _rename(
    file_names: Sequence[str],
    module_keys: Sequence[str],
    *,
    strip: Sequence[str],
    select: str | None,
    key_map: Sequence[tuple[re.Pattern[str], str]],
    path: Path,
) -> dict[str, str]:
    """Map each renamed file key to its original name (see the module docstring, step 4)."""
    names = _strip({n: n for n in file_names}, strip, module_keys)
    if select is not None:
        kept = {k[len(select) :]: v for k, v in names.items() if k.startswith(select)}
        if not kept:
            tops = _first(sorted({k.split(".")[0] for k in names}))
            raise InputError(
                f"select={select.rstrip('.')!r} matches no key of '{path}' (after removing the "
                f"prefixes of strip); its top-level names are: {tops}"
            )
        names = _strip(kept, strip, module_keys)
    for i, (pattern, replacement) in enumerate(key_map):
        renamed: dict[str, str] = {}
        for key, original in names.items():
            try:
                new = pattern.sub(replacement, key)
            except (re.error, IndexError) as err:
                raise InputError(
                    f"key_map[{i}]: replacement {replacement!r} fails on {key!r}: {err}"
                ) from None
            if new in renamed:
                raise InputError(
                    f"key_map[{i}] ({pattern.pattern!r} -> {replacement!r}) gives two file keys "
                    f"the same name {new!r}: {renamed[new]!r} and {original!r}"
                )
            renamed[new] = original
        names = renamed
    return names


# ------------------------------------------------------------------------------- matching


def _is_float_kind(dtype: Any) -> bool:
    return bool(dtype.is_floating_point) or bool(dtype.is_complex)


def _dtype_name(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


def _match(
    module_state: Mapping[str, Any],
    names: Mapping[str, str],
    meta: Mapping[str, tuple[tuple[int, ...], Any]],
    *,
    sha256: str,
    container: str | None,
) -> LoadReport:
    matched, missing = [], []
    shapes: list[ShapeMismatch] = []
    cast: list[DtypeChange] = []
    kinds: list[DtypeChange] = []
    for key, target in module_state.items():
        if key not in names:
            missing.append(key)
            continue
        shape, dtype = meta[names[key]]
        if shape != tuple(target.shape):
            shapes.append(ShapeMismatch(key, shape, tuple(target.shape)))
        elif dtype == target.dtype:
            matched.append(key)
        else:
            change = DtypeChange(key, _dtype_name(dtype), _dtype_name(target.dtype))
            same_kind = _is_float_kind(dtype) and _is_float_kind(target.dtype)
            same_kind = same_kind and bool(dtype.is_complex) == bool(target.dtype.is_complex)
            if same_kind:
                matched.append(key)
                cast.append(change)
            else:
                kinds.append(change)
    return LoadReport(
        matched=tuple(matched),
        missing=tuple(missing),
        unexpected=tuple(k for k in names if k not in module_state),
        shape_mismatch=tuple(shapes),
        fraction=len(matched) / len(module_state),
        sha256=sha256,
        container=container,
        cast=tuple(cast),
        dtype_mismatch=tuple(kinds),
    )


def _too_few(report: LoadReport, min_matched: float, path: Path, names: Iterable[str]) -> str:
    total = len(report.matched) + len(report.missing)
    total += len(report.shape_mismatch) + len(report.dtype_mismatch)
    module_tops = {k.split(".")[0]: None for k in (*report.matched, *report.missing)}
    file_tops = {k.split(".")[0]: None for k in names}
    shapes = ""
    if report.shape_mismatch:
        shapes = f" First of another shape: {_first([m.key for m in report.shape_mismatch])}."
    return (
        f"weights file '{path}': {len(report.matched)} of the module's {total} state-dict "
        f"entries match ({report.fraction:.1%}, below min_matched={min_matched:g}), so nothing "
        f"was loaded: {len(report.missing)} missing, {len(report.unexpected)} unexpected, "
        f"{len(report.shape_mismatch)} of another shape, {len(report.dtype_mismatch)} of "
        f"another dtype. First missing: {_first(report.missing)}. First unexpected: "
        f"{_first(report.unexpected)}.{shapes} The file's names start with "
        f"{_first(list(file_tops), 5)}; the module's with {_first(list(module_tops), 5)} "
        "(select=, strip= and key_map= rename the file's keys; inspect_weights(path) shows them)"
    )


def _copy(module: Any, weights: _Weights, pairs: Sequence[tuple[str, str]]) -> None:
    """``load_state_dict(strict=False)`` in chunks, releasing each chunk's mapped pages."""
    chunk: dict[str, Any] = {}
    size = 0
    for i, (key, name) in enumerate(pairs):
        tensor = weights.get(name)
        chunk[key] = tensor
        size += tensor.numel() * tensor.element_size()
        if size >= _COPY_CHUNK or i == len(pairs) - 1:
            module.load_state_dict(chunk, strict=False)
            if weights.pages is not None:
                weights.pages.release(chunk.values())
            chunk, size = {}, 0


# ------------------------------------------------------------------------------- the API


def load_pretrained(
    module: torch.nn.Module,
    path: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    select: str | None = None,
    strip: Sequence[str] = DEFAULT_STRIP,
    key_map: Sequence[tuple[str, str]] | Mapping[str, str] = (),
    min_matched: float = 0.9,
) -> LoadReport:
    """Load the weights of a local file into ``module``, matching keys by name and shape.

    See the module docstring of ``sciml_core._pretrained`` for each step: check the digest,
    read without running code (``weights_only=True``, memory-mapped), unwrap a checkpoint, rename
    (``strip``, ``select``, ``key_map``), match by name, shape and dtype kind, load.

    Args:
        module: The module to load into; its tensors keep their device and dtype.
        path: A local ``torch.save`` file or a ``.safetensors`` file (no URL, no hub).
        sha256: Expected SHA-256 of the file (64 hex digits); checked before reading.
        select: Keep only the sub-tree under this prefix (``"image_encoder"``), prefix removed.
        strip: Prefixes removed when every file key carries them (and not every module key).
        key_map: ``(pattern, replacement)`` regex pairs (or a dict) applied to every file key, in
            order, after ``strip`` and ``select``.
        min_matched: Smallest fraction of the module's state-dict entries (parameters and
            buffers) that must match; below it nothing is loaded.

    Returns:
        A :class:`LoadReport` (its ``str`` is a readable summary).

    Raises:
        MissingExtraError: torch (or, for a ``.safetensors`` file, safetensors) is not installed.
        InputError: an argument is invalid (the message names it); the file is missing (the
            message names it and the expected digest), has another SHA-256 (both digests named),
            holds pickled objects such as a whole module (refused, with advice), is truncated or
            corrupt, holds no state dict, ``select`` matches nothing, ``key_map`` makes two keys
            one; or fewer than ``min_matched`` of the module's entries match (the counts and the
            first ten missing and unexpected keys are named, the module is unchanged).
        TypeError: ``module`` is not a ``torch.nn.Module``.
        ValueError: ``module`` has no state-dict entries.

    Examples:
        >>> import tempfile, torch
        >>> from pathlib import Path
        >>> def net():
        ...     return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
        >>> trained = net()
        >>> with tempfile.TemporaryDirectory() as d:  # a DDP checkpoint: keys start with module.
        ...     path = Path(d) / "ddp.pt"
        ...     weights = {f"module.{k}": v for k, v in trained.state_dict().items()}
        ...     torch.save({"epoch": 3, "model_state_dict": weights}, path)
        ...     fresh = net()
        ...     report = load_pretrained(fresh, path)
        >>> report.fraction, report.container, report.missing
        (1.0, 'model_state_dict', ())
        >>> torch.equal(fresh[2].weight, trained[2].weight)
        True
    """  # noqa: E501
    torch_ = _torch()
    if not isinstance(module, torch_.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module; got {type(module).__name__}")
    expected = _check_sha256(sha256)
    prefixes = _check_strip(strip)
    subtree = _check_select(select)
    renames = _check_key_map(key_map)
    threshold = _check_min_matched(min_matched)
    module_state = {k: v for k, v in module.state_dict().items() if torch_.is_tensor(v)}
    if not module_state:
        raise ValueError(f"module {type(module).__name__} has no state-dict entries to load")

    src = _local_file(path, sha256=expected)
    digest = _sha256(src)
    if expected is not None and digest != expected:
        raise InputError(
            f"weights file '{src}' has SHA-256 {digest}, but {expected} was expected "
            "(a different or damaged file); nothing was loaded"
        )
    with contextlib.ExitStack() as stack:
        weights = _open_weights(torch_, src, stack)
        names = _rename(
            list(weights.meta),
            list(module_state),
            strip=prefixes,
            select=subtree,
            key_map=renames,
            path=src,
        )
        report = _match(
            module_state, names, weights.meta, sha256=digest, container=weights.container
        )
        if report.fraction < threshold:
            raise InputError(_too_few(report, threshold, src, names))
        _copy(module, weights, [(key, names[key]) for key in report.matched])
    return report


def inspect_weights(path: str | os.PathLike[str]) -> WeightsInfo:
    """Say what a weights file holds without loading it into anything.

    Reads the file as :func:`load_pretrained` does (``weights_only=True``, memory-mapped, so only
    shapes and dtypes are looked at) and reports its format, container, SHA-256 and tensors.
    ``str(info)`` (or ``info.describe()``) is a readable summary with the top of the key tree,
    for a package's ``inspect-weights`` command or an error message.

    Args:
        path: A local ``torch.save`` file or ``.safetensors`` file.

    Returns:
        A :class:`WeightsInfo`.

    Raises:
        MissingExtraError: torch (or safetensors, for such a file) is not installed.
        InputError: the file is missing, unreadable, holds pickled objects or no state dict.

    Examples:
        >>> import tempfile, torch
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = Path(d) / "ckpt.pt"
        ...     torch.save({"epoch": 7, "state_dict": torch.nn.Linear(3, 2).state_dict()}, path)
        ...     info = inspect_weights(path)
        >>> info.format, info.container, info.other_keys, info.n_keys, info.parameters
        ('torch-zip', 'state_dict', ('epoch',), 2, 8)
        >>> info.tree()
        [('weight', 1, 6), ('bias', 1, 2)]
    """
    torch_ = _torch()
    src = _local_file(path, sha256=None)
    digest = _sha256(src)
    with contextlib.ExitStack() as stack:
        weights = _open_weights(torch_, src, stack)
        entries = tuple(
            WeightEntry(name, shape, _dtype_name(dtype))
            for name, (shape, dtype) in weights.meta.items()
        )
    return WeightsInfo(
        path=src,
        format=weights.format,
        container=weights.container,
        other_keys=weights.other_keys,
        sha256=digest,
        size=src.stat().st_size,
        entries=entries,
    )
