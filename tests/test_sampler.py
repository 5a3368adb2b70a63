"""Metric series stay bounded: points merge pairwise and the interval grows."""

from __future__ import annotations

from trainjobs.executors.sampler import SERIES, Series


def test_series_caps_its_length_and_doubles_the_interval() -> None:
    series = Series(base_period_s=1.0, max_points=8)
    for i in range(100):
        series.add({"cpuUsage": float(i)}, dt_s=1.0)
    wire = series.to_wire()
    lengths = {len(wire[k]) for k in SERIES}  # type: ignore[arg-type]
    assert len(lengths) == 1 and 4 <= lengths.pop() <= 8
    assert wire["interval"] > 1 / 60  # minutes; grew from one second
    cpu = [float(v) for v in wire["cpuUsage"]]  # type: ignore[union-attr]
    assert cpu == sorted(cpu)  # merged points keep their order
    assert abs(sum(cpu) / len(cpu) - 49.5) < 12  # averages, not samples dropped


def test_points_are_decimal_strings_with_two_decimals() -> None:
    series = Series(base_period_s=1.0)
    series.add({"memUsage": 1.23456}, dt_s=1.0)
    wire = series.to_wire()
    assert wire["memUsage"] == ["1.23"] and wire["cpuUsage"] == ["0.00"]
    assert wire["interval"] == round(1 / 60, 4)
