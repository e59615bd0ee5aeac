from __future__ import annotations

import argparse
import errno
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import sciml_core.cli as cli
from sciml_core import InputError, MissingExtraError, Result, load_result
from sciml_core.cli import App, check_output, is_quiet, progress, set_quiet, wrote


def make_app(seen: dict[str, argparse.Namespace]) -> App:
    def record(name: str, code: int | None = None):  # type: ignore[no-untyped-def]
        def run(args: argparse.Namespace) -> int | None:
            seen[name] = args
            seen[name + ":quiet"] = is_quiet()  # type: ignore[assignment]
            return code

        return run

    app = App("demo", version="1.2.3", description="A demo app.")
    app.add_command("plain", record("plain"), help="no flags", common=())
    p = app.add_command("write", record("write"), help="writes one file", common=("seed", "quiet"))
    p.add_argument("value", type=int)
    app.add_output_argument(p)
    app.add_command("three", record("three", 3), help="exits 3")
    app.add_reproduce(record("reproduce"))
    app.add_bench(record("bench"))
    return app


def test_reproduce_has_every_common_flag_with_defaults() -> None:
    seen: dict[str, argparse.Namespace] = {}
    assert make_app(seen).run(["reproduce"]) == 0
    args = seen["reproduce"]
    assert (args.seed, args.device, args.out, args.quick, args.quiet) == (
        0,
        "auto",
        Path("demo-reproduce"),
        False,
        False,
    )


def test_common_flags_parse(tmp_path: Path) -> None:
    seen: dict[str, argparse.Namespace] = {}
    app = make_app(seen)
    argv = ["bench", "--seed", "7", "--device", "cpu", "--out", str(tmp_path), "--quick", "--quiet"]
    assert app.run(argv) == 0
    args = seen["bench"]
    assert (args.seed, args.device, args.out, args.quick, args.quiet) == (
        7,
        "cpu",
        tmp_path,
        True,
        True,
    )
    assert app.run(["reproduce", "--full"]) == 0
    assert seen["reproduce"].quick is False


def test_quick_and_full_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    assert make_app({}).run(["reproduce", "--quick", "--full"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_negative_seed_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert make_app({}).run(["bench", "--seed", "-1"]) == 2
    assert "non-negative integer" in capsys.readouterr().err


def test_commands_only_get_the_flags_they_ask_for(capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict[str, argparse.Namespace] = {}
    app = make_app(seen)
    assert app.run(["plain"]) == 0
    assert not hasattr(seen["plain"], "seed") and not hasattr(seen["plain"], "quiet")
    assert app.run(["plain", "--seed", "1"]) == 2
    assert "unrecognized arguments: --seed 1" in capsys.readouterr().err


def test_exit_code_of_the_command_is_returned() -> None:
    assert make_app({}).run(["three"]) == 3


def test_version_and_help_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app({})
    assert app.run(["--version"]) == 0
    assert capsys.readouterr().out.strip() == "demo 1.2.3"
    assert app.run(["--help"]) == 0
    out = capsys.readouterr().out
    assert "A demo app." in out and "reproduce" in out and "bench" in out


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert make_app({}).run([]) == 2
    assert "usage: demo" in capsys.readouterr().err


def test_input_error_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    app = App("demo", version="0")

    def bad(args: argparse.Namespace) -> None:
        raise InputError("threshold must be in (0, 1);\n  got 2.0")

    app.add_command("bad", bad, help="")
    assert app.run(["bad"]) == 2
    err = capsys.readouterr().err
    assert err == "demo: error: threshold must be in (0, 1); got 2.0\n"


def test_missing_extra_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    app = App("demo", version="0")

    def needs(args: argparse.Namespace) -> None:
        raise MissingExtraError("tifffile is needed here; install it with: pip install 'demo[io]'")

    app.add_command("needs", needs, help="")
    assert app.run(["needs"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_bugs_keep_their_traceback_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    app = App("demo", version="0")

    def bug(args: argparse.Namespace) -> None:
        return {}["missing"]  # type: ignore[return-value]

    app.add_command("bug", bug, help="")
    assert app.run(["bug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "KeyError: 'missing'" in err
    assert "in bug" in err


def test_keyboard_interrupt_exits_130(capsys: pytest.CaptureFixture[str]) -> None:
    app = App("demo", version="0")

    def slow(args: argparse.Namespace) -> None:
        raise KeyboardInterrupt

    app.add_command("slow", slow, help="")
    assert app.run(["slow"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_output_is_passed_to_the_command(tmp_path: Path) -> None:
    seen: dict[str, argparse.Namespace] = {}
    target = tmp_path / "out.txt"
    assert make_app(seen).run(["write", "5", "-o", str(target)]) == 0
    assert seen["write"].output == target and seen["write"].value == 5
    assert seen["write"].overwrite is False


def test_overwrite_lets_an_existing_output_through(tmp_path: Path) -> None:
    seen: dict[str, argparse.Namespace] = {}
    target = tmp_path / "out.txt"
    target.write_text("old")
    assert make_app(seen).run(["write", "6", "-o", str(target), "--overwrite"]) == 0
    assert seen["write"].overwrite is True


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-o", "{d}/precious.txt"], "-o/--output '{d}/precious.txt' exists; pass --overwrite"),
        (["--output", "{d}/precious.txt"], "-o/--output '{d}/precious.txt' exists; pass"),
        (["-o", "{d}/no/x.txt"], "its folder '{d}/no' does not exist"),
        (["-o", "{d}/precious.txt/x.txt"], "its folder '{d}/precious.txt' is a file, not a"),
        (["-o", "{d}"], "-o/--output '{d}' is a folder"),
    ],
    ids=["exists", "exists-long-flag", "no-folder", "under-a-file", "folder"],
)
def test_a_bad_output_is_one_line_before_the_command_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    seen: dict[str, argparse.Namespace] = {}
    (tmp_path / "precious.txt").write_text("precious")
    argv = [a.format(d=tmp_path) for a in argv]
    assert make_app(seen).run(["write", "6", *argv]) == 2
    assert "write" not in seen  # refused before running
    err = capsys.readouterr().err
    assert err.startswith("demo: error: ") and err.count("\n") == 1
    assert message.format(d=tmp_path) in err
    assert (tmp_path / "precious.txt").read_text() == "precious"


@pytest.mark.parametrize(
    "argv",
    [["write", "6", "-o", "{long}.json"], ["reproduce", "--out", "{long}"]],
    ids=["output", "out"],
)
def test_a_destination_the_os_cannot_look_up_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    # stat() fails with ENAMETOOLONG (EACCES above a folder the user may not enter is the same)
    seen: dict[str, argparse.Namespace] = {}
    long = str(tmp_path / ("d" * 300))
    assert make_app(seen).run([a.format(long=long) for a in argv]) == 2
    assert not seen  # refused before running
    err = capsys.readouterr().err
    assert err.startswith("demo: error: ") and err.count("\n") == 1
    assert "File name too long" in err and ("-o/--output" in err or "--out" in err)
    assert os.listdir(tmp_path) == []


def test_a_required_output_must_be_given(capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict[str, argparse.Namespace] = {}
    assert make_app(seen).run(["write", "6"]) == 2
    assert "write" not in seen
    assert "the following arguments are required: -o/--output" in capsys.readouterr().err


def test_an_unwritable_output_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("permissions are not enforced for this user (root)")
        seen: dict[str, argparse.Namespace] = {}
        assert make_app(seen).run(["write", "1", "-o", str(locked / "x.txt")]) == 2
        assert "write" not in seen
        err = capsys.readouterr().err
        assert f"-o/--output {str(locked / 'x.txt')!r}" in err and "not writable" in err
    finally:
        locked.chmod(0o755)


def test_an_unwritable_out_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("permissions are not enforced for this user (root)")
        seen: dict[str, argparse.Namespace] = {}
        for out in (locked, locked / "new"):
            assert make_app(seen).run(["reproduce", "--out", str(out)]) == 2
            assert f"--out {str(out)!r}" in capsys.readouterr().err
        assert not seen
        assert os.listdir(locked) == []
    finally:
        locked.chmod(0o755)


def _destination(flag: str, tmp_path: Path) -> list[str]:
    if flag == "-o":
        return ["write", "1", "-o", str(tmp_path / "x.txt")]
    return ["reproduce", "--out", str(tmp_path / "results" / "run1")]


@pytest.mark.parametrize(("flag", "named"), [("-o", "-o/--output"), ("--out", "--out")])
def test_a_folder_the_os_calls_unwritable_is_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    flag: str,
    named: str,
) -> None:
    # What a read-only folder does to a normal user, shown also where permissions are not
    # enforced (root, as in CI): the OS is asked with os.access.
    seen: dict[str, argparse.Namespace] = {}
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: not mode & os.W_OK)
    assert make_app(seen).run(_destination(flag, tmp_path)) == 2
    assert not seen
    err = capsys.readouterr().err
    assert err.startswith(f"demo: error: {named} ") and err.count("\n") == 1
    assert "not writable (permission denied)" in err
    assert os.listdir(tmp_path) == []  # folders made for the check are gone again


@pytest.mark.parametrize("flag", ["-o", "--out"])
def test_a_folder_where_no_file_can_be_created_is_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    flag: str,
) -> None:
    # A read-only mount or a full disk: os.access says yes, creating the probe file fails.
    def read_only(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(cli.tempfile, "mkstemp", read_only)
    seen: dict[str, argparse.Namespace] = {}
    assert make_app(seen).run(_destination(flag, tmp_path)) == 2
    assert not seen
    assert "cannot write into folder" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("{d}/notes.txt", "--out '{d}/notes.txt' is a file; --out takes a folder"),
        ("{d}/notes.txt/sub", "--out '{d}/notes.txt/sub': '{d}/notes.txt' is a file, not a folder"),
        ("{d}/notes.txt/a/b", "--out '{d}/notes.txt/a/b': '{d}/notes.txt' is a file, not a folder"),
    ],
    ids=["file", "under-a-file", "deep-under-a-file"],
)
def test_an_out_that_cannot_be_a_folder_is_refused_before_the_command_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], out: str, message: str
) -> None:
    seen: dict[str, argparse.Namespace] = {}
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a user's file")
    assert make_app(seen).run(["reproduce", "--quick", "--out", out.format(d=tmp_path)]) == 2
    assert "reproduce" not in seen
    assert capsys.readouterr().err == f"demo: error: {message.format(d=tmp_path)}\n"
    assert blocker.read_text() == "a user's file"
    assert os.listdir(tmp_path) == ["notes.txt"]


def _writes_result(args: argparse.Namespace) -> None:
    (args.out / "result.json").write_text("{}")


def _writes_nothing(args: argparse.Namespace) -> None:
    assert args.out.is_dir()  # the command may rely on --out existing


def _refuses(args: argparse.Namespace) -> None:
    raise InputError("level must be >= 0")


def _crashes(args: argparse.Namespace) -> None:
    raise ZeroDivisionError("a bug")


@pytest.mark.parametrize(
    ("command", "code", "kept"),
    [
        (_writes_result, 0, True),
        (_writes_nothing, 0, False),
        (_refuses, 2, False),
        (_crashes, 1, False),
    ],
    ids=["wrote", "wrote-nothing", "input-error", "bug"],
)
def test_out_folders_made_for_the_command_stay_only_if_it_wrote_there(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: Callable[[argparse.Namespace], None],
    code: int,
    kept: bool,
) -> None:
    app = App("demo", version="0")
    app.add_reproduce(command)
    assert app.run(["reproduce", "--out", str(tmp_path / "a" / "b")]) == code
    assert (tmp_path / "a" / "b").is_dir() is kept
    assert (tmp_path / "a").exists() is kept


def test_a_command_that_changes_folder_never_costs_the_user_a_folder_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # --out "res" is made in the first folder; the command moves to another folder holding the
    # user's own empty "res": the folder removed afterwards is the one made, not the user's
    first, elsewhere = tmp_path / "first", tmp_path / "elsewhere"
    first.mkdir()
    (elsewhere / "res").mkdir(parents=True)
    monkeypatch.chdir(first)
    app = App("demo", version="0")
    app.add_reproduce(lambda args: os.chdir(elsewhere))
    assert app.run(["reproduce", "--out", "res"]) == 0
    assert (elsewhere / "res").is_dir()
    assert not (first / "res").exists()


@pytest.mark.parametrize("command", [_writes_nothing, _refuses], ids=["success", "input-error"])
def test_an_existing_out_folder_is_never_removed(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: Callable[[argparse.Namespace], None],
) -> None:
    app = App("demo", version="0")
    app.add_reproduce(command)
    app.run(["reproduce", "--out", str(tmp_path / "mine")])
    (tmp_path / "mine").mkdir()
    app.run(["reproduce", "--out", str(tmp_path / "mine")])
    assert (tmp_path / "mine").is_dir()


@pytest.mark.parametrize(
    ("name", "suffixes"),
    [
        ("out.json", (".json",)),
        ("OUT.JSON", (".json",)),
        ("scan.nii.gz", (".nii", ".nii.gz")),
        ("scan.NII", (".nii", ".nii.gz")),
    ],
)
def test_an_output_with_an_allowed_suffix_runs(
    tmp_path: Path, name: str, suffixes: tuple[str, ...]
) -> None:
    seen: list[Path] = []
    app = App("demo", version="0")
    p = app.add_command("write", lambda args: seen.append(args.output), help="")
    app.add_output_argument(p, suffixes=suffixes)
    assert app.run(["write", "-o", str(tmp_path / name)]) == 0
    assert seen == [tmp_path / name]


@pytest.mark.parametrize(
    ("name", "suffixes", "allowed"),
    [
        ("out.txt", (".json",), ".json"),
        ("json", (".json",), ".json"),
        ("out.json.bak", (".json",), ".json"),
        ("scan.gz", (".nii", ".nii.gz"), ".nii or .nii.gz"),
        ("a.png", (".npy", ".npz", ".tif"), ".npy, .npz or .tif"),
    ],
)
def test_an_output_with_another_suffix_is_refused_naming_flag_path_and_suffixes(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    suffixes: tuple[str, ...],
    allowed: str,
) -> None:
    seen: list[Path] = []
    app = App("demo", version="0")
    p = app.add_command("write", lambda args: seen.append(args.output), help="")
    app.add_output_argument(p, suffixes=suffixes)
    assert app.run(["write", "-o", str(tmp_path / name)]) == 2
    assert seen == []
    expected = f"demo: error: -o/--output {str(tmp_path / name)!r} must end in {allowed}\n"
    assert capsys.readouterr().err == expected


@pytest.mark.parametrize(
    ("name", "overwrite", "suffixes"),
    [("new.png", False, None), ("old.png", True, None), ("new.png", False, (".png",))],
    ids=["new", "overwrite", "suffix"],
)
def test_check_output_accepts_a_writable_destination(
    tmp_path: Path, name: str, overwrite: bool, suffixes: tuple[str, ...] | None
) -> None:
    (tmp_path / "old.png").write_bytes(b"")
    assert check_output(str(tmp_path / name), overwrite, suffixes=suffixes) == tmp_path / name
    assert sorted(os.listdir(tmp_path)) == ["old.png"]  # the probe file is gone


@pytest.mark.parametrize(
    ("name", "overwrite", "suffixes", "message"),
    [
        ("old.png", False, None, "exists; pass --overwrite"),
        ("", True, None, "is a folder"),
        ("a/b.png", False, None, "does not exist"),
        ("new.png", False, (".json",), "must end in .json"),
    ],
    ids=["exists", "folder", "no-folder", "suffix"],
)
def test_check_output_refuses_a_bad_destination(
    tmp_path: Path, name: str, overwrite: bool, suffixes: tuple[str, ...] | None, message: str
) -> None:
    (tmp_path / "old.png").write_bytes(b"")
    with pytest.raises(InputError, match=message):
        check_output(tmp_path / name, overwrite, suffixes=suffixes)


def test_wrote_prints_one_line_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    wrote(Path("out") / "result.json")
    assert capsys.readouterr() == ("wrote out/result.json\n", "")


def _every_parser() -> dict[str, argparse.ArgumentParser]:
    app = App("demo", version="0")
    parsers = {
        "reproduce": app.add_reproduce(lambda args: None),
        "bench": app.add_bench(lambda args: None, device=False),
        "all-flags": app.add_command("all", lambda args: None, help="", common=cli.COMMON_FLAGS),
    }
    for name, kwargs in (("required", {}), ("optional", {"required": False, "suffixes": [".x"]})):
        parsers[name] = app.add_command(name, lambda args: None, help="", common=())
        app.add_output_argument(parsers[name], **kwargs)  # type: ignore[arg-type]
    return parsers


@pytest.mark.parametrize("command", list(_every_parser()))
def test_every_option_app_adds_says_its_default(command: str) -> None:
    parser = _every_parser()[command]
    options = [a for a in parser._actions if a.option_strings and a.dest != "help"]
    assert options
    for action in options:
        expected = "(required)" if action.required else "default"
        assert action.help and expected in action.help, (action.option_strings, action.help)


@pytest.mark.parametrize("register", ["add_reproduce", "add_bench"])
def test_device_false_offers_no_device_and_reads_as_cpu(
    register: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[argparse.Namespace] = []
    app = App("demo", version="0")
    getattr(app, register)(seen.append, device=False)
    command = register.removeprefix("add_")
    assert app.run([command, "--help"]) == 0
    assert "--device" not in capsys.readouterr().out
    assert app.run([command, "--device", "cuda"]) == 2
    assert "unrecognized arguments: --device cuda" in capsys.readouterr().err


@pytest.mark.parametrize("register", ["add_reproduce", "add_bench"])
def test_device_false_keeps_the_other_common_flags(tmp_path: Path, register: str) -> None:
    seen: list[argparse.Namespace] = []
    app = App("demo", version="0")
    getattr(app, register)(seen.append, device=False)
    command = register.removeprefix("add_")
    argv = [command, "--quick", "--seed", "3", "--out", str(tmp_path), "--quiet"]
    assert app.run(argv) == 0
    args = seen[0]
    assert (args.quick, args.seed, args.out, args.quiet, args.device) == (
        True,
        3,
        tmp_path,
        True,
        "cpu",
    )


def _bad_row(args: argparse.Namespace) -> None:
    res = Result("demo", "0.1.0", seed=args.seed, device=args.device, quick=args.quick)
    res.add_table("t", "T", ["method", "error"], [["ours"]])


def _bad_holds(args: argparse.Namespace) -> None:
    res = Result("demo", "0.1.0", seed=args.seed, device=args.device, quick=args.quick)
    res.add_claim("ours wins", "error < 0.1", 0.05, "yes")  # type: ignore[arg-type]


def _invalid_save(args: argparse.Namespace) -> None:
    res = Result("demo", "0.1.0", seed=args.seed, device=args.device, quick=args.quick)
    res.add_figure("never-drawn.png", "a figure nobody saved")
    res.save(args.out)


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (_bad_row, "ValueError: row 0 of table 't' must have 2 values"),
        (_bad_holds, "TypeError: holds of claim 'ours wins' must be a bool"),
        (_invalid_save, "ValueError: result is invalid: figure file(s) missing"),
    ],
    ids=["row-length", "claim", "invalid-result"],
)
def test_a_mistake_in_result_building_keeps_its_traceback_exit_1(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: Callable[[argparse.Namespace], None],
    error: str,
) -> None:
    app = App("demo", version="0")
    app.add_reproduce(command)
    assert app.run(["reproduce", "--out", str(tmp_path), "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and error in err
    assert "demo: error:" not in err


def test_a_users_bad_result_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "result.json").write_text('{"schema": 1}')
    app = App("demo", version="0")
    p = app.add_command(
        "show", lambda args: print(load_result(args.result, argument="result")), help=""
    )
    p.add_argument("result")
    assert app.run(["show", str(tmp_path / "result.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"demo: error: result: result file {str(tmp_path / 'result.json')!r}")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_quiet_silences_progress_during_the_command_only() -> None:
    seen: dict[str, argparse.Namespace] = {}
    app = make_app(seen)
    assert not is_quiet()
    app.run(["bench", "--quiet"])
    assert seen["bench:quiet"] is True
    assert not is_quiet()  # restored afterwards
    app.run(["bench"])
    assert seen["bench:quiet"] is False


def test_progress_goes_to_stderr_and_quiet_disables_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert list(progress(range(3), desc="steps")) == [0, 1, 2]
    captured = capsys.readouterr()
    assert "steps" in captured.err and captured.out == ""
    set_quiet(True)
    try:
        bar = progress(range(3), desc="hidden")
        assert bar.disable
        assert list(bar) == [0, 1, 2]
    finally:
        set_quiet(False)
    assert "hidden" not in capsys.readouterr().err
    with progress(total=2, desc="manual") as bar:
        bar.update(2)
    assert "manual" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("register", "match"),
    [
        (lambda app: app.add_command("a", lambda args: None, help=""), "already registered"),
        (
            lambda app: app.add_command("b", lambda args: None, help="", common=("verbose",)),
            "common must be a subset",
        ),
        (
            lambda app: app.add_output_argument(
                app.add_command("c", print, help=""), suffixes=["json"]
            ),
            "suffixes must be strings starting with '.'",
        ),
    ],
    ids=["duplicate", "unknown-flag", "suffix-without-dot"],
)
def test_a_registration_mistake_is_a_bug_not_bad_input(register, match: str) -> None:  # type: ignore[no-untyped-def]
    app = App("demo", version="0")
    app.add_command("a", lambda args: None, help="")
    with pytest.raises(ValueError, match=match) as info:
        register(app)
    assert type(info.value) is ValueError


def test_common_flags_are_the_documented_ones() -> None:
    assert cli.COMMON_FLAGS == ("seed", "device", "out", "quick", "quiet")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery is POSIX here")
def test_a_real_ctrl_c_exits_130_without_a_traceback() -> None:
    # A process started from a background job inherits SIGINT as ignored (CI runs that way), and
    # Python then installs no KeyboardInterrupt handler: restore the interactive default first.
    script = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from sciml_core.cli import App\n"
        "def wait(args):\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(60)\n"
        "app = App('demo', version='0')\n"
        "app.add_command('wait', wait, help='')\n"
        "sys.exit(app.run(['wait']))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130
    assert err.strip() == "demo: interrupted"


@pytest.mark.parametrize("command", ["reproduce", "bench"])
def test_a_package_states_its_own_quick_run_in_the_help(command):
    app = App("demo", version="0.1.0")
    add = app.add_reproduce if command == "reproduce" else app.add_bench
    parser = add(lambda args: 0, quick_help="about 75 s on one thread")
    quick = next(a for a in parser._actions if "--quick" in a.option_strings)
    assert quick.help == "about 75 s on one thread"
    default = App("demo", version="0.1.0").add_reproduce(lambda args: 0)
    generic = next(a for a in default._actions if "--quick" in a.option_strings)
    assert "under a minute" in generic.help


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["bench", "--seed", "-1"], "non-negative integer"),
        (["plain", "--seed", "1"], "unrecognized arguments: --seed 1"),
        (["reproduce", "--quick", "--full"], "not allowed with argument"),
        (["no-such-command"], "invalid choice"),
    ],
)
def test_a_usage_error_is_one_line_on_stderr_and_exit_2(capsys, argv, needle):
    assert make_app({}).run(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("demo") and needle in lines[0] and "--help" in lines[0]
