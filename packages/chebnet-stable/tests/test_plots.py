"""The long-range figures are drawn from their tables' rows, so a saved result can be redrawn."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("matplotlib")

from chebnet_stable._experiments.plots import redraw

MODELS = ["MLP", "ChebNet", "Stable-ChebNet", "Stable-ChebNet, Cayley step (ours)"]


def _result(tmp_path):
    tables = [
        {
            "id": "barbell",
            "rows": [
                [n, m, 0.5 + i, 0.1, 60, 1.0, "—"] for n in (10, 25) for i, m in enumerate(MODELS)
            ],
        },
        {"id": "ring", "rows": [[n, m, 1.0, 50, 1.0] for n in (10, 20) for m in MODELS]},
        {
            "id": "transfer",
            "rows": [
                [t, d, m, 0.1, 0.0 if m == "MLP" else 0.01, 40, "—"]
                for t in ("line", "ring")
                for d in (5, 10)
                for m in MODELS
            ],
        },
        {"id": "epochs", "rows": [["barbell", 60]]},
    ]
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"tables": tables}), encoding="utf-8")
    return path


def test_redraw_writes_one_png_per_long_range_table(tmp_path):
    out = tmp_path / "figs"
    out.mkdir()
    written = redraw(_result(tmp_path), out, prefix="full_")
    assert sorted(p.name for p in written) == [
        "full_barbell.png",
        "full_ring.png",
        "full_transfer.png",
    ]
    for p in written:
        assert p.read_bytes()[:4] == b"\x89PNG"
