import numpy as np
import pytest
import torch
from brain_hyda import load_patient, load_volume, normalize, save_volume, sliding_window

from sciml_core import InputError

nib = pytest.importorskip("nibabel", reason="nibabel ([nifti] extra) not installed")

AFFINE = np.array(
    [[0.0, -1.2, 0.0, 10.0], [0.9, 0.0, 0.0, -5.0], [0.0, 0.0, 2.0, 3.5], [0, 0, 0, 1]]
)


def _write(path, array, affine=AFFINE):
    nib.save(nib.Nifti1Image(np.asarray(array, dtype=np.float32), affine), str(path))
    return path


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_nifti_round_trip_keeps_array_and_affine(tmp_path, suffix):
    arr = np.random.default_rng(0).integers(0, 3, (5, 6, 7)).astype(np.int16)
    src = load_volume(_write(tmp_path / f"in{suffix}", arr))
    save_volume(arr, src, tmp_path / f"out{suffix}")
    back = load_volume(tmp_path / f"out{suffix}")
    assert np.array_equal(back.array, arr)
    assert np.allclose(back.affine, AFFINE, atol=1e-6)
    assert np.allclose(back.spacing, (0.9, 1.2, 2.0), atol=1e-6)


def test_one_patch_sliding_window_equals_the_direct_forward():
    conv = torch.nn.Conv3d(2, 3, 3, padding=1)
    vols = {"a": torch.randn(1, 1, 8, 8, 8), "b": torch.randn(1, 1, 8, 8, 8)}

    def f(v):
        return conv(torch.cat([v["a"], v["b"]], 1))

    with torch.no_grad():
        out = sliding_window(f, vols, patch=8, show_progress=False)
        assert torch.allclose(out, f(vols), atol=1e-6)


def test_sliding_window_of_a_pointwise_model_is_exact_everywhere():
    # a pointwise model gives the same value from every window: the weighted mean is exact
    vols = {"a": torch.randn(1, 1, 13, 9, 11)}
    with torch.no_grad():
        out = sliding_window(
            lambda v: 2 * v["a"] + 1, vols, patch=6, overlap=0.5, show_progress=False
        )
    assert out.shape == (1, 1, 13, 9, 11)
    assert torch.allclose(out, 2 * vols["a"] + 1, atol=1e-5)


def test_normalize_zscores_the_non_zero_voxels():
    x = np.zeros((4, 4, 4))
    x[1:3, 1:3, 1:3] = np.arange(8).reshape(2, 2, 2) + 1.0
    y = normalize(x)
    assert np.all(y[x == 0] == 0)
    assert abs(y[x != 0].mean()) < 1e-6 and abs(y[x != 0].std() - 1) < 1e-5


def _pair(tmp_path, second=None, affine2=AFFINE):
    a = _write(tmp_path / "t1.nii.gz", np.ones((6, 6, 6)))
    b = _write(tmp_path / "flair.nii.gz", np.ones((6, 6, 6)) if second is None else second, affine2)
    return [a, b]


@pytest.mark.parametrize(
    "case,match",
    [
        ("shape", r"has shape \(6, 6, 6\) but .* has \(6, 6, 5\)"),
        ("spacing", "spacing"),
        ("affine", "affines"),
        ("nan", "NaN or infinite"),
        ("missing", "a missing sequence"),
    ],
)
def test_bad_patients_are_refused_naming_the_files(tmp_path, case, match):
    mods = ["T1", "FLAIR"]
    if case == "shape":
        paths = _pair(tmp_path, np.ones((6, 6, 5)))
    elif case == "spacing":
        paths = _pair(tmp_path, affine2=np.diag([1.0, 1.0, 3.0, 1.0]) @ AFFINE)
    elif case == "affine":
        moved = AFFINE.copy()
        moved[0, 3] += 4
        paths = _pair(tmp_path, affine2=moved)
    elif case == "nan":
        bad = np.ones((6, 6, 6))
        bad[1, 2, 3] = np.nan
        paths = _pair(tmp_path, bad)
    else:
        paths = _pair(tmp_path)[:1]
    with pytest.raises(InputError, match=match):
        load_patient(paths, mods)


def test_a_corrupt_nifti_is_one_input_error(tmp_path):
    p = tmp_path / "bad.nii.gz"
    p.write_bytes(b"not a nifti file at all")
    with pytest.raises(InputError, match=r"bad\.nii\.gz"):
        load_volume(p, argument="VOLUMES")
