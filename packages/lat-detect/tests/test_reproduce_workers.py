"""``reproduce --workers 2`` writes the same tables and claims as ``--workers 1``, to the bit
(tiny full-protocol config: two seeds, every method, two learning rates, two fine-tune
lengths, the SFF ablation), and figures registered in the result."""

import json

import pytest
from lat_detect._experiments.config import METHODS, Config
from lat_detect._experiments.figures import FIGURES
from lat_detect._experiments.reproduce import reproduce

TINY = Config(
    mode="full",
    target_train=4,
    target_val=4,
    target_test=4,
    source_size=4,
    specialist_steps=2,
    transfer_steps=2,
    transfer_batch=1,
    union_steps=2,
    lr_grid=(1e-3, 2e-3),
    ft_grid=(1, 2),
    methods=METHODS,
    seeds=(0, 1),
    sff_ablation=True,
)

#: Tables with wall-clock columns (compared without them).
TIMED = {"lat_stages"}


def _run(tmp_path, workers):
    out = tmp_path / f"w{workers}"
    path = reproduce(out, quick=False, seed=0, workers=workers, config=TINY)
    return json.loads(path.read_text()), out


@pytest.mark.slow
def test_two_workers_give_bitwise_the_same_tables_and_claims_as_one(tmp_path):
    one, out1 = _run(tmp_path, 1)
    two, out2 = _run(tmp_path, 2)
    assert [t["id"] for t in one["tables"]] == [t["id"] for t in two["tables"]]
    for a, b in zip(one["tables"], two["tables"], strict=True):
        if a["id"] not in TIMED:
            assert a == b, a["id"]
    assert one["claims"] == two["claims"]
    methods = {row[1] for t in one["tables"] if t["id"] == "downstream_ap" for row in t["rows"]}
    assert methods == set(METHODS)
    for res, out in ((one, out1), (two, out2)):
        files = [f["file"] for f in res["figures"]]
        assert files == list(FIGURES)
        assert all((out / f).stat().st_size > 0 for f in files)


def test_every_extended_ablation_is_a_setting_of_the_transfer_model():
    from lat_detect._experiments.config import EXTENDED
    from lat_detect._experiments.transfer import EXTENDED_ABLATIONS, _lat_config, ablations

    assert list(ablations(EXTENDED)) == ["lat-no-sff", *EXTENDED_ABLATIONS]
    assert EXTENDED.seeds == (0, 1, 2) and ablations(TINY) == {"lat-no-sff": {"sff": False}}
    for changes in EXTENDED_ABLATIONS.values():
        changes = {k: v for k, v in changes.items() if k != "backbone"}
        cfg = _lat_config(EXTENDED, **changes).as_dict()
        assert all(cfg[k] == v for k, v in changes.items())


@pytest.mark.slow
def test_the_extended_ablations_each_add_a_transfer_label_row(tmp_path):
    from dataclasses import replace

    from lat_detect._experiments.transfer import EXTENDED_ABLATIONS

    tiny = replace(TINY, seeds=(0,), extended_ablations=True)
    path = reproduce(tmp_path, quick=False, seed=0, studies=["transfer"], config=tiny)
    rows = next(t for t in json.loads(path.read_text())["tables"] if t["id"] == "transfer_labels")
    names = [r[1] for r in rows["rows"]]
    assert names == ["lat", "pseudo-label", "naive-merge", "lat-no-sff", *EXTENDED_ABLATIONS]
    assert all(0 <= r[6] <= 1 for r in rows["rows"])


def test_the_api_refuses_extended_with_quick_before_any_work(tmp_path):
    from sciml_core import InputError

    out = tmp_path / "out"
    with pytest.raises(InputError, match="extended"):
        reproduce(out, quick=True, extended=True, seed=0, device="cpu")
    assert not out.exists()
