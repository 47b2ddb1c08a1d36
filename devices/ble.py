"""The radio layer: scan and identify sensors, connect one at a time, stream notifications into a queue, reconnect.

Knows sensors, not gait (never imports :mod:`gait`). Everything goes through the public bleak API with an injectable
backend (:class:`Backend`), so the same code drives real Bluetooth and :mod:`devices.simulated`.

Rules this module keeps:

* Notification callbacks are synchronous and only append ``(time.monotonic_ns(), device_number, bytes(data))`` to a
  sink (a :class:`collections.deque`); decoding happens elsewhere, after the fact, as numbers only.
* Connections are made one at a time (one :class:`asyncio.Lock` per :class:`SensorGroup`), always from a
  ``BLEDevice`` found by a fresh scan, through bleak-retry-connector, inside our own overall timeout, so that a
  switched-off sensor fails within seconds.
* Only sensors the caller names (address from a pairing or the command line) are ever connected to.
* A dropout is recorded as an event, then the sensor is re-scanned by address, reconnected and restarted (the start
  commands are re-sent); the reconnection is recorded too.
* No Bluetooth stack (no D-Bus, no BlueZ, no adapter) becomes one :class:`BluetoothUnavailableError` line that
  suggests ``--simulate``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError, BleakError
from bleak.uuids import normalize_uuid_str
from bleak_retry_connector import BleakClientWithServiceCache, BleakNotFoundError, establish_connection

from devices.errors import (
    BluetoothUnavailableError,
    DeviceError,
    SensorConnectionError,
    SensorNotFoundError,
    SensorTimeoutError,
    UnsupportedSensorError,
)
from devices.protocols.base import BATTERY_LEVEL_CHAR, SensorProtocol, sig_uuid

__all__ = [
    "PLATFORM",
    "Backend",
    "FoundSensor",
    "SensorGroup",
    "SensorLink",
    "bluetooth_errors",
    "find_sensors",
    "identify_family",
    "is_address",
    "make_protocol",
    "read_battery",
    "scan",
]

log = logging.getLogger(__name__)

#: Firmware revision string (Device Information service), read where present.
FIRMWARE_CHAR = sig_uuid(0x2A26)
_MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$")
_UUID_RE = re.compile(r"^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$")

#: What a sink holds: ``(host monotonic ns, device number, payload bytes)`` for a notification, or
#: ``(host monotonic ns, device number, {"event": ...})`` for an event (connect, disconnect, battery, ...).
SinkItem = tuple[int, int, Any]

NO_BLUETOOTH_HINT = "run with --simulate to try everything with virtual sensors"


@dataclass(frozen=True, eq=False)
class Backend:
    """Which bleak backend classes to use (None: the platform's own) and extra keyword arguments for them.

    ``clock`` (optional) returns the backend's own time in seconds (a simulator's world clock); ``time_scale`` is
    how many backend seconds pass per host second (a simulator's speedup; 1 for real radios).
    """

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    name: str = "bluetooth"
    time_scale: float = 1.0
    clock: Callable[[], float] | None = None

    def scanner_kwargs(self) -> dict[str, Any]:
        kw = dict(self.kwargs)
        if self.scanner is not None:
            kw["backend"] = self.scanner
        return kw

    def client_kwargs(self) -> dict[str, Any]:
        kw = dict(self.kwargs)
        if self.client is not None:
            kw["backend"] = self.client
        return kw

    @property
    def simulated(self) -> bool:
        return self.scanner is not None or self.client is not None


#: The machine's own Bluetooth (bleak picks BlueZ, CoreBluetooth or WinRT).
PLATFORM = Backend()


# --- errors ---------------------------------------------------------------------------------------------------
def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:160] if text else type(exc).__name__


def _unavailable(exc: BaseException) -> BluetoothUnavailableError | None:
    """The one-line error for 'this machine has no usable Bluetooth', or None when ``exc`` is something else."""
    if isinstance(exc, BleakBluetoothNotAvailableError):
        why = getattr(exc, "reason", None) or _first_line(exc)
        return BluetoothUnavailableError(f"Bluetooth is not available ({why}); {NO_BLUETOOTH_HINT}")
    if isinstance(exc, BleakDBusError):
        name = getattr(exc, "dbus_error", "") or ""
        if "ServiceUnknown" in name or "org.bluez" in _first_line(exc):
            return BluetoothUnavailableError(
                f"Bluetooth is not available (the BlueZ service bluetoothd is not running); {NO_BLUETOOTH_HINT}"
            )
        return None
    if isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
        return BluetoothUnavailableError(
            f"Bluetooth is not available on this machine (no D-Bus system bus, so no BlueZ); {NO_BLUETOOTH_HINT}"
        )
    if isinstance(exc, PermissionError):
        return BluetoothUnavailableError(
            f"Bluetooth is not available to this user (permission denied on the system bus); {NO_BLUETOOTH_HINT}"
        )
    return None


@contextlib.contextmanager
def bluetooth_errors(scanning: bool = True) -> Iterator[None]:
    """Turn 'no Bluetooth stack' failures of bleak into :class:`BluetoothUnavailableError`.

    While ``scanning``, any other bleak or OS error also means the radio is unusable; while connecting, other errors
    pass through for the caller to word.
    """
    try:
        yield
    except (DeviceError, TimeoutError):
        raise
    except (OSError, BleakError) as exc:
        err = _unavailable(exc)
        if err is not None:
            raise err from exc
        if scanning:
            raise BluetoothUnavailableError(f"Bluetooth scan failed ({_first_line(exc)}); {NO_BLUETOOTH_HINT}") from exc
        raise


def is_address(text: str) -> bool:
    """True for a Bluetooth address (``AA:BB:..``) or a macOS CoreBluetooth UUID."""
    return bool(_MAC_RE.match(text) or _UUID_RE.match(text))


# --- protocols ------------------------------------------------------------------------------------------------
ProtocolFactories = Mapping[str, Callable[..., SensorProtocol]]


def _registry() -> Any:
    try:
        from devices import protocols as registry
    except ImportError as exc:  # pragma: no cover - the registry ships with the package
        raise UnsupportedSensorError("the sensor protocols (devices.protocols) are not installed") from exc
    return registry


def _family_of(result: Any) -> str | None:
    if result is None:
        return None
    if isinstance(result, str):
        return result
    return getattr(result, "family", None) or None


def identify_family(
    name: str | None,
    service_uuids: Sequence[str],
    manufacturer_data: Mapping[int, bytes],
    protocols: ProtocolFactories | None = None,
) -> str | None:
    """The protocol family an advertisement belongs to, or None. ``protocols`` overrides the registry."""
    uuids = [normalize_uuid_str(u) for u in service_uuids]
    mfr = dict(manufacturer_data)
    if protocols is None:
        registry = _registry()
        if hasattr(registry, "identify"):
            return _family_of(registry.identify(name, uuids, mfr))
        protocols = getattr(registry, "PROTOCOLS", {})
    for family, factory in protocols.items():
        try:
            if factory().matches(name, uuids, mfr):
                return family
        except Exception:  # noqa: BLE001 - a protocol's bad matcher must not break a scan
            log.debug("protocol %s failed to match", family, exc_info=True)
    return None


def make_protocol(
    family: str, config: Mapping[str, Any] | None = None, protocols: ProtocolFactories | None = None
) -> SensorProtocol:
    """An instance of the family's protocol with its configuration (rate, ranges); ``protocols`` come first."""
    config = dict(config or {})
    if protocols is not None and family in protocols:
        return protocols[family](**config)
    registry = _registry()
    known = getattr(registry, "PROTOCOLS", {})
    if str(family).strip().lower() not in known:
        names = ", ".join(sorted({*known, *(protocols or {})})) or "none"
        raise UnsupportedSensorError(f"unknown sensor family {family!r} (known: {names})")
    return registry.get_protocol(family, **config)  # a bad option raises ValueError naming it


# --- scanning -------------------------------------------------------------------------------------------------
@dataclass
class FoundSensor:
    """A sensor seen advertising: what the scan table shows, plus the ``BLEDevice`` to connect to."""

    name: str
    address: str
    family: str | None
    model: str
    rssi: int | None
    battery: int | None = None
    service_uuids: tuple[str, ...] = ()
    device: BLEDevice | None = field(default=None, repr=False, compare=False)

    @property
    def supported(self) -> bool:
        return self.family is not None


def _battery_from_adv(adv: AdvertisementData) -> int | None:
    """Battery level from Battery-service data in the advertisement (some sensors send it), else None."""
    data = adv.service_data.get(sig_uuid(0x180F)) or adv.service_data.get(normalize_uuid_str("180f"))
    if data and 0 <= data[0] <= 100:
        return int(data[0])
    return None


def _found(device: BLEDevice, adv: AdvertisementData, protocols: ProtocolFactories | None) -> FoundSensor:
    name = adv.local_name or device.name or ""
    family = identify_family(name, adv.service_uuids, adv.manufacturer_data, protocols)
    model = ""
    if family is not None:
        try:
            model = make_protocol(family, None, protocols).model or family
        except DeviceError:
            model = family
    return FoundSensor(
        name=name,
        address=device.address,
        family=family,
        model=model,
        rssi=adv.rssi,
        battery=_battery_from_adv(adv),
        service_uuids=tuple(normalize_uuid_str(u) for u in adv.service_uuids),
        device=device,
    )


async def scan(
    timeout: float = 5.0,
    *,
    backend: Backend = PLATFORM,
    protocols: ProtocolFactories | None = None,
    include_unknown: bool = False,
) -> list[FoundSensor]:
    """Scan for ``timeout`` seconds; supported sensors (and others with ``include_unknown``), strongest first."""
    with bluetooth_errors(scanning=True):
        seen = await BleakScanner.discover(timeout, return_adv=True, **backend.scanner_kwargs())
    found = [_found(d, a, protocols) for d, a in seen.values()]
    if not include_unknown:
        found = [f for f in found if f.supported]
    return sorted(found, key=lambda f: (f.family is None, -(f.rssi if f.rssi is not None else -999), f.address))


async def find_sensors(
    wanted: Sequence[str],
    *,
    timeout: float = 8.0,
    backend: Backend = PLATFORM,
    protocols: ProtocolFactories | None = None,
) -> dict[str, FoundSensor]:
    """Scan until every wanted sensor (address, or unique advertised name) is seen, or ``timeout`` passes.

    Returns what was found, keyed by the wanted string. A name shared by several advertising devices is refused (we
    never guess which physical sensor the user meant).
    """
    wanted = list(dict.fromkeys(wanted))
    by_address = {w.lower(): w for w in wanted if is_address(w)}
    names = {w for w in wanted if not is_address(w)}
    result: dict[str, FoundSensor] = {}
    name_hits: dict[str, set[str]] = {n: set() for n in names}
    done = asyncio.Event()

    def on_adv(device: BLEDevice, adv: AdvertisementData) -> None:
        key = by_address.get(device.address.lower())
        if key is not None and key not in result:
            result[key] = _found(device, adv, protocols)
        local = adv.local_name or device.name
        if local in names:
            name_hits[local].add(device.address)
            result.setdefault(local, _found(device, adv, protocols))
        if len(result) == len(wanted) and not names:
            done.set()

    with bluetooth_errors(scanning=True):
        async with BleakScanner(on_adv, **backend.scanner_kwargs()):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await done.wait()
    for n, addresses in name_hits.items():
        if len(addresses) > 1:
            raise SensorNotFoundError(
                f"{len(addresses)} sensors advertise the name {n!r} ({', '.join(sorted(addresses))}); "
                "name the one you mean by its address"
            )
    return result


# --- connections ----------------------------------------------------------------------------------------------
class SensorLink:
    """One sensor's connection: connect, stream into a sink, survive dropouts by reconnecting.

    Parameters
    ----------
    sensor
        The sensor found by a scan (its ``BLEDevice`` is used for the first connection).
    protocol
        Its protocol: notify characteristics, start and stop commands.
    number
        The device number written with each notification.
    sink
        Where notifications and events go (anything with ``append``; a ``deque`` is fastest).
    label
        How messages name the sensor, e.g. ``"left"``.
    connect_timeout_s
        Overall limit for one connection attempt including bleak-retry-connector's own retries.
    """

    def __init__(
        self,
        sensor: FoundSensor,
        protocol: SensorProtocol,
        number: int,
        sink: Any,
        *,
        backend: Backend = PLATFORM,
        label: str = "",
        connect_timeout_s: float = 10.0,
        scan_timeout_s: float = 5.0,
        reconnect: bool = True,
        max_backoff_s: float = 5.0,
        lock: asyncio.Lock | None = None,
    ):
        self.sensor = sensor
        self.address = sensor.address
        self.protocol = protocol
        self.number = int(number)
        self.sink = sink
        self.backend = backend
        self.label = label or sensor.name or sensor.address
        self.connect_timeout_s = connect_timeout_s
        self.scan_timeout_s = scan_timeout_s
        self.reconnect = reconnect
        self.max_backoff_s = max_backoff_s
        self._lock = lock or asyncio.Lock()
        self._client: Any = None
        self._closing = False
        self._reconnect_task: asyncio.Task[None] | None = None
        self.state = "idle"
        self.battery: int | None = sensor.battery
        self.firmware: str | None = None
        self.n_disconnects = 0
        self.n_reconnects = 0
        self.last_error = ""
        self._data_uuid = normalize_uuid_str(protocol.data_char_uuid)

    # --- callbacks (sync, append only) ------------------------------------------------------------------------
    def _data_callback(self) -> Callable[[Any, bytearray], None]:
        append = self.sink.append
        number = self.number
        now = time.monotonic_ns

        def on_data(_char: Any, data: bytearray) -> None:
            append((now(), number, bytes(data)))

        return on_data

    def _other_callback(self, uuid: str) -> Callable[[Any, bytearray], None]:
        append = self.sink.append
        number = self.number
        now = time.monotonic_ns

        def on_other(_char: Any, data: bytearray) -> None:
            append((now(), number, {"event": "response", "char": uuid, "hex": bytes(data).hex()}))

        return on_other

    def _emit(self, event: str, **details: Any) -> None:
        self.sink.append((time.monotonic_ns(), self.number, {"event": event, **details}))

    def _on_disconnect(self, client: Any) -> None:
        # while (re)connecting, the connecting code sees the failure itself; only a running stream is restored
        if self._closing or client is not self._client or self.state != "streaming":
            return
        self._client = None
        self.n_disconnects += 1
        self.state = "reconnecting" if self.reconnect else "disconnected"
        self._emit("disconnect", address=self.address)
        if self.reconnect:
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())

    # --- connecting -------------------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._client is not None and bool(self._client.is_connected)

    async def connect(self) -> None:
        """First connection and stream start, from the scanned ``BLEDevice``; raises a one-line DeviceError."""
        if self.sensor.device is None:
            raise SensorNotFoundError(f"{self.label} sensor {self.address} has not been seen in a scan")
        self.state = "connecting"
        async with self._lock:
            await self._connect_once(self.sensor.device)
        self._emit("connect", address=self.address, battery=self.battery, firmware=self.firmware)

    async def _connect_once(self, device: BLEDevice) -> None:
        what = f"{self.label} sensor {self.address}"
        try:
            with bluetooth_errors(scanning=False):
                async with asyncio.timeout(self.connect_timeout_s):
                    client = await establish_connection(
                        BleakClientWithServiceCache,
                        device,
                        self.label,
                        disconnected_callback=self._on_disconnect,
                        max_attempts=3,
                        **self.backend.client_kwargs(),
                    )
        except TimeoutError:
            raise SensorTimeoutError(
                f"{what} did not answer within {self.connect_timeout_s:g} s: is it switched on, charged, in range "
                "and not connected to a phone app?"
            ) from None
        except BleakNotFoundError:
            raise SensorNotFoundError(f"{what} was not found: is it switched on and in range?") from None
        except BleakError as exc:
            raise SensorConnectionError(f"could not connect to {what}: {_first_line(exc)}") from exc
        self._client = client
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                await self._start_stream(client)
        except (TimeoutError, BleakError, OSError) as exc:
            self._client = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 2.0)
            why = "it stopped answering" if isinstance(exc, TimeoutError) else _first_line(exc)
            raise SensorConnectionError(f"{what} connected but could not start streaming: {why}") from exc
        self.state = "streaming"

    async def _start_stream(self, client: Any) -> None:
        level = await _read_battery_level(client)
        if level is not None:
            self.battery = level
        if self.firmware is None:
            self.firmware = await _read_text(client, FIRMWARE_CHAR)
        if self.battery is not None:
            self._emit("battery", level=self.battery)
        for uuid in self.protocol.notify_char_uuids():
            norm = normalize_uuid_str(uuid)
            cb = self._data_callback() if norm == self._data_uuid else self._other_callback(norm)
            await client.start_notify(norm, cb)
        for cmd in self.protocol.start_commands():
            await client.write_gatt_char(normalize_uuid_str(cmd.char_uuid), cmd.data, response=cmd.response)

    async def _find(self) -> BLEDevice | None:
        with bluetooth_errors(scanning=True):
            return await BleakScanner.find_device_by_address(
                self.address, timeout=self.scan_timeout_s, **self.backend.scanner_kwargs()
            )

    async def _reconnect(self) -> None:
        lost = time.monotonic()
        backoff = 0.1
        attempts = 0
        while not self._closing:
            attempts += 1
            try:
                async with self._lock:
                    if self._closing:
                        return
                    device = await self._find()
                    if device is None:
                        raise SensorNotFoundError(f"{self.label} sensor {self.address} is not advertising")
                    await self._connect_once(device)
            except DeviceError as exc:
                self.last_error = str(exc)
                log.info("reconnect attempt %d of %s failed: %s", attempts, self.label, exc)
                await asyncio.sleep(backoff)
                backoff = min(2 * backoff, self.max_backoff_s)
                continue
            self.n_reconnects += 1
            self._emit("reconnect", address=self.address, attempts=attempts, down_s=time.monotonic() - lost)
            return

    async def close(self) -> None:
        """Stop streaming (stop commands), disconnect, and stop any reconnection in progress."""
        self._closing = True
        task, self._reconnect_task = self._reconnect_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(3.0):
                    for cmd in self.protocol.stop_commands():
                        await client.write_gatt_char(normalize_uuid_str(cmd.char_uuid), cmd.data, response=cmd.response)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 3.0)
        self.state = "closed"


class SensorGroup:
    """Several sensors streaming into one sink; connections are made one at a time."""

    def __init__(
        self,
        backend: Backend = PLATFORM,
        sink: Any = None,
        *,
        connect_timeout_s: float = 10.0,
        scan_timeout_s: float = 5.0,
        reconnect: bool = True,
    ):
        self.backend = backend
        self.sink: Any = deque() if sink is None else sink
        self.links: list[SensorLink] = []
        self.connect_timeout_s = connect_timeout_s
        self.scan_timeout_s = scan_timeout_s
        self.reconnect = reconnect
        self._lock = asyncio.Lock()

    def add(self, sensor: FoundSensor, protocol: SensorProtocol, label: str = "", number: int | None = None):
        link = SensorLink(
            sensor,
            protocol,
            len(self.links) if number is None else number,
            self.sink,
            backend=self.backend,
            label=label,
            connect_timeout_s=self.connect_timeout_s,
            scan_timeout_s=self.scan_timeout_s,
            reconnect=self.reconnect,
            lock=self._lock,
        )
        self.links.append(link)
        return link

    async def connect_all(self) -> None:
        """Connect each sensor in turn; on a failure, close the ones already connected and re-raise."""
        try:
            for link in self.links:
                await link.connect()
        except BaseException:
            await self.close_all()
            raise

    async def close_all(self) -> None:
        for link in self.links:
            await link.close()

    def drain(self) -> list[SinkItem]:
        """Take everything queued so far (safe while callbacks keep appending)."""
        sink = self.sink
        n = len(sink)
        return [sink.popleft() for _ in range(n)]


# --- GATT helpers ---------------------------------------------------------------------------------------------
async def _read_battery_level(client: Any) -> int | None:
    """Battery level (0x2A19, percent) where the sensor has the standard Battery service."""
    try:
        if client.services.get_characteristic(BATTERY_LEVEL_CHAR) is None:
            return None
        data = await client.read_gatt_char(BATTERY_LEVEL_CHAR)
    except (BleakError, OSError):
        return None
    return int(data[0]) if data and data[0] <= 100 else None


async def _read_text(client: Any, uuid: str) -> str | None:
    try:
        if client.services.get_characteristic(uuid) is None:
            return None
        data = await client.read_gatt_char(uuid)
    except (BleakError, OSError):
        return None
    return bytes(data).decode("utf-8", "replace").strip("\x00 ") or None


async def read_battery(sensor: FoundSensor, *, backend: Backend = PLATFORM, timeout_s: float = 8.0) -> int | None:
    """Connect briefly to a (paired or named) sensor to read its battery level; None when it has none."""
    if sensor.device is None:
        raise SensorNotFoundError(f"sensor {sensor.address} has not been seen in a scan")
    try:
        with bluetooth_errors(scanning=False):
            async with asyncio.timeout(timeout_s):
                client = await establish_connection(
                    BleakClientWithServiceCache,
                    sensor.device,
                    sensor.name or sensor.address,
                    max_attempts=2,
                    **backend.client_kwargs(),
                )
                try:
                    return await _read_battery_level(client)
                finally:
                    with contextlib.suppress(Exception):
                        await client.disconnect()
    except TimeoutError:
        raise SensorTimeoutError(f"sensor {sensor.address} did not answer within {timeout_s:g} s") from None
    except BleakError as exc:
        raise SensorConnectionError(f"could not read the battery of {sensor.address}: {_first_line(exc)}") from exc
