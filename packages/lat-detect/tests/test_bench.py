"""The SFF memory table (spec 8): one fresh process per cell; attention is O(M^2)."""

import pytest
from lat_detect._experiments.bench import SFF_SIZES, format_memory, sff_memory


@pytest.mark.slow
def test_sff_memory_grows_with_the_number_of_proposals():
    rows = sff_memory(quick=False)
    assert [r["M"] for r in rows] == list(SFF_SIZES)
    # 1024^2 attention matrices (several, with their gradients) need tens of MiB more than
    # 16^2 ones; the time per call grows too.
    assert rows[-1]["added_mib"] > rows[0]["added_mib"] + 16
    assert rows[-1]["seconds"] > rows[0]["seconds"]
    assert "M =  1024" in format_memory(rows)


@pytest.mark.slow
def test_the_resnet18_rows_time_lat_against_faster_rcnn_at_320():
    from lat_detect._experiments.bench import SETUPS, _setup_rows

    assert SETUPS[1] == ("resnet18", 320, 2)
    rows = _setup_rows("resnet18", 320, 2, quick=True, seed=0)
    assert [("sff=True" in r.label, "inference" in r.label) for r in rows] == [
        (True, False),
        (False, False),
        (True, True),
    ]
    assert all("resnet18 320x320 batch 2" in r.label and r.t_ours > 0 for r in rows)
