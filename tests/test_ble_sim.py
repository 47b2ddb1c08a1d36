"""The radio layer (devices.ble) on the simulated bleak backend (devices.simulated), through the public bleak API."""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from pathlib import Path

import numpy as np
import pytest
from bleak import BleakClient, BleakScanner
from bleak_retry_connector import BleakClientWithServiceCache, establish_connection

from devices import ble
from devices.errors import BluetoothUnavailableError, SensorNotFoundError, SensorTimeoutError
from devices.protocols.base import BATTERY_LEVEL_CHAR
from devices.simulated import Faults, SimulatedClient, SimulatedRadio, SimulatedScanner, standing_arrays

try:
    from tests._simkit import CONTROL, DATA, PROTOCOLS, SERVICE, TinyImu, make_radio
except ImportError:  # tests/ itself on sys.path (pytest's rootdir-less import mode)
    from _simkit import CONTROL, DATA, PROTOCOLS, SERVICE, TinyImu, make_radio

HAS_SYSTEM_BUS = Path("/run/dbus/system_bus_socket").exists() or bool(os.environ.get("DBUS_SYSTEM_BUS_ADDRESS"))


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


# --- scanning -----------------------------------------------------------------------------------------------------
def test_scan_finds_virtual_sensors_and_identifies_family():
    radio, left, right, other = make_radio()

    async def go():
        return await ble.scan(0.3, backend=radio.backend(), protocols=PROTOCOLS)

    found = run(go())
    assert {f.address for f in found} == {left.address, right.address, other.address}
    assert all(f.family == "tinyimu" and f.model == "Tiny IMU (test)" for f in found)
    assert found[-1].address == other.address  # weakest signal last
    assert all(isinstance(f.rssi, int) for f in found)


def test_scan_identifies_every_registered_family():
    """Virtual sensors advertise like real ones: the protocol registry recognises each family from the advert."""
    from devices.protocols import PROTOCOLS as REGISTRY

    radio = SimulatedRadio()
    still = standing_arrays(2.0, 100.0)
    expected = {}
    for family, cls in REGISTRY.items():
        proto = cls()
        if proto.is_imu:
            p = radio.add_sensor(proto, acc=still["acc"], gyr=still["gyr"])
        else:
            p = radio.add_sensor(proto, payloads=[], payload_times=[])
        expected[p.address] = family

    found = run(ble.scan(0.3, backend=radio.backend()))
    assert {f.address: f.family for f in found} == expected


def test_bleak_public_api_on_the_simulated_backend():
    """discover / find_* / UUID filters / BleakClient / establish_connection, as §1.3-1.4 of the reference lists."""
    from devices.protocols.rsc import RSC

    radio, left, right, _ = make_radio(stranger=False, start_after=1)
    pod = radio.add_sensor(RSC(), payloads=[], payload_times=[])
    kw = {"backend": SimulatedScanner, "radio": radio}

    async def go():
        adv = await BleakScanner.discover(0.2, return_adv=True, **kw)
        assert set(adv) == {left.address, right.address, pod.address}
        dev, ad = adv[left.address]
        assert ad.local_name == "TinyIMU-L" and SERVICE in ad.service_uuids
        assert not (isinstance(dev.details, dict) and "path" in dev.details)
        by_name = await BleakScanner.find_device_by_name("TinyIMU-R", timeout=1, **kw)
        assert by_name is not None and by_name.address == right.address
        # a short-form filter matches a normalised advert (bleak itself compares raw strings)
        filt = await BleakScanner.discover(0.2, service_uuids=["1814"], **kw)
        assert [d.address for d in filt] == [pod.address]
        filt = await BleakScanner.discover(0.2, service_uuids=[SERVICE.upper()], **kw)
        assert len(filt) == 2

        got: list[bytes] = []
        disconnected = asyncio.Event()
        client = BleakClient(left.address, lambda c: disconnected.set(), backend=SimulatedClient, radio=radio)
        await client.connect()
        assert client.is_connected and client.services.get_characteristic(DATA) is not None
        assert (await client.read_gatt_char(BATTERY_LEVEL_CHAR))[0] == 85
        await client.start_notify(DATA, lambda _c, d: got.append(bytes(d)))
        await client.write_gatt_char(CONTROL, TinyImu().start_commands()[0].data, response=True)
        await client.write_gatt_char(CONTROL, b"\x09", response=False)  # unknown bytes: ignored
        await asyncio.sleep(0.3)
        assert got and all(len(p) == len(got[0]) for p in got)
        left.drop_link()
        await asyncio.wait_for(disconnected.wait(), 2)
        assert not client.is_connected

        c2 = await establish_connection(
            BleakClientWithServiceCache, by_name, "right", backend=SimulatedClient, radio=radio
        )
        assert c2.is_connected
        await c2.disconnect()
        assert not c2.is_connected

    run(go())


# --- failures with a clear message ----------------------------------------------------------------------------------
def test_switched_off_sensor_fails_within_seconds_with_a_clear_message():
    radio, left, right, _ = make_radio()

    async def go():
        found = await ble.find_sensors([left.address], timeout=2, backend=radio.backend(), protocols=PROTOCOLS)
        left.switch_off()  # seen a moment ago, now off: never answers
        link = ble.SensorLink(
            found[left.address], TinyImu(), 0, deque(), backend=radio.backend(), label="left", connect_timeout_s=2.0
        )
        t0 = time.monotonic()
        with pytest.raises(SensorTimeoutError) as err:
            await link.connect()
        elapsed = time.monotonic() - t0
        # and a sensor that is off from the start is simply not found
        missing = await ble.find_sensors([left.address], timeout=1, backend=radio.backend(), protocols=PROTOCOLS)
        return err.value, elapsed, missing

    exc, elapsed, missing = run(go())
    assert elapsed < 5.0
    msg = str(exc)
    assert "\n" not in msg and "did not answer within 2 s" in msg and "switched on" in msg and "left" in msg
    assert missing == {}


@pytest.mark.skipif(HAS_SYSTEM_BUS, reason="this machine has a D-Bus system bus")
def test_no_bluetooth_stack_gives_one_clear_line_with_the_real_backend():
    """The real default backend (BlueZ over D-Bus) on a machine without D-Bus: one line suggesting --simulate."""
    with pytest.raises(BluetoothUnavailableError) as err:
        run(ble.scan(1.0))
    msg = str(err.value)
    assert msg == (
        "Bluetooth is not available on this machine (no D-Bus system bus, so no BlueZ); "
        "run with --simulate to try everything with virtual sensors"
    )
    # the same for the reconnect path's scan-by-address
    link = ble.SensorLink(ble.FoundSensor("x", "AA:BB:CC:DD:EE:FF", "tinyimu", "", None), TinyImu(), 0, deque())
    with pytest.raises(BluetoothUnavailableError):
        run(link._find())


def test_bluez_without_bluetoothd_is_recognised():
    from bleak.exc import BleakDBusError

    err = ble._unavailable(BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", ["The name org.bluez was not"]))
    assert err is not None and "bluetoothd is not running" in str(err) and "--simulate" in str(err)
    assert ble._unavailable(ValueError("x")) is None


# --- streaming, reconnection --------------------------------------------------------------------------------------
def test_callbacks_only_enqueue_raw_tuples_and_reconnect_after_a_drop():
    radio, left, right, other = make_radio(speedup=20.0)
    backend = radio.backend()

    async def go():
        found = await ble.find_sensors([left.address, right.address], backend=backend, protocols=PROTOCOLS)
        group = ble.SensorGroup(backend, connect_timeout_s=3, scan_timeout_s=2)
        links = [group.add(found[a], TinyImu(), label=s) for s, a in (("left", left.address), ("right", right.address))]
        await group.connect_all()
        await asyncio.sleep(0.2)
        left.drop_link(down_s=5.0)  # world seconds: 0.25 s of wall time at 20x
        t0 = time.monotonic()
        while links[0].n_reconnects == 0 and time.monotonic() - t0 < 10:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        await group.close_all()
        return links, group.drain()

    links, items = run(go())
    data = [i for i in items if isinstance(i[2], bytes)]
    events = [(i[1], i[2]["event"]) for i in items if isinstance(i[2], dict)]
    assert data and all(isinstance(t, int) and d in (0, 1) for t, d, _ in data)
    assert (0, "disconnect") in events and (0, "reconnect") in events
    assert links[0].n_disconnects == 1 and links[0].n_reconnects == 1 and links[1].n_disconnects == 0
    start = TinyImu().start_commands()[0].data
    assert [w for _, w in left.writes].count(start) == 2  # the start command was sent again after reconnecting
    assert left.n_connects == 2 and right.n_connects == 1 and other.n_connects == 0
    assert b"\x00" in [w for _, w in left.writes]  # stop command on close


def test_only_named_sensors_are_connected_and_names_must_be_unique():
    radio, left, right, other = make_radio()
    backend = radio.backend()

    async def go():
        got = await ble.find_sensors(["TinyIMU-R"], timeout=0.5, backend=backend, protocols=PROTOCOLS)
        assert got["TinyIMU-R"].address == right.address
        other.name = "TinyIMU-R"  # two devices with one name: refuse to guess
        with pytest.raises(SensorNotFoundError, match="name the one you mean"):
            await ble.find_sensors(["TinyIMU-R"], timeout=0.5, backend=backend, protocols=PROTOCOLS)

    run(go())
    assert left.n_connects == right.n_connects == other.n_connects == 0  # scanning never connects


# --- the simulator itself -----------------------------------------------------------------------------------------
def test_simulator_faults_rates_and_real_bytes():
    """Loss, duplication and corruption happen at about the asked rates, and payloads are the protocol's bytes."""
    radio, left, right, _ = make_radio(
        speedup=100.0,
        duration_s=60.0,
        faults={"left": {"loss_rate": 0.05, "duplicate_rate": 0.05, "corrupt_rate": 0.05, "seed": 3}},
    )
    backend = radio.backend()

    async def go():
        found = await ble.find_sensors([left.address, right.address], backend=backend, protocols=PROTOCOLS)
        group = ble.SensorGroup(backend)
        for a in (left.address, right.address):
            group.add(found[a], TinyImu())
        await group.connect_all()
        while radio.now() < 30.0:
            await asyncio.sleep(0.02)
        await group.close_all()
        return group.drain(), radio.now()

    items, world_end = run(go())
    left_payloads = [p for _, d, p in items if d == 0 and isinstance(p, bytes)]
    right_payloads = [p for _, d, p in items if d == 1 and isinstance(p, bytes)]
    n = len(left.sent_index)
    assert n > 1000
    for count in (left.n_lost, left.n_corrupted, left.n_duplicated):  # each asked at 5 %
        assert 0.02 * n < count < 0.09 * n
    dec = TinyImu().decode(left_payloads)
    assert dec.n_bad == left.n_corrupted
    assert len(left_payloads) == left.n_sent + left.n_duplicated
    # right: clean, in order, exactly the source samples at the source's sensor time
    dec_r = TinyImu().decode(right_payloads)
    src = right.source
    i0 = int(round(dec_r.sensor_time_s[0] * 200))
    idx = i0 + np.arange(dec_r.n_samples)
    assert np.allclose(dec_r.acc, src["acc"][idx].astype(np.float32), atol=1e-6)
    assert np.allclose(dec_r.sensor_time_s, src["sensor_t"][idx], atol=2e-6)
    # rate: the sensor time covered is the world time that elapsed while it streamed (speedup applied, ~30 s of
    # world time here; the closing adds a little), not wall time (0.3 s)
    span = dec_r.sensor_time_s[-1] - dec_r.sensor_time_s[0]
    assert 29.0 < span <= world_end + 0.05


def test_virtual_sensor_clock_drift_and_offset_and_jolt():
    radio = SimulatedRadio(10.0)
    still = standing_arrays(30.0, 200.0, up="+x")
    p = radio.add_sensor(TinyImu(), acc=still["acc"], gyr=still["gyr"], faults=Faults(drift_ppm=50.0, offset_s=7.0))
    assert np.isclose(p.source["sensor_t"][-1], 7.0 + still["t"][-1] * (1 + 50e-6))
    assert np.isclose(np.linalg.norm(still["acc"].mean(axis=0)), 9.80665, atol=0.01)
    assert standing_arrays(1.0, up="-x")["acc"][:, 0].mean() < -9.0
    before = p._payloads[21]
    p.jolt(magnitude=40.0, duration_s=0.1, delay_s=0.4)  # world not started: now = 0, samples 80..100
    assert sorted(p._overrides) == list(range(20, 26)) and p._overrides[21][0] != before
    jolted = TinyImu().decode(p._overrides[22])
    assert np.abs(jolted.acc[:, 0] - still["acc"][88:92, 0]).max() > 10.0
    assert np.allclose(jolted.sensor_time_s, p.source["sensor_t"][88:92], atol=2e-6)
