"""``reproduce --workers N`` (through ``sciml_core.run_jobs``, tested there): bad counts are
refused before any work, and two single-threaded workers write the same numbers as one."""

import json
from dataclasses import replace

import pytest
from brain_hyda._experiments.config import METHODS
from brain_hyda._experiments.reproduce import reproduce
from brain_hyda.cli import main

from sciml_core import InputError


@pytest.mark.parametrize("workers", [0, -1, True, 1.5])
def test_reproduce_refuses_bad_workers_before_any_work(workers, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(InputError, match="workers: expected an integer >= 1"):
        reproduce(out, quick=True, seed=0, workers=workers)
    assert not out.exists()


@pytest.mark.parametrize("value", ["0", "two"])
def test_the_cli_refuses_bad_workers_with_exit_2(value, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["reproduce", "--quick", "--workers", value, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1
    assert "--workers" in err and "expected an integer >= 1" in err
    assert not out.exists()


def _tables(path):
    """Tables without their wall-clock columns, and the claims."""
    data = json.loads(path.read_text())
    tables = {}
    for t in data["tables"]:
        keep = [i for i, c in enumerate(t["columns"]) if c != "seconds"]
        tables[t["id"]] = [[row[i] for i in keep] for row in t["rows"]]
    return tables, data["claims"]


@pytest.mark.slow  # spawns 2 workers four times (each imports torch)
def test_two_workers_write_the_same_numbers_as_one(tmp_path, tiny_full):
    config = replace(tiny_full, lrs={m: (1e-3, 3e-3) for m in METHODS}, controls=True)
    one = _tables(reproduce(tmp_path / "w1", quick=False, seed=0, config=config, workers=1))
    two = _tables(reproduce(tmp_path / "w2", quick=False, seed=0, config=config, workers=2))
    assert list(one[0]) == list(two[0])
    assert {"tuning", "segmentation", "classification_tuning", "classification"} <= set(one[0])
    for name in one[0]:
        assert one[0][name] == two[0][name], name
    assert one[1] == two[1]
