"""``train --config FILE --nproc N`` and ``variance``: settings, refusals, DDP, the report."""

import json

import pytest
import torch
from mlmc_ops.cli import main

TINY = {"resolutions": [8, 16], "n_samples": "12,6", "batch_sizes": [4, 2], "width": 4, "modes": 2}


def _write(path, data):
    path.write_text(json.dumps(data))
    return path


def _step(path):
    return torch.load(path, weights_only=True)["state_dict"]["counters"]["step"]


def _one_line_exit_2(capsys, code, match):
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert match in err and len(err.splitlines()) == 1


@pytest.fixture
def config(tmp_path):
    return _write(tmp_path / "c.json", {**TINY, "steps": 2})


def test_train_takes_its_settings_from_the_config_file(config, tmp_path):
    out = tmp_path / "a.pt"
    assert main(["train", "--quiet", "--config", str(config), "-o", str(out)]) == 0
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["state_dict"]["counters"]["step"] == 2
    assert json.loads(ckpt["config_json"])["extra"]["model"]["width"] == 4


def test_flags_win_over_the_config_file(config, tmp_path):
    out = tmp_path / "a.pt"
    assert main(["train", "--quiet", "--config", str(config), "--steps", "1", "-o", str(out)]) == 0
    assert _step(out) == 1


def test_a_toml_config_is_read(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'resolutions = [8, 16]\nn_samples = "12,6"\nbatch_sizes = [4, 2]\n'
        "width = 4\nmodes = 2\nsteps = 1\n"
    )
    out = tmp_path / "a.pt"
    assert main(["train", "--quiet", "--config", str(cfg), "-o", str(out)]) == 0
    assert _step(out) == 1


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("c.json", json.dumps({"stepz": 3}), "unknown setting(s) ['stepz']"),
        ("c.json", "{not json", "--config: cannot read"),
        ("c.yaml", "steps: 3", "expected a .json or .toml file"),
        ("c.json", "[1, 2]", "expected a table of settings"),
        ("c.json", json.dumps({**TINY, "steps": -1}), "--steps"),
        ("c.json", json.dumps({**TINY, "lr": "fast"}), "--lr"),
        ("c.json", json.dumps({**TINY, "resolutions": [16, 8]}), "--resolutions"),
    ],
)
def test_a_bad_config_is_one_line_exit_2_and_writes_nothing(name, text, match, tmp_path, capsys):
    cfg = tmp_path / name
    cfg.write_text(text)
    out = tmp_path / "a.pt"
    _one_line_exit_2(
        capsys, main(["train", "--quiet", "--config", str(cfg), "-o", str(out)]), match
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--nproc", "2", "--batch-sizes", "3,2"], "divisible by the 2 ranks"),
        (["--nproc", "2", "--batch-sizes", "giles", "--step-budget", "900"], "--shard"),
        (["--nproc", "3", "--shard", "levels", "--batch-sizes", "1,1"], "fewer than the 3 ranks"),
        (["--nproc", "0"], "--nproc"),
    ],
)
def test_a_split_the_ranks_cannot_make_is_refused_before_any_work(
    argv, match, config, tmp_path, capsys
):
    out = tmp_path / "a.pt"
    code = main(["train", "--quiet", "--config", str(config), *argv, "-o", str(out)])
    _one_line_exit_2(capsys, code, match)
    assert not out.exists()


@pytest.mark.slow
def test_train_on_two_gloo_ranks_equals_one_process(config, tmp_path):
    one, two = tmp_path / "one.pt", tmp_path / "two.pt"
    assert main(["train", "--quiet", "--config", str(config), "-o", str(one)]) == 0
    assert main(["train", "--quiet", "--config", str(config), "--nproc", "2", "-o", str(two)]) == 0
    a = torch.load(one, weights_only=True)["state_dict"]["model"]
    b = torch.load(two, weights_only=True)["state_dict"]["model"]
    assert a.keys() == b.keys()
    for k in a:  # float32: the two halves' gradients are summed in another order
        assert torch.allclose(a[k], b[k], rtol=0, atol=1e-5), k


def test_variance_at_initialisation_has_tiny_corrections(tmp_path, capsys):
    out = tmp_path / "v.json"
    argv = ["variance", "--quiet", "--resolutions", "8,16", "--n-pilot", "6"]
    assert main([*argv, "--width", "4", "--modes", "2", "-o", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep["n_pilot"] == [6, 6] and rep["resolutions"] == [8, 16]
    # spec 2.3: at initialisation V_l is orders of magnitude below V_0
    assert rep["V"][1] < 0.01 * rep["V"][0]
    assert rep["V_L/V_single"] == pytest.approx(rep["V"][1] / rep["V_single"])


def test_variance_reads_the_model_of_a_train_checkpoint(config, tmp_path, capsys):
    ckpt = tmp_path / "a.pt"
    assert main(["train", "--quiet", "--config", str(config), "-o", str(ckpt)]) == 0
    out = tmp_path / "v.json"
    argv = ["variance", "--quiet", "--resolutions", "8,16", "--n-pilot", "4"]
    assert main([*argv, "--checkpoint", str(ckpt), "-o", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep["model"]["width"] == 4 and rep["checkpoint"] == str(ckpt)


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--n-pilot", "1"], "--n-pilot"),
        (["--resolutions", "16"], "at least two levels"),
        (["--resolutions", "16,24"], "divide the finest"),
        (["--checkpoint", "missing.pt"], "--checkpoint"),
        (["--width", "0"], "--width"),
    ],
)
def test_variance_bad_input_is_one_line_exit_2_and_writes_nothing(argv, match, tmp_path, capsys):
    out = tmp_path / "v.json"
    code = main(["variance", "--quiet", "--n-pilot", "4", *argv, "-o", str(out)])
    _one_line_exit_2(capsys, code, match)
    assert not out.exists()


def test_variance_refuses_a_checkpoint_without_a_model_configuration(tmp_path, capsys):
    from mlmc_ops import __version__

    from sciml_core import save_checkpoint

    path = tmp_path / "plain.pt"
    save_checkpoint(
        path, {"model": {}}, config={"trainer": "x"}, package="mlmc-ops", version=__version__
    )
    code = main(["variance", "--quiet", "--checkpoint", str(path), "--resolutions", "8,16"])
    _one_line_exit_2(capsys, code, "records no FNO configuration")


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--nproc", "0"], "--nproc"),
        (["--cost", "wall"], "--cost"),
        (["--hierarchy", "x"], "--hierarchy"),
    ],
)
def test_reproduce_bad_flags_are_one_line_exit_2(argv, match, tmp_path, capsys):
    code = main(["reproduce", "--quick", "--quiet", "--out", str(tmp_path / "r"), *argv])
    _one_line_exit_2(capsys, code, match)
    assert not (tmp_path / "r").exists()
