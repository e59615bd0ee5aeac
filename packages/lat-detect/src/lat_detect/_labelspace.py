"""Label spaces: one dataset's classes, and the concatenation of several (spec section 2.1).

LAT never merges classes by name. The class lists ``L_1, ..., L_N`` of the datasets are
concatenated: class ``c`` (1-based, in the order of the dataset's category ids) of dataset ``n``
gets the internal id ``o_n + c`` with ``o_n = sum_{m<n} |L_m|``, so ``K = sum_n |L_n|`` and
"car" in two datasets gets two ids. Internal id 0 is background, as in torchvision. Public outputs
always use a dataset's own COCO category ids (:meth:`LabelSpace.category_id`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from sciml_core import InputError

__all__ = ["ConcatLabelSpace", "LabelSpace"]


@dataclass(frozen=True)
class LabelSpace:
    """The classes of one dataset, with their COCO category ids.

    Args:
        name: Dataset name (``"T"``, ``"cityscapes"``).
        classes: Class names in order; local label ``c`` (1-based) is ``classes[c - 1]``.
        category_ids: COCO category id of each class (default ``1 .. len(classes)``); arbitrary,
            non-contiguous ids are fine.

    Examples:
        >>> space = LabelSpace("T", ("car", "person"), category_ids=(3, 17))
        >>> space.local_label(17), space.category_id(1)
        (2, 3)
    """

    name: str
    classes: tuple[str, ...]
    category_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.name:
            raise InputError("label space: name must be a non-empty string")
        classes = tuple(str(c) for c in self.classes)
        if not classes:
            raise InputError(f"label space {self.name!r}: needs at least one class")
        if len(set(classes)) != len(classes):
            raise InputError(f"label space {self.name!r}: duplicate class names {list(classes)}")
        ids = tuple(int(i) for i in self.category_ids) or tuple(range(1, len(classes) + 1))
        if len(ids) != len(classes):
            raise InputError(
                f"label space {self.name!r}: {len(classes)} classes but {len(ids)} category ids"
            )
        if len(set(ids)) != len(ids):
            raise InputError(f"label space {self.name!r}: duplicate category ids {list(ids)}")
        object.__setattr__(self, "classes", classes)
        object.__setattr__(self, "category_ids", ids)

    def __len__(self) -> int:
        return len(self.classes)

    def local_label(self, category_id: int) -> int:
        """Local label (1-based) of a COCO category id; ``InputError`` when it is not here."""
        try:
            return self.category_ids.index(int(category_id)) + 1
        except ValueError:
            raise InputError(
                f"category {category_id} is missing from label space {self.name!r} "
                f"(ids {list(self.category_ids)})"
            ) from None

    def category_id(self, local: int) -> int:
        """COCO category id of local label ``local`` (1-based)."""
        if not 1 <= local <= len(self.classes):
            raise ValueError(f"local label must be in [1, {len(self.classes)}]; got {local}")
        return self.category_ids[local - 1]

    def to_coco(self) -> list[dict[str, object]]:
        """The ``categories`` list of a COCO file."""
        return [{"id": i, "name": n} for i, n in zip(self.category_ids, self.classes, strict=True)]


class ConcatLabelSpace:
    """Several label spaces side by side: internal id ``o_n + c`` for class ``c`` of dataset ``n``.

    Args:
        spaces: The datasets' label spaces, in order; names must be distinct.

    Examples:
        >>> a, t = LabelSpace("A", ("vehicle",)), LabelSpace("T", ("car", "person"))
        >>> cat = ConcatLabelSpace([a, t])
        >>> cat.num_classes, cat.offset("T"), cat.to_internal("T", 2), cat.to_local(3)
        (3, 1, 3, ('T', 2))
        >>> cat.mask("T").tolist()
        [True, False, True, True]
    """

    def __init__(self, spaces: Sequence[LabelSpace]) -> None:
        self.spaces = tuple(spaces)
        names = [s.name for s in self.spaces]
        if not names:
            raise InputError("label spaces: need at least one")
        if len(set(names)) != len(names):
            raise InputError(f"label spaces: dataset names must be distinct; got {names}")
        self._offsets: dict[str, int] = {}
        total = 0
        for space in self.spaces:
            self._offsets[space.name] = total
            total += len(space)
        self.num_classes = total

    @property
    def names(self) -> tuple[str, ...]:
        """Dataset names in order."""
        return tuple(s.name for s in self.spaces)

    def space(self, name: str) -> LabelSpace:
        """The label space of dataset ``name``."""
        for s in self.spaces:
            if s.name == name:
                return s
        raise InputError(f"dataset {name!r} is not one of {list(self.names)}")

    def offset(self, name: str) -> int:
        """``o_n``: internal id of dataset ``name``'s class 1, minus one."""
        self.space(name)
        return self._offsets[name]

    def to_internal(self, name: str, local: int | torch.Tensor) -> int | torch.Tensor:
        """Internal ids of local labels (1-based) of dataset ``name``."""
        return local + self.offset(name)

    def to_local(self, internal: int) -> tuple[str, int]:
        """``(dataset name, local label)`` of internal id ``internal`` (>= 1)."""
        if not 1 <= internal <= self.num_classes:
            raise ValueError(f"internal id must be in [1, {self.num_classes}]; got {internal}")
        for space in self.spaces:
            o = self._offsets[space.name]
            if internal <= o + len(space):
                return space.name, internal - o
        raise AssertionError("unreachable")

    def mask(self, *names: str) -> torch.Tensor:
        """Boolean ``(K + 1,)``: background and the ids of the named datasets."""
        m = torch.zeros(self.num_classes + 1, dtype=torch.bool)
        m[0] = True
        for name in names:
            o = self.offset(name)
            m[o + 1 : o + 1 + len(self.space(name))] = True
        return m
