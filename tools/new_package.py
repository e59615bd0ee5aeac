"""Create a method package from ``tools/template`` with every convention in place.

    python3 tools/new_package.py NAME --description "One line." [--torch] [--root DIR]

NAME is the distribution name (kebab case); the import name is its snake_case form. The new
package passes ``tools/meta.py`` as created; its ``reproduce`` writes a stub result that says so.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import packages as pk

TEMPLATE = Path(__file__).resolve().parent / "template"


def core_requirement(root: Path = pk.ROOT) -> str:
    """The requirement ``sciml-core>=X.Y,<X.(Y+1)`` for the core's current version X.Y.Z.

    A new package is written against the core as it is now. The core is ``root``'s when it has
    one, else this repository's.
    """
    core = root / "packages" / pk.CORE
    if not core.is_dir():
        core = pk.PACKAGES / pk.CORE
    version = pk.read_version(core / "src" / pk.CORE.replace("-", "_") / "__about__.py")
    match = re.match(r"(\d+)\.(\d+)", version or "")
    if match is None:
        raise SystemExit(f"cannot read the version of {pk.CORE} under {core}")
    major, minor = int(match.group(1)), int(match.group(2))
    return f"{pk.CORE}>={major}.{minor},<{major}.{minor + 1}"


def create(root: Path, name: str, description: str, *, torch: bool = False) -> Path:
    if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", name):
        raise SystemExit(f"NAME must be kebab case like 'fno-conserve', got {name!r}")
    module = name.replace("-", "_")
    target = root / "packages" / name
    if target.exists():
        raise SystemExit(f"{target} exists already; refusing to overwrite it")
    deps = ['    "numpy>=1.24",', f'    "{core_requirement(root)}",']
    if torch:
        deps.insert(0, '    "torch>=2.4",')
    values = {
        "{{dist}}": name,
        "{{module}}": module,
        "{{description}}": description.replace('"', "'"),
        "{{dependencies}}": "\n".join(deps),
    }
    tmp = target.with_name(f".{name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(TEMPLATE, tmp, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp / "src" / "__module__").rename(tmp / "src" / module)
    for path in tmp.rglob("*"):
        if path.is_file() and path.suffix in {".py", ".md", ".toml", ""}:
            text = path.read_text()
            for key, value in values.items():
                text = text.replace(key, value)
            path.write_text(text)
    tmp.rename(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--description", required=True)
    parser.add_argument("--torch", action="store_true", help="the package requires torch>=2.4")
    parser.add_argument("--root", type=Path, default=pk.ROOT)
    args = parser.parse_args(argv)
    print(create(args.root, args.name, args.description, torch=args.torch))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
