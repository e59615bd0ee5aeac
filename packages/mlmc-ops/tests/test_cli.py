import importlib.util
import json

import pytest
from mlmc_ops._experiments.reproduce import reproduce
from mlmc_ops.cli import main

from sciml_core import InputError, validate_result


def test_allocate_prints_the_giles_allocation(capsys):
    code = main(
        [
            "allocate",
            "--variances",
            "6.27,0.736,0.0337",
            "--costs",
            "4.53,9.02,28.41",
            "--budget",
            "1000",
            "--v-single",
            "6.16",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert round(out["predicted_speedup"], 2) == 1.89 and out["cost"] <= 1000


def test_allocate_writes_json_with_o(tmp_path, capsys):
    path = tmp_path / "a.json"
    assert (
        main(
            [
                "allocate",
                "--variances",
                "1,0.1",
                "--costs",
                "1,4",
                "--target-variance",
                "0.01",
                "-o",
                str(path),
            ]
        )
        == 0
    )
    assert json.loads(path.read_text())["variance"] <= 0.01
    assert capsys.readouterr().out.strip() == f"wrote {path}"


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--variances", "1,x", "--costs", "1,2", "--budget", "10"], "--variances"),
        (["--variances", "1,1", "--costs", "1,2", "--budget", "-5"], "budget"),
        (["--variances", "1,1", "--costs", "1,2"], "--budget, --target-variance"),
        (["--variances", "1,1", "--costs", "1,2,3", "--budget", "100"], "C: expected 2"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, match, capsys):
    assert main(["allocate", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert match in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--resolutions", "16,24", "--n-samples", "8,8"], "divide the finest"),
        (["--batch-sizes", "4"], "--batch-sizes"),
        (["--steps", "0"], "--steps"),
    ],
)
def test_train_bad_input_is_one_line_and_exit_2(argv, match, tmp_path, capsys):
    code = main(
        [
            "train",
            "--quiet",
            "--n-samples",
            "8,8",
            "--resolutions",
            "8,16",
            "-o",
            str(tmp_path / "m.pt"),
            *argv,
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert match in err and len(err.splitlines()) == 1


def test_train_writes_a_checkpoint_that_resumes(tmp_path):
    common = [
        "train",
        "--quiet",
        "--resolutions",
        "8,16",
        "--n-samples",
        "12,6",
        "--batch-sizes",
        "4,2",
        "--width",
        "4",
        "--modes",
        "2",
    ]
    assert main([*common, "--steps", "2", "-o", str(tmp_path / "a.pt")]) == 0
    assert (
        main(
            [
                *common,
                "--steps",
                "3",
                "--resume",
                str(tmp_path / "a.pt"),
                "-o",
                str(tmp_path / "b.pt"),
            ]
        )
        == 0
    )
    import torch

    assert torch.load(tmp_path / "b.pt", weights_only=True)["state_dict"]["counters"]["step"] == 3


def test_reproduce_refuses_an_unknown_study(tmp_path):
    with pytest.raises(InputError, match="nope"):
        reproduce(tmp_path, quick=True, seed=0, studies=["nope"])
    assert not (tmp_path / "result.json").exists()


def test_reproduce_identities_writes_a_valid_result_whose_claims_hold(tmp_path):
    path = reproduce(tmp_path, quick=True, seed=0, studies=["identities"])
    data = json.loads(path.read_text())
    assert validate_result(data) == []
    assert [c["holds"] for c in data["claims"]] == [True, True]


@pytest.mark.slow
def test_reproduce_quick_gates_claims_1_to_3_and_the_columns(tmp_path):
    assert main(["reproduce", "--quick", "--out", str(tmp_path), "--quiet"]) == 0
    data = json.loads((tmp_path / "result.json").read_text())
    assert validate_result(data) == []
    claims = {c["name"]: c["holds"] for c in data["claims"]}
    assert claims["every trained model beats the mean predictor"]
    assert claims["telescoping identity and k = 1 equals single-fine (float64, 3 steps)"]
    assert claims["cost units = sum_steps sum_l b_l (n_l^2 + n_(l-1)^2)"]
    tables = {t["id"]: t for t in data["tables"]}
    assert tables["methods"]["columns"][:3] == ["method", "seeds", "test_rel_l2"]
    assert tables["runs"]["columns"][:5] == ["method", "seed", "lr", "f", "test_rel_l2"]
    methods = {r[0] for r in tables["methods"]["rows"]}
    assert methods == {"single-fine", "mlmc-R", "coarse-only"}
    if importlib.util.find_spec("matplotlib") is not None:
        assert {f["file"] for f in data["figures"]} >= {"pareto_units.png", "pareto_seconds.png"}
