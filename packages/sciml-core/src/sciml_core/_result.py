"""``result.json``: what ``reproduce`` writes, schema 1, and its validator."""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import os
import platform
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from ._backend import is_tensor, thread_count, torch_version
from ._errors import InputError
from ._io import atomic_write_text
from ._readers import read_user_file

__all__ = ["RESULT_SCHEMA_VERSION", "Result", "load_result", "validate_result"]

RESULT_SCHEMA_VERSION = 1
"""Version of the ``result.json`` layout written by :class:`Result`."""

RESULT_FILE = "result.json"

_TOP_KEYS = ("schema", "package", "version", "meta", "tables", "figures", "claims")
_META_KEYS = ("seed", "device", "threads", "torch", "python", "command", "wall_s", "quick")
#: Optional ``meta`` keys of a committed full run (ARCHITECTURE.md: the commit it was made at and
#: the machine), strings when present.
_META_OPTIONAL = ("commit", "machine", "note")
_TABLE_KEYS = ("id", "title", "columns", "rows")
_FIGURE_KEYS = ("file", "caption")
_CLAIM_KEYS = ("name", "expected", "observed", "holds")


def _jsonable(value: Any, where: str) -> Any:
    """JSON-safe copy: numpy/torch scalars to Python, arrays to lists, non-finite floats to None."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        f = float(value)
        return f if math.isfinite(f) else None
    if is_tensor(value):
        return _jsonable(value.detach().cpu().tolist(), where)
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist(), where)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: keys must be strings; got {k!r}")
            out[k] = _jsonable(v, f"{where}.{k}")
        return out
    if isinstance(value, Sequence):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(
        f"{where} must be a number, string, bool, None or a list/dict of them; "
        f"got {type(value).__name__}"
    )


def _non_empty_string(value: Any, what: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a non-empty string; got {type(value).__name__} {value!r}")
    if not value:
        raise ValueError(f"{what} must be a non-empty string; got ''")


def _default_command() -> str:
    argv = list(sys.argv) or ["python"]
    return shlex.join([Path(argv[0]).name, *argv[1:]])


class Result:
    """Builder of a schema-1 ``result.json``: tables, figures and claims, plus run metadata.

    The layout (ARCHITECTURE.md)::

        {"schema": 1, "package", "version",
         "meta": {"seed", "device", "threads", "torch", "python", "command", "wall_s", "quick"},
         "tables": [{"id", "title", "columns", "rows"}],
         "figures": [{"file", "caption"}],
         "claims": [{"name", "expected", "observed", "holds"}]}

    Values are converted to JSON: numpy and torch scalars become Python numbers, arrays become
    lists, and non-finite floats (NaN, inf) are written as ``null``, since JSON has no such
    numbers. ``wall_s`` is the time from construction to :meth:`save`; ``torch`` is torch's
    version if installed (torch is not imported for it), else ``null``; ``command`` defaults to
    this process's command line.

    Args:
        package: Distribution name, e.g. ``"potcontrast"``.
        version: Its version, e.g. ``potcontrast.__version__``.
        seed: The run's seed.
        device: The device the run used, e.g. ``"cpu"``.
        quick: Whether this was the ``--quick`` run.
        command: Command line to record; default ``sys.argv``.

    Examples:
        >>> import tempfile
        >>> res = Result("demo", "0.1.0", seed=0, device="cpu", quick=True)
        >>> res.add_table("err", "Error", ["method", "error"], [["ours", np.float64(0.01)]])
        >>> res.add_claim("ours beats baseline", "error < 0.05", 0.01, True)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = res.save(d)
        ...     print(path.name, load_result(path)["tables"][0]["rows"])
        result.json [['ours', 0.01]]

    Errors: a mistake in building the result (a row of the wrong length, a duplicate table id, a
    claim whose ``holds`` is not a bool, a value that is not JSON, a result that fails
    :func:`validate_result` at :meth:`save`) raises ``ValueError`` or ``TypeError``, never
    :class:`~sciml_core.InputError`: it is a bug of the package that builds the result, and the
    command line shows its traceback (exit 1) instead of one line of "bad input" (exit 2).
    """

    def __init__(
        self,
        package: str,
        version: str,
        *,
        seed: int | None,
        device: str,
        quick: bool,
        command: str | None = None,
    ) -> None:
        _non_empty_string(package, "package")
        _non_empty_string(version, "version")
        self.package = package
        self.version = version
        self.seed = _jsonable(seed, "seed")
        self.device = str(device)
        self.quick = bool(quick)
        self.command = _default_command() if command is None else str(command)
        self.tables: list[dict[str, Any]] = []
        self.figures: list[dict[str, Any]] = []
        self.claims: list[dict[str, Any]] = []
        self._start = time.perf_counter()

    def __repr__(self) -> str:
        return (
            f"Result({self.package!r}, {self.version!r}, tables={len(self.tables)}, "
            f"figures={len(self.figures)}, claims={len(self.claims)})"
        )

    def add_table(
        self, id: str, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Add a table; every row must have one value per column.

        Args:
            id: Identifier, unique within the result (e.g. ``"psnr_table"``).
            title: Human-readable title.
            columns: Column names.
            rows: Rows of numbers, strings, bools or None.

        Raises:
            ValueError: empty or duplicate ``id``, no columns, or a row of the wrong length.
            TypeError: ``id`` or a column is not a string, or a value is not JSON-like.
        """
        _non_empty_string(id, "table id")
        if any(t["id"] == id for t in self.tables):
            raise ValueError(f"table id must be unique; {id!r} is already used")
        cols = list(columns)
        if not cols:
            raise ValueError(f"table {id!r} needs at least one column")
        if not all(isinstance(c, str) for c in cols):
            raise TypeError(f"columns of table {id!r} must be strings; got {cols!r}")
        out_rows = []
        for i, row in enumerate(rows):
            cells = _jsonable(list(row), f"table {id!r} row {i}")
            if len(cells) != len(cols):
                raise ValueError(
                    f"row {i} of table {id!r} must have {len(cols)} values (one per column); "
                    f"got {len(cells)}"
                )
            out_rows.append(cells)
        self.tables.append({"id": id, "title": str(title), "columns": cols, "rows": out_rows})

    def add_figure(self, file: str | os.PathLike[str], caption: str) -> None:
        """Add a figure, ``file`` relative to the output folder (save it there before :meth:`save`).

        Args:
            file: Relative path such as ``"convergence.png"``.
            caption: Caption shown in the report.

        Raises:
            ValueError: ``file`` is absolute or leaves the output folder.
        """
        rel = PurePosixPath(Path(file).as_posix())
        if rel.is_absolute() or ".." in rel.parts or str(rel) in ("", "."):
            raise ValueError(
                f"figure file must be a path relative to the output folder; got {str(file)!r}"
            )
        self.figures.append({"file": str(rel), "caption": str(caption)})

    def add_claim(self, name: str, expected: Any, observed: Any, holds: bool) -> None:
        """Add a claim of the paper and whether it held in this run, honestly.

        Args:
            name: Short statement, e.g. ``"NPC beats Otsu on Dice"``.
            expected: What the paper states (text or number).
            observed: What was measured (text or number).
            holds: Whether the measurement supports the claim (a bool, numpy bools accepted).

        Raises:
            ValueError: ``name`` is empty.
            TypeError: ``name`` is not a string, ``holds`` not a bool, or a value not JSON-like.
        """
        _non_empty_string(name, "claim name")
        if not isinstance(holds, bool | np.bool_):
            raise TypeError(f"holds of claim {name!r} must be a bool; got {holds!r}")
        self.claims.append(
            {
                "name": str(name),
                "expected": _jsonable(expected, f"claim {name!r} expected"),
                "observed": _jsonable(observed, f"claim {name!r} observed"),
                "holds": bool(holds),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """The schema-1 dict, with ``wall_s`` measured now."""
        return {
            "schema": RESULT_SCHEMA_VERSION,
            "package": self.package,
            "version": self.version,
            "meta": {
                "seed": self.seed,
                "device": self.device,
                "threads": thread_count(),
                "torch": torch_version(),
                "python": platform.python_version(),
                "command": self.command,
                "wall_s": round(time.perf_counter() - self._start, 6),
                "quick": self.quick,
            },
            "tables": [dict(t) for t in self.tables],
            "figures": [dict(f) for f in self.figures],
            "claims": [dict(c) for c in self.claims],
        }

    def save(self, out_dir: str | os.PathLike[str]) -> Path:
        """Write ``out_dir/result.json`` atomically (creating ``out_dir``) and return its path.

        Nothing is written when the result is invalid: an earlier ``result.json`` stays as it was.

        Raises:
            InputError: ``out_dir`` (the user's ``--out``) is an existing file.
            ValueError: the result is invalid or a figure file is missing from ``out_dir``: a
                mistake of the package that built it, so it keeps its traceback.
        """
        out = Path(out_dir)
        if out.exists() and not out.is_dir():
            raise InputError(f"out_dir {str(out)!r} is a file; the result goes into a folder")
        out.mkdir(parents=True, exist_ok=True)
        data = self.to_dict()
        problems = validate_result(data)
        missing = [f["file"] for f in self.figures if not (out / f["file"]).is_file()]
        if missing:
            problems.append(f"figure file(s) missing from {str(out)!r}: {missing}")
        if problems:
            raise ValueError("result is invalid: " + "; ".join(problems))
        text = json.dumps(data, indent=2, allow_nan=False) + "\n"
        return atomic_write_text(out / RESULT_FILE, text)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _check_value(x: Any, where: str, problems: list[str]) -> None:
    if x is None or isinstance(x, bool | str | int):
        return
    if isinstance(x, float):
        if not math.isfinite(x):
            problems.append(f"{where} is a non-finite float ({x}); write null instead")
        return
    if isinstance(x, list):
        for i, v in enumerate(x):
            _check_value(v, f"{where}[{i}]", problems)
        return
    if isinstance(x, dict):
        for k, v in x.items():
            if not isinstance(k, str):
                problems.append(f"{where} has a non-string key {k!r}")
            _check_value(v, f"{where}.{k}", problems)
        return
    problems.append(f"{where} is not a JSON value (got {type(x).__name__})")


def _check_keys(
    obj: Any, keys: Sequence[str], where: str, problems: list[str], optional: Sequence[str] = ()
) -> bool:
    if not isinstance(obj, dict):
        problems.append(f"{where} must be an object; got {type(obj).__name__}")
        return False
    missing = [k for k in keys if k not in obj]
    extra = [k for k in obj if k not in keys and k not in optional]
    if missing:
        problems.append(f"{where} is missing key(s) {missing}")
    if extra:
        problems.append(f"{where} has unknown key(s) {extra}")
    return not missing


def validate_result(data: Any) -> list[str]:
    """Check a loaded ``result.json`` against schema 1; return the problems found.

    Checks the schema number, the exact key sets, types (strings, bools, numbers, lists), one
    value per column in every table row, unique table ids, relative figure paths, bool ``holds``,
    and that every value is JSON (no NaN or inf).

    Args:
        data: The decoded JSON object.

    Returns:
        Human-readable problems, each naming where it is; empty when the result is valid.

    Examples:
        >>> validate_result({"schema": 2})[0]
        'schema must be 1; got 2'
    """
    problems: list[str] = []
    if not isinstance(data, dict):
        return [f"result must be a JSON object; got {type(data).__name__}"]
    if "schema" in data and not (
        type(data["schema"]) is int and data["schema"] == RESULT_SCHEMA_VERSION
    ):  # true == 1 and 1.0 == 1 in Python, but neither is the schema number 1 in the JSON
        return [f"schema must be {RESULT_SCHEMA_VERSION}; got {data['schema']!r}"]
    _check_keys(data, _TOP_KEYS, "result", problems)
    for key in ("package", "version"):
        if key in data and not (isinstance(data[key], str) and data[key]):
            problems.append(f"{key} must be a non-empty string; got {data[key]!r}")

    meta = data.get("meta", {})  # a missing "meta" is reported with the top-level keys
    if "meta" in data and _check_keys(meta, _META_KEYS, "meta", problems, _META_OPTIONAL):
        for key in _META_OPTIONAL:
            if key in meta and not (isinstance(meta[key], str) and meta[key]):
                problems.append(f"meta.{key} must be a non-empty string; got {meta[key]!r}")
        seed = meta["seed"]
        if not (seed is None or (_is_number(seed) and isinstance(seed, int) and seed >= 0)):
            problems.append(f"meta.seed must be a non-negative int or null; got {meta['seed']!r}")
        for key in ("device", "python", "command"):
            if not isinstance(meta[key], str):
                problems.append(f"meta.{key} must be a string; got {meta[key]!r}")
        if not (meta["torch"] is None or isinstance(meta["torch"], str)):
            problems.append(f"meta.torch must be a string or null; got {meta['torch']!r}")
        if not (isinstance(meta["threads"], int) and not isinstance(meta["threads"], bool)):
            problems.append(f"meta.threads must be an int; got {meta['threads']!r}")
        if not (_is_number(meta["wall_s"]) and meta["wall_s"] >= 0):
            problems.append(f"meta.wall_s must be a number >= 0; got {meta['wall_s']!r}")
        if not isinstance(meta["quick"], bool):
            problems.append(f"meta.quick must be a bool; got {meta['quick']!r}")

    ids: set[str] = set()
    for i, table in enumerate(_list(data, "tables", problems)):
        where = f"tables[{i}]"
        if not _check_keys(table, _TABLE_KEYS, where, problems):
            continue
        if not (isinstance(table["id"], str) and table["id"]):
            problems.append(f"{where}.id must be a non-empty string; got {table['id']!r}")
        elif table["id"] in ids:
            problems.append(f"{where}.id {table['id']!r} is used twice")
        else:
            ids.add(table["id"])
        if not isinstance(table["title"], str):
            problems.append(f"{where}.title must be a string; got {table['title']!r}")
        cols = table["columns"]
        if not (isinstance(cols, list) and cols and all(isinstance(c, str) for c in cols)):
            problems.append(f"{where}.columns must be a non-empty list of strings; got {cols!r}")
            continue
        if not isinstance(table["rows"], list):
            problems.append(f"{where}.rows must be a list; got {type(table['rows']).__name__}")
            continue
        for j, row in enumerate(table["rows"]):
            if not isinstance(row, list):
                problems.append(f"{where}.rows[{j}] must be a list; got {type(row).__name__}")
            elif len(row) != len(cols):
                problems.append(f"{where}.rows[{j}] has {len(row)} values for {len(cols)} columns")
            else:
                _check_value(row, f"{where}.rows[{j}]", problems)

    for i, fig in enumerate(_list(data, "figures", problems)):
        where = f"figures[{i}]"
        if not _check_keys(fig, _FIGURE_KEYS, where, problems):
            continue
        file = fig["file"]
        if not isinstance(file, str) or not file:
            problems.append(f"{where}.file must be a non-empty string; got {file!r}")
        elif (
            PurePosixPath(file).is_absolute()
            or ".." in PurePosixPath(file).parts
            or str(PurePosixPath(file)) == "."
        ):
            problems.append(f"{where}.file must be relative to the output folder; got {file!r}")
        if not isinstance(fig["caption"], str):
            problems.append(f"{where}.caption must be a string; got {fig['caption']!r}")

    for i, claim in enumerate(_list(data, "claims", problems)):
        where = f"claims[{i}]"
        if not _check_keys(claim, _CLAIM_KEYS, where, problems):
            continue
        if not isinstance(claim["name"], str) or not claim["name"]:
            problems.append(f"{where}.name must be a non-empty string; got {claim['name']!r}")
        if not isinstance(claim["holds"], bool):
            problems.append(f"{where}.holds must be true or false; got {claim['holds']!r}")
        _check_value(claim["expected"], f"{where}.expected", problems)
        _check_value(claim["observed"], f"{where}.observed", problems)
    return problems


def _list(data: dict[str, Any], key: str, problems: list[str]) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        problems.append(f"{key} must be a list; got {type(value).__name__}")
        return []
    return value


def _decode_result(p: Path) -> Any:
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"not valid JSON: {err}") from err


def load_result(path: str | os.PathLike[str], *, argument: str = "path") -> dict[str, Any]:
    """Read and validate a ``result.json`` (or the one inside a folder).

    The file is read with :func:`~sciml_core.read_user_file`: a missing, unreadable, empty or
    undecodable file is one :class:`InputError` naming ``argument``, the file and the cause.

    Args:
        path: The file, or the output folder holding ``result.json``.
        argument: How the user named it, for the messages (e.g. ``"--result"``).

    Returns:
        The decoded result.

    Raises:
        InputError: the file is missing, not JSON, or fails :func:`validate_result` (every
            problem is listed).

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = (Path(d) / "result.json").write_text('{"schema": 2}')
        ...     load_result(d, argument="--result")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        sciml_core._errors.InputError: --result: result file '...result.json' is invalid: schema must be 1; got 2
    """  # noqa: E501
    p = Path(path)
    with contextlib.suppress(OSError):  # a path stat() fails on: read_user_file names the cause
        if p.is_dir():
            p = p / RESULT_FILE
    data = read_user_file(p, argument=argument, decode=_decode_result, what="a result")
    problems = validate_result(data)
    if problems:
        raise InputError(f"{argument}: result file {str(p)!r} is invalid: " + "; ".join(problems))
    return data
