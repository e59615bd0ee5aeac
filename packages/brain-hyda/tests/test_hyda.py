import copy

import pytest
import torch
import torch.nn.functional as F
from brain_hyda import (
    BasisRouter,
    DynamicFusion,
    HyDA,
    Probe,
    SiteOracle,
    StaticAdapter,
    count_trainable,
    dynamic_depthwise_conv3d,
)

from sciml_core import InputError

MODS = ["T1", "FLAIR"]


def _frozen_mean_model(unet, volumes, head):
    feats = [unet.encoder(volumes[m]) for m in MODS]
    fused = [(a + b) / 2 for a, b in zip(*feats)]
    return head(unet.decoder(fused))


def _make(kind, unet, **kw):
    common = dict(decoder=unet.decoder, num_classes=2, **{"basis_noise": 0.0, **kw})
    if kind == "hyda":
        return HyDA(unet.encoder, MODS, **common)
    if kind == "hyda_residual":
        return HyDA(unet.encoder, MODS, residual="dynamic", **common)
    if kind == "hyda_channel":
        return HyDA(unet.encoder, MODS, fusion_form="channel", **common)
    if kind == "static":
        return StaticAdapter(unet.encoder, MODS, at_least=50_000, **common)
    if kind == "oracle":
        return SiteOracle(unet.encoder, MODS, 2, **common)
    return Probe(unet.encoder, MODS, **common)


@pytest.mark.parametrize(
    "kind", ["hyda", "hyda_residual", "hyda_channel", "static", "oracle", "probe"]
)
def test_zero_init_equals_frozen_model(kind, unet, volumes):
    model = _make(kind, unet).eval()
    with torch.no_grad():
        out = model(volumes, groups=torch.tensor([0, 1, 0]))
        ref = _frozen_mean_model(unet, volumes, model.head)
    assert torch.allclose(out, ref, atol=1e-6)


def test_hyda_kernels_differ_per_patient(unet):
    model = HyDA(unet.encoder, MODS, decoder=unet.decoder, num_classes=2, a_std=1.0)
    g = torch.randn(3, 16, generator=torch.Generator().manual_seed(0))
    g[2] = g[0]
    alpha = model.routing(g)
    assert torch.allclose(alpha.sum(1), torch.ones(3))
    assert (alpha[0] - alpha[1]).abs().sum() >= 0.05
    assert torch.equal(alpha[0], alpha[2])
    kernels = model.fusions[0].kernels(alpha)
    assert not torch.allclose(kernels[0], kernels[1])
    assert torch.equal(kernels[0], kernels[2])


def test_patient_embedding_changes_the_output(unet, volumes):
    torch.manual_seed(0)
    model = HyDA(
        unet.encoder, MODS, decoder=unet.decoder, num_classes=2, basis_noise=0.3, graph="patient"
    ).eval()
    with torch.no_grad():
        own = model(volumes)
        g = model.patient_embedding(model.encode(volumes))
        swapped = model(volumes, embedding=g[[1, 2, 0]])
    assert not torch.allclose(own, swapped, atol=1e-4)


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-6), (torch.float64, 1e-12)])
def test_grouped_call_equals_a_per_patient_loop(dtype, tol):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 6, 5, 7, generator=g, dtype=dtype)
    k = torch.randn(3, 4, 3, 3, 3, generator=g, dtype=dtype)
    loop = torch.stack(
        [F.conv3d(x[b : b + 1], k[b][:, None], padding=1, groups=4)[0] for b in range(3)]
    )
    assert torch.allclose(dynamic_depthwise_conv3d(x, k), loop, atol=tol, rtol=0)


def test_centred_delta_kernel_is_the_identity():
    x = torch.randn(2, 3, 4, 4, 4)
    k = torch.zeros(2, 3, 3, 3, 3)
    k[..., 1, 1, 1] = 1
    assert torch.equal(dynamic_depthwise_conv3d(x, k), x)


def test_router_rows_lie_on_the_simplex():
    alpha = BasisRouter(8, 5, a_std=1.0, tau=4.0)(torch.randn(6, 8))
    assert (alpha >= 0).all() and torch.allclose(alpha.sum(1), torch.ones(6))


@pytest.mark.parametrize("form", ["full", "channel"])
def test_fusion_starts_at_the_modality_mean_for_any_routing(form):
    fusion = DynamicFusion(4, 3, n_basis=5, form=form, basis_noise=0.0)
    maps = [torch.randn(2, 4, 3, 3, 3) for _ in range(3)]
    alpha = torch.softmax(torch.randn(2, 5), 1)
    assert torch.allclose(fusion(maps, alpha), sum(maps) / 3, atol=1e-6)


@pytest.mark.parametrize("kind", ["hyda", "hyda_residual", "static"])
def test_gradients_flow_only_to_the_adapter(kind, volumes):
    from brain_hyda import TinyUNet

    torch.manual_seed(0)
    net = TinyUNet(1, 5)
    before = copy.deepcopy(net.state_dict())
    model = _make(kind, net)
    for module in model.fusions:
        module.bases.data += 0.01 * torch.randn_like(module.bases)  # leave the exact mean
    if model.residuals is not None:
        for r in model.residuals:
            r.gamma.data += 0.1
    opt = torch.optim.AdamW(model.trainable_parameters(), lr=1e-2)
    target = (volumes["T1"][:, 0] > 1).long()
    for _ in range(2):
        model.train()
        loss = F.cross_entropy(model(volumes), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for p in net.parameters():
        assert p.grad is None
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    zero = [
        n
        for n, p in model.named_parameters()
        if p.requires_grad and (p.grad is None or p.grad.abs().sum() == 0)
    ]
    assert zero == []


@pytest.mark.parametrize("graph,changes", [("patient", False), ("batch", True), ("static", False)])
def test_static_adapter_ignores_other_patients(graph, changes, unet, volumes):
    torch.manual_seed(0)
    if graph == "static":
        model = _make("static", unet)
    else:
        model = HyDA(
            unet.encoder, MODS, decoder=unet.decoder, num_classes=2, graph=graph, basis_noise=0.3
        )
        bank = {
            m: torch.randn(4, 1, 16, 16, 16, generator=torch.Generator().manual_seed(5))
            for m in MODS
        }
        model.update_bank(
            model.encode(bank)
        )  # "batch" ignores the bank; "patient" takes its statistics
    model.eval()
    other = {m: v.clone() for m, v in volumes.items()}
    other["T1"][1:] = torch.randn_like(other["T1"][1:]) * 3
    with torch.no_grad():
        a, b = model(volumes)[0], model(other)[0]
    assert (not torch.allclose(a, b, atol=1e-5)) == changes


def test_batch_graph_needs_two_patients(unet, volumes):
    model = HyDA(unet.encoder, MODS, decoder=unet.decoder, num_classes=2, graph="batch")
    with pytest.raises(InputError, match="graph"):
        model({m: v[:1] for m, v in volumes.items()})


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"k": 0}, "k"),
        ({"n_basis": 0}, "n_basis"),
        ({"graph": "all"}, "graph"),
        ({"fusion_form": "x"}, "fusion_form"),
    ],
)
def test_bad_options_name_the_argument(kwargs, match, unet):
    with pytest.raises(InputError, match=match):
        HyDA(unet.encoder, MODS, decoder=unet.decoder, num_classes=2, **kwargs)


@pytest.mark.parametrize(
    "change,match",
    [
        (lambda v: {"T1": v["T1"]}, "^volumes: missing modality 'FLAIR'"),
        (lambda v: {**v, "T2": v["T1"]}, "unknown modality 'T2'"),
        (lambda v: {"T1": v["T1"], "FLAIR": v["FLAIR"][..., :8]}, "differ in shape"),
    ],
)
def test_bad_volumes_are_refused(change, match, unet, volumes):
    model = HyDA(unet.encoder, MODS, decoder=unet.decoder, num_classes=2)
    with pytest.raises(InputError, match=match):
        model(change(volumes))


def test_duplicate_modality_is_refused(unet):
    with pytest.raises(InputError, match="distinct"):
        HyDA(unet.encoder, ["T1", "T1"], decoder=unet.decoder, num_classes=2)


def test_static_adapter_is_parameter_matched(unet):
    hyda = HyDA(unet.encoder, MODS, decoder=unet.decoder, num_classes=2)
    static = StaticAdapter(
        unet.encoder, MODS, decoder=unet.decoder, num_classes=2, at_least=count_trainable(hyda)
    )
    assert count_trainable(static) >= count_trainable(hyda)


def test_classification_head_gives_patient_logits(unet, volumes):
    model = HyDA(unet.encoder, MODS, decoder=unet.decoder, num_classes=2, task="classification")
    assert tuple(model(volumes).shape) == (3, 2)


def test_a_complete_hypergraph_gives_every_patient_the_same_embedding(unet, volumes):
    # k >= V: every hyperedge holds every patient, mean propagation averages them all away
    model = HyDA(unet.encoder, MODS, decoder=unet.decoder, num_classes=2, graph="batch", k=3)
    g = model.patient_embedding(model.encode(volumes))
    assert torch.allclose(g, torch.zeros_like(g))
    model.k = 1
    assert model.patient_embedding(model.encode(volumes)).abs().max() > 0.5


@pytest.mark.parametrize("kind", ["hyda", "hyda_residual", "static", "oracle", "probe"])
def test_missing_zero_equals_zeros_masked_out_of_the_fusion(kind, unet, volumes):
    model = _make(kind, unet, basis_noise=0.01, missing="zero").eval()
    groups = torch.tensor([0, 1, 0])
    mask = torch.tensor([[True, False]] * 3)
    with torch.no_grad():
        out = model({"T1": volumes["T1"]}, groups=groups)
        zeros = {"T1": volumes["T1"], "FLAIR": torch.zeros_like(volumes["FLAIR"])}
        ref = model(zeros, groups=groups, present=mask)
        unmasked = model(zeros, groups=groups)
    assert torch.allclose(out, ref, atol=1e-6)
    assert not torch.allclose(out, unmasked, atol=1e-4)  # the mask is what makes them equal


@pytest.mark.parametrize("kind", ["hyda", "static", "probe"])
def test_a_masked_modality_does_not_reach_the_output(kind, unet, volumes):
    model = _make(kind, unet, basis_noise=0.01).eval()
    mask = torch.tensor([[True, False]] * 3)
    other = {**volumes, "FLAIR": torch.randn_like(volumes["FLAIR"])}
    with torch.no_grad():
        a = model(volumes, present=mask)
        b = model(other, present=mask)
        unmasked = model(volumes), model(other)
    assert torch.allclose(a, b, atol=1e-6)
    assert not torch.allclose(*unmasked, atol=1e-4)


def test_missing_zero_at_init_is_the_frozen_model_on_the_present_modality(unet, volumes):
    model = _make("probe", unet, missing="zero").eval()
    with torch.no_grad():
        out = model({"FLAIR": volumes["FLAIR"]})
        ref = model.head(unet.decoder(unet.encoder(volumes["FLAIR"])))
    assert torch.allclose(out, ref, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs,volumes_of,match",
    [
        ({"missing": "drop"}, None, "missing"),
        ({"missing": "zero"}, lambda v: {}, "^volumes: missing modality 'T1'"),
        ({"missing": "error"}, lambda v: {"FLAIR": v["FLAIR"]}, "^volumes: missing modality 'T1'"),
    ],
)
def test_missing_modalities_are_refused_by_name(kwargs, volumes_of, match, unet, volumes):
    with pytest.raises(InputError, match=match):
        model = HyDA(unet.encoder, MODS, decoder=unet.decoder, num_classes=2, **kwargs)
        model(volumes_of(volumes))


@pytest.mark.parametrize(
    "present,match",
    [
        (torch.tensor([[True, False]] * 2), "present: expected shape"),
        (torch.tensor([[True, False], [False, False], [True, True]]), "at least one"),
    ],
)
def test_bad_presence_masks_are_refused(present, match, unet, volumes):
    model = _make("probe", unet)
    with pytest.raises(InputError, match=match):
        model(volumes, present=present)
