"""The data several studies share: the synthetic manuscript of the run's mode, built once."""

from __future__ import annotations

import functools

from .context import Context
from .synthetic import Manuscript, manuscript

__all__ = ["run_manuscript"]


@functools.lru_cache(maxsize=1)
def _cached_manuscript(size: int, bands: int, per_class: int, seed: int) -> Manuscript:
    ms = manuscript(size, bands, per_class=per_class, seed=seed)
    for array in (ms.stack, ms.truth, ms.labels, ms.wavelengths):
        array.setflags(write=False)  # shared between studies: none may change it
    return ms


def run_manuscript(ctx: Context) -> Manuscript:
    """The synthetic manuscript of ``ctx``'s mode and seed (spec §5.3), read-only.

    Built on first use and kept, so the studies that read it (band ranking, derived images,
    format independence, transform invariance) see one manuscript; it depends only on the mode's
    sizes and the seed, so any subset of studies gets the same one.
    """
    c = ctx.config
    return _cached_manuscript(c.manuscript_size, c.manuscript_bands, c.labelled_per_class, ctx.seed)
