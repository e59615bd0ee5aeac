"""HyDA, the Hypergraph Dynamic Adapter, and the controls built from the same parts.

With the backbone frozen (``eval()``, ``requires_grad_(False)``), each modality ``m`` of patient
``p`` runs through the encoder separately, giving maps ``F^s_{p,m}`` at scales ``s`` (finest
first). Then:

1. **Patient vertex** ``X_p = [z_{p,1} ‖ … ‖ z_{p,M}]``, ``z_{p,m} = W_m · pool(F^{last}_{p,m})``
   (``pool="grid2"``: 2×2×2 adaptive average pooling, flattened; ``"gap"``: global average).
2. **Hypergraph over patients**: vertices are the batch plus the bank of training patients'
   pooled features (exact, as the encoder is frozen); one kNN hyperedge group per modality space
   ``z_{·,m}`` (:func:`~brain_hyda.multi_incidence`); ``graph="batch"`` uses the batch alone,
   ``graph="patient"`` no inter-patient edge (``H = I``).
3. **Fused embedding** ``g = HGNNConv(X, H)`` (one layer, mean or symmetric norm), standardised
   per dimension over the graph's vertices (``embed_norm="graph"``): ``ĝ = (g − μ) / σ``.
4. **Patient-specific kernels** ``α_p = softmax((A ĝ_p + a)/τ)`` mix ``n_b`` bases into the
   1×1×1 fusion kernel of every scale (:class:`~brain_hyda.DynamicFusion`) and, with
   ``residual="dynamic"``, a depthwise residual branch
   (:class:`~brain_hyda.DynamicDepthwiseConv3d`).
5. The fused scales go through the frozen decoder (TinyUNet) or a light trainable up-path (ViT),
   then a new trainable head: voxel logits, or patient logits from pooled features and ``ĝ``.

The controls are the same class with parts switched: ``Probe`` (static fusion and head only),
``StaticAdapter`` (static fusion plus a static residual branch, widened until it has at least as
many trainable parameters as a given HyDA), ``SiteOracle`` (one basis per known patient group,
routed by the true group: the upper bound of patient-specific routing), ``FullFineTune``
(everything trainable) and ``Scratch`` (a fresh multi-channel TinyUNet). At initialisation with
``basis_noise=0`` every adapter outputs the frozen model with mean fusion.
"""

from __future__ import annotations

import copy
import math
import typing
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sciml_core import InputError

from ._dynamic import FUSION_FORMS, BasisRouter, DynamicDepthwiseConv3d, DynamicFusion, FusionForm
from ._encoders import TinyUNet
from ._hypergraph import NORMS, HGNNConv, HypergraphNorm, multi_incidence

__all__ = [
    "GRAPHS",
    "MISSING_MODES",
    "POOLS",
    "FullFineTune",
    "Graph",
    "HyDA",
    "Missing",
    "Pool",
    "Probe",
    "Scratch",
    "SiteOracle",
    "StaticAdapter",
    "count_trainable",
]

Graph = Literal["bank", "batch", "patient"]
GRAPHS: tuple[Graph, ...] = typing.get_args(Graph)
Pool = Literal["grid2", "gap"]
POOLS: tuple[Pool, ...] = typing.get_args(Pool)
Fusion = Literal["dynamic", "static"]
Residual = Literal["none", "dynamic", "static"]
Task = Literal["segmentation", "classification"]
Missing = Literal["error", "zero"]
MISSING_MODES: tuple[Missing, ...] = typing.get_args(Missing)

Features = list[list[Tensor]]  # [modality][scale] -> (B, C_s, ...)


def count_trainable(module: nn.Module) -> int:
    """Number of trainable scalars (``requires_grad``) in ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


class _ViTUpPath(nn.Module):
    """Light trainable decoder for a ViT: 1×1×1 mix of the taps, then ×2 transposed convs."""

    def __init__(self, channels: tuple[int, ...], ups: int, width: int) -> None:
        super().__init__()
        self.mix = nn.Conv3d(sum(channels), width * 2**ups, 1)
        layers: list[nn.Module] = []
        c = width * 2**ups
        for _ in range(ups):
            layers += [nn.ConvTranspose3d(c, c // 2, 2, stride=2), nn.GELU()]
            c //= 2
        self.up = nn.Sequential(*layers)
        self.out_channels = c

    def forward(self, maps: list[Tensor]) -> Tensor:
        size = maps[-1].shape[2:]
        same = [
            F.interpolate(m, size=size, mode="trilinear") if m.shape[2:] != size else m
            for m in maps
        ]
        return self.up(self.mix(torch.cat(same, dim=1)))


class HyDA(nn.Module):
    """The Hypergraph Dynamic Adapter on a frozen multi-scale encoder (see the module docstring).

    Args:
        encoder: A multi-scale encoder with ``channels`` (finest first), e.g. ``TinyUNet.encoder``
            or :class:`~brain_hyda.ViT3DTaps`; applied to each modality separately.
        modalities: Names of the input sequences, in order (unique).
        num_classes: Output classes (voxel classes or patient classes).
        decoder: The frozen decoder taking the fused maps (TinyUNet's); ``None`` builds a light
            trainable up-path (for a ViT whose taps share one grid), upsampling ``upsample`` times.
        fusion: ``"dynamic"`` (patient-specific kernels) or ``"static"`` (one trainable kernel).
        fusion_form: ``"full"`` or ``"channel"``.
        residual: ``"none"``, ``"dynamic"`` or ``"static"`` depthwise residual branch.
        residual_width: Reduced width of the residual branch as a fraction of ``C_s``.
        embed_dim: ``d``.
        pool: ``"grid2"`` or ``"gap"``.
        k: Vertices per hyperedge.
        graph: ``"bank"``, ``"batch"`` or ``"patient"``.
        norm: ``"mean"`` or ``"sym"``.
        n_basis: ``n_b``.
        a_std: Std of the router's initial ``A``.
        tau0: Initial temperature (the trainer anneals it to 1).
        basis_noise: Std of the noise on the mean-initialised bases.
        task: ``"segmentation"`` or ``"classification"``.
        freeze: Freeze encoder and decoder (False: full fine-tuning).
        oracle_groups: With this many groups, routing is the one-hot of a given group id
            (``alpha=`` at forward; the site oracle).
        missing: A modality absent from ``volumes``: ``"error"`` (an ``InputError`` naming it)
            or ``"zero"`` (a zero volume, masked out of the fusion and the embedding; see
            ``present`` at :meth:`forward`).
        upsample: ×2 steps of the ViT up-path (``log2`` of the patch size).
        seed: Seeds every new parameter.

    Shapes:
        forward: ``{m: (B, 1, S, S, S)}`` -> ``(B, num_classes, S, S, S)`` (segmentation) or
        ``(B, num_classes)`` (classification).
    """

    def __init__(
        self,
        encoder: nn.Module,
        modalities: typing.Sequence[str],
        *,
        num_classes: int,
        decoder: nn.Module | None = None,
        fusion: Fusion = "dynamic",
        fusion_form: FusionForm = "full",
        residual: Residual = "none",
        residual_width: float = 0.5,
        embed_dim: int = 16,
        pool: Pool = "grid2",
        k: int = 3,
        graph: Graph = "bank",
        norm: HypergraphNorm = "mean",
        n_basis: int = 4,
        a_std: float = 1.0,
        tau0: float = 4.0,
        basis_noise: float = 0.01,
        task: Task = "segmentation",
        freeze: bool = True,
        oracle_groups: int = 0,
        upsample: int = 0,
        seed: int = 0,
        missing: Missing = "error",
    ) -> None:
        super().__init__()
        mods = list(modalities)
        if not mods or len(set(mods)) != len(mods):
            raise InputError(f"modalities: expected distinct names; got {mods}")
        for name, value, allowed in (
            ("fusion", fusion, ("dynamic", "static")),
            ("fusion_form", fusion_form, FUSION_FORMS),
            ("residual", residual, ("none", "dynamic", "static")),
            ("pool", pool, POOLS),
            ("graph", graph, GRAPHS),
            ("norm", norm, NORMS),
            ("task", task, ("segmentation", "classification")),
            ("missing", missing, MISSING_MODES),
        ):
            if value not in allowed:
                raise InputError(f"{name}: expected one of {tuple(allowed)}; got {value!r}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InputError(f"k: expected an integer >= 1; got {k!r}")
        if isinstance(n_basis, bool) or not isinstance(n_basis, int) or n_basis < 1:
            raise InputError(f"n_basis: expected an integer >= 1; got {n_basis!r}")
        if num_classes < 2:
            raise InputError(f"num_classes: expected >= 2; got {num_classes}")
        self.modalities = mods
        self.num_classes = num_classes
        self.fusion_kind: Fusion = fusion
        self.residual_kind: Residual = residual
        self.pool: Pool = pool
        self.k = k
        self.graph: Graph = graph
        self.task: Task = task
        self.frozen = freeze
        self.tau0 = float(tau0)
        self.oracle_groups = int(oracle_groups)
        self.missing: Missing = missing
        gen = torch.Generator().manual_seed(seed)
        torch_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        try:
            self.encoder = encoder
            self.decoder = decoder
            channels = tuple(int(c) for c in encoder.channels)  # type: ignore[union-attr]
            self.channels = channels
            m = len(mods)
            self.up: _ViTUpPath | None
            self.project: nn.ModuleList | None
            self.hgnn: HGNNConv | None
            self.router: BasisRouter | None
            if decoder is None:
                self.up = _ViTUpPath(channels, upsample, 16)
                out_c = self.up.out_channels
            else:
                self.up = None
                out_c = channels[0]
            if task == "segmentation":
                self.head: nn.Module = nn.Conv3d(out_c, num_classes, 1)
            else:
                self.head = nn.Linear(sum(channels) + out_c + embed_dim, num_classes)
            routed = fusion == "dynamic" or residual == "dynamic"
            self.uses_embedding = routed and oracle_groups == 0
            nb = oracle_groups if oracle_groups else n_basis
            self.fusions = nn.ModuleList(
                DynamicFusion(
                    c,
                    m,
                    n_basis=nb if fusion == "dynamic" else 1,
                    form=fusion_form,
                    basis_noise=basis_noise,
                    generator=gen,
                )
                for c in channels
            )
            self.residuals = (
                nn.ModuleList(
                    DynamicDepthwiseConv3d(
                        c,
                        max(1, math.ceil(residual_width * c)),
                        embed_dim=embed_dim,
                        n_basis=nb,
                        mode="static" if residual == "static" else "basis",
                        basis_noise=basis_noise,
                        generator=gen,
                    )
                    for c in channels
                )
                if residual != "none"
                else None
            )
            pooled = channels[-1] * (8 if pool == "grid2" else 1)
            self.embed_dim = embed_dim
            if self.uses_embedding or task == "classification":
                self.project = nn.ModuleList(nn.Linear(pooled, embed_dim) for _ in mods)
                self.hgnn = HGNNConv(m * embed_dim, embed_dim, norm=norm)
                self.router = BasisRouter(embed_dim, nb, a_std=a_std, tau=tau0)
            else:
                self.project = None
                self.hgnn = None
                self.router = None
        finally:
            torch.random.set_rng_state(torch_state)
        self.register_buffer("bank", torch.zeros(0, len(mods), pooled))
        if freeze:
            self.encoder.requires_grad_(False)
            if self.decoder is not None:
                self.decoder.requires_grad_(False)
        self.train()

    # -- frozen parts ---------------------------------------------------------------------------
    def train(self, mode: bool = True) -> HyDA:
        """Set training mode; a frozen encoder and decoder stay in ``eval()``."""
        super().train(mode)
        if self.frozen:
            self.encoder.eval()
            if self.decoder is not None:
                self.decoder.eval()
        return self

    def _check(self, volumes: dict[str, Tensor]) -> None:
        missing = [m for m in self.modalities if m not in volumes]
        if missing and (self.missing == "error" or len(missing) == len(self.modalities)):
            raise InputError(
                f"volumes: missing modality {missing[0]!r}; expected {self.modalities}"
                + (" (missing='zero' needs at least one)" if self.missing == "zero" else "")
            )
        extra = [m for m in volumes if m not in self.modalities]
        if extra:
            raise InputError(f"volumes: unknown modality {extra[0]!r}; expected {self.modalities}")
        shapes = {m: tuple(volumes[m].shape) for m in self.modalities if m in volumes}
        if len(set(shapes.values())) != 1:
            raise InputError(f"volumes: modalities differ in shape: {shapes}")

    def complete(self, volumes: dict[str, Tensor]) -> tuple[dict[str, Tensor], Tensor]:
        """Every modality's volume (a missing one as zeros, with ``missing="zero"``) and the
        presence mask.

        Shapes:
            volumes: ``{m: (B, 1, S, S, S)}`` for the given ``m`` -> (``{m: (B, 1, S, S, S)}``
            for every modality, ``present`` ``(B, M)`` bool).
        """
        self._check(volumes)
        ref = next(v for v in volumes.values())
        full = {m: volumes[m] if m in volumes else torch.zeros_like(ref) for m in self.modalities}
        present = torch.tensor(
            [m in volumes for m in self.modalities], dtype=torch.bool, device=ref.device
        ).expand(ref.shape[0], -1)
        return full, present

    def mask_features(self, features: Features, present: Tensor) -> Features:
        """Mask absent modalities out: present ones scaled by ``M / #present`` per patient, absent
        ones zeroed, so the mean-initialised fusion gives the mean of the present modalities.

        Shapes:
            features: ``[m][s]`` of ``(B, C_s, ...)``, present: ``(B, M)`` bool -> as features.
        """
        m = len(self.modalities)
        if present.shape != (features[0][0].shape[0], m):
            raise InputError(
                f"present: expected shape ({features[0][0].shape[0]}, {m}); "
                f"got {tuple(present.shape)}"
            )
        count = present.sum(dim=1)
        if bool((count == 0).any()):
            raise InputError("present: every patient needs at least one present modality")
        scale = present.to(features[0][0].dtype) * (m / count.to(features[0][0].dtype))[:, None]
        return [
            [f * scale[:, i].reshape(-1, *([1] * (f.ndim - 1))) for f in maps]
            for i, maps in enumerate(features)
        ]

    def encode(self, volumes: dict[str, Tensor]) -> Features:
        """The encoder's maps of each modality (under ``no_grad`` when frozen); a missing
        modality (``missing="zero"``) is encoded as a zero volume, unmasked.

        Shapes:
            volumes: ``{m: (B, 1, S, S, S)}`` -> ``[m][s]`` of ``(B, C_s, ...)``.
        """
        volumes, _ = self.complete(volumes)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            return [list(self.encoder(volumes[m])) for m in self.modalities]

    def pooled(self, features: Features) -> Tensor:
        """``(B, M, P)``: each modality's coarsest map pooled (``grid2`` or ``gap``), flattened."""
        out = []
        for maps in features:
            last = maps[-1]
            size = 2 if self.pool == "grid2" else 1
            out.append(F.adaptive_avg_pool3d(last, size).flatten(1))
        return torch.stack(out, dim=1)

    @torch.no_grad()
    def update_bank(self, features: Features) -> None:
        """Replace the bank with these patients' pooled features (training patients)."""
        self.bank = self.pooled(features).detach().clone()

    # -- embedding and routing ------------------------------------------------------------------
    def _graph(
        self, features: Features | None, bank_ids: Tensor | None, pooled: Tensor | None
    ) -> tuple[Tensor, Tensor, int, int]:
        """``(x, h, b, n_bank)``: vertex features (the batch's patients, then the bank's), the
        incidence of their hypergraph, the batch size and the number of bank vertices."""
        if self.project is None or self.hgnn is None:
            raise ValueError("this model has no patient embedding")
        if pooled is None:
            if features is None:
                raise ValueError("give features or pooled")
            pooled = self.pooled(features)
        b = pooled.shape[0]
        n_bank = 0
        if self.graph != "batch" and self.bank.shape[0] > 0:
            keep = torch.ones(self.bank.shape[0], dtype=torch.bool, device=pooled.device)
            if bank_ids is not None:
                ids = bank_ids[bank_ids >= 0]
                keep[ids] = False
            verts = torch.cat([pooled, self.bank[keep].to(pooled)], dim=0)
            n_bank = int(keep.sum())
        else:
            if self.graph == "batch" and b < 2:
                raise InputError("graph: 'batch' needs at least 2 patients in the batch; got 1")
            verts = pooled
        z = [proj(verts[:, i]) for i, proj in enumerate(self.project)]
        x = torch.cat(z, dim=1)
        if self.graph == "patient":
            h = torch.eye(x.shape[0], dtype=x.dtype, device=x.device)
        else:
            with torch.no_grad():
                h = multi_incidence([t.detach() for t in z], self.k)
        return x, h, b, n_bank

    def hypergraph(
        self,
        features: Features | None = None,
        bank_ids: Tensor | None = None,
        *,
        pooled: Tensor | None = None,
    ) -> Tensor:
        """The incidence ``H`` ``(V, E)`` :meth:`patient_embedding` propagates over for this batch:
        rows are the batch's patients, then the bank's (those ``bank_ids`` leaves in)."""
        with torch.no_grad():
            return self._graph(features, bank_ids, pooled)[1]

    def patient_embedding(
        self,
        features: Features | None = None,
        bank_ids: Tensor | None = None,
        *,
        pooled: Tensor | None = None,
    ) -> Tensor:
        """``ĝ``: the standardised hypergraph embedding of each patient of the batch, ``(B, d)``.

        ``bank_ids[b]`` is the bank row of batch patient ``b`` (or -1): that row is left out of
        the graph so the patient is not its own neighbour twice. ``pooled`` (``(B, M, P)``, e.g.
        averaged over a volume's windows) replaces ``features``.
        """
        x, h, b, n_bank = self._graph(features, bank_ids, pooled)
        assert self.hgnn is not None  # checked by _graph
        g = self.hgnn(x, h)
        # Standardise with the bank's statistics (the batch's when there is no bank).
        ref = g[b:] if n_bank >= 2 else g
        if ref.shape[0] >= 2:
            g = (g - ref.mean(0, keepdim=True)) / (ref.std(0, keepdim=True) + 1e-5)
        return g[:b]

    def routing(self, g: Tensor) -> Tensor:
        """``α = softmax((A ĝ + a)/τ)``, ``(B, n_b)``."""
        assert self.router is not None
        return self.router(g)

    # -- forward --------------------------------------------------------------------------------
    def forward(
        self,
        volumes: dict[str, Tensor] | None = None,
        *,
        features: Features | None = None,
        embedding: Tensor | None = None,
        alpha: Tensor | None = None,
        bank_ids: Tensor | None = None,
        groups: Tensor | None = None,
        present: Tensor | None = None,
    ) -> Tensor:
        """Logits of each patient.

        Args:
            volumes: ``{modality: (B, 1, S, S, S)}``, z-scored.
            features: Precomputed :meth:`encode` output instead of ``volumes``.
            embedding: ``ĝ`` to use instead of the patient's own (the shuffled control), ``(B, d)``.
            alpha: Routing weights to use, ``(B, n_b)``.
            bank_ids: Bank rows of the batch patients (see :meth:`patient_embedding`).
            groups: Group ids ``(B,)`` of a site oracle.
            present: ``(B, M)`` bool, which modalities each patient has: the others are masked
                out of the fusion and the embedding (:meth:`mask_features`). With
                ``missing="zero"``, modalities absent from ``volumes`` are masked out too.

        Shapes:
            volumes: ``{m: (B, 1, S, S, S)}`` -> ``(B, K, S, S, S)`` or ``(B, K)``.
        """
        if features is None:
            if volumes is None:
                raise ValueError("give volumes or features")
            full, given = self.complete(volumes)
            features = self.encode(full)
            if not bool(given.all()):
                present = given if present is None else present & given
        if present is not None:
            features = self.mask_features(features, present.to(torch.bool))
        b = features[0][0].shape[0]
        g = None
        if self.oracle_groups:
            if groups is None and alpha is None:
                raise InputError("groups: a site oracle needs each patient's group id")
            if alpha is None:
                assert groups is not None
                alpha = F.one_hot(groups.long(), self.oracle_groups).to(features[0][0])
        elif self.uses_embedding or self.task == "classification":
            g = self.patient_embedding(features, bank_ids) if embedding is None else embedding
            if alpha is None and self.router is not None:
                alpha = self.routing(g)
        if alpha is None:
            alpha = torch.ones(b, 1, dtype=features[0][0].dtype, device=features[0][0].device)
        fused = []
        for s, fusion in enumerate(self.fusions):
            assert isinstance(fusion, DynamicFusion)
            a = alpha if fusion.bases.shape[0] == alpha.shape[1] else alpha[:, :1].new_ones(b, 1)
            f = fusion([features[m][s] for m in range(len(self.modalities))], a)
            if self.residuals is not None:
                f = self.residuals[s](
                    f, alpha, g if g is not None else f.new_zeros(b, self.embed_dim)
                )
            fused.append(f)
        if self.up is not None:
            top = self.up(fused)
        else:
            assert self.decoder is not None
            top = self.decoder(fused)
        if self.task == "segmentation":
            return self.head(top)
        pooled = [f.mean(dim=(2, 3, 4)) for f in fused] + [top.mean(dim=(2, 3, 4))]
        emb = g if g is not None else top.new_zeros(b, self.embed_dim)
        return self.head(torch.cat([*pooled, emb], dim=1))

    def trainable_parameters(self) -> list[nn.Parameter]:
        """The parameters the adapter trains (``requires_grad``)."""
        return [p for p in self.parameters() if p.requires_grad]

    def extra_repr(self) -> str:
        frozen = "frozen" if self.frozen else "trainable"
        return (
            f"modalities={self.modalities}, fusion={self.fusion_kind}, "
            f"residual={self.residual_kind}, "
            f"encoder/decoder {frozen}, trainable={count_trainable(self):,}"
        )


def Probe(encoder: nn.Module, modalities: typing.Sequence[str], **kwargs: typing.Any) -> HyDA:
    """Frozen encoder and decoder; trainable static fusion and head (a linear probe)."""
    return HyDA(encoder, modalities, fusion="static", residual="none", **kwargs)


def FullFineTune(
    encoder: nn.Module, modalities: typing.Sequence[str], **kwargs: typing.Any
) -> HyDA:
    """Static mean-initialised fusion with a trainable (copied) encoder and decoder."""
    encoder = copy.deepcopy(encoder).requires_grad_(True)
    if kwargs.get("decoder") is not None:
        kwargs["decoder"] = copy.deepcopy(kwargs["decoder"]).requires_grad_(True)
    return HyDA(encoder, modalities, fusion="static", residual="none", freeze=False, **kwargs)


def SiteOracle(
    encoder: nn.Module, modalities: typing.Sequence[str], groups: int, **kwargs: typing.Any
) -> HyDA:
    """One fusion basis per known patient group, routed by the true group (synthetic only)."""
    return HyDA(encoder, modalities, fusion="dynamic", oracle_groups=groups, **kwargs)


def StaticAdapter(
    encoder: nn.Module,
    modalities: typing.Sequence[str],
    *,
    at_least: int = 0,
    **kwargs: typing.Any,
) -> HyDA:
    """Static fusion plus a static depthwise residual branch at every scale.

    The residual width grows (fractions of ``C_s``: 1/8, 1/4, ... up to 8) until the model has at
    least ``at_least`` trainable parameters: the parameter-matched static control.
    """
    for width in (0.125, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0):
        model = HyDA(
            encoder, modalities, fusion="static", residual="static", residual_width=width, **kwargs
        )
        if count_trainable(model) >= at_least:
            return model
    return model


class Scratch(nn.Module):
    """A fresh TinyUNet on the modalities stacked as channels (trained from random weights).

    Shapes:
        forward: ``{m: (B, 1, S, S, S)}`` -> ``(B, K, S, S, S)``.
    """

    def __init__(
        self,
        modalities: typing.Sequence[str],
        *,
        num_classes: int,
        seed: int = 0,
        widths: tuple[int, ...] = (8, 16, 32, 64),
    ) -> None:
        super().__init__()
        self.modalities = list(modalities)
        state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        try:
            self.net = TinyUNet(len(self.modalities), num_classes, widths)
        finally:
            torch.random.set_rng_state(state)

    def forward(self, volumes: dict[str, Tensor] | None = None, **_: typing.Any) -> Tensor:
        """Voxel logits.

        Shapes:
            volumes: ``{m: (B, 1, S, S, S)}`` -> ``(B, K, S, S, S)``.
        """
        assert volumes is not None
        return self.net(torch.cat([volumes[m] for m in self.modalities], dim=1))
