"""Raw log -> session: decode each device of a raw log, put it on the host clock, and build the session.

:func:`decode_rawlog` / :func:`session_from_rawlog` decode each device vectorized, remove duplicates by sensor
time, fit each sensor clock to host time (:mod:`gait.clocksync`), record gaps, and keep footpod values in the
session's ``extra`` metadata. :func:`recover` does this for a raw log whose end is torn and says what was cut.
Pure file work: no radio, so it runs anywhere a raw log can be read.

Sensors without timestamps (WitMotion, MetaWear) are counted at their nominal rate within each connection, and a
lost packet is put back as a hole of its size from the arrival times (:func:`_count_clock`), placed to within
about half a connection event (half a radio tick in a sped-up simulation: up to 0.1-0.2 s at ``--speedup 20`` or
``max``). Limits: a loss in the last :data:`COUNT_TAIL_S` of a connection is not placed (nothing later confirms
it); a steady loss of under about 0.2 % of packets is indistinguishable from a sensor running that much slow and is
absorbed by the clock fit as drift (times stay right on average, no holes are reported); and MetaWear's acc and
gyro notifications are paired by their counts in the protocol decoder, so a lost one of the two still shifts that
stream's pairing by its 1 or 3 samples (5-15 ms at 200 Hz) until the end of the batch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gait.acquire.common import IMU_SIDES, AcquisitionError, protocol_for
from gait.acquire.hostclock import payload_last
from gait.clocksync import fit_clock, unwrap_sensor_time
from gait.io.rawlog import RawLog, read_rawlog

if TYPE_CHECKING:
    from gait.session import Session

__all__ = [
    "DecodedSide",
    "RecoverResult",
    "decode_rawlog",
    "recover",
    "session_and_sides",
    "session_from_rawlog",
]


@dataclass
class DecodedSide:
    """One device of a raw log, decoded: session-time samples, clock fit, gaps and counts.

    ``t`` is in session seconds (host time since the recording started, sensor clock fitted to it); ``sensor_time``
    the sensor's own (unwrapped) clock where the protocol has one. ``extra`` holds non-IMU columns (a footpod).
    """

    side: str
    family: str
    model: str
    address: str
    rate_hz: float
    t: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    sensor_time: np.ndarray | None
    gaps: list[list[float]]
    stats: dict[str, Any]
    clock: dict[str, Any] | None = None
    firmware: str | None = None
    extra: dict[str, list[float]] | None = None


def _events_for(raw: RawLog, dev: int, kind: str) -> list[dict[str, Any]]:
    return [e for e in raw.events if e.get("device") == dev and e.get("event") == kind]


def _time_origin(raw: RawLog) -> tuple[int, float]:
    starts = [e["t_ns"] for e in raw.events if e.get("event") == "start"]
    t0 = int(min(starts)) if starts else (int(raw.t_ns.min()) if raw.t_ns.size else 0)
    scale = raw.header.get("time_scale")
    for e in raw.events:
        if e.get("event") == "stop" and e.get("time_scale"):
            scale = e["time_scale"] if scale is None else scale
    return t0, float(scale or 1.0)


def _gaps(t: np.ndarray, rate_hz: float, factor: float = 1.5) -> tuple[list[list[float]], int]:
    """Intervals ``[a, b]`` between consecutive samples more than ``factor`` periods apart, and the samples missing."""
    if t.size < 2 or not rate_hz:
        return [], 0
    dt = np.diff(t)
    period = 1.0 / rate_hz
    idx = np.flatnonzero(dt > factor * period)
    missing = int(np.sum(np.maximum(np.rint(dt[idx] / period) - 1, 1))) if idx.size else 0
    return [[float(t[i]), float(t[i + 1])] for i in idx], missing


#: Lost samples are inferred from arrival times only where this many seconds of later payloads confirm them (the
#: last payloads of a connection say little: their delays are not yet undercut by later ones).
COUNT_TAIL_S = 2.0


def _count_clock(pi: np.ndarray, arrival: np.ndarray, rate: float, find_lost: bool = True, n_iter: int = 6):
    """The clock of a sensor without timestamps, within one connection: its samples counted at the nominal
    ``rate`` (``pi``: each sample's payload, in arrival order), lost samples put back from the arrival times, and
    the count fitted to the arrivals. Returns ``(fit, x, lost)``: the clock fit, each sample's counted time
    (seconds, lost samples included: a lost packet leaves a hole of its size) and the samples found lost.

    A lost packet makes every later sample count one packet too early, so ``arrival - fitted time`` (each payload's
    delay, never negative) steps up by its duration from there on. The largest non-decreasing step function under
    the delays - their suffix minimum - is the number of samples lost before each payload, to within the smallest
    delays (a packet interval or so at a radio tick; better with more payloads per tick), and placed half-way
    between the two payloads whose delays bound it (to within half a connection event or radio tick: a few ms on
    real radios, up to 0.2 s in a sped-up simulation). Refitted until no step is
    left; a drift the clock fit absorbs (a sensor slower than nominal) leaves no step and is not taken for a loss.
    Losses in the last :data:`COUNT_TAIL_S` of a connection are not placed (nothing later confirms them).
    ``find_lost=False`` (arrival times not in the sensors' time, as in raw logs of the first ``--speedup max``
    recordings) counts only.
    """
    count = np.arange(pi.size, dtype=float)
    payloads, local = np.unique(pi, return_inverse=True)  # this connection's payloads, in arrival order
    arr = arrival[payloads]
    lost = np.zeros(payloads.size)  # samples lost before each payload
    per = float(np.median(np.bincount(local)))  # samples per payload: a lost packet is a whole one
    fit = None
    for _ in range(n_iter):
        x = (count + lost[local]) / rate
        last = payload_last(x, local, payloads.size)
        ok = np.isfinite(last)
        fit = fit_clock(last[ok], arr[ok])
        if not rate or ok.sum() < 2:
            break
        r = arr[ok] - fit.to_host(last[ok])  # the delay of each payload, were the count right
        head = last[ok] <= last[ok].max() - COUNT_TAIL_S
        if not head.any() or not find_lost:
            break
        floor = np.minimum.accumulate(r[::-1])[::-1]  # the delay no later payload undercuts
        floor[~head] = floor[head][-1]
        # whole packets, a quarter of one of margin against the noise of the smallest delays
        step = per * np.maximum(np.floor((floor - floor[0]) * rate / per + 0.25), 0.0)
        if not step.any():
            break
        # a loss lies between two payloads whose delay sets the floor (the last of a connection event or radio
        # tick); the floor puts it just after the first of them, the middle of the two is half as far off at worst
        xs = last[ok]
        idx = np.arange(r.size)
        sets = r <= floor
        prev = np.maximum.accumulate(np.where(sets, idx, -1))
        nxt = np.minimum.accumulate(np.where(sets, idx, r.size)[::-1])[::-1]
        inside = ~sets & (prev >= 0) & (nxt < r.size)
        pc, nc = np.clip(prev, 0, r.size - 1), np.clip(nxt, 0, r.size - 1)
        early = inside & (xs < 0.5 * (xs[pc] + xs[nc]))
        step = np.where(early, step[pc], step)
        add = np.zeros(payloads.size)
        add[ok] = step
        lost += np.maximum.accumulate(add)
    x = (count + lost[local]) / rate
    return fit, x, int(lost[-1]) if lost.size else 0


def _decode_device(raw: RawLog, dev: int, info: Mapping[str, Any], protocols: Any, t0_ns: int, scale: float):
    # raw logs of ``--speedup max`` before the backend-clock stamps: host stamps, no fixed ratio to the sensors' time
    trust_arrivals = raw.header.get("time_scale") is not None
    family = str(info.get("family"))
    proto = protocol_for(family, info.get("config") or {}, protocols)
    t_ns, payloads = raw.payloads_for(dev)
    if hasattr(proto, "apply_control_response"):
        for e in _events_for(raw, dev, "response"):
            with contextlib.suppress(ValueError, TypeError):
                proto.apply_control_response(bytes.fromhex(e.get("hex", "")))
    arrival = (t_ns - t0_ns).astype(float) * 1e-9 * scale
    dec = proto.decode(payloads)
    connects = _events_for(raw, dev, "connect")
    batteries = _events_for(raw, dev, "battery")
    stats: dict[str, Any] = {
        "payloads": len(payloads),
        "bad_payloads": int(dec.n_bad),
        "disconnects": len(_events_for(raw, dev, "disconnect")),
        "reconnects": len(_events_for(raw, dev, "reconnect")),
        "battery_pct": batteries[-1].get("level") if batteries else None,
    }
    side = str(info.get("side", f"device{dev}"))
    common = {
        "side": side,
        "family": family,
        "model": str(info.get("model") or proto.model or family),
        "address": str(info.get("address", "")),
        "rate_hz": float(getattr(proto, "rate_hz", 0.0) or 0.0),
        "firmware": connects[0].get("firmware") if connects else None,
    }
    empty = np.zeros((0, 3))
    if not getattr(proto, "is_imu", True):
        idx = dec.extra_payload_index if dec.extra_payload_index is not None else np.zeros(0, dtype=int)
        extra = {"t": [float(v) for v in arrival[idx]]}
        for k, v in dec.extra.items():
            extra[k] = [float(x) for x in np.asarray(v, dtype=float)]
        stats["samples"] = len(idx)
        return DecodedSide(
            t=np.zeros(0), acc=empty, gyr=empty, sensor_time=None, gaps=[], stats=stats, extra=extra, **common
        )

    n = dec.n_samples
    rate = common["rate_hz"]
    stats["decoded_samples"] = n
    if n == 0:
        stats.update(samples=0, duplicates=0, missing_samples=0)
        return DecodedSide(t=np.zeros(0), acc=empty, gyr=empty, sensor_time=None, gaps=[], stats=stats, **common)
    pi = np.asarray(dec.payload_index, dtype=np.int64)
    if dec.sensor_time_s is not None:
        st = unwrap_sensor_time(np.asarray(dec.sensor_time_s, dtype=float))
        last = payload_last(st, pi, len(payloads))
        ok = np.isfinite(last)
        fit = fit_clock(last[ok], arrival[ok])
        key = np.rint(st * 1e6).astype(np.int64)
        _, first = np.unique(key, return_index=True)  # sorted by sensor time, first arrival of each
        stats["duplicates"] = int(n - first.size)
        st_u = st[first]
        t = fit.to_host(st_u)
        acc, gyr = dec.acc[first], dec.gyr[first]
        clock = {"method": "sensor timestamps, lower-envelope fit", **fit.to_dict()}
        sensor_time = st_u
    else:
        # no sensor time: count samples at the nominal rate within each connection, fit the count to arrivals
        reconnect_ns = [e["t_ns"] for e in _events_for(raw, dev, "reconnect")]
        seg_of_payload = np.searchsorted(np.asarray(reconnect_ns, dtype=np.int64), t_ns, side="right")
        seg = seg_of_payload[pi]
        t = np.empty(n)
        fits = []
        for k in np.unique(seg):
            m = np.flatnonzero(seg == k)
            fit, x, lost = _count_clock(pi[m], arrival, rate, find_lost=trust_arrivals)
            t[m] = fit.to_host(x)
            fits.append({**fit.to_dict(), "lost_samples": lost})
        order = np.argsort(t, kind="stable")
        t, acc, gyr = t[order], dec.acc[order], dec.gyr[order]
        stats["duplicates"] = 0
        clock = {"method": "nominal rate and arrival times, per connection", "segments": fits}
        sensor_time = None
    gaps, missing = _gaps(t, rate)
    # a link that never came back: the data stop before the recording does
    stops = [e["t_ns"] for e in raw.events if e.get("event") == "stop"]
    downs = _events_for(raw, dev, "disconnect")
    ups = _events_for(raw, dev, "reconnect")
    if downs and (not ups or ups[-1]["t_ns"] < downs[-1]["t_ns"]) and stops and t.size:
        end = (stops[-1] - t0_ns) * 1e-9 * scale
        if end > t[-1] + 1.5 / rate:
            gaps.append([float(t[-1]), float(end)])
    stats.update(samples=int(t.size), missing_samples=missing, gaps=len(gaps))
    return DecodedSide(t=t, acc=acc, gyr=gyr, sensor_time=sensor_time, gaps=gaps, stats=stats, clock=clock, **common)


def decode_rawlog(raw: RawLog | str | Path, *, protocols: Mapping[str, Callable] | None = None) -> list[DecodedSide]:
    """Decode every device of a raw log (vectorized per device), in device order."""
    if not isinstance(raw, RawLog):
        raw = read_rawlog(raw)
    t0, scale = _time_origin(raw)
    return [_decode_device(raw, dev, info, protocols, t0, scale) for dev, info in sorted(raw.devices.items())]


def session_and_sides(raw: RawLog, protocols: Any) -> tuple[Session, list[DecodedSide]]:
    from gait.session import Session

    sides = decode_rawlog(raw, protocols=protocols)
    imu = {d.side: d for d in sides if d.side in IMU_SIDES and d.extra is None}
    if not imu or all(d.t.size == 0 for d in imu.values()):
        raise AcquisitionError(f"{raw.path}: the raw log holds no IMU samples ({raw.describe_loss()})")
    h = raw.header
    t0, scale = _time_origin(raw)
    events = [
        {
            "t_s": round((e["t_ns"] - t0) * 1e-9 * scale, 6),
            "side": raw.devices.get(e.get("device"), {}).get("side"),
            "event": e.get("event"),
        }
        for e in raw.events
        if e.get("event") in ("start", "stop", "connect", "disconnect", "reconnect")
    ]
    extra: dict[str, Any] = {
        "acquisition": {
            "rawlog": raw.path.name,
            "backend": h.get("backend"),
            "time_scale": scale,
            "devices": {d.side: {"address": d.address, "family": d.family, "model": d.model} for d in sides},
            "stats": {d.side: d.stats for d in sides},
            "clock": {d.side: d.clock for d in sides if d.clock is not None},
            "events": events,
            "rawlog_loss": raw.describe_loss(),
        }
    }
    for d in sides:
        if d.extra is not None:
            extra[d.side if d.side != "footpod" else "footpod"] = {"family": d.family, "address": d.address, **d.extra}
    session = Session.from_arrays(
        **{s: {"t": d.t, "acc": d.acc, "gyr": d.gyr} for s, d in imu.items()},
        placement=h.get("placement") or "shank",
        sample_rate_hz={s: d.rate_hz for s, d in imu.items()},
        label=h.get("label", ""),
        load_kg=float(h.get("load_kg") or 0.0),
        subject=h.get("subject", ""),
        sensor_model={s: d.model for s, d in imu.items()},
        firmware={s: d.firmware for s, d in imu.items() if d.firmware},
        start_time=h.get("start_time"),
        notes=h.get("notes", ""),
        gaps={s: d.gaps for s, d in imu.items()},
        extra=extra,
    )
    return session, sides


def session_from_rawlog(raw: RawLog | str | Path, *, protocols: Mapping[str, Callable] | None = None) -> Session:
    """The session a raw log holds (everything intact in it; see :func:`recover` for a torn one)."""
    if not isinstance(raw, RawLog):
        raw = read_rawlog(raw)
    return session_and_sides(raw, protocols)[0]


@dataclass
class RecoverResult:
    session_path: Path
    session: Session
    message: str


def recover(
    rawlog_path: str | Path,
    out: str | Path | None = None,
    *,
    overwrite: bool = False,
    protocols: Mapping[str, Callable] | None = None,
) -> RecoverResult:
    """Turn a raw log (e.g. of a killed recording, its end torn) into a session; says how much was cut."""
    rawlog_path = Path(rawlog_path)
    raw = read_rawlog(rawlog_path)
    target = Path(out) if out is not None else rawlog_path.with_suffix(".parquet")
    if target.exists() and not overwrite:
        raise AcquisitionError(f"{target} already exists; pass --out to choose another name, or --overwrite")
    session, sides = session_and_sides(raw, protocols)
    session.save(target)
    counts = ", ".join(f"{d.side} {d.stats.get('samples', 0)} samples" for d in sides)
    return RecoverResult(target, session, f"{raw.describe_loss()}; kept {counts}")
