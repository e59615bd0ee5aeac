import smoothprune


def test_public_api_is_pinned():
    assert sorted(smoothprune.__all__) == ["__version__"]
    for name in smoothprune.__all__:
        assert hasattr(smoothprune, name)
