"""The README's first example runs and does what it says (exact mass after training)."""

import contextlib
import io
import re
from pathlib import Path

import pytest


def test_readme_example_runs_and_conserves():
    readme = Path(__file__).resolve().parents[1] / "README.md"
    if not readme.exists():  # the isolated wheel test copies only the tests folder
        pytest.skip("README.md is not next to the tests")
    text = readme.read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    assert len(code.strip().splitlines()) < 20
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        exec(compile(code, "README.md", "exec"), {})
    assert float(buf.getvalue().strip()) < 1e-6
