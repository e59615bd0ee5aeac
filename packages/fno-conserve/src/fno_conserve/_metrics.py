"""Conservation error of a field: absolute, relative to the float floor's scale, and cRMSE."""

from __future__ import annotations

from typing import Any

import torch

from ._constraints import Constraints, as_constraint_list


def conservation_error(
    u: torch.Tensor,
    x: torch.Tensor | None,
    constraints: Constraints,
    *,
    compute_dtype: torch.dtype = torch.float64,
) -> dict[str, Any]:
    r"""Residuals of every law for a batch of fields.

    ``absolute``: :math:`|C_j u - b_j|` (``(B, rows)``); ``relative``: the absolute residual divided
    by :math:`\sum_i |w_i \phi_j u_i| + |b_j|` (linear) or :math:`Q(u) + c` (quadratic), the scale
    at which a floating-point cast limits exactness (so an exact method sits at a few ``eps`` of
    its dtype); ``crmse``: root mean square of :math:`(C_j u - b_j)/|\Omega|` (the error of the
    conserved mean, as PDEBench's cRMSE measures it). Summaries ``max_abs``, ``mean_abs``,
    ``max_rel``, ``mean_rel`` are floats. Residuals are evaluated in ``compute_dtype``.

    Examples:
        >>> from fno_conserve import LinearConstraint
        >>> x = torch.zeros(2, 1, 4)
        >>> conservation_error(x + 1.0, x, LinearConstraint.mass())["max_abs"]
        1.0
    """
    laws = as_constraint_list(constraints)
    uc = u.detach().to(compute_dtype)
    xc = x.detach().to(compute_dtype) if isinstance(x, torch.Tensor) else x
    abs_parts, rel_parts, mean_parts = [], [], []
    for law in laws:
        r = law.residual(uc, xc).abs()
        abs_parts.append(r)
        rel_parts.append(r / law.scale(uc, xc).clamp_min(torch.finfo(compute_dtype).tiny))
        w = law.weights(tuple(uc.shape[2:]), dtype=compute_dtype, device=uc.device)
        mean_parts.append(r / w.sum())
    a, rel, mean = torch.cat(abs_parts, 1), torch.cat(rel_parts, 1), torch.cat(mean_parts, 1)
    return {
        "absolute": a,
        "relative": rel,
        "crmse": float(torch.sqrt((mean**2).mean())),
        "max_abs": float(a.max()),
        "mean_abs": float(a.mean()),
        "max_rel": float(rel.max()),
        "mean_rel": float(rel.mean()),
    }
