import mlmc_ops


def test_public_api_is_pinned():
    assert sorted(mlmc_ops.__all__) == ["__version__"]
    for name in mlmc_ops.__all__:
        assert hasattr(mlmc_ops, name)
