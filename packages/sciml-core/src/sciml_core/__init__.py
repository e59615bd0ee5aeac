"""sciml-core: the common core of the sciml packages.

Seeds, devices and dtypes, image metrics, numerical self-checks (adjoint test, gradient check,
operator norms), side-by-side timing, ``result.json`` writing, atomic files, checkpoints, and the
command-line plumbing in :mod:`sciml_core.cli`. Needs numpy and tqdm only; torch is used when the
caller has imported it and is never imported here at import time.
"""

from .__about__ import __version__ as __version__
from ._checkpoint import Checkpoint as Checkpoint
from ._checkpoint import load_checkpoint as load_checkpoint
from ._checkpoint import save_checkpoint as save_checkpoint
from ._checks import adjoint_test as adjoint_test
from ._checks import gradient_check as gradient_check
from ._device import resolve_device as resolve_device
from ._device import resolve_dtype as resolve_dtype
from ._errors import InputError as InputError
from ._errors import MissingExtraError as MissingExtraError
from ._errors import check_finite as check_finite
from ._errors import require_extra as require_extra
from ._io import atomic_path as atomic_path
from ._io import atomic_write_bytes as atomic_write_bytes
from ._io import atomic_write_text as atomic_write_text
from ._io import get_pyplot as get_pyplot
from ._io import save_figure as save_figure
from ._jobs import Job as Job
from ._jobs import WorkerError as WorkerError
from ._jobs import run_jobs as run_jobs
from ._metrics import psnr as psnr
from ._metrics import relative_l2 as relative_l2
from ._metrics import ssim as ssim
from ._norm import NormEstimate as NormEstimate
from ._norm import estimate_operator_norm as estimate_operator_norm
from ._norm import matrix_norm_bound as matrix_norm_bound
from ._pretrained import LoadReport as LoadReport
from ._pretrained import WeightsInfo as WeightsInfo
from ._pretrained import inspect_weights as inspect_weights
from ._pretrained import load_pretrained as load_pretrained
from ._readers import read_archive as read_archive
from ._readers import read_array as read_array
from ._readers import read_image as read_image
from ._readers import read_torch_file as read_torch_file
from ._readers import read_user_file as read_user_file
from ._result import RESULT_SCHEMA_VERSION as RESULT_SCHEMA_VERSION
from ._result import Result as Result
from ._result import load_result as load_result
from ._result import validate_result as validate_result
from ._seed import SeedLike as SeedLike
from ._seed import as_generator as as_generator
from ._seed import as_torch_generator as as_torch_generator
from ._seed import root_seed as root_seed
from ._seed import sample_generator as sample_generator
from ._seed import sample_seed_sequence as sample_seed_sequence
from ._seed import seed_everything as seed_everything
from ._timing import Comparison as Comparison
from ._timing import compare_timing as compare_timing
from ._timing import format_comparisons as format_comparisons

__all__ = [
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
]
