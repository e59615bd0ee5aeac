"""Figures of the reproduction: drawn when matplotlib (the ``[plot]`` extra) is installed, otherwise
listed as not drawn, so that a run without it says what it left out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .context import Context

__all__ = ["add_figure"]


def add_figure(ctx: Context, file: str, caption: str, draw: Callable[[Any], Any]) -> None:
    """Draw a figure into ``ctx.out_dir / file`` and add it to the result, or note it undrawn.

    Args:
        ctx: The study's context.
        file: File name in the output folder, e.g. ``"manuscript.png"``.
        caption: The caption in the result.
        draw: Given ``matplotlib.pyplot``, returns the finished ``Figure``.
    """
    plt = ctx.pyplot
    if plt is None:
        ctx.figures_not_drawn.append((file, caption))
        return
    fig = draw(plt)
    fig.savefig(ctx.out_dir / file, dpi=90)
    plt.close(fig)
    ctx.result.add_figure(file, caption)
