"""Export a lipres model to plain ``torch.nn`` layers (spec §5.4).

Every map becomes ``nn.Linear``/``nn.Conv2d`` with its constrained weights folded in; every
gradient block ``x - h W^T σ(Wx + b)`` becomes the residual ``x + Linear_out(σ(Linear_in(x)))``
with ``Linear_out.weight = -h W^T``, ``h`` re-capped with the exact norm. The result is a
``torch.fx.GraphModule`` whose submodules are ``torch.nn`` layers and whose graph only adds:
it runs, saves (``torch.save``) and loads without lipres installed.
"""

from __future__ import annotations

import operator

from torch import fx, nn

from sciml_core import InputError

__all__ = ["export"]


def _stages(model: nn.Module) -> list[tuple[str, nn.Module]]:
    named = getattr(model, "named_maps", None)
    maps = list(named()) if callable(named) else [("", model)]
    stages: list[tuple[str, nn.Module]] = []
    for name, module in maps:
        fn = getattr(module, "export_stages", None)
        if not callable(fn):
            raise InputError(
                f"export: {name or 'model'} ({type(module).__name__}) is not a lipres layer"
            )
        stages += fn()
    return stages


def export(model: nn.Module) -> fx.GraphModule:
    """A ``torch.fx.GraphModule`` of plain ``torch.nn`` layers computing the same function.

    Step sizes are those of a certified forward: the applied step of a ``norm="verified"`` or
    ``"exact"`` model (capped with a proven bound), and for ``norm="power"`` the step re-capped
    with the exact norm (so a model whose estimate lags is exported with the certified step; call
    :func:`~lipres.refresh_norms_` first to make the model itself agree).

    Args:
        model: a lipres network or layer.

    Returns:
        The exported module (in eval mode, on the model's device and dtype).

    Examples:
        >>> import torch
        >>> from lipres import LipResNet
        >>> net = LipResNet(2, 6, 2, architecture="fixed-width").double()
        >>> x = torch.randn(10, 2, dtype=torch.float64)
        >>> plain = export(net)
        >>> bool(torch.allclose(plain(x), net(x), atol=1e-12))
        True
    """
    stages = _stages(model)
    root = nn.Module()
    graph = fx.Graph()
    node = graph.placeholder("x")
    for i, (kind, module) in enumerate(stages):
        name = f"s{i}"
        root.add_module(name, module)
        out = graph.call_module(name, (node,))
        node = graph.call_function(operator.add, (node, out)) if kind == "residual" else out
    graph.output(node)
    gm = fx.GraphModule(root, graph, class_name="LipschitzExport")
    try:
        param = next(model.parameters())
        gm = gm.to(device=param.device, dtype=param.dtype)
    except StopIteration:
        pass
    return gm.eval()
