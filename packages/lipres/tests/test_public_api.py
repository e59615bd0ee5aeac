import lipres

EXPECTED = sorted(
    [
        "ACTIVATIONS",
        "ARCHITECTURES",
        "EMPIRICAL_METHODS",
        "HIDDEN_NORMS",
        "NORM_MODES",
        "PADDINGS",
        "AugmentedGradientStep",
        "ClassifierHead",
        "ConstrainedOptimizer",
        "DigitsSplit",
        "GradientConv2d",
        "GradientStep",
        "GroupSort2",
        "Lifting",
        "LipCritic",
        "LipResNet",
        "LipResNetClassifier",
        "MarginLoss",
        "MaxMin",
        "MixedNormAffine",
        "NotCertifiedError",
        "ScalarHead",
        "SpectralLinear",
        "SpectralNormMLP",
        "UnconstrainedResNet",
        "__version__",
        "abs_target",
        "certified_accuracy",
        "certified_radius",
        "constrain_",
        "conv_operator_norm",
        "distance_to_circle",
        "distance_to_points",
        "distance_to_square_boundary",
        "dual_norm",
        "gram_spectral_norm",
        "empirical_lipschitz",
        "export",
        "fit_classifier",
        "fit_regressor",
        "grid",
        "lipschitz_bound",
        "load_digits_split",
        "load_model",
        "max_affine",
        "orthogonal_norm_bound",
        "pgd_l2",
        "random_max_affine",
        "random_points",
        "refresh_norms_",
        "save_model",
        "spectral_norm",
        "verified_spectral_norm",
        "triangle_wave",
    ]
)


def test_public_api_is_pinned():
    assert sorted(lipres.__all__) == EXPECTED
    for name in lipres.__all__:
        assert hasattr(lipres, name)


def test_not_certified_error_is_an_input_error():
    import sciml_core

    assert issubclass(lipres.NotCertifiedError, sciml_core.InputError)
