"""Test set-up: deterministic Hypothesis profile, one intra-op thread."""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("ci")

try:
    import torch
except ImportError:  # the isolated environment of the core has no torch
    pass
else:
    torch.set_num_threads(1)
