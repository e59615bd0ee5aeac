"""The AR critic shipped as package data, and its checked loader.

``data/ar_critic_64.pt`` was written by :mod:`.train_critic` (the command and its wall time are
in the README and in the checkpoint's ``provenance``). It is package data of the experiments,
not a pretrained model of the library: it is accepted when it was made by this recipe
(:data:`~.train_critic.RECIPE_ID`) for this architecture, and when its parameters hash to the
digest its provenance records; another architecture, recipe or damaged file is refused with one
line naming what differs. Its package version is not checked (a release need not retrain it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from sciml_core import InputError, read_torch_file

from .._adversarial import AdversarialRegularizer
from .._critics import LunzCritic
from .train_critic import RECIPE_ID, Recipe, Seeds, initial_critic, params_sha256

SHIPPED_FILE = "ar_critic_64.pt"
"""File name of the shipped critic in ``invprob_core/_experiments/data``."""


def shipped_path() -> Path:
    """Where the shipped critic lies in the installed package."""
    return Path(str(resources.files("invprob_core._experiments") / "data" / SHIPPED_FILE))


@dataclass(frozen=True)
class ShippedCritic:
    """The shipped critic, its untrained twin and how it was made.

    Attributes:
        trained: the regulariser with the trained critic (evaluation mode, CPU).
        untrained: the same architecture with the initial weights of its training run (the
            control), rebuilt from the recorded seed and checked against the recorded digest.
        recipe: the data and training recipe.
        seeds: the seeds of its training run.
        provenance: the checkpoint's provenance (command, steps, versions, wall time, curve).
    """

    trained: AdversarialRegularizer
    untrained: AdversarialRegularizer
    recipe: Recipe
    seeds: Seeds
    provenance: dict[str, Any]

    @property
    def steps(self) -> int:
        """Training steps of the critic."""
        return int(self.provenance["steps"])

    def training_seeds(self) -> set[int]:
        """Every seed its training data and weights were drawn from."""
        s = self.seeds
        return {s.phantoms, *s.noise, s.init, s.batches}


def load_shipped_critic(
    path: str | Path | None = None, *, argument: str = "critic"
) -> ShippedCritic:
    """Load and check the shipped critic (default: the package's own file).

    Args:
        path: a checkpoint written by :mod:`.train_critic`.
        argument: how the caller names ``path`` in error messages.

    Raises:
        InputError: the file is missing or unreadable, was not written by invprob-core's
            ``train_critic`` with recipe :data:`~.train_critic.RECIPE_ID` for a ``LunzCritic``,
            or its parameters do not match the digest recorded in it.
    """
    src = shipped_path() if path is None else Path(path)
    where = f"{argument}: {str(src)!r}"
    payload = read_torch_file(src, argument=argument, what="a critic checkpoint")
    if not isinstance(payload, dict) or payload.get("package") != "invprob-core":
        raise InputError(f"{where} is not an invprob-core checkpoint")
    try:
        config = json.loads(payload["config_json"])
        prov = config["provenance"]
        recipe_id = prov["recipe_id"]
    except (KeyError, TypeError, ValueError):
        raise InputError(
            f"{where} is not a critic written by train_critic (no provenance)"
        ) from None
    if recipe_id != RECIPE_ID:
        raise InputError(f"{where} was made by recipe {recipe_id!r}; expected {RECIPE_ID!r}")
    try:
        recipe = Recipe(**{**prov["recipe"], "etas": tuple(prov["recipe"]["etas"])})
        seeds = Seeds(**{**prov["seeds"], "noise": tuple(prov["seeds"]["noise"])})
        arch = (config["kind"], config["critic"], config["critic_config"])
        expected = (
            "AdversarialRegularizer",
            "LunzCritic",
            {"image_size": recipe.n, "in_channels": 1},
        )
        if arch != expected:
            raise InputError(f"{where} holds {arch}; expected {expected}")
        critic = LunzCritic(recipe.n)
        critic.load_state_dict(payload["state_dict"])
        digest = prov["params_sha256"][str(prov["steps"])]
        initial_digest = prov["params_sha256"]["0"]
        penalty, weight = config["gradient_penalty"], config["gp_weight"]
    except (KeyError, TypeError, RuntimeError) as err:
        cause = " ".join(f"{type(err).__name__}: {err}".split())
        raise InputError(f"{where} is a damaged critic checkpoint ({cause})") from err
    if params_sha256(critic) != digest:
        raise InputError(f"{where}: its parameters do not match the digest in its provenance")
    untrained = initial_critic(recipe, seeds)
    if params_sha256(untrained) != initial_digest:
        raise InputError(
            f"{where}: its initial weights cannot be rebuilt from seed {seeds.init} here "
            "(another torch build?)"
        )
    critic.eval()
    untrained.eval()
    return ShippedCritic(
        AdversarialRegularizer(critic, penalty, weight),
        AdversarialRegularizer(untrained, penalty, weight),
        recipe,
        seeds,
        prov,
    )
