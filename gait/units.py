"""Parsing of user-typed quantities (``2m``, ``90s``, ``1kg``, ``2lb``) into SI numbers with clear errors."""

from __future__ import annotations

import re

_LB_KG = 0.45359237
_NUM = r"\s*([0-9]*\.?[0-9]+)\s*"


def parse_duration_s(text: str | float) -> float:
    """``"30m"``, ``"90s"``, ``"1h"``, ``"1h30m"``, ``"45"`` (seconds) -> seconds."""
    if isinstance(text, int | float):
        return float(text)
    s = text.strip().lower()
    if re.fullmatch(_NUM, s):
        return float(s)
    parts = re.findall(r"([0-9]*\.?[0-9]+)\s*(h|min|m|s)", s)
    if not parts or re.sub(r"([0-9]*\.?[0-9]+)\s*(h|min|m|s)", "", s).strip():
        raise ValueError(f"cannot read the duration {text!r}; write e.g. 90s, 2m, 30m or 1h")
    scale = {"h": 3600.0, "m": 60.0, "min": 60.0, "s": 1.0}
    return sum(float(v) * scale[u] for v, u in parts)


def parse_load_kg(text: str | float) -> float:
    """``"1kg"``, ``"500g"``, ``"2lb"``, ``"1.5"`` (kg) -> kilograms per ankle."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        m = re.fullmatch(_NUM + r"(kg|g|lb|lbs)?\s*", text.strip().lower())
        if not m:
            raise ValueError(f"cannot read the load {text!r}; write e.g. 1kg, 500g or 2lb (per ankle)")
        value = float(m.group(1)) * {"kg": 1.0, None: 1.0, "g": 1e-3, "lb": _LB_KG, "lbs": _LB_KG}[m.group(2)]
    if not 0.0 <= value <= 10.0:
        raise ValueError(f"a load of {value:g} kg per ankle is outside 0-10 kg; check the unit")
    return value


def parse_speed_mps(text: str | float) -> float:
    """``"3.3"`` (m/s), ``"12km/h"``, ``"5:00/km"`` (pace) -> m/s."""
    if isinstance(text, int | float):
        return float(text)
    s = text.strip().lower().replace(" ", "")
    if m := re.fullmatch(r"([0-9]*\.?[0-9]+)(m/s)?", s):
        return float(m.group(1))
    if m := re.fullmatch(r"([0-9]*\.?[0-9]+)(km/h|kph)", s):
        return float(m.group(1)) / 3.6
    if m := re.fullmatch(r"(\d+):(\d{2})(/km|min/km)", s):
        return 1000.0 / (int(m.group(1)) * 60 + int(m.group(2)))
    raise ValueError(f"cannot read the speed {text!r}; write e.g. 3.3 (m/s), 12km/h or 5:00/km")
