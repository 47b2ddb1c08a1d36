"""The contract every sensor family implements: identification, commands, vectorized decoding, encoding.

A protocol module knows bytes, not gait. Decoders take *many* notification payloads at once and return arrays in SI
units (m/s², rad/s), so that a recording is decoded after the fact in a handful of NumPy operations. A payload that
is too short, too long or of an unknown type is counted in ``n_bad`` and skipped, never raised.
The encoder is the exact inverse for the simulated peripherals, so the simulator sends the real byte formats.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

#: Nominal Bluetooth SIG base UUID suffix and the standard battery service/characteristic.
SIG_BASE = "-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE = "0000180f" + SIG_BASE
BATTERY_LEVEL_CHAR = "00002a19" + SIG_BASE


def sig_uuid(short: int) -> str:
    """Full lower-case 128-bit UUID of a 16-bit SIG-assigned number."""
    return f"{short:08x}{SIG_BASE}"


@dataclass(frozen=True)
class Command:
    """One GATT write: the characteristic, the bytes, and whether the write expects a response."""

    char_uuid: str
    data: bytes
    response: bool = True


@dataclass
class Decoded:
    """Samples decoded from a batch of payloads.

    Attributes
    ----------
    acc, gyr
        ``(n, 3)`` float arrays in m/s² and rad/s, raw sensor axes. ``gyr`` is all-NaN for an
        accelerometer-only stream; both are empty for a non-IMU stream (see ``extra``).
    sensor_time_s
        ``(n,)`` sensor clock per sample in seconds, or None where the protocol has no timestamps.
    payload_index
        ``(n,)`` index into the input payload sequence of the payload each sample came from, so callers can
        attach host arrival times.
    n_bad
        Payloads skipped because of a wrong length or type.
    extra
        Protocol-specific non-IMU columns, each ``(n_extra,)`` (e.g. footpod speed, cadence, stride length),
        with ``extra_payload_index`` mapping them to payloads.
    """

    acc: np.ndarray
    gyr: np.ndarray
    sensor_time_s: np.ndarray | None
    payload_index: np.ndarray
    n_bad: int = 0
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    extra_payload_index: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        return int(self.acc.shape[0])


class SensorProtocol(ABC):
    """A sensor family's protocol. Subclasses are stateless apart from their configuration."""

    #: short family name, e.g. "witmotion"
    family: str = ""
    #: human model name shown in scans, e.g. "WitMotion WT901BLE"
    model: str = ""
    #: primary service advertised/used for data
    service_uuid: str = ""
    #: characteristic that sends the data notifications
    data_char_uuid: str = ""
    #: characteristic for commands (None where streaming starts on notify)
    control_char_uuid: str | None = None
    #: True when the protocol carries sensor timestamps
    has_sensor_time: bool = False
    #: True for IMU streams (False for e.g. a footpod's summaries)
    is_imu: bool = True

    def __init__(self, rate_hz: float = 100.0, acc_range_g: float = 16.0, gyr_range_dps: float = 2000.0):
        self.rate_hz = float(rate_hz)
        self.acc_range_g = float(acc_range_g)
        self.gyr_range_dps = float(gyr_range_dps)

    # --- identification -----------------------------------------------------------------------------------
    @abstractmethod
    def matches(
        self, name: str | None, service_uuids: Sequence[str], manufacturer_data: dict[int, bytes]
    ) -> bool:
        """True when an advertisement belongs to this family."""

    # --- commands -----------------------------------------------------------------------------------------
    @abstractmethod
    def start_commands(self) -> list[Command]:
        """Writes that configure rate/range and start streaming (sent after notifications are enabled)."""

    @abstractmethod
    def stop_commands(self) -> list[Command]:
        """Writes that stop streaming."""

    def notify_char_uuids(self) -> list[str]:
        """Characteristics to enable notifications/indications on, data first."""
        return [self.data_char_uuid]

    # --- data ---------------------------------------------------------------------------------------------
    @abstractmethod
    def decode(self, payloads: Sequence[bytes]) -> Decoded:
        """Decode many notification payloads at once (vectorized; wrong payloads counted in ``n_bad``)."""

    @abstractmethod
    def encode(
        self, acc: np.ndarray, gyr: np.ndarray, sensor_time_s: np.ndarray | None = None
    ) -> list[bytes]:
        """Inverse of :meth:`decode` for the simulator: samples (SI units) to the payloads a sensor would send."""
