"""The README's first example runs as printed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not README.is_file():
        pytest.skip("README.md not next to the tests")
    match = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert match is not None
    monkeypatch.chdir(tmp_path)
    exec(compile(match.group(1), str(README), "exec"), {})
    data = json.loads((tmp_path / "demo-out" / "result.json").read_text())
    assert data["claims"][0]["holds"] is True
    assert data["tables"][0]["rows"][0][0] == pytest.approx(40.0)


def test_readme_weights_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    if not README.is_file():
        pytest.skip("README.md not next to the tests")
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Loading weights that others trained") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(match.group(1), str(README), "exec"), namespace)
    report = namespace["report"]
    assert report.fraction == 1.0 and report.container == "model_state_dict"  # type: ignore[attr-defined]
    assert str(report).startswith("loaded 4 of 4 module entries (100.0%) from 'model_state_dict'")
