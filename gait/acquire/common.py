"""What every acquisition step shares: the error a user can act on, the radio layer's errors turned into it, a
sensor protocol built from its family name and configuration, and the defaults.

Kept apart so that recording, pairing, decoding and the simulation each depend on this small module only, not on
one another.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from gait.errors import GaitError

__all__ = [
    "DEFAULT_RATE_HZ",
    "IMU_SIDES",
    "AcquisitionError",
    "check_rate_hz",
    "device_errors",
    "protocol_config",
    "protocol_for",
]

DEFAULT_RATE_HZ = 200.0
IMU_SIDES = ("left", "right")


class AcquisitionError(GaitError, RuntimeError):
    """A sensor or radio problem the user can fix (switched off, out of range, no Bluetooth, nothing paired)."""


def check_rate_hz(rate_hz: Any, what: str = "--rate") -> float:
    """A requested sample rate as a float; zero, negative or not a finite number is refused in one line."""
    try:
        rate = float(rate_hz)
    except (TypeError, ValueError):
        rate = math.nan
    if not (math.isfinite(rate) and rate > 0):
        raise AcquisitionError(f"{what}: the sample rate must be a positive number of Hz (e.g. 200), not {rate_hz!r}")
    return rate


@contextlib.contextmanager
def device_errors() -> Iterator[None]:
    """Re-raise the radio layer's one-line errors as :class:`AcquisitionError` (a GaitError)."""
    from devices.errors import DeviceError

    try:
        yield
    except DeviceError as exc:
        raise AcquisitionError(str(exc)) from exc


def protocol_for(family: str, config: Mapping[str, Any], protocols: Mapping[str, Callable] | None) -> Any:
    from devices.ble import make_protocol

    try:
        with device_errors():
            return make_protocol(family, config, protocols)
    except (ValueError, TypeError) as exc:
        raise AcquisitionError(f"{family}: {exc}") from exc


def protocol_config(proto: Any, config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration that rebuilds ``proto`` (what was asked, plus the rate it actually runs at)."""
    out = {k: v for k, v in dict(config).items() if isinstance(v, (int, float, str, bool))}
    if getattr(proto, "is_imu", True):
        out["rate_hz"] = float(proto.rate_hz)
    return out
