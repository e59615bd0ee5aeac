"""What ``potcontrast`` writes and where: output locations checked before any work, the output
suffix, one ``wrote PATH`` line, the bin-count limit up front, help texts with defaults, no torch
device, figures without matplotlib, and a torch-free command line end to end."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np
import pytest

import sciml_core
from potcontrast._binning import MAX_BINS
from potcontrast._experiments.reproduce import reproduce
from potcontrast.cli import app, main


@pytest.fixture
def scene(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.zeros((40, 50), dtype=np.uint8)
    labels[5:15, 5:20], labels[20:30, 10:40], labels[32:38, 2:48] = 1, 2, 3
    np.save(tmp_path / "stack.npy", rng.integers(0, 1000, (40, 50, 3)).astype(np.uint16))
    np.save(tmp_path / "labels.npy", labels)
    (tmp_path / "a_file").write_text("a regular file, not a folder")
    return tmp_path, ["npc", str(tmp_path / "stack.npy"), "--labels", str(tmp_path / "labels.npy")]


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a command starts its work (reads an image, reproduces, benchmarks)."""

    def refuse(*args, **kwargs):
        raise AssertionError("the command did its work although its output cannot be written")

    monkeypatch.setattr("potcontrast.cli.read_image_axes", refuse)
    monkeypatch.setattr("potcontrast._experiments.reproduce.reproduce", refuse)
    monkeypatch.setattr("potcontrast._experiments.bench.bench", refuse)


def _one_error_line(capsys, needle):
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and needle in captured.err, captured.err
    return captured.err


@pytest.mark.parametrize("command", ["reproduce", "bench"])
def test_unwritable_out_is_refused_before_any_work(scene, capsys, no_work, command):
    d, _ = scene
    out = d / "a_file" / "results"  # under a regular file: fails even as root
    assert main([command, "--quick", "--out", str(out)]) == 2
    _one_error_line(capsys, "--out")


@pytest.mark.parametrize("flag", ["-o", "--class-map"])
def test_unwritable_output_file_is_refused_before_any_work(scene, capsys, no_work, flag):
    d, args = scene
    target = d / "a_file" / ("res.json" if flag == "-o" else "map.npy")
    assert main([*args, flag, str(target)]) == 2
    _one_error_line(capsys, "-o/--output" if flag == "-o" else "--class-map")


@pytest.mark.parametrize("name", ["out.txt", "out.npy", "out"])
def test_output_must_end_in_json_or_csv(scene, capsys, no_work, name):
    d, args = scene
    assert main([*args, "-o", str(d / name)]) == 2
    _one_error_line(capsys, "must end in .json or .csv")
    assert not (d / name).exists()


@pytest.mark.parametrize("bins", ["1000000000000", str(MAX_BINS + 1)])
def test_impossible_bin_count_is_refused_before_reading_anything(tmp_path, capsys, bins):
    missing = tmp_path / "missing.npy"  # never read: --bins is refused first
    assert main(["npc", str(missing), "--labels", str(missing), "--bins", bins]) == 2
    err = _one_error_line(capsys, f"--bins {bins}: at most {MAX_BINS:,} bins")
    assert "67,108,864" in err


def test_bin_count_too_large_for_this_stack_is_refused_naming_the_limit(scene, capsys):
    _, args = scene
    assert main([*args, "--bins", str(MAX_BINS)]) == 2
    _one_error_line(capsys, f"--bins: {MAX_BINS} bins for 3 band(s) and 3 classes need")


def test_npc_prints_one_wrote_line_per_file_written(scene, capsys):
    d, args = scene
    out, cmap = d / "res.json", d / "cmap.npy"
    assert main([*args, "-o", str(out), "--class-map", str(cmap)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2:] == [f"wrote {out}", f"wrote {cmap}"]
    assert not any(line.startswith("wrote") for line in lines[:-2])


def test_npc_json_keeps_stdout_pure_json_and_says_wrote_on_stderr(scene, capsys):
    d, args = scene
    out = d / "res.json"
    assert main([*args, "--json", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["npc"] == json.loads(out.read_text())["npc"]
    assert f"wrote {out}" in captured.err.splitlines()


@pytest.mark.parametrize("command", ["reproduce", "bench"])
def test_run_commands_print_one_wrote_line(tmp_path, capsys, monkeypatch, command):
    def fake(out_dir, **kwargs):
        (tmp_path / "result.json").write_text("{}")
        return tmp_path / "result.json"

    monkeypatch.setattr(f"potcontrast._experiments.{command}.{command}", fake)
    assert main([command, "--quick", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'result.json'}\n"


def _subparser(name):
    sub = next(a for a in app.parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


@pytest.mark.parametrize("command", ["npc", "reproduce", "bench"])
def test_every_option_has_help_with_its_default(command):
    for action in _subparser(command)._actions:
        if isinstance(action, argparse._HelpAction) or not action.option_strings:
            continue
        assert action.help, action.option_strings
        assert "default" in action.help or "required" in action.help, action.option_strings


@pytest.mark.parametrize("argv", [["--help"], ["reproduce", "--help"], ["bench", "--help"]])
def test_help_offers_no_torch_device(capsys, argv):
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "--device" not in text and "torch" not in text and "cuda" not in text.lower()


def test_reproduce_without_matplotlib_says_so_and_records_it(tmp_path, capsys, monkeypatch):
    def missing(package):
        raise sciml_core.MissingExtraError(
            f"matplotlib is needed here; install it with: pip install '{package}[plot]'"
        )

    monkeypatch.setattr(sciml_core, "get_pyplot", missing)
    path = reproduce(tmp_path, quick=True, seed=0, studies=["manuscript_bands"])
    err = capsys.readouterr().err.strip().splitlines()
    notes = [line for line in err if "figures" in line]
    assert notes == [
        "potcontrast: warning: no figures will be drawn: matplotlib is needed here; install it "
        "with: pip install 'potcontrast[plot]'"
    ]
    data = json.loads(path.read_text())
    assert data["figures"] == [] and not list(tmp_path.glob("*.png"))
    table = next(t for t in data["tables"] if t["id"] == "figures_not_drawn")
    assert [row[0] for row in table["rows"]] == ["manuscript.png"]
    assert "pip install 'potcontrast[plot]'" in table["rows"][0][2]


RUN = (
    "import sys\n"
    "import potcontrast._experiments.registry as registry\n"
    "for name in list(registry.STUDIES):  # one cheap study: the command line is what is tested\n"
    "    if name != 'format_independence':\n"
    "        del registry.STUDIES[name]\n"
    "from potcontrast.cli import main\n"
    "rc = main(sys.argv[1:])\n"
    "assert 'torch' not in sys.modules, 'torch was imported'\n"
    "sys.exit(rc)\n"
)


def test_reproduce_end_to_end_never_imports_torch(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", RUN, "reproduce", "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote {tmp_path / 'result.json'}\n"


MAIN = "import sys\nfrom potcontrast.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def test_truncated_tiff_gives_exactly_one_line_on_stderr(tmp_path):
    # tifffile logs a damaged file's problems itself; in a real process nothing captures them
    tifffile = pytest.importorskip("tifffile")
    tifffile.imwrite(tmp_path / "full.tif", np.zeros((2, 40, 50), np.uint16))
    (tmp_path / "cut.tif").write_bytes((tmp_path / "full.tif").read_bytes()[:300])
    np.save(tmp_path / "labels.npy", np.zeros((40, 50), np.uint8))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            MAIN,
            "npc",
            str(tmp_path / "cut.tif"),
            "--labels",
            str(tmp_path / "labels.npy"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "IMAGE" in done.stderr and "cut.tif" in done.stderr
