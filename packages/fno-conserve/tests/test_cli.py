"""The command line end to end on tiny data, checkpoints, and reproduce's result on a tiny
setting."""

import json

import pytest
import torch

from fno_conserve import (
    ConservationCorrection,
    LinearConstraint,
    QuadraticConstraint,
    load_trained,
)
from fno_conserve._experiments import reproduce
from fno_conserve._experiments.config import CaseConfig, Config
from fno_conserve.cli import main
from sciml_core import InputError, save_checkpoint, validate_result


def test_cli_generate_then_train(tmp_path):
    data = tmp_path / "burgers.npz"
    assert (
        main(
            [
                "generate-data",
                "burgers",
                "--n-samples",
                "12",
                "--resolution",
                "32",
                "-o",
                str(data),
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "generate-data",
                "burgers",
                "--n-samples",
                "12",
                "--resolution",
                "32",
                "-o",
                str(data),
                "--quiet",
            ]
        )
        == 2
    )  # refuses to overwrite
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                str(data),
                "--variant",
                "adaptive",
                "--epochs",
                "1",
                "--width",
                "8",
                "--modes",
                "4",
                "--layers",
                "2",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["law"] == "mass"  # default law of Burgers
    assert metrics["cons_max_rel"] <= 10 * torch.finfo(torch.float32).eps
    model, cfg = load_trained(out / "model.pt")  # weights_only loading inside sciml_core
    assert cfg.variant == "adaptive" and model.direction == "head"
    raw = torch.load(out / "model.pt", weights_only=True)
    assert raw["package"] == "fno-conserve"
    # A second run into the same folder keeps the first run's files unless asked to replace them.
    before = (out / "model.pt").read_bytes(), (out / "metrics.json").read_bytes()
    again = ["train", str(data), "--epochs", "1", "--width", "8", "--modes", "4", "--layers", "2"]
    assert main([*again, "--seed", "1", "--out", str(out), "--quiet"]) == 2
    assert ((out / "model.pt").read_bytes(), (out / "metrics.json").read_bytes()) == before
    assert main([*again, "--seed", "1", "--out", str(out), "--overwrite", "--quiet"]) == 0
    assert (out / "model.pt").read_bytes() != before[0]
    bogus = tmp_path / "bogus.npz"
    bogus.write_bytes(b"not a dataset")
    assert main(["train", str(bogus), "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert (
        main(["train", str(data), "--variant", "rescale", "--out", str(tmp_path / "y"), "--quiet"])
        == 2
    )  # a quadratic-law variant on a mass-law dataset


def test_checkpoint_of_another_version_is_refused(tmp_path):
    path = tmp_path / "old.pt"
    save_checkpoint(path, {}, config={}, package="fno-conserve", version="0.2.0")
    with pytest.raises(InputError, match=r"0\.2\.0"):
        load_trained(path)


TINY = Config(
    burgers=CaseConfig(
        n=32,
        train=24,
        val=8,
        test=8,
        width=8,
        modes=4,
        epochs=1,
        lr=3e-3,
        seeds=2,
        rollout=2,
        penalty=(0.1, 1.0),
    ),
    nls=CaseConfig(n=64, train=16, test=8, width=8, modes=4, epochs=1, lr=3e-3, seeds=1, rollout=2),
    ns=CaseConfig(n=16, train=8, test=4, width=8, modes=4, epochs=1, lr=3e-3, seeds=1, rollout=2),
    pde_params={
        "burgers": {"t_final": 0.1},
        "nls": {"t_final": 0.1},
        "navier-stokes": {"t_final": 0.1},
    },
)


def test_reproduce_writes_a_valid_result_with_honest_claims(tmp_path):
    torch.set_num_threads(2)
    try:
        with pytest.raises(InputError, match="threads"):
            reproduce(tmp_path, threads=0)
        path = reproduce(
            tmp_path, quick=True, seed=0, device="cpu", show_progress=False, config=TINY
        )
        assert torch.get_num_threads() == 2  # the caller's setting is restored
    finally:
        torch.set_num_threads(1)
    result = json.loads(path.read_text())
    assert validate_result(result) == []
    assert result["meta"]["threads"] == 1  # quick runs default to one intra-op thread
    claims = {c["name"]: c for c in result["claims"]}
    exact = claims["burgers_mass: corrected variants conserve exactly in float32"]
    assert exact["holds"] is True
    assert claims["nls_norm: adaptive-rescale conserves int |psi|^2 exactly in float32"]["holds"]
    assert claims["ns_mean: corrected variants keep the mean vorticity at zero (float32)"]["holds"]
    # one epoch cannot beat the conserved-mean predictor: the claim must say so, not pass
    learn = claims["burgers_mass: the trained models learn more than the conserved mean"]
    assert learn["holds"] is False
    for fig in result["figures"]:
        assert (tmp_path / fig["file"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tables = {t["id"]: t for t in result["tables"]}
    timings = {row[0]: row[2] for row in tables["timings"]["rows"]}
    assert timings["burgers-mass"] in ("penalty weight 0.1", "penalty weight 1.0")  # chosen on val
    ids = set(tables)
    assert {"burgers_mass", "burgers_mass_rollout", "nls_norm", "ns_mean", "settings"} <= ids


@pytest.mark.parametrize(
    "make,name",
    [
        (
            lambda: ConservationCorrection(LinearConstraint.mass(channel=2), mode="projection")(
                torch.ones(1, 1, 8), torch.ones(1, 3, 8)
            ),
            "channel",
        ),
        (
            lambda: LinearConstraint.mass(lengths=-1.0).residual(
                torch.ones(1, 1, 8), torch.ones(1, 1, 8)
            ),
            "lengths",
        ),
        (
            lambda: ConservationCorrection(
                LinearConstraint([lambda c: c[0], lambda c: 2 * c[0]]), mode="projection"
            )(torch.ones(1, 1, 8), torch.ones(1, 1, 8)),
            "linearly dependent",
        ),
        (
            lambda: ConservationCorrection(QuadraticConstraint((0,), target=1.0))(
                torch.zeros(1, 1, 8)
            ),
            "Q\\(u\\) = 0",
        ),
        (
            lambda: ConservationCorrection(LinearConstraint.mass())(
                torch.ones(1, 1, 8), torch.ones(1, 1, 8)
            ),
            "s",
        ),
        (
            lambda: ConservationCorrection(LinearConstraint.mass())(
                torch.ones(2, 1, 8), torch.ones(2, 1, 8), s=torch.ones(2, 1, 4)
            ),
            "s",
        ),
        (
            lambda: ConservationCorrection(LinearConstraint.mass())(
                torch.ones(2, 1, 8), torch.ones(2, 1, 8), s=-torch.ones(2, 1, 8)
            ),
            "positive",
        ),
        (
            lambda: ConservationCorrection(LinearConstraint.mass(), mode="projection")(
                torch.ones(2, 1, 8), torch.ones(3, 1, 8)
            ),
            "x",
        ),
        (
            lambda: ConservationCorrection(
                [LinearConstraint.mass(), QuadraticConstraint((0,), mode="adaptive")]
            ),
            "adaptive",
        ),
        (lambda: ConservationCorrection(LinearConstraint.mass(), mode="oblique"), "mode"),
        (lambda: LinearConstraint(target="output"), "target"),
        (lambda: QuadraticConstraint(target=-1.0), "target"),
    ],
)
def test_bad_input_raises_input_error_naming_the_argument(make, name):
    with pytest.raises(InputError, match=name):
        make()


def test_train_defaults_the_law_from_the_data_and_refuses_laws_darcy_lacks(tmp_path):
    nls = tmp_path / "nls.npz"
    assert (
        main(
            [
                "generate-data",
                "nls",
                "--n-samples",
                "10",
                "--resolution",
                "32",
                "-o",
                str(nls),
                "--quiet",
            ]
        )
        == 0
    )
    out = tmp_path / "nls-run"
    assert (
        main(
            [
                "train",
                str(nls),
                "--variant",
                "adaptive-rescale",
                "--epochs",
                "1",
                "--width",
                "8",
                "--modes",
                "4",
                "--layers",
                "1",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["law"] == "norm"
    assert metrics["cons_max_rel"] <= 10 * torch.finfo(torch.float32).eps
    darcy = tmp_path / "darcy.npz"
    assert (
        main(
            [
                "generate-data",
                "darcy",
                "--n-samples",
                "6",
                "--resolution",
                "16",
                "-o",
                str(darcy),
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            ["train", str(darcy), "--variant", "adaptive", "--out", str(tmp_path / "d"), "--quiet"]
        )
        == 2
    )
    assert (
        main(
            [
                "train",
                str(darcy),
                "--variant",
                "plain",
                "--epochs",
                "1",
                "--width",
                "8",
                "--modes",
                "4",
                "--layers",
                "1",
                "--out",
                str(tmp_path / "d"),
                "--quiet",
            ]
        )
        == 0
    )
