"""Train the adversarial critic that ``invprob-core reproduce --quick`` ships and loads.

The quick setting cannot train a critic that helps: the critic-budget sweep
(:mod:`.ar_critic_budget`) measured AR minus gradient descent with its own validated stop at
-0.13 / -0.07 dB after 150 steps at 32x32, but +1.05 / +1.07 dB after 2000 steps at 64x64
(60 angles, 3 % / 5 % noise). So the critic is trained once, by this seeded command, on its own
phantoms, and shipped as package data (``data/ar_critic_64.pt``)::

    OMP_NUM_THREADS=1 python -m invprob_core._experiments.train_critic \\
        --out src/invprob_core/_experiments/data/ar_critic_64.pt --seed 0 --steps 2000

(about 0.5 s of one CPU thread per step: 1032 s of CPU for the data and 2000 steps). The shipped
file was written with ``--snapshots 250,500,...,1750`` as well, which changes nothing in it.

Recipe (:data:`RECIPE`): :class:`~invprob_core.LunzCritic` (64x64), trained as in Lunz et al.'s
code and the full run (one-sided gradient penalty 20, RMSProp 1e-4, batch 16) on 2000 random
ellipse phantoms and the Hann-filtered FBP of their analytic 60-angle sinograms, image ``i`` at
relative Gaussian noise ``etas[i % 2]``, ``etas = (3 %, 5 %)``.

Seeds (:func:`seeds`): every draw comes from ``base = TRAIN_SEED_BASE + 100 * seed``: phantoms
``base``, noise of level ``k`` ``base + 1 + k``, critic initialisation ``torch.manual_seed(base)``,
batches and interpolation weights a generator seeded ``base + 10``. ``reproduce`` draws its
phantoms from ``root_seed(seed) + offset`` with offsets below 1000, far below
``TRAIN_SEED_BASE``; it refuses a seed whose streams would meet these (and a test checks that no
test phantom equals a training phantom).

The command runs on one thread (``torch.set_num_threads(1)``), so the same seed gives the same
parameters bit for bit on the same machine and torch build. The checkpoint (written atomically in
:meth:`~invprob_core.AdversarialRegularizer.save`'s layout, so ``load`` reads it while the
package's major.minor version is the one that wrote it; the shipped-critic loader checks the
recipe and digests instead) carries its provenance in its config: the command, seed, steps,
torch/numpy/python versions, the data recipe and its seeds,
SHA-256 digests of the training data and of the parameters after 0, ``--hash-at`` and all steps,
the training curve and the wall times. A test reruns the first ``--hash-at`` steps and compares
the digest.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml_core import InputError, save_checkpoint
from sciml_core.cli import check_output, set_quiet, wrote

from ..__about__ import __version__
from .._adversarial import AdversarialRegularizer, Penalty
from .._critics import LunzCritic
from .._fbp import Filter
from .._noise import add_noise
from .._phantoms import ellipse_sinogram, random_ellipses
from .._ray import RayTransform

TRAIN_SEED_BASE = 1_000_000_000
"""Start of the training seed streams (``reproduce`` uses ``root_seed(seed) + offset < 1000``)."""

RECIPE_ID = "lunz-critic-64-v1"
"""Names the recipe below; the loader refuses a checkpoint made by another one."""


@dataclass(frozen=True)
class Recipe:
    """What the shipped critic is trained on and how.

    Attributes:
        n: image side; the critic is ``LunzCritic(n)``.
        angles: projection angles in ``[0, pi)`` of the training sinograms.
        etas: relative Gaussian noise levels; training image ``i`` carries ``etas[i % len]``.
        train: training phantoms (random ellipses, analytic sinograms).
        batch: critic batch size.
        lr: RMSProp learning rate.
        gradient_penalty: penalty form (Lunz et al.: one-sided).
        gp_weight: penalty weight.
        fbp_filter: window of the FBP that makes the artefact images.
    """

    n: int = 64
    angles: int = 60
    etas: tuple[float, ...] = (0.03, 0.05)
    train: int = 2000
    batch: int = 16
    lr: float = 1e-4
    gradient_penalty: Penalty = "one-sided"
    gp_weight: float = 20.0
    fbp_filter: Filter = "hann"


RECIPE = Recipe()
"""The shipped critic's recipe."""


@dataclass(frozen=True)
class Seeds:
    """Every seed of one training run (see the module docstring)."""

    phantoms: int
    noise: tuple[int, ...]
    init: int
    batches: int


def seeds(seed: int, recipe: Recipe = RECIPE) -> Seeds:
    """The seeds of ``--seed seed``.

    Examples:
        >>> s = seeds(0)
        >>> s.phantoms, s.noise, s.init, s.batches
        (1000000000, (1000000001, 1000000002), 1000000000, 1000000010)
    """
    base = TRAIN_SEED_BASE + 100 * int(seed)
    return Seeds(base, tuple(base + 1 + k for k in range(len(recipe.etas))), base, base + 10)


def training_data(recipe: Recipe, s: Seeds) -> tuple[torch.Tensor, torch.Tensor]:
    """Clean phantoms and their FBP artefact images, both ``(train, 1, n, n)`` float32."""
    A = RayTransform(recipe.n, angles=recipe.angles)
    x, params = random_ellipses(recipe.n, recipe.train, seed=s.phantoms)
    sino = ellipse_sinogram(params, A)
    y = torch.empty_like(sino)
    levels = len(recipe.etas)
    for k, eta in enumerate(recipe.etas):
        y[k::levels], _ = add_noise(sino[k::levels], eta, seed=s.noise[k])
    return x, A.fbp(y, filter=recipe.fbp_filter)


def tensor_sha256(tensors: Sequence[tuple[str, torch.Tensor]]) -> str:
    """SHA-256 of named tensors: names, dtypes, shapes and raw bytes, in the given order."""
    h = hashlib.sha256()
    for name, t in tensors:
        t = t.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def params_sha256(module: torch.nn.Module) -> str:
    """SHA-256 of a module's state dict (see :func:`tensor_sha256`)."""
    return tensor_sha256(list(module.state_dict().items()))


def params_fingerprint(module: torch.nn.Module) -> list[list[float]]:
    """Per tensor of the state dict: its float64 sum and 2-norm (compared with a tolerance where
    bitwise equality cannot be expected, e.g. on another CPU)."""
    return [
        [float(t.double().sum()), float(t.double().norm())] for t in module.state_dict().values()
    ]


def initial_critic(recipe: Recipe, s: Seeds) -> LunzCritic:
    """The critic before training: ``LunzCritic(n)`` drawn after ``torch.manual_seed(s.init)``
    (also the untrained control of ``reproduce``); the global generator is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(s.init)
        return LunzCritic(recipe.n)


@dataclass(frozen=True)
class Trained:
    """A trained critic and its provenance (the checkpoint's ``provenance`` config entry)."""

    regularizer: AdversarialRegularizer
    provenance: dict[str, Any]


def train(
    seed: int,
    steps: int,
    *,
    hash_at: int = 3,
    recipe: Recipe = RECIPE,
    progress: bool = True,
    snapshots: Sequence[int] = (),
    on_snapshot: Callable[[Trained], None] | None = None,
) -> Trained:
    """Train the critic of ``recipe`` for ``steps`` steps from ``--seed seed`` on one thread.

    Training runs in several calls of :meth:`~invprob_core.AdversarialRegularizer.fit` sharing
    one optimiser and one batch generator (``hash_at`` steps, then up to each snapshot, then the
    rest), so the parameters after ``hash_at`` steps can be digested (SHA-256 and a per-tensor
    fingerprint); the calls draw exactly what one call would. At each
    step count of ``snapshots`` (below ``steps``) ``on_snapshot`` gets what ``steps=k`` would
    have returned (same parameters; only the wall times differ).

    Returns:
        The regulariser and its provenance.
    """
    if steps < 1 or hash_at < 1:
        raise InputError(f"--steps and --hash-at: expected integers >= 1, got {steps}, {hash_at}")
    torch.set_num_threads(1)
    s = seeds(seed, recipe)
    t0 = time.perf_counter()
    x, fbp = training_data(recipe, s)
    t_data = time.perf_counter() - t0
    critic = initial_critic(recipe, s)
    digests = {"0": params_sha256(critic)}
    fingerprint: list[list[float]] = []  # after hash_at steps
    ar = AdversarialRegularizer(critic, recipe.gradient_penalty, recipe.gp_weight)
    opt = torch.optim.RMSprop(critic.parameters(), lr=recipe.lr)
    gen = torch.Generator().manual_seed(s.batches)
    t0 = time.perf_counter()
    stops = sorted({k for k in (hash_at, *snapshots) if 0 < k < steps} | {steps})
    done = 0
    for stop in stops:
        ar.fit(x, fbp, stop - done, opt, seed=gen, batch_size=recipe.batch, progress=progress)
        done = stop
        if stop == hash_at:
            digests[str(stop)] = params_sha256(critic)
            fingerprint = params_fingerprint(critic)
        if stop < steps and stop in snapshots and on_snapshot is not None:
            walls = (t_data, time.perf_counter() - t0)
            on_snapshot(
                Trained(
                    ar,
                    _provenance(
                        recipe, seed, s, stop, hash_at, digests, fingerprint, x, fbp, ar, walls
                    ),
                )
            )
    digests[str(steps)] = params_sha256(critic)
    walls = (t_data, time.perf_counter() - t0)
    return Trained(
        ar, _provenance(recipe, seed, s, steps, hash_at, digests, fingerprint, x, fbp, ar, walls)
    )


def _provenance(
    recipe: Recipe,
    seed: int,
    s: Seeds,
    steps: int,
    hash_at: int,
    digests: dict[str, str],
    fingerprint: list[list[float]],
    x: torch.Tensor,
    fbp: torch.Tensor,
    ar: AdversarialRegularizer,
    walls: tuple[float, float],
) -> dict[str, Any]:
    digests = {k: v for k, v in digests.items() if int(k) <= steps}
    digests[str(steps)] = params_sha256(ar.critic)
    t_data, t_train = walls
    return {
        "recipe_id": RECIPE_ID,
        "recipe": asdict(recipe),
        "seed": int(seed),
        "seeds": asdict(s),
        "train_seed_base": TRAIN_SEED_BASE,
        "steps": int(steps),
        "hash_at": int(hash_at),
        "params_sha256": digests,
        "params_fingerprint_at_hash": fingerprint,
        "data_sha256": tensor_sha256([("clean", x), ("artefacts", fbp)]),
        "curve": [round(v, 6) for v in ar.history[:steps]],
        "wall_s": {"data": round(t_data, 1), "training": round(t_train, 1)},
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "invprob_core": __version__,
    }


def save(trained: Trained, path: Path, command: str, *, overwrite: bool = False) -> Path:
    """Write the checkpoint atomically (:meth:`AdversarialRegularizer.save`'s layout plus
    ``provenance``)."""
    ar = trained.regularizer
    critic = ar.critic
    assert isinstance(critic, LunzCritic)
    return save_checkpoint(
        path,
        critic.state_dict(),
        config={
            "kind": "AdversarialRegularizer",
            "critic": "LunzCritic",
            "critic_config": critic.config(),
            "gradient_penalty": ar.gradient_penalty,
            "gp_weight": ar.gp_weight,
            "provenance": {**trained.provenance, "command": command},
        },
        package="invprob-core",
        version=__version__,
        overwrite=overwrite,
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer in [0, 1e6); got {text!r}") from None
    if not 0 <= value < 1_000_000:
        raise argparse.ArgumentTypeError(f"expected an integer in [0, 1e6); got {text!r}")
    return value


def _snapshots(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = (0,)
    if any(v < 1 for v in values):
        raise InputError(f"--snapshots: expected integers >= 1 separated by commas; got {text!r}")
    return values


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}\n")


PROG = "python -m invprob_core._experiments.train_critic"


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see the module docstring); returns the exit status."""
    p = _Parser(prog=PROG, description="Train the critic shipped with reproduce --quick.")
    p.add_argument("--out", type=Path, required=True, help="checkpoint file, ending in .pt")
    p.add_argument("--seed", type=_seed, default=0, help="seed stream (default %(default)s)")
    p.add_argument(
        "--steps", type=_positive, default=2000, help="critic steps (default %(default)s)"
    )
    p.add_argument(
        "--hash-at",
        type=_positive,
        default=3,
        help="also record the parameters' SHA-256 after this many steps (default %(default)s)",
    )
    p.add_argument(
        "--snapshots",
        default="",
        help="comma-separated step counts at which to also write OUT-step<k>.pt, each what "
        "--steps k writes (default: none)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace --out (default: refuse)")
    p.add_argument("--quiet", action="store_true", help="no progress bar (default: shown)")
    try:
        args = p.parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error already printed
        return stop.code if isinstance(stop.code, int) else 2
    set_quiet(args.quiet)
    try:
        out = check_output(args.out, args.overwrite, suffixes=(".pt",), flag="--out")
        snaps = _snapshots(args.snapshots)
        if any(k >= args.steps for k in snaps):
            raise InputError(f"--snapshots: expected step counts below --steps {args.steps}")

        def snapshot_path(k: int) -> Path:
            return out.with_name(f"{out.stem}-step{k}.pt")

        for k in snaps:  # refused before any work, not after hours of training
            check_output(snapshot_path(k), args.overwrite, flag="--snapshots")
        command = " ".join([PROG, *(sys.argv[1:] if argv is None else argv)])

        def snapshot(t: Trained) -> None:
            path = snapshot_path(int(t.provenance["steps"]))
            wrote(save(t, path, command, overwrite=args.overwrite))

        trained = train(
            args.seed,
            args.steps,
            hash_at=args.hash_at,
            progress=not args.quiet,
            snapshots=snaps,
            on_snapshot=snapshot,
        )
        save(trained, out, command, overwrite=args.overwrite)
    except InputError as err:
        print(f"{PROG}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    wrote(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
