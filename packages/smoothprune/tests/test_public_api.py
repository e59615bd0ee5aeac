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
    "__version__",
    "accuracy",
    "allocate_global",
    "build_model",
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
    "tucker2_factors",
]


def test_public_api_is_pinned():
    assert sorted(smoothprune.__all__) == sorted(EXPECTED)
    for name in smoothprune.__all__:
        assert hasattr(smoothprune, name)
