import lipres


def test_public_api_is_pinned():
    assert sorted(lipres.__all__) == ["__version__"]
    for name in lipres.__all__:
        assert hasattr(lipres, name)
