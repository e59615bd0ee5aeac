"""``potcontrast reproduce --quick`` writes a valid result whose exact claims hold."""

from __future__ import annotations

import json

from potcontrast._experiments import reproduce
from sciml_core import validate_result


def test_reproduce_quick_writes_valid_result_with_exact_claims(tmp_path):
    path = reproduce(tmp_path, quick=True, seed=0)
    data = json.loads(path.read_text())
    assert validate_result(data) == []
    claims = {c["name"].split(":")[0]: c for c in data["claims"]}
    exact = [c for name, c in claims.items() if name.startswith(("NPC equals", "NPC is"))]
    assert len(exact) == 3 and all(c["holds"] for c in exact)
    tables = {t["id"]: t for t in data["tables"]}
    assert max(r[1] for r in tables["equalities"]["rows"]) <= 1e-12
    npcs = {r[2] for r in tables["format_independence"]["rows"]}
    assert len(npcs) == 1  # bit for bit
    # observed values are written for humans (no 0.5920000000000001)
    for c in data["claims"]:
        assert "0000000" not in str(c["observed"]) and "9999999" not in str(c["observed"])
    # with ties for NPC_2's best band, the ranking claim must not hold by tie-breaking alone
    bands = tables["manuscript_bands"]["rows"]
    npc2, npc3 = [r[1] for r in bands], [r[3] for r in bands]
    best3 = max(range(len(npc3)), key=lambda b: npc3[b])
    rank = next(c for c in data["claims"] if c["name"].startswith("Two-class and three-class"))
    assert rank["holds"] == (npc2[best3] < max(npc2))
    for fig in data["figures"]:
        assert (tmp_path / fig["file"]).stat().st_size > 1000
