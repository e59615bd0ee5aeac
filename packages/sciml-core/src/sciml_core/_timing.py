"""Side-by-side timing of our implementation against a peer library."""

from __future__ import annotations

import os
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ._backend import thread_count
from ._errors import require_extra

__all__ = ["Comparison", "compare_timing", "format_comparisons"]

_now = time.perf_counter  # module attribute, so tests can substitute a fake clock

_LOADED_FRACTION = 0.75


@dataclass(frozen=True)
class Comparison:
    """One benchmark row: median times of ours and the peer, and the conditions of the run.

    Attributes:
        label: What was timed.
        t_ours: Median seconds per call of our implementation.
        t_peer: Median seconds per call of the peer.
        speedup: ``t_peer / t_ours`` (higher is better for us).
        repeats: Timed calls of each.
        threads: Intra-op threads (torch's if imported, else ``OMP_NUM_THREADS`` or CPU count).
        load_avg: 1-minute load average before timing (NaN where the OS has none).
        device: Device the callables ran on, e.g. ``"cpu"`` or ``"cuda:0"``.
        loaded: True when ``load_avg > 0.75 * cpu_count``: the times are then unreliable.
    """

    label: str
    t_ours: float
    t_peer: float
    speedup: float
    repeats: int
    threads: int
    load_avg: float
    device: str
    loaded: bool

    def row(self) -> dict[str, Any]:
        """The fields as a dict (a row for :meth:`sciml_core.Result.add_table`)."""
        return asdict(self)


def _load_average() -> float:
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return float("nan")


def _synchronizer(device: Any) -> Callable[[], None]:
    name = "" if device is None else str(device)
    if not name.startswith("cuda"):
        return lambda: None
    torch = require_extra("torch", extra="torch", package="sciml-core")
    dev = torch.device(name)
    return lambda: torch.cuda.synchronize(dev)


def compare_timing(
    ours: Callable[[], Any],
    peer: Callable[[], Any],
    *,
    repeats: int = 7,
    warmup: int = 2,
    device: Any = None,
    label: str = "",
) -> Comparison:
    """Time two zero-argument callables side by side and report ``speedup = t_peer / t_ours``.

    Both run ``warmup`` times first (untimed), then ``repeats`` rounds alternate them, swapping
    which goes first each round (A B, B A, ...), so slow drifts of the machine (thermal, other
    users) hit both alike. Each timed call is bracketed by ``torch.cuda.synchronize`` when
    ``device`` is CUDA. Times are medians. The 1-minute load average is read before timing; above
    ``0.75 * cpu_count`` the row is marked ``loaded`` and a ``RuntimeWarning`` is issued.

    Args:
        ours: Our implementation, called with no arguments.
        peer: The peer's implementation on the same inputs.
        repeats: Timed calls of each (>= 1).
        warmup: Untimed calls of each before timing (>= 0).
        device: Device the work runs on (string or ``torch.device``); None means ``"cpu"``.
        label: Row label.

    Returns:
        A :class:`Comparison`.

    Raises:
        TypeError: ``ours`` or ``peer`` is not callable, ``repeats`` or ``warmup`` not an int.
        ValueError: ``repeats < 1`` or ``warmup < 0``. These arguments come from a bench's own
            code, not from a user, so a mistake keeps its traceback (no ``InputError``).

    Examples:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", RuntimeWarning)  # a busy machine only warns
        ...     c = compare_timing(lambda: sum(range(100)), lambda: sum(range(1000)), repeats=3)
        >>> c.repeats, c.device, c.speedup == c.t_peer / c.t_ours
        (3, 'cpu', True)
    """
    if not callable(ours) or not callable(peer):
        raise TypeError("ours and peer must be zero-argument callables")
    for name, value, least in (("repeats", repeats, 1), ("warmup", warmup, 0)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int >= {least}; got {value!r}")
        if value < least:
            raise ValueError(f"{name} must be an int >= {least}; got {value!r}")
    sync = _synchronizer(device)
    load = _load_average()
    cpus = os.cpu_count() or 1
    loaded = load > _LOADED_FRACTION * cpus
    if loaded:
        warnings.warn(
            f"machine is loaded (1-min load average {load:.2f} on {cpus} CPUs); "
            f"timings of {label or 'this comparison'} are unreliable",
            RuntimeWarning,
            stacklevel=2,
        )

    def timed(fn: Callable[[], Any]) -> float:
        sync()
        start = _now()
        fn()
        sync()
        return _now() - start

    for _ in range(warmup):
        ours()
        peer()
    sync()
    t_a: list[float] = []
    t_b: list[float] = []
    for r in range(repeats):
        if r % 2 == 0:
            t_a.append(timed(ours))
            t_b.append(timed(peer))
        else:
            t_b.append(timed(peer))
            t_a.append(timed(ours))
    t_ours = statistics.median(t_a)
    t_peer = statistics.median(t_b)
    speedup = t_peer / t_ours if t_ours > 0 else float("inf")
    return Comparison(
        label=label,
        t_ours=t_ours,
        t_peer=t_peer,
        speedup=speedup,
        repeats=repeats,
        threads=thread_count(),
        load_avg=load,
        device="cpu" if device is None else str(device),
        loaded=loaded,
    )


def format_comparisons(comparisons: Sequence[Comparison]) -> str:
    """Render comparisons as an aligned text table; loaded rows are starred and footnoted.

    Args:
        comparisons: Rows from :func:`compare_timing`.

    Returns:
        The table (no trailing newline).

    Examples:
        >>> c = Comparison("fft 256", 0.001, 0.003, 3.0, 7, 1, 0.2, "cpu", False)
        >>> print(format_comparisons([c]))
        label    device  threads  load  t_ours [ms]  t_peer [ms]  speedup
        fft 256  cpu           1  0.20        1.000        3.000    3.00x
    """
    header = ["label", "device", "threads", "load", "t_ours [ms]", "t_peer [ms]", "speedup"]
    body = [
        [
            c.label + (" *" if c.loaded else ""),
            c.device,
            str(c.threads),
            f"{c.load_avg:.2f}",
            f"{1e3 * c.t_ours:.3f}",
            f"{1e3 * c.t_peer:.3f}",
            f"{c.speedup:.2f}x",
        ]
        for c in comparisons
    ]
    widths = [max(len(r[j]) for r in [header, *body]) for j in range(len(header))]
    left = {0, 1}

    def fmt(r: list[str]) -> str:
        cells = [r[j].ljust(w) if j in left else r[j].rjust(w) for j, w in enumerate(widths)]
        return "  ".join(cells).rstrip()

    lines = [fmt(header), *(fmt(r) for r in body)]
    if any(c.loaded for c in comparisons):
        lines.append("* machine loaded while timing (load average > 0.75 x CPUs): unreliable")
    return "\n".join(lines)
