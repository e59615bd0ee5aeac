"""Every number a ``reproduce`` run depends on, one frozen dataclass per mode (spec §5)."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Literal

__all__ = ["FULL", "MODES", "QUICK", "Config", "Mode", "config_for"]

Mode = Literal["quick", "full"]
MODES: tuple[Mode, ...] = typing.get_args(Mode)


@dataclass(frozen=True)
class Config:
    """Sizes, budgets and seed offsets of one ``reproduce`` mode.

    Seeds: every random draw of a study comes from ``sciml_core.sample_generator(seed, i)`` with
    its own sample index ``i`` (the ``*_seed_index`` fields and the Monte-Carlo ``*_section``
    numbers), so the studies are independent of each other and of the order they run in.

    Attributes:
        mode: ``"quick"`` (under a minute on two cores) or ``"full"`` (the laptop-scale run).
        equality_cases: Seeded random cases of the equalities study (spec §5.1).
        equality_seed_index: Sample index of equality case 0 (case ``i`` uses this + ``i``).
        manuscript_size: Side of the synthetic manuscript canvas (spec §5.3).
        manuscript_bands: Bands of the synthetic manuscript.
        labelled_per_class: Labelled pixels per class of the manuscript.
        manuscript_bins: Bins of every manuscript NPC.
        manuscript_range: Range of every manuscript NPC (12-bit data).
        null_permutations: Label permutations of the manuscript's permutation null.
        lda_split_seed_index: Sample index of the draw that splits the labels for the LDA.
        format_seed_index: Sample index of the 12-bit dither of the format study (spec §5.2).
        level_permutation_seed_index: Sample index of the grey-level permutation (spec §5.4).
        bias_cells: ``(K, n)`` cells of the spec's null table re-run (spec §5.5).
        bias_bins: Bin counts of the null table re-run.
        bias_replicates: Monte-Carlo replicates per null-table cell.
        bias_section: Section number of the null table's Monte-Carlo sample indices.
        convergence_sizes: Samples per class of the convergence table re-run.
        convergence_bins: Bin counts of the convergence table re-run.
        convergence_replicates: Monte-Carlo replicates per convergence cell.
        convergence_section: Section number of the convergence table's sample indices.
        speed_size: Image side of the speed row (spec §5.6).
        speed_bands: Bands of the speed row.
        speed_classes: Classes of the speed row.
        speed_repeats: Timed repeats (after one warm-up) of the speed row.
    """

    mode: Mode
    equality_cases: int
    manuscript_size: int
    manuscript_bands: int
    labelled_per_class: int
    null_permutations: int
    bias_cells: tuple[tuple[int, int], ...]
    bias_bins: tuple[int, ...]
    bias_replicates: int
    convergence_sizes: tuple[int, ...]
    convergence_replicates: int
    speed_size: int
    equality_seed_index: int = 1000
    manuscript_bins: int = 64
    manuscript_range: tuple[int, int] = (0, 4096)
    lda_split_seed_index: int = 3000
    format_seed_index: int = 2000
    level_permutation_seed_index: int = 4000
    bias_section: int = 5
    convergence_bins: tuple[int, ...] = (16, 64, 256, 4096)
    convergence_section: int = 9
    speed_bands: int = 4
    speed_classes: int = 3
    speed_repeats: int = 3


QUICK = Config(
    mode="quick",
    equality_cases=60,
    manuscript_size=128,
    manuscript_bands=6,
    labelled_per_class=500,
    null_permutations=50,
    bias_cells=((2, 100), (2, 1000)),
    bias_bins=(16, 256),
    bias_replicates=10,
    convergence_sizes=(100, 1000, 10000),
    convergence_replicates=10,
    speed_size=1024,
)
FULL = Config(
    mode="full",
    equality_cases=200,
    manuscript_size=256,
    manuscript_bands=12,
    labelled_per_class=3000,
    null_permutations=200,
    bias_cells=((2, 100), (2, 1000), (2, 3000), (2, 10000), (3, 100), (3, 3000)),
    bias_bins=(16, 64, 256, 4096),
    bias_replicates=40,
    convergence_sizes=(100, 1000, 10000, 100000),
    convergence_replicates=20,
    speed_size=2000,
)


def config_for(quick: bool) -> Config:
    """The configuration of ``--quick`` (True) or ``--full`` (False).

    Examples:
        >>> config_for(True).manuscript_size, config_for(False).manuscript_size
        (128, 256)
    """
    return QUICK if quick else FULL
