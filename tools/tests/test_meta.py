"""tools/meta.py catches each broken invariant, and passes a package made from the template."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOOLS))

import meta  # noqa: E402
import new_package  # noqa: E402

import packages as pk  # noqa: E402

REAL_CORE = pk.ROOT / "packages" / pk.CORE
#: The requirement on the core that a package made from the template declares.
CORE_REQ = new_package.core_requirement()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small monorepo: the real sciml-core beside two packages made by the template."""
    shutil.copytree(
        REAL_CORE,
        tmp_path / "packages" / pk.CORE,
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache"),
    )
    new_package.create(tmp_path, "demo-method", "A demo method.", torch=True)
    new_package.create(tmp_path, "other-method", "Another demo method.")
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def problems(root: Path) -> list[str]:
    return meta.check(root)


def test_template_packages_and_core_pass(repo):
    assert problems(repo) == []


def test_missing_changelog_is_caught(repo):
    (repo / "packages/demo-method/CHANGELOG.md").unlink()
    assert any("missing CHANGELOG.md" in p for p in problems(repo))


def test_changelog_without_unreleased_on_top_is_caught(repo):
    edit(repo / "packages/demo-method/CHANGELOG.md", "## [Unreleased]", "## [0.1.0] - 2026-11-26")
    assert any("[Unreleased]" in p for p in problems(repo))


@pytest.mark.parametrize("name", ["__about__.py", "py.typed", "cli.py"])
def test_missing_module_file_is_caught(repo, name):
    (repo / "packages/demo-method/src/demo_method" / name).unlink()
    assert any(f"missing src/demo_method/{name}" in p for p in problems(repo))


LIBRARY_IMPORTS_OF_EXPERIMENTS = [
    ("_method.py", "from ._experiments import reproduce\n"),
    ("_method.py", "from ._experiments.bench import bench\n"),
    ("_method.py", "from . import _experiments\n"),
    ("_method.py", "import demo_method._experiments.reproduce\n"),
    ("_method.py", "from demo_method._experiments import bench\n"),
    ("_method.py", "def helper():\n    from ._experiments import bench\n    return bench\n"),
    ("cli.py", "from ._experiments import reproduce\n"),
]


@pytest.mark.parametrize(("name", "source"), LIBRARY_IMPORTS_OF_EXPERIMENTS)
def test_library_module_importing_the_experiments_is_caught(repo, name, source):
    module = repo / "packages/demo-method/src/demo_method" / name
    module.write_text(source + (module.read_text() if module.exists() else ""))
    found = [p for p in problems(repo) if "imports _experiments" in p]
    assert len(found) == 1
    assert f"src/demo_method/{name}:" in found[0]


def test_cli_importing_the_experiments_inside_a_command_is_allowed(repo):
    cli = (repo / "packages/demo-method/src/demo_method/cli.py").read_text()
    assert "    from ._experiments.reproduce import reproduce" in cli  # the lazy import
    assert problems(repo) == []


def test_missing_experiments_package_is_caught(repo):
    shutil.rmtree(repo / "packages/demo-method/src/demo_method/_experiments")
    assert any("missing src/demo_method/_experiments/__init__.py" in p for p in problems(repo))


@pytest.mark.parametrize("name", ["_reproduce.py", "_bench.py"])
def test_experiment_module_at_the_top_level_is_caught(repo, name):
    (repo / "packages/demo-method/src/demo_method" / name).write_text('"""moved back."""\n')
    assert any(f"src/demo_method/{name} belongs in" in p for p in problems(repo))


def test_missing_public_api_test_is_caught(repo):
    (repo / "packages/demo-method/tests/test_public_api.py").unlink()
    assert any("test_public_api.py" in p for p in problems(repo))


def test_init_without_all_is_caught(repo):
    init = repo / "packages/demo-method/src/demo_method/__init__.py"
    init.write_text("from .__about__ import __version__ as __version__\n")
    assert any("__all__" in p for p in problems(repo))


def test_sibling_range_that_excludes_the_current_version_is_caught(repo):
    edit(repo / "packages/demo-method/pyproject.toml", CORE_REQ, "sciml-core>=0.0,<0.1")
    assert any("does not admit its current version" in p for p in problems(repo))


def test_exact_sibling_pin_is_caught(repo):
    edit(repo / "packages/demo-method/pyproject.toml", CORE_REQ, "sciml-core==0.2.0")
    assert any("compatible range" in p for p in problems(repo))


def test_direct_reference_is_caught(repo):
    edit(
        repo / "packages/demo-method/pyproject.toml",
        '"numpy>=1.24",',
        '"numpy @ https://example.invalid/numpy.whl",',
    )
    assert any("direct reference" in p for p in problems(repo))


def test_missing_core_dependency_is_caught(repo):
    edit(repo / "packages/demo-method/pyproject.toml", f'    "{CORE_REQ}",\n', "")
    assert any("depends on sciml-core" in p for p in problems(repo))


@pytest.mark.parametrize("spec", ["torch==2.13.0", "torch>=2.4,<2.14", "torch>=2.15"])
def test_torch_requirement_that_excludes_the_pin_or_caps_is_caught(repo, spec):
    edit(repo / "packages/demo-method/pyproject.toml", "torch>=2.4", spec)
    assert any("torch" in p for p in problems(repo))


def test_cycle_is_caught(repo):
    edit(
        repo / "packages/other-method/pyproject.toml",
        f'    "{CORE_REQ}",',
        f'    "{CORE_REQ}",\n    "demo-method>=0.1,<0.2",',
    )
    edit(
        repo / "packages/demo-method/pyproject.toml",
        f'    "{CORE_REQ}",',
        f'    "{CORE_REQ}",\n    "other-method>=0.1,<0.2",',
    )
    found = problems(repo)
    assert any(p.startswith("dependency cycle:") for p in found)
    assert any("is not in ARCHITECTURE.md's dependency graph" in p for p in found)


def test_missing_console_script_is_caught(repo):
    edit(repo / "packages/demo-method/pyproject.toml", 'demo-method = "demo_method.cli:main"', "")
    assert any("console script" in p for p in problems(repo))


def test_static_version_is_caught(repo):
    edit(repo / "packages/demo-method/pyproject.toml", 'dynamic = ["version"]', 'version = "0.1.0"')
    assert any("dynamic" in p for p in problems(repo))


def test_non_semver_version_is_caught(repo):
    (repo / "packages/demo-method/src/demo_method/__about__.py").write_text('__version__ = "one"\n')
    assert any("SemVer" in p for p in problems(repo))


def test_pytest_config_without_warnings_as_errors_is_caught(repo):
    edit(
        repo / "packages/demo-method/pyproject.toml",
        'filterwarnings = ["error"]',
        "filterwarnings = []",
    )
    assert any("filterwarnings" in p for p in problems(repo))


def test_missing_test_group_is_caught(repo):
    path = repo / "packages/demo-method/pyproject.toml"
    path.write_text(re.sub(r"\[dependency-groups\]\ntest = .*\n", "", path.read_text()))
    assert any("dependency-groups" in p for p in problems(repo))


def test_dependency_table_is_enforced_for_known_packages(repo):
    # sciml-core must require numpy and tqdm only: adding a heavy dependency breaks the contract.
    edit(repo / f"packages/{pk.CORE}/pyproject.toml", '"tqdm>=', '"scipy>=1.11",\n    "tqdm>=')
    assert any("ARCHITECTURE.md" in p and pk.CORE in p for p in problems(repo))


def test_invalid_result_json_is_caught(repo):
    pytest.importorskip("sciml_core")
    out = repo / "reports" / "demo-method"
    out.mkdir(parents=True)
    (out / "result.json").write_text(json.dumps({"schema": 2, "package": "demo-method"}))
    assert any("reports/demo-method/result.json" in p for p in problems(repo))


def test_admits_reads_ranges_like_pip():
    assert meta.admits(">=0.1,<0.2", "0.1.0")
    assert meta.admits(">=0.1,<0.2", "0.1.7")
    assert not meta.admits(">=0.1,<0.2", "0.2.0")
    assert not meta.admits(">=2.4", "2.3.9")
    assert meta.admits(">=2.4", "2.14.1")
    assert meta.admits("~=1.4", "1.9")
    assert not meta.admits("~=1.4.2", "1.5.0")
    assert meta.admits("==2.14.*", "2.14.1")


def test_the_repository_itself_passes():
    assert meta.check(pk.ROOT) == []


def test_a_template_package_passes_its_own_tests(repo):
    """The template's tests (public API, CLI, stub result) pass on a freshly created package."""
    pytest.importorskip("sciml_core")
    pytest.importorskip("hypothesis")
    package = repo / "packages" / "demo-method"
    env = dict(os.environ, PYTHONPATH=str(package / "src"))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=package, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " passed" in run.stdout and "failed" not in run.stdout


def _committed(repo: Path, name: str, data: object) -> None:
    folder = repo / "packages" / "demo-method" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else json.dumps(data)
    (folder / name).write_text(text)


def _full_result(**meta: object) -> dict:
    sciml_core = pytest.importorskip("sciml_core")
    result = sciml_core.Result("demo-method", "0.1.0", seed=0, device="cpu", quick=False)
    data = result.to_dict()
    data["meta"].update(meta)
    return data


def test_committed_result_that_is_not_json_is_caught(repo):
    _committed(repo, "sweep.json", "{not json")
    assert any("results/sweep.json" in p and "not JSON" in p for p in problems(repo))


def test_committed_full_run_must_be_a_result(repo):
    _committed(repo, "full_cpu.json", {"rows": []})
    assert any("results/full_cpu.json" in p and "Result" in p for p in problems(repo))


@pytest.mark.parametrize(
    "meta, needle",
    [({"quick": True, "machine": "x"}, "quick"), ({"machine": "", "note": ""}, "machine")],
)
def test_committed_full_run_must_say_full_and_where(repo, meta, needle):
    _committed(repo, "full_cpu.json", _full_result(**meta))
    assert any("results/full_cpu.json" in p and needle in p for p in problems(repo))


def test_committed_result_of_another_package_is_caught(repo):
    data = _full_result(machine="2 cores")
    data["package"] = "other-method"
    _committed(repo, "full_cpu.json", data)
    assert any("'other-method'" in p for p in problems(repo))


def test_committed_valid_full_run_and_plain_sweep_pass(repo):
    _committed(repo, "full_cpu.json", _full_result(machine="2 cores"))
    _committed(repo, "sweep.json", {"rows": [1, 2]})
    assert problems(repo) == []
