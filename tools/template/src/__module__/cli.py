"""Command line of {{dist}}: ``{{dist}} reproduce``, ``{{dist}} bench``.

The experiments are imported inside the command functions only, so that ``import {{module}}``
never loads them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sciml_core import format_comparisons
from sciml_core.cli import App

from .__about__ import __version__

app = App("{{dist}}", version=__version__, description="{{description}}")


def _reproduce(args: argparse.Namespace) -> int:
    from ._experiments.reproduce import reproduce

    path = reproduce(Path(args.out), quick=args.quick, seed=args.seed, device=args.device)
    print(path)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from ._experiments.bench import bench

    print(format_comparisons(bench(quick=args.quick, seed=args.seed, device=args.device)))
    return 0


app.add_reproduce(_reproduce)
app.add_bench(_bench)


def main(argv: list[str] | None = None) -> int:
    return app.run(argv)
