"""The public API is pinned, and importing or running the package never loads heavy modules."""

from __future__ import annotations

import subprocess
import sys

import potcontrast

EXPECTED = {
    "NPCResult",
    "NullResult",
    "SparseBinsWarning",
    "__version__",
    "analyze",
    "auc",
    "bhattacharyya",
    "bootstrap_ci",
    "fisher_ratio",
    "jeffries_matusita",
    "ks_statistic",
    "npc",
    "npc_from_densities",
    "npc_from_histograms",
    "npc_from_samples",
    "npc_gaussian",
    "pc",
    "permutation_null",
    "read_image",
    "read_labels",
    "read_masks",
    "sparsity_floor",
}


def test_public_api_is_pinned():
    assert set(potcontrast.__all__) == EXPECTED
    for name in potcontrast.__all__:
        assert getattr(potcontrast, name) is not None
    assert potcontrast.__version__ == "0.1.0"


def test_no_heavy_imports():
    code = (
        "import sys, potcontrast\n"
        "heavy = [m for m in ('torch', 'PIL', 'tifffile', 'matplotlib') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_readme_example_runs_and_prints_npc_per_band():
    from importlib.metadata import metadata
    from pathlib import Path

    # the README travels in the package metadata (installed wheel), or next to the tests
    local = Path(__file__).parents[1] / "README.md"
    readme = local.read_text() if local.is_file() else str(metadata("potcontrast").get_payload())
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=True
    )
    first = done.stdout.splitlines()[0].strip("[]").split()
    assert len(first) == 4 and all(0.0 <= float(v) <= 1.0 for v in first)
