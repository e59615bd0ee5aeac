import dsp_prior


def test_public_api_is_pinned():
    assert sorted(dsp_prior.__all__) == ["__version__"]
    for name in dsp_prior.__all__:
        assert hasattr(dsp_prior, name)
