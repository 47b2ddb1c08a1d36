"""Movella (Xsens) DOT: payload mode 20 "rate quantities (with mag)" and custom mode 5, u32 µs timestamps.

Reference: ble-protocols.md §4.5 (xsens_dot_server), completed from the Movella DOT BLE Service Specification
(XD0506P rev. C): units are m/s² and °/s; the device-control characteristic (32 B) sets the output rate with
visit-index bit 4 and a u16 at byte 24; real-time rates are 1/4/10/12/15/20/30/60 Hz (120 Hz only when
recording); unused trailing payload bytes are zero, so a notification may carry the characteristic's full
length (40 B medium, 63 B long) rather than the mode's size (34 B, 44 B).

The timestamp is a u32 in µs that rolls over every 2^32 µs (71.6 min); :meth:`MovellaDot.decode` unwraps it
over the batch in arrival order, so decode a whole recording at once (or carry the offset yourself).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._common import (
    DEG2RAD,
    PayloadTable,
    any_uuid,
    as_samples,
    check_option,
    imu_decoded,
    name_starts,
    nearest,
    split_rows,
    unwrap_counter,
    view,
    view_f32,
)
from .base import Command, Decoded, SensorProtocol


def dot_uuid(short: int) -> str:
    """Full UUID of a DOT attribute from its short number, e.g. ``0x2001``."""
    return f"1517{short:04x}-4947-11e9-8646-d663bd873d93"


CONFIG_SERVICE_UUID = dot_uuid(0x1000)
DEVICE_CONTROL_CHAR_UUID = dot_uuid(0x1002)
MEASUREMENT_SERVICE_UUID = dot_uuid(0x2000)
CONTROL_CHAR_UUID = dot_uuid(0x2001)
LONG_PAYLOAD_CHAR_UUID = dot_uuid(0x2002)
MEDIUM_PAYLOAD_CHAR_UUID = dot_uuid(0x2003)
SHORT_PAYLOAD_CHAR_UUID = dot_uuid(0x2004)
BATTERY_CHAR_UUID = dot_uuid(0x3001)
#: Bluetooth company identifier of Movella Technologies (2182) in manufacturer data.
COMPANY_ID = 0x0886

MODE_RATE_QUANTITIES_MAG = 20
MODE_CUSTOM_5 = 26
STREAM_RATES = (1.0, 4.0, 10.0, 12.0, 15.0, 20.0, 30.0, 60.0)
TIMESTAMP_PERIOD = 2**32  # µs
MAG_SCALE = 2.0**-12  # a.u. per count

#: payload mode -> (exact size, characteristic length, characteristic UUID)
LAYOUTS: dict[int, tuple[int, int, str]] = {
    MODE_RATE_QUANTITIES_MAG: (34, 40, MEDIUM_PAYLOAD_CHAR_UUID),
    MODE_CUSTOM_5: (44, 63, LONG_PAYLOAD_CHAR_UUID),
}
_EXTRA = ("mag_x_au", "mag_y_au", "mag_z_au", "quat_w", "quat_x", "quat_y", "quat_z")


def output_rate_command(rate_hz: float) -> bytes:
    """32-byte device-control write: visit index bit 4 (output rate) and the rate as u16 LE at byte 24."""
    data = bytearray(32)
    data[0] = 0x10
    data[24:26] = int(rate_hz).to_bytes(2, "little")
    return bytes(data)


class MovellaDot(SensorProtocol):
    """Movella DOT streaming one sample per notification.

    ``payload_mode=20`` (default): medium-payload char, ``u32 ts, acc 3×f32 @4, gyro 3×f32 @16, mag 3×i16/2^12
    @28``; ``payload_mode=26`` (custom mode 5): long-payload char, ``ts, quat w,x,y,z 4×f32 @4, acc @20, gyro
    @32``. The decoder accepts both layouts whatever the configured mode (they differ in length) and returns
    acc (m/s²), gyr (rad/s), ``sensor_time_s`` (unwrapped µs timestamp in seconds) and per-sample ``extra``
    columns ``mag_*_au`` and ``quat_*`` (NaN where the layout lacks them). The rate snaps to the nearest
    real-time rate; the ranges are fixed by the device (arguments kept for information only).
    """

    family = "movella_dot"
    model = "Movella DOT"
    service_uuid = MEASUREMENT_SERVICE_UUID
    data_char_uuid = MEDIUM_PAYLOAD_CHAR_UUID
    control_char_uuid = CONTROL_CHAR_UUID
    has_sensor_time = True
    is_imu = True

    def __init__(
        self,
        rate_hz: float = 60.0,
        acc_range_g: float = 16.0,
        gyr_range_dps: float = 2000.0,
        payload_mode: int = MODE_RATE_QUANTITIES_MAG,
    ):
        check_option("payload_mode", payload_mode, tuple(LAYOUTS))
        super().__init__(nearest(rate_hz, STREAM_RATES), acc_range_g, gyr_range_dps)
        self.payload_mode = int(payload_mode)
        self.data_char_uuid = LAYOUTS[self.payload_mode][2]

    def matches(self, name: str | None, service_uuids: Sequence[str], manufacturer_data: dict[int, bytes]) -> bool:
        return (
            name_starts(name, ("Movella DOT", "Xsens DOT"))
            or COMPANY_ID in (manufacturer_data or {})
            or any_uuid(service_uuids, (CONFIG_SERVICE_UUID, MEASUREMENT_SERVICE_UUID))
        )

    def start_commands(self) -> list[Command]:
        """Set the output rate (device control), then ``01 01 <mode>`` on the measurement control char."""
        return [
            Command(DEVICE_CONTROL_CHAR_UUID, output_rate_command(self.rate_hz)),
            Command(CONTROL_CHAR_UUID, bytes([0x01, 0x01, self.payload_mode])),
        ]

    def stop_commands(self) -> list[Command]:
        return [Command(CONTROL_CHAR_UUID, bytes([0x01, 0x00, self.payload_mode]))]

    def decode(self, payloads: Sequence[bytes]) -> Decoded:
        tab = PayloadTable(payloads)
        n = tab.n
        ts = np.zeros(n, dtype=np.uint32)
        acc = np.full((n, 3), np.nan)
        gyr = np.full((n, 3), np.nan)
        extra = np.full((n, len(_EXTRA)), np.nan)
        valid = np.zeros(n, dtype=bool)
        for mode, (size, char_len, _) in LAYOUTS.items():
            sel = np.flatnonzero((tab.lengths == size) | (tab.lengths == char_len))
            if sel.size == 0:
                continue
            rows = tab.rows(sel, size)
            ts[sel] = view(rows, 0, 4, "<u4")[:, 0]
            if mode == MODE_RATE_QUANTITIES_MAG:
                acc[sel] = view_f32(rows, 4, 16)
                gyr[sel] = view_f32(rows, 16, 28)
                extra[sel, 0:3] = view(rows, 28, 34, "<i2") * MAG_SCALE
            else:
                extra[sel, 3:7] = view_f32(rows, 4, 20)
                acc[sel] = view_f32(rows, 20, 32)
                gyr[sel] = view_f32(rows, 32, 44)
            valid[sel] = True
        idx = np.flatnonzero(valid)
        t_s = unwrap_counter(ts[idx], TIMESTAMP_PERIOD) * 1e-6
        cols = {name: extra[idx, k] for k, name in enumerate(_EXTRA)}
        return imu_decoded(acc[idx], gyr[idx] * DEG2RAD, t_s, idx, n - idx.size, cols)

    def encode(self, acc: np.ndarray, gyr: np.ndarray, sensor_time_s: np.ndarray | None = None) -> list[bytes]:
        """One notification per sample in the configured mode, zero-padded to the characteristic length.

        Timestamps are ``round(t·1e6) mod 2^32`` µs (so they roll over like the device's); without
        ``sensor_time_s`` the samples are spaced at the configured rate from 0. Mag is 0 and the quaternion is
        identity, since the simulator has neither.
        """
        acc, gyr = as_samples(acc, gyr)
        n = acc.shape[0]
        t = np.arange(n) / self.rate_hz if sensor_time_s is None else np.asarray(sensor_time_s, dtype=float)
        size, char_len, _ = LAYOUTS[self.payload_mode]
        out = np.zeros((n, char_len), dtype=np.uint8)
        ts = (np.rint(t * 1e6).astype(np.int64) % TIMESTAMP_PERIOD).astype("<u4")
        out[:, 0:4] = ts.view(np.uint8).reshape(n, 4)
        if self.payload_mode == MODE_RATE_QUANTITIES_MAG:
            fields = [(4, acc), (16, gyr / DEG2RAD)]
        else:
            quat = np.tile([1.0, 0.0, 0.0, 0.0], (n, 1))
            fields = [(4, quat), (20, acc), (32, gyr / DEG2RAD)]
        for start, values in fields:
            f = values.astype("<f4")
            out[:, start : start + 4 * f.shape[1]] = f.view(np.uint8).reshape(n, -1)
        return split_rows(out)
