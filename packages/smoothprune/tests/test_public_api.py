import smoothprune

EXPECTED = [
    "CompressionReport",
    "GapCNN",
    "LayerReport",
    "LowRankConv2d",
    "LowRankLinear",
    "SmallCNN",
    "SmoothnessRegularizer",
    "SpatialLowRankConv2d",
    "Tucker2Conv2d",
    "Tucker2Linear",
    "Tucker2Report",
    "__version__",
    "accuracy",
    "allocate_global",
    "build_model",
    "channel_ratio_for",
    "cifar_resnet18",
    "compress_model",
    "compressible_layers",
    "count_parameters",
    "digits20",
    "finite_difference",
    "load_cifar10",
    "load_compressed",
    "nuclear_norm",
    "prune_channels",
    "prune_unstructured",
    "save_compressed",
    "singular_value_threshold",
    "smoothness_penalty",
    "spectrum",
    "train_classifier",
    "tucker2",
    "tucker2_factors",
    "tucker2_ranks",
]


def test_public_api_is_pinned():
    assert sorted(smoothprune.__all__) == sorted(EXPECTED)
    for name in smoothprune.__all__:
        assert hasattr(smoothprune, name)
