"""lat-detect: Label-Aligned Transfer for merging detection datasets into one target label space.

Source datasets keep their own label spaces and box styles; LAT rewrites their annotations into
the classes and box style of one target dataset (many-to-one), so any detector can train on the
target plus the transferred sources. Pipeline: specialists, cross-dataset pseudo-labels, a
transfer detector whose proposals come from a Privileged Proposal Generator (PPG) instead of an
RPN and whose box features pass through Semantic Feature Fusion (SFF), transfer, downstream
training. On torchvision's Faster R-CNN; COCO AP from pycocotools / faster-coco-eval.
"""

from .__about__ import __version__ as __version__
from ._backbones import BACKBONES as BACKBONES
from ._backbones import FeatureBackbone as FeatureBackbone
from ._backbones import build_backbone as build_backbone
from ._backbones import load_backbone_weights as load_backbone_weights
from ._coco_eval import BACKENDS as BACKENDS
from ._coco_eval import COCOStats as COCOStats
from ._coco_eval import coco_ap as coco_ap
from ._coco_eval import to_results as to_results
from ._coco_io import load_coco as load_coco
from ._coco_io import load_label_space as load_label_space
from ._coco_io import load_results as load_results
from ._coco_io import save_coco as save_coco
from ._coco_io import save_label_space as save_label_space
from ._coco_io import save_results as save_results
from ._data import DetectionDataset as DetectionDataset
from ._data import DetectionSample as DetectionSample
from ._data import ImageRecord as ImageRecord
from ._data import concat_datasets as concat_datasets
from ._detector import SCHEDULES as SCHEDULES
from ._detector import build_detector as build_detector
from ._detector import predict as predict
from ._detector import train_detector as train_detector
from ._labelspace import ConcatLabelSpace as ConcatLabelSpace
from ._labelspace import LabelSpace as LabelSpace
from ._model import LATModel as LATModel
from ._pipeline import LATConfig as LATConfig
from ._pipeline import LATResult as LATResult
from ._pipeline import naive_merge as naive_merge
from ._pipeline import pseudo_label_relabel as pseudo_label_relabel
from ._pipeline import run_lat as run_lat
from ._pipeline import train_lat_model as train_lat_model
from ._pipeline import train_specialists as train_specialists
from ._ppg import PrivilegedProposalGenerator as PrivilegedProposalGenerator
from ._ppg import Proposals as Proposals
from ._pseudo import cross_pseudo_labels as cross_pseudo_labels
from ._sff import SemanticFeatureFusion as SemanticFeatureFusion
from ._synthetic import SyntheticBenchmark as SyntheticBenchmark
from ._synthetic import synthetic_benchmark as synthetic_benchmark
from ._transfer import transfer_annotations as transfer_annotations

__all__ = [
    "BACKBONES",
    "BACKENDS",
    "SCHEDULES",
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
