import itertools
import json

import pytest

from invprob_core.cli import main
from sciml_core import validate_result

GD, UNT = "AR control: lambda=0 (GD on data term)", "AR control: untrained critic"
UNS = "AR control: untrained critic, gradient-normalised"


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One ``reproduce --quick`` run shared by the tests of this module (on the CPU: the default
    ``--device auto`` would train the critics on a GPU where there is one, and these numbers and
    the strict xfail below are the CPU run's)."""
    out = tmp_path_factory.mktemp("quick")
    argv = ["reproduce", "--quick", "--quiet", "--device", "cpu", "--out", str(out)]
    assert main(argv) == 0
    data = json.loads((out / "result.json").read_text())
    rows = next(t for t in data["tables"] if t["id"] == "ct")["rows"]
    levels = sorted({row[0] for row in rows})
    by_level = {lv: {row[1]: row[2] for row in rows if row[0] == lv} for lv in levels}
    return out, data, rows, levels, by_level


@pytest.fixture(scope="module")
def shipped(quick):
    """The quick run's AR table: the shipped critic at its own setting (64x64, 60 angles)."""
    rows = next(t for t in quick[1]["tables"] if t["id"] == "ar_shipped")["rows"]
    levels = sorted({row[0] for row in rows})
    return rows, levels, {lv: {row[1]: row[2] for row in rows if row[0] == lv} for lv in levels}


@pytest.mark.slow
def test_reproduce_quick_records_honest_claims(quick, shipped):
    out, data, rows, levels, by_level = quick
    assert validate_result(data) == []
    for fig in data["figures"]:
        assert (out / fig["file"]).stat().st_size > 0
    assert len(levels) >= 2
    # the robust orderings of the spec, at every noise level
    for ct in by_level.values():
        assert ct["TV-PDHG"] > ct["FBP (Hann)"]
        assert ct["PnP Wiener (discrepancy)"] >= ct["Tikhonov (discrepancy)"]
        assert "AR" not in ct  # --quick measures AR with the shipped critic only
    rows, levels, by_level = shipped
    assert len(levels) >= 2
    for ct in by_level.values():
        assert ct["AR"] > ct["FBP (Hann)"] + 1.0
    claims = {c["name"]: c for c in data["claims"]}
    # the shipped critic separates held-out FBP artefacts from clean images
    assert claims["trained critic separates held-out FBP artefacts from clean images"]["holds"]
    # every claim's `holds` agrees with the numbers it reports, in both directions (no
    # optimistic or pessimistic bookkeeping); table values are rounded to 0.01 dB
    gd, unt = GD, UNT
    gdv = "GD on data term (validation stopping index)"
    for name, other, margin in (
        ("trained AR beats gradient descent on the data term by >= 0.5 dB", gd, 0.5),
        ("trained AR beats the untrained critic by >= 0.5 dB", (unt, UNS), 0.5),
        ("trained AR beats FBP by >= 1 dB", "FBP (Hann)", 1.0),
        (
            "trained AR beats gradient descent on the data term with its own stopping index "
            "(reported, not gated in tests)",
            gdv,
            0.0,
        ),
    ):
        others = other if isinstance(other, tuple) else (other,)
        gaps = [v["AR"] - max(v[o] for o in others) for v in by_level.values()]
        if all(abs(g - margin) > 0.02 for g in gaps):
            assert claims[name]["holds"] is all(g >= margin for g in gaps), name
    # the controls share AR's start, step count and step rule; the stopping index and lambda
    # factor were chosen on validation phantoms, never on the test set
    params = {row[1]: row[6] for row in rows if row[0] == levels[0]}
    steps = params["AR"].split(" GD steps")[0].rsplit(" ", 1)[1]
    assert params[gd].startswith(f"{steps} GD steps") and f", {steps} GD steps" in params[unt]
    assert "chosen on validation" in params[UNS]
    conv = next(t for t in quick[1]["tables"] if t["id"] == "convergence")["rows"]
    a = [r[1] for r in conv]
    b = [r[2] for r in conv]
    assert all(p > q for p, q in itertools.pairwise(a)) and a[-1] <= 0.5 * a[0]
    assert max(b[-3:]) <= 1.01 * min(b[-3:])


@pytest.mark.slow
def test_trained_ar_beats_its_controls_by_half_a_db(shipped):
    # spec acceptance item 12, with the shipped critic (2000 steps at 64x64)
    for ct in shipped[2].values():
        assert ct["AR"] - ct[GD] >= 0.5
        assert ct["AR"] - ct[UNT] >= 0.5
        assert ct["AR"] - ct[UNS] >= 0.5
