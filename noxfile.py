"""The one task runner of the monorepo (uv backend; run it through ``python3 tools/run.py``).

Sessions: lint, meta, typecheck, tests, isolated(pkg), integration, reproduce, bench, build.
``nox -s tests -- <pkg> [<pkg> ...]`` narrows the package tests to some packages; so does
``nox -s reproduce -- --quick <pkg>``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))

import uvenv  # noqa: E402

import packages as pk  # noqa: E402

# Every uv call nox makes gets the repository's uv set-up, however nox was started.
os.environ.update(uvenv.uv_environment())
# Without cached bytecode every process pays for compiling torch's Python (torch.optim alone
# pulls in torch._dynamo: about 15 s instead of 4): let the environments keep their .pyc files.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

nox.options.default_venv_backend = "uv"
nox.options.error_on_external_run = True
nox.options.sessions = ["lint", "meta", "typecheck", "tests", "isolated", "integration"]

PKGS = pk.discover(ROOT)
ORDER = pk.topological(PKGS)
JUNIT = Path(os.environ.get("SCIML_JUNIT_DIR", ROOT / ".tools" / "junit"))
REPORTS = ROOT / "reports"
WHEELS = ROOT / ".nox" / "_wheels"
SINGLE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
}
LINT_PATHS = ["packages", "tools", "tests-integration", "noxfile.py"]


def _site_packages(session: nox.Session) -> Path:
    lib = Path(session.virtualenv.location) / "lib"
    return next(lib.glob("python3*/site-packages"))


def _all_extras(pkg: pk.Package) -> str:
    return f"[{','.join(sorted(pkg.extras))}]" if pkg.extras else ""


def _install_workspace(session: nox.Session, names: list[str]) -> None:
    """Every named package (editable, all extras) with every test group, in one resolution."""
    args: list[str] = []
    for name in names:
        pkg = PKGS[name]
        spec = f"{pkg.path}{_all_extras(pkg)}"
        args += ["-e", spec]
        args += pkg.test_group
    session.install(*args)
    uvenv.check_hardlinked(_site_packages(session))


def _pytest(session: nox.Session, label: str, args: list[str], *, cwd: Path) -> bool:
    """One pytest process writing JUnit XML; returns whether it passed.

    A process that dies before writing its XML leaves a ``.crashed`` marker, which the CI summary
    counts as a failure. Exit code 5 (nothing collected) is a failure too.
    """
    JUNIT.mkdir(parents=True, exist_ok=True)
    xml = JUNIT / f"{label}.xml"
    xml.unlink(missing_ok=True)
    (JUNIT / f"{label}.crashed").unlink(missing_ok=True)
    with session.chdir(cwd):
        session.run(
            "python",
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            f"--junitxml={xml}",
            "-o",
            "junit_family=xunit1",
            *args,
            env=SINGLE_THREAD,
            success_codes=list(range(256)),
            silent=False,
        )
    if not xml.exists():
        (JUNIT / f"{label}.crashed").write_text("pytest wrote no JUnit XML\n")
        return False
    suite = ET.parse(xml).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    tests = int(suite.get("tests", 0))
    bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    if tests == 0:
        (JUNIT / f"{label}.crashed").write_text("pytest collected no test\n")
        return False
    return bad == 0


def _selected(session: nox.Session) -> list[str]:
    wanted = [a for a in session.posargs if not a.startswith("-")]
    unknown = [w for w in wanted if w not in PKGS]
    if unknown:
        session.error(f"unknown package(s) {unknown}; known: {sorted(PKGS)}")
    return [n for n in ORDER if not wanted or n in wanted]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole repository."""
    session.install("ruff")
    session.run("ruff", "check", *LINT_PATHS)
    session.run("ruff", "format", "--check", *LINT_PATHS)


@nox.session
def meta(session: nox.Session) -> None:
    """Package invariants of ARCHITECTURE.md (tools/meta.py) and the tests that show it failing."""
    session.install("-e", str(PKGS[pk.CORE].path), "pytest", "hypothesis")
    ok = _pytest(session, "meta", ["tools/tests"], cwd=ROOT)
    session.run("python", str(ROOT / "tools" / "meta.py"))
    if not ok:
        session.error("the tests of tools/ failed")


@nox.session
def tests(session: nox.Session) -> None:
    """One shared environment, every package editable; each package's tests in its own process."""
    _install_workspace(session, ORDER)
    failed = [
        n for n in _selected(session) if not _pytest(session, f"tests-{n}", [], cwd=PKGS[n].path)
    ]
    if failed:
        session.error(f"tests failed in: {', '.join(failed)}")


def _build_wheel(session: nox.Session, name: str) -> Path:
    out = WHEELS / name
    shutil.rmtree(out, ignore_errors=True)
    session.run(
        "uv", "build", "--wheel", "--quiet", "--out-dir", str(out), str(PKGS[name].path),
        external=True,
    )  # fmt: skip
    wheels = sorted(out.glob("*.whl"))
    if len(wheels) != 1:
        session.error(f"expected one wheel for {name}, found {wheels}")
    return wheels[0]


@nox.session
@nox.parametrize("pkg", ORDER)
def isolated(session: nox.Session, pkg: str) -> None:
    """The package's built wheel (and its siblings') in a fresh environment, tests against it.

    Only the package's declared dependencies and its test group are installed: an undeclared
    import or a file missing from the wheel fails here.
    """
    wheels = [_build_wheel(session, name) for name in pk.closure(pkg, PKGS)]
    package = PKGS[pkg]
    session.install(*map(str, wheels), *package.test_group)
    uvenv.check_hardlinked(_site_packages(session))
    declared = {pk.requirement_name(r) for r in package.dependencies + package.test_group}
    if "torch" not in declared:
        # A package that needs no torch is tested where torch cannot even be imported.
        session.run(
            "python", "-c",
            "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is not None)",
        )  # fmt: skip
    tmp = Path(session.create_tmp())
    # Copy the tests out of the source tree so nothing can import from src/.
    tests_copy = tmp / "tests"
    shutil.rmtree(tests_copy, ignore_errors=True)
    shutil.copytree(package.path / "tests", tests_copy)
    shutil.copy(package.path / "pyproject.toml", tmp / "pyproject.toml")
    # Doctests run in the ``tests`` session: here extras such as torch may be absent by design.
    args = ["tests", "-m", "not slow"]
    if not _pytest(session, f"isolated-{pkg}", args, cwd=tmp):
        session.error(f"isolated tests of {pkg} failed")


@nox.session
def integration(session: nox.Session) -> None:
    """Tests that cross package boundaries, against every package installed together."""
    _install_workspace(session, ORDER)
    if not _pytest(session, "integration", ["tests-integration"], cwd=ROOT):
        session.error("integration tests failed")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy over every package's sources in one run (fails on any error; part of the tests)."""
    _install_workspace(session, ORDER)
    session.install("mypy")
    # One mypy process for all packages: torch's stubs are analysed once, not once per package.
    session.run("mypy", *(str(PKGS[name].path / "src") for name in ORDER))


@nox.session
def reproduce(session: nox.Session) -> None:
    """Every method package's ``reproduce`` (--quick by default, --full), then the report."""
    _install_workspace(session, ORDER)
    mode = "--full" if "--full" in session.posargs else "--quick"
    REPORTS.mkdir(exist_ok=True)
    runs = []
    for name in _selected(session):
        pkg = PKGS[name]
        if not pkg.is_method:
            continue
        out = REPORTS / name
        shutil.rmtree(out, ignore_errors=True)
        log = REPORTS / f"{name}.log"
        start = time.perf_counter()
        with log.open("w") as stream:
            session.run(
                name, "reproduce", mode, "--out", str(out), "--seed", "0",
                stdout=stream, stderr=stream, success_codes=list(range(256)),
                # One thread: on two shared cores a second intra-op thread made chebnet-stable's
                # quick run 10x slower (190 s instead of 19 s) whenever anything else ran.
                env=SINGLE_THREAD,
            )  # fmt: skip
        result = out / "result.json"
        runs.append(
            {
                "package": name,
                "ok": result.exists(),
                "wall_s": round(time.perf_counter() - start, 1),
                "log": log.name,
            }
        )
    (REPORTS / "runs.json").write_text(json.dumps({"mode": mode, "runs": runs}, indent=1))
    session.run("python", str(ROOT / "tools" / "report.py"), str(REPORTS))


@nox.session
def bench(session: nox.Session) -> None:
    """Every method package's ``bench`` against its named peer (ratios printed)."""
    _install_workspace(session, ORDER)
    for name in _selected(session):
        if PKGS[name].is_method:
            session.run(name, "bench", "--out", str(REPORTS / "bench" / name))


@nox.session
def build(session: nox.Session) -> None:
    """sdist and wheel of every package into dist/<package>/ (each builds alone)."""
    for name in _selected(session):
        out = ROOT / "dist" / name
        shutil.rmtree(out, ignore_errors=True)
        session.run("uv", "build", "--out-dir", str(out), str(PKGS[name].path), external=True)
