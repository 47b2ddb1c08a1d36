"""User-typed quantities."""

from __future__ import annotations

import pytest

from gait.units import parse_duration_s, parse_load_kg, parse_speed_mps


@pytest.mark.parametrize(("text", "value"), [("90s", 90), ("2m", 120), ("1h", 3600), ("1h30m", 5400), ("45", 45)])
def test_duration(text, value):
    assert parse_duration_s(text) == pytest.approx(value)


@pytest.mark.parametrize(("text", "value"), [("1kg", 1.0), ("500g", 0.5), ("2lb", 0.907185), ("1.5", 1.5)])
def test_load(text, value):
    assert parse_load_kg(text) == pytest.approx(value, rel=1e-5)


@pytest.mark.parametrize(("text", "value"), [("3.3", 3.3), ("12km/h", 3.3333), ("5:00/km", 3.3333)])
def test_speed(text, value):
    assert parse_speed_mps(text) == pytest.approx(value, rel=1e-4)


@pytest.mark.parametrize(
    ("fn", "text"), [(parse_duration_s, "soon"), (parse_load_kg, "heavy"), (parse_load_kg, "5 stones"),
                     (parse_speed_mps, "fast")]
)
def test_bad_input_says_how_to_write_it(fn, text):
    with pytest.raises(ValueError, match="e.g."):
        fn(text)


def test_implausible_load_is_refused():
    with pytest.raises(ValueError, match="outside 0-10 kg"):
        parse_load_kg("50kg")
