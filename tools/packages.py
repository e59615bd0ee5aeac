"""Package discovery for the monorepo: names, versions, dependencies, sibling closure and order.

Standard library only, so that the bootstrap, the noxfile and CI can use it before anything is
installed.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / "packages"
CORE = "sciml-core"

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_VERSION = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.M)


def normalize(name: str) -> str:
    """PEP 503 normalisation of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = _NAME.match(requirement)
    if not match:
        raise ValueError(f"cannot read a distribution name from requirement {requirement!r}")
    return normalize(match.group(1))


def requirement_specifier(requirement: str) -> str:
    """The version specifier of a requirement string, without name, extras and markers."""
    rest = requirement[_NAME.match(requirement).end() :]  # type: ignore[union-attr]
    rest = rest.split(";", 1)[0]
    rest = re.sub(r"^\s*\[[^\]]*\]", "", rest)
    return rest.strip().strip("()").replace(" ", "")


@dataclass
class Package:
    name: str
    path: Path
    module: str
    version: str | None
    pyproject: dict
    dependencies: list[str] = field(default_factory=list)
    extras: dict[str, list[str]] = field(default_factory=dict)
    test_group: list[str] = field(default_factory=list)
    scripts: dict[str, str] = field(default_factory=dict)
    #: names of the monorepo packages this one requires (extras excluded); set by ``discover``
    siblings: list[str] = field(default_factory=list)

    @property
    def is_method(self) -> bool:
        return self.name != CORE


def read_version(about: Path) -> str | None:
    if not about.is_file():
        return None
    match = _VERSION.search(about.read_text())
    return match.group(1) if match else None


def load(path: Path) -> Package:
    pyproject = tomllib.loads((path / "pyproject.toml").read_text())
    project = pyproject.get("project", {})
    name = project.get("name", path.name)
    module = normalize(name).replace("-", "_")
    return Package(
        name=name,
        path=path,
        module=module,
        version=read_version(path / "src" / module / "__about__.py"),
        pyproject=pyproject,
        dependencies=list(project.get("dependencies", [])),
        extras={k: list(v) for k, v in project.get("optional-dependencies", {}).items()},
        test_group=list(pyproject.get("dependency-groups", {}).get("test", [])),
        scripts=dict(project.get("scripts", {})),
    )


def discover(root: Path = ROOT) -> dict[str, Package]:
    """Every package under ``root/packages`` that has a pyproject.toml, by directory name."""
    folder = root / "packages"
    if not folder.is_dir():
        return {}
    pkgs = {p.name: load(p) for p in sorted(folder.iterdir()) if (p / "pyproject.toml").is_file()}
    for pkg in pkgs.values():
        required = (requirement_name(d) for d in pkg.dependencies)
        pkg.siblings = [r for r in required if r in pkgs]
    return pkgs


def topological(pkgs: dict[str, Package]) -> list[str]:
    """Package names, dependencies before dependants; ValueError naming a cycle if there is one."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*trail[trail.index(name) :], name]
            raise ValueError("dependency cycle: " + " -> ".join(cycle))
        state[name] = 1
        for dep in pkgs[name].siblings:
            visit(dep, [*trail, name])
        state[name] = 2
        order.append(name)

    for name in sorted(pkgs):
        visit(name, [])
    return order


def closure(name: str, pkgs: dict[str, Package]) -> list[str]:
    """``name`` and every sibling it needs, dependencies first."""
    needed: set[str] = set()
    stack = [name]
    while stack:
        current = stack.pop()
        if current not in needed:
            needed.add(current)
            stack.extend(pkgs[current].siblings)
    return [n for n in topological(pkgs) if n in needed]


if __name__ == "__main__":
    found = discover()
    for n in topological(found):
        p = found[n]
        print(f"{n:18s} {p.version or '?':8s} needs {', '.join(p.siblings) or '-'}")
