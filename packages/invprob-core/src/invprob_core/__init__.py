"""Linear inverse problems in PyTorch: exact-adjoint operators, classical and data-driven
solvers."""

from sciml_core import NormEstimate as NormEstimate
from sciml_core import adjoint_test as adjoint_test
from sciml_core import psnr as psnr
from sciml_core import relative_l2 as relative_l2
from sciml_core import ssim as ssim

from .__about__ import __version__ as __version__
from ._adversarial import AdversarialRegularizer as AdversarialRegularizer
from ._blur import Blur as Blur
from ._blur import box_kernel as box_kernel
from ._blur import gaussian_kernel as gaussian_kernel
from ._blur import motion_kernel as motion_kernel
from ._critics import ConvCritic as ConvCritic
from ._critics import ConvexCritic as ConvexCritic
from ._critics import LunzCritic as LunzCritic
from ._deepinv import DeepinvOperator as DeepinvOperator
from ._deepinv import from_deepinv as from_deepinv
from ._deepinv import to_deepinv as to_deepinv
from ._downsample import Downsample as Downsample
from ._downsample import lanczos2_kernel as lanczos2_kernel
from ._fbp import fbp as fbp
from ._fista import fista as fista
from ._gradient import Gradient as Gradient
from ._images import sample_image as sample_image
from ._iterative import cgls as cgls
from ._iterative import landweber as landweber
from ._mask import Mask as Mask
from ._mask import block_mask as block_mask
from ._mask import random_pixel_mask as random_pixel_mask
from ._mask import stroke_mask as stroke_mask
from ._mri import MaskedFourier as MaskedFourier
from ._noise import add_noise as add_noise
from ._noise import add_poisson_noise as add_poisson_noise
from ._operator import Diagonal as Diagonal
from ._operator import Identity as Identity
from ._operator import LinearOperator as LinearOperator
from ._operator import VStack as VStack
from ._pdhg import pdhg as pdhg
from ._pdhg import pdhg_tv as pdhg_tv
from ._pdhg import total_variation as total_variation
from ._phantoms import ellipse_sinogram as ellipse_sinogram
from ._phantoms import random_ellipses as random_ellipses
from ._phantoms import shepp_logan as shepp_logan
from ._phantoms import shepp_logan_ellipses as shepp_logan_ellipses
from ._pnp import CirculantDenoiser as CirculantDenoiser
from ._pnp import LinearPnP as LinearPnP
from ._pnp import pnp_fixed_point as pnp_fixed_point
from ._pnp import pnp_pgd as pnp_pgd
from ._pnp import r_minimizing_solution as r_minimizing_solution
from ._ray import RayTransform as RayTransform
from ._result import SolverResult as SolverResult
from ._tikhonov import discrepancy_alpha as discrepancy_alpha
from ._tikhonov import tikhonov as tikhonov

__all__ = [
    "AdversarialRegularizer",
    "Blur",
    "CirculantDenoiser",
    "ConvCritic",
    "ConvexCritic",
    "DeepinvOperator",
    "Diagonal",
    "Downsample",
    "Gradient",
    "Identity",
    "LinearOperator",
    "LinearPnP",
    "LunzCritic",
    "Mask",
    "MaskedFourier",
    "NormEstimate",
    "RayTransform",
    "SolverResult",
    "VStack",
    "__version__",
    "add_noise",
    "add_poisson_noise",
    "adjoint_test",
    "block_mask",
    "box_kernel",
    "cgls",
    "discrepancy_alpha",
    "ellipse_sinogram",
    "fbp",
    "fista",
    "from_deepinv",
    "gaussian_kernel",
    "lanczos2_kernel",
    "landweber",
    "motion_kernel",
    "pdhg",
    "pdhg_tv",
    "pnp_fixed_point",
    "pnp_pgd",
    "psnr",
    "r_minimizing_solution",
    "random_ellipses",
    "random_pixel_mask",
    "relative_l2",
    "sample_image",
    "shepp_logan",
    "shepp_logan_ellipses",
    "ssim",
    "stroke_mask",
    "tikhonov",
    "to_deepinv",
    "total_variation",
]
