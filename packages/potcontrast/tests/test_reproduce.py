"""``potcontrast reproduce --quick`` writes a valid result whose exact claims hold."""

from __future__ import annotations

import json

from potcontrast._reproduce import reproduce
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
    for fig in data["figures"]:
        assert (tmp_path / fig["file"]).stat().st_size > 1000
