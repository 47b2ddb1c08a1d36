"""A bleak backend with virtual sensors that speak the real protocols byte for byte (tests, CI and the demo).

``BleakScanner(backend=SimulatedScanner, radio=...)`` and ``BleakClient(dev, backend=SimulatedClient, radio=...)``
work through the public bleak API and bleak-retry-connector, like real hardware. A :class:`SimulatedRadio` holds
:class:`VirtualPeripheral` s; each is fed from plain IMU arrays (e.g. ``gait.synth`` output: this module never imports
gait), encodes them with its protocol's ``encode`` and, once the protocol's real start command bytes are written,
sends the payloads at the sensor's rate or ``speedup`` times faster (``math.inf``: as fast as the machine allows),
several per tick of the radio, as a BLE connection event would. Faults can be injected: a dropped link (down for N
seconds), lost / duplicated / corrupted (truncated) packets, clock drift and offset, battery level, a jolt (a tap
for interactive pairing), a switched-off sensor (never answers).

All fault times and durations are in *world* seconds (the simulated time the source arrays are in); the world
clock starts when ``start_after`` peripherals have started streaming.

Backend-writing notes (bleak 3.1.0): bleak passes extra keyword arguments to the backend constructors (accepted as
``**kwargs``, our ``radio=`` rides along), callbacks arrive pre-bound, UUIDs are normalised, and ``BLEDevice.details``
is the peripheral object (never a dict with ``"path"``, which bleak-retry-connector would take for BlueZ).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError
from bleak.uuids import normalize_uuid_str

from devices.ble import Backend
from devices.protocols.base import BATTERY_LEVEL_CHAR, BATTERY_SERVICE, SensorProtocol, sig_uuid

__all__ = [
    "RADIO",
    "Faults",
    "SimulatedClient",
    "SimulatedRadio",
    "SimulatedScanner",
    "VirtualPeripheral",
    "standing_arrays",
]

CCCD = sig_uuid(0x2902)
DEVICE_INFO_SERVICE = sig_uuid(0x180A)
FIRMWARE_CHAR = sig_uuid(0x2A26)
MODEL_CHAR = sig_uuid(0x2A24)
G = 9.80665

#: Advertised names and address prefixes that real sensors of each family use.
ADVERTISING: dict[str, tuple[str, str]] = {
    "movella_dot": ("Movella DOT", "D4:22:CD"),
    "movesense": ("Movesense 2203300{n:02d}", "0C:8C:DC"),
    "polar_pmd": ("Polar Sense B5A1C{n:03d}", "A0:9E:1A"),
    "witmotion": ("WT901BLE{n:02d}", "E8:CB:ED"),
    "metawear": ("MetaWear", "F5:7A:22"),
    "rsc": ("Stryd {n:02d}", "C4:7C:8D"),
}


@dataclass
class Faults:
    """What goes wrong with a virtual sensor. Rates are fractions of notifications; times in world seconds."""

    loss_rate: float = 0.0
    duplicate_rate: float = 0.0
    corrupt_rate: float = 0.0
    drift_ppm: float = 0.0
    offset_s: float = 0.0
    drops: Sequence[tuple[float, float]] = ()
    seed: int | None = 0


def standing_arrays(
    duration_s: float = 60.0,
    rate_hz: float = 200.0,
    *,
    up: str = "+z",
    tilt_deg: float = 0.0,
    noise_acc: float = 0.03,
    noise_gyr: float = 0.005,
    seed: int | None = 0,
) -> dict[str, np.ndarray]:
    """A sensor strapped to a standing person's shin: ``dict(t, acc, gyr)``.

    ``up`` names the sensor axis that points up along the shin (``"+z"``; ``"-z"`` is a sensor upside down),
    ``tilt_deg`` tilts it forward.
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * rate_hz))
    axis = "xyz".index(up[-1])
    sign = -1.0 if up.startswith("-") else 1.0
    g_sensor = np.zeros(3)
    g_sensor[axis] = sign * G * math.cos(math.radians(tilt_deg))
    g_sensor[(axis + 1) % 3] = G * math.sin(math.radians(tilt_deg))
    acc = g_sensor + noise_acc * rng.standard_normal((n, 3))
    gyr = noise_gyr * rng.standard_normal((n, 3))
    return {"t": np.arange(n) / rate_hz, "acc": acc, "gyr": gyr}


class VirtualPeripheral:
    """A virtual sensor: advertises, accepts one connection, streams a protocol's real payloads.

    Give IMU arrays (``acc``, ``gyr`` in m/s² and rad/s, ``t`` in world seconds, default ``arange(n) / rate``), or
    ready-made ``payloads`` with the world time at which each is ready (``payload_times``; e.g. a footpod's).
    """

    def __init__(
        self,
        address: str,
        protocol: SensorProtocol,
        *,
        acc: np.ndarray | None = None,
        gyr: np.ndarray | None = None,
        t: np.ndarray | None = None,
        payloads: Sequence[bytes] | None = None,
        payload_times: Sequence[float] | None = None,
        name: str | None = None,
        rssi: int = -60,
        battery: int | None = 85,
        firmware: str = "2.4.0",
        faults: Faults | None = None,
        service_uuids: Sequence[str] | None = None,
        manufacturer_data: Mapping[int, bytes] | None = None,
        service_data: Mapping[str, bytes] | None = None,
    ):
        self.address = address.upper()
        self.protocol = protocol
        self.name = name or protocol.model or protocol.family
        self.rssi = int(rssi)
        self.battery = battery
        self.firmware = firmware
        self.faults = faults or Faults()
        self.advertised_uuids = [normalize_uuid_str(u) for u in (service_uuids or [protocol.service_uuid])]
        self.manufacturer_data = dict(manufacturer_data or {})
        self.service_data = dict(service_data or {})
        self.powered = True
        self.radio: SimulatedRadio | None = None
        self._down_until = -math.inf
        self._client: SimulatedClient | None = None
        self._callbacks: dict[str, NotifyCallback] = {}
        self._streaming = False
        self._resync = False
        self._resync_at = 0.0  # world time at which streaming (re)started: it streams from there on
        self._dropped = False  # the link was lost while streaming and the host has not restarted it yet
        self._next = 0
        self._overrides: dict[int, list[bytes]] = {}
        self._drops_done: set[int] = set()
        self._rng = np.random.default_rng(self.faults.seed)
        # statistics, for tests: payload indices sent, notifications lost / corrupted (copies included) / extra
        # copies sent (duplicates; ``n_duplicated_clean``: of intact payloads), connections accepted
        self.writes: list[tuple[str, bytes]] = []
        self.n_connects = 0
        self.n_sent = 0
        self.n_lost = 0
        self.n_duplicated = 0
        self.n_duplicated_clean = 0
        self.n_corrupted = 0
        self.sent_index: list[int] = []
        self._source: dict[str, np.ndarray] | None = None
        self._build_stream(acc, gyr, t, payloads, payload_times)
        self._services = self._build_services()

    # --- the stream -----------------------------------------------------------------------------------------
    def sensor_time(self, t: np.ndarray) -> np.ndarray:
        """The sensor's clock at world times ``t`` (offset plus drift)."""
        return self.faults.offset_s + np.asarray(t, float) * (1.0 + 1e-6 * self.faults.drift_ppm)

    def _build_stream(self, acc, gyr, t, payloads, payload_times) -> None:
        if payloads is not None:
            self._payloads = [bytes(p) for p in payloads]
            if payload_times is None:
                raise ValueError("payloads need payload_times (world seconds at which each is ready)")
            self._ready = np.asarray(payload_times, dtype=float)
            self._slices = None
        elif acc is not None:
            acc = np.asarray(acc, dtype=float)
            gyr = np.zeros_like(acc) if gyr is None else np.asarray(gyr, dtype=float)
            t = np.arange(len(acc)) / self.protocol.rate_hz if t is None else np.asarray(t, dtype=float)
            self._source = {"t": t, "acc": acc, "gyr": gyr, "sensor_t": self.sensor_time(t)}
            self._payloads = [bytes(p) for p in self.protocol.encode(acc, gyr, self._source["sensor_t"])]
            counts = np.bincount(self.protocol.decode(self._payloads).payload_index, minlength=len(self._payloads))
            ends = np.cumsum(counts)
            starts = ends - counts
            self._slices = np.column_stack([starts, ends])
            last = np.clip(ends - 1, 0, len(t) - 1)
            self._ready = np.maximum.accumulate(t[last])
        else:
            self._payloads, self._ready, self._slices = [], np.zeros(0), None
        n = len(self._payloads)
        u = self._rng.random((n, 3))
        f = self.faults
        self._lost = (u[:, 0] < f.loss_rate).tolist()
        self._corrupt = (u[:, 1] < f.corrupt_rate).tolist()
        self._dup = (u[:, 2] < f.duplicate_rate).tolist()
        self._cut = self._rng.integers(1, 4, n).tolist()
        self._clean = not (f.loss_rate or f.corrupt_rate or f.duplicate_rate)

    @property
    def n_payloads(self) -> int:
        return len(self._payloads)

    @property
    def source(self) -> dict[str, np.ndarray] | None:
        """The arrays the sensor streams (world time ``t``, ``acc``, ``gyr``, its own clock ``sensor_t``)."""
        return self._source

    def payload_samples(self, j: int) -> tuple[int, int]:
        """Source sample range ``[start, end)`` carried by payload ``j``."""
        if self._slices is None:
            raise ValueError("this peripheral was given payloads, not arrays")
        a, b = self._slices[j]
        return int(a), int(b)

    def _tick(self, now: float) -> None:
        if self._resync:
            at = min(self._resync_at, now)
            self._next = max(self._next, int(np.searchsorted(self._ready, at, side="left")))
            self._resync = False
        end = int(np.searchsorted(self._ready, now, side="right"))
        start = self._next
        if end <= start:
            return
        self._next = end
        cb = self._callbacks.get(self._data_uuid) if self._streaming else None
        if cb is None or self._client is None:
            self.n_lost += end - start
            return
        payloads = self._payloads
        self.sent_index.extend(range(start, end))
        if self._clean and not self._overrides:
            for j in range(start, end):
                cb(bytearray(payloads[j]))
            self.n_sent += end - start
            return
        for j in range(start, end):
            if self._lost[j]:
                self.n_lost += 1
                continue
            copies = 2 if self._dup[j] else 1
            for p in self._overrides.pop(j) if j in self._overrides else (payloads[j],):
                if self._corrupt[j]:
                    p = p[: max(0, len(p) - self._cut[j])]
                    self.n_corrupted += copies
                for _ in range(copies):
                    cb(bytearray(p))
                self.n_sent += 1
                self.n_duplicated += copies - 1
                if not self._corrupt[j]:
                    self.n_duplicated_clean += copies - 1
            if self._client is None:  # a callback may drop the link
                return

    def _advance(self, now: float) -> None:
        """One radio tick: scheduled drops happen at their time (what was ready before is sent), then stream."""
        for k, (at, down) in enumerate(self.faults.drops):
            if k not in self._drops_done and now >= at:
                self._drops_done.add(k)
                if self._streaming:
                    self._tick(at)
                self.drop_link(down, at=at)
        if self._streaming:
            self._tick(now)

    # --- faults and user actions ------------------------------------------------------------------------------
    def _now(self) -> float:
        return self.radio.now() if self.radio is not None else 0.0

    def _deliver_ready(self) -> None:
        """Send what is ready up to now before the stream stops: a real sensor notifies in real time, so when the
        host stops it (or the link goes) everything before has arrived; the radio only ticks every ``tick_s``, and
        a host that stalled (a slow import, a busy machine) left a backlog that stopping must not drop."""
        if self._streaming and self._client is not None:
            self._tick(self._now())

    def drop_link(self, down_s: float = 0.0, at: float | None = None) -> None:
        """Lose the link now; the sensor is unreachable for ``down_s`` world seconds, then advertises again."""
        self._down_until = (self._now() if at is None else at) + down_s
        client = self._client
        if client is not None:
            if at is None:  # a scheduled drop (``at``) has had what was ready before it sent by _advance
                self._deliver_ready()
            self._dropped = self._streaming
            if self.radio is not None:
                self.radio._host_busy()
            self._detach()
            client._link_lost()

    def switch_off(self) -> None:
        """Power the sensor off: it stops advertising and never answers a connection attempt."""
        self.powered = False
        self.drop_link()

    def switch_on(self) -> None:
        self.powered = True

    def jolt(self, magnitude: float = 40.0, duration_s: float = 0.08, delay_s: float = 0.0) -> None:
        """A tap on the sensor: a half-sine acceleration spike starting ``delay_s`` world seconds from now."""
        if self._source is None or self._slices is None:
            raise ValueError("only a peripheral fed from arrays can be jolted")
        src = self._source
        t0 = self._now() + delay_s
        idx = np.flatnonzero((src["t"] >= t0) & (src["t"] <= t0 + duration_s))
        if idx.size == 0:
            return
        acc = src["acc"].copy()
        gyr = src["gyr"].copy()
        shape = np.sin(np.pi * (src["t"][idx] - t0) / duration_s)
        acc[idx, 0] += magnitude * shape
        acc[idx, 2] -= 0.5 * magnitude * shape
        gyr[idx, 1] += 3.0 * shape
        first = int(np.searchsorted(self._slices[:, 1], idx[0], side="right"))
        last = int(np.searchsorted(self._slices[:, 1], idx[-1], side="right"))
        for j in range(first, min(last + 1, len(self._payloads))):
            a, b = self._slices[j]
            if b > a:
                new = [bytes(p) for p in self.protocol.encode(acc[a:b], gyr[a:b], src["sensor_t"][a:b])]
                self._overrides[j] = new
                # a packet split over several notifications: the re-encoded parts replace the old continuations
                k = j + 1
                while k < len(self._payloads) and k - j < len(new) and self._slices[k, 1] == self._slices[k, 0]:
                    self._overrides[k] = []
                    k += 1

    # --- link layer ---------------------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._client is not None

    @property
    def connectable(self) -> bool:
        return self.powered and self._client is None and self._now() >= self._down_until

    @property
    def advertising(self) -> bool:
        return self.connectable

    def advertisement(self) -> AdvertisementData:
        rssi = self.rssi + int(self._rng.integers(-3, 4))
        service_data = dict(self.service_data)
        return AdvertisementData(
            local_name=self.name,
            manufacturer_data=dict(self.manufacturer_data),
            service_data=service_data,
            service_uuids=list(self.advertised_uuids),
            tx_power=0,
            rssi=rssi,
            platform_data=(),
        )

    def _attach(self, client: SimulatedClient) -> None:
        self._client = client
        self.n_connects += 1

    def _detach(self) -> None:
        self._client = None
        self._callbacks.clear()
        self._set_streaming(False)

    def _set_streaming(self, on: bool) -> None:
        if on == self._streaming:
            return
        self._streaming = on
        if on:
            self._resync = True
            self._resync_at = self._now()
            self._dropped = False
        if self.radio is not None:
            self.radio._stream_changed(self, on)

    def _subscribe(self, uuid: str, callback: NotifyCallback) -> None:
        self._callbacks[uuid] = callback
        if uuid == self._data_uuid and not self.protocol.start_commands():
            self._set_streaming(True)

    def _unsubscribe(self, uuid: str) -> None:
        if uuid == self._data_uuid:
            self._deliver_ready()
        self._callbacks.pop(uuid, None)
        if uuid == self._data_uuid:
            self._set_streaming(False)

    def _write(self, uuid: str, data: bytes) -> None:
        self.writes.append((uuid, data))
        for cmd in self.protocol.stop_commands():
            if normalize_uuid_str(cmd.char_uuid) == uuid and cmd.data == data:
                self._deliver_ready()
                self._set_streaming(False)
                return
        start = self.protocol.start_commands()
        if start and normalize_uuid_str(start[-1].char_uuid) == uuid and start[-1].data == data:
            self._set_streaming(True)

    def _read(self, uuid: str) -> bytes:
        if uuid == BATTERY_LEVEL_CHAR and self.battery is not None:
            return bytes([int(self.battery)])
        if uuid == FIRMWARE_CHAR:
            return self.firmware.encode()
        if uuid == MODEL_CHAR:
            return (self.protocol.model or self.protocol.family).encode()
        return b""

    @property
    def _data_uuid(self) -> str:
        return normalize_uuid_str(self.protocol.data_char_uuid)

    def _build_services(self) -> BleakGATTServiceCollection:
        """The GATT table: the protocol's service and characteristics, Battery and Device Information."""
        p = self.protocol
        notify = [normalize_uuid_str(u) for u in p.notify_char_uuids()]
        props: dict[str, list[str]] = {}
        for u in notify:
            props.setdefault(u, []).append("notify")
        control = normalize_uuid_str(p.control_char_uuid) if p.control_char_uuid else None
        writes = {normalize_uuid_str(c.char_uuid) for c in [*p.start_commands(), *p.stop_commands()]}
        if control:
            writes.add(control)
        for u in sorted(writes):
            props.setdefault(u, []).extend(["write", "write-without-response"])
        layout: dict[str, dict[str, list[str]]] = {normalize_uuid_str(p.service_uuid): props}
        if self.battery is not None:
            layout[BATTERY_SERVICE] = {BATTERY_LEVEL_CHAR: ["read", "notify"]}
        layout[DEVICE_INFO_SERVICE] = {FIRMWARE_CHAR: ["read"], MODEL_CHAR: ["read"]}
        handles = itertools.count(1)
        coll = BleakGATTServiceCollection()
        for s_uuid, chars in layout.items():
            service = BleakGATTService(None, next(handles), s_uuid)
            coll.add_service(service)
            for c_uuid, c_props in chars.items():
                char = BleakGATTCharacteristic(
                    None, next(handles), c_uuid, list(dict.fromkeys(c_props)), lambda: 244, service
                )
                coll.add_characteristic(char)
                if "notify" in c_props or "indicate" in c_props:
                    coll.add_descriptor(BleakGATTDescriptor(None, next(handles), CCCD, char))
        return coll


class SimulatedRadio:
    """The air between the host and the virtual peripherals: advertising, connections, the world clock.

    ``speedup`` is how many world seconds pass per host second (``math.inf``: as fast as the machine allows, the
    world advancing ``burst_s``, 0.5 to 1.5 times at random, per tick); ``start_after`` is how many peripherals
    must be streaming before the world clock starts (2 for a pair of ankles, so neither loses the start of the run).

    As fast as possible, the world clock has no fixed relation to host time (a host recording it stamps arrivals
    with :meth:`now`, see ``Backend.clock``), and it must not outrun what the host does in host time: while a
    sensor whose link was lost is being reconnected (a scan or connection attempt within ``hold_s`` host seconds),
    and for ``hold_s`` after any stream stopped (the host closing the sensors one by one), the world advances at
    ``catchup_speedup`` world seconds per host second, so a 5 s dropout stays about 5 s and a recording stopped
    after N seconds holds about N seconds of every sensor.
    """

    def __init__(
        self,
        speedup: float = 1.0,
        *,
        tick_s: float = 0.02,
        advertise_interval_s: float = 0.05,
        connect_delay_s: float = 0.005,
        start_after: int = 1,
        burst_s: float = 0.25,
        catchup_speedup: float = 20.0,
        hold_s: float = 2.0,
    ):
        if not speedup > 0:
            raise ValueError(f"speedup must be positive, got {speedup}")
        self.speedup = float(speedup)
        self.tick_s = tick_s
        self.advertise_interval_s = advertise_interval_s
        self.connect_delay_s = connect_delay_s
        self.start_after = start_after
        self.burst_s = burst_s
        self.catchup_speedup = catchup_speedup
        self.hold_s = hold_s
        self._busy_at = -math.inf  # host monotonic time of the last reconnection activity (drop, scan, connect)
        self._stopped_at = -math.inf  # host monotonic time a stream last stopped
        self._jitter = np.random.default_rng(0)
        self.peripherals: dict[str, VirtualPeripheral] = {}
        self._started: set[str] = set()
        self._streaming: dict[str, VirtualPeripheral] = {}
        self._world0: float | None = None
        self._world = 0.0
        self._ticker: asyncio.Task[None] | None = None
        self._numbers = itertools.count(1)

    # --- registry -------------------------------------------------------------------------------------------------
    def add(self, peripheral: VirtualPeripheral) -> VirtualPeripheral:
        peripheral.radio = self
        self.peripherals[peripheral.address] = peripheral
        return peripheral

    def add_sensor(
        self, protocol: SensorProtocol, *, address: str | None = None, name: str | None = None, **kwargs: Any
    ) -> VirtualPeripheral:
        """Add a virtual sensor with a realistic name and address for its family (``kwargs``: see VirtualPeripheral)."""
        n = next(self._numbers)
        name_fmt, prefix = ADVERTISING.get(protocol.family, (protocol.model or protocol.family, "02:00:00"))
        address = address or f"{prefix}:{(n >> 16) & 0xFF:02X}:{(n >> 8) & 0xFF:02X}:{n & 0xFF:02X}"
        return self.add(VirtualPeripheral(address, protocol, name=name or name_fmt.format(n=n), **kwargs))

    def get(self, address: str) -> VirtualPeripheral | None:
        return self.peripherals.get(address.upper())

    def clear(self) -> None:
        self.peripherals.clear()
        self._started.clear()
        self._streaming.clear()
        self._world0 = None
        self._world = 0.0

    def backend(self) -> Backend:
        """The :class:`devices.ble.Backend` that routes bleak through this radio."""
        return Backend(
            SimulatedScanner,
            SimulatedClient,
            {"radio": self},
            name="simulated",
            time_scale=self.speedup,
            clock=self.now,
        )

    # --- world clock ------------------------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self._world0 is not None

    def now(self) -> float:
        """World seconds since the run started (0 before it has)."""
        if self._world0 is None:
            return 0.0
        if math.isinf(self.speedup):
            return self._world
        return (time.monotonic() - self._world0) * self.speedup

    def _stream_changed(self, p: VirtualPeripheral, on: bool) -> None:
        if on:
            self._streaming[p.address] = p
            self._started.add(p.address)
            if self._world0 is None and len(self._started) >= self.start_after:
                self._world0 = time.monotonic()
            if self._ticker is None or self._ticker.done():
                self._ticker = asyncio.get_running_loop().create_task(self._run())
        else:
            self._streaming.pop(p.address, None)
            self._stopped_at = time.monotonic()

    def _host_busy(self) -> None:
        """The host is reconnecting a sensor (a link was lost, a scan or a connection attempt is under way)."""
        self._busy_at = time.monotonic()

    def _reconnecting(self) -> bool:
        """As fast as possible: is the host reconnecting a lost sensor (then the world keeps to host pace)?"""
        if time.monotonic() - self._busy_at > self.hold_s:
            return False
        return any(p._dropped and p.powered for p in self.peripherals.values())

    def _paced(self) -> bool:
        """As fast as possible: must the world keep to host pace now (a reconnection, or streams being stopped)?"""
        return time.monotonic() - self._stopped_at <= self.hold_s or self._reconnecting()

    async def _run(self) -> None:
        fast = math.isinf(self.speedup)
        last = time.monotonic()
        while self._streaming or (fast and self._reconnecting()):
            paced = False
            if self._world0 is not None:
                if fast:
                    mono = time.monotonic()
                    paced = self._paced()
                    if paced:
                        self._world += min(self.burst_s, (mono - last) * self.catchup_speedup)
                    else:  # a jittered burst, as connection events are: a fixed step would alias with the packets
                        self._world += self.burst_s * (0.5 + float(self._jitter.random()))
                    last = mono
                now = self.now()
                for p in list(self.peripherals.values()):
                    p._advance(now)
            await asyncio.sleep(0 if fast and self._world0 is not None and not paced else self.tick_s)


#: The default radio, used when no ``radio=`` is given to the backend classes.
RADIO = SimulatedRadio()


class SimulatedScanner(BaseBleakScanner):
    """Scanner backend: reports every advertising peripheral of the radio every ``advertise_interval_s``."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None = None,
        service_uuids: list[str] | None = None,
        scanning_mode: str = "active",
        *,
        radio: SimulatedRadio | None = None,
        **kwargs: Any,
    ):
        super().__init__(detection_callback, service_uuids)
        # bleak compares filters against raw strings: normalise so "180f" matches a full UUID
        if self._service_uuids is not None:
            self._service_uuids = [normalize_uuid_str(u) for u in self._service_uuids]
        self.radio = radio or RADIO
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._task = asyncio.get_running_loop().create_task(self._advertise())
        await asyncio.sleep(0)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _advertise(self) -> None:
        while True:
            self.radio._host_busy()
            for p in list(self.radio.peripherals.values()):
                if not p.advertising:
                    continue
                adv = p.advertisement()
                if not self.is_allowed_uuid(adv.service_uuids):
                    continue
                device = self.create_or_update_device(p.address, p.address, p.name, p, adv)
                self.call_detection_callbacks(device, adv)
            await asyncio.sleep(self.radio.advertise_interval_s)


class SimulatedClient(BaseBleakClient):
    """Client backend: one link to a virtual peripheral; GATT reads, writes and notifications go to it."""

    def __init__(
        self,
        address_or_ble_device: Any,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        radio: SimulatedRadio | None = None,
        **kwargs: Any,
    ):
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self.radio = radio or RADIO
        self._peripheral: VirtualPeripheral | None = None

    @property
    def name(self) -> str:
        p = self.radio.get(self.address)
        return p.name if p else self.address

    @property
    def mtu_size(self) -> int:
        return 247

    @property
    def is_connected(self) -> bool:
        return self._peripheral is not None and self._peripheral._client is self

    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        timeout = float(kwargs.get("timeout", self._timeout))
        p = self.radio.get(self.address)
        self.radio._host_busy()
        await asyncio.sleep(self.radio.connect_delay_s)
        if p is None or not p.connectable:
            # a switched-off or vanished sensor never answers: like BlueZ, give up after the timeout
            await asyncio.sleep(timeout)
            raise TimeoutError(f"no answer from {self.address}")
        p._attach(self)
        self._peripheral = p
        self.services = p._services

    async def disconnect(self) -> None:
        p = self._peripheral
        if p is not None and p._client is self:
            p._deliver_ready()
            p._detach()
            self._link_lost()

    def _link_lost(self) -> None:
        """The link is gone: fire the (pre-bound) disconnected callback, as BlueZ does, on the loop."""
        self._peripheral = None
        if self._disconnected_callback is not None:
            asyncio.get_running_loop().call_soon(self._disconnected_callback)

    def _require(self) -> VirtualPeripheral:
        if not self.is_connected:
            raise BleakError("Not connected")
        assert self._peripheral is not None
        return self._peripheral

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def unpair(self) -> None:
        return None

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs):
        return bytearray(self._require()._read(characteristic.uuid))

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs):
        self._require()
        return bytearray(b"\x00\x00")

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: Any, response: bool) -> None:
        self._require()._write(characteristic.uuid, bytes(data))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        self._require()

    async def start_notify(self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs) -> None:
        self._require()._subscribe(characteristic.uuid, callback)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._require()._unsubscribe(characteristic.uuid)
