"""``smoothprune bench``: this package against its named peer, ``speedup = t_peer / t_ours``."""

from __future__ import annotations

from sciml_core import Comparison, InputError


def bench(*, quick: bool, seed: int, device: str = "cpu") -> list[Comparison]:
    """Run the benchmark rows and return them."""
    raise InputError("bench: not implemented yet (this package is a template stub)")
