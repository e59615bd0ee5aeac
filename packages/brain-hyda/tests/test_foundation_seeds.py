import json
import math
import re

import numpy as np
import pytest
from brain_hyda._experiments.foundation_seeds import main, paired_summary, tuned_settings

COLUMNS = ["method", "subjects", "seed", "lr", "steps", "pooled Dice"]


def test_tuned_settings_are_read_per_method_from_the_segmentation_table():
    rows = [
        ["probe", 2, 0, 0.01, 400, 0.3],
        ["scratch", 2, 0, 0.01, 200, 0.2],
        ["hyda, other patient's embedding", 8, 0, 0.001, 200, 0.1],
        ["oracle", 8, 0, 0.01, 200, 0.4],
    ]
    result = {"tables": [{"id": "segmentation", "columns": COLUMNS, "rows": rows}]}
    assert tuned_settings(result) == {"probe": (0.01, 400), "scratch": (0.01, 200)}


def test_a_result_without_the_segmentation_table_is_refused():
    with pytest.raises(ValueError, match="segmentation"):
        tuned_settings({"tables": [{"id": "tuning", "columns": [], "rows": []}]})


@pytest.mark.parametrize("n,t975", [(2, 12.706), (3, 4.303), (8, 2.365), (31, 2.042)])
def test_paired_summary_is_the_student_t_interval(n, t975):
    d = np.random.default_rng(n).normal(0.02, 0.1, n)
    mean, sd, lo, hi = paired_summary(list(d))
    half = t975 * d.std(ddof=1) / math.sqrt(n)  # textbook quantiles, three decimals
    assert mean == pytest.approx(d.mean(), abs=1e-15)
    assert sd == pytest.approx(d.std(ddof=1), abs=1e-15)
    assert (lo, hi) == pytest.approx((d.mean() - half, d.mean() + half), abs=1e-3 * half)


def test_one_draw_has_no_spread():
    mean, sd, lo, hi = paired_summary([0.1])
    assert mean == 0.1 and math.isnan(sd) and math.isnan(lo) and math.isnan(hi)


def _full_result(tmp_path, **meta):
    rows = [["probe", 2, 0, 0.01, 400, 0.3], ["scratch", 2, 0, 0.01, 200, 0.2]]
    data = {
        "meta": {"seed": 0, "quick": False, **meta},
        "tables": [{"id": "segmentation", "columns": COLUMNS, "rows": rows}],
    }
    path = tmp_path / "full.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "change,argv,match",
    [
        (None, ["--setting", "bad"], "argument --setting: expected KIND:NOISE:BLUR"),
        (None, ["--seeds", "1", "1"], "--seeds: two or more distinct seeds"),
        (None, ["--seeds", "3"], "--seeds: two or more distinct seeds"),
        (None, ["--sizes", "0"], "--sizes: each in 1..8"),
        (None, ["--sizes", "16"], "--sizes: each in 1..8"),
        (None, ["--methods", "probe"], "--methods: the gate needs both"),
        ("missing", [], "--full-result: cannot read"),
        ("quick", [], "--full-result: not a brain-hyda --full result \\(a --quick result"),
        ("notjson", [], "--full-result: cannot read"),
    ],
)
def test_bad_arguments_are_one_line_errors_before_any_work(tmp_path, capsys, change, argv, match):
    path = _full_result(tmp_path, quick=change == "quick")
    if change == "missing":
        path = tmp_path / "nothing.json"
    if change == "notjson":
        path.write_text("{")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:
        main(["--full-result", str(path), "--out", str(out), *argv])
    assert e.value.code == 2
    assert re.search(match, capsys.readouterr().err)
    assert not out.exists()
