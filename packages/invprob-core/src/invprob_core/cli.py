"""Command line: ``invprob-core reconstruct | adjoint-test | phantom | reproduce | bench``."""

from __future__ import annotations

import argparse
import math
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from sciml_core import InputError, read_archive, read_array, read_image
from sciml_core.cli import App, check_output, progress, wrote

from .__about__ import __version__
from ._downsample import KERNELS, DownsampleKernel
from ._fbp import FILTERS
from ._operator import LinearOperator
from ._padding import BOUNDARIES
from ._ray import PROJECTORS, RayTransform
from ._result import Callback

app = App(
    "invprob-core",
    version=__version__,
    description="Linear inverse problems: exact-adjoint operators, classical and data-driven "
    "solvers.",
)

Operator = Literal["ray", "blur", "downsample", "mask", "identity"]
"""``reconstruct --operator``: the forward model."""
OPERATORS: tuple[Operator, ...] = typing.get_args(Operator)
Method = Literal["fbp", "tikhonov", "landweber", "cgls", "tv", "ar", "pnp"]
"""``reconstruct --method``: the reconstruction method."""
METHODS: tuple[Method, ...] = typing.get_args(Method)
SinogramLayout = Literal["angles,det", "det,angles"]
"""``reconstruct --sinogram-layout``: the order of the INPUT file's last two axes."""
SINOGRAM_LAYOUTS: tuple[SinogramLayout, ...] = typing.get_args(SinogramLayout)
LengthUnit = Literal["half-side", "pixel"]
"""``reconstruct --length-unit``: the unit of length of the INPUT sinogram's line integrals."""
LENGTH_UNITS: tuple[LengthUnit, ...] = typing.get_args(LengthUnit)
RotationCentre = Literal["image", "pixel"]
"""``reconstruct --rotation-centre``: where the INPUT sinogram's rotation centre lies."""
ROTATION_CENTRES: tuple[RotationCentre, ...] = typing.get_args(RotationCentre)
Dtype = Literal["float32", "float64"]
"""``adjoint-test --dtype``."""
DTYPES: tuple[Dtype, ...] = typing.get_args(Dtype)
PhantomKind = Literal["ellipses", "shepp-logan"]
"""``phantom --kind``."""
PHANTOM_KINDS: tuple[PhantomKind, ...] = typing.get_args(PhantomKind)

DEFAULT_ANGLES = 180
"""``--angles`` when not given: 180 angles ``j pi / 180``."""
DEFAULT_ITERS: dict[Method, int] = {"landweber": 200, "cgls": 50, "tv": 300, "ar": 50}
"""``--iters`` when not given, per method."""
MAX_ITERS = 1_000_000
"""Largest ``--iters``: a million iterations take minutes to hours even at 32x32."""
MAX_PHANTOM_SIDE = 4096
MAX_PHANTOM_PIXELS = 2**28
"""``phantom``: at most ``--count x --n^2`` pixels (1 GiB of float32)."""

METHOD_OPTIONS: dict[str, tuple[Method, ...]] = {
    "filter": ("fbp",),
    "no_fbp_mask": ("fbp",),
    "alpha": ("tikhonov", "tv"),
    "delta": ("tikhonov", "landweber", "cgls", "pnp"),
    "tau_dp": ("tikhonov", "landweber", "cgls", "pnp"),
    "iters": ("landweber", "cgls", "tv", "ar"),
    "lam": ("ar",),
    "tau": ("pnp",),
    "checkpoint": ("ar", "pnp"),
}
"""Which ``--method`` uses which option (by ``dest``); any other method refuses it."""
OPERATOR_OPTIONS: dict[str, tuple[Operator, ...]] = {
    "size": ("ray", "downsample"),
    "angles": ("ray",),
    "n_det": ("ray",),
    "spp": ("ray",),
    "no_circle": ("ray",),
    "projector": ("ray",),
    "sinogram_layout": ("ray",),
    "length_unit": ("ray",),
    "rotation_centre": ("ray",),
    "kernel": ("blur", "downsample"),
    "boundary": ("blur", "downsample"),
    "factor": ("downsample",),
    "mask": ("mask",),
}
"""Which ``--operator`` uses which option (by ``dest``); any other operator refuses it."""

RECONSTRUCT_HELP = f"""\
Reconstruct images from sinograms (--operator ray) or degraded images (blur, downsample, mask,
identity) and write them as -o FILE.npy (float64, shape (..., n, n): INPUT's leading axes kept)
plus an 8-bit PNG preview of the first image beside it (same stem, min-max scaled).

INPUT: .npy, .npz (its only array, or --key NAME) or .tif/.tiff (the [io] extra), shape (H, W),
(N, H, W) or (N, C, H, W); values must be finite real numbers.

Sinograms (--operator ray): the last two axes are (angles, detector bins), the layout of
invprob_core.RayTransform and of this package's sinograms. Row j holds the angle
theta_j = j*pi/N (N = --angles, default {DEFAULT_ANGLES}, or the radians in --angles FILE.npy);
column k the detector bin s_k = -1 + (k + 1/2)*2/D (D = --n-det), so the detector spans
[-1, 1], the disc inscribed in the image (--no-circle: [-sqrt(2), sqrt(2)]); with D = n its bins
are as wide as the pixels. A file stored as (detector bins, angles), as scikit-image's radon
writes it, is read with --sinogram-layout det,angles. A sinogram whose shape does not match
(N, D) is refused, naming both shapes.

Sinogram values are line integrals of the image along each ray, with lengths in units of half
the image side (--length-unit half-side, the default): the n x n image covers [-1, 1]^2, a pixel
is h = 2/n wide, so a ray crossing k pixels of value 1 gives 2k/n. Lengths counted in pixels
(scikit-image's radon, ASTRA with unit pixels) make every value n/2 times larger: pass
--length-unit pixel and they are divided by n/2.

The rotation centre is the centre of the image (pixel index (n-1)/2, as ASTRA has it).
scikit-image's radon rotates about the centre of pixel n//2, half a pixel off for even n:
--rotation-centre pixel shifts each projection by 0.5*(1 - cos theta + sin theta) bins (a
Fourier shift; needs --n-det = n). So scikit-image's
radon(image, theta=np.rad2deg(theta), circle=True) is read with
--sinogram-layout det,angles --length-unit pixel --rotation-centre pixel (same angles and
orientation; FBP of its Shepp-Logan sinogram at 128^2, 180 angles: 28.7 dB, against 28.9 dB
from this package's own sinogram; without the centre shift 19.1 dB).

Options that do not apply to the chosen --method or --operator are refused, as are NaN, inf and
numbers out of range. Long solves show a progress bar on stderr (--quiet: none); Ctrl-C stops.
On success one line "wrote FILE.npy" goes to stdout."""


# -- reading what the user gives ------------------------------------------------------------------


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _given(args: argparse.Namespace, dest: str) -> bool:
    value = getattr(args, dest)
    return value is not None and value is not False


def _refuse_inapplicable(args: argparse.Namespace) -> None:
    """Refuse an option that the chosen method or operator would ignore."""
    for dest, methods in METHOD_OPTIONS.items():
        if _given(args, dest) and args.method not in methods:
            raise InputError(
                f"{_flag(dest)}: does not apply to --method {args.method} (only to "
                f"{', '.join(methods)})"
            )
    for dest, operators in OPERATOR_OPTIONS.items():
        if _given(args, dest) and args.operator not in operators:
            raise InputError(
                f"{_flag(dest)}: does not apply to --operator {args.operator} (only to "
                f"{', '.join(operators)})"
            )
    if args.alpha is not None and args.delta is not None:
        raise InputError(
            f"--delta: --method {args.method} takes --alpha or --delta (the discrepancy "
            "principle chooses alpha), not both"
        )
    if args.tau_dp is not None and args.delta is None:
        raise InputError("--tau-dp: applies only with --delta (the discrepancy principle)")
    if args.key is not None and Path(args.input).suffix.lower() != ".npz":
        raise InputError(f"--key: applies only to an .npz INPUT, got {args.input!r}")


def _check_number(
    args: argparse.Namespace, dest: str, ok: Callable[[float], bool], expected: str
) -> None:
    value = getattr(args, dest)
    if value is None:
        return
    if not math.isfinite(value) or not ok(value):
        raise InputError(f"{_flag(dest)}: expected {expected}, got {value!r}")


def _check_numbers(args: argparse.Namespace) -> None:
    """Every number finite and in its range, named by its flag."""
    if args.method == "tv":
        _check_number(args, "alpha", lambda a: a >= 0, "a finite number >= 0")
    else:
        _check_number(args, "alpha", lambda a: a > 0, "a finite number > 0")
    _check_number(args, "delta", lambda d: d > 0, "a finite noise norm > 0")
    _check_number(args, "tau_dp", lambda t: t > 1, "a finite number > 1")
    _check_number(args, "lam", lambda v: v >= 0, "a finite number >= 0")
    _check_number(args, "tau", lambda t: 0 < t <= 1, "a number with 0 < tau <= 1")
    if args.iters is not None:
        if args.iters < 1:
            raise InputError(f"--iters: expected an integer >= 1, got {args.iters}")
        if args.iters > MAX_ITERS:
            raise InputError(f"--iters: at most {MAX_ITERS} iterations, got {args.iters}")
    for dest, low in (("size", 2), ("n_det", 1), ("spp", 1), ("factor", 1)):
        value = getattr(args, dest)
        if value is not None and value < low:
            raise InputError(f"{_flag(dest)}: expected an integer >= {low}, got {value}")


def _read_input(path: Path, key: str | None) -> np.ndarray:
    """INPUT as a finite float64 array of at least two dimensions (TIFF samples first)."""
    suffix = path.suffix.lower()
    if suffix in (".tif", ".tiff"):
        arr, axes = read_image(path, argument="INPUT", package="invprob-core", extra="io")
        if axes.endswith("S"):  # samples (channels) stored with each pixel: to the front
            arr = np.moveaxis(arr, -1, 0)
    elif suffix == ".npz":
        arrays = read_archive(path, argument="INPUT")
        names = ", ".join(repr(k) for k in arrays) or "no array"
        if key is None:
            if len(arrays) != 1:
                raise InputError(f"--key: {str(path)!r} holds {names}; name one with --key")
            key = next(iter(arrays))
        if key not in arrays:
            raise InputError(f"--key: {key!r} is not in {str(path)!r}, which holds {names}")
        arr = arrays[key]
    elif suffix == ".npy":
        arr = read_array(path, argument="INPUT")
    else:
        raise InputError(f"INPUT: expected a .npy, .npz or .tif/.tiff file, got {str(path)!r}")
    if arr.dtype.kind not in "fiu":
        raise InputError(f"INPUT: {str(path)!r} holds {arr.dtype} values; expected real numbers")
    if arr.ndim < 2 or arr.size == 0:
        raise InputError(f"INPUT: expected at least 2 non-empty dimensions, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"INPUT: {str(path)!r} holds NaN or inf")
    return arr.astype(np.float64)


def _read_2d(path: str, flag: str) -> np.ndarray:
    arr = read_array(path, argument=flag)
    if arr.dtype.kind not in "fiub" or arr.ndim != 2 or arr.size == 0:
        raise InputError(
            f"{flag}: expected a 2-D array of numbers, got {arr.dtype} of shape {arr.shape}"
        )
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{flag}: {path!r} holds NaN or inf")
    return arr


def _blur_kernel(spec: str, side: int) -> torch.Tensor:
    """``--kernel`` of ``blur``: ``gaussian:SIGMA``, ``box:SIZE`` or ``FILE.npy``."""
    from ._blur import box_kernel, gaussian_kernel

    kind, _, value = spec.partition(":")
    bad = InputError(f"--kernel: expected gaussian:SIGMA, box:SIZE or FILE.npy, got {spec!r}")
    if kind in ("gaussian", "box"):
        try:
            number = float(value) if kind == "gaussian" else int(value)
        except ValueError:
            raise bad from None
        if not math.isfinite(number) or number <= 0:
            raise InputError(f"--kernel: expected a finite {kind} size > 0, got {spec!r}")
        # the Gaussian's support is 2 ceil(3 sigma) + 1 pixels
        width = 2 * math.ceil(3 * number) + 1 if kind == "gaussian" else int(number)
        if width > side:
            raise InputError(
                f"--kernel: {spec!r} is {width} pixels wide, more than the {side}-pixel image"
            )
        return gaussian_kernel(number) if kind == "gaussian" else box_kernel(int(number))
    if spec.lower().endswith(".npy"):
        k = _read_2d(spec, "--kernel")
        if max(k.shape) > side:
            raise InputError(f"--kernel: shape {k.shape} is larger than the {side}-pixel image")
        return torch.from_numpy(k)
    raise bad


def _angles(args: argparse.Namespace) -> int | np.ndarray:
    if args.angles is None:
        return DEFAULT_ANGLES
    if args.angles.lower().endswith(".npy"):
        theta = read_array(args.angles, argument="--angles").reshape(-1)
        if theta.dtype.kind not in "fiu" or theta.size == 0 or not np.all(np.isfinite(theta)):
            raise InputError(f"--angles: {args.angles!r} must hold finite angles in radians")
        return theta.astype(np.float64)
    try:
        count = int(args.angles)
    except ValueError:
        raise InputError(
            f"--angles: expected a number of angles or FILE.npy of radians, got {args.angles!r}"
        ) from None
    if count < 1:
        raise InputError(f"--angles: expected at least 1 angle, got {count}")
    return count


def _ray(args: argparse.Namespace, data: np.ndarray) -> tuple[RayTransform, np.ndarray]:
    """The ray transform of the flags and the sinograms in its layout and units."""
    if args.sinogram_layout == "det,angles":
        data = np.swapaxes(data, -1, -2)
    h, w = data.shape[-2:]
    angles = _angles(args)
    n_det = args.n_det or args.size or w
    n = args.size or n_det
    # the shape is checked before the matrix is built (seconds at 256^2)
    expected = (angles if isinstance(angles, int) else len(angles), n_det)
    if (h, w) != expected:
        n_angles = expected[0]
        layout = args.sinogram_layout or "angles,det"
        hint = ""
        if w == n_angles and ((args.n_det is None and args.size is None) or h == n_det):
            other = "det,angles" if layout == "angles,det" else "angles,det"
            hint = (
                f"; it looks transposed (detector bins, angles; scikit-image's radon writes "
                f"that): pass --sinogram-layout {other}"
            )
        elif h != n_angles:
            hint = f"; if it holds {h} angles, pass --angles {h}"
        raise InputError(
            f"--angles/--n-det: the geometry expects sinograms of shape {expected} "
            f"(angles, detector bins), INPUT {args.input!r} read as {layout} has {(h, w)}{hint}"
        )
    if args.rotation_centre == "pixel" and n_det != n:
        raise InputError(
            f"--rotation-centre: pixel (scikit-image's centre) needs as many detector bins "
            f"as image pixels, got --n-det {n_det} for a {n}x{n} image"
        )
    A = RayTransform(
        n,
        angles=angles,
        n_det=n_det,
        spp=args.spp or 2,
        method=args.projector or "bilinear",
        circle=not args.no_circle,
    )
    if args.length_unit == "pixel":
        data = data / (n / 2)
    if args.rotation_centre == "pixel":
        data = _shift_to_image_centre(data, A.theta, n)
    return A, data


def _shift_to_image_centre(data: np.ndarray, theta: np.ndarray, n: int) -> np.ndarray:
    """Projections about pixel ``n//2`` (scikit-image) resampled about the image centre.

    scikit-image's detector bin ``k`` lies at ``k - n//2`` pixels and its rotation centre at
    pixel ``n//2`` on both axes, ``d = n//2 - (n - 1)/2`` (half a pixel for even ``n``, none
    for odd) off the image centre; the projection at angle ``theta`` is then shifted by
    ``d (1 - cos theta + sin theta)`` bins (fitted to 0.006 bins against ``RayTransform``).
    The shift is a phase ramp on the zero-padded rows, exact for band-limited projections.
    """
    d = n // 2 - (n - 1) / 2
    if d == 0:
        return data
    shift = d * (1.0 - np.cos(theta) + np.sin(theta))  # (angles,)
    m = data.shape[-1]
    freq = np.fft.rfftfreq(2 * m)
    ramp = np.exp(2j * np.pi * freq[None, :] * shift[:, None])  # (angles, 2m // 2 + 1)
    rows = np.fft.irfft(np.fft.rfft(data, n=2 * m, axis=-1) * ramp, n=2 * m, axis=-1)
    return rows[..., :m]


def build_operator(args: argparse.Namespace, data: np.ndarray) -> tuple[LinearOperator, np.ndarray]:
    """The operator named by the flags, checked against the data; the data as it applies."""
    from ._blur import Blur
    from ._downsample import Downsample
    from ._mask import Mask
    from ._operator import Identity

    h, w = data.shape[-2:]
    if args.operator == "ray":
        return _ray(args, data)
    if args.operator == "blur":
        blur = _blur_kernel(args.kernel or "gaussian:1.5", min(h, w))
        return Blur(blur, boundary=args.boundary or "circular"), data
    if args.operator == "downsample":
        factor = args.factor or 2
        size = args.size
        if size is None or size != h * factor or size != w * factor:
            raise InputError(
                f"--size: downsample needs --size equal to factor x input side "
                f"({factor} x {h} = {factor * h}), got {size}"
            )
        kernel: DownsampleKernel | torch.Tensor = "box"
        if args.kernel is not None:
            if args.kernel.lower().endswith(".npy"):
                kernel = torch.from_numpy(_read_2d(args.kernel, "--kernel"))
            elif args.kernel in KERNELS:
                kernel = KERNELS[KERNELS.index(args.kernel)]
            else:
                raise InputError(
                    f"--kernel: downsample takes {', '.join(KERNELS)} or FILE.npy, "
                    f"got {args.kernel!r}"
                )
        return (
            Downsample(
                factor, kernel=kernel, boundary=args.boundary or "circular", shape=(size, size)
            ),
            data,
        )
    if args.operator == "mask":
        if args.mask is None:
            raise InputError("--mask: the mask operator needs --mask FILE")
        m = _read_2d(args.mask, "--mask")
        if m.shape != (h, w):
            raise InputError(f"--mask: mask shape {m.shape} differs from the input's {(h, w)}")
        return Mask(torch.from_numpy(m)), data
    return Identity(), data


# -- solving ---------------------------------------------------------------------------------------


@contextmanager
def _bar(desc: str, total: int | None, unit: str = "it") -> Iterator[Callback]:
    """A progress bar on stderr (none under ``--quiet``), advanced by the solver's callback.

    The bar appears at the first callback, so a direct solve (no iterations) shows none.
    """
    bars: list[typing.Any] = []

    def advance(k: int) -> None:
        if not bars:
            bars.append(progress(total=total, desc=desc, unit=unit, leave=False))
        bars[0].update(1)

    try:
        yield advance
    finally:
        for bar in bars:
            bar.close()


def _iters(args: argparse.Namespace) -> int:
    return args.iters if args.iters is not None else DEFAULT_ITERS[args.method]


def _solve(args: argparse.Namespace, A: LinearOperator, y: torch.Tensor) -> torch.Tensor:
    from ._adversarial import AdversarialRegularizer
    from ._iterative import cgls, landweber
    from ._pdhg import pdhg_tv
    from ._pnp import CirculantDenoiser, LinearPnP
    from ._tikhonov import discrepancy_alpha, tikhonov

    m = args.method
    tau_dp = 1.1 if args.tau_dp is None else args.tau_dp
    if m == "fbp":
        if not isinstance(A, RayTransform):
            raise InputError("--method: fbp needs --operator ray")
        return A.fbp(y, filter=args.filter or "ram-lak", mask=False if args.no_fbp_mask else None)
    if m == "tikhonov":
        if args.delta is not None:
            with _bar("tikhonov, discrepancy principle", None, unit="solve") as cb:
                return discrepancy_alpha(A, y, args.delta, tau_dp, callback=cb)[1].x
        if args.alpha is None:
            raise InputError("--alpha: tikhonov needs --alpha A or --delta D")
        with _bar("tikhonov (CG)", None) as cb:
            return tikhonov(A, y, args.alpha, callback=cb).x
    if m in ("landweber", "cgls"):
        solver = landweber if m == "landweber" else cgls
        with _bar(m, _iters(args)) as cb:
            return solver(
                A, y, delta=args.delta, tau_dp=tau_dp, max_iter=_iters(args), callback=cb
            ).x
    if m == "tv":
        if args.alpha is None:
            raise InputError("--alpha: tv needs --alpha A")
        with _bar("tv (PDHG)", _iters(args)) as cb:
            return pdhg_tv(A, y, args.alpha, nonneg=True, max_iter=_iters(args), callback=cb).x
    if m == "ar":
        if args.checkpoint is None or args.lam is None:
            raise InputError(
                "--checkpoint: ar needs --checkpoint FILE (a saved critic) and --lam L"
            )
        ar = AdversarialRegularizer.load(args.checkpoint, argument="--checkpoint")
        side = getattr(ar.critic, "image_size", None)
        if side is not None and A.in_shape is not None and A.in_shape != (side, side):
            raise InputError(
                f"--checkpoint: the critic takes {side}x{side} images, the reconstruction is "
                f"{A.in_shape[0]}x{A.in_shape[1]}"
            )
        with _bar("ar", _iters(args), unit="step") as cb:
            x = ar.reconstruct(A, y.to(torch.float32), args.lam, steps=_iters(args), callback=cb)
        return x.x.double()
    if args.checkpoint is None:
        raise InputError("--checkpoint: pnp needs --checkpoint FILE (a saved CirculantDenoiser)")
    D = CirculantDenoiser.load(args.checkpoint, argument="--checkpoint")
    shape = A.in_shape if A.in_shape is not None else tuple(y.shape[-2:])
    if tuple(D.spectrum.shape) != shape:
        raise InputError(
            f"--checkpoint: the denoiser's spectrum is {tuple(D.spectrum.shape)}, the "
            f"reconstruction is {shape}"
        )
    pnp = LinearPnP(A, D)
    if args.delta is not None:
        with _bar("pnp, discrepancy principle", None, unit="solve") as cb:
            return pnp.tau_by_discrepancy(y, args.delta, tau_dp, callback=cb)[1].x
    with _bar("pnp (CG)", None) as cb:
        return pnp.fixed_point(y, 1.0 if args.tau is None else args.tau, callback=cb).x


def _check_preview(args: argparse.Namespace) -> Path:
    """The PNG preview beside ``-o`` is a second output, refused like the first."""
    out = Path(args.output)
    check_output(out.with_suffix(".png"), args.overwrite, flag="-o/--output (its PNG preview)")
    return out


def run_reconstruct(args: argparse.Namespace) -> int:
    from ._io import write_outputs

    output = _check_preview(args)
    _refuse_inapplicable(args)
    _check_numbers(args)
    data = _read_input(Path(args.input), args.key)
    A, data = build_operator(args, data)
    lead = data.shape[:-2]
    y = torch.from_numpy(np.ascontiguousarray(data)).reshape(-1, 1, *data.shape[-2:])
    x = _solve(args, A, y)
    write_outputs(output, x.detach().cpu().numpy().reshape(*lead, *x.shape[-2:]))
    wrote(output)
    return 0


p = app.add_command(
    "reconstruct",
    run_reconstruct,
    help="reconstruct from a sinogram or degraded image (.npy + PNG preview)",
    common=("quiet",),
)
p.description = RECONSTRUCT_HELP
p.formatter_class = argparse.RawDescriptionHelpFormatter
p.add_argument(
    "input",
    metavar="INPUT",
    help=".npy, .npz or .tif/.tiff: (H, W), (N, H, W) or (N, C, H, W); sinograms (angles, "
    "detector bins) unless --sinogram-layout det,angles",
)
p.add_argument(
    "--operator", choices=OPERATORS, default="ray", help="forward model (default: %(default)s)"
)
p.add_argument("--method", choices=METHODS, required=True, help="reconstruction method (required)")
ray = p.add_argument_group("ray geometry (--operator ray)")
ray.add_argument(
    "--size",
    type=int,
    default=None,
    metavar="N",
    help="image side n (default: --n-det, else the sinogram's detector count); downsample: "
    "the output side, factor x input side (required there)",
)
ray.add_argument(
    "--angles",
    default=None,
    metavar="N|FILE.npy",
    help=f"number of angles j*pi/N, or a .npy of radians (default: {DEFAULT_ANGLES})",
)
ray.add_argument(
    "--n-det",
    dest="n_det",
    type=int,
    default=None,
    metavar="D",
    help="detector bins over [-1, 1] (default: --size, else the sinogram's)",
)
ray.add_argument(
    "--spp", type=int, default=None, help="samples per pixel along each ray (default: 2)"
)
ray.add_argument(
    "--no-circle",
    action="store_true",
    help="detector spans the image's diagonal [-sqrt 2, sqrt 2] (default: the inscribed disc, "
    "[-1, 1])",
)
ray.add_argument(
    "--projector",
    choices=PROJECTORS,
    default=None,
    help="bilinear samples or exact Siddon lengths (default: bilinear)",
)
ray.add_argument(
    "--sinogram-layout",
    dest="sinogram_layout",
    choices=SINOGRAM_LAYOUTS,
    default=None,
    metavar="angles,det|det,angles",
    help="order of INPUT's last two axes; det,angles for scikit-image's radon (default: "
    "angles,det)",
)
ray.add_argument(
    "--length-unit",
    dest="length_unit",
    choices=LENGTH_UNITS,
    default=None,
    help="unit of the line integrals: half-side (image on [-1, 1]^2) or pixel (scikit-image, "
    "ASTRA; divided by n/2) (default: half-side)",
)
ray.add_argument(
    "--rotation-centre",
    dest="rotation_centre",
    choices=ROTATION_CENTRES,
    default=None,
    help="image: the image's centre; pixel: the centre of pixel n//2, as scikit-image's radon "
    "(default: image)",
)
deg = p.add_argument_group("blur, downsample and mask operators")
deg.add_argument(
    "--kernel",
    default=None,
    metavar="SPEC",
    help="blur: gaussian:SIGMA, box:SIZE or FILE.npy (default: gaussian:1.5); downsample: "
    f"{', '.join(KERNELS)} or FILE.npy (default: box)",
)
deg.add_argument(
    "--boundary", default=None, choices=BOUNDARIES, help="boundary mode (default: circular)"
)
deg.add_argument("--factor", type=int, default=None, help="downsampling factor (default: 2)")
deg.add_argument(
    "--mask", default=None, metavar="FILE", help="mask (H, W) as .npy/.npz/.txt (required there)"
)
meth = p.add_argument_group("method options (each refused by the methods it does not apply to)")
meth.add_argument(
    "--filter",
    default=None,
    choices=FILTERS,
    help="fbp: window of the ramp filter (default: ram-lak)",
)
meth.add_argument(
    "--no-fbp-mask",
    action="store_true",
    help="fbp: keep the pixels outside the inscribed disc (default: zeroed unless --no-circle)",
)
meth.add_argument(
    "--alpha",
    type=float,
    default=None,
    help="tikhonov: alpha > 0; tv: alpha >= 0 (default: none; tikhonov takes it or --delta)",
)
meth.add_argument(
    "--delta",
    type=float,
    default=None,
    help="noise norm ||e|| of INPUT: tikhonov alpha, landweber/cgls stopping index, pnp tau "
    "by the discrepancy principle (default: none)",
)
meth.add_argument(
    "--tau-dp",
    dest="tau_dp",
    type=float,
    default=None,
    help="with --delta: discrepancy factor > 1 (default: 1.1)",
)
meth.add_argument(
    "--iters",
    type=int,
    default=None,
    help=f"landweber/cgls/tv iterations, ar steps, at most {MAX_ITERS} (default: "
    + ", ".join(f"{k} {v}" for k, v in DEFAULT_ITERS.items())
    + ")",
)
meth.add_argument(
    "--lam", type=float, default=None, help="ar: weight >= 0 of the critic (required there)"
)
meth.add_argument(
    "--tau", type=float, default=None, help="pnp: filter strength 0 < tau <= 1 (default: 1)"
)
meth.add_argument(
    "--checkpoint",
    default=None,
    metavar="FILE",
    help="ar: a critic saved by AdversarialRegularizer.save; pnp: a CirculantDenoiser.save "
    "file (required there)",
)
p.add_argument(
    "--key", default=None, help="array name inside an .npz INPUT (default: its only array)"
)
app.add_output_argument(p, suffixes=(".npy",))


# -- adjoint-test ----------------------------------------------------------------------------------


def _zoo(n: int) -> dict[str, LinearOperator]:
    from ._blur import Blur, gaussian_kernel
    from ._downsample import Downsample
    from ._gradient import Gradient
    from ._mask import Mask, random_pixel_mask
    from ._mri import MaskedFourier
    from ._operator import Identity, VStack

    mask = random_pixel_mask((n, n), 0.5, seed=0)[0].double()
    ray = RayTransform(n, angles=max(4, n // 2))
    ops: dict[str, LinearOperator] = {
        "identity": Identity((n, n)),
        "mask": Mask(mask),
        "mri": MaskedFourier(mask),
        "gradient": Gradient((n, n)),
        "ray": ray,
        "ray(no circle)": RayTransform(n, angles=5, circle=False, n_det=n + 3),
        "vstack[ray; grad]": VStack([ray, Gradient((n, n))]),
    }
    for b in BOUNDARIES:
        ops[f"blur({b})"] = Blur(gaussian_kernel(1.0), b, shape=(n, n))
    if n % 2 == 0:
        for k in KERNELS:
            ops[f"downsample({k})"] = Downsample(2, kernel=k, shape=(n, n))
    return ops


ADJOINT_TEST_SIZES = (8, 512)
"""Smallest and largest ``adjoint-test --size``."""


def run_adjoint_test(args: argparse.Namespace) -> int:
    from sciml_core import adjoint_test

    low, high = ADJOINT_TEST_SIZES
    if not low <= args.size <= high:
        raise InputError(f"--size: expected an image side from {low} to {high}, got {args.size}")
    dtype = {"float32": torch.float32, "float64": torch.float64}[args.dtype]
    bound = 1e-5 if dtype == torch.float32 else 1e-12
    gen = torch.Generator().manual_seed(args.seed)
    failed = 0
    print(f"{'operator':<22} {'mismatch':>10}  (bound {bound:g}, {args.dtype})")
    for name, op in _zoo(args.size).items():
        if op.in_shape is None or op.out_shape is None:
            raise ValueError(f"{name}: the zoo holds operators of fixed shapes only")
        x = torch.randn(2, *op.in_shape, generator=gen, dtype=torch.float64).to(dtype)
        yshape = (2, *op.out_shape)
        y = torch.randn(yshape, generator=gen, dtype=torch.float64)
        if op.complex_range:
            y = torch.complex(y, torch.randn(yshape, generator=gen, dtype=torch.float64))
            y = y.to(torch.complex64 if dtype == torch.float32 else torch.complex128)
        else:
            y = y.to(dtype)
        err = adjoint_test(op, op.adjoint, x, y)
        ok = err <= bound
        failed += not ok
        print(f"{name:<22} {err:10.2e}  {'ok' if ok else 'FAIL'}")
    return 1 if failed else 0


p = app.add_command(
    "adjoint-test",
    run_adjoint_test,
    help="dot-product test of every operator (exit 1 if one fails)",
    common=("seed", "quiet"),
)
p.add_argument(
    "--dtype", choices=DTYPES, default="float64", help="precision (default: %(default)s)"
)
p.add_argument(
    "--size",
    type=int,
    default=32,
    help=f"image side, {ADJOINT_TEST_SIZES[0]} to {ADJOINT_TEST_SIZES[1]} (default: %(default)s)",
)


# -- phantom ---------------------------------------------------------------------------------------


def run_phantom(args: argparse.Namespace) -> int:
    import io

    from sciml_core import atomic_write_bytes

    from ._io import png_bytes
    from ._phantoms import random_ellipses, shepp_logan

    out = _check_preview(args)
    if args.kind == "shepp-logan" and args.count is not None:
        raise InputError("--count: does not apply to --kind shepp-logan (one image)")
    count = 1 if args.count is None else args.count
    if not 2 <= args.n <= MAX_PHANTOM_SIDE:
        raise InputError(f"--n: expected a side from 2 to {MAX_PHANTOM_SIDE}, got {args.n}")
    if count < 1:
        raise InputError(f"--count: expected an integer >= 1, got {count}")
    if count * args.n**2 > MAX_PHANTOM_PIXELS:
        raise InputError(
            f"--count: {count} images of {args.n}x{args.n} are more than "
            f"{MAX_PHANTOM_PIXELS} pixels (1 GiB); write fewer per file"
        )
    if args.kind == "shepp-logan":
        images = shepp_logan(args.n)[None].numpy()
    else:
        with _bar("phantoms", count, unit="image") as cb:
            images = random_ellipses(args.n, count, seed=args.seed, callback=cb)[0][:, 0].numpy()
    buf = io.BytesIO()
    np.savez(buf, images=images)
    preview = png_bytes(images[0])
    atomic_write_bytes(out, buf.getvalue())
    atomic_write_bytes(out.with_suffix(".png"), preview)
    wrote(out)
    return 0


p = app.add_command(
    "phantom",
    run_phantom,
    help="write phantoms as FILE.npz (array 'images', (count, n, n) float32) and a PNG preview",
    common=("seed", "quiet"),
)
p.add_argument(
    "--kind",
    choices=PHANTOM_KINDS,
    default="ellipses",
    help="seeded random ellipses or the modified Shepp-Logan phantom (default: %(default)s)",
)
p.add_argument("--n", type=int, default=128, help="image side (default: %(default)s)")
p.add_argument(
    "--count",
    type=int,
    default=None,
    help="ellipses: number of images (default: 1); not for shepp-logan",
)
app.add_output_argument(p, suffixes=(".npz",))


# -- reproduce and bench ---------------------------------------------------------------------------

QUICK_HELP = (
    "small run: 32x32 CT (ACR critic trained 150 steps) and AR with the critic shipped in the "
    "package at 64x64; about 70 s on one CPU thread, longer on a busy machine (default: --full)"
)


def run_reproduce(args: argparse.Namespace) -> int:
    from ._experiments.reproduce import reproduce

    path = reproduce(args.out, quick=args.quick, seed=args.seed, device=args.device)
    wrote(path)
    return 0


def run_bench(args: argparse.Namespace) -> int:
    from ._experiments.bench import bench

    sizes = tuple(args.sizes) if args.sizes else None
    bench(args.out, quick=args.quick, seed=args.seed, device=args.device, sizes=sizes)
    wrote(Path(args.out) / "bench.json")
    return 0


app.add_reproduce(
    run_reproduce,
    help="reproduce the notes' CT comparison, the convergent-regularisation plot and a "
    "deblurring example; writes result.json and figures (--quick: about 70 s on one thread, "
    "full run: about an hour)",
    quick_help=QUICK_HELP,
)
_bench_parser = app.add_bench(run_bench)
_bench_parser.add_argument(
    "--sizes",
    type=int,
    nargs="+",
    metavar="N",
    help="CPU image sizes to time (default: 128 256; 64 with --quick); the bench raises "
    "max_nnz to 200 M so that 512 fits (about 1.7 GB of matrices)",
)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``invprob-core`` console script."""
    return app.run(argv)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
