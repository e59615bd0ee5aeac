"""brain-hyda: a 3-D SAM-style brain backbone with the Hypergraph Dynamic Adapter (HyDA).

SAM-Med3D's promptable 3-D model in its parameter layout (ViT image encoder, prompt encoder,
two-way mask decoder; local SAM-Med3D / SAM-Brain3D checkpoints load through
``sciml_core.load_pretrained``), a small TinyUNet backbone this package
pre-trains on its own synthetic multi-site brains, and HyDA: with the encoder frozen, a hypergraph
over patients fuses the modalities' embeddings and a hypernetwork makes patient-specific kernels
for multi-scale fusion. The controls (scratch, fine-tuning, probe, parameter-matched static
adapter, site oracle), Dice with stated empty cases, NIfTI I/O and sliding-window inference ship
beside it. nibabel, MONAI and dhg are optional; ``import brain_hyda`` imports none of them.
"""

from .__about__ import __version__ as __version__
from ._dynamic import FUSION_FORMS as FUSION_FORMS
from ._dynamic import BasisRouter as BasisRouter
from ._dynamic import DynamicDepthwiseConv3d as DynamicDepthwiseConv3d
from ._dynamic import DynamicFusion as DynamicFusion
from ._dynamic import dynamic_depthwise_conv3d as dynamic_depthwise_conv3d
from ._encoders import MultiScaleEncoder as MultiScaleEncoder
from ._encoders import TinyUNet as TinyUNet
from ._hyda import GRAPHS as GRAPHS
from ._hyda import POOLS as POOLS
from ._hyda import FullFineTune as FullFineTune
from ._hyda import HyDA as HyDA
from ._hyda import Probe as Probe
from ._hyda import Scratch as Scratch
from ._hyda import SiteOracle as SiteOracle
from ._hyda import StaticAdapter as StaticAdapter
from ._hyda import count_trainable as count_trainable
from ._hypergraph import NORMS as NORMS
from ._hypergraph import HGNNConv as HGNNConv
from ._hypergraph import hgnn_propagate as hgnn_propagate
from ._hypergraph import knn_incidence as knn_incidence
from ._hypergraph import multi_incidence as multi_incidence
from ._metrics import accuracy as accuracy
from ._metrics import dice as dice
from ._metrics import dice_ce_loss as dice_ce_loss
from ._metrics import roc_auc as roc_auc
from ._sam3d import SAM3D_PARTS as SAM3D_PARTS
from ._sam3d import SAM3D_VARIANTS as SAM3D_VARIANTS
from ._sam3d import ImageEncoder3D as ImageEncoder3D
from ._sam3d import LayerNorm3d as LayerNorm3d
from ._sam3d import ViT3DTaps as ViT3DTaps
from ._sam3d import build_image_encoder as build_image_encoder
from ._sam3d import count_parameters as count_parameters
from ._sam3d import load_sam3d_weights as load_sam3d_weights
from ._sam3d_decoder import MaskDecoder3D as MaskDecoder3D
from ._sam3d_model import Sam3D as Sam3D
from ._sam3d_model import build_sam3d as build_sam3d
from ._sam3d_prompt import PositionEmbeddingRandom3D as PositionEmbeddingRandom3D
from ._sam3d_prompt import PromptEncoder3D as PromptEncoder3D
from ._synthetic import PRESETS as PRESETS
from ._synthetic import synthetic_brains as synthetic_brains
from ._train import FitLog as FitLog
from ._train import Subjects as Subjects
from ._train import fit as fit
from ._train import predict as predict
from ._train import pretrain_backbone as pretrain_backbone
from ._train import to_subjects as to_subjects
from ._volumes import Volume as Volume
from ._volumes import load_patient as load_patient
from ._volumes import load_volume as load_volume
from ._volumes import normalize as normalize
from ._volumes import save_volume as save_volume
from ._volumes import sliding_window as sliding_window

__all__ = [
    "FUSION_FORMS",
    "GRAPHS",
    "NORMS",
    "POOLS",
    "PRESETS",
    "SAM3D_PARTS",
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
    "MaskDecoder3D",
    "MultiScaleEncoder",
    "PositionEmbeddingRandom3D",
    "Probe",
    "PromptEncoder3D",
    "Sam3D",
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
    "build_sam3d",
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
