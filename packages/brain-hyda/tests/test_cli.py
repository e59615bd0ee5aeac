import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from brain_hyda import build_image_encoder, synthetic_brains
from brain_hyda._experiments.reproduce import reproduce
from brain_hyda.cli import main

from sciml_core import InputError, validate_result

nib = pytest.importorskip("nibabel", reason="nibabel ([nifti] extra) not installed")

AFFINE = np.array([[1.5, 0, 0, -20.0], [0, 1.5, 0, 4.0], [0, 0, 2.0, 7.0], [0, 0, 0, 1]])


def _save(path, arr, affine=AFFINE):
    nib.save(nib.Nifti1Image(np.asarray(arr), affine), str(path))
    return path


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    d = synthetic_brains(2, size=16, seed=0)
    for i in range(2):
        sub = root / f"sub{i}"
        sub.mkdir()
        for m in ("T1", "FLAIR"):
            _save(sub / f"{m}.nii.gz", d["volumes"][m][i, 0])
        _save(sub / "labels.nii.gz", d["labels"][i].astype(np.int16))
    return root


@pytest.fixture(scope="module")
def adapter(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "hyda.pt"
    assert (
        main(
            [
                "adapt",
                str(dataset),
                "--modalities",
                "T1,FLAIR",
                "--steps",
                "2",
                "-o",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    return out


def test_segment_writes_labels_with_the_input_shape_and_affine(dataset, adapter, tmp_path, capsys):
    out = tmp_path / "labels.nii.gz"
    vols = [str(dataset / "sub0" / f"{m}.nii.gz") for m in ("T1", "FLAIR")]
    assert (
        main(
            [
                "segment",
                *vols,
                "--modalities",
                "T1,FLAIR",
                "--model",
                str(adapter),
                "-o",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert captured.out.strip() == f"wrote {out}"
    assert "lesion voxels" not in captured.err  # --quiet silences the information lines
    img = nib.load(str(out))
    assert img.shape == (16, 16, 16)
    assert np.allclose(img.affine, AFFINE)
    assert set(np.unique(np.asarray(img.dataobj)).tolist()) <= {0, 1}


def _bad_case(case, dataset, tmp_path):
    t1 = dataset / "sub0" / "T1.nii.gz"
    fl = dataset / "sub0" / "FLAIR.nii.gz"
    if case == "shape":
        return [t1, _save(tmp_path / "f.nii.gz", np.ones((16, 16, 8), np.float32))], "has shape"
    if case == "spacing":
        return [
            t1,
            _save(
                tmp_path / "f.nii.gz",
                np.ones((16, 16, 16), np.float32),
                np.diag([1.5, 1.5, 3, 1.0]) @ np.eye(4),
            ),
        ], "spacing"
    if case == "nan":
        arr = np.asarray(nib.load(str(fl)).dataobj).copy()
        arr[3, 3, 3] = np.nan
        return [t1, _save(tmp_path / "f.nii.gz", arr)], "NaN"
    if case == "missing":
        return [t1], "a missing sequence"
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["shape", "spacing", "nan", "missing"])
def test_bad_volumes_exit_2_with_one_line_and_no_output(case, dataset, adapter, tmp_path, capsys):
    files, match = _bad_case(case, dataset, tmp_path)
    out = tmp_path / "labels.nii.gz"
    code = main(
        [
            "segment",
            *map(str, files),
            "--modalities",
            "T1,FLAIR",
            "--model",
            str(adapter),
            "-o",
            str(out),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and match in err
    assert not out.exists()


@pytest.mark.parametrize(
    "args,match",
    [
        (["--modalities", "T1,T1"], "repeats"),
        (["--modalities", "T1,T2"], "adapted to T1,FLAIR"),
    ],
)
def test_bad_modalities_exit_2(args, match, dataset, adapter, tmp_path, capsys):
    vols = [str(dataset / "sub0" / f"{m}.nii.gz") for m in ("T1", "FLAIR")]
    code = main(
        ["segment", *vols, *args, "--model", str(adapter), "-o", str(tmp_path / "o.nii.gz")]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and match in err


def test_a_foreign_model_file_exits_2(dataset, tmp_path, capsys):
    bogus = tmp_path / "bogus.pt"
    torch.save({"weight": torch.zeros(2)}, bogus)
    vols = [str(dataset / "sub0" / f"{m}.nii.gz") for m in ("T1", "FLAIR")]
    code = main(
        [
            "segment",
            *vols,
            "--modalities",
            "T1,FLAIR",
            "--model",
            str(bogus),
            "-o",
            str(tmp_path / "o.nii.gz"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "--model" in err


def test_a_checkpoint_that_does_not_match_the_encoder_exits_2(dataset, tmp_path, capsys):
    torch.manual_seed(0)
    wrong = tmp_path / "small_sam.pth"
    torch.save(
        {
            "model_state_dict": {
                f"image_encoder.{k}": v
                for k, v in build_image_encoder("small").state_dict().items()
            }
        },
        wrong,
    )
    out = tmp_path / "m.pt"
    code = main(
        [
            "adapt",
            str(dataset),
            "--modalities",
            "T1,FLAIR",
            "--backbone",
            "tiny",
            "--weights",
            str(wrong),
            "-o",
            str(out),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "--weights" in err and "does not hold this SAM-3D encoder" in err
    assert not out.exists()


def test_existing_output_needs_overwrite(dataset, adapter, tmp_path, capsys):
    out = tmp_path / "o.nii.gz"
    out.write_bytes(b"keep")
    vols = [str(dataset / "sub0" / f"{m}.nii.gz") for m in ("T1", "FLAIR")]
    code = main(
        ["segment", *vols, "--modalities", "T1,FLAIR", "--model", str(adapter), "-o", str(out)]
    )
    assert code == 2 and "--overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"keep"


def test_inspect_weights_reports_what_would_load(tmp_path, capsys):
    enc = build_image_encoder("tiny")
    path = tmp_path / "sam.pth"
    state = {f"module.image_encoder.{k}": v for k, v in enc.state_dict().items()}
    state["module.mask_decoder.iou_token.weight"] = torch.zeros(1, 24)
    torch.save({"model_state_dict": state}, path)
    assert main(["inspect-weights", str(path), "--variant", "tiny"]) == 0
    out = capsys.readouterr().out
    n = len(enc.state_dict())
    assert f"{n} of {n} entries would load" in out and "model_state_dict" in out


@pytest.mark.slow
def test_reproduce_quick_writes_a_valid_result_with_the_quick_claims(tmp_path):
    assert main(["reproduce", "--quick", "--out", str(tmp_path), "--quiet"]) == 0
    data = json.loads((tmp_path / "result.json").read_text())
    assert validate_result(data) == []
    claims = {c["name"]: c["holds"] for c in data["claims"]}
    assert claims == {"zero_init_equals_frozen_model": True, "hyda_trainable_fraction": True}
    assert {t["id"] for t in data["tables"]} >= {"pretraining", "segmentation", "deferred"}
    drawn = {f["file"] for f in data["figures"]}
    assert drawn == {"dice_vs_subjects.png", "case.png", "alpha.png", "hypergraph.png"}
    assert all((tmp_path / f).read_bytes()[:4] == b"\x89PNG" for f in drawn)


def test_reproduce_refuses_an_unknown_study(tmp_path):
    with pytest.raises(InputError, match="nope"):
        reproduce(tmp_path, quick=True, seed=0, studies=["nope"])
    assert not (tmp_path / "result.json").exists()


def test_importing_the_package_loads_no_optional_peer_nor_the_experiments():
    code = (
        "import sys, brain_hyda, brain_hyda.cli; "
        "print(sorted(m for m in ('nibabel', 'monai', 'dhg', 'medim') if m in sys.modules), "
        "any(m.startswith('brain_hyda._experiments') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] False"


def test_segment_with_a_missing_sequence_and_missing_zero(dataset, adapter, tmp_path, capsys):
    out = tmp_path / "labels.nii.gz"
    flair = str(dataset / "sub0" / "FLAIR.nii.gz")
    args = ["segment", flair, "--modalities", "FLAIR", "--model", str(adapter), "-o", str(out)]
    assert main([*args, "--missing", "zero", "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    assert nib.load(str(out)).shape == (16, 16, 16)


@pytest.mark.parametrize("extra", [[], ["--missing", "error"]])
def test_segment_with_a_missing_sequence_exits_2_by_default(
    extra, dataset, adapter, tmp_path, capsys
):
    out = tmp_path / "labels.nii.gz"
    flair = str(dataset / "sub0" / "FLAIR.nii.gz")
    code = main(
        ["segment", flair, "--modalities", "FLAIR", "--model", str(adapter), "-o", str(out), *extra]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "--modalities" in err
    assert not out.exists()


def test_missing_zero_needs_an_adapter_model(dataset, tmp_path, capsys):
    model = tmp_path / "scratch.pt"
    common = ["--modalities", "T1,FLAIR", "--quiet"]
    assert (
        main(
            [
                "adapt",
                str(dataset),
                *common,
                "--method",
                "scratch",
                "--steps",
                "1",
                "-o",
                str(model),
            ]
        )
        == 0
    )
    capsys.readouterr()
    out = tmp_path / "labels.nii.gz"
    flair = str(dataset / "sub0" / "FLAIR.nii.gz")
    code = main(
        [
            "segment",
            flair,
            "--modalities",
            "FLAIR",
            "--model",
            str(model),
            "--missing",
            "zero",
            "-o",
            str(out),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.count("--missing") == 1
    assert not out.exists()
