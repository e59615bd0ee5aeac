import {{module}}


def test_public_api_is_pinned():
    assert sorted({{module}}.__all__) == ["__version__"]
    for name in {{module}}.__all__:
        assert hasattr({{module}}, name)
