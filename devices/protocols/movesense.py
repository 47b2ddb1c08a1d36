"""Movesense with the ``gatt_sensordata_app`` firmware (GSP): subscribe ``/Meas/IMU6/<rate>``, reassemble.

Reference: ble-protocols.md §4.2 (Movesense docs, GATTSensorDataClient.cpp, sample client). Commands are
``[cmd, ref, ...]`` on the write characteristic; notifications are ``[type, ref, ...]``: 1 = command result
(uint16 status), 2 = DATA, 3 = DATA_PART2 (continuation of a packet longer than one notification, appended
from byte 2). An IMU6 packet is ``uint32 ts_ms`` + N×3 float32 acc (m/s²) + N×3 float32 gyro (°/s).

Per-sample times are ``ts + i/rate`` (the sample client does the same, so ``ts`` is taken to be the first
sample [?]). The ms counter is unwrapped over the batch like the DOT's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._common import (
    DEG2RAD,
    PayloadTable,
    any_uuid,
    as_samples,
    imu_decoded,
    name_starts,
    nearest,
    unwrap_counter,
    view,
    view_f32,
    within_segment,
)
from .base import Command, Decoded, SensorProtocol

SERVICE_UUID = "34802252-7185-4d5d-b431-630e7050e8f0"
WRITE_CHAR_UUID = "34800001-7185-4d5d-b431-630e7050e8f0"
NOTIFY_CHAR_UUID = "34800002-7185-4d5d-b431-630e7050e8f0"
#: 16-bit service the Movesense firmware advertises (registered to Amer Sports / Suunto) [3p]
ADVERTISED_SERVICE = "fdf3"

CMD_HELLO, CMD_SUBSCRIBE, CMD_UNSUBSCRIBE = 0, 1, 2
PKT_RESULT, PKT_DATA, PKT_DATA_PART2 = 1, 2, 3
DEFAULT_REF = 0x63

#: Rates in the ``/Meas/IMU6/<rate>`` path, and the real sample rate where it differs ("13" is 12.5 Hz [?]).
PATH_RATES = (13, 26, 52, 104, 208, 416, 833, 1666)
SAMPLE_RATE = {13: 12.5}
TIMESTAMP_PERIOD = 2**32  # ms
SAMPLE_BYTES = 24  # 3 float32 acc + 3 float32 gyro


class Movesense(SensorProtocol):
    """Movesense IMU6 over GSP.

    ``decode`` pairs each DATA with an immediately following DATA_PART2 of the same ``ref`` when together they
    make a whole packet (otherwise a lone DATA that is itself whole is kept and the stray part counted bad),
    and returns acc (m/s²), gyr (rad/s) and ``sensor_time_s``. Command results (type 1) are recognised and
    skipped without counting as bad; payloads with another ``ref`` count as bad. A lost DATA_PART2 makes its
    DATA bad (its size is then not a whole packet).

    Parameters beyond the base ones: ``ref`` (subscription reference, 1..255), ``samples_per_packet`` and
    ``max_payload`` (how :meth:`encode` batches and splits, like the firmware at 104 Hz with an MTU of 161
    [?]). The range arguments are not settable through GSP and kept for information only.
    """

    family = "movesense"
    model = "Movesense"
    service_uuid = SERVICE_UUID
    data_char_uuid = NOTIFY_CHAR_UUID
    control_char_uuid = WRITE_CHAR_UUID
    has_sensor_time = True
    is_imu = True

    def __init__(
        self,
        rate_hz: float = 104.0,
        acc_range_g: float = 16.0,
        gyr_range_dps: float = 2000.0,
        ref: int = DEFAULT_REF,
        samples_per_packet: int = 8,
        max_payload: int = 158,
    ):
        if not 1 <= int(ref) <= 255:
            raise ValueError(f"ref: allowed values are 1..255, but got {ref!r}.")
        self.path_rate = int(nearest(rate_hz, PATH_RATES))
        super().__init__(SAMPLE_RATE.get(self.path_rate, self.path_rate), acc_range_g, gyr_range_dps)
        self.ref = int(ref)
        self.samples_per_packet = max(1, int(samples_per_packet))
        self.max_payload = max(8, int(max_payload))

    @property
    def path(self) -> str:
        """The resource subscribed to, e.g. ``/Meas/IMU6/104``."""
        return f"/Meas/IMU6/{self.path_rate}"

    def matches(self, name: str | None, service_uuids: Sequence[str], manufacturer_data: dict[int, bytes]) -> bool:
        return name_starts(name, ("Movesense",)) or any_uuid(service_uuids, (SERVICE_UUID, ADVERTISED_SERVICE))

    def start_commands(self) -> list[Command]:
        """HELLO ``00 ref``, then SUBSCRIBE ``01 ref "/Meas/IMU6/<rate>"`` (re-send after every reconnect)."""
        return [
            Command(WRITE_CHAR_UUID, bytes([CMD_HELLO, self.ref])),
            Command(WRITE_CHAR_UUID, bytes([CMD_SUBSCRIBE, self.ref]) + self.path.encode("ascii")),
        ]

    def stop_commands(self) -> list[Command]:
        return [Command(WRITE_CHAR_UUID, bytes([CMD_UNSUBSCRIBE, self.ref]))]

    def decode(self, payloads: Sequence[bytes]) -> Decoded:
        tab = PayloadTable(payloads)
        n = tab.n
        kind, ref = tab.byte(0), tab.byte(1)
        body = np.maximum(tab.lengths - 2, 0)
        ours = ref == self.ref
        is_data = (kind == PKT_DATA) & ours
        is_part = (kind == PKT_DATA_PART2) & ours
        result = (kind == PKT_RESULT) & (tab.lengths >= 4)

        def whole(size: np.ndarray) -> np.ndarray:
            return (size >= 4 + SAMPLE_BYTES) & ((size - 4) % SAMPLE_BYTES == 0)

        next_part = np.append(is_part[1:], False)
        next_body = np.append(body[1:], 0)
        joined = is_data & next_part & whole(body + next_body)
        single = is_data & ~joined & whole(body)
        first = np.flatnonzero(joined | single)  # one record per first part, in arrival order
        second = np.where(joined[first], first + 1, -1)
        len1 = body[first]
        size = len1 + np.where(second >= 0, body[np.maximum(second, 0)], 0)
        n_used = first.size + int((second >= 0).sum())
        n_bad = n - n_used - int(result.sum())

        # gather each record's body (part 1 from byte 2, then part 2 from byte 2) group by total size
        ts = np.zeros(first.size, dtype=np.uint32)
        counts = (size - 4) // SAMPLE_BYTES
        acc_parts, gyr_parts, rec_parts = [], [], []
        for s in np.unique(size):
            r = np.flatnonzero(size == s)
            k = np.arange(s)
            in1 = k[None, :] < len1[r, None]
            pos1 = tab.offsets[first[r], None] + 2 + k[None, :]
            pos2 = tab.offsets[np.maximum(second[r], 0), None] + 2 + k[None, :] - len1[r, None]
            rows = tab.buf[np.where(in1, pos1, pos2)]
            m = (s - 4) // SAMPLE_BYTES
            ts[r] = view(rows, 0, 4, "<u4")[:, 0]
            acc_parts.append(view_f32(rows, 4, 4 + 12 * m).reshape(-1, 3))
            gyr_parts.append(view_f32(rows, 4 + 12 * m, 4 + 24 * m).reshape(-1, 3))
            rec_parts.append(np.repeat(r, m))
        if not acc_parts:
            empty = np.zeros((0, 3))
            return imu_decoded(empty, empty, np.zeros(0), np.zeros(0, dtype=np.int64), n_bad)
        rec = np.concatenate(rec_parts)
        order = np.argsort(rec, kind="stable")  # back to arrival order, samples in packet order
        rec = rec[order]
        acc = np.concatenate(acc_parts)[order]
        gyr = np.concatenate(gyr_parts)[order] * DEG2RAD
        t0 = unwrap_counter(ts, TIMESTAMP_PERIOD) * 1e-3
        t = t0[rec] + within_segment(counts) / self.rate_hz
        return imu_decoded(acc, gyr, t, first[rec], n_bad)

    def encode(self, acc: np.ndarray, gyr: np.ndarray, sensor_time_s: np.ndarray | None = None) -> list[bytes]:
        """Batch ``samples_per_packet`` samples per packet; split at ``max_payload`` into DATA + DATA_PART2.

        Each packet carries the (wrapped) ms time of its first sample; the decoder spaces the rest at the
        rate, so only uniformly spaced input round-trips its times exactly.
        """
        acc, gyr = as_samples(acc, gyr)
        n = acc.shape[0]
        t = np.arange(n) / self.rate_hz if sensor_time_s is None else np.asarray(sensor_time_s, dtype=float)
        acc32 = acc.astype("<f4")
        gyr32 = (gyr / DEG2RAD).astype("<f4")
        out: list[bytes] = []
        head, cont = bytes([PKT_DATA, self.ref]), bytes([PKT_DATA_PART2, self.ref])
        k = self.samples_per_packet
        for i in range(0, n, k):
            ts = int(np.rint(t[i] * 1e3)) % TIMESTAMP_PERIOD
            packet = head + ts.to_bytes(4, "little") + acc32[i : i + k].tobytes() + gyr32[i : i + k].tobytes()
            if len(packet) > self.max_payload:
                out += [packet[: self.max_payload], cont + packet[self.max_payload :]]
            else:
                out.append(packet)
        return out
