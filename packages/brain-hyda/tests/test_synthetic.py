import numpy as np
import pytest
from brain_hyda import synthetic_brains


def test_generator_is_seeded_and_prefix_stable():
    a = synthetic_brains(3, size=16, seed=4)
    b = synthetic_brains(5, size=16, seed=4)
    c = synthetic_brains(2, size=16, seed=4, start=1)
    assert np.array_equal(a["volumes"]["FLAIR"], b["volumes"]["FLAIR"][:3])
    assert np.array_equal(a["labels"][1:], c["labels"])
    assert not np.array_equal(
        a["volumes"]["T1"], synthetic_brains(3, size=16, seed=5)["volumes"]["T1"]
    )


def test_lesions_in_white_matter_and_look_alikes_in_grey_matter():
    d = synthetic_brains(12, size=32, seed=0)
    lw, lg = d["lesion_in_white"], d["lookalike_in_grey"]
    assert np.isfinite(lw).sum() >= 6 and np.nanmin(lw) >= 0.8
    assert np.isfinite(lg).sum() >= 6 and np.nanmin(lg) >= 0.99


def test_exactly_one_modality_is_corrupted_per_target_subject():
    d = synthetic_brains(20, size=16, seed=1)
    assert set(d["corruption"].tolist()) <= {0, 1}
    assert len(set(d["corruption"].tolist())) == 2
    assert set(synthetic_brains(5, size=16, seed=1, corrupt=0.0)["corruption"].tolist()) == {-1}


@pytest.mark.parametrize(
    "preset,mods,classes",
    [
        ("pretrain", ["T1", "FLAIR", "T2"], 5),
        ("segmentation", ["T1", "FLAIR"], 2),
        ("classification", ["T1", "PET"], 2),
    ],
)
def test_presets_give_their_sequences_and_label_sets(preset, mods, classes):
    d = synthetic_brains(4, preset=preset, size=16, seed=0)
    assert d["modalities"] == mods
    assert d["labels"].max() < classes
    for m in mods:
        v = d["volumes"][m]
        brain = v != 0
        assert abs(v[brain].mean()) < 1e-4  # z-scored inside the brain


def test_classification_balances_disease_and_control():
    d = synthetic_brains(8, preset="classification", size=16, seed=0)
    assert d["patient_labels"].tolist() == [0, 1] * 4
