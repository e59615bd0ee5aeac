"""Spec §5.6, speed: one short benchmark row, end to end against the reference workflow.

NPC and class map of every band of a 12-bit stack from masks, ours vs the re-derived reference
per-band loop with its whole-band class map (:mod:`.workloads`); ``potcontrast bench`` has the
full grid.
"""

from __future__ import annotations

from .bench import time_side_by_side
from .context import Context
from .tables import tidy
from .workloads import BenchCase, make_stack, ours_end_to_end, reference_workflow

__all__ = ["run"]


def run(ctx: Context) -> None:
    """Add the ``speed`` table (times, ``speedup = t_reference / t_ours``, threads, load)."""
    c = ctx.config
    case = BenchCase(c.speed_size, c.speed_bands, c.speed_classes)
    img, masks = make_stack(case, ctx.seed)
    mask_list = list(masks)
    t = time_side_by_side(
        lambda: ours_end_to_end(img, masks, case.bins),
        lambda: reference_workflow(img, mask_list, case.bins, with_map=True),
        case.label,
        c.speed_repeats,
    )
    ctx.result.add_table(
        "speed",
        "End to end (NPC + class map of every band) vs the re-derived reference "
        "workflow, 12-bit, 3000 px per class, batches of calls lasting >= 0.25 s (as in "
        "bench); speedup = t_reference / t_ours",
        ["case", "t_ours_s", "t_reference_s", "speedup", "threads", "load_avg"],
        tidy([[t.label, t.t_ours, t.t_peer, t.speedup, t.threads, t.load_avg]]),
    )
