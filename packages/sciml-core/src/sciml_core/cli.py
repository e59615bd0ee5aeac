"""Command-line plumbing shared by every package: one shape for every console script.

A package builds its console script from an :class:`App`::

    app = App("potcontrast", version=__version__, description="...")
    p = app.add_command("npc", run_npc, help="...", common=("seed", "quiet"))
    p.add_argument("image", nargs="+")
    app.add_output_argument(p)          # -o/--output FILE and --overwrite
    app.add_reproduce(run_reproduce)    # reproduce --out DIR --quick/--full --seed --device --quiet
    app.add_bench(run_bench)            # bench --out DIR --quick/--full --seed --device --quiet

    def main(argv=None) -> int:
        return app.run(argv)

Command functions take the parsed ``argparse.Namespace`` and return an exit code (None means 0).
:meth:`App.run` turns :class:`~sciml_core.InputError` (and a missing extra) into one line
``<name>: error: ...`` on stderr with exit status 2, keeps the traceback of any other exception
(exit 1), and exits 130 on Ctrl-C. :func:`progress` bars go to stderr and ``--quiet`` silences them.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ._errors import InputError, MissingExtraError

__all__ = ["COMMON_FLAGS", "App", "check_output", "is_quiet", "progress", "set_quiet"]

COMMON_FLAGS = ("seed", "device", "out", "quick", "quiet")
"""Names accepted by ``App.add_command(..., common=...)``."""

_quiet = False

Command = Callable[[argparse.Namespace], "int | None"]


def set_quiet(flag: bool) -> None:
    """Silence (True) or enable (False) every :func:`progress` bar created afterwards."""
    global _quiet
    _quiet = bool(flag)


def is_quiet() -> bool:
    """Whether :func:`progress` bars are silenced (``--quiet``)."""
    return _quiet


def progress(
    iterable: Iterable[Any] | None = None,
    desc: str | None = None,
    total: int | None = None,
    **kwargs: Any,
) -> tqdm:
    """A tqdm progress bar on stderr, disabled under ``--quiet`` (see :func:`set_quiet`).

    Args:
        iterable: What to iterate over (None for a manually updated bar).
        desc: Label shown before the bar.
        total: Number of steps, if ``iterable`` has no length.
        **kwargs: Passed on to ``tqdm`` (e.g. ``unit``, ``leave``).

    Returns:
        The ``tqdm`` bar (iterable, or usable as a context manager with ``update``).

    Examples:
        >>> set_quiet(True)
        >>> sum(progress(range(4), desc="demo"))
        6
        >>> set_quiet(False)
    """
    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("dynamic_ncols", True)
    disable = bool(kwargs.pop("disable", False)) or _quiet
    return tqdm(iterable, desc=desc, total=total, disable=disable, **kwargs)


def check_output(path: str | os.PathLike[str], overwrite: bool) -> Path:
    """Check that ``path`` may be written as a command's output file.

    Args:
        path: The ``-o/--output`` file.
        overwrite: The ``--overwrite`` flag.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        InputError: ``path`` exists and ``overwrite`` is False, ``path`` is a folder, or its
            folder does not exist.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = (Path(d) / "x.png").write_bytes(b"")
        ...     check_output(Path(d) / "x.png", overwrite=False)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        sciml_core._errors.InputError: output file ... exists; pass --overwrite to replace it
    """
    p = Path(path)
    if p.is_dir():
        raise InputError(f"output {str(p)!r} is a folder; -o/--output takes a file")
    if p.exists() and not overwrite:
        raise InputError(f"output file {str(p)!r} exists; pass --overwrite to replace it")
    folder = p.parent
    if not folder.is_dir():
        raise InputError(f"folder {str(folder)!r} of output file {str(p)!r} does not exist")
    return p


def _seed_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer; got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer; got {text!r}")
    return value


class App:
    """A console script with subcommands and the common flags of the sciml packages.

    Common flags (chosen per command with ``common=``): ``--seed INT`` (default 0),
    ``--device`` (default ``auto``), ``--out DIR`` (a folder, default ``<name>-<command>``),
    ``--quick``/``--full`` (``args.quick``, default full), ``--quiet`` (no progress bars).

    Args:
        name: The console script's name (the distribution name).
        version: Shown by ``--version``.
        description: One paragraph for ``--help``.

    Examples:
        >>> def hello(args):
        ...     print(f"hello, seed {args.seed}")
        >>> app = App("demo", version="0.1.0", description="A demo.")
        >>> _ = app.add_command("hello", hello, help="say hello", common=("seed",))
        >>> app.run(["hello", "--seed", "3"])
        hello, seed 3
        0
        >>> app.run(["--version"])
        demo 0.1.0
        0
    """

    def __init__(self, name: str, *, version: str, description: str = "") -> None:
        self.name = name
        self.version = version
        self.parser = argparse.ArgumentParser(prog=name, description=description)
        self.parser.add_argument("--version", action="version", version=f"%(prog)s {version}")
        self._subparsers = self.parser.add_subparsers(
            dest="command", metavar="COMMAND", title="commands"
        )
        self._commands: dict[str, Command] = {}

    def add_command(
        self,
        name: str,
        func: Command,
        *,
        help: str,
        common: Sequence[str] = ("quiet",),
    ) -> argparse.ArgumentParser:
        """Register subcommand ``name`` running ``func(args)``; return its parser for more flags.

        Args:
            name: Subcommand name.
            func: Called with the parsed namespace; returns an exit code or None.
            help: One line for ``--help``.
            common: Which of :data:`COMMON_FLAGS` the command takes.

        Returns:
            The subcommand's ``argparse.ArgumentParser``.

        Raises:
            InputError: ``name`` is already registered or ``common`` names an unknown flag.
        """
        if name in self._commands:
            raise InputError(f"command {name!r} is already registered")
        unknown = [c for c in common if c not in COMMON_FLAGS]
        if unknown:
            raise InputError(f"common must be a subset of {COMMON_FLAGS}; got {unknown}")
        parser = self._subparsers.add_parser(name, help=help, description=help)
        if "seed" in common:
            parser.add_argument(
                "--seed", type=_seed_arg, default=0, metavar="INT", help="random seed (default 0)"
            )
        if "device" in common:
            parser.add_argument(
                "--device",
                default="auto",
                help="torch device: auto (CUDA if available), cpu, cuda, cuda:N (default auto)",
            )
        if "out" in common:
            parser.add_argument(
                "--out",
                type=Path,
                default=Path(f"{self.name}-{name}"),
                metavar="DIR",
                help=f"output folder (default ./{self.name}-{name})",
            )
        if "quick" in common:
            group = parser.add_mutually_exclusive_group()
            group.add_argument(
                "--quick", dest="quick", action="store_true", help="small, fast run (< 1 minute)"
            )
            group.add_argument(
                "--full", dest="quick", action="store_false", help="full run (the default)"
            )
            parser.set_defaults(quick=False)
        if "quiet" in common:
            parser.add_argument("--quiet", action="store_true", help="no progress bars")
        parser.set_defaults(_sciml_command=name)
        self._commands[name] = func
        return parser

    def add_output_argument(
        self, parser: argparse.ArgumentParser, *, required: bool = True
    ) -> None:
        """Give a command ``-o/--output FILE`` and ``--overwrite``.

        :meth:`run` checks the file with :func:`check_output` before the command starts, so an
        existing file is refused unless ``--overwrite`` is given.
        """
        parser.add_argument(
            "-o", "--output", type=Path, required=required, metavar="FILE", help="output file"
        )
        parser.add_argument(
            "--overwrite", action="store_true", help="replace the output file if it exists"
        )

    def add_reproduce(
        self,
        func: Command,
        *,
        help: str = "reproduce the paper's headline comparison; writes result.json and figures",
    ) -> argparse.ArgumentParser:
        """Register ``reproduce`` with ``--out --quick/--full --seed --device --quiet``."""
        return self.add_command("reproduce", func, help=help, common=COMMON_FLAGS)

    def add_bench(
        self,
        func: Command,
        *,
        help: str = "time this package against its peer library (speedup = t_peer / t_ours)",
    ) -> argparse.ArgumentParser:
        """Register ``bench`` with ``--out --quick/--full --seed --device --quiet``."""
        return self.add_command("bench", func, help=help, common=COMMON_FLAGS)

    def run(self, argv: Sequence[str] | None = None) -> int:
        """Parse ``argv`` (default ``sys.argv[1:]``), run the command, return the exit status.

        Returns:
            0 on success (or the command's own code); 2 for bad input, printed as one line
            ``<name>: error: <message>`` on stderr (``InputError``, ``MissingExtraError``;
            argparse usage errors also exit 2); 1 with the traceback for any other exception;
            130 on Ctrl-C.
        """
        try:
            args = self.parser.parse_args(argv)
        except SystemExit as stop:  # --help, --version, or a usage error already printed
            code = stop.code
            return code if isinstance(code, int) else (0 if code is None else 2)
        name = getattr(args, "_sciml_command", None)
        if name is None:
            self.parser.print_help(sys.stderr)
            return 2
        previous = is_quiet()
        set_quiet(getattr(args, "quiet", False))
        try:
            if getattr(args, "output", None) is not None:
                check_output(args.output, getattr(args, "overwrite", False))
            out = getattr(args, "out", None)
            if out is not None and Path(out).exists() and not Path(out).is_dir():
                raise InputError(f"--out {str(out)!r} is a file; --out takes a folder")
            code = self._commands[name](args)
        except (InputError, MissingExtraError) as err:
            message = " ".join(str(err).split())
            print(f"{self.name}: error: {message}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"\n{self.name}: interrupted", file=sys.stderr)
            return 130
        except Exception:
            traceback.print_exc()
            return 1
        finally:
            set_quiet(previous)
        return 0 if code is None else int(code)
