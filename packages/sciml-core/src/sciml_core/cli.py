"""Command-line plumbing shared by every package: one shape for every console script.

A package builds its console script from an :class:`App`::

    app = App("potcontrast", version=__version__, description="...")
    p = app.add_command("npc", run_npc, help="...", common=("seed", "quiet"))
    p.add_argument("image", nargs="+")
    app.add_output_argument(p)          # -o/--output FILE and --overwrite
    app.add_reproduce(run_reproduce, device=False)  # numpy only: no --device
    app.add_bench(run_bench)            # bench --out DIR --quick/--full --seed --device --quiet

    def main(argv=None) -> int:
        return app.run(argv)

Command functions take the parsed ``argparse.Namespace`` and return an exit code (None means 0).
Before a command runs, :meth:`App.run` checks where it will write: ``--out DIR`` is created and
written to (a probe file, removed at once), ``-o FILE`` must have the allowed suffix, not exist
(unless ``--overwrite``) and lie in a writable folder; so a user learns about an unwritable
location before the work, not after it. :meth:`App.run` turns :class:`~sciml_core.InputError`
(and a missing extra) into one line ``<name>: error: ...`` on stderr with exit status 2, keeps the
traceback of any other exception (exit 1: a bug, e.g. a ``ValueError`` from building a
:class:`~sciml_core.Result`), and exits 130 on Ctrl-C. :func:`progress` bars go to stderr and
``--quiet`` silences them; :func:`wrote` prints the one success line ``wrote PATH`` on stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from tqdm import tqdm

from ._errors import InputError, MissingExtraError

__all__ = ["COMMON_FLAGS", "App", "check_output", "is_quiet", "progress", "set_quiet", "wrote"]

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


def wrote(path: str | os.PathLike[str]) -> None:
    """Print the one line a command prints on success, ``wrote PATH``, on stdout.

    Args:
        path: The file or folder written.

    Examples:
        >>> wrote(Path("out") / "result.json")
        wrote out/result.json
    """
    print(f"wrote {os.fspath(path)}", flush=True)


def _check_writable(folder: Path, flag: str, target: Path) -> None:
    """Refuse ``folder`` unless a file can be created in it (``os.access``, then a probe file).

    ``os.access`` gives the clear "permission denied"; the probe catches what it cannot see (a
    read-only mount, a full disk, ACLs). Root passes both where permissions are not enforced.
    """
    where = f"{flag} {str(target)!r}"
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{where}: folder {str(folder)!r} is not writable (permission denied)")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".sciml-write-test-")
    except OSError as err:
        raise InputError(
            f"{where}: cannot write into folder {str(folder)!r} ({err.strerror or err})"
        ) from None
    os.close(fd)
    os.unlink(probe)


def _suffix_list(suffixes: Sequence[str]) -> str:
    return suffixes[0] if len(suffixes) == 1 else ", ".join(suffixes[:-1]) + " or " + suffixes[-1]


def check_output(
    path: str | os.PathLike[str],
    overwrite: bool,
    *,
    suffixes: Sequence[str] | None = None,
    flag: str = "-o/--output",
) -> Path:
    """Check that ``path`` may be written as a command's output file.

    Args:
        path: The ``-o/--output`` file.
        overwrite: The ``--overwrite`` flag.
        suffixes: If given, the file name must end in one of them (case-insensitive), e.g.
            ``(".json",)`` or ``(".nii", ".nii.gz")``.
        flag: How the user named the file, for the messages.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        InputError: ``path`` has another suffix, is a folder, exists and ``overwrite`` is False,
            or its folder does not exist or is not writable.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = (Path(d) / "x.png").write_bytes(b"")
        ...     check_output(Path(d) / "x.png", overwrite=False)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        sciml_core._errors.InputError: -o/--output '...x.png' exists; pass --overwrite to replace it
        >>> check_output("metrics.txt", overwrite=True, suffixes=(".json",))
        Traceback (most recent call last):
        ...
        sciml_core._errors.InputError: -o/--output 'metrics.txt' must end in .json
    """
    p = Path(path)
    if suffixes and not p.name.lower().endswith(tuple(s.lower() for s in suffixes)):
        raise InputError(f"{flag} {str(p)!r} must end in {_suffix_list(list(suffixes))}")
    try:
        _check_output_file(p, overwrite, flag)
    except OSError as err:  # stat() errors other than "no such file": EACCES, ENAMETOOLONG
        raise InputError(f"{flag} {str(p)!r}: {err.strerror or err}") from None
    return p


def _check_output_file(p: Path, overwrite: bool, flag: str) -> None:
    if p.is_dir():
        raise InputError(f"{flag} {str(p)!r} is a folder; {flag} takes a file")
    if p.exists() and not overwrite:
        raise InputError(f"{flag} {str(p)!r} exists; pass --overwrite to replace it")
    folder = p.parent
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "does not exist"
        raise InputError(f"{flag} {str(p)!r}: its folder {str(folder)!r} {problem}")
    _check_writable(folder, flag, p)


def _prepare_out(out: Path) -> list[Path]:
    """Create ``--out`` if needed and check that it is writable; return the folders created.

    The folders created here are listed (top-most first, as absolute paths, so a command that
    changes the working folder cannot redirect them) so that :meth:`App.run` can remove them
    again if the command leaves them empty. Each is made on its own with ``mkdir``, so a folder
    that appears meanwhile (another process) is not counted as made here.
    """
    missing: list[Path] = []
    above = out
    try:  # stat() errors other than "no such file" (EACCES above, ENAMETOOLONG) are raised
        if out.exists() and not out.is_dir():
            raise InputError(f"--out {str(out)!r} is a file; --out takes a folder")
        while not above.exists() and above != above.parent:
            missing.append(above)
            above = above.parent
        if not above.is_dir():
            raise InputError(f"--out {str(out)!r}: {str(above)!r} is a file, not a folder")
    except OSError as err:
        raise InputError(f"--out {str(out)!r}: {err.strerror or err}") from None
    created: list[Path] = []
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            if folder.is_dir():
                continue  # made meanwhile by someone else: never ours to remove
            _remove_empty(created)
            raise InputError(f"--out {str(out)!r}: {str(folder)!r} is not a folder") from None
        except OSError as err:
            _remove_empty(created)
            raise InputError(
                f"--out {str(out)!r}: cannot create the folder ({err.strerror or err})"
            ) from None
        created.append(folder.absolute())
    try:
        _check_writable(out, "--out", out)
    except InputError:
        _remove_empty(created)
        raise
    return created


def _remove_empty(created: list[Path]) -> None:
    """Remove the folders in ``created`` (top-most first) from the deepest up, while empty."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:  # not empty (the command wrote there) or gone: keep the rest
            return


class _OneLineParser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors are one line (like every other refusal) and exit 2."""

    def error(self, message: str) -> NoReturn:
        line = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {line} (see '{self.prog} --help')\n")


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
    ``--device`` (default ``auto``), ``--out DIR`` (a folder, default ``<name>-<command>``,
    created and checked for writing before the command runs), ``--quick``/``--full``
    (``args.quick``, default full), ``--quiet`` (no progress bars). Every option's help says its
    default.

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
        self.parser = _OneLineParser(prog=name, description=description)
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
        quick_help: str | None = None,
    ) -> argparse.ArgumentParser:
        """Register subcommand ``name`` running ``func(args)``; return its parser for more flags.

        Args:
            name: Subcommand name.
            func: Called with the parsed namespace; returns an exit code or None.
            help: One line for ``--help``.
            common: Which of :data:`COMMON_FLAGS` the command takes.
            quick_help: Help of ``--quick`` (with ``"quick"`` in ``common``), when the generic
                "under a minute on two CPU cores" is not what the package measured.

        Returns:
            The subcommand's ``argparse.ArgumentParser``.

        Raises:
            ValueError: ``name`` is already registered or ``common`` names an unknown flag (a
                mistake of the package's own code, so no ``InputError``).
        """
        if name in self._commands:
            raise ValueError(f"command {name!r} is already registered")
        unknown = [c for c in common if c not in COMMON_FLAGS]
        if unknown:
            raise ValueError(f"common must be a subset of {COMMON_FLAGS}; got {unknown}")
        parser = self._subparsers.add_parser(name, help=help, description=help)
        if "seed" in common:
            parser.add_argument(
                "--seed", type=_seed_arg, default=0, metavar="INT", help="random seed (default: 0)"
            )
        if "device" in common:
            parser.add_argument(
                "--device",
                default="auto",
                help="torch device: auto (CUDA if available), cpu, cuda, cuda:N (default: auto)",
            )
        if "out" in common:
            parser.add_argument(
                "--out",
                type=Path,
                default=Path(f"{self.name}-{name}"),
                metavar="DIR",
                help=f"output folder, created if missing (default: ./{self.name}-{name})",
            )
        if "quick" in common:
            group = parser.add_mutually_exclusive_group()
            group.add_argument(
                "--quick",
                dest="quick",
                action="store_true",
                help=quick_help
                or "small, fast run, under a minute on two CPU cores (default: --full)",
            )
            group.add_argument(
                "--full", dest="quick", action="store_false", help="full run (default: this one)"
            )
            parser.set_defaults(quick=False)
        if "quiet" in common:
            parser.add_argument(
                "--quiet", action="store_true", help="no progress bars (default: show them)"
            )
        parser.set_defaults(_sciml_command=name)
        self._commands[name] = func
        return parser

    def add_output_argument(
        self,
        parser: argparse.ArgumentParser,
        *,
        required: bool = True,
        suffixes: Sequence[str] | None = None,
    ) -> None:
        """Give a command ``-o/--output FILE`` and ``--overwrite``.

        :meth:`run` checks the file with :func:`check_output` before the command starts: an
        existing file is refused unless ``--overwrite`` is given, its folder must exist and be
        writable, and with ``suffixes`` the name must end in one of them (so ``-o out.txt`` is
        refused by a command that writes JSON).

        Args:
            parser: The command's parser (from :meth:`add_command`).
            required: Whether ``-o`` must be given.
            suffixes: Allowed endings, e.g. ``(".json",)``; checked case-insensitively.

        Raises:
            ValueError: A suffix does not start with a dot.
        """
        allowed = tuple(suffixes) if suffixes else None
        if allowed is not None and not all(
            isinstance(x, str) and x.startswith(".") for x in allowed
        ):
            raise ValueError(f"suffixes must be strings starting with '.'; got {allowed!r}")
        kinds = f", ending in {_suffix_list(list(allowed))}" if allowed else ""
        parser.add_argument(
            "-o",
            "--output",
            type=Path,
            required=required,
            metavar="FILE",
            help=f"output file{kinds} " + ("(required)" if required else "(default: none)"),
        )
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="replace the output file if it exists (default: refuse)",
        )
        parser.set_defaults(_sciml_output_suffixes=allowed)

    def _add_run_command(
        self, name: str, func: Command, *, help: str, device: bool, quick_help: str | None
    ) -> argparse.ArgumentParser:
        common = COMMON_FLAGS if device else tuple(c for c in COMMON_FLAGS if c != "device")
        parser = self.add_command(name, func, help=help, common=common, quick_help=quick_help)
        if not device:
            parser.set_defaults(device="cpu")  # code reading args.device keeps working
        return parser

    def add_reproduce(
        self,
        func: Command,
        *,
        help: str = "reproduce the paper's headline comparison; writes result.json and figures",
        device: bool = True,
        quick_help: str | None = None,
    ) -> argparse.ArgumentParser:
        """Register ``reproduce`` with ``--out --quick/--full --seed --device --quiet``.

        Args:
            func: The command function.
            help: One line for ``--help``.
            device: Offer ``--device``; a numpy-only package passes False, so its ``--help``
                offers no torch device (``args.device`` is then ``"cpu"``).
            quick_help: Help of ``--quick`` when the package's quick run is not the generic
                "under a minute on two CPU cores" (say what it measured).

        Returns:
            The subcommand's parser.
        """
        return self._add_run_command(
            "reproduce", func, help=help, device=device, quick_help=quick_help
        )

    def add_bench(
        self,
        func: Command,
        *,
        help: str = "time this package against its peer library (speedup = t_peer / t_ours)",
        device: bool = True,
        quick_help: str | None = None,
    ) -> argparse.ArgumentParser:
        """Register ``bench`` with ``--out --quick/--full --seed --device --quiet``.

        Args:
            func: The command function.
            help: One line for ``--help``.
            device: Offer ``--device`` (see :meth:`add_reproduce`).
            quick_help: Help of ``--quick`` (see :meth:`add_reproduce`).

        Returns:
            The subcommand's parser.
        """
        return self._add_run_command("bench", func, help=help, device=device, quick_help=quick_help)

    def _check_destinations(self, args: argparse.Namespace, created: list[Path]) -> None:
        """Refuse an unwritable ``-o``/``--out`` before the command runs (see :meth:`run`)."""
        output = getattr(args, "output", None)
        if output is not None:
            check_output(
                output,
                getattr(args, "overwrite", False),
                suffixes=getattr(args, "_sciml_output_suffixes", None),
            )
        out = getattr(args, "out", None)
        if out is not None:
            created.extend(_prepare_out(Path(out)))

    def run(self, argv: Sequence[str] | None = None) -> int:
        """Parse ``argv`` (default ``sys.argv[1:]``), run the command, return the exit status.

        Before the command runs, where it writes is checked, so no work is done for nothing:
        ``-o/--output FILE`` with :func:`check_output` (suffix, existing file, folder exists and
        is writable), and ``--out DIR``: it must not be a file; it is created if missing and a
        probe file is written and removed in it. Folders created for ``--out`` that the command
        leaves empty (it failed, or wrote nothing) are removed again afterwards; a folder that
        existed before is never removed.

        Returns:
            0 on success (or the command's own code); 2 for bad input, printed as one line
            ``<name>: error: <message>`` on stderr (``InputError``, ``MissingExtraError``;
            argparse usage errors also exit 2); 1 with the traceback for any other exception
            (a bug); 130 on Ctrl-C.
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
        created: list[Path] = []
        try:
            self._check_destinations(args, created)
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
            _remove_empty(created)
        return 0 if code is None else int(code)
