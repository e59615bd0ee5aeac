"""The Pareto figures (test error against cost units and against training seconds) and the
level-variance bars (matplotlib, the ``[plot]`` extra; without it the run says so and records
the figures it did not draw)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from sciml_core import MissingExtraError, get_pyplot, save_figure

from .._stats import LevelStats

if TYPE_CHECKING:
    from .context import Context
    from .methods import Run

FIGURES = (
    ("pareto_units.png", "Test relative L2 at the finest grid against cost units (grid points)"),
    ("pareto_seconds.png", "Test relative L2 at the finest grid against training seconds"),
    ("level_variances.png", "Pilot V_l per level and hierarchy, at initialisation and trained"),
)


def _pyplot() -> tuple[Any | None, str]:
    try:
        return get_pyplot("mlmc-ops"), ""
    except MissingExtraError as err:
        why = " ".join(str(err).split())
        print(f"mlmc-ops: warning: no figures will be drawn: {why}", file=sys.stderr)
        return None, why


def pareto_figures(
    ctx: Context, runs: dict[tuple[str, int], Run], stats: dict[tuple[str, str], LevelStats]
) -> None:
    """Draw :data:`FIGURES` into ``ctx.out_dir`` and add them to the result (or a table of the
    figures not drawn and why)."""
    plt, why = _pyplot()
    if plt is None:
        ctx.result.add_table(
            "figures_not_drawn",
            "Figures this run did not draw",
            ["file", "caption", "reason"],
            [[f, c, why] for f, c in FIGURES],
        )
        return
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    for (file, caption), axis, label in zip(
        FIGURES[:2],
        ("cost_units", "seconds"),
        ("cost units (grid points; FFT logs and overheads ignored)", "training seconds"),
        strict=True,
    ):
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for (method, seed), r in runs.items():
            ax.plot(
                [p[axis] for p in r.points],
                [p["test"] for p in r.points],
                marker="o",
                ms=3,
                ls="-" if seed == ctx.seed else ":",
                label=f"{method} (lr {r.lr:g}{'' if seed == ctx.seed else f', seed {seed}'})",
            )
        ax.set_xlabel(label)
        ax.set_ylabel("test relative L2 (finest grid)")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        save_figure(fig, ctx.out_dir / file)
        plt.close(fig)
        ctx.result.add_figure(file, caption)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    keys = list(stats)
    n_lev = len(next(iter(stats.values())).V)
    width = 0.8 / len(keys)
    for i, key in enumerate(keys):
        st = stats[key]
        ax.bar(
            [j + i * width for j in range(n_lev)],
            st.V,
            width=width,
            label=f"{key[0]}, {key[1]}",
        )
    ax.set_xticks([j + 0.4 - width / 2 for j in range(n_lev)])
    ax.set_xticklabels(["V_0"] + [f"V_{j}" for j in range(1, n_lev)])
    ax.set_yscale("log")
    ax.set_ylabel("trace of gradient covariance")
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, ctx.out_dir / FIGURES[2][0])
    plt.close(fig)
    ctx.result.add_figure(FIGURES[2][0], FIGURES[2][1])
