"""Structural claims: zero-initialised adapters equal the frozen model; trainable fractions."""

from __future__ import annotations

import torch

from .._hyda import FullFineTune, HyDA, Probe, SiteOracle, StaticAdapter, count_trainable
from .._sam3d import ViT3DTaps, build_image_encoder
from .._synthetic import synthetic_brains
from .._train import to_subjects
from .context import Context

MODS = ["T1", "FLAIR"]


def _vit_counts() -> dict[str, int]:
    """Trainable parameters of HyDA's two fusion forms and fine-tuning on ``vit_b_ori``."""
    with torch.device("meta"):
        enc = build_image_encoder("vit_b_ori")
        taps = ViT3DTaps(enc, (3, 6, 9, 12))
        full = HyDA(taps, MODS, num_classes=2, upsample=4, fusion_form="full")
        channel = HyDA(taps, MODS, num_classes=2, upsample=4, fusion_form="channel")
        probe = Probe(taps, MODS, num_classes=2, upsample=4)
        total = sum(p.numel() for p in enc.parameters())
    # full fine-tuning: the whole encoder plus what the probe trains (static fusion, up-path, head)
    return {
        "full": count_trainable(full),
        "channel": count_trainable(channel),
        "finetune": total + count_trainable(probe),
    }


def run(ctx: Context) -> None:
    """Measure the zero-init gap and the trainable counts; add the two quick claims."""
    net = ctx.store["backbone"]
    data = to_subjects(synthetic_brains(3, size=ctx.config.size, seed=ctx.seed, start=900))
    kw = {"decoder": net.decoder, "num_classes": 2, "basis_noise": 0.0}
    hyda = HyDA(net.encoder, MODS, **kw).eval()
    static = StaticAdapter(net.encoder, MODS, at_least=count_trainable(hyda), **kw).eval()
    probe = Probe(net.encoder, MODS, **kw).eval()
    with torch.no_grad():
        feats = [net.encoder(data.volumes[m]) for m in MODS]
        ref = probe.head(net.decoder([(a + b) / 2 for a, b in zip(*feats)]))
        gaps = {
            name: float((m(data.volumes) - ref).abs().max())
            for name, m in (("hyda", hyda), ("static", static), ("probe", probe))
        }
    worst = max(gaps.values())
    ctx.result.add_claim(
        "zero_init_equals_frozen_model",
        expected="HyDA and the static adapter at step 0 (basis noise 0) equal the frozen model "
        "with mean fusion to 1e-6",
        observed=f"max |difference|: hyda {gaps['hyda']:.2e}, static {gaps['static']:.2e}, "
        f"probe {gaps['probe']:.2e}",
        holds=worst <= 1e-6,
    )
    counts = {
        "hyda": count_trainable(HyDA(net.encoder, MODS, decoder=net.decoder, num_classes=2)),
        "hyda_residual": count_trainable(
            HyDA(
                net.encoder,
                MODS,
                decoder=net.decoder,
                num_classes=2,
                fusion="static",
                residual="dynamic",
            )
        ),
        "static": count_trainable(static),
        "probe": count_trainable(probe),
        "oracle": count_trainable(
            SiteOracle(net.encoder, MODS, 2, decoder=net.decoder, num_classes=2)
        ),
        "finetune": count_trainable(
            FullFineTune(net.encoder, MODS, decoder=net.decoder, num_classes=2)
        ),
    }
    vit = _vit_counts()
    rows = [[name, n, round(n / counts["finetune"], 4)] for name, n in counts.items()]
    rows += [[f"vit_b_ori {k}", n, None] for k, n in vit.items()]
    ctx.result.add_table(
        "trainable_parameters",
        "Trainable parameters (TinyUNet backbone, two modalities; vit_b_ori rows: HyDA with "
        "each fusion form at taps 3, 6, 9, 12 and full fine-tuning)",
        ["model", "trainable", "fraction of finetune"],
        rows,
    )
    frac = counts["hyda"] / counts["finetune"]
    ctx.values["fraction", "hyda"] = frac
    ctx.result.add_claim(
        "hyda_trainable_fraction",
        expected="trainable(hyda) <= 0.4 x trainable(finetune) on TinyUNet",
        observed=f"{counts['hyda']:,} / {counts['finetune']:,} = {frac:.3f}; vit_b_ori: HyDA "
        f"full-form {vit['full']:,}, channel-form {vit['channel']:,}, finetune {vit['finetune']:,}",
        holds=frac <= 0.4,
    )


def routing_at_init(ctx: Context) -> None:
    """How sharply HyDA routes patients at step 0 (the spec prototype's suspected failure).

    For 8 training patients (the bank) and ``a_std`` / ``τ`` settings, the mean entropy of
    ``α`` (``ln 4 = 1.386`` nats is uniform over 4 bases) and, per basis, the effective number of
    patients whose gradient reaches it, ``(Σ_p α_pb)² / Σ_p α_pb²`` (Kish), averaged over bases.
    A near one-hot routing splits 8 patients' data among the bases before training has seen any
    label: each basis then learns from about 2 patients where the static adapter learns from 8.
    """
    net = ctx.store["backbone"]
    data = to_subjects(synthetic_brains(8, size=ctx.config.size, seed=ctx.seed))
    rows = []
    for a_std, tau, label in (
        (1.0, 1.0, "spec prototype (a_std 1, tau 1)"),
        (1.0, 4.0, "package default at step 0 (a_std 1, tau0 4)"),
        (0.02, 1.0, "prototype's inert setting (a_std 0.02)"),
    ):
        model = HyDA(
            net.encoder, MODS, decoder=net.decoder, num_classes=2, a_std=a_std, tau0=tau
        ).eval()
        with torch.no_grad():
            feats = model.encode(data.volumes)
            model.update_bank(feats)
            g = model.patient_embedding(feats, torch.arange(8))
            alpha = model.routing(g)
        ent = float(-(alpha * alpha.clamp_min(1e-12).log()).sum(1).mean())
        kish = (alpha.sum(0) ** 2 / (alpha**2).sum(0).clamp_min(1e-12)).mean()
        ctx.values["routing", a_std, tau] = ent
        rows.append([label, a_std, tau, round(ent, 3), round(float(kish), 2)])
    ctx.result.add_table(
        "routing_at_init",
        "HyDA's routing at step 0 on 8 training patients: mean alpha entropy (uniform = 1.386 "
        "nats) and effective patients per basis (Kish; 8 = every basis sees every patient)",
        ["setting", "a_std", "tau", "alpha entropy", "patients per basis"],
        rows,
    )
