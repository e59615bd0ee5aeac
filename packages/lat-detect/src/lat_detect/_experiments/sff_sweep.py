"""SFF variants at one moderate budget: transfer-label AP against the oracle (a sweep, not a
claim). Run as ``python -m lat_detect._experiments.sff_sweep --out DIR``; writes a schema-1
``result.json`` (one table) whose meta records the budget.

Every variant shares the specialists and the pseudo-labels; only the transfer model changes.
The pseudo-label and naive-merge relabellings are listed for reference.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch

from sciml_core import Result
from sciml_core.cli import progress, set_quiet

from ..__about__ import __version__
from .._backbones import FeatureBackbone
from .._labelspace import ConcatLabelSpace
from .._pipeline import (
    LATConfig,
    naive_merge,
    pseudo_label_relabel,
    train_lat_model,
    train_specialists,
)
from .._pseudo import cross_pseudo_labels
from .._synthetic import synthetic_benchmark
from .._transfer import transfer_annotations
from .zoo import transfer_ap

VARIANTS: dict[str, dict[str, Any]] = {
    "sff (default: label, multiply, all pairs)": {},
    "sff=False": {"sff": False},
    "class_input=scores": {"class_input": "scores"},
    "overlap_mask=True": {"overlap_mask": True},
    "conf_mode=log": {"conf_mode": "log"},
}


def sweep(
    out: Path, *, seed: int, specialist_steps: int, transfer_steps: int, source_size: int
) -> Path:
    """Run every variant; write ``out/result.json``."""
    torch.set_num_threads(1)
    result = Result("lat-detect", __version__, seed=seed, device="cpu", quick=False)
    bench = synthetic_benchmark(
        target_train=24, target_val=1, target_test=1, source_size=source_size, seed=seed
    )
    datasets = {"T": bench.target_train, **bench.sources}
    space = ConcatLabelSpace([d.space for d in datasets.values()])
    base = LATConfig(specialist_steps=specialist_steps, transfer_steps=transfer_steps)
    t0 = time.perf_counter()
    specs = train_specialists(datasets, config=base, seed=seed)
    pseudo = cross_pseudo_labels(datasets, specs, space)
    spec_s = time.perf_counter() - t0
    backbone = specs["T"].backbone
    assert isinstance(backbone, FeatureBackbone)
    t_space = bench.target_train.space
    rows = []
    sets = {
        "pseudo-label (reference)": {
            n: pseudo_label_relabel(s, specs["T"], t_space) for n, s in bench.sources.items()
        },
        "naive-merge (reference)": {
            n: naive_merge(s, t_space, bench.name_map) for n, s in bench.sources.items()
        },
    }
    for name, sset in sets.items():
        aps = [transfer_ap(sset[n], bench.oracle[n]) for n in ("A", "B")]
        rows.append(
            [
                name,
                aps[0].ap,
                aps[0].ap50,
                aps[1].ap,
                aps[1].ap50,
                (aps[0].ap + aps[1].ap) / 2,
                (aps[0].ap50 + aps[1].ap50) / 2,
                sum(s.num_boxes() for s in sset.values()),
                0.0,
            ]
        )
    for name, change in progress(list(VARIANTS.items()), desc="variants", unit="variant"):
        t0 = time.perf_counter()
        cfg = LATConfig(**{**base.as_dict(), **change})
        model = train_lat_model(datasets, pseudo, space, backbone, config=cfg, seed=seed)
        out_sets = {
            n: transfer_annotations(model, bench.sources[n], pseudo[n], space, "T")
            for n in ("A", "B")
        }
        aps = [transfer_ap(out_sets[n], bench.oracle[n]) for n in ("A", "B")]
        rows.append(
            [
                name,
                aps[0].ap,
                aps[0].ap50,
                aps[1].ap,
                aps[1].ap50,
                (aps[0].ap + aps[1].ap) / 2,
                (aps[0].ap50 + aps[1].ap50) / 2,
                sum(s.num_boxes() for s in out_sets.values()),
                time.perf_counter() - t0,
            ]
        )
    result.add_table(
        "sff_sweep",
        f"Transfer-label AP against the oracle, level 2, T 24 images, A and B {source_size} each, "
        f"specialists {specialist_steps} steps ({spec_s:.0f} s), transfer model "
        f"{transfer_steps} steps of 2 images",
        [
            "variant",
            "A AP",
            "A AP50",
            "B AP",
            "B AP50",
            "mean AP",
            "mean AP50",
            "boxes",
            "transfer_model_s",
        ],
        rows,
    )
    return result.save(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--specialist-steps", type=int, default=150)
    parser.add_argument("--transfer-steps", type=int, default=300)
    parser.add_argument("--source-size", type=int, default=48)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    set_quiet(args.quiet)
    print(
        sweep(
            args.out,
            seed=args.seed,
            specialist_steps=args.specialist_steps,
            transfer_steps=args.transfer_steps,
            source_size=args.source_size,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
