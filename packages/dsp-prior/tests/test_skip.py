"""The skip generator is DIP's: parameter counts of the reference, shapes, range, sizes."""

import pytest
import torch
from dsp_prior import SkipNet


@pytest.mark.parametrize(
    "build, count",
    [
        (lambda: SkipNet.dip_denoising(3), 2_217_831),
        (lambda: SkipNet.dip_denoising(1), 2_217_573),
        (lambda: SkipNet.dip_inpainting(3), 3_002_627),
        (lambda: SkipNet.small(1), 91_293),
    ],
    ids=["denoising-rgb", "denoising-grey", "inpainting-skip128-rgb", "small-grey"],
)
def test_skipnet_matches_dip_reference_parameter_counts(build, count):
    assert build().num_parameters() == count


@pytest.mark.parametrize(
    "build, settings",
    [
        (
            SkipNet.dip_denoising,
            dict(down=(128,) * 5, up=(128,) * 5, skip=(4,) * 5, upsample="bilinear"),
        ),
        (
            SkipNet.dip_super_resolution,
            dict(down=(128,) * 5, up=(128,) * 5, skip=(4,) * 5, upsample="bilinear"),
        ),
        (
            SkipNet.dip_inpainting,
            dict(down=(128,) * 5, up=(128,) * 5, skip=(128,) * 5, upsample="nearest"),
        ),
    ],
    ids=["denoising", "super-resolution", "inpainting"],
)
def test_presets_match_dip_settings(build, settings):
    net = build(3)
    assert net.in_channels == 32 and net.pad == "reflection" and net.sigmoid
    assert net.channels_down == settings["down"] and net.channels_up == settings["up"]
    assert net.channels_skip == settings["skip"] and net.upsample == settings["upsample"]


@pytest.mark.parametrize("channels", [1, 3])
def test_output_has_the_input_size_and_lies_in_the_unit_interval(channels):
    net = SkipNet.small(channels)
    z = torch.randn(1, 32, 24, 16, generator=torch.Generator().manual_seed(0))
    out = net(z)
    assert out.shape == (1, channels, 24, 16)
    assert bool((out > 0).all() and (out < 1).all())


def test_sizes_not_divisible_by_two_to_the_scales_raise_unless_crop():
    z = torch.rand(1, 32, 20, 20)
    with pytest.raises(
        ValueError, match=r"z: spatial size 20x20 is not divisible by 2\^scales = 8"
    ):
        SkipNet.small(1)(z)
    assert SkipNet.small(1, scales=3).__class__(32, 1, (8,) * 3, (8,) * 3, (4,) * 3, crop=True)(
        z
    ).shape == (1, 1, 20, 20)


@pytest.mark.parametrize("skip", [(4, 4, 4), (0, 0, 4)])
def test_crop_mode_keeps_the_size_with_and_without_skip_branches(skip):
    net = SkipNet(32, 1, (8,) * 3, (8,) * 3, skip, crop=True)
    assert net(torch.rand(1, 32, 21, 13)).shape == (1, 1, 21, 13)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(channels_down=(8, 8), channels_up=(8,), channels_skip=(4,)), "one entry per scale"),
        (dict(upsample="bicubic"), "upsample"),
        (dict(pad="circular"), "pad"),
        (dict(kernel_down=2), "kernel_down"),
        (dict(channels_skip=(-1,) * 5), "channels_skip"),
    ],
)
def test_bad_options_raise_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SkipNet(**kwargs)


def test_reset_parameters_redraws_the_weights_and_repr_names_the_count():
    torch.manual_seed(0)
    net = SkipNet.small(1)
    before = [p.clone() for p in net.parameters()]
    net.reset_parameters()
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
    assert "parameters=91,293" in repr(net) and "scales=3" in repr(net)
