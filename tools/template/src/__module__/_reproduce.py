"""``{{dist}} reproduce``: the paper's headline comparison at laptop scale."""

from __future__ import annotations

from pathlib import Path

from sciml_core import Result

from .__about__ import __version__


def reproduce(out_dir: Path, *, quick: bool, seed: int, device: str = "cpu") -> Path:
    """Write ``result.json`` into ``out_dir`` and return its path.

    The template's stub: it states in its claims that nothing is reproduced yet.
    """
    result = Result("{{dist}}", __version__, seed=seed, device=device, quick=quick)
    result.add_claim(
        "stub",
        expected="the paper's headline comparison",
        observed="not implemented yet: this package is a template stub",
        holds=False,
    )
    return result.save(out_dir)
