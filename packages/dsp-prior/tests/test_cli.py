"""The command line: restore (atomic, one-line errors with exit 2), curve, reproduce, bench."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
from dsp_prior._experiments.reproduce import reproduce
from dsp_prior.cli import main


@pytest.fixture
def image(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "noisy.npy"
    np.save(path, rng.uniform(0, 1, (16, 16)))
    return path


def _restore(image, out, *extra):
    return main(["restore", str(image), "--task", "denoise", "--net", "small", "--iterations", "3",
                 "-o", str(out), "--quiet", *extra])  # fmt: skip


@pytest.mark.parametrize("suffix", [".npy", ".png"])
def test_restore_writes_the_image_and_its_history(image, tmp_path, suffix):
    out = tmp_path / f"restored{suffix}"
    assert _restore(image, out) == 0
    history = json.loads((tmp_path / f"restored{suffix}.history.json").read_text())
    assert (
        history["iterations"] == 3
        and history["method"] == "dsp"
        and "our reading" in history["note"]
    )
    if suffix == ".npy":
        x = np.load(out)
        assert x.shape == (1, 16, 16) and x.min() > 0 and x.max() < 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def _junk(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\x89PNG not really")
    return path


def _rgba(tmp_path):
    from PIL import Image

    path = tmp_path / "rgba.png"
    Image.fromarray(np.zeros((16, 16, 4), dtype=np.uint8)).save(path)
    return path


def _bad(tmp_path, name, array):
    path = tmp_path / name
    np.save(path, array)
    return path


@pytest.mark.parametrize(
    "make, extra, message",
    [
        (lambda t: _bad(t, "nan.npy", np.full((16, 16), np.nan)), [], "IMAGE: contains NaN or inf"),
        (lambda t: _bad(t, "shape.npy", np.zeros((2, 16, 16, 3))), [], "IMAGE: expected an image"),
        (lambda t: _bad(t, "odd.npy", np.zeros((12, 12))), [], "must be divisible by 8"),
        (lambda t: t / "missing.npy", [], "IMAGE: file"),
        (lambda t: _junk(t, "junk.png"), [], "IMAGE: cannot read"),
        (lambda t: _rgba(t), [], "expected a grey or RGB image"),
        (None, ["--iterations", "0"], "--iterations: expected an integer >= 1"),
        (None, ["--lr", "nan"], "--lr: expected a finite number > 0"),
        (None, ["--lr", "inf"], "--lr: expected a finite number > 0"),
        (None, ["--task", "inpaint", "--mask", "MASK8"], "--mask: expected size 16x16"),
        (None, ["--task", "inpaint"], "--mask: inpainting needs a mask file"),
    ],
)
def test_restore_bad_input_is_one_line_and_exit_2(tmp_path, capsys, image, make, extra, message):
    src = image if make is None else make(tmp_path)
    extra = [str(_bad(tmp_path, "m8.npy", np.ones((8, 8)))) if e == "MASK8" else e for e in extra]
    out = tmp_path / "out.npy"
    assert _restore(src, out, *extra) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not out.exists()


def test_restore_prints_one_wrote_line_and_reads_png(tmp_path, capsys):
    from PIL import Image

    src = tmp_path / "grey.png"
    Image.fromarray((np.arange(256).reshape(16, 16)).astype(np.uint8)).save(src)
    out = tmp_path / "out.png"
    assert _restore(src, out) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    assert np.asarray(Image.open(out)).shape == (16, 16)


def test_restore_refuses_an_output_suffix_it_cannot_write(image, tmp_path, capsys):
    assert _restore(image, tmp_path / "out.txt") == 2
    assert "-o" in capsys.readouterr().err


def test_restore_refuses_to_overwrite_without_the_flag(image, tmp_path, capsys):
    out = tmp_path / "out.npy"
    out.write_bytes(b"keep")
    assert _restore(image, out) == 2
    assert out.read_bytes() == b"keep" and "--overwrite" in capsys.readouterr().err


@pytest.mark.parametrize(
    "task, operator",
    [("denoise", "N(0"), ("inpaint", "m * x"), ("sr", "Downsample(4"), ("deblur", "Blur(")],
)
def test_curve_writes_the_psnr_of_both_methods_for_every_task(tmp_path, task, operator):
    args = ["curve", "--image", "camera", "--task", task, "--size", "24", "--iterations", "20",
            "--out", str(tmp_path), "--quiet"]  # fmt: skip
    assert main(args) == 0
    data = json.loads((tmp_path / "curve.json").read_text())
    assert data["task"] == task and operator in data["degradation"]
    assert data["dip"]["iteration"] == [10, 20] and len(data["dsp"]["psnr"]) == 2
    assert all(np.isfinite(data[m]["psnr"]).all() for m in ("dip", "dsp"))


def test_curve_deblur_fits_the_blurred_observation(monkeypatch, tmp_path):
    import dsp_prior._experiments.curve as curve_mod

    seen = []
    monkeypatch.setattr(curve_mod, "deblur", lambda y, kernel, **k: seen.append(kernel) or 1 / 0)
    with pytest.raises(ZeroDivisionError):
        curve_mod.curve(tmp_path, image="camera", task="deblur", iterations=2, size=16,
                        methods=("dip",), seed=0)  # fmt: skip
    assert seen and abs(float(seen[0].sum()) - 1.0) < 1e-6 and seen[0].shape[-1] > 1


@pytest.mark.parametrize("task, size", [("denoise", 12), ("denoise", 20), ("sr", 16)])
def test_curve_refuses_a_size_it_cannot_fit_or_measure(tmp_path, capsys, task, size):
    out = tmp_path / "out"
    args = ["curve", "--task", task, "--size", str(size), "--out", str(out), "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--size" in err[0]
    assert not out.exists()


@pytest.mark.parametrize(
    "extra, flag",
    [
        (["--quick", "--budget", "reduced"], "--budget"),
        (["--full", "--budget", "half"], "--budget"),
    ],
)
def test_reproduce_refuses_a_bad_budget_with_one_line_and_no_output(tmp_path, capsys, extra, flag):
    out = tmp_path / "out"
    assert main(["reproduce", *extra, "--quiet", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and flag in err[0]
    assert not out.exists()


def test_reduced_full_keeps_the_validation_and_test_images_and_cuts_size_and_seeds():
    from dsp_prior._experiments.config import FULL, QUICK, config_for

    reduced = config_for(False, "reduced")
    assert config_for(False) is FULL and reduced.mode == "full-reduced"
    kept = ("validation_image", "test_images", "k0_grid", "eswmv_grid", "tv_alphas",
            "inpaint_image", "sr_horizon", "sr_factor", "sigma", "input_perturbation")  # fmt: skip
    assert all(getattr(reduced, k) == getattr(FULL, k) for k in kept)
    assert reduced.size == QUICK.size and reduced.horizon >= 4 * QUICK.horizon
    assert len(reduced.seeds) == 1 and reduced.sr_size < FULL.sr_size


def test_reproduce_refuses_an_unknown_study(tmp_path):
    with pytest.raises(ValueError, match="nope"):
        reproduce(tmp_path, quick=True, seed=0, studies=["nope"])
    assert not (tmp_path / "result.json").exists()


def test_reproduce_identity_study_writes_claim_one(tmp_path):
    path = reproduce(tmp_path, quick=True, seed=0, studies=["identity"])
    data = json.loads(path.read_text())
    claim = data["claims"][0]
    assert claim["name"].startswith("1.") and claim["holds"] is True


def test_importing_the_package_or_its_cli_does_not_load_the_experiments_or_extras():
    code = (
        "import sys, dsp_prior, dsp_prior.cli; "
        "print([m for m in ('dsp_prior._experiments', 'deepinv', 'skimage', 'matplotlib', 'PIL') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_reproduce_quick_writes_claims_one_to_three_and_the_not_tested_table(tmp_path):
    assert main(["reproduce", "--quick", "--quiet", "--device", "cpu", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "result.json").read_text())
    names = [c["name"][:2] for c in data["claims"]]
    assert names[:3] == ["1.", "2.", "3."]
    assert data["claims"][0]["holds"] is True
    tables = {t["id"]: t for t in data["tables"]}
    assert {
        "denoising",
        "denoising_validation",
        "denoising_curve",
        "parseval_control",
        "not_tested",
    } <= set(tables)
    assert len(tables["not_tested"]["rows"]) >= 3


def _claims_context(horizon, dip_peak, same_image=False):
    from dsp_prior._experiments.config import FULL_REDUCED
    from dsp_prior._experiments.context import Context

    from sciml_core import Result

    cfg = dataclasses.replace(FULL_REDUCED, horizon=horizon)
    ctx = Context(Result("dsp-prior", "0", seed=0, device="cpu", quick=False), None, cfg, 0, "cpu")
    numbers = {
        "dip": dict(drop=2.0, final=22.0, oracle_peak=26.0, valstop=25.5, eswmv=25.2, ema=23.0),
        "dsp": dict(final=25.0, drop=0.1),
        "tv": dict(final=27.0),
    }
    for method, values in numbers.items():
        for key, value in values.items():
            ctx.values["denoising", method, key] = value
    ctx.values["denoising", "same_image"] = same_image
    ctx.values["denoising", "dip_validation_peak"] = dip_peak
    return ctx


@pytest.mark.parametrize(
    "horizon, dip_peak, same_image, tested",
    [(2000, 175, False, True), (2000, 250, False, False), (3000, 300, True, False)],
)
def test_no_early_stopping_claims_need_ten_times_dips_peak_on_other_images(
    horizon, dip_peak, same_image, tested
):
    from dsp_prior._experiments.denoising import _claims

    ctx = _claims_context(horizon, dip_peak, same_image)
    _claims(ctx)
    written = {c["name"][:2] for c in ctx.result.claims}
    assert ({"4.", "5.", "6."} <= written) is tested
    assert (len(ctx.not_tested) == 3) is not tested
