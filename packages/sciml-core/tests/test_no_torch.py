"""The core never imports torch: importing it and running the CLI end to end leaves torch out."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import json, sys, warnings
    from pathlib import Path
    import numpy as np
    import sciml_core
    from sciml_core import InputError, Result, psnr, ssim, relative_l2, estimate_operator_norm
    from sciml_core.cli import App, progress, wrote

    def bad(args):
        raise InputError("level must be >= 0; got -1")

    def bug(args):
        raise ZeroDivisionError("a real bug")

    def write(args):
        for _ in progress(range(3), desc="writing"):
            pass
        args.output.write_text("written")

    def reproduce(args):
        res = Result("demo", "0.1.0", seed=args.seed, device=args.device, quick=args.quick)
        x = np.random.default_rng(args.seed).random((16, 16))
        res.add_table("m", "Metrics", ["psnr", "ssim", "rel"],
                      [[psnr(x + 0.01, x), ssim(x + 0.01, x), relative_l2(x + 0.01, x)]])
        A = np.diag([2.0, 1.0])
        res.add_claim("norm", 2.0, estimate_operator_norm(A, None, np.zeros(2)).lower, True)
        # every other numpy-side helper, so none of them may pull torch in either
        sciml_core.seed_everything(args.seed)
        rng = sciml_core.sample_generator(sciml_core.root_seed(args.seed), 3)
        sciml_core.check_finite(rng.random(4), "x")
        sciml_core.as_generator(None)
        defect = sciml_core.adjoint_test(lambda v: A @ v, lambda w: A.T @ w, np.ones(2), np.ones(2))
        sciml_core.matrix_norm_bound(A)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            c = sciml_core.compare_timing(lambda: A @ A, lambda: A @ A @ A, repeats=1, warmup=0)
        sciml_core.format_comparisons([c])
        res.add_table("t", "Timing", list(c.row()), [list(c.row().values())])
        res.add_claim("adjoint", "< 1e-14", defect, defect < 1e-14)
        sciml_core.load_result(res.save(args.out))
        np.save(args.out / "x.npy", x)
        np.savez(args.out / "x.npz", x=x)
        sciml_core.read_array(args.out / "x.npy", argument="x")
        sciml_core.read_archive(args.out / "x.npz", argument="x", required=["x"])
        wrote(args.out / "result.json")

    app = App("demo", version="0.1.0")
    app.add_command("bad", bad, help="raises InputError")
    app.add_command("bug", bug, help="raises a bug")
    app.add_output_argument(app.add_command("write", write, help="writes a file"))
    app.add_reproduce(reproduce, device=False)
    codes = {}
    for name, argv in json.loads(sys.argv[1]).items():
        codes[name] = app.run(argv)
    print(json.dumps({"codes": codes, "torch": "torch" in sys.modules}))
    """
)


def test_cli_end_to_end_never_imports_torch(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    runs = {
        "bad": ["bad"],
        "bug": ["bug"],
        "write": ["write", "-o", str(target), "--quiet"],
        "again": ["write", "-o", str(target)],
        "overwrite": ["write", "-o", str(target), "--overwrite"],
        "reproduce": ["reproduce", "--quick", "--out", str(tmp_path / "rep")],
        "usage": ["write", "--no-such-flag"],
    }
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(runs)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["torch"] is False
    assert report["codes"] == {
        "bad": 2,
        "bug": 1,
        "write": 0,
        "again": 2,
        "overwrite": 0,
        "reproduce": 0,
        "usage": 2,
    }
    err = proc.stderr
    assert "demo: error: level must be >= 0; got -1\n" in err
    assert "Traceback (most recent call last)" in err
    assert "ZeroDivisionError: a real bug" in err
    assert "exists; pass --overwrite" in err
    assert target.read_text() == "written"
    result = json.loads((tmp_path / "rep" / "result.json").read_text())
    assert result["meta"]["quick"] is True
    assert result["meta"]["device"] == "cpu"
    assert f"wrote {tmp_path / 'rep' / 'result.json'}\n" in proc.stdout


def test_import_alone_loads_no_optional_dependency() -> None:
    code = (
        "import sys, sciml_core, sciml_core.cli; "
        "optional = ('torch', 'scipy', 'matplotlib', 'skimage', 'tifffile', 'PIL', 'safetensors'); "
        "print(sorted(m for m in optional if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip() == "[]"


WEIGHTS_WITHOUT_TORCH = textwrap.dedent(
    """
    import sys
    sys.modules["torch"] = None  # torch cannot be imported here, whether installed or not
    import sciml_core
    from sciml_core import MissingExtraError
    calls = {
        "load_pretrained": lambda: sciml_core.load_pretrained(object(), sys.argv[1]),
        "inspect_weights": lambda: sciml_core.inspect_weights(sys.argv[1]),
    }
    for name, call in calls.items():
        try:
            call()
        except MissingExtraError as err:
            print(name, err)
        else:
            raise SystemExit(name + " did not raise MissingExtraError")
    """
)


def test_weights_loaders_without_torch_name_the_extra(tmp_path: Path) -> None:
    weights = tmp_path / "weights.pt"
    weights.write_bytes(b"not read: torch is checked first")
    proc = subprocess.run(
        [sys.executable, "-c", WEIGHTS_WITHOUT_TORCH, str(weights)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["load_pretrained", "inspect_weights"]
    assert all("pip install 'sciml-core[torch]'" in line for line in lines)
