"""Committed results are valid schema-1 results; the long-horizon claims follow the numbers."""

import copy
import json
from pathlib import Path

import pytest
from dsp_prior._experiments.horizon_sweep import result_from_runs

from sciml_core import validate_result

RESULTS = Path(__file__).resolve().parents[1] / "results"
COMMITTED = sorted(RESULTS.glob("*.json")) if RESULTS.is_dir() else []


@pytest.mark.skipif(not COMMITTED, reason="no results/ beside the tests (isolated wheel test)")
@pytest.mark.parametrize("path", COMMITTED, ids=[p.name for p in COMMITTED])
def test_committed_result_is_valid_and_says_how_it_was_made(path):
    data = json.loads(path.read_text())
    assert validate_result(data) == []
    assert data["package"] == "dsp-prior" and data["meta"]["quick"] is False
    assert all(data["meta"].get(key) for key in ("commit", "machine", "note"))


def _run(final, peak, peak_it, es_psnr):
    its = [25 * (i + 1) for i in range(4)]
    return {
        "final_psnr": final, "final_ssim": 0.5, "ema_psnr": final, "oracle_peak_psnr": peak,
        "oracle_peak_iteration": peak_it, "peak_to_final_drop": peak - final,
        "eswmv": {"100/1000": {"iteration": peak_it, "psnr": es_psnr, "fired": True}},
        "seconds_per_iteration": 0.05,
        "psnr_curve": {"iteration": its, "psnr": [final - 1, peak, final, final]},
    }  # fmt: skip


SETTINGS = {"image": "camera", "size": 64, "horizon": 100, "k0": 0.15, "seed": 0}


def _claims(dsp_final, dsp_peak):
    runs = {"dip": _run(21.0, 26.0, 25, 25.2), "dsp": _run(dsp_final, dsp_peak, 75, 24.9)}
    data = result_from_runs(runs, SETTINGS, seed=0).to_dict()
    assert validate_result(data) == []
    return {c["name"][:2]: c["holds"] for c in data["claims"]}


@pytest.mark.parametrize(
    "dsp_final, dsp_peak, no_early_stopping",
    [(24.8, 25.85, False), (25.7, 25.85, True), (25.85, 25.85, True), (25.5, 25.8, False)],
)
def test_no_early_stopping_claim_holds_only_within_0_3_db_of_the_peak(
    dsp_final, dsp_peak, no_early_stopping
):
    assert _claims(dsp_final, dsp_peak)["4."] is no_early_stopping


@pytest.mark.parametrize("dsp_final, beats_eswmv", [(24.8, False), (25.3, True)])
def test_eswmv_claim_compares_dsp_final_with_dip_stopped_by_eswmv(dsp_final, beats_eswmv):
    assert _claims(dsp_final, 26.5)["5."] is beats_eswmv


def test_sweep_result_refuses_curves_logged_at_other_iterations():
    dsp = _run(24.0, 25.0, 50, 24.0)
    other = copy.deepcopy(dsp)
    other["psnr_curve"]["iteration"] = [10, 20, 30, 40]
    with pytest.raises(ValueError, match="same iterations"):
        result_from_runs({"dip": dsp, "dsp": other}, SETTINGS, seed=0)
