"""Seeds: one normaliser for every stochastic function, and per-sample seed spawning.

Every stochastic function of the sciml packages takes a keyword-only ``seed`` of type
:data:`SeedLike` and normalises it here. Data generators draw sample ``i`` from
``SeedSequence(seed, spawn_key=(i,))`` (:func:`sample_generator`), so sample ``i`` is the same
whether 10 or 10 000 samples are asked for.
"""

from __future__ import annotations

import numbers
import random
from typing import TYPE_CHECKING, Any, TypeAlias, Union

import numpy as np

from ._backend import loaded_torch
from ._errors import InputError, require_extra

if TYPE_CHECKING:
    import torch

__all__ = [
    "SeedLike",
    "as_generator",
    "as_torch_generator",
    "root_seed",
    "sample_generator",
    "sample_seed_sequence",
    "seed_everything",
]

SeedLike: TypeAlias = Union[int, np.random.Generator, "torch.Generator", None]
"""``int | numpy.random.Generator | torch.Generator | None``: what every ``seed=`` accepts."""

_SEED_BITS = 63  # fits torch.manual_seed, numpy seeds and a signed 64-bit integer


def _is_torch_generator(seed: Any) -> bool:
    torch = loaded_torch()
    return torch is not None and isinstance(seed, torch.Generator)


def _check_int_seed(seed: Any, name: str = "seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InputError(f"{name} must be a non-negative int; got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise InputError(f"{name} must be a non-negative int; got {seed}")
    return int(seed)


def _describe(seed: Any) -> str:
    return f"{type(seed).__module__}.{type(seed).__qualname__}"


def root_seed(seed: SeedLike) -> int:
    """Return an integer seed (``0 <= s < 2**63``) from any :data:`SeedLike`.

    An ``int`` is returned as is; a numpy or torch generator yields one draw (so it advances, and
    the same generator state always gives the same integer); ``None`` draws fresh OS entropy.

    Args:
        seed: ``int``, ``numpy.random.Generator``, ``torch.Generator`` or ``None``.

    Returns:
        A non-negative ``int``, suitable for :func:`sample_seed_sequence` and ``torch.manual_seed``.

    Raises:
        InputError: ``seed`` is negative, a ``bool``, or of another type.

    Examples:
        >>> root_seed(7)
        7
        >>> root_seed(np.random.default_rng(0)) == root_seed(np.random.default_rng(0))
        True
    """
    if seed is None:
        state = np.random.SeedSequence().generate_state(1, np.uint64)
        return int(state[0]) >> (64 - _SEED_BITS)
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**_SEED_BITS))
    if _is_torch_generator(seed):
        torch = loaded_torch()
        assert torch is not None
        # torch.randint's bound must fit int64; 62 random bits are plenty for a seed.
        gen: Any = seed
        draw = torch.randint(0, 2**62, (1,), generator=gen, device=gen.device)
        return int(draw.item())
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InputError(
            "seed must be an int, numpy.random.Generator, torch.Generator or None; "
            f"got {_describe(seed)}"
        )
    return _check_int_seed(seed)


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Normalise ``seed`` to a ``numpy.random.Generator``.

    A numpy generator is returned itself (not copied), an ``int`` seeds a new PCG64 generator
    (``numpy.random.default_rng(seed)``), a torch generator gives one integer draw
    (:func:`root_seed`) that seeds a new one, and ``None`` gives a generator from OS entropy.

    Args:
        seed: ``int``, ``numpy.random.Generator``, ``torch.Generator`` or ``None``.

    Returns:
        A numpy generator.

    Raises:
        InputError: ``seed`` is negative or of an unsupported type.

    Examples:
        >>> float(as_generator(0).random()) == float(np.random.default_rng(0).random())
        True
        >>> rng = np.random.default_rng(1)
        >>> as_generator(rng) is rng
        True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng(root_seed(seed))


def as_torch_generator(seed: SeedLike, device: Any = "cpu") -> torch.Generator:
    """Normalise ``seed`` to a ``torch.Generator`` on ``device`` (needs the ``[torch]`` extra).

    A torch generator is returned itself, an ``int`` gives ``torch.Generator(device)`` with
    ``manual_seed(seed)``, a numpy generator gives one integer draw that seeds it, and ``None``
    seeds it from OS entropy.

    Args:
        seed: ``int``, ``numpy.random.Generator``, ``torch.Generator`` or ``None``.
        device: Device of the new generator (ignored when ``seed`` is a torch generator).

    Returns:
        A ``torch.Generator``.

    Raises:
        MissingExtraError: torch is not installed.
        InputError: ``seed`` is negative or of an unsupported type.

    Examples:
        >>> import torch
        >>> a = torch.rand(3, generator=as_torch_generator(5))
        >>> b = torch.rand(3, generator=as_torch_generator(5))
        >>> bool((a == b).all())
        True
    """
    torch = require_extra("torch", extra="torch", package="sciml-core")
    if isinstance(seed, torch.Generator):
        return seed
    gen = torch.Generator(device=device)
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(root_seed(seed))
    return gen


def sample_seed_sequence(seed: int, i: int) -> np.random.SeedSequence:
    """Seed sequence of sample ``i`` of a data set seeded by ``seed``.

    Equal to ``numpy.random.SeedSequence(seed, spawn_key=(i,))``: it depends on ``seed`` and
    ``i`` only, never on how many samples are drawn.

    Args:
        seed: Non-negative integer (use :func:`root_seed` first for other :data:`SeedLike` values).
        i: Non-negative sample index.

    Returns:
        The sample's ``numpy.random.SeedSequence``.

    Raises:
        InputError: ``seed`` or ``i`` is not a non-negative int.

    Examples:
        >>> sample_seed_sequence(0, 3).spawn_key
        (3,)
    """
    return np.random.SeedSequence(_check_int_seed(seed), spawn_key=(_check_int_seed(i, "i"),))


def sample_generator(seed: int, i: int) -> np.random.Generator:
    """Generator of sample ``i``: ``numpy.random.default_rng(sample_seed_sequence(seed, i))``.

    Args:
        seed: Non-negative integer seed of the data set.
        i: Non-negative sample index.

    Returns:
        A fresh numpy generator; sample ``i`` is the same whether 10 or 10 000 are generated.

    Examples:
        >>> few = [sample_generator(42, i).random() for i in range(3)]
        >>> many = [sample_generator(42, i).random() for i in range(1000)]
        >>> few == many[:3]
        True
    """
    return np.random.default_rng(sample_seed_sequence(seed, i))


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, numpy's legacy global generator, and torch if already imported.

    Torch is seeded with ``torch.manual_seed`` (all devices) only when this process has imported
    it; this function never imports torch. New code should pass explicit ``seed`` arguments
    instead; this is for third-party code that draws from global state.

    Args:
        seed: Non-negative integer.

    Raises:
        InputError: ``seed`` is not a non-negative int.

    Examples:
        >>> seed_everything(3); a = random.random(), np.random.rand()
        >>> seed_everything(3); b = random.random(), np.random.rand()
        >>> a == b
        True
    """
    seed = _check_int_seed(seed)
    random.seed(seed)
    # The legacy seed takes 32 bits; a wider seed goes in as its 32-bit words (init_by_array), so
    # that seeds differing only above bit 32 do not give the same numpy stream.
    if seed < 2**32:
        np.random.seed(seed)  # noqa: NPY002 - seeding the legacy global is the point here
    else:
        words = [(seed >> b) & 0xFFFFFFFF for b in range(0, seed.bit_length(), 32)]
        np.random.seed(words)  # noqa: NPY002
    torch = loaded_torch()
    if torch is not None:
        torch.manual_seed(seed)
