"""Torch without importing torch: what the core knows about the process it runs in.

The core never imports torch itself. A package that uses torch has imported it already, so
``sys.modules`` tells whether an object can be a tensor at all, and ``importlib.metadata`` gives
torch's version without importing it.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from types import ModuleType
from typing import Any

__all__ = ["is_tensor", "loaded_torch", "thread_count", "torch_version"]


def loaded_torch() -> ModuleType | None:
    """Return the torch module if this process has imported it, else None (never imports it)."""
    return sys.modules.get("torch")


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a torch tensor (always False while torch is not imported)."""
    torch = loaded_torch()
    return torch is not None and isinstance(x, torch.Tensor)


def torch_version() -> str | None:
    """Torch's version: the imported module's if loaded, else the installed one's, else None."""
    torch = loaded_torch()
    if torch is not None:
        return str(torch.__version__)
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None


def thread_count() -> int:
    """Intra-op threads in use: torch's if loaded, else ``OMP_NUM_THREADS``, else the CPU count."""
    torch = loaded_torch()
    if torch is not None:
        return int(torch.get_num_threads())
    omp = os.environ.get("OMP_NUM_THREADS", "")
    if omp.strip().isdigit() and int(omp) > 0:
        return int(omp)
    return os.cpu_count() or 1
