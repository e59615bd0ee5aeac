"""The command line end to end on tiny data, checkpoints, and reproduce's result on a tiny
setting; one behaviour per test."""

import json

import pytest
import torch

from fno_conserve import load_trained
from fno_conserve._experiments.config import CaseConfig, Config
from fno_conserve._experiments.reproduce import reproduce
from fno_conserve.cli import main
from sciml_core import InputError, save_checkpoint, validate_result

EPS32 = torch.finfo(torch.float32).eps
TINY_MODEL = ["--width", "8", "--modes", "4", "--layers", "2"]


def _generate(path, pde, n_samples, resolution):
    argv = ["generate-data", pde, "--n-samples", str(n_samples), "--resolution", str(resolution)]
    return main([*argv, "-o", str(path), "--quiet"])


def _train(data, out, *extra):
    return main(
        ["train", str(data), *TINY_MODEL, "--epochs", "1", "--out", str(out), "--quiet", *extra]
    )


@pytest.fixture(scope="module")
def burgers(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "burgers.npz"
    assert _generate(path, "burgers", 12, 32) == 0
    return path


@pytest.fixture(scope="module")
def adaptive_run(burgers, tmp_path_factory):
    """``train --variant adaptive --epochs 1`` on the Burgers set: (exit code, out folder)."""
    out = tmp_path_factory.mktemp("run")
    return _train(burgers, out, "--variant", "adaptive"), out


def test_generate_data_writes_a_dataset_file(burgers):
    assert burgers.is_file()


def test_generate_data_refuses_to_overwrite(burgers):
    before = burgers.read_bytes()
    assert _generate(burgers, "burgers", 12, 32) == 2
    assert burgers.read_bytes() == before


def test_cli_generate_then_train(adaptive_run):
    """train on generate-data's output: exit 0 and a test conservation error at the float
    floor."""
    code, out = adaptive_run
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["cons_max_rel"] <= 10 * EPS32


def test_train_writes_a_checkpoint_that_loads_with_weights_only(adaptive_run):
    _, out = adaptive_run
    model, cfg = load_trained(out / "model.pt")  # weights_only loading inside sciml_core
    assert cfg.variant == "adaptive" and model.direction == "head"
    raw = torch.load(out / "model.pt", weights_only=True)
    assert raw["package"] == "fno-conserve"


def test_train_takes_the_mass_law_from_burgers_data(adaptive_run):
    _, out = adaptive_run
    assert json.loads((out / "metrics.json").read_text())["config"]["law"] == "mass"


def test_train_refuses_to_replace_an_earlier_run(burgers, tmp_path):
    assert _train(burgers, tmp_path) == 0
    before = (tmp_path / "model.pt").read_bytes(), (tmp_path / "metrics.json").read_bytes()
    assert _train(burgers, tmp_path, "--seed", "1") == 2
    assert (
        (tmp_path / "model.pt").read_bytes(),
        (tmp_path / "metrics.json").read_bytes(),
    ) == before


def test_train_overwrite_replaces_the_earlier_run(burgers, tmp_path):
    assert _train(burgers, tmp_path) == 0
    before = (tmp_path / "model.pt").read_bytes()
    assert _train(burgers, tmp_path, "--seed", "1", "--overwrite") == 0
    assert (tmp_path / "model.pt").read_bytes() != before


def test_train_refuses_a_file_that_is_not_a_dataset(tmp_path):
    bogus = tmp_path / "bogus.npz"
    bogus.write_bytes(b"not a dataset")
    assert main(["train", str(bogus), "--out", str(tmp_path / "x"), "--quiet"]) == 2


def test_train_refuses_a_quadratic_variant_on_a_mass_law_dataset(burgers, tmp_path):
    assert _train(burgers, tmp_path / "y", "--variant", "rescale") == 2


def test_checkpoint_of_another_version_is_refused(tmp_path):
    path = tmp_path / "old.pt"
    save_checkpoint(path, {}, config={}, package="fno-conserve", version="9.9.0")
    with pytest.raises(InputError, match=r"9\.9\.0"):
        load_trained(path)


@pytest.fixture(scope="module")
def nls_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nls")
    assert _generate(folder / "nls.npz", "nls", 10, 32) == 0
    code = _train(folder / "nls.npz", folder / "run", "--variant", "adaptive-rescale")
    return code, folder / "run"


def test_train_takes_the_norm_law_from_nls_data(nls_run):
    code, out = nls_run
    assert code == 0
    assert json.loads((out / "metrics.json").read_text())["config"]["law"] == "norm"


def test_adaptive_rescale_trained_on_nls_is_exact(nls_run):
    _, out = nls_run
    assert json.loads((out / "metrics.json").read_text())["cons_max_rel"] <= 10 * EPS32


@pytest.fixture(scope="module")
def darcy(tmp_path_factory):
    path = tmp_path_factory.mktemp("darcy") / "darcy.npz"
    assert _generate(path, "darcy", 6, 16) == 0
    return path


def test_train_refuses_a_law_darcy_lacks(darcy, tmp_path):
    assert _train(darcy, tmp_path / "d", "--variant", "adaptive") == 2


def test_train_plain_on_darcy(darcy, tmp_path):
    assert _train(darcy, tmp_path / "d", "--variant", "plain") == 0


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


@pytest.fixture(scope="module")
def tiny_result(tmp_path_factory):
    """``reproduce`` on TINY, called with two intra-op threads set: (result, folder, threads
    after the call)."""
    out = tmp_path_factory.mktemp("repro")
    torch.set_num_threads(2)
    try:
        path = reproduce(out, quick=True, seed=0, device="cpu", show_progress=False, config=TINY)
        threads_after = torch.get_num_threads()
    finally:
        torch.set_num_threads(1)
    return json.loads(path.read_text()), out, threads_after


def test_reproduce_refuses_a_non_positive_thread_count(tmp_path):
    with pytest.raises(InputError, match="threads"):
        reproduce(tmp_path, threads=0)


def test_reproduce_refuses_an_unknown_study(tmp_path):
    with pytest.raises(InputError, match="studies"):
        reproduce(tmp_path, studies=["kdv"])


def test_reproduce_restores_the_callers_thread_count(tiny_result):
    assert tiny_result[2] == 2


def test_reproduce_writes_a_valid_result(tiny_result):
    assert validate_result(tiny_result[0]) == []


def test_quick_reproduce_runs_on_one_thread(tiny_result):
    assert tiny_result[0]["meta"]["threads"] == 1


@pytest.mark.parametrize(
    "claim",
    [
        "burgers_mass: corrected variants conserve exactly in float32",
        "nls_norm: adaptive-rescale conserves int |psi|^2 exactly in float32",
        "ns_mean: corrected variants keep the mean vorticity at zero (float32)",
    ],
)
def test_reproduce_exactness_claims_hold(tiny_result, claim):
    claims = {c["name"]: c for c in tiny_result[0]["claims"]}
    assert claims[claim]["holds"] is True


def test_reproduce_says_when_the_models_learned_no_more_than_the_mean(tiny_result):
    """One epoch cannot beat the conserved-mean predictor: the claim must say so, not pass."""
    claims = {c["name"]: c for c in tiny_result[0]["claims"]}
    assert (
        claims["burgers_mass: the trained models learn more than the conserved mean"]["holds"]
        is False
    )


def test_reproduce_figures_are_png_files(tiny_result):
    result, out, _ = tiny_result
    assert result["figures"]
    for fig in result["figures"]:
        assert (out / fig["file"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reproduce_chooses_the_penalty_weight_on_validation(tiny_result):
    tables = {t["id"]: t for t in tiny_result[0]["tables"]}
    timings = {row[0]: row[2] for row in tables["timings"]["rows"]}
    assert timings["burgers-mass"] in ("penalty weight 0.1", "penalty weight 1.0")


def test_reproduce_writes_every_case_table(tiny_result):
    ids = {t["id"] for t in tiny_result[0]["tables"]}
    assert {"burgers_mass", "burgers_mass_rollout", "nls_norm", "ns_mean", "settings"} <= ids


def test_reproduce_settings_table_shows_the_config(tiny_result):
    tables = {t["id"]: t for t in tiny_result[0]["tables"]}
    assert tables["settings"]["rows"] == TINY.settings_rows()
    assert tables["settings"]["title"] == TINY.settings_title()
