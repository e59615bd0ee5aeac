"""The two commands of the README, each doing its own set-up on a fresh clone.

    python3 tools/run.py tests            every test: lint, meta, typecheck, each package,
                                          isolated installs, integration; ends with one summary line
                                          "N passed, N failed, N skipped"
    python3 tools/run.py report [--full]  every package's reproduce, then reports/index.html

Standard library only. The first call creates the ignored ``.tools/venv`` with the pinned nox and uv
of ``constraints/tools.txt`` (installed by pip, which reads this machine's configuration); every uv
call afterwards gets its environment from ``tools/uvenv.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import summary
import uvenv

ROOT = uvenv.ROOT
TOOLS = uvenv.TOOLS
VENV = TOOLS / "venv"
PINS = ROOT / "constraints" / "tools.txt"
JUNIT = TOOLS / "junit"

TEST_SESSIONS = ["lint", "meta", "typecheck", "tests", "isolated", "integration"]


def _pins() -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in PINS.read_text().splitlines())
    return [line for line in lines if line]


def bootstrap() -> Path:
    """Create ``.tools/venv`` with the pinned nox and uv unless it already has them."""
    python = VENV / "bin" / "python"
    stamp = VENV / "pins.txt"
    wanted = "\n".join(_pins())
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    if sys.version_info < (3, 11):  # noqa: UP036 - the bootstrap may run on any python3
        raise SystemExit(f"Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    print(f"bootstrap: installing {', '.join(_pins())} into {VENV.relative_to(ROOT)}", flush=True)
    shutil.rmtree(VENV, ignore_errors=True)
    venv.EnvBuilder(with_pip=True).create(VENV)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *_pins()],
        check=True,
    )
    stamp.write_text(wanted)
    return python


def nox(python: Path, args: list[str]) -> int:
    env = uvenv.uv_environment()
    env.setdefault("PYTHONUNBUFFERED", "1")
    env["SCIML_JUNIT_DIR"] = str(JUNIT)
    command = [str(python), "-m", "nox", "--noxfile", str(ROOT / "noxfile.py"), *args]
    return subprocess.call(command, cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"tests", "report", "nox"}:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    what, rest = argv[0], argv[1:]
    python = bootstrap()
    if what == "nox":
        return nox(python, rest)
    if what == "report":
        full = "--full" in rest
        return nox(python, ["-s", "reproduce", "--", "--full" if full else "--quick"])
    shutil.rmtree(JUNIT, ignore_errors=True)
    JUNIT.mkdir(parents=True)
    code = nox(python, ["-s", *TEST_SESSIONS, *(["--", *rest] if rest else [])])
    counts = summary.count(JUNIT)
    print(summary.line(counts), flush=True)
    if code != 0 or counts.failed or counts.total == 0:
        return 1
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    raise SystemExit(main(sys.argv[1:]))
