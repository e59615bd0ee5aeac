"""``potcontrast reproduce --quick`` writes a valid result whose exact claims hold; the registry,
the configurations and the study selection behave as documented."""

from __future__ import annotations

import dataclasses
import json

import pytest

from potcontrast._experiments.config import FULL, QUICK, config_for
from potcontrast._experiments.registry import STUDIES
from potcontrast._experiments.reproduce import reproduce
from sciml_core import InputError, validate_result


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One quick run for every test of this module: ``(result dict, output folder)``."""
    out = tmp_path_factory.mktemp("reproduce")
    path = reproduce(out, quick=True, seed=0)
    return json.loads(path.read_text()), out


def _tables(data):
    return {t["id"]: t for t in data["tables"]}


def test_quick_result_is_valid(quick_run):
    data, _ = quick_run
    assert validate_result(data) == []


def test_exact_claims_hold(quick_run):
    data, _ = quick_run
    claims = {c["name"].split(":")[0]: c for c in data["claims"]}
    exact = [c for name, c in claims.items() if name.startswith(("NPC equals", "NPC is"))]
    assert len(exact) == 3 and all(c["holds"] for c in exact)


def test_equalities_hold_to_round_off(quick_run):
    data, _ = quick_run
    assert max(r[1] for r in _tables(data)["equalities"]["rows"]) <= 1e-12


def test_format_independence_is_bit_for_bit(quick_run):
    data, _ = quick_run
    npcs = {r[2] for r in _tables(data)["format_independence"]["rows"]}
    assert len(npcs) == 1


def test_observed_values_are_written_for_humans(quick_run):
    data, _ = quick_run
    for c in data["claims"]:  # no 0.5920000000000001
        assert "0000000" not in str(c["observed"]) and "9999999" not in str(c["observed"])


def test_ranking_claim_does_not_hold_by_tie_breaking(quick_run):
    # with ties for NPC_2's best band, the ranking claim must not hold by tie-breaking alone
    data, _ = quick_run
    bands = _tables(data)["manuscript_bands"]["rows"]
    npc2, npc3 = [r[1] for r in bands], [r[3] for r in bands]
    best3 = max(range(len(npc3)), key=lambda b: npc3[b])
    rank = next(c for c in data["claims"] if c["name"].startswith("Two-class and three-class"))
    assert rank["holds"] == (npc2[best3] < max(npc2))


def test_figures_are_written(quick_run):
    data, out = quick_run
    assert data["figures"]
    for fig in data["figures"]:
        assert (out / fig["file"]).stat().st_size > 1000


def test_tables_come_in_registry_order(quick_run):
    data, _ = quick_run
    expected = [
        "equalities",
        "manuscript_bands",
        "manuscript_derived",
        "format_independence",
        "transform_invariance",
        "bias_null",
        "convergence",
        "speed",
    ]
    assert [t["id"] for t in data["tables"]] == expected
    assert list(STUDIES) == [
        "equalities",
        "manuscript_bands",
        "manuscript_derived",
        "format_independence",
        "transform_invariance",
        "bias_convergence",
        "speed",
    ]


def test_a_single_study_gives_the_same_numbers_as_the_whole_run(quick_run, tmp_path):
    data, _ = quick_run
    alone = json.loads(
        reproduce(tmp_path, quick=True, seed=0, studies=["format_independence"]).read_text()
    )
    assert [t["id"] for t in alone["tables"]] == ["format_independence"]
    assert alone["tables"][0] == _tables(data)["format_independence"]


def test_unknown_study_is_refused_before_any_work(tmp_path):
    with pytest.raises(InputError, match=r"studies: unknown \['nope'\]"):
        reproduce(tmp_path / "out", quick=True, seed=0, studies=["nope"])
    assert not (tmp_path / "out").exists()


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        QUICK.equality_cases = 1


def test_quick_is_a_smaller_run_with_the_same_seeds():
    assert config_for(True) is QUICK and config_for(False) is FULL
    seeds = [f.name for f in dataclasses.fields(QUICK) if f.name.endswith(("_index", "_section"))]
    assert len(seeds) == 6
    assert all(getattr(QUICK, name) == getattr(FULL, name) for name in seeds)
    assert QUICK.manuscript_size < FULL.manuscript_size
    assert QUICK.equality_cases < FULL.equality_cases
    assert set(QUICK.bias_cells) <= set(FULL.bias_cells)
