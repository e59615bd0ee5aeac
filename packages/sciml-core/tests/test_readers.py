"""Readers of users' files: every failure is one InputError naming argument, file and cause."""

from __future__ import annotations

import fractions
import importlib.util
import io
import json
import os
import pathlib
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sciml_core import (
    InputError,
    MissingExtraError,
    read_archive,
    read_array,
    read_image,
    read_torch_file,
    read_user_file,
)


def needs(module: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(importlib.util.find_spec(module) is None, reason=f"needs {module}")


class Tripwire:
    """Unpickling it creates ``marker``: proves whether a reader unpickled a user's file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


# -------------------------------------------------------------------------- files that fail


def _empty(p: Path) -> None:
    p.write_bytes(b"")


def _truncated_npy(p: Path) -> None:
    p.write_bytes(npy_bytes(np.arange(100.0))[:-40])


def _junk(p: Path) -> None:
    p.write_bytes(b"these are not the bytes you are looking for" * 4)


def _object_npy(p: Path) -> None:
    p.write_bytes(npy_bytes(np.array([Tripwire(p.with_name("unpickled"))], dtype=object)))


def _string_npy(p: Path) -> None:
    np.save(p, np.array(["a", "b"]))


def _truncated_npz(p: Path) -> None:
    buf = io.BytesIO()
    np.savez(buf, x=np.arange(100.0), y=np.ones(3))
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])


def _npz_with_cut_member(p: Path) -> None:
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("y.npy", npy_bytes(np.ones(3)))
        zf.writestr("x.npy", npy_bytes(np.arange(100.0))[:-40])


def _npz_with_object_member(p: Path) -> None:
    np.savez(p, x=np.array([Tripwire(p.with_name("unpickled"))], dtype=object), allow_pickle=True)


def _npz_with_junk_member(p: Path) -> None:
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("x.npy", b"no header here")


def _text_without_numbers(p: Path) -> None:
    p.write_text("# only a comment\n")


def _text_with_words(p: Path) -> None:
    p.write_text("1 2 3\n4 five 6\n")


def _truncated_tif(p: Path) -> None:
    import tifffile

    buf = io.BytesIO()
    stack = np.arange(3 * 16 * 16, dtype=np.uint16).reshape(3, 16, 16)
    tifffile.imwrite(buf, stack, photometric="minisblack")
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])


def _truncated_png(p: Path) -> None:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)).save(buf, format="PNG")
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])


def _plain_pickle_junk(p: Path) -> None:
    p.write_bytes(b"definitely not a checkpoint")  # "d" is a pickle opcode: torch tries to unpickle


def _truncated_torch(p: Path) -> None:
    import torch

    buf = io.BytesIO()
    torch.save({"w": torch.ones(100)}, buf)
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])


def _pickled_module(p: Path) -> None:
    import torch

    torch.save(torch.nn.Linear(2, 1), p)


def _torch_with_tripwire(p: Path) -> None:
    import torch

    torch.save({"w": torch.ones(1), "hook": Tripwire(p.with_name("unpickled"))}, p)


Reader = Callable[[Path], object]
_array: Reader = lambda p: read_array(p, argument="--input")  # noqa: E731
_archive: Reader = lambda p: read_archive(p, argument="--data")  # noqa: E731
_image: Reader = lambda p: read_image(p, argument="image")  # noqa: E731
_torch: Reader = lambda p: read_torch_file(p, argument="--checkpoint")  # noqa: E731

BAD_FILES = [
    pytest.param("x.npy", _empty, _array, "is empty (0 bytes)", id="empty-npy"),
    pytest.param("x.npy", _truncated_npy, _array, "is truncated", id="truncated-npy"),
    pytest.param("x.npy", _junk, _array, "magic string is not correct", id="junk-npy"),
    pytest.param("x.npy", _object_npy, _array, "never unpickled", id="object-npy"),
    pytest.param("x.npy", _string_npy, _array, "expected numbers", id="string-npy"),
    pytest.param("x.npz", _truncated_npz, _array, "not an .npz archive", id="truncated-npz-array"),
    pytest.param("x.npz", _truncated_npz, _archive, "not an .npz archive", id="truncated-npz"),
    pytest.param("x.npz", _junk, _archive, "not an .npz archive", id="junk-npz"),
    pytest.param(
        "x.npz", _npz_with_cut_member, _archive, "member 'x' is truncated", id="npz-cut-member"
    ),
    pytest.param(
        "x.npz", _npz_with_object_member, _archive, "member 'x' holds Python objects", id="npz-obj"
    ),
    pytest.param(
        "x.npz", _npz_with_junk_member, _archive, "magic string is not correct", id="npz-junk"
    ),
    pytest.param("x.txt", _text_without_numbers, _array, "holds no numbers", id="txt-empty"),
    pytest.param("x.csv", _text_with_words, _array, "ValueError", id="csv-words"),
    pytest.param("x.dat", _junk, _array, "cannot tell the format", id="unknown-suffix"),
    pytest.param(
        "x.tif", _truncated_tif, _image, "ValueError", id="truncated-tif", marks=needs("tifffile")
    ),
    pytest.param("x.tif", _junk, _image, "TiffFileError", id="junk-tif", marks=needs("tifffile")),
    pytest.param(
        "x.png", _junk, _image, "cannot identify image", id="junk-png", marks=needs("PIL")
    ),
    pytest.param(
        "x.png", _truncated_png, _image, "truncated", id="truncated-png", marks=needs("PIL")
    ),
    pytest.param("x.png", _empty, _image, "is empty", id="empty-png", marks=needs("PIL")),
    pytest.param(
        "m.pt",
        _junk,
        _torch,
        "not a file written by torch.save",
        id="junk-pt",
        marks=needs("torch"),
    ),
    pytest.param(
        "m.pt",
        _plain_pickle_junk,
        _torch,
        "not a file written by torch.save (UnpicklingError: Unsup",
        id="junk-pickle-pt",
        marks=needs("torch"),
    ),
    pytest.param(
        "m.pt",
        _truncated_torch,
        _torch,
        "not a file written by torch.save",
        id="truncated-pt",
        marks=needs("torch"),
    ),
    pytest.param(
        "m.pt",
        _pickled_module,
        _torch,
        "torch.save(model.state_dict(), path)",
        id="module-pt",
        marks=needs("torch"),
    ),
    pytest.param(
        "m.pt",
        _torch_with_tripwire,
        _torch,
        "pickled Python objects",
        id="tripwire-pt",
        marks=needs("torch"),
    ),
]


@pytest.mark.parametrize(("name", "write", "read", "cause"), BAD_FILES)
def test_a_bad_file_is_one_input_error_naming_argument_file_and_cause(
    tmp_path: Path, name: str, write: Callable[[Path], None], read: Reader, cause: str
) -> None:
    path = tmp_path / name
    write(path)
    with pytest.raises(InputError) as info:
        read(path)
    message = str(info.value)
    assert message.split(":", 1)[0] in ("--input", "--data", "image", "--checkpoint")
    assert repr(str(path)) in message
    assert cause in message
    assert "\n" not in message and "\x1b" not in message


@pytest.mark.parametrize(
    ("name", "write", "read"),
    [
        pytest.param("x.npy", _object_npy, _array, id="npy"),
        pytest.param("x.npz", _npz_with_object_member, _archive, id="npz"),
        pytest.param("m.pt", _torch_with_tripwire, _torch, id="pt", marks=needs("torch")),
    ],
)
def test_a_users_file_is_never_unpickled(
    tmp_path: Path, name: str, write: Callable[[Path], None], read: Reader
) -> None:
    path = tmp_path / name
    write(path)
    with pytest.raises(InputError):
        read(path)
    assert not (tmp_path / "unpickled").exists()


# ------------------------------------------------------------- what every reader checks first

READERS = [
    pytest.param("x.npy", _array, id="array"),
    pytest.param("x.npz", _archive, id="archive"),
    pytest.param("x.tif", _image, id="tiff", marks=needs("tifffile")),
    pytest.param("x.png", _image, id="png", marks=needs("PIL")),
    pytest.param("m.pt", _torch, id="torch", marks=needs("torch")),
]


@pytest.mark.parametrize(("name", "read"), READERS)
def test_a_missing_file_is_named(tmp_path: Path, name: str, read: Reader) -> None:
    with pytest.raises(InputError, match=r"^[-\w]+: file '.*' does not exist$"):
        read(tmp_path / name)


@pytest.mark.parametrize(("name", "read"), READERS)
def test_a_path_the_os_cannot_look_up_is_named(tmp_path: Path, name: str, read: Reader) -> None:
    # stat() fails with an error other than "no such file" (here ENAMETOOLONG; a folder above
    # that the user may not enter gives EACCES the same way): one InputError, no OSError
    path = tmp_path / ("x" * 300 + name)
    with pytest.raises(InputError, match=r"^[-\w]+: cannot read '.*': File name too long$"):
        read(path)


@pytest.mark.parametrize(("name", "read"), READERS)
def test_a_folder_is_refused(tmp_path: Path, name: str, read: Reader) -> None:
    folder = tmp_path / name
    folder.mkdir()
    with pytest.raises(InputError, match="is a folder; expected a file"):
        read(folder)


@pytest.mark.parametrize(("name", "read"), READERS)
def test_an_empty_file_is_refused(tmp_path: Path, name: str, read: Reader) -> None:
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(InputError, match=r"is empty \(0 bytes\)"):
        read(tmp_path / name)


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.npy"
    np.save(path, np.zeros(2))
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("permissions are not enforced for this user (root)")
        with pytest.raises(InputError, match=r"--input: cannot read '.*secret\.npy': permission"):
            read_array(path, argument="--input")
    finally:
        path.chmod(0o600)


def test_a_file_the_os_denies_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same refusal where permissions are not enforced (root in CI): the OS is asked, and
    # the decoder never runs.
    path = tmp_path / "secret.json"
    path.write_text("{}")
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False)
    decoded: list[Path] = []
    with pytest.raises(InputError, match=r"--config: cannot read '.*secret\.json': permission"):
        read_user_file(path, argument="--config", decode=decoded.append, what="a config")
    assert decoded == []


def test_an_empty_file_reaches_the_decoder_when_allowed(tmp_path: Path) -> None:
    path = tmp_path / "edges.txt"
    path.write_bytes(b"")
    assert (
        read_user_file(path, argument="graph", decode=Path.read_text, what="x", allow_empty=True)
        == ""
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ValueError("bad header"), "ValueError: bad header"),
        (KeyError("edge_index"), "KeyError: 'edge_index'"),
        (OSError("disk says no\nsecond line"), "OSError: disk says no"),
        (InputError("line 3 is not 'u v'"), "line 3 is not 'u v'"),
        (RuntimeError(), "RuntimeError"),
    ],
)
def test_any_decoder_error_becomes_one_line_with_its_cause(
    tmp_path: Path, error: Exception, expected: str
) -> None:
    path = tmp_path / "g.graphml"
    path.write_text("<graphml/>")

    def decode(p: Path) -> None:
        raise error

    with pytest.raises(InputError) as info:
        read_user_file(path, argument="graph", decode=decode, what="a graph")
    assert str(info.value) == f"graph: cannot read a graph from {str(path)!r}: {expected}"
    assert info.value.__cause__ is error


@pytest.mark.parametrize(
    "error",
    [MemoryError(), MissingExtraError("networkx is needed"), KeyboardInterrupt()],
    ids=["memory", "missing-extra", "ctrl-c"],
)
def test_errors_that_are_not_the_files_fault_pass_through(
    tmp_path: Path, error: BaseException
) -> None:
    path = tmp_path / "g.graphml"
    path.write_text("<graphml/>")

    def decode(p: Path) -> None:
        raise error

    with pytest.raises(type(error)):
        read_user_file(path, argument="graph", decode=decode, what="a graph")


def test_read_user_file_returns_what_decode_returns(tmp_path: Path) -> None:
    path = tmp_path / "cfg.json"
    path.write_text('{"width": 4}')
    decode = lambda p: json.loads(p.read_text())  # noqa: E731
    assert read_user_file(str(path), argument="--config", decode=decode, what="JSON") == {
        "width": 4
    }


# ------------------------------------------------------------------------------- arrays


@pytest.mark.parametrize("dtype", ["float32", "float64", "uint16", "int64", "bool", "complex128"])
def test_npy_round_trips_dtype_and_values(tmp_path: Path, dtype: str) -> None:
    arr = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    np.save(tmp_path / "a.npy", arr)
    got = read_array(tmp_path / "a.npy", argument="--input")
    assert got.dtype == arr.dtype and np.array_equal(got, arr)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("a.txt", "# angles\n0 45\n90 135\n", [[0, 45], [90, 135]]),
        ("a.csv", "1.5,2\n3,4\n", [[1.5, 2], [3, 4]]),
        ("a.TXT", "1\n2\n3\n", [1, 2, 3]),
    ],
)
def test_text_tables_read_as_float64(tmp_path: Path, name: str, text: str, expected: list) -> None:  # type: ignore[type-arg]
    (tmp_path / name).write_text(text)
    got = read_array(tmp_path / name, argument="--angles")
    assert got.dtype == np.float64 and np.array_equal(got, np.asarray(expected, dtype=float))


def test_strings_are_read_when_allowed(tmp_path: Path) -> None:
    np.save(tmp_path / "s.npy", np.array(["a", "bc"]))
    assert read_array(tmp_path / "s.npy", argument="--names", allow_object=True).tolist() == [
        "a",
        "bc",
    ]


def test_object_arrays_are_refused_even_when_other_dtypes_are_allowed(tmp_path: Path) -> None:
    _object_npy(tmp_path / "o.npy")
    with pytest.raises(InputError, match="never unpickled"):
        read_array(tmp_path / "o.npy", argument="--input", allow_object=True)
    assert not (tmp_path / "unpickled").exists()


@pytest.mark.parametrize(("key", "expected"), [(None, [1.0, 2.0]), ("x", [1.0, 2.0])])
def test_npz_array_is_the_only_one_or_the_named_one(
    tmp_path: Path, key: str | None, expected: list[float]
) -> None:
    np.savez(tmp_path / "one.npz", x=np.array(expected))
    assert read_array(tmp_path / "one.npz", argument="--input", key=key).tolist() == expected


def test_npz_with_several_arrays_needs_a_key(tmp_path: Path) -> None:
    np.savez(tmp_path / "two.npz", x=np.zeros(1), y=np.ones(1))
    with pytest.raises(InputError, match="holds 'x', 'y'; say which array"):
        read_array(tmp_path / "two.npz", argument="--input")
    assert read_array(tmp_path / "two.npz", argument="--input", key="y").tolist() == [1.0]


# ------------------------------------------------------------------------------- archives


def test_archive_returns_every_array_in_order(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", b=np.arange(3), a=np.array("meta text"))
    arrays = read_archive(tmp_path / "d.npz", argument="--data", required=["a", "b"])
    assert list(arrays) == ["b", "a"]
    assert arrays["b"].tolist() == [0, 1, 2] and str(arrays["a"]) == "meta text"


@pytest.mark.parametrize(
    ("required", "message"),
    [
        (["meta"], "has no array 'meta'; it holds 'x_0', 'y_0'"),
        (["x_0", "u", "v"], "has no arrays 'u', 'v'; it holds 'x_0', 'y_0'"),
    ],
)
def test_archive_names_missing_keys_and_what_is_there(
    tmp_path: Path, required: list[str], message: str
) -> None:
    np.savez(tmp_path / "d.npz", x_0=np.zeros(2), y_0=np.zeros(2))
    with pytest.raises(InputError) as info:
        read_archive(tmp_path / "d.npz", argument="--data", required=required)
    assert str(info.value) == f"--data: {str(tmp_path / 'd.npz')!r} {message}"


# ------------------------------------------------------------------------------- images


def _tiff_minisblack(p: Path, stack: np.ndarray) -> None:
    import tifffile

    tifffile.imwrite(p, stack, photometric="minisblack")


def _tiff_no_metadata(p: Path, stack: np.ndarray) -> None:
    import tifffile

    tifffile.imwrite(p, stack, photometric="minisblack", metadata=None)


def _tiff_page_by_page(p: Path, stack: np.ndarray) -> None:
    import tifffile

    with tifffile.TiffWriter(p) as tif:
        for page in stack:
            tif.write(page, photometric="minisblack")


def _tiff_by_pillow(p: Path, stack: np.ndarray) -> None:
    from PIL import Image

    pages = [Image.fromarray(page) for page in stack]
    pages[0].save(p, save_all=True, append_images=pages[1:])


@needs("tifffile")
@pytest.mark.parametrize(
    ("write", "axes"),
    [
        pytest.param(_tiff_minisblack, "QYX", id="tifffile"),
        pytest.param(_tiff_no_metadata, "IYX", id="tifffile-no-metadata"),
        pytest.param(_tiff_page_by_page, "IYX", id="page-by-page"),
        pytest.param(_tiff_by_pillow, "IYX", id="pillow", marks=needs("PIL")),
    ],
)
def test_a_16_bit_multi_page_tiff_reads_as_pages_first(
    tmp_path: Path, write: Callable[[Path, np.ndarray], None], axes: str
) -> None:
    stack = (np.arange(3 * 5 * 7, dtype=np.uint16) * 600).reshape(3, 5, 7)  # values up to 62400
    write(tmp_path / "stack.tif", stack)
    arr, got_axes = read_image(tmp_path / "stack.tif", argument="image")
    assert got_axes == axes
    assert arr.dtype == np.uint16 and np.array_equal(arr, stack)


@needs("tifffile")
@pytest.mark.parametrize(
    ("bands", "kwargs"),
    [
        (5, {"photometric": "minisblack", "planarconfig": "contig"}),
        (3, {"photometric": "rgb"}),
        (2, {"photometric": "minisblack", "planarconfig": "contig", "metadata": None}),
    ],
)
def test_a_tiff_with_samples_last_reads_as_yxs(
    tmp_path: Path, bands: int, kwargs: dict[str, Any]
) -> None:
    import tifffile

    image = np.arange(6 * 4 * bands, dtype=np.uint16).reshape(6, 4, bands)
    tifffile.imwrite(tmp_path / "hwb.tif", image, **kwargs)
    arr, axes = read_image(tmp_path / "hwb.tif", argument="image")
    assert axes == "YXS" and np.array_equal(arr, image)


@needs("tifffile")
def test_a_planar_tiff_reads_with_samples_first(tmp_path: Path) -> None:
    import tifffile

    planes = np.arange(3 * 5 * 7, dtype=np.uint16).reshape(3, 5, 7)
    tifffile.imwrite(tmp_path / "planar.tif", planes, photometric="rgb", planarconfig="separate")
    arr, axes = read_image(tmp_path / "planar.tif", argument="image")
    assert axes == "SYX" and np.array_equal(arr, planes)


@needs("PIL")
@pytest.mark.parametrize(
    ("image", "mode", "axes"),
    [
        (np.arange(20, dtype=np.uint8).reshape(4, 5), None, "YX"),
        (np.arange(20, dtype=np.uint16).reshape(4, 5) * 3000, None, "YX"),
        (np.arange(60, dtype=np.uint8).reshape(4, 5, 3), "RGB", "YXS"),
        (np.arange(80, dtype=np.uint8).reshape(4, 5, 4), "RGBA", "YXS"),
    ],
    ids=["grey8", "grey16", "rgb", "rgba"],
)
def test_png_keeps_dtype_values_and_channels(
    tmp_path: Path, image: np.ndarray, mode: str | None, axes: str
) -> None:
    from PIL import Image

    Image.fromarray(image, mode=mode).save(tmp_path / "a.png")
    arr, got_axes = read_image(tmp_path / "a.png", argument="image")
    assert got_axes == axes and arr.dtype == image.dtype and np.array_equal(arr, image)


@needs("PIL")
def test_a_palette_png_reads_as_its_colours(tmp_path: Path) -> None:
    from PIL import Image

    rgb = np.zeros((4, 4, 3), dtype=np.uint8)
    rgb[:2] = (200, 10, 30)
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "p.png")
    arr, axes = read_image(tmp_path / "p.png", argument="image")
    assert axes == "YXS" and np.array_equal(arr, rgb)


@needs("PIL")
def test_every_frame_of_an_animated_image_is_read(tmp_path: Path) -> None:
    from PIL import Image

    frames = [np.full((4, 5, 3), 60 * i, dtype=np.uint8) for i in range(3)]
    first, *rest = [Image.fromarray(f) for f in frames]
    first.save(tmp_path / "a.png", save_all=True, append_images=rest)  # an APNG
    arr, axes = read_image(tmp_path / "a.png", argument="image")
    assert axes == "IYXS" and np.array_equal(arr, np.stack(frames))


@pytest.mark.parametrize(
    ("name", "module"),
    [("a.tif", "tifffile"), ("a.TIFF", "tifffile"), ("a.png", "PIL.Image")],
)
def test_a_missing_image_library_names_the_callers_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, module: str
) -> None:
    (tmp_path / name).write_bytes(b"x")
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingExtraError, match=r"pip install 'potcontrast\[io\]'"):
        read_image(tmp_path / name, argument="image", package="potcontrast", extra="io")


# ------------------------------------------------------------------------------- torch files


@needs("torch")
def test_a_state_dict_round_trips_on_the_cpu(tmp_path: Path) -> None:
    import torch

    torch.save({"w": torch.arange(3.0), "step": 7}, tmp_path / "m.pt")
    got = read_torch_file(tmp_path / "m.pt", argument="--checkpoint")
    assert got["step"] == 7 and torch.equal(got["w"], torch.arange(3.0))
    assert got["w"].device.type == "cpu"


@needs("torch")
def test_safe_globals_admit_the_callers_classes(tmp_path: Path) -> None:
    import torch

    torch.save({"ratio": fractions.Fraction(1, 3)}, tmp_path / "f.pt")
    with pytest.raises(InputError, match=r"pickled Python objects \(fractions.Fraction\)"):
        read_torch_file(tmp_path / "f.pt", argument="--data")
    got = read_torch_file(tmp_path / "f.pt", argument="--data", safe_globals=[fractions.Fraction])
    assert got == {"ratio": fractions.Fraction(1, 3)}


@needs("torch")
def test_read_torch_file_asks_for_weights_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    torch.save({"w": torch.ones(1)}, tmp_path / "m.pt")
    calls: list[dict[str, object]] = []
    real_load = torch.load

    def spy(*args: object, **kwargs: Any) -> object:
        calls.append(kwargs)
        return real_load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(torch, "load", spy)
    read_torch_file(tmp_path / "m.pt", argument="--checkpoint", map_location="meta")
    assert [(c["weights_only"], c["map_location"]) for c in calls] == [(True, "meta")]


def test_a_missing_torch_names_the_callers_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "m.pt").write_bytes(b"x")
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'chebnet-stable\[torch\]'"):
        read_torch_file(tmp_path / "m.pt", argument="path", package="chebnet-stable")


def test_a_damaged_tiff_gives_the_one_line_error_and_nothing_else_on_stderr(tmp_path, capfd):
    pytest.importorskip("tifffile")
    good = tmp_path / "pages.tif"
    _tiff_page_by_page(good, np.arange(4 * 32 * 32, dtype=np.uint16).reshape(4, 32, 32))
    cut = tmp_path / "cut.tif"
    cut.write_bytes(good.read_bytes()[:3000])
    with pytest.raises(InputError, match="image: cannot read a TIFF image"):
        read_image(cut, argument="image")
    assert capfd.readouterr().err == ""  # tifffile's own log lines are held back


def test_a_damaged_torch_file_gives_the_one_line_error_and_no_torch_warning(tmp_path, recwarn):
    pytest.importorskip("torch")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x80\x05" + b"x" * 50)  # pickle protocol 5: torch warns before it fails
    with pytest.raises(InputError, match="--checkpoint: cannot read"):
        read_torch_file(junk, argument="--checkpoint")
    assert [str(w.message) for w in recwarn] == []
