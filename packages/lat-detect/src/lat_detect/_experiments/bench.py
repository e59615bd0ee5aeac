"""``lat-detect bench``: ``speedup = t_peer / t_ours`` on the same inputs, same process.

Rows (spec 8): one training step of :class:`LATModel` (PPG proposals, SFF, no RPN, frozen
backbone) against torchvision's ``FasterRCNN`` with the same frozen backbone and images (RPN and
RoI sampling active), with and without SFF, and the transfer pass against ``FasterRCNN``
inference, for the tiny backbone at 96x96 (batch 4) and, in the full bench, ResNet-18 at
320x320 (batch 2); the COCO evaluation of the same detections by pycocotools (our default
backend) against faster-coco-eval (skipped with a note when missing); and the SFF memory table
(:func:`sff_memory`, not a ratio).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import warnings

import torch

from sciml_core import Comparison, as_generator, compare_timing

from .._backbones import BackboneName, build_backbone
from .._coco_eval import coco_ap
from .._detector import build_detector
from .._labelspace import ConcatLabelSpace
from .._model import LATModel
from .._ppg import PrivilegedProposalGenerator
from .._synthetic import synthetic_benchmark

#: Detector set-ups timed (backbone, image size, batch); ``--quick`` runs the first only.
SETUPS: tuple[tuple[BackboneName, int, int], ...] = (("tiny", 96, 4), ("resnet18", 320, 2))


def _step_rows(quick: bool, seed: int) -> list[Comparison]:
    """Training step (SFF on and off) and transfer throughput of ``LATModel`` against
    torchvision's ``FasterRCNN`` with the same frozen backbone architecture and images."""
    rows = []
    for name, size, batch in SETUPS[:1] if quick else SETUPS:
        rows += _setup_rows(name, size, batch, quick=quick, seed=seed)
    return rows


def _setup_rows(
    name: BackboneName, size: int, batch: int, *, quick: bool, seed: int
) -> list[Comparison]:
    rows = []
    torch.manual_seed(seed)
    bench = synthetic_benchmark(
        target_train=batch,
        target_val=1,
        target_test=1,
        source_size=1,
        image_size=size,
        seed=seed,
    )
    ds = bench.target_train
    samples = [ds[i] for i in range(batch)]
    images = [s.image for s in samples]
    space = ConcatLabelSpace([ds.space])
    ppg = PrivilegedProposalGenerator()
    gen = torch.Generator().manual_seed(seed)
    props = [ppg(s.boxes, s.labels, image_size=(size, size), generator=gen) for s in samples]
    exact = [ppg(s.boxes, s.labels, image_size=(size, size), train=False) for s in samples]
    masks = space.mask("T")[None, :].expand(batch, -1)
    targets_lat = [(s.boxes, s.labels) for s in samples]
    targets_tv = [{"boxes": s.boxes, "labels": s.labels} for s in samples]
    backbone = build_backbone(name)
    tv = build_detector(len(ds.space), backbone=backbone, image_size=size).train()
    for p in backbone.parameters():
        p.requires_grad_(False)
    where = f"{name} {size}x{size} batch {batch}"
    models = {}
    for sff in (True, False):
        lat = models[sff] = LATModel(
            build_backbone(name), num_classes=space.num_classes, num_datasets=1, sff=sff
        ).train()

        def ours(model: LATModel = lat) -> None:
            losses = model(images, props, masks, targets_lat)
            assert isinstance(losses, dict)
            torch.stack(list(losses.values())).sum().backward()

        def peer() -> None:
            torch.stack(list(tv(images, targets_tv).values())).sum().backward()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            rows.append(
                compare_timing(
                    ours,
                    peer,
                    repeats=5 if quick else 30,
                    warmup=1 if quick else 5,
                    label=f"train step, {where}, LATModel (sff={sff}) vs FasterRCNN",
                )
            )
    lat = models[True].eval()
    tv.eval()

    def transfer(model: LATModel = lat) -> None:
        with torch.no_grad():
            model(images, exact, masks)

    def infer() -> None:
        with torch.no_grad():
            tv(images)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rows.append(
            compare_timing(
                transfer,
                infer,
                repeats=5 if quick else 30,
                warmup=1 if quick else 5,
                label=f"transfer, {where}, LATModel (sff=True, GT proposals) vs "
                "FasterRCNN inference",
            )
        )
    return rows


#: One SFF cell, run in its own process so that its peak RSS is its own.
_SFF_CELL = """
import json, re, resource, statistics, sys, time
import torch
from lat_detect._ppg import Proposals
from lat_detect._sff import SemanticFeatureFusion
torch.set_num_threads(1)


def kib(field):
    with open("/proc/self/status") as f:
        return int(re.search(field + r":\\s+(\\d+)", f.read()).group(1))


m, repeats = int(sys.argv[1]), int(sys.argv[2])
d, k = 256, 12
g = torch.Generator().manual_seed(0)
sff = SemanticFeatureFusion(d, k, 3)
h = torch.randn(m, d, generator=g, requires_grad=True)
xy = torch.rand(m, 2, generator=g) * 80
wh = 4 + torch.rand(m, 2, generator=g) * 12
props = Proposals(
    torch.cat([xy, xy + wh], 1),
    torch.randint(1, k + 1, (m,), generator=g),
    torch.rand(m, generator=g),
    torch.zeros(m, dtype=torch.bool),
    torch.full((m,), -1, dtype=torch.long),
)
try:  # Linux: reset the high-water mark so that the peak is the forward/backward's own
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before, reset = kib("VmRSS"), True
except OSError:
    before, reset = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, False
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    out, _ = sff(h, props)
    out.sum().backward()
    times.append(time.perf_counter() - t0)
    h.grad = None
    sff.zero_grad(set_to_none=True)
peak = kib("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"M": m, "seconds": statistics.median(times), "peak_rss_mib": peak / 1024,
                  "added_mib": (peak - before) / 1024}))
"""

#: Proposals per image of the SFF memory table (spec 8).
SFF_SIZES = (16, 64, 256, 1024)


def sff_memory(quick: bool) -> list[dict[str, float]]:
    """SFF forward + backward seconds (median) and peak RSS per number of proposals ``M``, each
    cell in a fresh single-threaded process (CPU). On Linux the high-water mark is reset after
    the set-up, so ``peak_rss_mib`` is the peak during forward + backward and ``added_mib`` its
    growth over the resident size before them (the ``O(M^2)`` attention's share); elsewhere
    both come from ``ru_maxrss`` (the import's peak can hide small cells)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    rows = []
    for m in SFF_SIZES[:2] if quick else SFF_SIZES:
        done = subprocess.run(
            [sys.executable, "-c", _SFF_CELL, str(m), "3" if quick else "10"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"SFF memory cell M={m} failed: {done.stderr.strip()[-500:]}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


def format_memory(rows: list[dict[str, float]]) -> str:
    """The SFF memory table as text."""
    lines = [
        "SFF forward + backward (CPU, 1 thread, d = 256): M, median s, peak RSS MiB, added MiB"
    ]
    lines += [
        f"  M = {int(r['M']):5d}  {r['seconds']:.4g} s  {r['peak_rss_mib']:.0f} MiB  "
        f"+{r['added_mib']:.1f} MiB"
        for r in rows
    ]
    return "\n".join(lines)


def _eval_rows(quick: bool, seed: int) -> list[Comparison]:
    if (
        importlib.util.find_spec("faster_coco_eval") is None
        or importlib.util.find_spec("pycocotools") is None
    ):
        warnings.warn(
            "bench: pycocotools or faster-coco-eval missing: the evaluator row is skipped",
            RuntimeWarning,
            stacklevel=2,
        )
        return []
    n_images = 500 if quick else 5000
    rng = as_generator(seed)
    images = [
        {"id": i + 1, "file_name": f"{i}.png", "width": 640, "height": 480} for i in range(n_images)
    ]
    anns: list[dict[str, object]] = []
    dets: list[dict[str, object]] = []
    for i in range(n_images):
        for _ in range(int(rng.integers(1, 8))):
            x, y, w, h = (
                rng.uniform(0, 500),
                rng.uniform(0, 380),
                rng.uniform(8, 120),
                rng.uniform(8, 90),
            )
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": i + 1,
                    "category_id": int(rng.integers(1, 81)),
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                }
            )
        for _ in range(20 if quick else 100):
            x, y, w, h = (
                rng.uniform(0, 500),
                rng.uniform(0, 380),
                rng.uniform(8, 120),
                rng.uniform(8, 90),
            )
            dets.append(
                {
                    "image_id": i + 1,
                    "category_id": int(rng.integers(1, 81)),
                    "bbox": [x, y, w, h],
                    "score": float(rng.random()),
                }
            )
    gt = {
        "info": {},
        "licenses": [],
        "images": images,
        "annotations": anns,
        "categories": [{"id": c, "name": f"c{c}"} for c in range(1, 81)],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return [
            compare_timing(
                lambda: coco_ap(gt, dets, backend="pycocotools"),
                lambda: coco_ap(gt, dets, backend="faster-coco-eval"),
                repeats=2 if quick else 5,
                warmup=0 if quick else 1,
                label=(
                    f"COCO eval, {n_images} images: pycocotools (ours: default backend) vs "
                    "faster-coco-eval"
                ),
            )
        ]


def bench(*, quick: bool, seed: int, device: str = "cpu") -> list[Comparison]:
    """Run the benchmark rows (CPU) and return them."""
    del device
    return _step_rows(quick, seed) + _eval_rows(quick, seed)
