"""The public API is pinned: adding or removing a name is a deliberate, reviewed change."""

from __future__ import annotations

import sciml_core
import sciml_core.cli

PUBLIC = {
    "RESULT_SCHEMA_VERSION",
    "Checkpoint",
    "Comparison",
    "InputError",
    "Job",
    "LoadReport",
    "MissingExtraError",
    "NormEstimate",
    "Result",
    "SeedLike",
    "WeightsInfo",
    "WorkerError",
    "__version__",
    "adjoint_test",
    "as_generator",
    "as_torch_generator",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_finite",
    "compare_timing",
    "estimate_operator_norm",
    "format_comparisons",
    "get_pyplot",
    "gradient_check",
    "inspect_weights",
    "load_checkpoint",
    "load_pretrained",
    "load_result",
    "matrix_norm_bound",
    "psnr",
    "read_archive",
    "read_array",
    "read_image",
    "read_torch_file",
    "read_user_file",
    "relative_l2",
    "require_extra",
    "resolve_device",
    "resolve_dtype",
    "root_seed",
    "run_jobs",
    "sample_generator",
    "sample_seed_sequence",
    "save_checkpoint",
    "save_figure",
    "seed_everything",
    "ssim",
    "validate_result",
}

CLI_PUBLIC = {"COMMON_FLAGS", "App", "check_output", "is_quiet", "progress", "set_quiet", "wrote"}


def test_all_is_pinned() -> None:
    assert set(sciml_core.__all__) == PUBLIC
    assert len(sciml_core.__all__) == len(PUBLIC)


def test_every_public_name_exists() -> None:
    for name in PUBLIC:
        assert hasattr(sciml_core, name), name


def test_cli_all_is_pinned() -> None:
    assert set(sciml_core.cli.__all__) == CLI_PUBLIC
    for name in CLI_PUBLIC:
        assert hasattr(sciml_core.cli, name), name


def test_version_is_0_2_0() -> None:
    assert sciml_core.__version__ == "0.2.0"


def test_error_types_are_the_documented_builtins() -> None:
    assert issubclass(sciml_core.InputError, ValueError)
    assert issubclass(sciml_core.MissingExtraError, ImportError)


def test_result_schema_version_is_1() -> None:
    assert sciml_core.RESULT_SCHEMA_VERSION == 1
