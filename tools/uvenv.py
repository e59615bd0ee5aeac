"""uv set-up in one place: pip's configured indexes passed on to uv, constraints, cache, hard links.

uv does not read pip's configuration. This module asks pip for it at run time (nothing of this
machine's paths is written into the repository) and translates it into uv's own environment
variables, so that pip and uv resolve the same local and remote packages.

Run as a script it executes uv with that environment: ``python3 tools/uvenv.py pip install ...``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
CACHE = TOOLS / "uv-cache"
CONSTRAINTS = ROOT / "constraints" / "torch.txt"


def _pip_config() -> dict[str, list[str]]:
    """Return pip's effective index-url, extra-index-url and find-links (every scope, env first)."""
    keys = {"index-url": [], "extra-index-url": [], "find-links": []}
    try:
        out = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    lines = out.splitlines()
    # pip lists ':env:' (PIP_* variables) and file scopes; the environment wins, as in pip.
    lines.sort(key=lambda line: 0 if line.startswith(":env:") else 1)
    for line in lines:
        name, _, value = line.partition("=")
        key = name.rsplit(".", 1)[-1]
        if key in keys:
            for item in value.strip().strip("'\"").split():
                if item not in keys[key]:
                    keys[key].append(item)
    return keys


def uv_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for every uv call of this repository (nox sessions, bootstrap, dev env)."""
    env = dict(os.environ if base is None else base)
    cfg = _pip_config()
    if cfg["index-url"] and "UV_DEFAULT_INDEX" not in env:
        env["UV_DEFAULT_INDEX"] = cfg["index-url"][0]
    if cfg["extra-index-url"] and "UV_INDEX" not in env:
        env["UV_INDEX"] = " ".join(cfg["extra-index-url"])
    if cfg["find-links"] and "UV_FIND_LINKS" not in env:
        env["UV_FIND_LINKS"] = ",".join(cfg["find-links"])
    env["UV_CONSTRAINT"] = str(CONSTRAINTS)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_CACHE_DIR"] = str(CACHE)
    env["UV_LINK_MODE"] = "hardlink"
    env.setdefault("UV_HTTP_TIMEOUT", "300")
    return env


def check_hardlinked(site_packages: Path) -> None:
    """Fail loudly if uv copied a large binary instead of hard-linking it from the cache.

    Every copy of torch costs gigabytes; uv only warns when it falls back to copying. The largest
    shared library of the environment is looked at (torch's, where torch is installed).
    """
    libraries = [p for p in site_packages.rglob("*.so*") if p.is_file()]
    if not libraries:
        return
    largest = max(libraries, key=lambda p: p.stat().st_size)
    if largest.stat().st_nlink < 2:
        raise SystemExit(
            f"uv copied {largest} instead of hard-linking it from {CACHE}: the cache and the "
            "environments must be on one file system (UV_LINK_MODE=hardlink)."
        )


def main(argv: list[str]) -> int:
    uv = TOOLS / "venv" / "bin" / "uv"
    if not uv.exists():
        raise SystemExit(
            "uv is not installed yet: run `python3 tools/run.py tests` once (bootstrap)."
        )
    return subprocess.call([str(uv), *argv], env=uv_environment())


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
