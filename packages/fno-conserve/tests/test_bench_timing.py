"""The bench's CPU-time ratio: both sides timed equally often, in alternating order."""

from fno_conserve._experiments.bench import _cpu_ratio


def test_cpu_ratio_interleaves_the_two_sides():
    calls: list[str] = []
    out = _cpu_ratio(lambda: calls.append("a"), lambda: calls.append("b"), rounds=4, calls=2)
    warm, timed = calls[:2], calls[2:]
    assert warm == ["a", "b"]
    assert timed == ["a", "a", "b", "b", "b", "b", "a", "a"] * 2
    assert out["rounds"] == 4 and out["calls"] == 2
