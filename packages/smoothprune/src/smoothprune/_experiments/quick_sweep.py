"""The budget sweep behind ``QUICK``: SmallCNN, plain and smooth-out2, accuracy per epoch.

``python -m smoothprune._experiments.quick_sweep --out sweep.json`` trains SmallCNN on digits20
(the quick run's data and training seed offsets) for ``--epochs`` epochs and, after every epoch
from ``--first``, measures on the validation split (the last 500 of the 4 500 training samples;
the test split is not looked at) the accuracy uncompressed, at ``keep=0.1``, at ``params=0.1``
and after 50 % channel pruning. There is no learning-rate schedule, so the model after epoch
``k`` is the ``k``-epoch model: one run per (λ₂, seed) measures every shorter budget. CPU seconds
per epoch are recorded (``time.process_time``, one thread), which is what the quick budget is
sized on.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import torch

from sciml_core import atomic_path

from .._compress import compress_model
from .._data import digits20
from .._models import SmallCNN
from .._prune import prune_channels
from .._regularizer import SmoothnessRegularizer
from .._train import accuracy, train_classifier


def sweep(
    *, epochs: int, first: int, lambdas: list[float], seeds: list[int]
) -> list[dict[str, Any]]:
    """One row per (λ₂, seed, epoch >= first): validation accuracies and CPU seconds."""
    x_tr, y_tr, _, _ = digits20(seed=0)
    x, y = x_tr[:4000], y_tr[:4000]
    xv, yv = x_tr[4000:4500], y_tr[4000:4500]
    rows: list[dict[str, Any]] = []
    for lam in lambdas:
        for seed in seeds:
            torch.manual_seed(seed)
            model = SmallCNN()
            reg = SmoothnessRegularizer(model, second_order=lam) if lam else None
            clock = {"t": time.process_time(), "train": 0.0}

            def measure(
                epoch: int,
                m: torch.nn.Module,
                lam: float = lam,
                seed: int = seed,
                clock: dict[str, float] = clock,
            ) -> None:
                now = time.process_time()
                clock["train"] += now - clock["t"]
                if epoch >= first:
                    rows.append(
                        {
                            "lambda2": lam,
                            "seed": seed,
                            "epoch": epoch,
                            "train_cpu_s": round(clock["train"], 2),
                            "full": accuracy(m, xv, yv),
                            "keep0.1": accuracy(compress_model(m, keep=0.1).model, xv, yv),
                            "params0.1": accuracy(
                                compress_model(m, params=0.1, count="compressible").model, xv, yv
                            ),
                            "channels0.5": accuracy(prune_channels(m, 0.5), xv, yv),
                        }
                    )
                    print(json.dumps(rows[-1]), flush=True)
                clock["t"] = time.process_time()

            train_classifier(
                model, x, y, epochs=epochs, lr=1e-3, regularizer=reg, seed=seed, on_epoch=measure
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON file written")
    parser.add_argument("--epochs", type=int, default=9, help="longest budget (default 9)")
    parser.add_argument("--first", type=int, default=5, help="first epoch measured (default 5)")
    parser.add_argument(
        "--lambdas", type=float, nargs="+", default=[0.0, 1e-3, 3e-3], help="λ₂ values (0: plain)"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="training seeds")
    args = parser.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    rows = sweep(epochs=args.epochs, first=args.first, lambdas=args.lambdas, seeds=args.seeds)
    meta = {
        "wall_s": round(time.perf_counter() - t0, 1),
        "load_average": os.getloadavg(),
        "threads": 1,
    }
    with atomic_path(args.out) as tmp:
        Path(tmp).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
