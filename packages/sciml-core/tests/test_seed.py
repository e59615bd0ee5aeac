from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sciml_core import (
    InputError,
    as_generator,
    as_torch_generator,
    root_seed,
    sample_generator,
    sample_seed_sequence,
    seed_everything,
)

seeds = st.integers(min_value=0, max_value=2**63 - 1)


@given(seed=seeds, i=st.integers(min_value=0, max_value=10_000))
def test_sample_seed_sequence_is_the_documented_spawn_key(seed: int, i: int) -> None:
    ss = sample_seed_sequence(seed, i)
    ref = np.random.SeedSequence(seed, spawn_key=(i,))
    assert ss.entropy == ref.entropy
    assert ss.spawn_key == (i,)
    assert np.array_equal(ss.generate_state(4), ref.generate_state(4))


@given(seed=st.integers(min_value=0, max_value=2**32))
def test_sample_i_does_not_depend_on_how_many_are_drawn(seed: int) -> None:
    ten = [sample_generator(seed, i).standard_normal(3) for i in range(10)]
    thousand = [sample_generator(seed, i).standard_normal(3) for i in range(1000)]
    for a, b in zip(ten, thousand[:10]):
        assert np.array_equal(a, b)


def test_samples_differ_between_indices_and_seeds() -> None:
    draws = {float(sample_generator(s, i).random()) for s in range(3) for i in range(50)}
    assert len(draws) == 150


def test_as_generator_int_matches_default_rng() -> None:
    assert np.array_equal(as_generator(11).random(5), np.random.default_rng(11).random(5))


def test_numpy_integer_seeds_are_ints() -> None:
    assert np.array_equal(as_generator(np.int64(11)).random(3), as_generator(11).random(3))
    assert sample_seed_sequence(np.uint32(5), np.int8(2)).spawn_key == (2,)


def test_as_generator_passes_a_generator_through() -> None:
    rng = np.random.default_rng(0)
    assert as_generator(rng) is rng


def test_as_generator_none_gives_fresh_entropy() -> None:
    a, b = as_generator(None).random(4), as_generator(None).random(4)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, [1]])
def test_bad_seeds_are_rejected_with_the_argument_named(bad: object) -> None:
    with pytest.raises(InputError, match="seed"):
        as_generator(bad)  # type: ignore[arg-type]


def test_sample_index_must_be_non_negative() -> None:
    with pytest.raises(InputError, match="i must be a non-negative int; got -1"):
        sample_seed_sequence(0, -1)


def test_root_seed_of_generators_is_reproducible_and_in_range() -> None:
    a = root_seed(np.random.default_rng(5))
    b = root_seed(np.random.default_rng(5))
    assert a == b and 0 <= a < 2**63
    rng = np.random.default_rng(5)
    assert root_seed(rng) != root_seed(rng)  # a generator advances
    assert root_seed(123) == 123
    none = {root_seed(None) for _ in range(5)}
    assert len(none) == 5 and all(0 <= s < 2**63 for s in none)


def test_seed_everything_seeds_python_and_numpy_globals() -> None:
    seed_everything(9)
    a = (random.random(), np.random.random())  # noqa: NPY002
    seed_everything(9)
    b = (random.random(), np.random.random())  # noqa: NPY002
    seed_everything(10)
    c = (random.random(), np.random.random())  # noqa: NPY002
    assert a == b != c


def test_seed_everything_accepts_seeds_beyond_32_bits() -> None:
    seed_everything(2**40 + 1)
    x = (random.random(), np.random.random())  # noqa: NPY002
    seed_everything(2**40 + 1)
    assert (random.random(), np.random.random()) == x  # noqa: NPY002


@pytest.mark.parametrize("low", [0, 1, 12345])
def test_seeds_differing_above_32_bits_give_different_numpy_streams(low: int) -> None:
    draws = []
    for seed in (low, low + 2**32, low + 2**40, low + 2**62):
        seed_everything(seed)
        draws.append(tuple(np.random.random(3)))  # noqa: NPY002
    assert len(set(draws)) == len(draws)
    seed_everything(low)
    assert tuple(np.random.random(3)) == draws[0]  # noqa: NPY002
    np.random.seed(low)  # noqa: NPY002 - a 32-bit seed is numpy's own seed(seed)
    assert tuple(np.random.random(3)) == draws[0]  # noqa: NPY002


def test_seed_everything_seeds_torch_when_imported() -> None:
    torch = pytest.importorskip("torch")
    seed_everything(4)
    a = torch.rand(3)
    seed_everything(4)
    assert torch.equal(a, torch.rand(3))


def test_as_torch_generator_from_int_matches_manual_seed() -> None:
    torch = pytest.importorskip("torch")
    gen = as_torch_generator(17)
    ref = torch.Generator().manual_seed(17)
    assert torch.equal(torch.rand(4, generator=gen), torch.rand(4, generator=ref))


def test_as_torch_generator_passes_through_and_converts_numpy() -> None:
    torch = pytest.importorskip("torch")
    gen = torch.Generator().manual_seed(1)
    assert as_torch_generator(gen) is gen
    a = torch.rand(3, generator=as_torch_generator(np.random.default_rng(2)))
    b = torch.rand(3, generator=as_torch_generator(np.random.default_rng(2)))
    assert torch.equal(a, b)


def test_torch_generator_normalises_to_a_numpy_generator() -> None:
    torch = pytest.importorskip("torch")
    a = as_generator(torch.Generator().manual_seed(3)).random(3)
    b = as_generator(torch.Generator().manual_seed(3)).random(3)
    c = as_generator(torch.Generator().manual_seed(4)).random(3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
