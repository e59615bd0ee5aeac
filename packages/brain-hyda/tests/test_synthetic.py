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


def _smoothed_std_ratio(kind):
    from brain_hyda._synthetic import _corrupt
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(0)
    brain = np.ones((24, 24, 24), bool)
    noise = _corrupt(np.zeros(brain.shape), brain, rng, kind, 0.6, 1.5)
    inner = (slice(4, -4),) * 3  # away from the filter's boundary
    return noise[inner].std(), gaussian_filter(noise, 1.0)[inner].std() / noise[inner].std()


@pytest.mark.parametrize("kind", ["white", "correlated"])
def test_corruption_noise_has_the_stated_std(kind):
    std, _ = _smoothed_std_ratio(kind)
    assert std == pytest.approx(0.6, rel=0.08)


@pytest.mark.parametrize("kind,low,high", [("white", 0.0, 0.25), ("correlated", 0.6, 1.0)])
def test_correlated_corruption_survives_lesion_scale_smoothing(kind, low, high):
    # The headroom setting's premise: white noise averages away at a lesion's scale (a frozen
    # encoder sees through it), lesion-sized blobs do not (they look like lesions).
    _, kept = _smoothed_std_ratio(kind)
    assert low <= kept <= high


def _lesion_cnr(volume, lesion):
    from scipy.ndimage import binary_dilation, gaussian_filter

    v = gaussian_filter(volume, 1.0)
    ring = binary_dilation(lesion, iterations=2) & ~lesion & (volume != 0)
    return (v[lesion].mean() - v[ring].mean()) / v[ring].std()


@pytest.mark.parametrize("kind,noise", [("white", 0.8), ("correlated", 0.6)])
def test_corrupted_flair_loses_its_lesion_contrast(kind, noise):
    d = synthetic_brains(30, size=24, seed=0, start=600, corrupt_kind=kind, corrupt_noise=noise)
    cnr = {0: [], 1: []}
    for i in range(30):
        lesion = d["labels"][i].astype(bool)
        if lesion.sum() >= 3:
            cnr[int(d["corruption"][i] == 1)].append(
                _lesion_cnr(d["volumes"]["FLAIR"][i, 0], lesion)
            )
    assert len(cnr[0]) >= 5 and len(cnr[1]) >= 5
    assert np.mean(cnr[1]) <= 0.25 * np.mean(cnr[0])


def test_corruption_kind_changes_only_the_corrupted_sequence():
    a = synthetic_brains(6, size=16, seed=2)
    b = synthetic_brains(6, size=16, seed=2, corrupt_kind="correlated", corrupt_noise=0.6)
    assert np.array_equal(a["labels"], b["labels"])
    assert np.array_equal(a["corruption"], b["corruption"])
    for i, which in enumerate(a["corruption"]):
        clean, bad = ("FLAIR", "T1") if which == 0 else ("T1", "FLAIR")
        assert np.array_equal(a["volumes"][clean][i], b["volumes"][clean][i])
        assert not np.array_equal(a["volumes"][bad][i], b["volumes"][bad][i])


def test_default_corruption_is_the_specs():
    a = synthetic_brains(3, size=16, seed=3)
    b = synthetic_brains(
        3, size=16, seed=3, corrupt_kind="white", corrupt_noise=0.8, corrupt_blur=1.5
    )
    assert all(np.array_equal(a["volumes"][m], b["volumes"][m]) for m in a["volumes"])


@pytest.mark.parametrize(
    "kwargs,argument",
    [
        ({"corrupt_kind": "pink"}, "corrupt_kind"),
        ({"corrupt_noise": -0.1}, "corrupt_noise"),
        ({"corrupt_noise": float("nan")}, "corrupt_noise"),
        ({"corrupt_blur": float("inf")}, "corrupt_blur"),
    ],
)
def test_bad_corruption_knobs_are_refused_by_name(kwargs, argument):
    from sciml_core import InputError

    with pytest.raises(InputError, match=argument):
        synthetic_brains(2, size=16, seed=0, **kwargs)
