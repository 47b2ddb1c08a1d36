"""Acquisition: pair two ankle sensors, record them into a crash-safe raw log, decode the log into a session.

The radio work is done by :mod:`devices.ble` (imported lazily, only here). This module adds what needs gait:

* :func:`record` streams both ankles (and optionally a footpod) into ``PATH.rawlog`` beside the session ``PATH``:
  notifications go from the callbacks into a queue, a pump writes them as raw-log frames (flushed at least every
  0.5 s, so a killed process loses at most about a second), DEVICE frames describe each sensor and EVENT frames
  mark start, stop, disconnect, reconnect and battery. A live status line per sensor shows rate, drops and battery;
  live form feedback (:mod:`gait.live` on the decoded stream, :mod:`gait.live_view` on a terminal) runs beside it
  and is switched off, with one line, by any error or when it cannot keep up - never the recording.
  Ctrl-C (or ``duration_s``) ends the recording cleanly; the raw log is then decoded into a :class:`gait.Session`.
* :func:`decode_rawlog` / :func:`session_from_rawlog` decode each device vectorized, remove duplicates by sensor
  time, fit each sensor clock to host time (:mod:`gait.clocksync`), record gaps, and keep footpod values in the
  session's ``extra`` metadata. :func:`recover` does this for a raw log whose end is torn and says what was cut.
* :func:`pair` picks the left and right sensor (by address, or interactively: the sensor that jolts when the
  runner taps an ankle), checks battery, sample rate and mounting while the runner stands still, and remembers the
  pair in the user's config folder.
* :func:`simulation` builds the virtual sensors (:mod:`devices.simulated`) fed by :mod:`gait.synth` for
  ``--simulate``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from gait import conventions as C
from gait.clocksync import WRAP_PERIODS_S, fit_clock, robust_line, unwrap_sensor_time
from gait.errors import GaitError
from gait.io.rawlog import RawLog, RawLogWriter, read_rawlog

if TYPE_CHECKING:  # imported lazily at run time: gait imports devices only in acquisition code
    from devices.ble import Backend
    from devices.simulated import SimulatedRadio, VirtualPeripheral
    from gait.session import Session

__all__ = [
    "AcquisitionError",
    "DecodedSide",
    "PairResult",
    "RecordResult",
    "SensorCheck",
    "Simulation",
    "check_standing",
    "config_dir",
    "decode_rawlog",
    "load_pair",
    "pair",
    "pair_path",
    "rawlog_path_for",
    "record",
    "recover",
    "save_pair",
    "session_from_rawlog",
    "simulation",
]

DEFAULT_RATE_HZ = 200.0
DEFAULT_SIM_FAMILY = "movesense"
FLUSH_INTERVAL_S = 0.5
PUMP_INTERVAL_S = 0.1
RAWLOG_FORMAT = "gait raw BLE log"
IMU_SIDES = ("left", "right")


class AcquisitionError(GaitError, RuntimeError):
    """A sensor or radio problem the user can fix (switched off, out of range, no Bluetooth, nothing paired)."""


@contextlib.contextmanager
def _device_errors() -> Iterator[None]:
    """Re-raise the radio layer's one-line errors as :class:`AcquisitionError` (a GaitError)."""
    from devices.errors import DeviceError

    try:
        yield
    except DeviceError as exc:
        raise AcquisitionError(str(exc)) from exc


def _platform_backend() -> Backend:
    from devices.ble import PLATFORM

    return PLATFORM


# --- the pair config ----------------------------------------------------------------------------------------------
def config_dir() -> Path:
    """The user's gait config folder: ``$GAIT_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/gait``, else ``~/.config/gait``."""
    if os.environ.get("GAIT_CONFIG_DIR"):
        return Path(os.environ["GAIT_CONFIG_DIR"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "gait"


def pair_path(simulated: bool = False) -> Path:
    """Where the pair is remembered (a simulated pair is kept apart so the demo never replaces the real one)."""
    return config_dir() / ("pair-simulated.json" if simulated else "pair.json")


def load_pair(simulated: bool = False, path: str | Path | None = None) -> dict[str, Any] | None:
    """The remembered pair, or None when there is none."""
    p = Path(path) if path else pair_path(simulated)
    if not p.exists():
        return None
    try:
        data = json.loads(p.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise AcquisitionError(f"{p}: the remembered pair is unreadable; run `gait pair` again") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(s), dict) for s in IMU_SIDES):
        raise AcquisitionError(f"{p}: the remembered pair is incomplete; run `gait pair` again")
    return data


def save_pair(pair_config: Mapping[str, Any], simulated: bool = False, path: str | Path | None = None) -> Path:
    """Remember a pair (atomically)."""
    p = Path(path) if path else pair_path(simulated)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(dict(pair_config), indent=2, sort_keys=True))
    tmp.replace(p)
    return p


def rawlog_path_for(session_path: str | Path) -> Path:
    """The raw log kept beside a session: ``run.parquet`` -> ``run.rawlog``."""
    return Path(session_path).with_suffix(".rawlog")


# --- sensors to use -------------------------------------------------------------------------------------------------
@dataclass
class SensorSpec:
    """One sensor to record: its side (``left``, ``right``, ``footpod``), address (or unique name) and protocol."""

    side: str
    address: str
    family: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    name: str = ""


def _specs(
    left: str | None,
    right: str | None,
    footpod: str | None,
    pair_config: Mapping[str, Any] | None,
    rate_hz: float | None,
) -> list[SensorSpec]:
    """Sensors from the named addresses, else the remembered pair; never anything else."""
    specs: list[SensorSpec] = []
    for side, named in (("left", left), ("right", right), ("footpod", footpod)):
        entry = (pair_config or {}).get(side) if named is None else None
        if named is not None:
            spec = SensorSpec(side, named)
        elif isinstance(entry, Mapping) and entry.get("address"):
            spec = SensorSpec(
                side, str(entry["address"]), entry.get("family"), dict(entry.get("config") or {}), entry.get("name", "")
            )
        else:
            continue
        if rate_hz is not None and side != "footpod":
            spec.config["rate_hz"] = float(rate_hz)
        specs.append(spec)
    if not any(s.side in IMU_SIDES for s in specs):
        raise AcquisitionError(
            "no sensors to record: run `gait pair` first, or name them with --left ADDRESS --right ADDRESS"
        )
    addresses = [s.address.lower() for s in specs]
    if len(set(addresses)) != len(addresses):
        raise AcquisitionError("the same sensor is named for two sides; give two different sensors")
    return specs


def _protocol_for(family: str, config: Mapping[str, Any], protocols: Mapping[str, Callable] | None) -> Any:
    from devices.ble import make_protocol

    try:
        with _device_errors():
            return make_protocol(family, config, protocols)
    except (ValueError, TypeError) as exc:
        raise AcquisitionError(f"{family}: {exc}") from exc


def _protocol_config(proto: Any, config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration that rebuilds ``proto`` (what was asked, plus the rate it actually runs at)."""
    out = {k: v for k, v in dict(config).items() if isinstance(v, (int, float, str, bool))}
    if getattr(proto, "is_imu", True):
        out["rate_hz"] = float(proto.rate_hz)
    return out


# --- live status --------------------------------------------------------------------------------------------------
#: Live form feedback is switched on automatically up to this simulated speedup (real sensors run at 1x): the
#: analysis costs about speedup x 4 % of a core inside the pump loop, which must never delay the raw-log flush.
LIVE_MAX_SPEEDUP = 10.0
#: ... and switched off when, after ``LIVE_WATCH_S`` s, it has taken more than this share of the wall time.
LIVE_MAX_SHARE = 0.5
LIVE_WATCH_S = 10.0


class _Feedback:
    """The live form feedback of a recording: one :class:`gait.live.LiveAnalyzer` for both ankles and, on a
    terminal, a :class:`gait.live_view.LiveView`. Any exception switches it off for good with one message; the
    recording goes on (the raw log is what matters)."""

    def __init__(self, analyzer: Any, view: Any, status: _Status | None, out: IO[str] | None):
        self.analyzer = analyzer
        self.view = view
        self.status = status
        self.out = out
        self.active = True
        self.error: str | None = None
        self.feed_s = 0.0  # wall seconds spent in the live path (feed, summary, view)
        self.t0 = time.monotonic()

    def fail(self, exc: BaseException | str) -> None:
        """Switch live feedback off after an exception (once), say so in one line, fall back to the status lines."""
        if not self.active:
            return
        self.active = False
        self.error = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        text = f"live form feedback stopped ({self.error}); the recording goes on"
        view, self.view = self.view, None
        if view is not None:
            with contextlib.suppress(Exception):
                view.message(text)
                view.close()
                text = ""
        if self.status is not None:
            self.status.hidden = False
            self.status.drawn = 0
            if text:
                self.status.message(text)
        elif text and self.out is not None:
            with contextlib.suppress(OSError, ValueError):
                self.out.write(text + "\n")
                self.out.flush()

    def feed(self, side: str, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray | None) -> None:
        if not self.active or t.size == 0:
            return
        w0 = time.perf_counter()
        try:
            self.analyzer.feed(side, t, acc, gyr)
        except Exception as exc:  # noqa: BLE001 - the live view must never stop a recording
            self.fail(exc)
        self.feed_s += time.perf_counter() - w0

    def update(self, health: Mapping[str, Any]) -> None:
        if not self.active:
            return
        wall = time.monotonic() - self.t0
        if wall > LIVE_WATCH_S and self.feed_s > LIVE_MAX_SHARE * wall:
            self.fail(f"it cannot keep up: {self.feed_s / wall:.0%} of the time")
            return
        if self.view is None:
            return
        w0 = time.perf_counter()
        try:
            self.view.update(self.analyzer.summary(), health)
        except Exception as exc:  # noqa: BLE001
            self.fail(exc)
        self.feed_s += time.perf_counter() - w0

    def message(self, text: str) -> bool:
        """Show ``text`` in the live view; False when there is no view (the caller prints it)."""
        if not self.active or self.view is None:
            return False
        try:
            self.view.message(text)
        except Exception as exc:  # noqa: BLE001
            self.fail(exc)
            return False
        return True

    def close(self, health: Mapping[str, Any]) -> None:
        """At the end of the recording: analyse what is left, show the final state."""
        if not self.active:
            return
        try:
            self.analyzer.flush()
            if self.view is not None:
                self.view.update(self.analyzer.summary(), health)
                self.view.close()
        except Exception as exc:  # noqa: BLE001
            self.fail(exc)


class _HostClock:
    """The online counterpart of the recorder's clock fit (:func:`gait.clocksync.fit_clock`): host minus sensor time
    of one sensor from ``arrival - sensor time`` of its payloads (the radio and OS only ever delay a notification).
    As offline: the lower envelope (the minimum in each ``bin_s`` of sensor time) over the last ``window_s``, and a
    robust line through it (a level only while it spans less than ``slope_span_s``), refitted when a bin completes;
    before the first bins are complete, the minimum so far. A plain running minimum would lag a drifting clock by
    drift x window (30 ppm over 45 s: 1.4 ms, a 0.4 % step asymmetry); the line follows it."""

    def __init__(self, bin_s: float = 2.0, window_s: float = 90.0, slope_span_s: float = 30.0):
        self.bin_s = float(bin_s)
        self.window_s = float(window_s)
        self.slope_span_s = float(slope_span_s)
        self.reset()

    def reset(self) -> None:
        self._bins: dict[int, tuple[float, float]] = {}  # bin -> (sensor s, arrival - sensor s) of its minimum
        self._fit: tuple[float, float, float] | None = None  # level at x0, slope, x0
        self._fitted_bins: int | None = None
        self._min = math.inf

    def add(self, sensor_s: np.ndarray, arrival_s: np.ndarray) -> None:
        """Per payload: the sensor time of its last sample and its arrival (backend seconds)."""
        x = np.asarray(sensor_s, dtype=float)
        y = np.asarray(arrival_s, dtype=float) - x
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        if x.size == 0:
            return
        self._min = min(self._min, float(y.min()))
        bins = self._bins
        key = np.floor(x / self.bin_s).astype(np.int64)
        order = np.lexsort((y, key))  # by bin, then by y: the first of each bin is its minimum
        first = order[np.flatnonzero(np.r_[True, key[order][1:] != key[order][:-1]])]
        for k, xi, yi in zip(key[first].tolist(), x[first].tolist(), y[first].tolist(), strict=True):
            if k not in bins or yi < bins[k][1]:
                bins[k] = (xi, yi)
        newest = max(bins)
        for k in [k for k in bins if k < newest - self.window_s / self.bin_s]:
            del bins[k]
        done = sorted(k for k in bins if k < newest)  # the newest bin is still filling
        if len(done) >= 3 and done[-1] != self._fitted_bins:
            self._fitted_bins = done[-1]
            bx = np.array([bins[k][0] for k in done])
            by = np.array([bins[k][1] for k in done])
            x0 = float(bx[-1])
            lvl, slope, _ = robust_line(bx, by, x0, slope=float(np.ptp(bx)) >= self.slope_span_s)
            self._fit = (lvl, slope, x0)

    def offset_at(self, sensor_s: np.ndarray) -> np.ndarray | None:
        """Host minus sensor seconds at these sensor times; None before any payload."""
        if self._fit is not None:
            lvl, slope, x0 = self._fit
            return lvl + slope * (np.asarray(sensor_s, dtype=float) - x0)
        return None if not math.isfinite(self._min) else np.full(np.shape(sensor_s), self._min)


@dataclass
class _Live:
    """Running numbers for one sensor's status line (decoded on the fly), and the feed of the live analysis."""

    side: str
    address: str
    proto: Any
    number: int
    payloads: int = 0
    samples: int = 0
    window_samples: int = 0
    holes: int = 0
    lost_samples: int = 0
    disconnects: int = 0
    battery: int | None = None
    state: str = "connecting"
    last_t: float = -math.inf
    tail: list[bytes] = field(default_factory=list)
    rate: float = float("nan")
    feedback: _Feedback | None = None
    clock: Any = None  # a gait.live.StreamClock: sensor counters -> continuous seconds across batches
    #: backend seconds per host second (the simulator's speedup): arrival ns -> backend seconds, as when decoding;
    #: NaN (or no arrival times given to :meth:`add`) feeds the live analysis in the sensor's own clock
    time_scale: float = math.nan
    t0_ns: int = 0  # arrival origin, shared by the sensors of a recording
    host: _HostClock = field(default_factory=lambda: _HostClock())

    def add(self, payloads: list[bytes], arrivals_ns: Sequence[int] | None = None) -> None:
        """Count (and decode for the live analysis) a batch of one sensor's payloads; ``arrivals_ns`` their host
        arrival times (``time.monotonic_ns``), which put the live analysis's times on the host clock."""
        self.payloads += len(payloads)
        if not payloads:
            return
        p = self.proto
        fb = self.feedback if self.side in IMU_SIDES else None
        try:
            if not getattr(p, "is_imu", True):
                self.samples += len(payloads)
                self.window_samples += len(payloads)
                return
            if not p.has_sensor_time:
                dec = p.decode(payloads)
                n = dec.n_samples
                if fb is not None and n:  # no sensor clock: the samples are spaced at the nominal rate
                    fb.feed(self.side, (self.samples + np.arange(n)) / p.rate_hz, dec.acc, dec.gyr)
                self.samples += n
                self.window_samples += n
                return
            dec = p.decode(self.tail + payloads)  # the tail completes packets split across two batches
            if dec.sensor_time_s is None:
                return
            if self.clock is None:
                from gait.live import StreamClock

                self.clock = StreamClock()
            st = self._unwrap(dec, len(self.tail))
        except Exception:  # noqa: BLE001 - a live view must never stop a recording
            return
        n_tail = len(self.tail)
        self.tail = payloads[-3:]
        ok = np.isfinite(st)
        order = np.argsort(st[ok], kind="stable")
        t = st[ok][order]
        if t.size and t[-1] < self.last_t - 1.0:  # the sensor clock restarted
            self.last_t = -math.inf
            self.host.reset()
        if fb is not None and arrivals_ns is not None and len(arrivals_ns) == len(payloads):
            self._track_host(st, dec.payload_index, n_tail, arrivals_ns)
        keep = t > self.last_t + 1e-6
        new = t[keep]
        if new.size == 0:
            return
        if fb is not None:
            sel = np.flatnonzero(ok)[order][keep]
            gyr = None if dec.gyr is None else dec.gyr[sel]
            # on the host clock (as the decoded session) once the arrivals give the sensor's offset, else its own
            off = self.host.offset_at(new)
            fb.feed(self.side, new if off is None else new + off, dec.acc[sel], gyr)
        period = 1.0 / p.rate_hz
        steps = np.diff(np.concatenate([[self.last_t], new])) if np.isfinite(self.last_t) else np.diff(new)
        big = steps > 1.5 * period
        self.holes += int(big.sum())
        self.lost_samples += int(np.sum(np.rint(steps[big] / period) - 1))
        self.last_t = float(new[-1])
        self.samples += int(new.size)
        self.window_samples += int(new.size)

    def _track_host(self, st: np.ndarray, payload_index: Any, n_tail: int, arrivals_ns: Sequence[int]) -> None:
        """Feed the host clock estimate with ``arrival - sensor time of the payload's last sample`` per new payload
        (the arrivals in backend seconds since ``t0_ns``, as :func:`decode_rawlog` maps them)."""
        if not (0 < self.time_scale < math.inf):
            return
        n = len(arrivals_ns)
        pi = np.asarray(payload_index, dtype=np.int64) - n_tail
        fresh = (pi >= 0) & np.isfinite(st)
        if not fresh.any():
            return
        last = _payload_last(st[fresh], pi[fresh], n)
        arrival = (np.asarray(arrivals_ns, dtype=np.int64) - self.t0_ns).astype(float) * 1e-9 * self.time_scale
        self.host.add(last, arrival)

    def _unwrap(self, dec: Any, n_tail: int) -> np.ndarray:
        """Continuous sensor seconds: the stream clock undoes counter roll-overs (a u16 ms counter wraps every
        65.5 s) over the samples of the new payloads, in arrival order; a sample of the re-decoded tail lies within
        a second or so of the previous batch's end, up to a whole number of roll-overs, and is placed there."""
        if self.clock is None:
            from gait.live import StreamClock

            self.clock = StreamClock()
        raw = np.asarray(dec.sensor_time_s, dtype=float)
        fresh = np.asarray(dec.payload_index) >= n_tail
        prev_add, prev_last = self.clock.add, self.clock.last
        out = np.empty_like(raw)
        out[fresh] = self.clock(raw[fresh])
        old = ~fresh
        if old.any():
            if math.isfinite(prev_last):
                d = raw[old] - (prev_last - prev_add)  # from the previous batch's last sample, in counter time
                for period in sorted(WRAP_PERIODS_S, reverse=True):
                    k = np.rint(d / period)
                    d = np.where((k != 0) & (np.abs(d - k * period) < 2.0), d - k * period, d)
                out[old] = prev_last + d
            else:
                out[old] = raw[old] + self.clock.add
        return out


class _Status:
    """Per-sensor status lines: redrawn in place on a terminal, plain lines every ``plain_every_s`` otherwise."""

    def __init__(self, out: IO[str] | None, lives: list[_Live], time_scale: float, plain_every_s: float = 10.0):
        self.out = out
        self.lives = lives
        self.time_scale = time_scale
        self.tty = bool(out is not None and hasattr(out, "isatty") and out.isatty())
        self.every = 0.5 if self.tty else plain_every_s
        self.t_start = time.monotonic()
        self.t_last = self.t_start
        self.drawn = 0
        self.hidden = False  # rates only: the live view shows the sensors instead

    def line(self, live: _Live) -> str:
        rate = "   -   " if not math.isfinite(live.rate) else f"{live.rate:6.1f} Hz"
        bat = f"{live.battery:3d} %" if live.battery is not None else "  - "
        drops = f"drops {live.disconnects} link, {live.lost_samples} samples"
        return f"{live.side:>7} {live.address}  {rate}  {drops}  battery {bat}  {live.state}"

    def _write(self, text: str) -> None:
        if self.out is None:
            return
        with contextlib.suppress(OSError, ValueError):
            self.out.write(text)
            self.out.flush()

    def tick(self, elapsed_s: float, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.t_last < self.every:
            return
        dt = max(now - self.t_last, 1e-9)
        # a forced tick soon after the last one keeps the rates (the final window is too short to measure)
        if dt >= 0.5 * self.every or not any(math.isfinite(v.rate) for v in self.lives):
            for live in self.lives:
                scale = self.time_scale
                live.rate = live.window_samples / (dt * scale) if math.isfinite(scale) else math.nan
                live.window_samples = 0
            self.t_last = now
        if self.hidden:
            return
        if self.tty:
            up = f"\x1b[{self.drawn}F" if self.drawn else ""
            self._write(up + "".join(f"\x1b[2K{self.line(v)}\n" for v in self.lives))
            self.drawn = len(self.lives)
        else:
            self._write("".join(f"[{elapsed_s:8.1f} s] {self.line(v)}\n" for v in self.lives))

    def message(self, text: str) -> None:
        """A one-off line (disconnect, reconnect) above the status block."""
        if self.tty and self.drawn:
            self._write(f"\x1b[{self.drawn}F\x1b[J")
            self.drawn = 0
        self._write(text + "\n")


class _Pump:
    """Moves queued notifications and events into the raw log and the live numbers; flushes at least every 0.5 s."""

    def __init__(
        self,
        group: Any,
        writer: RawLogWriter,
        lives: dict[int, _Live],
        status: _Status | None,
        say: Callable[[str], None] | None = None,
    ):
        self.group = group
        self.writer = writer
        self.lives = lives
        self.status = status
        self.say = say or (status.message if status is not None else None)
        self.last_flush = time.monotonic()
        self.last_fsync = self.last_flush
        self.n_data = 0
        self._pending: dict[int, tuple[list[bytes], list[int]]] = {}  # per device: payloads, arrival ns

    def _flush_data(self, batch: list[tuple[int, int, bytes]]) -> None:
        if not batch:
            return
        self.writer.write_many(batch)
        self.n_data += len(batch)
        for t_ns, dev, payload in batch:
            payloads, arrivals = self._pending.setdefault(dev, ([], []))
            payloads.append(payload)
            arrivals.append(t_ns)

    def __call__(self) -> None:
        items = self.group.drain()
        batch: list[tuple[int, int, bytes]] = []
        for item in items:
            if type(item[2]) is bytes:
                batch.append(item)
                continue
            self._flush_data(batch)
            batch = []
            t_ns, dev, info = item
            details = dict(info)
            kind = details.pop("event", "note")
            self.writer.event(kind, t_ns=t_ns, device=dev, **details)
            self._on_event(dev, kind, details)
        self._flush_data(batch)
        now = time.monotonic()
        if now - self.last_flush >= FLUSH_INTERVAL_S:
            fsync = now - self.last_fsync >= 5.0
            self.writer.flush(fsync=fsync)
            self.last_flush = now
            if fsync:
                self.last_fsync = now
        # the live numbers (and the live analysis) only after the raw log is written and flushed
        pending, self._pending = self._pending, {}
        for dev, (payloads, arrivals) in pending.items():
            live = self.lives.get(dev)
            if live is not None:
                live.add(payloads, arrivals)

    def _on_event(self, dev: int, kind: str, details: Mapping[str, Any]) -> None:
        live = self.lives.get(dev)
        if live is None:
            return
        if kind == "battery":
            live.battery = details.get("level")
        elif kind == "connect":
            live.state = "streaming"
        elif kind == "disconnect":
            live.disconnects += 1
            live.state = "RECONNECTING"
            if self.say:
                self.say(f"{live.side} sensor {live.address}: link lost, reconnecting ...")
        elif kind == "reconnect":
            live.state = "streaming"
            if self.say:
                self.say(f"{live.side} sensor {live.address}: reconnected")


# --- recording ----------------------------------------------------------------------------------------------------
@dataclass
class RecordResult:
    """What :func:`record` did: files written, the session, per-side statistics and timing."""

    session_path: Path
    rawlog_path: Path
    session: Session | None
    stats: dict[str, dict[str, Any]]
    duration_s: float
    wall_s: float
    cpu_s: float
    interrupted: bool = False
    stream_wall_s: float = 0.0
    stream_cpu_s: float = 0.0
    #: the :class:`gait.live.LiveAnalyzer` of the live form feedback (None when it was off)
    live: Any = None
    #: why live feedback was off or stopped ("" when it ran to the end)
    live_note: str = ""
    #: wall seconds spent in the live analysis and view
    live_s: float = 0.0


def record(path: str | Path, **kwargs: Any) -> RecordResult:
    """Record both ankles into ``PATH.rawlog`` and save the decoded session to ``PATH``. See :func:`record_async`."""
    return asyncio.run(record_async(path, **kwargs))


async def record_async(
    path: str | Path,
    *,
    left: str | None = None,
    right: str | None = None,
    footpod: str | None = None,
    pair_config: Mapping[str, Any] | None = None,
    backend: Backend | None = None,
    protocols: Mapping[str, Callable] | None = None,
    duration_s: float | None = None,
    rate_hz: float | None = None,
    label: str = "",
    load_kg: float = 0.0,
    subject: str = "",
    notes: str = "",
    placement: str = "shank",
    overwrite: bool = False,
    out: IO[str] | None = None,
    connect_timeout_s: float = 10.0,
    scan_timeout_s: float = 8.0,
    stop: asyncio.Event | None = None,
    decode: bool = True,
    handle_sigint: bool = True,
    live: bool | None = None,
    baseline: Any = None,
    bell: bool = False,
) -> RecordResult:
    """Stream the left and right sensors (and a footpod) until ``duration_s``, ``stop`` or Ctrl-C.

    Sensors come from ``left``/``right``/``footpod`` (addresses) or else the remembered pair (``pair_config``, or
    the pair file); nothing else is ever connected to. ``duration_s`` is in the backend's time (a simulator's world
    seconds). Returns a :class:`RecordResult`; the session is saved to ``path`` and the raw log beside it.

    Live form feedback (:class:`gait.live.LiveAnalyzer` on the decoded stream; on a terminal the
    :class:`gait.live_view.LiveView` block replaces the status lines, elsewhere a plain form line every 30 s joins
    them): ``live=None`` switches it on when the backend runs at most :data:`LIVE_MAX_SPEEDUP` x real time (real
    sensors: always), True/False force it. ``baseline`` (the runner's unweighted runs, see
    :class:`gait.live.Baseline`) enables form warnings; ``bell`` rings the terminal bell when one turns on. An
    error in the live path switches it off with one message; the recording goes on.
    """
    from devices import ble

    backend = backend or ble.PLATFORM
    wall0, cpu0 = time.perf_counter(), time.process_time()
    if pair_config is None and (left is None or right is None):
        pair_config = load_pair(simulated=backend.simulated)
    specs = _specs(left, right, footpod, pair_config, rate_hz)
    if rate_hz is None:
        for s in specs:
            if s.side != "footpod":
                s.config.setdefault("rate_hz", DEFAULT_RATE_HZ)
    session_path = Path(path)
    rawlog_path = rawlog_path_for(session_path)
    if session_path.suffix == ".rawlog":
        raise AcquisitionError(f"{session_path}: give the session file to write (e.g. run.parquet), not the raw log")
    for p in (session_path, rawlog_path):
        if p.exists() and not overwrite:
            raise AcquisitionError(f"{p} already exists; choose another name or pass --overwrite")
    if overwrite:
        rawlog_path.unlink(missing_ok=True)
    session_path.parent.mkdir(parents=True, exist_ok=True)

    with _device_errors():
        found = await ble.find_sensors(
            [s.address for s in specs], timeout=scan_timeout_s, backend=backend, protocols=protocols
        )
    for s in specs:
        if s.address not in found:
            raise AcquisitionError(
                f"{s.side} sensor {s.address} was not found after {scan_timeout_s:g} s of scanning: is it switched "
                "on, charged and in range? (`gait scan` lists the sensors that are advertising)"
            )
    protos = []
    for s in specs:
        f = found[s.address]
        family = s.family or f.family
        if family is None:
            raise AcquisitionError(f"{s.side} sensor {s.address} ({f.name or 'no name'}) is not a supported sensor")
        s.family = family
        protos.append(_protocol_for(family, s.config, protocols))

    time_scale = backend.time_scale
    header = {
        "format": RAWLOG_FORMAT,
        "version": 1,
        "start_time": datetime.now(UTC).isoformat(timespec="seconds"),
        "time_scale": time_scale if math.isfinite(time_scale) else None,
        "backend": backend.name,
        "label": label,
        "load_kg": float(load_kg),
        "subject": subject,
        "notes": notes,
        "placement": placement,
    }
    writer = RawLogWriter(rawlog_path, header, flush_interval_s=FLUSH_INTERVAL_S)
    group = ble.SensorGroup(backend, connect_timeout_s=connect_timeout_s, scan_timeout_s=min(scan_timeout_s, 5.0))
    lives: dict[int, _Live] = {}
    for s, proto in zip(specs, protos, strict=True):
        f = found[s.address]
        info = {
            "side": s.side,
            "address": f.address,
            "name": f.name,
            "family": s.family,
            "model": proto.model or s.family,
            "config": _protocol_config(proto, s.config),
            "has_sensor_time": bool(proto.has_sensor_time),
            "is_imu": bool(getattr(proto, "is_imu", True)),
        }
        number = writer.add_device(info)
        group.add(f, proto, label=s.side, number=number)
        lives[number] = _Live(s.side, f.address, proto, number, time_scale=time_scale)
    status = _Status(out, list(lives.values()), time_scale) if out is not None else None
    feedback, live_note = _start_feedback(live, baseline, bell, placement, time_scale, protos, status, out)
    for lv in lives.values():
        lv.feedback = feedback
    health = {lv.side: lv for lv in lives.values() if lv.side in IMU_SIDES}

    def say(text: str) -> None:
        if feedback is not None and feedback.message(text):
            return
        if status:
            status.message(text)

    t0_ns = time.monotonic_ns()  # the origin of session time, and so of the live analysis's host clock
    for lv in lives.values():
        lv.t0_ns = t0_ns
    writer.event("start", t_ns=t0_ns)
    try:
        with _device_errors():
            await group.connect_all()
    except BaseException:
        writer.close()
        rawlog_path.unlink(missing_ok=True)  # nothing was recorded
        raise

    pump = _Pump(group, writer, lives, status, say)
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    interrupts = [0]

    def on_sigint() -> None:
        interrupts[0] += 1
        stop.set()
        say("stopping ... (Ctrl-C again to stop without decoding; `gait recover` can do it later)")

    installed = False
    if handle_sigint:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGINT, on_sigint)
            installed = True
    clock = backend.clock or time.monotonic
    c0, h0, p0 = clock(), time.monotonic(), time.process_time()
    elapsed = 0.0
    try:
        while not stop.is_set():
            pump()
            elapsed = clock() - c0
            if status:
                status.tick(elapsed)
            if feedback is not None:
                feedback.update(health)
            if duration_s is not None and elapsed >= duration_s:
                break
            wait = PUMP_INTERVAL_S
            if duration_s is not None and 0 < time_scale < math.inf:  # stop on time, also when sped up
                wait = min(wait, max((duration_s - elapsed) / time_scale, 1e-3))
            await asyncio.sleep(wait)
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)
        host_s = time.monotonic() - h0
        elapsed = clock() - c0
        await group.close_all()
        pump()
        effective = elapsed / host_s if host_s > 0 else 1.0
        writer.event("stop", time_scale=effective if not math.isfinite(time_scale) else time_scale)
        writer.close()
        stream_wall, stream_cpu = time.monotonic() - h0, time.process_time() - p0
        if status:
            status.tick(elapsed, force=True)
        if feedback is not None:
            feedback.close(health)
            if feedback.error:
                live_note = f"live form feedback stopped: {feedback.error}"

    session = None
    stats: dict[str, dict[str, Any]] = {}
    if decode and interrupts[0] < 2:
        raw = read_rawlog(rawlog_path)
        session, decoded = _session_and_sides(raw, protocols)
        session.save(session_path)
        stats = {d.side: d.stats for d in decoded}
    return RecordResult(
        session_path=session_path,
        rawlog_path=rawlog_path,
        session=session,
        stats=stats,
        duration_s=elapsed,
        wall_s=time.perf_counter() - wall0,
        cpu_s=time.process_time() - cpu0,
        interrupted=interrupts[0] > 0,
        stream_wall_s=stream_wall,
        stream_cpu_s=stream_cpu,
        live=feedback.analyzer if feedback is not None else None,
        live_note=live_note,
        live_s=feedback.feed_s if feedback is not None else 0.0,
    )


def _start_feedback(
    live: bool | None,
    baseline: Any,
    bell: bool,
    placement: str,
    time_scale: float,
    protos: Sequence[Any],
    status: _Status | None,
    out: IO[str] | None,
) -> tuple[_Feedback | None, str]:
    """The live form feedback of a recording (None when off) and, when off, why (said on ``out`` in one line)."""

    def note(text: str) -> str:
        if out is not None:
            with contextlib.suppress(OSError, ValueError):
                out.write(text + "\n")
                out.flush()
        return text

    if live is False:
        return None, "live form feedback off"
    if live is None and not time_scale <= LIVE_MAX_SPEEDUP:
        speed = "as fast as possible" if math.isinf(time_scale) else f"at {time_scale:g}x real time"
        return None, note(
            f"live form feedback off: the simulation runs {speed} (it is on up to {LIVE_MAX_SPEEDUP:g}x; --live "
            "forces it)"
        )
    try:
        from gait.live import LiveAnalyzer

        rates = [float(p.rate_hz) for p in protos if getattr(p, "is_imu", True)]
        # the recorder feeds both sensors on the host clock (see _Live.add), like the decoded session: the same clock
        # policy as the offline analysis ("auto": the IC-alternation offset is estimated, and applied only when
        # >= 20 ms, i.e. when the clocks could not be put on the host's)
        analyzer = LiveAnalyzer(
            sample_rate_hz=max(rates) if rates else None,
            placement=placement,
            baseline=baseline,
            clock_offset_s="auto",
        )
        view = None
        if out is not None:
            from gait.live_view import LiveView

            view = LiveView(out, bell=bell, plain_every_s=30.0)
            if view.tty and status is not None:
                status.hidden = True  # the live block shows the sensors
    except Exception as exc:  # noqa: BLE001 - live feedback must never stop a recording
        return None, note(f"live form feedback off ({type(exc).__name__}: {exc}); recording without it")
    return _Feedback(analyzer, view, status, out), ""


# --- decoding ---------------------------------------------------------------------------------------------------------
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


def _payload_last(values: np.ndarray, payload_index: np.ndarray, n_payloads: int) -> np.ndarray:
    """Per payload, the largest value among its samples (NaN for a payload without samples)."""
    out = np.full(n_payloads, -np.inf)
    np.maximum.at(out, payload_index, values)
    out[~np.isfinite(out)] = np.nan
    return out


def _gaps(t: np.ndarray, rate_hz: float, factor: float = 1.5) -> tuple[list[list[float]], int]:
    """Intervals ``[a, b]`` between consecutive samples more than ``factor`` periods apart, and the samples missing."""
    if t.size < 2 or not rate_hz:
        return [], 0
    dt = np.diff(t)
    period = 1.0 / rate_hz
    idx = np.flatnonzero(dt > factor * period)
    missing = int(np.sum(np.maximum(np.rint(dt[idx] / period) - 1, 1))) if idx.size else 0
    return [[float(t[i]), float(t[i + 1])] for i in idx], missing


def _decode_device(raw: RawLog, dev: int, info: Mapping[str, Any], protocols: Any, t0_ns: int, scale: float):
    family = str(info.get("family"))
    proto = _protocol_for(family, info.get("config") or {}, protocols)
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
        last = _payload_last(st, pi, len(payloads))
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
            x = np.arange(m.size) / rate
            last = _payload_last(x, pi[m], len(payloads))
            ok = np.isfinite(last)
            fit = fit_clock(last[ok], arrival[ok])
            t[m] = fit.to_host(x)
            fits.append(fit.to_dict())
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


def _session_and_sides(raw: RawLog, protocols: Any) -> tuple[Session, list[DecodedSide]]:
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
    return _session_and_sides(raw, protocols)[0]


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
    session, sides = _session_and_sides(raw, protocols)
    session.save(target)
    counts = ", ".join(f"{d.side} {d.stats.get('samples', 0)} samples" for d in sides)
    return RecoverResult(target, session, f"{raw.describe_loss()}; kept {counts}")


# --- pairing ------------------------------------------------------------------------------------------------------
@dataclass
class SensorCheck:
    """What the standing check found for one sensor; ``problems`` block the pair, ``warnings`` do not."""

    side: str
    address: str
    name: str
    family: str
    model: str
    config: dict[str, Any]
    battery: int | None = None
    nominal_rate_hz: float = float("nan")
    rate_hz: float = float("nan")
    gravity_ms2: float = float("nan")
    gyro_noise_dps: float = float("nan")
    vertical_axis: str = ""
    tilt_deg: float = float("nan")
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        bat = f"{self.battery} %" if self.battery is not None else "unknown"
        return (
            f"{self.side:>5}: {self.name} {self.address} ({self.model}) battery {bat}, {self.rate_hz:.1f} Hz, "
            f"|g| {self.gravity_ms2:.2f} m/s², gyro noise {self.gyro_noise_dps:.2f} °/s, "
            f"{self.vertical_axis} axis {self.tilt_deg:.0f}° from vertical"
        )


def check_standing(
    acc: np.ndarray,
    gyr: np.ndarray,
    *,
    rate_hz: float,
    nominal_rate_hz: float,
    battery: int | None = None,
    up_axis: str | None = None,
    max_tilt_deg: float = 30.0,
) -> dict[str, Any]:
    """Check one sensor while the runner stands still: battery, rate, gravity, gyro quiet, long axis vertical.

    ``up_axis`` (e.g. ``"+x"``) is the sensor axis that must point up the shin; None accepts any axis pointing up.
    Returns the measured numbers plus ``problems`` and ``warnings`` (plain sentences saying what to fix).
    """
    acc = np.asarray(acc, dtype=float)
    gyr = np.asarray(gyr, dtype=float)
    problems: list[str] = []
    warnings: list[str] = []
    good = np.isfinite(acc).all(axis=1)
    if good.sum() < 10:
        return {"problems": ["sent almost no data while standing: move closer and try again"], "warnings": []}
    a = acc[good]
    mean = a.mean(axis=0)
    g = float(np.linalg.norm(mean))
    g_inst = float(np.median(np.linalg.norm(a, axis=1)))
    gy = gyr[np.isfinite(gyr).all(axis=1)]
    gyro_noise = float(np.degrees(np.sqrt(np.mean(np.sum((gy - gy.mean(axis=0)) ** 2, axis=1))))) if len(gy) else 0.0
    gyro_bias = float(np.degrees(np.linalg.norm(gy.mean(axis=0)))) if len(gy) else 0.0
    k = int(np.argmax(np.abs(mean)))
    sign = "+" if mean[k] >= 0 else "-"
    tilt = float(np.degrees(np.arccos(min(1.0, abs(mean[k]) / max(g, 1e-9)))))
    if battery is not None and battery < 20:
        warnings.append(f"battery at {battery} %: charge it before a long run")
    if math.isfinite(rate_hz) and abs(rate_hz / nominal_rate_hz - 1.0) > 0.1:
        problems.append(
            f"streams at {rate_hz:.0f} Hz instead of {nominal_rate_hz:.0f} Hz: move closer to the computer, "
            "close other Bluetooth apps, or choose a lower --rate"
        )
    if abs(g_inst - C.GRAVITY) > 0.8:
        problems.append(
            f"reads {g_inst:.1f} m/s² while standing instead of about 9.81: stand still; if it persists the sensor "
            "needs a calibration"
        )
    if gyro_noise > 3.0 or gyro_bias > 10.0:
        problems.append(
            f"gyroscope is not quiet ({max(gyro_noise, gyro_bias):.1f} °/s): stand still during the check, and "
            "tighten the strap if the sensor wobbles"
        )
    axis = "xyz"[k]
    if tilt > max_tilt_deg:
        problems.append(
            f"no sensor axis runs along the shin (the closest, {axis}, is {tilt:.0f}° off vertical): strap the "
            "sensor flat on the shin with one edge pointing up the leg"
        )
    elif up_axis is not None and (up_axis[-1] != axis or up_axis[0] != sign):
        want = up_axis if up_axis[0] in "+-" else "+" + up_axis
        if up_axis[-1] == axis:
            problems.append(f"the sensor is upside down (its {want} axis points down the shin): turn it over")
        else:
            problems.append(f"the sensor is rotated: its {sign}{axis} axis points up the shin, expected {want}")
    elif up_axis is None and sign == "-":
        problems.append(f"the sensor is upside down (its {axis} axis points down the shin): turn it over")
    return {
        "gravity_ms2": g_inst,
        "gyro_noise_dps": gyro_noise,
        "vertical_axis": f"{sign}{axis}",
        "tilt_deg": tilt,
        "rate_hz": rate_hz,
        "problems": problems,
        "warnings": warnings,
    }


@dataclass
class PairResult:
    """The outcome of :func:`pair`: a check per side, and where the pair was saved (None when not)."""

    left: SensorCheck
    right: SensorCheck
    path: Path | None
    footpod: dict[str, Any] | None = None

    @property
    def problems(self) -> list[str]:
        return [f"{c.side}: {p}" for c in (self.left, self.right) for p in c.problems]

    @property
    def warnings(self) -> list[str]:
        return [f"{c.side}: {w}" for c in (self.left, self.right) for w in c.warnings]

    @property
    def saved(self) -> bool:
        return self.path is not None


class _Collector:
    """Keeps every notification per device (arrival ns, payload) while pairing."""

    def __init__(self, group: Any):
        self.group = group
        self.data: dict[int, tuple[list[int], list[bytes]]] = {}
        self.battery: dict[int, int] = {}

    def pump(self) -> None:
        for t_ns, dev, p in self.group.drain():
            if type(p) is bytes:
                ts, ps = self.data.setdefault(dev, ([], []))
                ts.append(t_ns)
                ps.append(p)
            elif p.get("event") == "battery" and p.get("level") is not None:
                self.battery[dev] = int(p["level"])

    def since(self, dev: int, t_ns: int) -> list[bytes]:
        ts, ps = self.data.get(dev, ([], []))
        i = int(np.searchsorted(np.asarray(ts, dtype=np.int64), t_ns))
        return ps[i:]

    def before(self, dev: int, t_ns: int, n: int = 200) -> list[bytes]:
        ts, ps = self.data.get(dev, ([], []))
        i = int(np.searchsorted(np.asarray(ts, dtype=np.int64), t_ns))
        return ps[max(0, i - n) : i]


def _jolt_score(proto: Any, before: list[bytes], after: list[bytes]) -> float:
    """Largest change of acceleration (m/s²) after the prompt against the median before it."""
    if not after:
        return 0.0
    a = proto.decode(after).acc
    b = proto.decode(before).acc if before else a[:1]
    a = a[np.isfinite(a).all(axis=1)]
    b = b[np.isfinite(b).all(axis=1)]
    if not len(a) or not len(b):
        return 0.0
    return float(np.max(np.linalg.norm(a - np.median(b, axis=0), axis=1)))


def _default_prompt(step: str, message: str) -> None:
    print(message, flush=True)


async def pair_async(
    left: str | None = None,
    right: str | None = None,
    *,
    footpod: str | None = None,
    backend: Backend | None = None,
    protocols: Mapping[str, Callable] | None = None,
    family: str | None = None,
    rate_hz: float = DEFAULT_RATE_HZ,
    stand_s: float = 3.0,
    scan_s: float = 4.0,
    tap_timeout_s: float = 20.0,
    jolt_threshold: float = 15.0,
    up_axis: str | None = None,
    prompt: Callable[[str, str], Any] = _default_prompt,
    save: bool = True,
    force: bool = False,
    connect_timeout_s: float = 10.0,
    max_candidates: int = 6,
    min_rssi: int = -80,
) -> PairResult:
    """Choose the left and right sensor, check them while standing, and remember them.

    With both addresses, those two are used. Without, the supported IMUs found by a scan are connected (at most
    ``max_candidates``; sensors weaker than ``min_rssi`` dBm are taken to be someone else's and left alone) and the
    runner is asked to tap the LEFT, then the RIGHT ankle: the sensor whose acceleration jumps most (above
    ``jolt_threshold`` m/s², and twice any other) is that side; the others are released. ``prompt(step, message)``
    shows each instruction (steps ``tap-left``, ``tap-right``, ``stand``). The pair is saved unless a check found
    a problem (``force`` saves anyway).
    """
    from devices import ble

    backend = backend or ble.PLATFORM
    clock = backend.clock or time.monotonic
    with _device_errors():
        if left is not None and right is not None:
            wanted = [left, right]
            found = await ble.find_sensors(wanted, timeout=max(scan_s, 8.0), backend=backend, protocols=protocols)
            for side, w in (("left", left), ("right", right)):
                if w not in found:
                    raise AcquisitionError(f"{side} sensor {w} was not found: is it switched on and in range?")
            candidates = [found[left], found[right]]
        else:
            seen = await ble.scan(scan_s, backend=backend, protocols=protocols)
            candidates = [
                f
                for f in seen
                if f.family is not None
                and (family is None or f.family == family)
                and (f.rssi is None or f.rssi >= min_rssi)
                and getattr(_protocol_for(f.family, {}, protocols), "is_imu", True)
            ]
            if len(candidates) < 2:
                raise AcquisitionError(
                    f"found {len(candidates)} supported ankle sensor(s), need 2: switch both on (and off again in "
                    "any phone app), then run `gait pair` again, or name them with --left/--right"
                )
            if len(candidates) > max_candidates:
                raise AcquisitionError(
                    f"{len(candidates)} sensors are advertising nearby; name yours with --left ADDRESS --right ADDRESS"
                )
    for f in candidates:
        if f.family is None:
            raise AcquisitionError(f"sensor {f.address} ({f.name or 'no name'}) is not a supported sensor")
    protos = [_protocol_for(f.family, {"rate_hz": rate_hz}, protocols) for f in candidates]
    group = ble.SensorGroup(backend, connect_timeout_s=connect_timeout_s, reconnect=False)
    links = [group.add(f, p, label=f.name or f.address) for f, p in zip(candidates, protos, strict=True)]
    col = _Collector(group)
    t_connected = time.monotonic_ns()
    try:
        with _device_errors():
            await group.connect_all()

        async def wait(seconds: float) -> None:
            c0 = clock()
            while clock() - c0 < seconds:
                col.pump()
                await asyncio.sleep(0.02)

        await wait(0.5)
        chosen: dict[str, int] = {}
        if left is not None and right is not None:
            chosen = {"left": 0, "right": 1}
        else:
            for side in IMU_SIDES:
                t_prompt = time.monotonic_ns()
                prompt(f"tap-{side}", f"Tap your {side.upper()} ankle sensor firmly (twice) now ...")
                deadline = time.monotonic() + tap_timeout_s
                winner = None
                while winner is None:
                    if time.monotonic() > deadline:
                        raise AcquisitionError(
                            f"no tap detected on any sensor within {tap_timeout_s:g} s: tap the {side} sensor "
                            "harder, or name the sensors with --left/--right"
                        )
                    await asyncio.sleep(0.05)
                    col.pump()
                    scores = {
                        i: _jolt_score(
                            protos[i], col.before(links[i].number, t_prompt), col.since(links[i].number, t_prompt)
                        )
                        for i in range(len(links))
                        if i not in chosen.values()
                    }
                    best = max(scores, key=scores.get)
                    others = [v for i, v in scores.items() if i != best]
                    if scores[best] > jolt_threshold and all(scores[best] > 2.0 * v for v in others):
                        winner = best
                chosen[side] = winner
                await wait(0.3)
            for i, link in enumerate(links):  # release the sensors that are not ours
                if i not in chosen.values():
                    await link.close()
        prompt("stand", f"Stand still, feet flat, for {stand_s:g} s ...")
        t_stand = time.monotonic_ns()
        await wait(stand_s)
        col.pump()
        checks = {}
        for side, i in chosen.items():
            f, proto, link = candidates[i], protos[i], links[i]
            payloads = col.since(link.number, t_stand)
            dec = proto.decode(payloads)
            all_dec = proto.decode(col.since(link.number, t_connected))
            rate = _measured_rate(all_dec, col.data.get(link.number, ([], []))[0], proto, backend.time_scale)
            battery = col.battery.get(link.number, link.battery)
            res = check_standing(
                dec.acc, dec.gyr, rate_hz=rate, nominal_rate_hz=proto.rate_hz, battery=battery, up_axis=up_axis
            )
            checks[side] = SensorCheck(
                side=side,
                address=f.address,
                name=f.name,
                family=f.family,
                model=proto.model or f.family,
                config=_protocol_config(proto, {"rate_hz": rate_hz}),
                battery=battery,
                nominal_rate_hz=proto.rate_hz,
                **{
                    k: v
                    for k, v in res.items()
                    if k
                    in ("rate_hz", "gravity_ms2", "gyro_noise_dps", "vertical_axis", "tilt_deg", "problems", "warnings")
                },
            )
    finally:
        await group.close_all()

    foot = None
    if footpod is not None:
        with _device_errors():
            got = await ble.find_sensors([footpod], timeout=max(scan_s, 5.0), backend=backend, protocols=protocols)
        if footpod not in got or got[footpod].family is None:
            raise AcquisitionError(f"footpod {footpod} was not found or is not a supported footpod")
        fp = got[footpod]
        foot = {"address": fp.address, "name": fp.name, "family": fp.family, "model": fp.model, "config": {}}
    result = PairResult(checks["left"], checks["right"], None, foot)
    if save and (force or not result.problems):
        entry = {
            side: {"address": c.address, "name": c.name, "family": c.family, "model": c.model, "config": c.config}
            for side, c in (("left", result.left), ("right", result.right))
        }
        config = {
            "version": 1,
            "paired_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "backend": backend.name,
            **entry,
        }
        if foot:
            config["footpod"] = foot
        result.path = save_pair(config, simulated=backend.simulated)
    return result


def pair(*args: Any, **kwargs: Any) -> PairResult:
    """Blocking :func:`pair_async`."""
    return asyncio.run(pair_async(*args, **kwargs))


def _measured_rate(dec: Any, arrivals_ns: Sequence[int], proto: Any, time_scale: float) -> float:
    """Samples per second: from sensor time where the protocol has it, else from host arrival times."""
    if dec.n_samples < 2:
        return float("nan")
    if dec.sensor_time_s is not None:
        st = np.unique(np.asarray(dec.sensor_time_s, dtype=float))
        span = float(st[-1] - st[0])
        return (st.size - 1) / span if span > 0 else float("nan")
    ts = np.asarray(arrivals_ns, dtype=np.int64)
    span = float(ts[-1] - ts[0]) * 1e-9 * (time_scale if math.isfinite(time_scale) else 1.0)
    return dec.n_samples / span if span > 0 else float("nan")


# --- simulation (for --simulate, tests and the demo) ------------------------------------------------------------------
@dataclass
class Simulation:
    """Virtual sensors on a simulated radio: ``left``/``right`` ankles, a footpod and a stranger's sensor."""

    radio: SimulatedRadio
    backend: Backend
    left: VirtualPeripheral
    right: VirtualPeripheral
    footpod: VirtualPeripheral | None = None
    stranger: VirtualPeripheral | None = None
    truth: Any = None

    def jolt_prompt(self, echo: Callable[[str], Any] | None = print) -> Callable[[str, str], None]:
        """A ``prompt`` for :func:`pair` that plays the runner: it taps the ankle it is asked to tap."""

        def prompt(step: str, message: str) -> None:
            if echo is not None:
                echo(message)
            if step == "tap-left":
                self.left.jolt(delay_s=0.2 * min(self.radio.speedup, 10.0))
            elif step == "tap-right":
                self.right.jolt(delay_s=0.2 * min(self.radio.speedup, 10.0))

        return prompt


def simulation(
    kind: str = "run",
    *,
    family: str = DEFAULT_SIM_FAMILY,
    speedup: float = 20.0,
    duration_s: float = 600.0,
    seed: int | None = 0,
    rate_hz: float = DEFAULT_RATE_HZ,
    speed_mps: float = 3.3,
    load_kg: float = 0.0,
    faults: Mapping[str, Mapping[str, Any]] | None = None,
    footpod: bool = True,
    stranger: bool = True,
    protocols: Mapping[str, Callable] | None = None,
) -> Simulation:
    """Two virtual ankle sensors of ``family`` fed by :func:`gait.synth.simulate_run` (``kind="run"``) or standing
    still (``kind="stand"``), plus a footpod and a neighbour's sensor that must never be connected to.

    ``faults`` maps ``"left"``/``"right"`` to :class:`devices.simulated.Faults` fields (times in world seconds).
    The addresses are the same in every call, so a simulated pair stays valid between runs.
    """
    from devices.simulated import Faults, SimulatedRadio, standing_arrays

    proto_l = _protocol_for(family, {"rate_hz": rate_hz}, protocols)
    proto_r = _protocol_for(family, {"rate_hz": rate_hz}, protocols)
    fs = float(proto_l.rate_hz)
    radio = SimulatedRadio(speedup, start_after=2)
    default_faults = {"left": {"offset_s": 3.2, "drift_ppm": 12.0}, "right": {"offset_s": 7.9, "drift_ppm": -30.0}}
    truth = None
    if kind == "run":
        from gait.synth import simulate_run

        truth = simulate_run(
            seed=seed,
            duration_s=max(duration_s, 20.0),
            sample_rate_hz=fs,
            speed_mps=speed_mps,
            ankle_load_kg=load_kg,
        )
        arrays = {
            s: {
                "t": np.arange(len(truth.sensor(s)["t"])) / fs,
                "acc": truth.sensor(s)["acc"],
                "gyr": truth.sensor(s)["gyr"],
            }
            for s in IMU_SIDES
        }
    elif kind == "stand":
        arrays = {
            s: standing_arrays(duration_s, fs, up="+x", tilt_deg=5.0, seed=(seed or 0) + i)
            for i, s in enumerate(IMU_SIDES)
        }
    else:
        raise ValueError(f"kind: allowed values are 'run', 'stand', but got {kind!r}.")
    peripherals = {}
    for side, proto in (("left", proto_l), ("right", proto_r)):
        f = {**default_faults[side], **dict((faults or {}).get(side, {}))}
        peripherals[side] = radio.add_sensor(
            proto,
            acc=arrays[side]["acc"],
            gyr=arrays[side]["gyr"],
            t=arrays[side]["t"],
            faults=Faults(**f),
            battery=86 if side == "left" else 74,
        )
    pod = None
    if footpod:
        from devices.protocols import RSC

        rsc = RSC()
        n = int(duration_s) + 1
        speed = np.full(n, speed_mps) + 0.05 * np.sin(np.arange(n) / 7.0)
        payloads = rsc.encode_measurements(
            speed, np.full(n, 170.0), stride_length_m=speed * 60 / 85.0, distance_m=np.cumsum(speed)
        )
        pod = radio.add_sensor(rsc, payloads=payloads, payload_times=np.arange(n, dtype=float), battery=90)
    neighbour = None
    if stranger:
        other = _protocol_for(family, {"rate_hz": rate_hz}, protocols)
        still = standing_arrays(min(duration_s, 120.0), fs, up="+x", seed=99)
        neighbour = radio.add_sensor(other, acc=still["acc"], gyr=still["gyr"], rssi=-85, battery=40)
    return Simulation(radio, radio.backend(), peripherals["left"], peripherals["right"], pod, neighbour, truth)
