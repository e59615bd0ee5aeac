"""Peak resident memory of loading a state dict of about 500 MB: ours beside plain torch.

    python benchmarks/pretrained_memory.py [--mb 500] [--json FILE]     (Linux: reads /proc)

A benchmark row, not a test: it needs about 2 GB of RAM and a few seconds. The state dict of an
``nn.Sequential`` of ``Linear(2048, 2048)`` layers (float32, ``torch.save`` zip format) is written
once; then each variant runs in a fresh Python process, so the peaks cannot contaminate each
other. In that process: import torch (one thread), build the module (its own initialisation, so
its pages are resident), reset the kernel's high-water mark (``/proc/self/clear_refs``), load,
read the peak (``VmHWM`` in ``/proc/self/status``) and check that the weights arrived.

Two ratios to the file size are printed per variant:

* ``(peak - after import) / file``: the module plus whatever the load holds at its worst, the
  torch runtime left out. Holding the weights once gives about 1.0; holding them twice (module
  plus a loaded copy) about 2.0. The issue's target is <= 1.3.
* ``(peak - with module) / file``: what the load adds on top of the module already built.

Resident memory counts the pages of a memory-mapped file that the process has touched, although
the kernel can drop them at any time: ``torch.load(mmap=True)`` alone therefore looks like a full
second copy while the copy runs. ``load_pretrained`` hands each chunk's pages back after copying
it (see ``sciml_core._pretrained``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

WIDTH = 2048

VARIANTS = {  # name: (file suffix, the load)
    "load_pretrained": (
        ".pt",
        "from sciml_core import load_pretrained\nload_pretrained(module, path, min_matched=1.0)",
    ),
    "torch.load + load_state_dict": (
        ".pt",
        "module.load_state_dict(torch.load(path, map_location='cpu', weights_only=True))",
    ),
    "torch.load(mmap=True) + load_state_dict": (
        ".pt",
        "module.load_state_dict(\n"
        "    torch.load(path, map_location='cpu', weights_only=True, mmap=True))",
    ),
    "load_pretrained, .safetensors": (
        ".safetensors",
        "from sciml_core import load_pretrained\nload_pretrained(module, path, min_matched=1.0)",
    ),
    "safetensors load_file + load_state_dict": (
        ".safetensors",
        "from safetensors.torch import load_file\nmodule.load_state_dict(load_file(path))",
    ),
}

CHILD = """
import json, sys, time
import torch

def status(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)

torch.set_num_threads(1)
path, width, depth, expected = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
after_import = status("VmRSS")
torch.manual_seed(1)
module = torch.nn.Sequential(*[torch.nn.Linear(width, width) for _ in range(depth)])
with_module = status("VmRSS")
try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset VmHWM to the current RSS
    reset = True
except OSError:
    reset = False
start = time.perf_counter()
{load}
seconds = time.perf_counter() - start
peak = status("VmHWM")
ok = float(module[-1].weight.detach().double().sum()) == expected
print(json.dumps(dict(after_import=after_import, with_module=with_module, peak=peak,
                      seconds=seconds, ok=ok, reset=reset)))
"""


def write_weights(folder: Path, megabytes: float) -> tuple[int, float]:
    """``weights.pt`` and, when safetensors is installed, ``weights.safetensors``."""
    import torch

    depth = max(1, round(megabytes * 1e6 / (4 * (WIDTH * WIDTH + WIDTH))))
    torch.manual_seed(0)
    module = torch.nn.Sequential(*[torch.nn.Linear(WIDTH, WIDTH) for _ in range(depth)])
    torch.save(module.state_dict(), folder / "weights.pt")
    try:
        from safetensors.torch import save_file
    except ImportError:
        pass
    else:
        save_file(module.state_dict(), folder / "weights.safetensors")
    last: Any = module[-1]
    return depth, float(last.weight.detach().double().sum())


def measure(name: str, path: Path, depth: int, expected: float) -> dict[str, Any]:
    code = CHILD.replace("{load}", VARIANTS[name][1])
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    args = [sys.executable, "-c", code, str(path), str(WIDTH), str(depth), repr(expected)]
    run = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if run.returncode != 0:
        raise SystemExit(f"{name} failed:\n{run.stderr}")
    row = json.loads(run.stdout.strip().splitlines()[-1])
    size = path.stat().st_size
    row.update(variant=name, file_bytes=size)
    row["module_ratio"] = (row["peak"] - row["after_import"]) / size
    row["extra_ratio"] = (row["peak"] - row["with_module"]) / size
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=500.0, help="size of the state dict (MB)")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    parser.add_argument("--dir", type=Path, help="folder for the temporary weights file")
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").is_file():
        raise SystemExit("this benchmark reads /proc/self/status (Linux only)")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        depth, expected = write_weights(Path(tmp), args.mb)
        rows: list[dict[str, Any]] = []
        for name, (suffix, _) in VARIANTS.items():
            path = Path(tmp) / f"weights{suffix}"
            if path.is_file():
                rows.append(measure(name, path, depth, expected))
            else:
                print(f"skipped {name}: safetensors is not installed")
    size = rows[0]["file_bytes"]
    print(f"state dict: {depth} x Linear({WIDTH}, {WIDTH}), float32, file {size / 1e6:.1f} MB")
    header = f"{'variant':<42}{'(peak-import)/file':>20}{'(peak-module)/file':>20}{'s':>7}  ok"
    print(header)
    for row in rows:
        print(
            f"{row['variant']:<42}{row['module_ratio']:>20.2f}{row['extra_ratio']:>20.2f}"
            f"{row['seconds']:>7.2f}  {row['ok']}"
        )
    if not all(row["reset"] for row in rows):
        print("note: /proc/self/clear_refs was not writable; peaks include the module build")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows}, indent=1) + "\n")
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
