"""Test helpers for the acquisition tests: a tiny timestamped IMU protocol and a radio with two ankles.

``TinyImu`` is written against :mod:`devices.protocols.base` only, so the radio tests do not depend on a vendor
module; its payloads carry float32 samples, so decoded values equal the source exactly (after float32 rounding),
and a u32 µs timestamp of the first sample (wrapping like the Movella DOT's).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from devices.protocols.base import Command, Decoded, SensorProtocol

SERVICE = "7e570000-1b2c-4d5e-8f90-a1b2c3d4e5f6"
DATA = "7e570001-1b2c-4d5e-8f90-a1b2c3d4e5f6"
CONTROL = "7e570002-1b2c-4d5e-8f90-a1b2c3d4e5f6"
KIND = 0x2A
SPP = 4
SIZE = 1 + 4 + SPP * 24


class TinyImu(SensorProtocol):
    """``2A ts_us:u32`` + 4 × (acc xyz, gyr xyz) float32; start ``01 rate:u16``, stop ``00``."""

    family = "tinyimu"
    model = "Tiny IMU (test)"
    service_uuid = SERVICE
    data_char_uuid = DATA
    control_char_uuid = CONTROL
    has_sensor_time = True

    def __init__(self, rate_hz: float = 200.0, **kw: float):
        super().__init__(rate_hz)

    def matches(self, name, service_uuids, manufacturer_data) -> bool:
        if name and name.startswith("TinyNT"):
            return False
        return SERVICE in [u.lower() for u in service_uuids] or bool(name and name.startswith("TinyIMU"))

    def start_commands(self) -> list[Command]:
        return [Command(CONTROL, bytes([1]) + int(self.rate_hz).to_bytes(2, "little"))]

    def stop_commands(self) -> list[Command]:
        return [Command(CONTROL, bytes([0]))]

    def decode(self, payloads: Sequence[bytes]) -> Decoded:
        ok = [i for i, p in enumerate(payloads) if len(p) == SIZE and p[0] == KIND]
        n_bad = len(payloads) - len(ok)
        if not ok:
            e = np.zeros((0, 3))
            return Decoded(e, e, np.zeros(0), np.zeros(0, dtype=np.int64), n_bad)
        buf = np.frombuffer(b"".join(payloads[i] for i in ok), dtype=np.uint8).reshape(len(ok), SIZE)
        ts = buf[:, 1:5].copy().view("<u4")[:, 0].astype(float) * 1e-6
        vals = buf[:, 5:].copy().view("<f4").reshape(len(ok) * SPP, 6).astype(float)
        t = np.repeat(ts, SPP) + np.tile(np.arange(SPP), len(ok)) / self.rate_hz
        return Decoded(vals[:, :3], vals[:, 3:], t, np.repeat(np.asarray(ok), SPP), n_bad)

    def encode(self, acc, gyr, sensor_time_s=None) -> list[bytes]:
        acc = np.asarray(acc, float)
        gyr = np.asarray(gyr, float)
        n = len(acc) // SPP * SPP
        t = np.arange(n) / self.rate_hz if sensor_time_s is None else np.asarray(sensor_time_s, float)
        vals = np.hstack([acc[:n], gyr[:n]]).astype("<f4").reshape(-1, SPP * 6)
        ts = (np.rint(t[:n:SPP] * 1e6).astype(np.int64) % 2**32).astype("<u4")
        return [bytes([KIND]) + ts[i].tobytes() + vals[i].tobytes() for i in range(len(vals))]


class TinyImuNoTime(TinyImu):
    """The same packets, but the decoder ignores the timestamp (like WitMotion or MetaWear)."""

    family = "tinyimu_notime"
    model = "Tiny IMU without time (test)"
    has_sensor_time = False

    def matches(self, name, service_uuids, manufacturer_data) -> bool:
        return bool(name and name.startswith("TinyNT"))

    def decode(self, payloads: Sequence[bytes]) -> Decoded:
        d = super().decode(payloads)
        d.sensor_time_s = None
        return d


PROTOCOLS = {"tinyimu": TinyImu, "tinyimu_notime": TinyImuNoTime}


def ankle_arrays(duration_s: float, rate_hz: float = 200.0, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Two ankles whose every sample is unique (acc_y carries the sample index), roughly like running."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * rate_hz)
    t = np.arange(n) / rate_hz
    out = {}
    for k, side in enumerate(("left", "right")):
        phase = np.pi * k
        acc = np.column_stack(
            [9.81 + 8 * np.sin(2 * np.pi * 1.4 * t + phase), np.arange(n) * 1e-3, 2 * np.cos(2 * np.pi * 1.4 * t)]
        )
        gyr = np.column_stack([0.2 * rng.standard_normal(n), 4 * np.sin(2 * np.pi * 1.4 * t + phase), np.zeros(n)])
        out[side] = {"t": t, "acc": acc, "gyr": gyr}
    return out


def make_radio(
    speedup: float = 20.0,
    duration_s: float = 120.0,
    *,
    family: type[TinyImu] = TinyImu,
    faults: dict | None = None,
    stranger: bool = True,
    start_after: int = 2,
):
    """A radio with a left and a right TinyImu (and a stranger's). Returns ``(radio, left, right, stranger)``."""
    from devices.simulated import Faults, SimulatedRadio

    radio = SimulatedRadio(speedup, start_after=start_after)
    arrays = ankle_arrays(duration_s)
    prefix = "TinyIMU" if family is TinyImu else "TinyNT"
    periph = {}
    for i, side in enumerate(("left", "right")):
        f = (faults or {}).get(side, {})
        periph[side] = radio.add_sensor(
            family(),
            address=f"AA:00:00:00:00:0{i + 1}",
            name=f"{prefix}-{side[0].upper()}",
            acc=arrays[side]["acc"],
            gyr=arrays[side]["gyr"],
            t=arrays[side]["t"],
            faults=Faults(**f),
        )
    other = None
    if stranger:
        other = radio.add_sensor(
            family(),
            address="AA:00:00:00:00:99",
            name=f"{prefix}-X",
            acc=arrays["left"]["acc"],
            gyr=arrays["left"]["gyr"],
            rssi=-90,
        )
    return radio, periph["left"], periph["right"], other


def make_standing_radio(speedup: float = 20.0, *, right_up: str = "+x", stranger: bool = True):
    """Two TinyImu sensors on a standing runner's shins (``right_up="-x"``: the right one upside down)."""
    from devices.simulated import SimulatedRadio, standing_arrays

    radio = SimulatedRadio(speedup, start_after=1)
    periph = {}
    for i, (side, up) in enumerate((("left", "+x"), ("right", right_up))):
        still = standing_arrays(300.0, 200.0, up=up, tilt_deg=4.0, seed=i)
        periph[side] = radio.add_sensor(
            TinyImu(), address=f"AA:00:00:00:00:0{i + 1}", name=f"TinyIMU-{i + 1}", acc=still["acc"], gyr=still["gyr"]
        )
    other = None
    if stranger:
        still = standing_arrays(300.0, 200.0, seed=7)
        other = radio.add_sensor(
            TinyImu(), address="AA:00:00:00:00:99", name="TinyIMU-X", acc=still["acc"], gyr=still["gyr"], rssi=-90
        )
    return radio, periph["left"], periph["right"], other


def record(path, radio, left, right, *, timeout_s: float = 60.0, **kw):  # noqa: ANN001, ANN201
    """``gait.acquire.record_async`` of the two virtual ankles on ``radio`` (no SIGINT handler), run to the end."""
    import asyncio

    from gait import acquire

    return asyncio.run(
        asyncio.wait_for(
            acquire.record_async(
                path,
                left=left.address,
                right=right.address,
                backend=radio.backend(),
                protocols=PROTOCOLS,
                handle_sigint=False,
                **kw,
            ),
            timeout_s,
        )
    )


def source_indices(acc: np.ndarray) -> np.ndarray:
    """Source sample index of each sample (the test arrays carry it in acc_y, in thousandths)."""
    return np.rint(acc[:, 1] * 1000).astype(int)
