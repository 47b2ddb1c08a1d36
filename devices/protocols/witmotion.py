"""WitMotion WT901BLE (WT901BLECL / BWT901BLECL5.0): 20-byte ``55 61`` notifications, no timestamps.

Reference: ble-protocols.md §4.1 (WITMOTION SDK). The sensor streams ``0x61`` packets as soon as notifications
are on; the only configuration we send is the output-rate register 0x03 after an unlock. Scales are fixed by
the firmware: acc ±16 g, gyro ±2000 °/s, angles ±180°. UUIDs use the *non-SIG* base ``…-00805f9a34fb`` (§1.3
item 6), so they must be given in full.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._common import (
    DEG2RAD,
    G,
    PayloadTable,
    any_uuid,
    as_samples,
    imu_decoded,
    name_starts,
    nearest,
    split_rows,
    to_int16,
    view,
)
from .base import Command, Decoded, SensorProtocol

_BASE = "-0000-1000-8000-00805f9a34fb"
SERVICE_UUID = "0000ffe5" + _BASE
NOTIFY_CHAR_UUID = "0000ffe4" + _BASE
WRITE_CHAR_UUID = "0000ffe9" + _BASE

PACKET_LEN = 20
HEADER = 0x55
TYPE_IMU = 0x61
TYPE_REGISTER_REPLY = 0x71

#: Output-rate register 0x03 codes (WT901-family datasheet; BLE support above 50 Hz unverified [?]).
RATE_CODES: dict[float, int] = {10.0: 0x06, 20.0: 0x07, 50.0: 0x08, 100.0: 0x09, 200.0: 0x0B}
UNLOCK = bytes([0xFF, 0xAA, 0x69, 0x88, 0xB5])
SAVE = bytes([0xFF, 0xAA, 0x00, 0x00, 0x00])

ACC_RANGE_G = 16.0
GYR_RANGE_DPS = 2000.0
ACC_LSB = ACC_RANGE_G * G / 32768.0  # m/s² per count
GYR_LSB = GYR_RANGE_DPS * DEG2RAD / 32768.0  # rad/s per count
ANGLE_LSB_DEG = 180.0 / 32768.0


def rate_command(rate_hz: float) -> bytes:
    """``FF AA 03 <code> 00``: set the output rate (one of :data:`RATE_CODES`)."""
    return bytes([0xFF, 0xAA, 0x03, RATE_CODES[float(rate_hz)], 0x00])


class WitMotion(SensorProtocol):
    """WT901BLE: one sample per notification, ``55 61`` + 9×int16 LE (acc, gyro, roll/pitch/yaw).

    ``decode`` returns acc (m/s²), gyr (rad/s), ``sensor_time_s=None`` (the protocol has no time or counter)
    and the on-board angles as ``extra`` columns ``roll_deg``, ``pitch_deg``, ``yaw_deg``. Register replies
    (``55 71``) are recognised and skipped without counting as bad. The rate snaps to the nearest register
    value (10/20/50/100/200 Hz); the ranges are fixed (16 g, 2000 °/s), so the range arguments are ignored.
    """

    family = "witmotion"
    model = "WitMotion WT901BLE"
    service_uuid = SERVICE_UUID
    data_char_uuid = NOTIFY_CHAR_UUID
    control_char_uuid = WRITE_CHAR_UUID
    has_sensor_time = False
    is_imu = True

    def __init__(self, rate_hz: float = 50.0, acc_range_g: float = ACC_RANGE_G, gyr_range_dps: float = GYR_RANGE_DPS):
        super().__init__(nearest(rate_hz, list(RATE_CODES)), ACC_RANGE_G, GYR_RANGE_DPS)

    def matches(self, name: str | None, service_uuids: Sequence[str], manufacturer_data: dict[int, bytes]) -> bool:
        # A 16-bit ffe5 in the advert is expanded with the SIG base by the scanner: accept both bases.
        return name_starts(name, ("WT901", "BWT901")) or any_uuid(service_uuids, (SERVICE_UUID, "ffe5"))

    def start_commands(self) -> list[Command]:
        """Unlock, then set the rate register (write without response). Not saved to flash on purpose."""
        return [
            Command(WRITE_CHAR_UUID, UNLOCK, response=False),
            Command(WRITE_CHAR_UUID, rate_command(self.rate_hz), response=False),
        ]

    def stop_commands(self) -> list[Command]:
        """None: the sensor streams whenever notifications are on; stopping notify stops it."""
        return []

    def decode(self, payloads: Sequence[bytes]) -> Decoded:
        tab = PayloadTable(payloads)
        b0, b1 = tab.byte(0), tab.byte(1)
        ok_len = (tab.lengths == PACKET_LEN) & (b0 == HEADER)
        data = ok_len & (b1 == TYPE_IMU)
        reply = ok_len & (b1 == TYPE_REGISTER_REPLY)
        idx = np.flatnonzero(data)
        raw = view(tab.rows(idx, PACKET_LEN), 2, PACKET_LEN, "<i2").astype(float)
        extra = {
            "roll_deg": raw[:, 6] * ANGLE_LSB_DEG,
            "pitch_deg": raw[:, 7] * ANGLE_LSB_DEG,
            "yaw_deg": raw[:, 8] * ANGLE_LSB_DEG,
        }
        n_bad = tab.n - int(data.sum()) - int(reply.sum())
        return imu_decoded(raw[:, 0:3] * ACC_LSB, raw[:, 3:6] * GYR_LSB, None, idx, n_bad, extra)

    def encode(self, acc: np.ndarray, gyr: np.ndarray, sensor_time_s: np.ndarray | None = None) -> list[bytes]:
        """One 20-byte ``55 61`` packet per sample (angles 0, no time: ``sensor_time_s`` is ignored)."""
        acc, gyr = as_samples(acc, gyr)
        n = acc.shape[0]
        vals = np.zeros((n, 9), dtype="<i2")
        vals[:, 0:3] = to_int16(acc, ACC_LSB)
        vals[:, 3:6] = to_int16(gyr, GYR_LSB)
        out = np.empty((n, PACKET_LEN), dtype=np.uint8)
        out[:, 0], out[:, 1] = HEADER, TYPE_IMU
        out[:, 2:] = vals.view(np.uint8).reshape(n, 18)
        return split_rows(out)
