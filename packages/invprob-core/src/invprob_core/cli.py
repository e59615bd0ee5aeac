"""Command line: ``invprob-core reconstruct | adjoint-test | phantom | reproduce | bench``."""

from __future__ import annotations

import argparse
import typing
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from sciml_core import InputError
from sciml_core.cli import App, check_output

from .__about__ import __version__
from ._downsample import KERNELS
from ._fbp import FILTERS
from ._operator import LinearOperator
from ._padding import BOUNDARIES
from ._ray import PROJECTORS

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
Dtype = Literal["float32", "float64"]
"""``adjoint-test --dtype``."""
DTYPES: tuple[Dtype, ...] = typing.get_args(Dtype)
PhantomKind = Literal["ellipses", "shepp-logan"]
"""``phantom --kind``."""
PHANTOM_KINDS: tuple[PhantomKind, ...] = typing.get_args(PhantomKind)


def _kernel(spec: str) -> torch.Tensor:
    from ._blur import box_kernel, gaussian_kernel
    from ._io import read_array

    kind, _, value = spec.partition(":")
    try:
        if kind == "gaussian":
            return gaussian_kernel(float(value))
        if kind == "box":
            return box_kernel(int(value))
    except ValueError:
        raise InputError(
            f"--kernel: expected gaussian:SIGMA, box:SIZE or FILE.npy, got {spec!r}"
        ) from None
    if spec.endswith(".npy"):
        k = read_array(spec)
        if k.ndim != 2:
            raise InputError(f"--kernel: expected a 2-D kernel, got shape {k.shape}")
        return torch.from_numpy(k)
    raise InputError(f"--kernel: expected gaussian:SIGMA, box:SIZE or FILE.npy, got {spec!r}")


def build_operator(args: argparse.Namespace, data_shape: tuple[int, ...]) -> LinearOperator:
    """The operator named by the flags, checked against the data's trailing shape."""
    from ._blur import Blur
    from ._downsample import Downsample
    from ._io import read_array
    from ._mask import Mask
    from ._operator import Identity
    from ._ray import RayTransform

    h, w = data_shape[-2:]
    if args.operator == "ray":
        if args.angles is None:
            angles: int | np.ndarray = h
        elif args.angles.endswith(".npy"):
            angles = read_array(args.angles).reshape(-1)
        else:
            try:
                angles = int(args.angles)
            except ValueError:
                raise InputError(
                    f"--angles: expected an integer or FILE.npy, got {args.angles!r}"
                ) from None
        n = args.size if args.size is not None else (args.n_det or w)
        A = RayTransform(
            n,
            angles=angles,
            n_det=args.n_det,
            spp=args.spp,
            method=args.projector,
            circle=not args.no_circle,
        )
        if (h, w) != A.out_shape:
            raise InputError(
                f"--angles/--n-det: the operator expects sinograms of shape {A.out_shape} "
                f"(angles, detector bins), the input has {(h, w)}"
            )
        return A
    if args.operator == "blur":
        return Blur(_kernel(args.kernel or "gaussian:1.5"), boundary=args.boundary or "circular")
    if args.operator == "downsample":
        size = args.size
        if size is None or size != h * args.factor or size != w * args.factor:
            raise InputError(
                f"--size: downsample needs --size equal to factor x input side "
                f"({args.factor} x {h} = {args.factor * h}), got {size}"
            )
        return Downsample(
            args.factor,
            kernel="box" if args.kernel is None else args.kernel,
            boundary=args.boundary or "circular",
            shape=(size, size),
        )
    if args.operator == "mask":
        if args.mask is None:
            raise InputError("--mask: the mask operator needs --mask FILE")
        m = torch.from_numpy(read_array(args.mask))
        if tuple(m.shape) != (h, w):
            raise InputError(f"--mask: mask shape {tuple(m.shape)} differs from the input {(h, w)}")
        return Mask(m)
    return Identity()


def _check_outputs(args: argparse.Namespace, suffix: str) -> Path:
    """The ``-o`` file must end in ``suffix``; its PNG preview beside it is a second output that
    is refused like the first unless ``--overwrite`` is given."""
    out = Path(args.output)
    if out.suffix.lower() != suffix:
        raise InputError(f"-o/--output: expected a {suffix} file, got {str(out)!r}")
    check_output(out.with_suffix(".png"), args.overwrite)
    return out


def run_reconstruct(args: argparse.Namespace) -> int:
    from ._adversarial import AdversarialRegularizer
    from ._io import read_array, write_outputs
    from ._iterative import cgls, landweber
    from ._pdhg import pdhg_tv
    from ._pnp import CirculantDenoiser, LinearPnP
    from ._ray import RayTransform
    from ._tikhonov import discrepancy_alpha, tikhonov

    output = _check_outputs(args, ".npy")
    data = read_array(args.input, args.key)
    if data.ndim < 2:
        raise InputError(f"INPUT: expected at least 2 dimensions, got shape {data.shape}")
    lead = data.shape[:-2]
    A = build_operator(args, data.shape)
    y = torch.from_numpy(data).reshape(-1, 1, *data.shape[-2:])
    m = args.method
    iters = args.iters
    if iters is not None and iters < 1:
        raise InputError(f"--iters: expected an integer >= 1, got {iters}")
    if m == "fbp":
        if not isinstance(A, RayTransform):
            raise InputError("--method: fbp needs --operator ray")
        x = A.fbp(y, filter=args.filter, mask=False if args.no_fbp_mask else None)
    elif m == "tikhonov":
        if args.delta is not None:
            _, res = discrepancy_alpha(A, y, args.delta, args.tau_dp)
            x = res.x
        elif args.alpha is not None:
            x = tikhonov(A, y, args.alpha).x
        else:
            raise InputError("--alpha: tikhonov needs --alpha A or --delta D")
    elif m == "landweber":
        x = landweber(A, y, delta=args.delta, tau_dp=args.tau_dp, max_iter=iters or 200).x
    elif m == "cgls":
        x = cgls(A, y, delta=args.delta, tau_dp=args.tau_dp, max_iter=iters or 50).x
    elif m == "tv":
        if args.alpha is None:
            raise InputError("--alpha: tv needs --alpha A")
        x = pdhg_tv(A, y, args.alpha, nonneg=True, max_iter=iters or 300).x
    elif m == "ar":
        if args.checkpoint is None or args.lam is None:
            raise InputError(
                "--checkpoint: ar needs --checkpoint FILE (a saved critic) and --lam L"
            )
        ar = AdversarialRegularizer.load(args.checkpoint)
        x = ar.reconstruct(A, y.to(torch.float32), args.lam, steps=iters or 50).x.double()
    else:
        if args.checkpoint is None:
            raise InputError(
                "--checkpoint: pnp needs --checkpoint FILE (a saved CirculantDenoiser)"
            )
        pnp = LinearPnP(A, CirculantDenoiser.load(args.checkpoint))
        if args.delta is not None:
            _, res = pnp.tau_by_discrepancy(y, args.delta, args.tau_dp)
            x = res.x
        else:
            x = pnp.fixed_point(y, 1.0 if args.tau is None else args.tau).x
    out = x.detach().cpu().numpy().reshape(*lead, *x.shape[-2:])
    write_outputs(output, out)
    return 0


p = app.add_command(
    "reconstruct",
    run_reconstruct,
    help="reconstruct from a sinogram or degraded image",
    common=("seed", "quiet"),
)
p.add_argument("input", help=".npy, .npz or TIFF: (H, W), (N, H, W) or (N, C, H, W)")
p.add_argument("--operator", choices=OPERATORS, default="ray")
p.add_argument("--size", type=int, default=None, help="image side")
p.add_argument("--angles", default=None, help="number of angles or FILE.npy of radians")
p.add_argument("--n-det", dest="n_det", type=int, default=None)
p.add_argument("--spp", type=int, default=2)
p.add_argument("--no-circle", action="store_true")
p.add_argument("--projector", choices=PROJECTORS, default="bilinear")
p.add_argument("--kernel", default=None, help="gaussian:SIGMA, box:SIZE or FILE.npy")
p.add_argument("--boundary", default=None, choices=BOUNDARIES)
p.add_argument("--factor", type=int, default=2)
p.add_argument("--mask", default=None)
p.add_argument("--method", choices=METHODS, required=True)
p.add_argument("--filter", default="ram-lak", choices=FILTERS)
p.add_argument(
    "--no-fbp-mask",
    action="store_true",
    help="fbp: keep the pixels outside the inscribed disc (zeroed by default unless --no-circle)",
)
g = p.add_mutually_exclusive_group()
g.add_argument("--alpha", type=float, default=None)
g.add_argument("--delta", type=float, default=None)
p.add_argument("--tau-dp", dest="tau_dp", type=float, default=1.1)
p.add_argument("--iters", type=int, default=None)
p.add_argument("--lam", type=float, default=None)
p.add_argument("--tau", type=float, default=None)
p.add_argument("--checkpoint", default=None)
p.add_argument("--key", default=None, help="array name inside an .npz")
app.add_output_argument(p)


def _zoo(n: int) -> dict[str, LinearOperator]:
    from ._blur import Blur, gaussian_kernel
    from ._downsample import Downsample
    from ._gradient import Gradient
    from ._mask import Mask, random_pixel_mask
    from ._mri import MaskedFourier
    from ._operator import Identity, VStack
    from ._ray import RayTransform

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


def run_adjoint_test(args: argparse.Namespace) -> int:
    from sciml_core import adjoint_test

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
    help="dot-product test of every operator",
    common=("seed", "quiet"),
)
p.add_argument("--dtype", choices=DTYPES, default="float64")
p.add_argument("--size", type=int, default=32)


def run_phantom(args: argparse.Namespace) -> int:
    import io

    from sciml_core import atomic_write_bytes

    from ._io import png_bytes
    from ._phantoms import random_ellipses, shepp_logan

    out = _check_outputs(args, ".npz")
    if args.n < 2 or args.count < 1:
        raise InputError(f"--n/--count: expected n >= 2 and count >= 1, got {args.n}, {args.count}")
    if args.kind == "shepp-logan":
        images = shepp_logan(args.n)[None].numpy()
    else:
        images = random_ellipses(args.n, args.count, seed=args.seed)[0][:, 0].numpy()
    buf = io.BytesIO()
    np.savez(buf, images=images)
    atomic_write_bytes(out, buf.getvalue())
    atomic_write_bytes(out.with_suffix(".png"), png_bytes(images[0]))
    return 0


p = app.add_command(
    "phantom", run_phantom, help="write phantoms (.npz) and a PNG preview", common=("seed", "quiet")
)
p.add_argument("--kind", choices=PHANTOM_KINDS, default="ellipses")
p.add_argument("--n", type=int, default=128)
p.add_argument("--count", type=int, default=1)
app.add_output_argument(p)


def run_reproduce(args: argparse.Namespace) -> int:
    from ._experiments import reproduce

    path = reproduce(args.out, quick=args.quick, seed=args.seed, device=args.device)
    print(f"wrote {path}")
    return 0


def run_bench(args: argparse.Namespace) -> int:
    from ._experiments import bench

    sizes = tuple(args.sizes) if args.sizes else None
    bench(args.out, quick=args.quick, seed=args.seed, device=args.device, sizes=sizes)
    return 0


app.add_reproduce(run_reproduce)
_bench_parser = app.add_bench(run_bench)
_bench_parser.add_argument(
    "--sizes",
    type=int,
    nargs="+",
    metavar="N",
    help="CPU image sizes to time (default 128 256; 64 with --quick); the bench raises "
    "max_nnz to 200 M so that 512 fits (about 1.7 GB of matrices)",
)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``invprob-core`` console script."""
    return app.run(argv)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
