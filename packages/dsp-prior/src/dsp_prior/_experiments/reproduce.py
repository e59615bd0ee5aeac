"""``dsp-prior reproduce``: the registered studies, in order, into one ``result.json``."""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from sciml_core import InputError, Result, resolve_device
from sciml_core.cli import progress

from ..__about__ import __version__
from .config import Budget, config_for
from .context import Context
from .registry import STUDIES

#: Every setting that silently changes DIP results (spec §3), recorded with each run.
SETTINGS = [
    ["method under test", "our reading of DSP (arXiv:2505.19873 abstracts), not a transcription"],
    ["network", "SkipNet.small(1): 3 scales x 32 channels, skip 4, bilinear, reflection, sigmoid"],
    ["input z", "32 channels, U(0, 0.1), fixed"],
    [
        "input perturbation",
        "sigma_p = 1/30 (denoising), 0.03 (inpainting, SR), fresh N(0, I) each step",
    ],
    ["optimiser", "Adam, lr 0.01, same seed, net, input and perturbation for DIP and DSP"],
    ["output average", "EMA 0.99 of the perturbed-input outputs, reported separately"],
    ["BatchNorm", "training mode throughout, evaluation under no_grad"],
    [
        "noise",
        "clip(x + N(0, (25/255)^2), 0, 1): invprob_core.add_noise(relative=False) then clamp",
    ],
    ["images", "invprob_core.sample_image (scikit-image), grey, centre crop, area resize"],
    ["SR operator", "invprob_core.Downsample(4, 'lanczos2', 'replicate') = DIP's Downsampler"],
    ["metrics", "sciml_core.psnr (data range 1), ssim (Gaussian 11, sigma 1.5); SR crops 4 px"],
    ["oracle", "best logged PSNR against the truth: evaluation only, labelled 'oracle'"],
]


def reproduce(
    out_dir: Path,
    *,
    quick: bool,
    seed: int,
    device: str = "cpu",
    studies: Sequence[str] | None = None,
    budget: Budget = "spec",
) -> Path:
    """Run ``studies`` (default: all, in registry order), write ``result.json``, return its path.

    ``budget="reduced"`` runs ``--full`` as :data:`.config.FULL_REDUCED` (32x32, 2000 iterations,
    one test seed); a ``budget`` table records each study's wall time. ``result.json`` is
    rewritten after every study, so a run stopped early leaves what it measured (the studies not
    run are listed in ``not_tested``).

    Raises:
        InputError: ``studies`` names a study that is not registered; a bad ``budget``.
    """
    names = list(STUDIES) if studies is None else list(studies)
    unknown = [name for name in names if name not in STUDIES]
    if unknown:
        raise InputError(f"studies: unknown {unknown}; registered: {list(STUDIES)}")
    cfg = config_for(quick, budget)
    dev = str(resolve_device(device))
    result = Result("dsp-prior", __version__, seed=seed, device=dev, quick=quick)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ctx = Context(result, out, cfg, seed, dev)
    result.add_table(
        "config",
        f"Settings of this run ({cfg.mode})",
        ["setting", "value"],
        [[f.name, str(getattr(cfg, f.name))] for f in dataclasses.fields(cfg)] + SETTINGS,
    )
    if dev.startswith("cuda"):
        torch.backends.cudnn.benchmark = False
    budget_rows: list[list[object]] = []
    path = out / "result.json"
    for i, name in enumerate(progress(names, desc="reproduce", unit="study")):
        start = time.perf_counter()
        STUDIES[name].run(ctx)
        budget_rows.append([name, round(time.perf_counter() - start, 1)])
        # after every study, so that a long run stopped early still leaves what it measured
        path = _snapshot(ctx, budget_rows, names[i + 1 :]).save(out)
    if not names:
        path = _snapshot(ctx, budget_rows, ()).save(out)
    return path


def _snapshot(ctx: Context, budget_rows: list[list[object]], remaining: Sequence[str]) -> Result:
    """A copy of the result so far with its ``budget`` and ``not_tested`` tables.

    Studies not run yet are listed in ``not_tested``; the last snapshot (``remaining`` empty) is
    the run's result.
    """
    snap = copy.deepcopy(ctx.result)
    snap.add_table(
        "budget",
        f"Wall time of each study ({ctx.config.mode}, {torch.get_num_threads()} thread(s); "
        "seconds per iteration of each fit are in the task tables)",
        ["study", "wall s"],
        budget_rows,
    )
    rows = [list(row) for row in ctx.not_tested]
    rows += [[f"study {name}", "not run: the run stopped before it"] for name in remaining]
    snap.add_table(
        "not_tested",
        "Claims this mode cannot test, and why (not written as failed)",
        ["claim", "reason"],
        rows or [["(none)", "every claim was tested"]],
    )
    return snap
