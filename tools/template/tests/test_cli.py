import json
import subprocess
import sys

import pytest
from sciml_core import InputError, validate_result

from {{module}}._experiments.reproduce import reproduce
from {{module}}.cli import main


def test_reproduce_stub_writes_a_valid_result_that_says_it_is_a_stub(tmp_path):
    assert main(["reproduce", "--quick", "--out", str(tmp_path), "--quiet"]) == 0
    data = json.loads((tmp_path / "result.json").read_text())
    assert validate_result(data) == []
    assert [c["holds"] for c in data["claims"]] == [False]
    assert "stub" in data["claims"][0]["observed"]


def test_reproduce_refuses_an_unknown_study(tmp_path):
    with pytest.raises(InputError, match="nope"):
        reproduce(tmp_path, quick=True, seed=0, studies=["nope"])
    assert not (tmp_path / "result.json").exists()


def test_bench_stub_is_a_clear_input_error(capsys):
    assert main(["bench", "--quiet"]) == 2
    assert "not implemented" in capsys.readouterr().err


def test_importing_the_package_or_its_cli_does_not_load_the_experiments():
    code = (
        "import sys, {{module}}, {{module}}.cli; "
        "print(any(m.startswith('{{module}}._experiments') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
