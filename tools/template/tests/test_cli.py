import json

from sciml_core import validate_result

from {{module}}.cli import main


def test_reproduce_stub_writes_a_valid_result_that_says_it_is_a_stub(tmp_path):
    assert main(["reproduce", "--quick", "--out", str(tmp_path), "--quiet"]) == 0
    data = json.loads((tmp_path / "result.json").read_text())
    assert validate_result(data) == []
    assert [c["holds"] for c in data["claims"]] == [False]
    assert "stub" in data["claims"][0]["observed"]


def test_bench_stub_is_a_clear_input_error(capsys):
    assert main(["bench", "--quiet"]) == 2
    assert "not implemented" in capsys.readouterr().err
