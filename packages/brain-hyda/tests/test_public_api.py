import brain_hyda

EXPECTED = sorted(
    [
        "FUSION_FORMS",
        "GRAPHS",
        "NORMS",
        "POOLS",
        "PRESETS",
        "SAM3D_VARIANTS",
        "BasisRouter",
        "DynamicDepthwiseConv3d",
        "DynamicFusion",
        "FitLog",
        "FullFineTune",
        "HGNNConv",
        "HyDA",
        "ImageEncoder3D",
        "LayerNorm3d",
        "MultiScaleEncoder",
        "Probe",
        "Scratch",
        "SiteOracle",
        "StaticAdapter",
        "Subjects",
        "TinyUNet",
        "ViT3DTaps",
        "Volume",
        "__version__",
        "accuracy",
        "build_image_encoder",
        "count_parameters",
        "count_trainable",
        "dice",
        "dice_ce_loss",
        "dynamic_depthwise_conv3d",
        "fit",
        "hgnn_propagate",
        "knn_incidence",
        "load_patient",
        "load_sam3d_weights",
        "load_volume",
        "multi_incidence",
        "normalize",
        "predict",
        "pretrain_backbone",
        "roc_auc",
        "save_volume",
        "sliding_window",
        "synthetic_brains",
        "to_subjects",
    ]
)


def test_public_api_is_pinned():
    assert sorted(brain_hyda.__all__) == EXPECTED
    for name in brain_hyda.__all__:
        assert hasattr(brain_hyda, name)
