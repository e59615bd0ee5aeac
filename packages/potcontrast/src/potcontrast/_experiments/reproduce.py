"""``potcontrast reproduce``: the registered studies, in order, into one ``result.json``.

Studies (spec §5; :mod:`.registry`), every number measured in this run:

1. Equalities (exact): histogram formula = PC_Original's binarise-then-mean / (hi − lo) = ½‖p − q‖₁
   (K = 2) = (K·BA* − 1)/(K − 1) of an explicit arg-max classifier = ``npc_from_histograms`` = the
   re-derived reference script, on seeded random cases.
2. A synthetic multispectral manuscript (parchment / ink / bleed-through): two- and three-class
   NPC per band, from the labelled pixels and from all pixels, the permutation null, Fisher / JM /
   KS; then NPC of derived images (PCA, band ratios, held-out LDA).
3. Format independence (exact): one scene as uint8, 12-bit and float gives the same NPC bit for
   bit; PC differs by the format's scale.
4. Transform invariance: a random permutation of the 4096 grey levels of one band leaves NPC (unit
   bins) unchanged and changes the Fisher ratio and the Gaussian Bhattacharyya distance.
5. Bias and convergence: the null table and the Gaussian convergence table of the spec, re-run.
6. Speed: a short run of the benchmark.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sciml_core
from sciml_core import InputError, MissingExtraError, Result
from sciml_core.cli import progress

from ..__about__ import __version__
from .._sparsity import SparseBinsWarning
from .config import config_for
from .context import Context
from .registry import STUDIES

__all__ = ["reproduce"]


def reproduce(
    out_dir: str | os.PathLike[str],
    *,
    quick: bool,
    seed: int = 0,
    device: str = "cpu",
    studies: Sequence[str] | None = None,
) -> Path:
    """Run the studies and write ``out_dir/result.json`` and the PNG figures.

    Args:
        out_dir: Output folder (created).
        quick: The under-a-minute run (smaller manuscript, fewer replicates).
        seed: Seed of every random choice.
        device: Recorded in the metadata; the package runs on the CPU.
        studies: Names of the studies to run (default: every one, in registry order).

    Without matplotlib (the ``[plot]`` extra) no figure is drawn: one line on stderr says so at
    the start, and ``result.json`` gets a table ``figures_not_drawn`` listing each figure left
    out and why (the tables and claims are the same either way).

    Returns:
        Path of ``result.json``.

    Raises:
        InputError: ``studies`` names a study that is not registered.
    """
    names = list(STUDIES) if studies is None else list(studies)
    unknown = [name for name in names if name not in STUDIES]
    if unknown:
        raise InputError(f"studies: unknown {unknown}; registered: {list(STUDIES)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = Result("potcontrast", __version__, seed=seed, device=device, quick=quick)
    plt, no_plot = _pyplot()
    ctx = Context(result, out, config_for(quick), seed, device, plt)
    with warnings.catch_warnings():
        # the bias floor is measured and reported here, not warned about
        warnings.simplefilter("ignore", SparseBinsWarning)
        for name in progress(names, desc="reproduce", unit="study"):
            STUDIES[name].run(ctx)
    if ctx.figures_not_drawn:
        result.add_table(
            "figures_not_drawn",
            "Figures this run did not draw",
            ["file", "caption", "reason"],
            [[file, caption, no_plot] for file, caption in ctx.figures_not_drawn],
        )
    return result.save(out)


def _pyplot() -> tuple[Any | None, str]:
    """``(matplotlib.pyplot, "")``, or ``(None, why)`` after one line on stderr saying so."""
    try:
        return sciml_core.get_pyplot("potcontrast"), ""
    except MissingExtraError as err:
        why = " ".join(str(err).split())
        print(f"potcontrast: warning: no figures will be drawn: {why}", file=sys.stderr)
        return None, why
