"""Atomic file writes and headless figure saving."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from ._errors import InputError, require_extra

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "get_pyplot", "save_figure"]


def _current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux ``/proc``).

    Setting and restoring it (the portable way) briefly leaves the umask at 0 for every thread of
    the process, so a file another thread creates meanwhile would be world-writable.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _default_mode() -> int:
    return 0o666 & ~_current_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Context manager giving a temporary path beside ``path``, renamed over it on success.

    Readers see either the old file or the complete new one, never a partial write: the temporary
    file lives in the same folder (same file system), and ``os.replace`` is atomic. On an
    exception the temporary file is removed and ``path`` is left untouched. The new file gets the
    usual permissions (``0o666`` minus the umask).

    Args:
        path: Final destination; its folder must exist.

    Yields:
        The temporary path to write to.

    Raises:
        InputError: the destination folder does not exist.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     with atomic_path(Path(d) / "out.txt") as tmp:
        ...         _ = tmp.write_text("done")
        ...     print((Path(d) / "out.txt").read_text(), len(os.listdir(d)))
        done 1
    """
    with _atomic_path(path, overwrite=True) as tmp:
        yield tmp


@contextlib.contextmanager
def _atomic_path(path: str | os.PathLike[str], *, overwrite: bool) -> Iterator[Path]:
    """:func:`atomic_path`; with ``overwrite=False`` the file is published only if ``path`` is
    still free at that moment (a hard link, which fails on an existing name), never over a file
    that appeared while it was being written."""
    dest = Path(path)
    folder = dest.parent
    if not folder.is_dir():
        raise InputError(f"cannot write {str(dest)!r}: folder {str(folder)!r} does not exist")
    fd, name = tempfile.mkstemp(dir=folder, prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, _default_mode())
        if overwrite:
            os.replace(tmp, dest)
        else:
            _publish_new(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _publish_new(tmp: Path, dest: Path) -> None:
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise InputError(f"{str(dest)!r} exists; it was not replaced") from None
    except OSError:  # a file system without hard links: check, then rename
        if os.path.lexists(dest):
            raise InputError(f"{str(dest)!r} exists; it was not replaced") from None
        os.replace(tmp, dest)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename).

    Args:
        path: Destination; its folder must exist.
        data: The bytes.

    Returns:
        ``path`` as a ``Path``.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     atomic_write_bytes(Path(d) / "a.bin", b"xyz").read_bytes()
        b'xyz'
    """
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`).

    Args:
        path: Destination; its folder must exist.
        text: The text.
        encoding: Text encoding.

    Returns:
        ``path`` as a ``Path``.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     atomic_write_text(Path(d) / "a.txt", "hello").read_text()
        'hello'
    """
    return atomic_write_bytes(path, text.encode(encoding))


def get_pyplot(package: str) -> ModuleType:
    """Return ``matplotlib.pyplot`` with the non-interactive Agg backend selected.

    Call it inside plotting functions (never at import time), so that matplotlib stays an optional
    ``[plot]`` extra of ``package``. Selecting Agg makes figures work on headless machines.

    Args:
        package: Distribution name to name in the error, e.g. ``"potcontrast"``.

    Returns:
        The ``matplotlib.pyplot`` module.

    Raises:
        MissingExtraError: matplotlib is not installed; names ``pip install '<package>[plot]'``.

    Examples:
        >>> plt = get_pyplot("sciml-core")
        >>> plt.get_backend().lower()
        'agg'
    """
    matplotlib = require_extra("matplotlib", extra="plot", package=package)
    matplotlib.use("Agg")
    return require_extra("matplotlib.pyplot", extra="plot", package=package)


def save_figure(fig: Any, path: str | os.PathLike[str], *, dpi: int = 120) -> Path:
    """Save a matplotlib figure atomically; the format follows the suffix (PNG by default).

    Args:
        fig: A ``matplotlib.figure.Figure``.
        path: Destination, e.g. ``out / "convergence.png"``; its folder must exist.
        dpi: Resolution.

    Returns:
        ``path`` as a ``Path``.

    Examples:
        >>> import tempfile
        >>> plt = get_pyplot("sciml-core")
        >>> fig, ax = plt.subplots()
        >>> _ = ax.plot([0, 1], [1, 0])
        >>> with tempfile.TemporaryDirectory() as d:
        ...     save_figure(fig, Path(d) / "line.png").read_bytes()[:4]
        b'\\x89PNG'
        >>> plt.close(fig)
    """
    dest = Path(path)
    fmt = dest.suffix.lstrip(".").lower() or "png"
    with atomic_path(dest) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi)
    return dest
