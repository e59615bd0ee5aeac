import dsp_prior

PUBLIC = [
    "AmplitudePhaseLoss", "DSPLoss", "DSP_KINDS", "FitResult", "FixedBudget", "FourierLoss",
    "INPUT_KINDS", "METHODS", "Oracle", "PixelMSE", "RadialWeight", "RunningVariance", "SkipNet",
    "TASKS", "TaskOptions", "ValidatedStop", "VarianceMonitor", "__version__", "deblur", "denoise",
    "fit",
    "hermitian_weights", "inpaint", "make_loss", "noise_input", "radial_frequency",
    "super_resolve",
]  # fmt: skip


def test_public_api_is_pinned():
    assert sorted(dsp_prior.__all__) == sorted(PUBLIC)
    for name in dsp_prior.__all__:
        assert hasattr(dsp_prior, name)
