import subprocess
import sys

import fno_conserve

EXPECTED = {
    "FNO",
    "FNO1d",
    "FNO2d",
    "SpectralConv",
    "ConservationCorrection",
    "ConservationPenalty",
    "ConservedOperator",
    "LinearConstraint",
    "Monomial",
    "PointwiseMLP",
    "QuadraticConstraint",
    "RelLpLoss",
    "__version__",
    "conservation_error",
    "generate",
    "grid",
    "load_dataset",
    "posthoc_projection",
    "prolong",
    "quadrature_weights",
    "restrict",
    "save_dataset",
    "TrainConfig",
    "DivergenceError",
    "build_model",
    "train_model",
    "evaluate",
    "load_trained",
    "save_trained",
    "load_fno_mat",
    "load_pdebench",
}


def test_public_api_is_pinned():
    assert set(fno_conserve.__all__) == EXPECTED
    for name in fno_conserve.__all__:
        assert hasattr(fno_conserve, name), name
    assert fno_conserve.__version__ == "0.1.0"


def test_import_does_not_import_neuraloperator_or_h5py():
    code = (
        "import sys, fno_conserve, fno_conserve.cli; "
        "bad = [m for m in ('neuralop', 'h5py', 'matplotlib') if m in sys.modules]; "
        "print(bad); raise SystemExit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_importing_the_package_and_cli_does_not_load_the_experiments():
    code = (
        "import sys, fno_conserve, fno_conserve.cli; "
        "bad = [m for m in sys.modules if m.startswith('fno_conserve._experiments')]; "
        "print(bad); raise SystemExit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cli_case_choices_are_the_registered_studies():
    from fno_conserve._experiments.registry import STUDIES
    from fno_conserve.cli import CASES

    assert (*STUDIES, "all") == CASES
