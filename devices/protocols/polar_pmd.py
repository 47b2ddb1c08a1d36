"""Polar Verity Sense over PMD (Polar Measurement Data): SDK-mode ACC + GYRO, delta-compressed frames.

Reference: ble-protocols.md §4.4 (polar-ble-sdk + bleakheart), checked against polar-ble-sdk's ``AccData``,
``GyrData``, ``parseDeltaFramesAll`` and ``PmdTimeStampUtils``. A data notification is
``type(1) ts(u64 LE, ns since 2000-01-01 of the LAST sample) frame_type(1)`` + data:

* frame type ``0x01`` (raw, ACC only): int16 x,y,z per sample, in mG;
* frame type ``0x80`` (delta-compressed type 0): a reference sample (3×int16), then blocks
  ``[bit width, count, count×3 signed deltas packed LSB-first]``; each delta adds to the previous sample.
  The frame holds ``1 + Σ count`` samples. ACC: value × FACTOR is in g; GYRO: value × FACTOR is in °/s.

FACTOR comes back in the start response (setting 5); until :meth:`PolarPMD.apply_control_response` has seen
it, the nominal ``range / 32768`` is used (2.441e-4 at 8 g, close to the 2.44e-4 the SDK tests use) [?].

Per-sample times follow ``PmdTimeStampUtils``: the spacing is ``(ts - ts_previous_frame) / n`` when the
previous frame of the same stream is in the batch (and that spacing is within ±25 % of the nominal period,
which guards against lost frames), else ``1 / rate``; the last sample gets ``ts``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ._common import (
    DEG2RAD,
    G,
    PayloadTable,
    align_streams,
    any_uuid,
    as_samples,
    check_option,
    imu_decoded,
    name_starts,
    nearest,
    to_int16,
    view,
    within_segment,
)
from .base import Command, Decoded, SensorProtocol

SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_POINT_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_CHAR_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

OP_GET_SETTINGS, OP_START, OP_STOP = 1, 2, 3
MEAS_ACC, MEAS_GYRO, MEAS_SDK_MODE = 2, 5, 9
SET_RATE, SET_RESOLUTION, SET_RANGE, SET_RANGE_MILLIUNIT, SET_CHANNELS, SET_FACTOR, SET_SECURITY = range(7)
#: value size in bytes of each setting type
SETTING_SIZES = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4, 6: 16}
RESPONSE_CODE = 0xF0

FRAME_RAW_INT16 = 0x01
FRAME_DELTA = 0x80
HEADER_LEN = 10
REF_LEN = 6  # 3 channels × int16 (16-bit resolution)

SDK_RATES = (26.0, 52.0, 104.0, 208.0, 416.0)
ACC_RANGES_G = (2.0, 4.0, 8.0, 16.0)
GYR_RANGES_DPS = (250.0, 500.0, 1000.0, 2000.0)
_PERIOD_TOLERANCE = 0.25


def start_command(meas: int, rate_hz: float, range_value: float, resolution: int = 16, channels: int = 3) -> bytes:
    """``02 <type> 00 01 <rate u16> 01 01 <resolution u16> 02 01 <range u16> 04 01 <channels u8>``."""
    return bytes([OP_START, meas]) + struct.pack(
        "<BBHBBHBBHBBB",
        SET_RATE, 1, int(rate_hz),
        SET_RESOLUTION, 1, int(resolution),
        SET_RANGE, 1, int(range_value),
        SET_CHANNELS, 1, int(channels),
    )  # fmt: skip


@dataclass
class PmdResponse:
    """A control-point response ``F0 op type err more`` + parameters (settings for start/get-settings)."""

    op: int
    measurement_type: int
    error: int
    more: bool
    settings: dict[int, list[float]] = field(default_factory=dict)


def parse_control_response(data: bytes) -> PmdResponse | None:
    """Parse a control-point indication; None when it is not a response (or too short)."""
    if len(data) < 5 or data[0] != RESPONSE_CODE:
        return None
    settings: dict[int, list[float]] = {}
    off = 5
    while off + 2 <= len(data):
        kind, count = data[off], data[off + 1]
        size = SETTING_SIZES.get(kind)
        if size is None or off + 2 + size * count > len(data):
            break
        raw = data[off + 2 : off + 2 + size * count]
        if kind == SET_FACTOR:
            settings[kind] = list(struct.unpack(f"<{count}f", raw))
        elif size in (1, 2, 4):
            settings[kind] = list(np.frombuffer(raw, dtype={1: "<u1", 2: "<u2", 4: "<u4"}[size]).astype(float))
        off += 2 + size * count
    return PmdResponse(data[1], data[2], data[3], bool(data[4]), settings)


@dataclass
class Stream:
    """One measurement stream as sent: sample times (s since 2000-01-01), values (SI) and payload index."""

    t: np.ndarray
    values: np.ndarray
    payload_index: np.ndarray


class PolarPMD(SensorProtocol):
    """Polar Verity Sense: ACC and GYRO in SDK mode, combined into one sample table.

    ``decode`` decodes ACC (type 2) and GYRO (type 5) frames separately (:meth:`decode_streams`), then puts
    the gyro onto the acc timestamps with :func:`~devices.protocols._common.align_streams`: linear
    interpolation between neighbouring gyro samples (the two streams have their own frame timestamps, so their
    sample times differ by a fraction of a period), NaN across gaps, and gyro samples with no acc nearby kept
    as rows with NaN acc. Returns acc (m/s²), gyr (rad/s), ``sensor_time_s`` in seconds since 2000-01-01
    (device clock).

    Extra parameters: ``acc_factor`` / ``gyr_factor`` (FACTOR from the start response), ``sdk_mode`` (send
    ``02 09`` first; needed for rates other than 52 Hz), ``samples_per_frame`` for :meth:`encode` (36 keeps a
    frame within a 244-byte notification even at 17-bit deltas).
    """

    family = "polar_pmd"
    model = "Polar Verity Sense"
    service_uuid = SERVICE_UUID
    data_char_uuid = DATA_CHAR_UUID
    control_char_uuid = CONTROL_POINT_UUID
    has_sensor_time = True
    is_imu = True

    def __init__(
        self,
        rate_hz: float = 52.0,
        acc_range_g: float = 8.0,
        gyr_range_dps: float = 2000.0,
        acc_factor: float | None = None,
        gyr_factor: float | None = None,
        sdk_mode: bool = True,
        samples_per_frame: int = 36,
    ):
        check_option("acc_range_g", float(acc_range_g), ACC_RANGES_G)
        check_option("gyr_range_dps", float(gyr_range_dps), GYR_RANGES_DPS)
        super().__init__(nearest(rate_hz, SDK_RATES), acc_range_g, gyr_range_dps)
        self.acc_factor = float(acc_factor) if acc_factor else self.acc_range_g / 32768.0
        self.gyr_factor = float(gyr_factor) if gyr_factor else self.gyr_range_dps / 32768.0
        self.sdk_mode = bool(sdk_mode)
        self.samples_per_frame = int(np.clip(samples_per_frame, 1, 256))

    def matches(self, name: str | None, service_uuids: Sequence[str], manufacturer_data: dict[int, bytes]) -> bool:
        # Other PMD devices (H10, OH1) advertise this service too but have no gyro: prefer the name.
        return name_starts(name, ("Polar Sense", "Polar Verity")) or any_uuid(service_uuids, (SERVICE_UUID,))

    def notify_char_uuids(self) -> list[str]:
        """Data (notify) and the control point (indicate: its responses carry errors and FACTOR)."""
        return [DATA_CHAR_UUID, CONTROL_POINT_UUID]

    def start_commands(self) -> list[Command]:
        """SDK mode ``02 09``, then start ACC and GYRO at the rate with 16-bit resolution and 3 channels."""
        cmds = [Command(CONTROL_POINT_UUID, bytes([OP_START, MEAS_SDK_MODE]))] if self.sdk_mode else []
        return cmds + [
            Command(CONTROL_POINT_UUID, start_command(MEAS_ACC, self.rate_hz, self.acc_range_g)),
            Command(CONTROL_POINT_UUID, start_command(MEAS_GYRO, self.rate_hz, self.gyr_range_dps)),
        ]

    def stop_commands(self) -> list[Command]:
        cmds = [Command(CONTROL_POINT_UUID, bytes([OP_STOP, m])) for m in (MEAS_ACC, MEAS_GYRO)]
        return cmds + ([Command(CONTROL_POINT_UUID, bytes([OP_STOP, MEAS_SDK_MODE]))] if self.sdk_mode else [])

    def apply_control_response(self, data: bytes) -> PmdResponse | None:
        """Parse a control-point indication and adopt the FACTOR of a successful ACC/GYRO start response."""
        resp = parse_control_response(data)
        if resp and resp.op == OP_START and resp.error == 0 and resp.settings.get(SET_FACTOR):
            factor = float(resp.settings[SET_FACTOR][0])
            if factor > 0 and np.isfinite(factor):
                if resp.measurement_type == MEAS_ACC:
                    self.acc_factor = factor
                elif resp.measurement_type == MEAS_GYRO:
                    self.gyr_factor = factor
        return resp

    # --- decoding -----------------------------------------------------------------------------------------
    def decode(self, payloads: Sequence[bytes]) -> Decoded:
        acc, gyr, n_bad = self.decode_streams(payloads)
        t, a, g, pi = align_streams(
            acc.t, acc.values, acc.payload_index, gyr.t, gyr.values, gyr.payload_index, 1.0 / self.rate_hz
        )
        return imu_decoded(a, g, t, pi, n_bad)

    def decode_streams(self, payloads: Sequence[bytes]) -> tuple[Stream, Stream, int]:
        """ACC (m/s²) and GYRO (rad/s) streams exactly as sent, before pairing, plus the bad-payload count."""
        tab = PayloadTable(payloads)
        kind, ftype = tab.byte(0), tab.byte(9)
        header_ok = tab.lengths > HEADER_LEN
        raw_acc = header_ok & (kind == MEAS_ACC) & (ftype == FRAME_RAW_INT16) & ((tab.lengths - HEADER_LEN) % 6 == 0)
        delta = header_ok & ((kind == MEAS_ACC) | (kind == MEAS_GYRO)) & (ftype == FRAME_DELTA)

        frames, counts, values = [], [], []
        f_raw = np.flatnonzero(raw_acc)
        if f_raw.size:
            v, c = _decode_raw(tab, f_raw)
            frames.append(f_raw)
            counts.append(c)
            values.append(v * (G / 1000.0))  # mG -> m/s²
        f_delta, c, v = _decode_delta(tab, np.flatnonzero(delta))
        if f_delta.size:
            is_acc = np.repeat(kind[f_delta] == MEAS_ACC, c)
            scale = np.where(is_acc, self.acc_factor * G, self.gyr_factor * DEG2RAD)
            frames.append(f_delta)
            counts.append(c)
            values.append(v * scale[:, None])

        n_good = sum(f.size for f in frames)
        if not frames:
            empty = Stream(np.zeros(0), np.zeros((0, 3)), np.zeros(0, dtype=np.int64))
            return empty, empty, tab.n - n_good
        frame = np.concatenate(frames)
        count = np.concatenate(counts)
        vals = np.concatenate(values)
        # order frames (and their samples) by arrival
        order = np.argsort(frame, kind="stable")
        starts = np.cumsum(count) - count
        sample_order = np.repeat(starts[order], count[order]) + within_segment(count[order])
        frame, count, vals = frame[order], count[order], vals[sample_order]
        ts = tab.uint(tab.offsets[frame] + 1, 8)
        t = self._sample_times(kind[frame], ts, count)
        sample_frame = np.repeat(frame, count)
        is_acc = np.repeat(kind[frame] == MEAS_ACC, count)
        streams = tuple(Stream(t[m], vals[m], sample_frame[m]) for m in (is_acc, ~is_acc))
        return streams[0], streams[1], tab.n - n_good

    def _sample_times(self, kind: np.ndarray, ts: np.ndarray, count: np.ndarray) -> np.ndarray:
        """Per-sample times (s): last sample at ``ts``, spacing from the previous frame of the same stream."""
        nominal = 1.0 / self.rate_hz
        dt = np.full(ts.size, nominal)
        for k in (MEAS_ACC, MEAS_GYRO):
            f = np.flatnonzero(kind == k)
            if f.size < 2:
                continue
            cur, prev = ts[f[1:]], ts[f[:-1]]
            step = np.where(cur > prev, cur - prev, np.uint64(0)).astype(float) * 1e-9 / count[f[1:]]
            ok = np.abs(step / nominal - 1.0) <= _PERIOD_TOLERANCE
            dt[f[1:]] = np.where(ok, step, nominal)
        last = ts.astype(float) * 1e-9
        back = np.repeat(count - 1, count) - within_segment(count)
        return np.repeat(last, count) - back * np.repeat(dt, count)

    # --- encoding -----------------------------------------------------------------------------------------
    def encode(self, acc: np.ndarray, gyr: np.ndarray, sensor_time_s: np.ndarray | None = None) -> list[bytes]:
        """Delta-compressed (0x80) ACC and GYRO frames of ``samples_per_frame`` samples, interleaved.

        Each frame is stamped with the ns time of its last sample (``sensor_time_s`` is seconds since
        2000-01-01; without it samples start at 0 s and are spaced at the rate). Values are quantized with the
        current factors; every frame uses one block whose bit width fits its largest delta.
        """
        acc, gyr = as_samples(acc, gyr)
        n = acc.shape[0]
        t = np.arange(n) / self.rate_hz if sensor_time_s is None else np.asarray(sensor_time_s, dtype=float)
        if n and not np.all(t >= 0):
            raise ValueError("Polar sensor times are ns since 2000-01-01 and cannot be negative (or NaN).")
        acc_q = to_int16(acc / G, self.acc_factor).astype(np.int64)
        gyr_q = to_int16(gyr / DEG2RAD, self.gyr_factor).astype(np.int64)
        k = self.samples_per_frame
        out: list[bytes] = []
        for i in range(0, n, k):
            j = min(i + k, n)
            ts_ns = int(np.rint(t[j - 1] * 1e9))
            for meas, q in ((MEAS_ACC, acc_q), (MEAS_GYRO, gyr_q)):
                out.append(bytes([meas]) + ts_ns.to_bytes(8, "little") + bytes([FRAME_DELTA]) + _pack_delta(q[i:j]))
        return out


def _decode_raw(tab: PayloadTable, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Raw int16 ACC frames (mG), grouped by length; returns values in frame order and samples per frame."""
    body = tab.lengths[frames] - HEADER_LEN
    count = body // 6
    values = np.zeros((int(count.sum()), 3))
    starts = np.cumsum(count) - count
    for size in np.unique(body):
        sel = np.flatnonzero(body == size)
        v = view(tab.rows(frames[sel], int(size), HEADER_LEN), 0, int(size), "<i2").reshape(-1, 3)
        dest = (starts[sel, None] + np.arange(size // 6)).ravel()
        values[dest] = v
    return values, count


def _frame_blocks(data: bytes, start: int) -> list[tuple[int, int, int]] | None:
    """Block layout ``(offset, bit width, count)`` of one delta frame, or None if malformed.

    This loop reads two header bytes per block (a frame usually has one or two blocks); the deltas themselves
    are unpacked vectorized in :func:`_decode_delta`.
    """
    blocks = []
    off, end = start, len(data)
    while off < end:
        if off + 2 > end:
            return None
        width, count = data[off], data[off + 1]
        nbytes = (width * count * 3 + 7) >> 3
        if width > 32 or off + 2 + nbytes > end:
            return None
        blocks.append((off + 2, width, count))
        off += 2 + nbytes
    return blocks


def _decode_delta(tab: PayloadTable, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Delta frames -> (valid frame indices, samples per frame, (n, 3) int values), all frames at once.

    Layouts are read per frame; then every packed delta of every block is extracted in one vectorized pass
    (read 5 bytes at the delta's byte offset as a little-endian word, shift by its bit offset, mask,
    sign-extend), and samples are rebuilt with a cumulative sum that restarts at each frame's reference
    sample.
    """
    good, counts, b_start, b_width, b_count = [], [], [], [], []
    for f in frames.tolist():
        lo = int(tab.offsets[f])
        data = tab.buf[lo : lo + int(tab.lengths[f])].tobytes()
        if len(data) < HEADER_LEN + REF_LEN:
            continue
        blocks = _frame_blocks(data, HEADER_LEN + REF_LEN)
        if blocks is None:
            continue
        good.append(f)
        counts.append(1 + sum(b[2] for b in blocks))
        for off, width, count in blocks:
            b_start.append((lo + off) * 8)
            b_width.append(width)
            b_count.append(count)
    if not good:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, 3))
    good_a = np.asarray(good, dtype=np.int64)
    count_a = np.asarray(counts, dtype=np.int64)
    n_samples = int(count_a.sum())
    first = np.cumsum(count_a) - count_a  # row of each frame's reference sample
    out = np.zeros((n_samples, 3), dtype=np.int64)
    out[first] = view(tab.rows(good_a, REF_LEN, HEADER_LEN), 0, REF_LEN, "<i2")

    width = np.asarray(b_width, dtype=np.int64)
    bcount = np.asarray(b_count, dtype=np.int64)
    n_vals = 3 * bcount
    if n_vals.sum():
        block = np.repeat(np.arange(width.size), n_vals)
        k = within_segment(n_vals)
        w = width[block]
        bit = np.asarray(b_start, dtype=np.int64)[block] + k * w
        word = tab.uint(bit >> 3, 5) >> (bit & 7).astype(np.uint64)
        mask = (np.uint64(1) << w.astype(np.uint64)) - np.uint64(1)
        v = (word & mask).astype(np.int64)
        sign = np.where(w > 0, np.int64(1) << np.maximum(w - 1, 0), np.int64(1) << 62)
        # deltas come frame by frame, block by block: exactly the rows that are not reference rows
        is_delta = np.ones(n_samples, dtype=bool)
        is_delta[first] = False
        out[is_delta] = np.where(v >= sign, v - (np.int64(1) << w), v).reshape(-1, 3)
    csum = np.cumsum(out, axis=0)
    base = csum[first] - out[first]
    return good_a, count_a, (csum - np.repeat(base, count_a, axis=0)).astype(float)


def _pack_delta(q: np.ndarray) -> bytes:
    """Reference sample + one block of LSB-first packed signed deltas (width = bits of the largest delta)."""
    ref = q[0].astype("<i2").tobytes()
    d = np.diff(q, axis=0).ravel()
    if d.size == 0:
        return ref
    m = int(np.max(np.abs(d)))
    width = max(1, m.bit_length() + 1)
    u = (d & ((1 << width) - 1)).astype(np.uint64)
    bits = ((u[:, None] >> np.arange(width, dtype=np.uint64)) & np.uint64(1)).astype(np.uint8).ravel()
    return ref + bytes([width, d.size // 3]) + np.packbits(bits, bitorder="little").tobytes()
