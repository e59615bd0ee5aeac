"""The command line as a new user meets it (issue 12): every bad input is one line on stderr and
exit 2 with no output file; sinogram layouts and units; progress; the one success line."""

import argparse

import numpy as np
import pytest
import torch

import invprob_core as ip
from invprob_core import cli
from invprob_core.cli import main
from sciml_core import InputError

N, ANGLES = 16, 12


@pytest.fixture()
def sino(tmp_path):
    """A 16x16 Shepp-Logan sinogram at 12 angles, (angles, detector bins), as ``sino.npy``."""
    A = ip.RayTransform(N, angles=ANGLES)
    y = A(ip.shepp_logan(N).double()[None, None])[0, 0].numpy()
    np.save(tmp_path / "sino.npy", y)
    return A, y


def _fbp_argv(tmp_path, source, *extra, out="rec.npy"):
    return ["reconstruct", str(source), "--method", "fbp", *extra, "-o", str(tmp_path / out)]


def _refused(capsys, argv, *names, nothing_at=()):
    """Exit 2, one line on stderr naming each of ``names``, no file at ``nothing_at``."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    for name in names:
        assert name in err, (name, err)
    for path in nothing_at:
        assert not path.exists(), path
    return err


def _outputs(tmp_path, stem="rec"):
    return (tmp_path / f"{stem}.npy", tmp_path / f"{stem}.png")


# -- corrupt inputs go through sciml-core's readers ---------------------------------------------


def _truncated_npy(path, y):
    np.save(path, y)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _junk_npy(path, y):
    path.write_bytes(b"not an array, just some text\n" * 8)


def _object_npy(path, y):
    np.save(path, np.array([{"a": 1}, "b"], dtype=object), allow_pickle=True)


def _empty_npy(path, y):
    path.write_bytes(b"")


def _truncated_tif(path, y):
    tifffile = pytest.importorskip("tifffile")
    tifffile.imwrite(path, y)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _truncated_npz(path, y):
    np.savez(path, y=y)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("cut.npy", _truncated_npy),
        ("junk.npy", _junk_npy),
        ("objects.npy", _object_npy),
        ("empty.npy", _empty_npy),
        ("cut.tif", _truncated_tif),
        ("cut.npz", _truncated_npz),
    ],
)
def test_reconstruct_refuses_a_corrupt_input_naming_it(tmp_path, sino, capsys, name, write):
    write(tmp_path / name, sino[1])
    argv = _fbp_argv(tmp_path, tmp_path / name, "--angles", str(ANGLES))
    _refused(capsys, argv, "INPUT", name, nothing_at=_outputs(tmp_path))


@pytest.mark.parametrize(
    ("name", "values"),
    [("nan.npy", float("nan")), ("inf.npy", float("inf")), ("text.npy", "a")],
)
def test_reconstruct_refuses_values_that_are_not_finite_numbers(
    tmp_path, sino, capsys, name, values
):
    y = sino[1].astype(object if isinstance(values, str) else np.float64)
    y[0, 0] = values
    np.save(tmp_path / name, y.astype(str) if isinstance(values, str) else y)
    argv = _fbp_argv(tmp_path, tmp_path / name, "--angles", str(ANGLES))
    _refused(capsys, argv, "INPUT", name, nothing_at=_outputs(tmp_path))


def _critic(path):
    ip.AdversarialRegularizer(ip.LunzCritic(N)).save(path)


def _denoiser(path):
    ip.CirculantDenoiser(torch.full((N, N), 0.5, dtype=torch.float64)).save(path)


@pytest.mark.parametrize(
    ("method", "write"),
    [
        ("ar", lambda p: p.write_bytes(b"\x00 definitely not a checkpoint")),
        ("pnp", lambda p: p.write_bytes(b"\x00 definitely not a checkpoint")),
        ("ar", lambda p: torch.save({"weights": torch.zeros(3)}, p)),
        ("pnp", lambda p: torch.save({"weights": torch.zeros(3)}, p)),
        ("ar", _denoiser),
        ("pnp", _critic),
    ],
    ids=[
        "ar-junk",
        "pnp-junk",
        "ar-plain-torch",
        "pnp-plain-torch",
        "ar-a-denoiser",
        "pnp-a-critic",
    ],
)
def test_reconstruct_refuses_a_file_that_is_not_its_checkpoint(
    tmp_path, sino, capsys, method, write
):
    write(tmp_path / "model.pt")
    extra = ["--lam", "0.1"] if method == "ar" else []
    argv = [
        "reconstruct",
        str(tmp_path / "sino.npy"),
        "--angles",
        str(ANGLES),
        "--method",
        method,
        "--checkpoint",
        str(tmp_path / "model.pt"),
        *extra,
        "-o",
        str(tmp_path / "rec.npy"),
    ]
    _refused(capsys, argv, "--checkpoint", "model.pt", nothing_at=_outputs(tmp_path))


@pytest.mark.parametrize(
    ("method", "write", "what"),
    [("ar", _critic, "critic takes 16x16"), ("pnp", _denoiser, "spectrum is (16, 16)")],
)
def test_reconstruct_refuses_a_checkpoint_of_another_image_size(
    tmp_path, capsys, method, write, what
):
    A = ip.RayTransform(32, angles=ANGLES)
    np.save(tmp_path / "sino32.npy", A(ip.shepp_logan(32)[None, None])[0, 0].numpy())
    write(tmp_path / "model.pt")
    extra = ["--lam", "0.1"] if method == "ar" else []
    argv = ["reconstruct", str(tmp_path / "sino32.npy"), "--angles", str(ANGLES)]
    argv += ["--method", method, "--checkpoint", str(tmp_path / "model.pt"), *extra]
    argv += ["-o", str(tmp_path / "rec.npy")]
    _refused(capsys, argv, "--checkpoint", what, nothing_at=_outputs(tmp_path))


# -- sinogram layout and units ---------------------------------------------------------------------


def test_reconstruct_refuses_scikit_image_layout_and_suggests_the_transpose(tmp_path, capsys):
    # scikit-image's radon writes (detector bins, angles); 180 angles is the default geometry
    A = ip.RayTransform(N, angles=180)
    np.save(tmp_path / "sk.npy", A(ip.shepp_logan(N)[None, None])[0, 0].numpy().T)
    argv = _fbp_argv(tmp_path, tmp_path / "sk.npy")
    names = ("--angles", "(180, 180)", "(16, 180)", "--sinogram-layout det,angles")
    _refused(capsys, argv, *names, nothing_at=_outputs(tmp_path))


def test_reconstruct_refuses_a_wrong_number_of_angles_naming_both_shapes(tmp_path, sino, capsys):
    argv = _fbp_argv(tmp_path, tmp_path / "sino.npy", "--angles", "30")
    _refused(capsys, argv, "--angles", "(30, 16)", "(12, 16)", nothing_at=_outputs(tmp_path))


def test_det_angles_layout_reads_the_transposed_file(tmp_path, sino):
    _, y = sino
    np.save(tmp_path / "sino_t.npy", y.T)
    assert main(_fbp_argv(tmp_path, tmp_path / "sino.npy", "--angles", "12")) == 0
    layout = ("--angles", "12", "--sinogram-layout", "det,angles")
    assert main(_fbp_argv(tmp_path, tmp_path / "sino_t.npy", *layout, out="t.npy")) == 0
    assert np.array_equal(np.load(tmp_path / "t.npy"), np.load(tmp_path / "rec.npy"))


def test_pixel_length_unit_divides_by_half_the_image_side(tmp_path, sino):
    _, y = sino
    np.save(tmp_path / "pixels.npy", y * (N / 2))  # 8: exact in binary floating point
    assert main(_fbp_argv(tmp_path, tmp_path / "sino.npy", "--angles", "12")) == 0
    unit = ("--angles", "12", "--length-unit", "pixel")
    assert main(_fbp_argv(tmp_path, tmp_path / "pixels.npy", *unit, out="p.npy")) == 0
    assert np.array_equal(np.load(tmp_path / "p.npy"), np.load(tmp_path / "rec.npy"))


def test_scikit_image_radon_reconstructs_as_well_as_our_own_sinogram(tmp_path):
    radon = pytest.importorskip("skimage.transform").radon
    n = 32
    x = ip.shepp_logan(n).double()
    A = ip.RayTransform(n, angles=180)
    np.save(tmp_path / "ours.npy", A(x[None, None])[0, 0].numpy())
    np.save(tmp_path / "sk.npy", radon(x.numpy(), theta=np.rad2deg(A.theta), circle=True))
    assert main(_fbp_argv(tmp_path, tmp_path / "ours.npy", out="ours_rec.npy")) == 0
    flags = ["--sinogram-layout", "det,angles", "--length-unit", "pixel"]
    assert main(_fbp_argv(tmp_path, tmp_path / "sk.npy", *flags, out="sk_raw.npy")) == 0
    flags += ["--rotation-centre", "pixel"]
    assert main(_fbp_argv(tmp_path, tmp_path / "sk.npy", *flags, out="sk_rec.npy")) == 0

    def score(name):
        return ip.psnr(torch.from_numpy(np.load(tmp_path / name)), x, data_range=1.0)

    # same scale and geometry: within 0.5 dB of FBP of the package's own sinogram; without the
    # centre shift, scikit-image's half-pixel offset costs several dB
    assert score("sk_rec.npy") >= score("ours_rec.npy") - 0.5
    assert score("sk_raw.npy") < score("sk_rec.npy") - 2.0


def test_rotation_centre_pixel_needs_as_many_bins_as_pixels(tmp_path, capsys):
    A = ip.RayTransform(N, angles=ANGLES, n_det=20)
    np.save(tmp_path / "wide.npy", A(ip.shepp_logan(N)[None, None])[0, 0].numpy())
    flags = ("--angles", "12", "--size", "16", "--n-det", "20", "--rotation-centre", "pixel")
    argv = _fbp_argv(tmp_path, tmp_path / "wide.npy", *flags)
    _refused(capsys, argv, "--rotation-centre", "--n-det 20", nothing_at=_outputs(tmp_path))


def test_reconstruct_help_documents_the_sinogram_layout_and_units(capsys):
    assert main(["reconstruct", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for needed in (
        "(angles, detector bins)",
        "--sinogram-layout det,angles",
        "half the image side",
        "n/2 times larger",
        "--length-unit pixel",
        "--rotation-centre pixel",
    ):
        assert needed in text, needed


# -- every option has help text and shows its default ------------------------------------------


def _subparsers():
    action = next(a for a in cli.app.parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


@pytest.mark.parametrize(
    "command", ["reconstruct", "adjoint-test", "phantom", "reproduce", "bench"]
)
def test_every_option_has_help_and_shows_its_default(command):
    parser = _subparsers()[command]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or not action.option_strings:
            continue
        text = action.help or ""
        assert text, action.option_strings
        assert "default" in text or "required" in text, (action.option_strings, text)


def test_reproduce_help_says_how_long_quick_takes(capsys):
    assert main(["reproduce", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "about 70 s on one CPU thread" in text
    assert "under a minute" not in text


# -- progress on long loops, and a limit on absurd iteration counts -------------------------------


@pytest.mark.parametrize(
    ("method", "extra", "label"),
    [
        ("landweber", ["--iters", "3"], "landweber"),
        ("cgls", ["--iters", "3"], "cgls"),
        ("tv", ["--alpha", "0.01", "--iters", "3"], "tv"),
        ("tikhonov", ["--alpha", "0.1"], "tikhonov"),
    ],
)
def test_iterative_methods_show_a_progress_bar_unless_quiet(
    tmp_path, sino, capsys, method, extra, label
):
    argv = ["reconstruct", str(tmp_path / "sino.npy"), "--angles", "12", "--method", method]
    assert main([*argv, *extra, "-o", str(tmp_path / "a.npy")]) == 0
    assert label in capsys.readouterr().err
    assert main([*argv, *extra, "--quiet", "-o", str(tmp_path / "b.npy")]) == 0
    assert capsys.readouterr().err == ""


def test_phantom_shows_a_progress_bar_unless_quiet(tmp_path, capsys):
    assert main(["phantom", "--n", "16", "--count", "3", "-o", str(tmp_path / "a.npz")]) == 0
    assert "phantoms" in capsys.readouterr().err
    argv = ["phantom", "--n", "16", "--count", "3", "--quiet", "-o", str(tmp_path / "b.npz")]
    assert main(argv) == 0
    assert capsys.readouterr().err == ""


def test_tikhonov_by_discrepancy_shows_its_solves(tmp_path, sino, capsys):
    _, y = sino
    yd, d = ip.add_noise(torch.from_numpy(y)[None, None], 0.05, seed=0)
    np.save(tmp_path / "noisy.npy", yd[0, 0].numpy())
    argv = ["reconstruct", str(tmp_path / "noisy.npy"), "--angles", "12", "--method", "tikhonov"]
    assert main([*argv, "--delta", str(float(d[0])), "-o", str(tmp_path / "t.npy")]) == 0
    assert "discrepancy principle" in capsys.readouterr().err


@pytest.mark.parametrize("iters", [cli.MAX_ITERS + 1, 10**13])
def test_absurd_iteration_counts_are_refused_naming_the_limit(tmp_path, sino, capsys, iters):
    argv = ["reconstruct", str(tmp_path / "sino.npy"), "--angles", "12", "--method", "landweber"]
    argv += ["--iters", str(iters), "-o", str(tmp_path / "rec.npy")]
    _refused(capsys, argv, "--iters", str(cli.MAX_ITERS), nothing_at=_outputs(tmp_path))


# -- options that do not apply, and numbers that are not finite or out of range ------------------


@pytest.mark.parametrize(
    ("method", "extra", "flag"),
    [
        ("landweber", ["--tau", "0.5"], "--tau"),
        ("fbp", ["--alpha", "1"], "--alpha"),
        ("fbp", ["--lam", "nan"], "--lam"),
        ("fbp", ["--iters", "5"], "--iters"),
        ("tikhonov", ["--alpha", "1", "--iters", "5"], "--iters"),
        ("tv", ["--alpha", "0.1", "--delta", "1"], "--delta"),
        ("tikhonov", ["--alpha", "0.1", "--delta", "1"], "--delta"),
        ("cgls", ["--filter", "hann"], "--filter"),
        ("landweber", ["--no-fbp-mask"], "--no-fbp-mask"),
        ("fbp", ["--checkpoint", "x.pt"], "--checkpoint"),
        ("landweber", ["--tau-dp", "1.5"], "--tau-dp"),
    ],
)
def test_an_option_the_method_ignores_is_refused(tmp_path, sino, capsys, method, extra, flag):
    argv = ["reconstruct", str(tmp_path / "sino.npy"), "--angles", "12", "--method", method]
    argv += [*extra, "-o", str(tmp_path / "rec.npy")]
    _refused(capsys, argv, flag, nothing_at=_outputs(tmp_path))


@pytest.mark.parametrize(
    ("operator", "extra", "flag"),
    [
        ("blur", ["--angles", "12"], "--angles"),
        ("blur", ["--sinogram-layout", "det,angles"], "--sinogram-layout"),
        ("identity", ["--kernel", "box:3"], "--kernel"),
        ("ray", ["--mask", "m.npy", "--angles", "12"], "--mask"),
        ("ray", ["--factor", "2", "--angles", "12"], "--factor"),
    ],
)
def test_an_option_the_operator_ignores_is_refused(tmp_path, sino, capsys, operator, extra, flag):
    argv = ["reconstruct", str(tmp_path / "sino.npy"), "--operator", operator]
    argv += ["--method", "landweber", *extra, "-o", str(tmp_path / "rec.npy")]
    err = _refused(capsys, argv, flag, nothing_at=_outputs(tmp_path))
    assert f"--operator {operator}" in err


def test_key_is_refused_for_an_input_that_is_not_npz(tmp_path, sino, capsys):
    argv = _fbp_argv(tmp_path, tmp_path / "sino.npy", "--angles", "12", "--key", "y")
    _refused(capsys, argv, "--key", nothing_at=_outputs(tmp_path))


@pytest.mark.parametrize(
    ("method", "extra", "flag"),
    [
        ("tikhonov", ["--alpha", "nan"], "--alpha"),
        ("tikhonov", ["--alpha", "inf"], "--alpha"),
        ("tikhonov", ["--alpha", "-1"], "--alpha"),
        ("tikhonov", ["--delta", "nan"], "--delta"),
        ("landweber", ["--delta", "0.1", "--tau-dp", "inf"], "--tau-dp"),
        ("landweber", ["--delta", "0.1", "--tau-dp", "1"], "--tau-dp"),
        ("tv", ["--alpha=-inf"], "--alpha"),
        ("ar", ["--lam", "nan", "--checkpoint", "x.pt"], "--lam"),
        ("pnp", ["--tau", "nan", "--checkpoint", "x.pt"], "--tau"),
        ("pnp", ["--tau", "2", "--checkpoint", "x.pt"], "--tau"),
        ("landweber", ["--iters", "0"], "--iters"),
        ("landweber", ["--spp", "0"], "--spp"),
        ("landweber", ["--n-det", "0"], "--n-det"),
    ],
)
def test_numbers_must_be_finite_and_in_range(tmp_path, sino, capsys, method, extra, flag):
    argv = ["reconstruct", str(tmp_path / "sino.npy"), "--angles", "12", "--method", method]
    argv += [*extra, "-o", str(tmp_path / "rec.npy")]
    _refused(capsys, argv, flag, nothing_at=_outputs(tmp_path))


@pytest.mark.parametrize("spec", ["gaussian:nan", "gaussian:inf", "gaussian:-1", "box:0"])
def test_blur_kernel_size_must_be_finite_and_positive(tmp_path, sino, capsys, spec):
    argv = ["reconstruct", str(tmp_path / "sino.npy"), "--operator", "blur"]
    argv += ["--method", "landweber", "--kernel", spec, "-o", str(tmp_path / "rec.npy")]
    _refused(capsys, argv, "--kernel", nothing_at=_outputs(tmp_path))


def test_a_blur_kernel_wider_than_the_image_is_refused(tmp_path, sino, capsys):
    argv = ["reconstruct", str(tmp_path / "sino.npy"), "--operator", "blur"]
    argv += ["--method", "landweber", "--kernel", "gaussian:1e6", "-o", str(tmp_path / "r.npy")]
    _refused(capsys, argv, "--kernel", "wide", nothing_at=_outputs(tmp_path, "r"))


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["phantom", "--kind", "shepp-logan", "--count", "3"], "--count"),
        (["phantom", "--n", "1"], "--n"),
        (["phantom", "--n", "100000"], "--n"),
        (["phantom", "--n", "4096", "--count", "100"], "--count"),
        (["phantom", "--count", "0"], "--count"),
    ],
)
def test_phantom_refuses_options_that_do_not_apply_or_do_not_fit(tmp_path, capsys, argv, flag):
    _refused(
        capsys, [*argv, "-o", str(tmp_path / "ph.npz")], flag, nothing_at=_outputs(tmp_path, "ph")
    )


# -- outputs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "suffix"),
    [
        (["reconstruct", "{sino}", "--angles", "12", "--method", "fbp"], ".npy"),
        (["phantom", "--n", "16"], ".npz"),
    ],
)
def test_output_must_end_in_the_format_written(tmp_path, sino, capsys, argv, suffix):
    argv = [a.replace("{sino}", str(tmp_path / "sino.npy")) for a in argv]
    out = tmp_path / "out.txt"
    _refused(
        capsys, [*argv, "-o", str(out)], "-o/--output", f"must end in {suffix}", nothing_at=[out]
    )
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (
            ["reconstruct", "{sino}", "--angles", "12", "--method", "fbp", "-o", "{file}/r.npy"],
            "-o",
        ),
        (["phantom", "--n", "16", "-o", "{file}/ph.npz"], "-o"),
        (["reproduce", "--quick", "--quiet", "--device", "cpu", "--out", "{file}/sub"], "--out"),
        (["bench", "--quick", "--quiet", "--device", "cpu", "--out", "{file}/sub"], "--out"),
    ],
    ids=["reconstruct", "phantom", "reproduce", "bench"],
)
def test_an_output_under_a_regular_file_is_refused_before_any_work(
    tmp_path, sino, capsys, argv, flag
):
    # a path under a regular file cannot be written even by root
    blocker = tmp_path / "plain.txt"
    blocker.write_text("a file, not a folder")
    argv = [
        a.replace("{sino}", str(tmp_path / "sino.npy")).replace("{file}", str(blocker))
        for a in argv
    ]
    _refused(capsys, argv, flag, "plain.txt")
    assert blocker.read_text() == "a file, not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.txt", "sino.npy"]


def test_reconstruct_prints_one_wrote_line(tmp_path, sino, capsys):
    out = tmp_path / "rec.npy"
    assert main(_fbp_argv(tmp_path, tmp_path / "sino.npy", "--angles", "12")) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"


def test_phantom_prints_one_wrote_line(tmp_path, capsys):
    out = tmp_path / "ph.npz"
    assert main(["phantom", "--n", "16", "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"


# -- the library's progress hooks ----------------------------------------------------------------


def _blur_problem():
    A = ip.Blur(ip.gaussian_kernel(1.0), "zero", shape=(8, 8))
    x = torch.rand(1, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    return A, A(x)


@pytest.mark.parametrize(
    "solve",
    [
        pytest.param(lambda A, y, cb: ip.landweber(A, y, max_iter=4, callback=cb), id="landweber"),
        pytest.param(lambda A, y, cb: ip.cgls(A, y, max_iter=4, callback=cb), id="cgls"),
        pytest.param(lambda A, y, cb: ip.pdhg_tv(A, y, 0.01, max_iter=4, callback=cb), id="tv"),
        pytest.param(
            lambda A, y, cb: ip.tikhonov(A, y, 0.1, method="cg", max_iter=4, callback=cb),
            id="tikhonov-cg",
        ),
        pytest.param(
            lambda A, y, cb: ip.AdversarialRegularizer(ip.ConvCritic()).reconstruct(
                A, y.float()[None], 0.1, steps=4, callback=cb
            ),
            id="ar",
        ),
    ],
)
def test_solvers_report_each_iteration_to_the_callback(solve):
    A, y = _blur_problem()
    seen = []
    result = solve(A, y, seen.append)
    assert seen == list(range(1, result.iterations + 1)) and seen


@pytest.mark.parametrize(
    "solve",
    [
        pytest.param(lambda A, y, d, cb: ip.discrepancy_alpha(A, y, d, callback=cb), id="tikhonov"),
        pytest.param(
            lambda A, y, d, cb: ip.LinearPnP(
                A, ip.CirculantDenoiser(torch.full((8, 8), 0.5, dtype=torch.float64))
            ).tau_by_discrepancy(y, d, callback=cb),
            id="pnp",
        ),
    ],
)
def test_discrepancy_searches_report_each_solve_to_the_callback(solve):
    A, y = _blur_problem()
    yd, d = ip.add_noise(y, 0.05, seed=1)
    seen = []
    solve(A, yd, float(d[0]), seen.append)
    assert seen == list(range(1, len(seen) + 1)) and len(seen) >= 2


def test_random_ellipses_reports_each_image_to_the_callback():
    seen = []
    images, _ = ip.random_ellipses(8, 3, seed=0, callback=seen.append)
    assert seen == [1, 2, 3]
    assert torch.equal(images, ip.random_ellipses(8, 3, seed=0)[0])


def test_callbacks_do_not_change_the_result():
    A, y = _blur_problem()
    plain = ip.landweber(A, y, max_iter=5).x
    watched = ip.landweber(A, y, max_iter=5, callback=lambda k: None).x
    assert torch.equal(plain, watched)


@pytest.mark.parametrize("load", [ip.AdversarialRegularizer.load, ip.CirculantDenoiser.load])
def test_checkpoint_loaders_name_the_argument_they_are_given(tmp_path, load):
    (tmp_path / "bad.pt").write_bytes(b"junk")
    with pytest.raises(InputError) as info:
        load(tmp_path / "bad.pt", argument="--critic")
    assert str(info.value).startswith("--critic:") and "bad.pt" in str(info.value)
