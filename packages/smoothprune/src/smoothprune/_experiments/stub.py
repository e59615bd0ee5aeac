"""The template's only study: it says in its claim that nothing is reproduced yet."""

from __future__ import annotations

from .context import Context


def run(ctx: Context) -> None:
    """Add the stub claim (a package replaces this module with its first real study)."""
    ctx.result.add_claim(
        "stub",
        expected="the paper's headline comparison",
        observed="not implemented yet: this package is a template stub",
        holds=False,
    )
