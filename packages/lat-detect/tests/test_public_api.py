import subprocess
import sys

import lat_detect

EXPECTED = [
    "BACKBONES",
    "BACKENDS",
    "COCOStats",
    "ConcatLabelSpace",
    "DetectionDataset",
    "DetectionSample",
    "FeatureBackbone",
    "ImageRecord",
    "LATConfig",
    "LATModel",
    "LATResult",
    "LabelSpace",
    "PrivilegedProposalGenerator",
    "Proposals",
    "SCHEDULES",
    "SemanticFeatureFusion",
    "SyntheticBenchmark",
    "__version__",
    "build_backbone",
    "build_detector",
    "coco_ap",
    "concat_datasets",
    "cross_pseudo_labels",
    "load_backbone_weights",
    "load_coco",
    "load_label_space",
    "load_results",
    "naive_merge",
    "predict",
    "pseudo_label_relabel",
    "run_lat",
    "save_coco",
    "save_label_space",
    "save_results",
    "synthetic_benchmark",
    "to_results",
    "train_detector",
    "train_lat_model",
    "train_specialists",
    "transfer_annotations",
]


def test_public_api_is_pinned():
    assert sorted(lat_detect.__all__) == sorted(EXPECTED)
    for name in lat_detect.__all__:
        assert hasattr(lat_detect, name)


def test_import_loads_neither_coco_evaluator_nor_the_experiments():
    code = (
        "import sys, lat_detect, lat_detect.cli; "
        "print(sorted(m for m in ('pycocotools', 'faster_coco_eval') if m in sys.modules), "
        "any(m.startswith('lat_detect._experiments') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] False"
