"""Contracts that cross package boundaries, checked on every package installed together.

Each method package is discovered from packages/, so a new package is covered without editing this
file: its console script, its use of sciml-core's error contract, the sibling range it declares
against the installed sciml-core, and the result its ``reproduce --quick`` writes.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import meta  # noqa: E402

import packages as pk  # noqa: E402

PKGS = pk.discover(ROOT)
METHODS = [name for name in pk.topological(PKGS) if PKGS[name].is_method]
ENV = os.environ | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _script(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@pytest.mark.parametrize("name", pk.topological(PKGS))
def test_installed_version_is_the_source_version(name):
    module = importlib.import_module(PKGS[name].module)
    assert md.version(name) == module.__version__ == PKGS[name].version


@pytest.mark.parametrize("name", METHODS)
def test_declared_core_range_admits_the_installed_core(name):
    ranges = [
        pk.requirement_specifier(r)
        for r in md.requires(name) or []
        if pk.requirement_name(r) == pk.CORE and "extra ==" not in r
    ]
    assert len(ranges) == 1, md.requires(name)
    assert meta.admits(ranges[0], md.version(pk.CORE))


@pytest.mark.parametrize("name", METHODS)
def test_console_script_follows_the_shared_cli_contract(name, tmp_path):
    version = subprocess.run([_script(name), "--version"], capture_output=True, text=True, env=ENV)
    assert version.returncode == 0 and PKGS[name].version in version.stdout + version.stderr
    # An output folder that is an existing file is bad input: exit 2, one line, no traceback.
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("keep me\n")
    bad = subprocess.run(
        [_script(name), "reproduce", "--quick", "--quiet", "--out", str(blocker)],
        capture_output=True, text=True, env=ENV, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 2, bad.stderr
    assert "Traceback" not in bad.stderr and "error" in bad.stderr
    assert blocker.read_text() == "keep me\n"


@pytest.mark.parametrize("name", METHODS)
def test_reproduce_quick_writes_a_valid_result_with_its_figures(name, tmp_path):
    from sciml_core import validate_result

    out = tmp_path / name
    run = subprocess.run(
        [_script(name), "reproduce", "--quick", "--quiet", "--seed", "0", "--out", str(out)],
        capture_output=True, text=True, env=ENV, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    data = json.loads((out / "result.json").read_text())
    assert validate_result(data) == []
    assert data["package"] == name and data["version"] == PKGS[name].version
    assert data["meta"]["quick"] is True and data["meta"]["seed"] == 0
    assert data["claims"], "reproduce must state the paper's claims and whether they hold"
    for figure in data["figures"]:
        assert (out / figure["file"]).stat().st_size > 0
