"""The stdlib tools behind nox and CI: summary line, report, package graph, uv environment."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOOLS))

import new_package  # noqa: E402
import report  # noqa: E402
import summary  # noqa: E402
import uvenv  # noqa: E402

import packages as pk  # noqa: E402

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def _junit(path: Path, tests: int, failures: int, errors: int, skipped: int) -> None:
    path.write_text(
        f'<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="{tests}" '
        f'failures="{failures}" errors="{errors}" skipped="{skipped}"></testsuite></testsuites>'
    )


def test_summary_sums_runs_and_counts_collection_errors_and_crashes_as_failures(tmp_path):
    _junit(tmp_path / "a.xml", tests=10, failures=1, errors=0, skipped=2)
    _junit(tmp_path / "b.xml", tests=5, failures=0, errors=2, skipped=0)
    (tmp_path / "c.crashed").write_text("no xml\n")
    counts = summary.count(tmp_path)
    assert (counts.passed, counts.failed, counts.skipped) == (7 + 3, 1 + 2 + 1, 2)
    assert summary.line(counts) == "10 passed, 4 failed, 2 skipped"


def test_summary_of_nothing_is_zero_so_ci_can_refuse_it(tmp_path):
    assert summary.count(tmp_path / "missing").total == 0


def test_report_without_packages_says_so(tmp_path):
    assert report.main([str(tmp_path)]) == 0
    page = (tmp_path / "index.html").read_text()
    assert "No method package yet" in page
    assert "No method package" in (tmp_path / "README.md").read_text()


def _result(claims):
    return {
        "schema": 1,
        "package": "demo",
        "version": "0.1.0",
        "meta": {"seed": 0, "device": "cpu", "threads": 1, "torch": None, "python": "3.11",
                 "command": "demo reproduce", "wall_s": 1.5, "quick": True},
        "tables": [{"id": "t", "title": "Errors", "columns": ["model", "rel L2"],
                    "rows": [["plain", 0.125], ["ours", 1.5e-7]]}],
        "figures": [{"file": "fig.png", "caption": "A figure"}],
        "claims": claims,
    }  # fmt: skip


def test_report_shows_claims_that_fail_visibly_and_embeds_figures(tmp_path):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "fig.png").write_bytes(PNG)
    claims = [
        {"name": "ours beats plain", "expected": "<", "observed": "0.1 < 0.2", "holds": True},
        {"name": "paper ordering", "expected": "a<b", "observed": "a>b", "holds": False},
    ]
    (out / "result.json").write_text(json.dumps(_result(claims)))
    assert report.main([str(tmp_path)]) == 0
    page = (tmp_path / "index.html").read_text()
    assert "1 / 2 hold" in page
    assert "✘ does not hold" in page and "✔ holds" in page
    assert "data:image/png;base64," in page
    assert "1.500e-07" in page
    md = (tmp_path / "README.md").read_text()
    assert "| paper ordering | a<b | a>b | **no** |" in md
    assert "| ours | 1.500e-07 |" in md


def test_report_marks_a_package_whose_reproduce_failed(tmp_path):
    (tmp_path / "broken.log").write_text("Traceback ...\nRuntimeError: boom\n")
    runs = {"mode": "--quick", "runs": [{"package": "broken", "ok": False, "wall_s": 1.0,
                                         "log": "broken.log"}]}  # fmt: skip
    (tmp_path / "runs.json").write_text(json.dumps(runs))
    assert report.main([str(tmp_path)]) == 1
    page = (tmp_path / "index.html").read_text()
    assert "did not write a result" in page and "RuntimeError: boom" in page


def test_closure_puts_dependencies_first_and_cycles_are_named(tmp_path):
    for name in ["aa-core", "bb-method", "cc-method"]:
        new_package.create(tmp_path, name, "x")
    core = pk.discover(tmp_path)
    assert pk.closure("cc-method", core) == ["cc-method"]  # template packages need sciml-core only
    path = tmp_path / "packages/cc-method/pyproject.toml"
    path.write_text(
        path.read_text().replace('"numpy>=1.24",', '"numpy>=1.24", "bb-method>=0.1,<0.2",')
    )
    pkgs = pk.discover(tmp_path)
    assert pk.closure("cc-method", pkgs) == ["bb-method", "cc-method"]
    path = tmp_path / "packages/bb-method/pyproject.toml"
    path.write_text(
        path.read_text().replace('"numpy>=1.24",', '"numpy>=1.24", "cc-method>=0.1,<0.2",')
    )
    with pytest.raises(ValueError, match=r"dependency cycle: .*bb-method.*cc-method"):
        pk.topological(pk.discover(tmp_path))


def test_requirement_parsing():
    assert (
        pk.requirement_name("Torch_Geometric[full]>=2.5 ; python_version>'3'") == "torch-geometric"
    )
    assert pk.requirement_specifier("sciml-core >=0.1, <0.2") == ">=0.1,<0.2"
    assert pk.requirement_specifier("numpy[x]>=1.24; os_name=='posix'") == ">=1.24"


def test_uv_environment_passes_pips_indexes_on_and_pins_the_rest(monkeypatch):
    fake = (
        ":env:.find-links='/a/wheels'\n"
        "global.extra-index-url='file:///x/simple file:///y/simple'\n"
        "global.find-links='/a/wheels /b/wheels'\n"
        "global.index-url='https://mirror.invalid/simple'\n"
    )

    class Done:
        stdout = fake

    monkeypatch.setattr(uvenv.subprocess, "run", lambda *a, **k: Done())
    env = uvenv.uv_environment({})
    assert env["UV_INDEX"] == "file:///x/simple file:///y/simple"
    assert env["UV_FIND_LINKS"] == "/a/wheels,/b/wheels"
    assert env["UV_DEFAULT_INDEX"] == "https://mirror.invalid/simple"
    assert env["UV_PYTHON_DOWNLOADS"] == "never"
    assert env["UV_LINK_MODE"] == "hardlink"
    assert Path(env["UV_CONSTRAINT"]) == pk.ROOT / "constraints" / "torch.txt"
    assert Path(env["UV_CACHE_DIR"]).is_relative_to(pk.ROOT / ".tools")


def test_constraints_pin_the_torch_of_this_project():
    text = (pk.ROOT / "constraints" / "torch.txt").read_text()
    assert "torch==2.14.1" in text and "torchvision==0.29.1" in text


def test_copied_torch_is_refused(tmp_path):
    lib = tmp_path / "torch" / "lib"
    lib.mkdir(parents=True)
    (lib / "libbig.so").write_bytes(b"\0" * (2 << 20))
    (lib / "libsmall.so.1").write_bytes(b"\0" * 10)
    (tmp_path / "small-linked.so").hardlink_to(lib / "libsmall.so.1")
    with pytest.raises(SystemExit, match="instead of hard-linking"):
        uvenv.check_hardlinked(tmp_path)
    (tmp_path / "cache-entry").hardlink_to(lib / "libbig.so")
    uvenv.check_hardlinked(tmp_path)  # the largest library now has two links: accepted
