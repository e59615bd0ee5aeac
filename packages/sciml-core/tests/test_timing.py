from __future__ import annotations

import os
import sys
import warnings

import pytest

import sciml_core._timing as timing
from sciml_core import Comparison, InputError, compare_timing, format_comparisons
from sciml_core._backend import thread_count


class FakeClock:
    """A clock that only moves when the timed callables say so."""

    def __init__(self) -> None:
        self.t = 0.0
        self.calls: list[str] = []

    def __call__(self) -> float:
        return self.t

    def work(self, name: str, costs: list[float]):
        costs = list(costs)

        def run() -> None:
            self.calls.append(name)
            self.t += costs.pop(0) if len(costs) > 1 else costs[0]

        return run


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(timing, "_now", fake)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    return fake


def test_speedup_is_peer_over_ours_from_medians(clock: FakeClock) -> None:
    # warm-up calls cost 100 (must not count); timed costs have outliers the median ignores
    ours = clock.work("A", [100, 100, 1, 1, 50, 1, 1])
    peer = clock.work("B", [100, 100, 3, 3, 3, 900, 3])
    c = compare_timing(ours, peer, repeats=5, warmup=2, label="demo")
    assert (c.t_ours, c.t_peer) == (1, 3)
    assert c.speedup == 3.0
    assert (c.label, c.repeats, c.device, c.loaded) == ("demo", 5, "cpu", False)
    assert c.load_avg == 0.0
    assert c.threads == thread_count() >= 1


def test_calls_alternate_after_warm_up(clock: FakeClock) -> None:
    compare_timing(clock.work("A", [1]), clock.work("B", [1]), repeats=4, warmup=2)
    warm_up, timed = ["A", "B", "A", "B"], ["A", "B", "B", "A", "A", "B", "B", "A"]
    assert clock.calls == [*warm_up, *timed]


def test_no_warm_up_and_one_repeat(clock: FakeClock) -> None:
    c = compare_timing(clock.work("A", [2]), clock.work("B", [1]), repeats=1, warmup=0)
    assert clock.calls == ["A", "B"]
    assert c.speedup == 0.5  # the peer is faster: speedup below 1


def test_zero_time_gives_infinite_speedup(clock: FakeClock) -> None:
    c = compare_timing(lambda: None, clock.work("B", [1]), repeats=3, warmup=0)
    assert c.t_ours == 0 and c.speedup == float("inf")


def test_loaded_machine_warns_and_is_recorded(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpus = os.cpu_count() or 1
    monkeypatch.setattr(os, "getloadavg", lambda: (cpus * 0.8, 0.0, 0.0))
    with pytest.warns(RuntimeWarning, match="machine is loaded"):
        c = compare_timing(clock.work("A", [1]), clock.work("B", [1]), repeats=1, label="x")
    assert c.loaded and c.load_avg == pytest.approx(cpus * 0.8)
    assert "machine loaded" in format_comparisons([c])


def test_just_below_the_threshold_is_not_loaded(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpus = os.cpu_count() or 1
    monkeypatch.setattr(os, "getloadavg", lambda: (cpus * 0.7, 0.0, 0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = compare_timing(clock.work("A", [1]), clock.work("B", [1]), repeats=1)
    assert not c.loaded


@pytest.mark.parametrize("as_object", [False, True])
def test_cuda_device_synchronises_around_every_timed_call(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch, as_object: bool
) -> None:
    torch = pytest.importorskip("torch")
    synced: list[object] = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda dev=None: synced.append(dev))
    device = torch.device("cuda:0") if as_object else "cuda:0"
    c = compare_timing(
        clock.work("A", [1]), clock.work("B", [2]), repeats=3, warmup=1, device=device
    )
    assert c.device == "cuda:0"
    assert len(synced) == 1 + 2 * 2 * 3  # after warm-up, then before and after each timed call
    assert all(str(d) == "cuda:0" for d in synced)


def test_cpu_device_never_synchronises(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "synchronize", lambda dev=None: pytest.fail("synced"))
    compare_timing(clock.work("A", [1]), clock.work("B", [1]), repeats=2, device="cpu")


def test_threads_follow_torch_then_omp_then_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not imported
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert thread_count() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "junk")
    assert thread_count() == (os.cpu_count() or 1)
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert thread_count() == (os.cpu_count() or 1)


def test_threads_of_torch_when_imported() -> None:
    torch = pytest.importorskip("torch")
    assert thread_count() == torch.get_num_threads()


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((), {"repeats": 0}, ValueError, "repeats must be an int >= 1"),
        ((), {"repeats": 2.5}, TypeError, "repeats must be an int >= 1"),
        ((), {"repeats": True}, TypeError, "repeats must be an int >= 1"),
        ((), {"warmup": -1}, ValueError, "warmup must be an int >= 0"),
        ((1,), {}, TypeError, "callables"),
    ],
    ids=["repeats-0", "repeats-float", "repeats-bool", "warmup-negative", "not-callable"],
)
def test_a_bench_harness_mistake_is_a_bug_not_bad_input(
    args: tuple[object, ...], kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    ours, peer = (*args, lambda: None, lambda: None)[:2]
    with pytest.raises(error, match=match) as info:
        compare_timing(ours, peer, **kwargs)  # type: ignore[arg-type]
    assert not isinstance(info.value, InputError)


def test_row_has_every_field() -> None:
    c = Comparison("a", 1.0, 2.0, 2.0, 7, 1, 0.5, "cpu", False)
    assert c.row() == {
        "label": "a",
        "t_ours": 1.0,
        "t_peer": 2.0,
        "speedup": 2.0,
        "repeats": 7,
        "threads": 1,
        "load_avg": 0.5,
        "device": "cpu",
        "loaded": False,
    }


def test_format_marks_loaded_rows() -> None:
    rows = [
        Comparison("small", 0.001, 0.002, 2.0, 7, 1, 0.5, "cpu", False),
        Comparison("large input", 0.01, 0.005, 0.5, 7, 1, 3.0, "cpu", True),
    ]
    text = format_comparisons(rows)
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["label", "device"]
    assert "2.00x" in lines[1] and "0.50x" in lines[2]
    assert lines[2].startswith("large input *")
    assert lines[-1].startswith("* machine loaded")
    assert len(lines[0]) == len(lines[1]) == len(lines[2])  # right-aligned last column
    assert "machine loaded" not in format_comparisons(rows[:1])
