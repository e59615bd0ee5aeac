from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import sciml_core.cli as cli
from sciml_core import InputError, MissingExtraError
from sciml_core.cli import App, check_output, is_quiet, progress, set_quiet


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


def test_output_is_checked_before_the_command_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, argparse.Namespace] = {}
    app = make_app(seen)
    target = tmp_path / "out.txt"
    assert app.run(["write", "5", "-o", str(target)]) == 0
    assert seen["write"].output == target and seen["write"].value == 5
    target.write_text("precious")
    seen.clear()
    assert app.run(["write", "6", "--output", str(target)]) == 2
    assert "write" not in seen  # refused before running
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert app.run(["write", "6", "-o", str(target), "--overwrite"]) == 0
    assert seen["write"].overwrite is True
    assert app.run(["write", "6", "-o", str(tmp_path / "no" / "x.txt")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert app.run(["write", "6"]) == 2  # -o is required
    assert "-o/--output" in capsys.readouterr().err


def test_out_that_is_a_file_is_refused_before_the_command_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, argparse.Namespace] = {}
    app = make_app(seen)
    blocker = tmp_path / "results"
    blocker.write_text("a user's file")
    assert app.run(["reproduce", "--quick", "--out", str(blocker)]) == 2
    assert "reproduce" not in seen
    assert "is a file; --out takes a folder" in capsys.readouterr().err
    assert blocker.read_text() == "a user's file"
    assert app.run(["reproduce", "--out", str(tmp_path / "new-folder")]) == 0


def test_check_output(tmp_path: Path) -> None:
    new = tmp_path / "new.png"
    assert check_output(new, overwrite=False) == new
    new.write_bytes(b"")
    with pytest.raises(InputError, match="exists; pass --overwrite"):
        check_output(new, overwrite=False)
    assert check_output(str(new), overwrite=True) == new
    with pytest.raises(InputError, match="is a folder"):
        check_output(tmp_path, overwrite=True)
    with pytest.raises(InputError, match="does not exist"):
        check_output(tmp_path / "a" / "b.png", overwrite=False)


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


def test_registration_errors() -> None:
    app = App("demo", version="0")
    app.add_command("a", lambda args: None, help="")
    with pytest.raises(InputError, match="already registered"):
        app.add_command("a", lambda args: None, help="")
    with pytest.raises(InputError, match="common must be a subset"):
        app.add_command("b", lambda args: None, help="", common=("seed", "verbose"))
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
