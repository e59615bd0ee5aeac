import pytest
import torch
from lat_detect import ConcatLabelSpace, LabelSpace

from sciml_core import InputError


@pytest.fixture
def cat():
    return ConcatLabelSpace(
        [
            LabelSpace("T", ("car", "person"), category_ids=(7, 3)),
            LabelSpace("A", ("car",)),
            LabelSpace("B", ("car", "truck", "sign"), category_ids=(10, 20, 30)),
        ]
    )


def test_offsets_are_the_sizes_of_the_datasets_before(cat):
    assert [cat.offset(n) for n in ("T", "A", "B")] == [0, 2, 3]
    assert cat.num_classes == 6


@pytest.mark.parametrize("name,size", [("T", 2), ("A", 1), ("B", 3)])
def test_to_internal_and_to_local_are_inverse(cat, name, size):
    for local in range(1, size + 1):
        assert cat.to_local(cat.to_internal(name, local)) == (name, local)


def test_equal_names_in_two_datasets_get_two_ids(cat):
    ids = {cat.to_internal(n, cat.space(n).classes.index("car") + 1) for n in ("T", "A", "B")}
    assert len(ids) == 3


@pytest.mark.parametrize("name", ["T", "A", "B"])
def test_mask_allows_background_and_one_dataset(cat, name):
    m = cat.mask(name)
    allowed = {i for i in range(1, cat.num_classes + 1) if cat.to_local(i)[0] == name}
    assert bool(m[0])
    assert {i for i in range(1, cat.num_classes + 1) if m[i]} == allowed


@pytest.mark.parametrize("cid,local", [(7, 1), (3, 2)])
def test_non_contiguous_category_ids_map_both_ways(cid, local):
    space = LabelSpace("T", ("car", "person"), category_ids=(7, 3))
    assert space.local_label(cid) == local
    assert space.category_id(local) == cid


def test_a_category_missing_from_the_space_is_an_input_error():
    with pytest.raises(InputError, match="category 5 is missing from label space 'T'"):
        LabelSpace("T", ("car",)).local_label(5)


def test_duplicate_dataset_names_are_refused():
    with pytest.raises(InputError, match="distinct"):
        ConcatLabelSpace([LabelSpace("T", ("a",)), LabelSpace("T", ("b",))])


def test_mask_is_a_bool_tensor(cat):
    assert cat.mask("A").dtype == torch.bool
