"""Running Speed and Cadence service (0x1814 / measurement 0x2A53): footpod summaries, not an IMU.

Reference: ble-protocols.md §4.7. A measurement is ``flags u8`` (bit 0 stride length present, bit 1 total
distance present, bit 2 running), ``speed u16`` (1/256 m/s), ``cadence u8`` (1/min), then
``[stride u16, 1/100 m]`` and ``[distance u32, 1/10 m]`` as the flags say. Fields are read by flags and
anything after them is ignored (a Stryd capture sets the undocumented flag bit 7 and appends bytes, §4.8).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._common import PayloadTable, any_uuid, name_starts
from .base import Command, Decoded, SensorProtocol, sig_uuid

SERVICE_UUID = sig_uuid(0x1814)
MEASUREMENT_CHAR_UUID = sig_uuid(0x2A53)
FEATURE_CHAR_UUID = sig_uuid(0x2A54)
CONTROL_POINT_UUID = sig_uuid(0x2A55)
SENSOR_LOCATION_CHAR_UUID = sig_uuid(0x2A5D)

FLAG_STRIDE, FLAG_DISTANCE, FLAG_RUNNING = 0x01, 0x02, 0x04
MIN_LEN = 4
EXTRA_COLUMNS = ("speed_mps", "cadence_spm", "stride_length_m", "distance_m", "running")


class RSC(SensorProtocol):
    """A footpod (Stryd, RunPod, …) through the standard RSC service; notify only, no commands.

    ``decode`` returns empty ``acc``/``gyr`` and the measurements in ``extra``: ``speed_mps``,
    ``cadence_spm``, ``stride_length_m`` and ``distance_m`` (NaN when the flags leave them out), ``running``
    (bool), with ``extra_payload_index``. A payload shorter than its flags require counts as bad. Rate and
    ranges do not apply.
    """

    family = "rsc"
    model = "Running Speed and Cadence footpod"
    service_uuid = SERVICE_UUID
    data_char_uuid = MEASUREMENT_CHAR_UUID
    control_char_uuid = None
    has_sensor_time = False
    is_imu = False

    def matches(self, name: str | None, service_uuids: Sequence[str], manufacturer_data: dict[int, bytes]) -> bool:
        return any_uuid(service_uuids, (SERVICE_UUID,)) or name_starts(name, ("Stryd", "RunPod", "Zwift RunPod"))

    def start_commands(self) -> list[Command]:
        """None: measurements flow once notifications are on."""
        return []

    def stop_commands(self) -> list[Command]:
        return []

    def decode(self, payloads: Sequence[bytes]) -> Decoded:
        tab = PayloadTable(payloads)
        flags = tab.byte(0)
        has_stride = (flags & FLAG_STRIDE) > 0
        has_dist = (flags & FLAG_DISTANCE) > 0
        need = MIN_LEN + 2 * has_stride + 4 * has_dist
        idx = np.flatnonzero((tab.lengths >= MIN_LEN) & (tab.lengths >= need))
        f, s, d = flags[idx], has_stride[idx], has_dist[idx]
        start = tab.offsets[idx]
        speed = tab.uint(start + 1, 2).astype(float) / 256.0
        cadence = tab.buf[start + 3].astype(float)
        stride = np.where(s, tab.uint(start + 4, 2).astype(float) / 100.0, np.nan)
        dist_at = start + 4 + 2 * s
        distance = np.where(d, tab.uint(dist_at, 4).astype(float) / 10.0, np.nan)
        empty = np.zeros((0, 3))
        return Decoded(
            acc=empty,
            gyr=empty.copy(),
            sensor_time_s=None,
            payload_index=np.zeros(0, dtype=np.int64),
            n_bad=tab.n - idx.size,
            extra=dict(zip(EXTRA_COLUMNS, (speed, cadence, stride, distance, (f & FLAG_RUNNING) > 0), strict=True)),
            extra_payload_index=idx,
        )

    def encode(self, acc: np.ndarray, gyr: np.ndarray, sensor_time_s: np.ndarray | None = None) -> list[bytes]:
        """A footpod sends no IMU samples: use :meth:`encode_measurements` to simulate one."""
        raise NotImplementedError("RSC is not an IMU stream; use RSC.encode_measurements(speed_mps, cadence_spm, ...)")

    def encode_measurements(
        self,
        speed_mps: np.ndarray,
        cadence_spm: np.ndarray,
        stride_length_m: np.ndarray | None = None,
        distance_m: np.ndarray | None = None,
        running: np.ndarray | bool = True,
    ) -> list[bytes]:
        """Inverse of :meth:`decode` (quantization aside): one 0x2A53 measurement per row.

        Stride length and distance are included when given (NaN entries leave the field out of that payload).
        """
        speed = np.atleast_1d(np.asarray(speed_mps, dtype=float))
        n = speed.size
        cadence = np.broadcast_to(np.asarray(cadence_spm, dtype=float), (n,))
        stride = np.full(n, np.nan) if stride_length_m is None else np.broadcast_to(stride_length_m, (n,))
        dist = np.full(n, np.nan) if distance_m is None else np.broadcast_to(distance_m, (n,))
        run = np.broadcast_to(np.asarray(running, dtype=bool), (n,))
        speed_q = np.clip(np.rint(speed * 256.0), 0, 0xFFFF).astype(int)
        cad_q = np.clip(np.rint(cadence), 0, 0xFF).astype(int)
        out = []
        for i in range(n):  # building variable-length payloads; the simulator sends ~1 per second
            has_s, has_d = bool(np.isfinite(stride[i])), bool(np.isfinite(dist[i]))
            flags = FLAG_STRIDE * has_s | FLAG_DISTANCE * has_d | FLAG_RUNNING * bool(run[i])
            p = bytes([flags]) + int(speed_q[i]).to_bytes(2, "little") + bytes([cad_q[i]])
            if has_s:
                p += int(np.clip(np.rint(stride[i] * 100.0), 0, 0xFFFF)).to_bytes(2, "little")
            if has_d:
                p += int(np.clip(np.rint(dist[i] * 10.0), 0, 0xFFFFFFFF)).to_bytes(4, "little")
            out.append(p)
        return out
