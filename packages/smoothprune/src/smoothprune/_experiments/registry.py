"""The studies of ``reproduce``, by name, in the order they run."""

from __future__ import annotations

from . import stub
from .context import Study

STUDIES: dict[str, Study] = {
    study.name: study for study in (Study("stub", "Not implemented yet", stub.run),)
}
