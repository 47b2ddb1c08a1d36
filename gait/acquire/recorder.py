"""Recording: stream both ankles (and optionally a footpod) into a crash-safe raw log, then decode it.

:func:`record` writes ``PATH.rawlog`` beside the session ``PATH``: notifications go from the callbacks into a
queue, a pump writes them as raw-log frames (flushed at least every 0.5 s, so a killed process loses at most about
a second), DEVICE frames describe each sensor and EVENT frames mark start, stop, disconnect, reconnect and battery.
A live status line per sensor shows rate, drops and battery; live form feedback (:mod:`gait.live` on the decoded
stream, :mod:`gait.live_view` on a terminal) runs beside it and is switched off, with one line, by any error or
when it cannot keep up - never the recording. Ctrl-C (or ``duration_s``) ends the recording cleanly; the raw log
is then decoded into a :class:`gait.Session` (:mod:`gait.acquire.decode`).

Time: the raw log stamps every frame with host monotonic ns, and its header says how many backend seconds pass per
host second (``time_scale``: 1 for real sensors, the speedup of a simulation). A simulation run as fast as possible
(``--speedup max``) has no such ratio - its world clock advances in bursts, unrelated to host time - so there the
frames are stamped with the backend's own clock (its world time, in ns) and ``time_scale`` is 1: decoding then
fits each sensor to the simulated world, as it fits real sensors to the host. ``duration_s``, the elapsed time of
the status lines and their rates are in backend seconds (simulated seconds and Hz; real ones for real sensors).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from gait.acquire.common import (
    DEFAULT_RATE_HZ,
    IMU_SIDES,
    AcquisitionError,
    check_rate_hz,
    device_errors,
    protocol_config,
    protocol_for,
)
from gait.acquire.decode import session_and_sides
from gait.acquire.hostclock import HostClock, payload_last
from gait.acquire.pairing import load_pair
from gait.clocksync import WRAP_PERIODS_S
from gait.io.rawlog import RawLogWriter, read_rawlog

if TYPE_CHECKING:  # imported lazily at run time: gait imports devices only in acquisition code
    from devices.ble import Backend
    from gait.session import Session

__all__ = ["RecordResult", "SensorSpec", "check_session_path", "rawlog_path_for", "record", "record_async"]

FLUSH_INTERVAL_S = 0.5
PUMP_INTERVAL_S = 0.1
RAWLOG_FORMAT = "gait raw BLE log"


def rawlog_path_for(session_path: str | Path) -> Path:
    """The raw log kept beside a session: ``run.parquet`` -> ``run.rawlog``."""
    return Path(session_path).with_suffix(".rawlog")


def check_session_path(path: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse, before any sensor is touched, a session path that cannot be written: the raw log itself, an existing
    session or raw log (unless ``overwrite``), a missing folder (never created behind the user's back: a typo would
    hide the recording, as the other commands refuse it too)."""
    session_path = Path(path)
    rawlog_path = rawlog_path_for(session_path)
    if session_path.suffix == ".rawlog":
        raise AcquisitionError(f"{session_path}: give the session file to write (e.g. run.parquet), not the raw log")
    if session_path.is_dir():
        raise AcquisitionError(f"{session_path}: is a folder; give a file name, e.g. {session_path / 'run.parquet'}")
    folder = session_path.parent
    if not folder.is_dir():
        if folder.exists():
            raise AcquisitionError(f"{folder}: is a file, not a folder")
        raise AcquisitionError(f"{folder}: no such folder; create it first or choose another session path")
    for p in (session_path, rawlog_path):
        if p.exists() and not overwrite:
            raise AcquisitionError(f"{p} already exists; choose another name or pass --overwrite")
    return session_path


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
            spec.config["rate_hz"] = check_rate_hz(rate_hz)
        specs.append(spec)
    if not any(s.side in IMU_SIDES for s in specs):
        raise AcquisitionError(
            "no sensors to record: run `gait pair` first, or name them with --left ADDRESS --right ADDRESS"
        )
    addresses = [s.address.lower() for s in specs]
    if len(set(addresses)) != len(addresses):
        raise AcquisitionError("the same sensor is named for two sides; give two different sensors")
    return specs


class _BackendStampedSink(deque):
    """The notification queue of a backend whose clock does not advance with host time (a simulation run as fast as
    possible): every item is re-stamped, as it is appended, with the backend clock in ns instead of host monotonic
    ns. The radio calls back from inside its tick, so the stamp is the simulated time the notification arrived."""

    def __init__(self, now_ns: Callable[[], int]):
        super().__init__()
        self._now_ns = now_ns

    def append(self, item: tuple[int, int, Any]) -> None:
        super().append((self._now_ns(), item[1], item[2]))


def _stamp_clock(backend: Any) -> tuple[Callable[[], int] | None, float]:
    """How to stamp the raw log's frames: ``(None, time_scale)`` for host monotonic ns (real sensors, a simulation
    at a finite speedup: ``time_scale`` backend seconds per host second), or ``(now_ns, 1.0)`` for a backend whose
    clock has no fixed ratio to host time (``time_scale`` infinite), stamped with its own clock."""
    scale = float(backend.time_scale)
    if math.isfinite(scale) or backend.clock is None:
        return None, scale
    clock = backend.clock

    def now_ns() -> int:
        return int(round(clock() * 1e9))

    return now_ns, 1.0


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
    host: HostClock = field(default_factory=lambda: HostClock())

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
        last = payload_last(st[fresh], pi[fresh], n)
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
        self.e_last = 0.0  # backend seconds elapsed at the last rate update
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
        span = elapsed_s - self.e_last  # backend seconds: rates in the sensors' own (simulated) Hz
        # a forced tick soon after the last one keeps the rates (the final window is too short to measure)
        if span > 0 and (dt >= 0.5 * self.every or not any(math.isfinite(v.rate) for v in self.lives)):
            for live in self.lives:
                live.rate = live.window_samples / span
                live.window_samples = 0
            self.t_last = now
            self.e_last = elapsed_s
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
    #: how long it recorded, in the backend's seconds (a simulation's simulated seconds, also at ``--speedup max``)
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
    session_path = check_session_path(path, overwrite=overwrite)
    rawlog_path = rawlog_path_for(session_path)
    if overwrite:
        rawlog_path.unlink(missing_ok=True)

    with device_errors():
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
        proto = protocol_for(family, s.config, protocols)
        if s.side in IMU_SIDES and not getattr(proto, "is_imu", True):
            raise AcquisitionError(
                f"{s.side} sensor {s.address} ({f.name or 'no name'}) is a footpod (running speed and cadence sensor, "
                f"no IMU), not an ankle sensor: give it with --footpod, and an ankle IMU with --{s.side}"
            )
        protos.append(proto)

    time_scale = backend.time_scale
    # the stamps of the raw log's frames: host monotonic ns (stamp_ns None), or the backend clock's (see the
    # module docstring); ``stamp_scale`` backend seconds per stamp second
    stamp_ns, stamp_scale = _stamp_clock(backend)
    header = {
        "format": RAWLOG_FORMAT,
        "version": 1,
        "start_time": datetime.now(UTC).isoformat(timespec="seconds"),
        "time_scale": stamp_scale,
        "clock": "host" if stamp_ns is None else "backend",
        "backend": backend.name,
        "label": label,
        "load_kg": float(load_kg),
        "subject": subject,
        "notes": notes,
        "placement": placement,
    }
    writer = RawLogWriter(rawlog_path, header, flush_interval_s=FLUSH_INTERVAL_S)
    group = ble.SensorGroup(
        backend,
        None if stamp_ns is None else _BackendStampedSink(stamp_ns),
        connect_timeout_s=connect_timeout_s,
        scan_timeout_s=min(scan_timeout_s, 5.0),
    )
    lives: dict[int, _Live] = {}
    for s, proto in zip(specs, protos, strict=True):
        f = found[s.address]
        info = {
            "side": s.side,
            "address": f.address,
            "name": f.name,
            "family": s.family,
            "model": proto.model or s.family,
            "config": protocol_config(proto, s.config),
            "has_sensor_time": bool(proto.has_sensor_time),
            "is_imu": bool(getattr(proto, "is_imu", True)),
        }
        number = writer.add_device(info)
        group.add(f, proto, label=s.side, number=number)
        lives[number] = _Live(s.side, f.address, proto, number, time_scale=stamp_scale)
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

    if any(p.has_sensor_time and getattr(p, "is_imu", True) for p in protos):
        # the live numbers unwrap sensor clocks with gait.live's StreamClock: import it (with the analysis it pulls
        # in, about half a second) now, not at the first notification - a stall of the event loop while streaming
        # lets a simulation at 20x run 10 s ahead of the recording loop
        from gait.live import StreamClock  # noqa: F401

    now_ns = stamp_ns or time.monotonic_ns
    t0_ns = now_ns()  # the origin of session time, and so of the live analysis's host clock
    for lv in lives.values():
        lv.t0_ns = t0_ns
    writer.event("start", t_ns=t0_ns)
    try:
        with device_errors():
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
    elapsed = previous = 0.0
    try:
        while not stop.is_set():
            pump()
            previous, elapsed = elapsed, clock() - c0
            if status:
                status.tick(elapsed)
            if feedback is not None:
                feedback.update(health)
            if duration_s is not None and elapsed >= duration_s:
                break
            wait = PUMP_INTERVAL_S
            if duration_s is not None and 0 < time_scale < math.inf:  # stop on time, also when sped up
                wait = min(wait, max((duration_s - elapsed) / time_scale, 1e-3))
            elif not math.isfinite(time_scale):
                # as fast as possible: the world advances a burst per radio tick, so look after every tick (stop on
                # time, keep up with the stream); only while it stands still (no sensor streaming) sleep a little
                wait = 0.0 if elapsed > previous else 0.005
            await asyncio.sleep(wait)
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)
        host_s = time.monotonic() - h0
        elapsed = clock() - c0
        await group.close_all()
        pump()
        stop_info: dict[str, Any] = {"time_scale": stamp_scale}
        if not math.isfinite(time_scale):  # how fast "as fast as possible" was, for the record
            stop_info["speedup"] = elapsed / host_s if host_s > 0 else None
        writer.event("stop", t_ns=now_ns(), **stop_info)
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
        session, decoded = session_and_sides(raw, protocols)
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
