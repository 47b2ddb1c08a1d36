"""Helpers shared by the protocol modules: payload tables, counter unwrapping, option checks, stream pairing.

Kept private (``_common``) because they are implementation details of the decoders, not part of the contract
in :mod:`devices.protocols.base`. Everything here is vectorized: no helper loops over samples.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .base import SIG_BASE, Decoded

#: Standard gravity, m/s² (the same value as ``gait.conventions.GRAVITY``; ``devices`` must not import
#: ``gait``).
G = 9.80665
DEG2RAD = np.pi / 180.0
#: zero bytes appended to the joined buffer so fixed-width reads near the end never run past it
_PAD = 16


def check_option(name: str, value: object, allowed: Iterable[object]) -> None:
    """Raise a uniform ``ValueError`` ("allowed values are ..., but got ...") for a value not allowed."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name}: allowed values are {', '.join(map(repr, allowed))}, but got {value!r}.")


def nearest(value: float, allowed: Sequence[float]) -> float:
    """The allowed value closest to ``value`` (rates are requested approximately, e.g. 200 -> 208 Hz)."""
    arr = np.asarray(allowed, dtype=float)
    return float(arr[np.argmin(np.abs(arr - float(value)))])


def normalize_uuid(uuid: str) -> str:
    """Lower-case 128-bit form; 16- and 32-bit short forms are expanded with the Bluetooth SIG base."""
    s = str(uuid).strip().lower()
    if s.startswith("0x"):
        s = s[2:]
    if len(s) == 4:
        return f"0000{s}{SIG_BASE}"
    if len(s) == 8:
        return f"{s}{SIG_BASE}"
    return s


def any_uuid(service_uuids: Sequence[str], wanted: Iterable[str]) -> bool:
    """True when any advertised service UUID equals one of ``wanted`` (both normalized)."""
    want = {normalize_uuid(w) for w in wanted}
    return any(normalize_uuid(u) in want for u in service_uuids or ())


def name_starts(name: str | None, prefixes: Iterable[str]) -> bool:
    """Case-insensitive prefix match on an advertised name (None never matches)."""
    if not name:
        return False
    low = name.strip().lower()
    return any(low.startswith(p.lower()) for p in prefixes)


class PayloadTable:
    """All payloads joined once into one ``uint8`` buffer, with per-payload offsets and lengths.

    Decoders select payloads with vectorized masks on ``lengths`` and leading bytes, then gather each group as
    a 2-D ``(n, length)`` array in one fancy-indexing step. Items that are not bytes-like are treated as empty
    payloads (and so end up in ``n_bad``), never raised.
    """

    def __init__(self, payloads: Sequence[bytes]):
        items = [p if isinstance(p, bytes | bytearray) else _as_bytes(p) for p in payloads]
        self.n = len(items)
        self.lengths = np.fromiter(map(len, items), dtype=np.int64, count=self.n)
        self.offsets = np.cumsum(self.lengths) - self.lengths
        self.buf = np.frombuffer(b"".join(items) + bytes(_PAD), dtype=np.uint8)
        same = self.n > 0 and bool((self.lengths == self.lengths[0]).all())
        self._uniform = int(self.lengths[0]) if same else -1  # all one length: rows are a plain reshape

    def byte(self, k: int) -> np.ndarray:
        """Byte ``k`` of every payload as int64, -1 where the payload is shorter."""
        ok = self.lengths > k
        out = np.full(self.n, -1, dtype=np.int64)
        out[ok] = self.buf[self.offsets[ok] + k]
        return out

    def rows(self, idx: np.ndarray, length: int, start: int = 0) -> np.ndarray:
        """``(len(idx), length)`` uint8: bytes ``start .. start+length`` of the selected payloads."""
        idx = np.asarray(idx, dtype=np.int64)
        if self._uniform >= 0 and start == 0 and length == self._uniform:
            return self.buf[: self.n * length].reshape(self.n, length)[idx]
        return self.buf[(self.offsets[idx] + start)[:, None] + np.arange(length)]

    def uint(self, pos: np.ndarray, nbytes: int) -> np.ndarray:
        """Little-endian unsigned ints of ``nbytes`` (<= 8) starting at absolute buffer positions ``pos``."""
        out = np.zeros(np.shape(pos), dtype=np.uint64)
        for k in range(nbytes):
            out |= self.buf[pos + k].astype(np.uint64) << np.uint64(8 * k)
        return out


def _as_bytes(p: object) -> bytes:
    if isinstance(p, memoryview):
        return p.tobytes()
    return b""


def view(rows: np.ndarray, start: int, stop: int, dtype: str) -> np.ndarray:
    """Reinterpret columns ``start:stop`` of a 2-D uint8 array as ``dtype`` (e.g. ``'<i2'``, ``'<f4'``)."""
    return np.ascontiguousarray(rows[:, start:stop]).view(dtype)


def view_f32(rows: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Columns ``start:stop`` read as little-endian float32, returned as float64.

    Random bytes can hold signalling NaNs, whose conversion raises numpy's "invalid value" warning; they are
    data like any other value here (a NaN stays NaN), so the warning is silenced.
    """
    with np.errstate(invalid="ignore"):
        return view(rows, start, stop, "<f4").astype(float)


def unwrap_counter(values: np.ndarray, period: int) -> np.ndarray:
    """Unwrap a rolling-over counter (e.g. a u32 timestamp) given in arrival order, vectorized.

    A backward step of more than half a period is a rollover (+period from there on); a forward step of more
    than half a period is a late packet from before the rollover (-period). Returns int64.
    """
    v = np.asarray(values).astype(np.int64)
    if v.size < 2:
        return v
    d = np.diff(v)
    half = period // 2
    steps = (d < -half).astype(np.int64) - (d > half).astype(np.int64)
    return v + period * np.concatenate(([0], np.cumsum(steps)))


def within_segment(counts: np.ndarray) -> np.ndarray:
    """Position of each element inside its segment, for segments of the given lengths laid end to end."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


def to_int16(values: np.ndarray, lsb: float) -> np.ndarray:
    """Quantize physical values to saturating int16 counts of size ``lsb`` (NaN encodes as 0)."""
    raw = np.rint(np.nan_to_num(np.asarray(values, dtype=float) / lsb))
    return np.clip(raw, -32768, 32767).astype("<i2")


def split_rows(arr: np.ndarray) -> list[bytes]:
    """One ``bytes`` per row of a 2-D uint8 array (the payload list an encoder returns)."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    data = arr.tobytes()
    width = arr.shape[1] if arr.ndim == 2 else 0
    return [data[i : i + width] for i in range(0, len(data), width)] if width else []


def as_samples(acc: np.ndarray, gyr: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Validate encoder input: two ``(n, 3)`` float arrays (a missing gyro becomes NaN)."""
    acc = np.asarray(acc, dtype=float).reshape(-1, 3)
    gyr = np.full_like(acc, np.nan) if gyr is None else np.asarray(gyr, dtype=float).reshape(-1, 3)
    if gyr.shape != acc.shape:
        raise ValueError(f"acc and gyr must have the same shape (n, 3), got {acc.shape} and {gyr.shape}.")
    return acc, gyr


def imu_decoded(
    acc: np.ndarray,
    gyr: np.ndarray,
    sensor_time_s: np.ndarray | None,
    payload_index: np.ndarray,
    n_bad: int,
    extra: dict[str, np.ndarray] | None = None,
) -> Decoded:
    """Build a :class:`Decoded` for an IMU stream; ``extra`` columns are per sample (same payload index)."""
    payload_index = np.asarray(payload_index, dtype=np.int64)
    return Decoded(
        acc=np.asarray(acc, dtype=float).reshape(-1, 3),
        gyr=np.asarray(gyr, dtype=float).reshape(-1, 3),
        sensor_time_s=None if sensor_time_s is None else np.asarray(sensor_time_s, dtype=float),
        payload_index=payload_index,
        n_bad=int(n_bad),
        extra=dict(extra or {}),
        extra_payload_index=payload_index.copy() if extra else None,
    )


def align_streams(
    t_acc: np.ndarray,
    acc: np.ndarray,
    pi_acc: np.ndarray,
    t_gyr: np.ndarray,
    gyr: np.ndarray,
    pi_gyr: np.ndarray,
    period: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Combine an accelerometer and a gyroscope stream that arrive separately into one sample table.

    The accelerometer timeline is primary. The gyroscope is linearly interpolated onto each acc time whose two
    neighbouring gyro samples are at most 2.5 periods apart; elsewhere (edges, gaps) the nearest gyro sample
    is held if it is within half a period, else the gyro is NaN: a gap stays a gap. Gyro samples with no acc
    sample within 0.75 period (lost acc packets, or a stream that has no acc at all) are kept as extra rows
    with NaN acc, so no gyro data is dropped. Output rows are sorted by time (stable).

    Returns ``t, acc, gyr, payload_index``.
    """
    oa = np.argsort(t_acc, kind="stable")
    og = np.argsort(t_gyr, kind="stable")
    t_a, a, pa = t_acc[oa], acc[oa], pi_acc[oa]
    t_g, g, pg = t_gyr[og], gyr[og], pi_gyr[og]
    n_a, n_g = t_a.size, t_g.size

    g_on_a = np.full((n_a, 3), np.nan)
    if n_a and n_g:
        j = np.searchsorted(t_g, t_a, side="left")
        lo = np.clip(j - 1, 0, n_g - 1)
        hi = np.clip(j, 0, n_g - 1)
        tl, th = t_g[lo], t_g[hi]
        span = th - tl
        inside = (j > 0) & (j < n_g) & (span <= 2.5 * period)
        w = np.divide(t_a - tl, span, out=np.zeros(n_a), where=span > 0)
        interp = g[lo] + w[:, None] * (g[hi] - g[lo])
        d_lo, d_hi = np.abs(t_a - tl), np.abs(th - t_a)
        near = np.where(d_lo <= d_hi, lo, hi)
        hold = np.minimum(d_lo, d_hi) <= 0.5 * period
        g_on_a = np.where(inside[:, None], interp, np.where(hold[:, None], g[near], np.nan))

    if n_a:
        k = np.searchsorted(t_a, t_g)
        d_prev = np.abs(t_g - t_a[np.clip(k - 1, 0, n_a - 1)])
        d_next = np.abs(t_a[np.clip(k, 0, n_a - 1)] - t_g)
        orphan = np.minimum(d_prev, d_next) > 0.75 * period
    else:
        orphan = np.ones(n_g, dtype=bool)

    t = np.concatenate([t_a, t_g[orphan]])
    acc_out = np.concatenate([a, np.full((int(orphan.sum()), 3), np.nan)])
    gyr_out = np.concatenate([g_on_a, g[orphan]])
    pi = np.concatenate([pa, pg[orphan]])
    order = np.argsort(t, kind="stable")
    return t[order], acc_out[order], gyr_out[order], pi[order]
