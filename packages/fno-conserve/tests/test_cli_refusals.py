"""The command line as a new user meets it: every refusal is one line on stderr naming the flag
or argument, exit status 2, and no output file left behind; a success prints one ``wrote PATH``
line; every option says its default."""

import argparse
import json

import numpy as np
import pytest

from fno_conserve.cli import app, main

TINY = ["--width", "8", "--modes", "4", "--layers", "1", "--epochs", "2", "--quiet"]


def _refused(capsys, argv, *names):
    """Run ``argv``: exit 2, nothing on stdout, one line on stderr containing every name."""
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured.err
    assert captured.out == ""
    assert len(lines) == 1, captured.err
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder holding a tiny Burgers dataset ``b.npz`` (12 samples, N = 32)."""
    path = tmp_path_factory.mktemp("cli")
    argv = ["generate-data", "burgers", "--n-samples", "12", "--resolution", "32"]
    assert main([*argv, "-o", str(path / "b.npz"), "--quiet"]) == 0
    return path


def _damaged(folder, tmp_path, kind):
    good = (folder / "b.npz").read_bytes()
    path = tmp_path / f"{kind}.npz"
    if kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif kind == "truncated-member":
        path.write_bytes(good[:-200])  # the zip directory survives in part only
    elif kind == "junk":
        path.write_bytes(b"\x00junk" * 100)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "foreign":
        np.savez(path, a=np.zeros(3))
    elif kind == "object":
        np.savez(path, meta=np.array([{"pde": "burgers"}], dtype=object))
    elif kind == "bad-meta":
        z = dict(np.load(folder / "b.npz"))
        z["meta"] = np.array(json.dumps([{"pde": "kdv", "resolution": 32}]))
        np.savez(path, **z)
    elif kind == "wrong-shape":
        z = dict(np.load(folder / "b.npz"))
        z["x_0"] = z["x_0"][..., :16]
        np.savez(path, **z)
    return path


@pytest.mark.parametrize(
    "kind",
    [
        "truncated",
        "truncated-member",
        "junk",
        "empty",
        "foreign",
        "object",
        "bad-meta",
        "wrong-shape",
        "missing",
    ],
)
def test_train_refuses_a_damaged_data_file(capsys, folder, tmp_path, kind):
    path = _damaged(folder, tmp_path, kind)
    out = tmp_path / "run"
    _refused(capsys, ["train", str(path), "--out", str(out), *TINY], "data", path.name)
    assert not out.exists()


def _with_non_finite(folder, tmp_path, key):
    z = dict(np.load(folder / "b.npz"))
    z[key] = z[key].copy()
    z[key][0, 0, :3] = [np.nan, np.inf, -np.inf]
    path = tmp_path / "nonfinite.npz"
    np.savez(path, **z)
    return path


@pytest.mark.parametrize("key", ["x_0", "y_0"])
def test_train_refuses_non_finite_data_naming_the_array_and_count(capsys, folder, tmp_path, key):
    path = _with_non_finite(folder, tmp_path, key)
    out = tmp_path / "run"
    line = _refused(capsys, ["train", str(path), "--out", str(out), *TINY], "data", key)
    assert "3 non-finite" in line
    assert not out.exists()


@pytest.mark.parametrize("variant", ["plain", "projection"])
def test_train_stops_when_the_loss_becomes_non_finite(capsys, folder, tmp_path, variant):
    out = tmp_path / "run"
    argv = ["train", str(folder / "b.npz"), "--variant", variant, "--lr", "1e6", "--out", str(out)]
    _refused(capsys, [*argv, *TINY], "--lr", "diverged", "epoch", "step")
    assert not (out / "model.pt").exists() and not (out / "metrics.json").exists()
    assert not out.exists()  # the folder made for this run is removed again


def test_a_diverged_run_keeps_an_earlier_runs_folder(capsys, folder, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    argv = ["train", str(folder / "b.npz"), "--lr", "1e6", "--out", str(tmp_path), *TINY]
    _refused(capsys, argv, "--lr")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize(
    "flag,value",
    [
        ("--lr", "nan"),
        ("--lr", "inf"),
        ("--lr", "0"),
        ("--lr", "-1e-3"),
        ("--epochs", "-1"),
        ("--epochs", "0"),
        ("--batch", "0"),
        ("--width", "0"),
        ("--modes", "-4"),
        ("--layers", "0"),
        ("--penalty-weight", "nan"),
        ("--penalty-weight", "-1"),
        ("--val-fraction", "nan"),
        ("--test-fraction", "1.5"),
        ("--test-fraction", "-0.1"),
    ],
)
def test_train_refuses_a_bad_hyper_parameter_naming_the_flag(capsys, folder, tmp_path, flag, value):
    out = tmp_path / "run"
    argv = ["train", str(folder / "b.npz"), "--out", str(out), *TINY, f"{flag}={value}"]
    _refused(capsys, argv, flag)
    assert not out.exists()


@pytest.mark.parametrize(
    "args,flag",
    [
        (["heat", "--n-samples", "0", "--resolution", "16"], "--n-samples"),
        (["heat", "--n-samples", "2", "--resolution", "2"], "--resolution"),
        (
            ["heat", "--n-samples", "2", "--resolution", "16", "--rollout-steps", "0"],
            "--rollout-steps",
        ),
        (["heat", "--n-samples", "2", "--resolutions", "3,16"], "--resolutions"),
        (["heat", "--n-samples", "2", "--resolutions", "12,16"], "--resolutions"),
        (
            ["heat", "--n-samples", "2", "--resolution", "32", "--resolutions", "8,16"],
            "--resolution",
        ),
        (
            ["darcy", "--n-samples", "2", "--resolution", "8", "--rollout-steps", "2"],
            "--rollout-steps",
        ),
    ],
)
def test_generate_data_refuses_a_bad_size_naming_the_flag(capsys, tmp_path, args, flag):
    out = tmp_path / "d.npz"
    _refused(capsys, ["generate-data", *args, "-o", str(out), "--quiet"], flag)
    assert not out.exists()


@pytest.mark.parametrize("name", ["d.txt", "d.npy", "d"])
def test_generate_data_refuses_an_output_that_is_not_npz(capsys, tmp_path, name):
    argv = ["generate-data", "heat", "--n-samples", "2", "--resolution", "8"]
    _refused(capsys, [*argv, "-o", str(tmp_path / name), "--quiet"], "-o/--output", ".npz")
    assert list(tmp_path.iterdir()) == []


def test_generate_data_refuses_an_output_under_a_regular_file(capsys, tmp_path):
    """A folder that is a regular file cannot be written into, even by root."""
    (tmp_path / "afile").write_text("")
    out = tmp_path / "afile" / "d.npz"
    argv = ["generate-data", "heat", "--n-samples", "2", "--resolution", "8", "-o", str(out)]
    _refused(capsys, [*argv, "--quiet"], "-o/--output", "afile")


@pytest.mark.parametrize(
    "command",
    [
        ["train", "DATA", *TINY],
        ["reproduce", "--quick", "--quiet"],
        ["bench", "--quick", "--quiet"],
    ],
    ids=["train", "reproduce", "bench"],
)
def test_an_out_folder_under_a_regular_file_is_refused_before_any_work(
    capsys, folder, tmp_path, command
):
    (tmp_path / "afile").write_text("")
    argv = [str(folder / "b.npz") if a == "DATA" else a for a in command]
    _refused(capsys, [*argv, "--out", str(tmp_path / "afile" / "run")], "--out", "afile")


@pytest.mark.parametrize("command", ["reproduce", "bench"])
def test_threads_below_one_are_refused_naming_the_flag(capsys, tmp_path, command):
    out = tmp_path / "run"
    _refused(
        capsys, [command, "--quick", "--threads", "0", "--out", str(out), "--quiet"], "--threads"
    )
    assert not out.exists()


def test_generate_data_prints_one_wrote_line(capsys, tmp_path):
    out = tmp_path / "d.npz"
    argv = ["generate-data", "heat", "--n-samples", "2", "--resolution", "8", "-o", str(out)]
    assert main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"


def test_train_prints_one_wrote_line(capsys, folder, tmp_path):
    out = tmp_path / "run"
    assert main(["train", str(folder / "b.npz"), "--out", str(out), *TINY]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert (out / "model.pt").is_file() and (out / "metrics.json").is_file()


def test_train_shows_a_progress_bar_unless_quiet(capsys, folder, tmp_path):
    argv = ["train", str(folder / "b.npz"), *[a for a in TINY if a != "--quiet"]]
    assert main([*argv, "--out", str(tmp_path / "loud")]) == 0
    assert "train adaptive" in capsys.readouterr().err
    assert main([*argv, "--out", str(tmp_path / "quiet"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def _options():
    subparsers = next(a for a in app.parser._actions if isinstance(a, argparse._SubParsersAction))
    for command, parser in subparsers.choices.items():
        for action in parser._actions:
            if not isinstance(action, argparse._HelpAction):
                yield command, action


@pytest.mark.parametrize(
    "command,action",
    [pytest.param(c, a, id=f"{c} {a.dest}") for c, a in _options()],
)
def test_every_option_has_help_that_shows_its_default(command, action):
    assert action.help, (command, action.dest)
    if action.option_strings:  # positionals have no default to show
        assert "default" in action.help or "required" in action.help, (command, action.help)
