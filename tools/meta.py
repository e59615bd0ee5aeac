"""Package invariants of ARCHITECTURE.md, checked over every package of the monorepo.

    python tools/meta.py [ROOT]      prints each problem, exit 1 if there is any

What is checked, per package: the files every package must have; the pyproject shape (hatchling,
version read from ``__about__.py``, MIT, Python >= 3.11, a ``test`` dependency group, the pytest
configuration); the dependency table of ARCHITECTURE.md; sibling requirements as compatible ranges
that admit the sibling's current version (no pins, no direct references); a torch requirement that
is a lower bound only; allowed edges between method packages and no cycle; the console script; an
explicit ``__all__``; ``reproduce`` and ``bench`` in ``src/<module>/_experiments/``, which no
library module imports (``cli.py`` only, inside a function); a CHANGELOG whose first section is
``[Unreleased]``; and every ``reports/*/result.json`` present against the result schema (through
``sciml_core``, when importable).
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import packages as pk

CORE = pk.CORE

#: ARCHITECTURE.md's dependency table: required third-party distributions, and extras with theirs.
TABLE: dict[str, dict] = {
    "sciml-core": {
        "required": {"numpy", "tqdm"},
        "extras": {"torch": {"torch"}, "plot": {"matplotlib"}},
    },
    "potcontrast": {
        "required": {"numpy"},
        "extras": {"io": {"pillow", "tifffile"}, "plot": {"matplotlib"}},
    },
    "invprob-core": {
        "required": {"torch", "numpy"},
        "extras": {
            "bench": {"astra-toolbox"},
            "deepinv": {"deepinv"},
            "images": {"scikit-image"},
            "io": {"tifffile", "pillow"},
            "plot": {"matplotlib"},
        },
    },
    "fno-conserve": {
        "required": {"torch", "numpy", "scipy"},
        "extras": {"io": {"h5py"}, "bench": {"neuraloperator"}, "plot": {"matplotlib"}},
    },
    "mlmc-ops": {
        "required": {"torch", "numpy"},
        "extras": {"plot": {"matplotlib"}, "bench": {"neuraloperator"}},
    },
    "dsp-prior": {
        "required": {"torch", "numpy"},
        "extras": {
            "images": {"scikit-image"},
            "io": {"pillow"},
            "plot": {"matplotlib"},
            "bench": {"deepinv"},
        },
    },
    "chebnet-stable": {
        "required": {"torch", "numpy"},
        "extras": {
            "graphs": {"networkx", "scipy"},
            "pyg": {"torch-geometric"},
            "plot": {"matplotlib"},
        },
    },
    "lipres": {
        "required": {"torch", "numpy"},
        "extras": {
            "data": {"scikit-learn"},
            "bench": {"orthogonium", "deel-torchlip", "threadpoolctl"},
            "plot": {"matplotlib"},
        },
    },
    "smoothprune": {
        "required": {"torch", "numpy"},
        "extras": {
            "data": {"scikit-learn"},
            "vision": {"torchvision"},
            "bench": {"torch-pruning", "tensorly"},
            "plot": {"matplotlib"},
        },
    },
    "lat-detect": {
        "required": {"torch", "torchvision", "numpy", "pillow"},
        "extras": {
            "coco": {"pycocotools", "faster-coco-eval"},
            "plot": {"matplotlib"},
        },
    },
    "brain-hyda": {
        "required": {"torch", "numpy", "scipy"},
        "extras": {
            "nifti": {"nibabel"},
            "monai": {"monai"},
            "dhg": {"dhg"},
            "plot": {"matplotlib"},
        },
    },
}

#: Edges between method packages that ARCHITECTURE.md allows (every package may need sciml-core).
ALLOWED_EDGES = {("dsp-prior", "invprob-core"), ("mlmc-ops", "fno-conserve")}

#: The torch of development and CI (constraints/torch.txt); no requirement may exclude it.
PINNED_TORCH = (2, 14, 1)

REQUIRED_FILES = ["README.md", "CHANGELOG.md", "LICENSE", "pyproject.toml"]
REQUIRED_MODULE_FILES = ["__init__.py", "__about__.py", "py.typed", "cli.py"]

#: The experiments of a method package (reproduce, bench, sweeps) live in this subpackage.
EXPERIMENTS = "_experiments"
#: Top-level modules that moved into ``_experiments/`` and must not come back.
MOVED_INTO_EXPERIMENTS = ["_reproduce.py", "_bench.py"]


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = re.findall(r"\d+", text.split("+")[0])
    return tuple(int(p) for p in parts[:3])


def _compare(left: tuple[int, ...], right: tuple[int, ...]) -> int:
    width = max(len(left), len(right))
    a = left + (0,) * (width - len(left))
    b = right + (0,) * (width - len(right))
    return (a > b) - (a < b)


def admits(specifier: str, version: str) -> bool:
    """Whether a simple PEP 440 specifier (>=, <=, <, >, ==, !=, ~= clauses) admits ``version``."""
    have = _version_tuple(version)
    for clause in filter(None, specifier.split(",")):
        match = re.fullmatch(r"(~=|==|!=|>=|<=|<|>)(.+)", clause.strip())
        if not match:
            raise ValueError(f"cannot read version clause {clause!r}")
        op, bound = match.groups()
        if bound.endswith(".*"):
            prefix = _version_tuple(bound[:-2])
            equal = have[: len(prefix)] == prefix
            if (op == "==" and not equal) or (op == "!=" and equal):
                return False
            continue
        cmp = _compare(have, _version_tuple(bound))
        ok = {
            ">=": cmp >= 0,
            "<=": cmp <= 0,
            ">": cmp > 0,
            "<": cmp < 0,
            "==": cmp == 0,
            "!=": cmp != 0,
            "~=": cmp >= 0 and have[: len(_version_tuple(bound)) - 1] == _version_tuple(bound)[:-1],
        }[op]
        if not ok:
            return False
    return True


def _names(requirements: list[str]) -> set[str]:
    return {pk.requirement_name(r) for r in requirements}


def _imports_experiments(node: ast.AST, module: str) -> bool:
    """Whether an import statement reaches the ``_experiments`` subpackage of ``module``."""
    if isinstance(node, ast.Import):
        return any(EXPERIMENTS in alias.name.split(".") for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        parts = (node.module or "").split(".")
        if EXPERIMENTS in parts:
            return True
        from_package = node.module in (None, "", module)
        return from_package and any(alias.name == EXPERIMENTS for alias in node.names)
    return False


def experiment_imports(path: Path, module: str) -> list[tuple[int, bool]]:
    """``(line, inside_a_function)`` of every import of ``_experiments`` in the file ``path``."""
    found: list[tuple[int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if _imports_experiments(node, module):
            found.append((node.lineno, in_function))  # type: ignore[attr-defined]
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(ast.parse(path.read_text(), filename=str(path)), False)
    return found


def check_experiments(pkg: pk.Package) -> list[str]:
    """The experiments stay apart from the method (ARCHITECTURE.md, layout; STYLE.md item 7).

    A method package keeps ``reproduce``/``bench`` in ``src/<module>/_experiments/``; no library
    module imports it, except ``cli.py`` inside its command functions (so that importing the
    package never loads the experiments).
    """
    module_dir = pkg.path / "src" / pkg.module
    problems = []
    if not (module_dir / EXPERIMENTS / "__init__.py").is_file():
        problems.append(f"missing src/{pkg.module}/{EXPERIMENTS}/__init__.py (reproduce and bench)")
    for name in MOVED_INTO_EXPERIMENTS:
        if (module_dir / name).is_file():
            problems.append(f"src/{pkg.module}/{name} belongs in src/{pkg.module}/{EXPERIMENTS}/")
    for path in sorted(module_dir.rglob("*.py")):
        relative = path.relative_to(module_dir)
        if relative.parts[0] == EXPERIMENTS:
            continue
        for line, in_function in experiment_imports(path, pkg.module):
            if relative == Path("cli.py") and in_function:
                continue
            where = f"src/{pkg.module}/{relative.as_posix()}:{line}"
            problems.append(
                f"{where} imports {EXPERIMENTS}; the method never imports its experiments "
                "(only cli.py may, inside a command function)"
            )
    return problems


def check_package(pkg: pk.Package, pkgs: dict[str, pk.Package]) -> list[str]:
    problems: list[str] = []
    where = f"packages/{pkg.path.name}"

    def bad(message: str) -> None:
        problems.append(f"{where}: {message}")

    if pk.normalize(pkg.name) != pk.normalize(pkg.path.name):
        bad(f"directory name must be the distribution name, got project.name={pkg.name!r}")
    for name in REQUIRED_FILES:
        if not (pkg.path / name).is_file():
            bad(f"missing {name}")
    module_dir = pkg.path / "src" / pkg.module
    for name in REQUIRED_MODULE_FILES:
        if name == "cli.py" and not pkg.is_method:
            continue
        if not (module_dir / name).is_file():
            bad(f"missing src/{pkg.module}/{name}")
    tests = pkg.path / "tests"
    if not any(tests.glob("test_*.py")):
        bad("no tests/test_*.py")
    elif not (tests / "test_public_api.py").is_file():
        bad("missing tests/test_public_api.py (pins the exported names)")

    if pkg.version is None:
        bad(f"src/{pkg.module}/__about__.py must define __version__")
    elif not re.fullmatch(r"\d+\.\d+\.\d+([a-z]+\d+)?", pkg.version):
        bad(f"__version__ {pkg.version!r} is not a SemVer release like 0.1.0")

    init = module_dir / "__init__.py"
    if init.is_file():
        tree = ast.parse(init.read_text())
        if not any(
            isinstance(node, ast.Assign)
            and any(getattr(t, "id", None) == "__all__" for t in node.targets)
            for node in tree.body
        ):
            bad(f"src/{pkg.module}/__init__.py must define __all__ (explicit public API)")

    changelog = pkg.path / "CHANGELOG.md"
    if changelog.is_file():
        sections = re.findall(r"^## (.+)$", changelog.read_text(), re.M)
        if not sections or not sections[0].strip().startswith("[Unreleased]"):
            bad("CHANGELOG.md must start with a '## [Unreleased]' section")

    project = pkg.pyproject.get("project", {})
    build = pkg.pyproject.get("build-system", {})
    if build.get("build-backend") != "hatchling.build":
        bad("build-system.build-backend must be hatchling.build")
    if project.get("dynamic") != ["version"] or "version" in project:
        bad("project.version must be dynamic (read from __about__.py)")
    version_path = pkg.pyproject.get("tool", {}).get("hatch", {}).get("version", {}).get("path")
    if version_path != f"src/{pkg.module}/__about__.py":
        bad(f"tool.hatch.version.path must be src/{pkg.module}/__about__.py")
    license_ = project.get("license")
    if license_ != "MIT" and not (isinstance(license_, dict) and license_.get("text") == "MIT"):
        bad("project.license must be MIT")
    if project.get("requires-python") != ">=3.11":
        bad('project.requires-python must be ">=3.11"')
    if "test" not in pkg.pyproject.get("dependency-groups", {}):
        bad("missing [dependency-groups] test")
    pytest_cfg = pkg.pyproject.get("tool", {}).get("pytest", {}).get("ini_options", {})
    addopts = " ".join(pytest_cfg.get("addopts", []))
    for flag in ("--strict-markers", "--doctest-modules"):
        if flag not in addopts:
            bad(f"pytest addopts must contain {flag}")
    if pytest_cfg.get("xfail_strict") is not True:
        bad("pytest xfail_strict must be true")
    if "error" not in pytest_cfg.get("filterwarnings", []):
        bad("pytest filterwarnings must turn warnings into errors ('error')")
    markers = " ".join(pytest_cfg.get("markers", []))
    for marker in ("slow", "gpu"):
        if marker not in markers:
            bad(f"pytest markers must declare {marker!r}")

    if pkg.is_method:
        problems += [f"{where}: {problem}" for problem in check_experiments(pkg)]
        script = pkg.scripts.get(pkg.name)
        if script != f"{pkg.module}.cli:main":
            bad(f"console script {pkg.name} = '{pkg.module}.cli:main' missing (got {script!r})")

    every = list(pkg.dependencies) + [r for reqs in pkg.extras.values() for r in reqs]
    for requirement in every:
        name = pk.requirement_name(requirement)
        spec = pk.requirement_specifier(requirement)
        if "@" in requirement.split(";", 1)[0]:
            bad(f"direct reference in requirement {requirement!r}")
        if name in pkgs:
            sibling = pkgs[name]
            if not re.fullmatch(r">=[\d.]+,<[\d.]+", spec):
                bad(f"sibling {name} must be a compatible range like '>=0.1,<0.2', got {spec!r}")
            elif sibling.version and not admits(spec, sibling.version):
                bad(
                    f"range {spec!r} of {name} does not admit its current version {sibling.version}"
                )
        if name == "torch":
            if any(op in spec for op in ("<", "==", "!=", "~=")) or not spec.startswith(">="):
                bad(f"torch must be required with a lower bound only (torch>=2.4), got {spec!r}")
            elif not admits(spec, ".".join(map(str, PINNED_TORCH))):
                bad(f"torch requirement {spec!r} excludes the pinned torch 2.14.1")

    if pkg.is_method and CORE in pkgs and CORE not in pkg.siblings:
        bad(f"every package depends on {CORE} (a compatible range such as '>=0.2,<0.3')")
    for sibling in pkg.siblings:
        if sibling != CORE and (pkg.name, sibling) not in ALLOWED_EDGES:
            bad(f"edge {pkg.name} -> {sibling} is not in ARCHITECTURE.md's dependency graph")

    table = TABLE.get(pkg.name)
    if table is not None:
        required = _names(pkg.dependencies) - set(pkgs)
        if required != table["required"]:
            wanted = sorted(table["required"])
            bad(f"required dependencies {sorted(required)} != ARCHITECTURE.md {wanted}")
        for extra, wanted in table["extras"].items():
            have = _names(pkg.extras.get(extra, []))
            if not wanted <= have:
                bad(f"extra [{extra}] must provide {sorted(wanted)}, has {sorted(have)}")
    return problems


def check_results(root: Path) -> list[str]:
    """Every report's ``result.json`` is a valid Result (when sciml-core is importable)."""
    files = sorted((root / "reports").glob("*/result.json"))
    if not files:
        return []
    try:
        from sciml_core import validate_result
    except ImportError:
        return []
    problems = []
    for path in files:
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            problems.append(f"{path.relative_to(root)}: not JSON ({exc})")
            continue
        problems += [f"{path.relative_to(root)}: {p}" for p in validate_result(data)]
    return problems


def check_committed_results(pkg: pk.Package, root: Path) -> list[str]:
    """The committed runs under ``packages/<pkg>/results/``, which READMEs quote.

    Every ``*.json`` there parses; a file with a ``schema`` key is a valid Result of this package
    (when sciml-core is importable); a ``full*.json`` must be a Result of a ``--full`` run
    (``meta.quick`` false) whose ``machine`` (or, in older files, ``note``) says where it ran.
    """
    folder = pkg.path / "results"
    if not folder.is_dir():
        return []
    try:
        from sciml_core import validate_result
    except ImportError:
        validate_result = None
    problems: list[str] = []
    for path in sorted(folder.glob("*.json")):
        where = path.relative_to(root)
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            problems.append(f"{where}: not JSON ({exc})")
            continue
        is_result = isinstance(data, dict) and "schema" in data
        if path.name.startswith("full") and not is_result:
            problems.append(f"{where}: a full run must be saved as a Result (no 'schema' key)")
            continue
        if not is_result:
            continue
        if validate_result is not None:
            problems += [f"{where}: {p}" for p in validate_result(data)]
        if data.get("package") != pkg.name:
            problems.append(f"{where}: package is {data.get('package')!r}, not {pkg.name!r}")
        meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
        if path.name.startswith("full"):
            if meta.get("quick") is not False:
                problems.append(f"{where}: a full run's meta.quick must be false")
            if not (meta.get("machine") or meta.get("note")):
                problems.append(
                    f"{where}: a full run's meta must say where it ran ('machine' or 'note')"
                )
    return problems


def check(root: Path) -> list[str]:
    """Every problem found in the monorepo at ``root`` (empty when all invariants hold)."""
    pkgs = pk.discover(root)
    problems: list[str] = []
    if CORE not in pkgs:
        problems.append(f"packages/{CORE} is missing")
    try:
        pk.topological(pkgs)
    except ValueError as exc:
        problems.append(str(exc))
    for pkg in pkgs.values():
        problems += check_package(pkg, pkgs)
        problems += check_committed_results(pkg, root)
    problems += check_results(root)
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[0]).resolve() if argv else pk.ROOT
    problems = check(root)
    for problem in problems:
        print(problem)
    count = len(pk.discover(root))
    print(f"meta: {count} package(s), {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
