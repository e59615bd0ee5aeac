"""What a ``reproduce`` run costs: every size, epoch count and seed offset, quick and full.

The numbers of a run depend only on its :class:`Config` and the root seed (no wall-clock budget
anywhere, so a loaded machine gives the same numbers as an idle one). Full-run cost from per-epoch
timings (all models, one thread, loaded 2-core machine): barbell 17 s/epoch (3 sizes x 3 seeds),
ring 5.7, transfer 19, GraphProp 21 (3 tasks x 3 seeds), so about 17 + 5 + 13 + <= 17 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FULL", "PKG", "QUICK", "Config", "config_for"]

PKG = "chebnet-stable"
"""The distribution name (figures and results are written under it)."""


@dataclass(frozen=True, kw_only=True)
class Config:
    """Budgets of one ``reproduce`` run (frozen: a run never changes its own budget).

    Data seeds: split ``i`` of a task at size ``n`` is generated from
    ``seed * data_seed_stride + 10 * n + i`` (GraphProp: ``seed * data_seed_stride + i``); model
    seeds are ``seed, seed + 1, ...`` (one per repetition).

    Attributes:
        quick: whether this is the ``--quick`` budget (recorded in ``result.json``).
        gain_nodes: nodes of the ER graph (average degree 8) of the one-layer gain table.
        gain_features: feature size d of that table.
        gain_Ks: Chebyshev terms K of that table.
        stability_depth: layers/Euler steps of the end-to-end Jacobian study.
        stability_Ks: K values of that study.
        hidden: hidden width of every model of the barbell, ring and transfer tasks.
        lr: Adam learning rate of the barbell, ring and transfer tasks.
        data_seed_stride: multiplies the root seed in every data seed (see above).
        barbell_sizes: clique sizes n of ``barbell_graph(n, 0)``.
        barbell_samples: train/val/test signals per size (one fixed graph).
        barbell_seeds: repetitions (model seeds) per size.
        barbell_epochs: epochs for every model (fixed, the same for all).
        ring_sizes: RingTransfer ring sizes n.
        ring_samples: train/val/test graphs per size.
        ring_epochs: epochs for every model.
        transfer_distances: source-target distances of the graph-transfer task.
        transfer_samples: train/val/test graphs per topology and distance.
        transfer_epochs: epochs for every model.
        graphprop_runs: whether the GraphProp task runs at all (full run only: ~17 minutes).
        graphprop_samples: train/val/test graphs per GraphProp target.
        graphprop_seeds: repetitions per model and target.
        graphprop_epochs: at most this many epochs per model.
        graphprop_patience: stop after this many epochs without a validation gain.
        graphprop_hidden: hidden width of the GraphProp models.
        graphprop_lr: Adam learning rate of the GraphProp models.
        graphprop_weight_decay: Adam weight decay of the GraphProp models.
        cayley_models: train Stable-ChebNet with the Cayley step (ours) beside the others on
            barbell, ring and transfer; its solve makes a step cost 2 x (CG iterations) + 1
            filters, about 5-9x an Euler model's training time, so the quick run leaves it out.
    """

    quick: bool
    gain_nodes: int
    gain_features: int
    gain_Ks: tuple[int, ...]
    stability_depth: int
    stability_Ks: tuple[int, ...]
    hidden: int = 32
    lr: float = 1e-2
    data_seed_stride: int = 1000
    barbell_sizes: tuple[int, ...]
    barbell_samples: tuple[int, int, int] = (100, 100, 100)
    barbell_seeds: int
    barbell_epochs: int
    ring_sizes: tuple[int, ...]
    ring_samples: tuple[int, int, int]
    ring_epochs: int
    transfer_distances: tuple[int, ...]
    transfer_samples: tuple[int, int, int]
    transfer_epochs: int
    graphprop_runs: bool
    graphprop_samples: tuple[int, int, int] = (1024, 256, 256)
    graphprop_seeds: int = 3
    graphprop_epochs: int = 50
    graphprop_patience: int = 20
    graphprop_hidden: int = 40
    graphprop_lr: float = 3e-3
    graphprop_weight_decay: float = 1e-6
    cayley_models: bool = False

    def epochs(self, study: str) -> int | None:
        """Epochs every model of ``study`` trains for (``None``: it trains nothing in this run)."""
        trained = {
            "barbell": self.barbell_epochs,
            "ring": self.ring_epochs,
            "transfer": self.transfer_epochs,
        }
        if self.graphprop_runs:
            trained["graphprop"] = self.graphprop_epochs
        return trained.get(study)


QUICK = Config(
    quick=True,
    gain_nodes=300,
    gain_features=32,
    gain_Ks=(2, 10, 50),
    stability_depth=32,
    stability_Ks=(2, 8, 32),
    barbell_sizes=(10,),
    barbell_seeds=1,
    barbell_epochs=50,
    ring_sizes=(10,),
    ring_samples=(300, 100, 100),
    ring_epochs=30,
    transfer_distances=(5,),
    transfer_samples=(200, 50, 50),
    transfer_epochs=20,
    graphprop_runs=False,
    cayley_models=False,
)
"""``--quick``: under a minute on one core (spectrum, stability, barbell n = 10, ring n = 10,
transfer d = 5; one seed; no GraphProp)."""

FULL = Config(
    quick=False,
    gain_nodes=500,
    gain_features=64,
    gain_Ks=(2, 10, 50, 200),
    stability_depth=64,
    stability_Ks=(2, 8, 32, 128),
    barbell_sizes=(10, 25, 50),
    barbell_seeds=3,
    barbell_epochs=60,
    ring_sizes=(10, 20, 40),
    ring_samples=(1000, 200, 200),
    ring_epochs=50,
    transfer_distances=(5, 10, 25),
    transfer_samples=(1000, 100, 100),
    transfer_epochs=40,
    graphprop_runs=True,
    cayley_models=True,
)
"""The full laptop-scale run (about an hour on one thread without the Cayley-step models; with
them not yet measured: they multiply Stable-ChebNet's training time by about 5-9)."""


def config_for(quick: bool) -> Config:
    """:data:`QUICK` or :data:`FULL`.

    Examples:
        >>> config_for(True).barbell_epochs, config_for(False).barbell_epochs
        (50, 60)
    """
    return QUICK if quick else FULL
