"""``smoothprune spectrum``: the table, the figure and JSON with --out, and bad input."""

import json
import sys

import pytest
import torch
from smoothprune import SmallCNN, compress_model, save_compressed
from smoothprune.__about__ import __version__
from smoothprune.cli import main

from sciml_core import save_checkpoint


def _checkpoint(path, model):
    save_checkpoint(
        path,
        model.state_dict(),
        config={"arch": "smallcnn"},
        package="smoothprune",
        version=__version__,
    )
    return path


def _smooth(model):
    """Every compressible weight's rows affine in the output index: rank <= 2."""
    with torch.no_grad():
        for name in ("c2", "c3", "f1"):
            w = getattr(model, name).weight
            o = torch.arange(w.shape[0], dtype=w.dtype).reshape(-1, *[1] * (w.ndim - 1))
            w.copy_(w[:1] + o * (w[1:2] - w[:1]))
    return model


@pytest.fixture
def models(tmp_path):
    torch.manual_seed(0)
    plain = _checkpoint(tmp_path / "plain.pt", SmallCNN())
    smooth = _checkpoint(tmp_path / "smooth.pt", _smooth(SmallCNN()))
    return plain, smooth


def _rows(text):
    return [line.split() for line in text.strip().splitlines()[1:]]


def test_table_has_one_row_per_model_and_layer_and_sees_the_low_rank(models, capsys):
    plain, smooth = models
    assert main(["spectrum", str(plain), str(smooth), "--label", "plain", "smooth"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert [(r[0], r[1]) for r in rows] == [
        (m, layer) for m in ("plain", "smooth") for layer in ("c2", "c3", "f1")
    ]
    r99 = {(r[0], r[1]): int(r[-1]) for r in rows}
    assert all(r99["smooth", layer] <= 2 for layer in ("c2", "c3", "f1"))
    assert all(r99["plain", layer] > 2 for layer in ("c2", "c3", "f1"))


def test_out_writes_the_figure_and_the_singular_values(models, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plain, _ = models
    out = tmp_path / "spec"
    assert main(["spectrum", str(plain), "--out", str(out)]) == 0
    stdout = capsys.readouterr().out.strip().splitlines()
    assert stdout == [f"wrote {out / 'spectrum.png'}", f"wrote {out / 'spectrum.json'}"]
    assert (out / "spectrum.png").read_bytes()[:4] == b"\x89PNG"
    data = json.loads((out / "spectrum.json").read_text())
    model = SmallCNN()
    model.load_state_dict(torch.load(plain, weights_only=True)["state_dict"])
    c3 = next(r for r in data["layers"]["plain"] if r["layer"] == "c3")
    expected = torch.linalg.svdvals(model.c3.weight.detach().double().reshape(128, -1))
    assert torch.allclose(torch.tensor(c3["sigma"], dtype=torch.float64), expected, rtol=1e-5)


@pytest.mark.parametrize(
    "argv",
    [
        ["{missing}"],
        ["{junk}"],
        ["{module}", "--arch", "smallcnn"],
        ["{compressed}"],
        ["{plain}", "--label", "a", "b"],
        ["{plain}", "{plain}"],
        ["{plain}", "{smooth}", "--label", "a", "a"],
        ["{plain}", "--scheme", "tucker"],
        ["{plain}", "--out", "{file}"],
        ["{state}", "--arch", "gapcnn", "--out", "{dir}"],
    ],
)
def test_bad_input_is_one_line_exit_two_and_nothing_written(argv, models, tmp_path, capsys):
    plain, smooth = models
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    module = tmp_path / "module.pt"
    torch.save(SmallCNN(), module)
    state = tmp_path / "state.pt"
    torch.save(SmallCNN().state_dict(), state)
    compressed = tmp_path / "compressed.pt"
    save_compressed(compress_model(SmallCNN(), keep=0.3), compressed)
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    names = {
        "missing": tmp_path / "nope.pt",
        "junk": junk,
        "module": module,
        "state": state,
        "compressed": compressed,
        "plain": plain,
        "smooth": smooth,
        "file": a_file,
        "dir": tmp_path / "out",
    }
    code = main(["spectrum", *[a.format(**names) for a in argv]])
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 or err.startswith("usage:")
    assert captured.out == ""
    assert not names["dir"].exists() and a_file.read_text() == "x"


def test_out_without_matplotlib_names_the_plot_extra_before_any_work(
    models, tmp_path, capsys, monkeypatch
):
    plain, _ = models
    out = tmp_path / "spec"
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code = main(["spectrum", str(plain), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "[plot]" in err and len(err.splitlines()) == 1
    assert not out.exists()
