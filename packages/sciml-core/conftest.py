"""Doctest collection: examples that need an optional extra are skipped when it is absent."""

from __future__ import annotations

import importlib.util

import pytest
from _pytest.doctest import DoctestItem

# Each optional module, and text that marks a doctest needing it.
_OPTIONAL = {
    "torch": ("torch", "resolve_device(", "resolve_dtype("),
    "matplotlib": ("get_pyplot(",),
    "tifffile": ("tifffile",),
    "PIL": ("PIL",),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    missing = {m for m in _OPTIONAL if importlib.util.find_spec(m) is None}
    if not missing:
        return
    for item in items:
        if not isinstance(item, DoctestItem) or item.dtest is None:
            continue
        source = "".join(example.source for example in item.dtest.examples)
        for module in missing:
            if any(marker in source for marker in _OPTIONAL[module]):
                item.add_marker(pytest.mark.skip(reason=f"doctest needs {module}"))
