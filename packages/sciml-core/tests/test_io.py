from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from sciml_core import (
    InputError,
    MissingExtraError,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    get_pyplot,
    save_figure,
)


def test_atomic_write_replaces_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old content that is longer")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(target) as tmp:
        tmp.write_text("half written")
        assert tmp.parent == target.parent and tmp != target
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["keep.txt"]


def test_new_files_get_ordinary_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "p.txt", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not mkstemp's private 0o600


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_permissions_follow_the_umask_without_touching_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: int
) -> None:
    old = os.umask(umask)
    try:
        calls: list[int] = []
        real_umask = os.umask
        monkeypatch.setattr(os, "umask", lambda m: calls.append(m) or real_umask(m))
        path = atomic_write_text(tmp_path / f"u{umask:o}.txt", "x")
        monkeypatch.undo()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    if Path("/proc/self/status").is_file():
        assert calls == []  # read from /proc: the process umask never dropped to 0


def test_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        atomic_write_text(tmp_path / "nope" / "a.txt", "x")


def test_save_figure_writes_png_and_pdf(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    plt = get_pyplot("sciml-core")
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [2, 0, 1])
    try:
        png = save_figure(fig, tmp_path / "f.png")
        pdf = save_figure(fig, tmp_path / "f.pdf")
    finally:
        plt.close(fig)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert sorted(os.listdir(tmp_path)) == ["f.pdf", "f.png"]


def test_get_pyplot_selects_agg() -> None:
    pytest.importorskip("matplotlib")
    assert get_pyplot("demo").get_backend().lower() == "agg"


def test_get_pyplot_without_matplotlib_names_the_plot_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'potcontrast\[plot\]'"):
        get_pyplot("potcontrast")
