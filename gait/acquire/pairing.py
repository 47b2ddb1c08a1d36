"""Pairing (`gait pair`): choose the left and right sensor, check them while the runner stands, remember them.

:func:`pair` picks the left and right sensor (by address, or interactively: the sensor that jolts when the runner
taps an ankle), checks battery, sample rate and mounting while the runner stands still (:func:`check_standing`),
and remembers the pair in the user's config folder (:func:`save_pair` / :func:`load_pair`), where
:func:`gait.acquire.record` finds it.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gait import conventions as C
from gait.acquire.common import (
    DEFAULT_RATE_HZ,
    IMU_SIDES,
    AcquisitionError,
    check_rate_hz,
    device_errors,
    protocol_config,
    protocol_for,
)

if TYPE_CHECKING:  # imported lazily at run time: gait imports devices only in acquisition code
    from devices.ble import Backend

__all__ = [
    "PairResult",
    "SensorCheck",
    "check_standing",
    "config_dir",
    "load_pair",
    "pair",
    "pair_async",
    "pair_path",
    "save_pair",
]


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
    rate_hz = check_rate_hz(rate_hz)
    if left is not None and right is not None and left.strip().lower() == right.strip().lower():
        raise AcquisitionError(f"left and right are the same sensor ({left}): give a different sensor for each ankle")
    with device_errors():
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
                and getattr(protocol_for(f.family, {}, protocols), "is_imu", True)
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
    sides = IMU_SIDES if left is not None and right is not None else ("",) * len(candidates)
    for side, f in zip(sides, candidates, strict=True):
        what = f"{side} sensor" if side else "sensor"
        if f.family is None:
            raise AcquisitionError(f"{what} {f.address} ({f.name or 'no name'}) is not a supported sensor")
        if not getattr(protocol_for(f.family, {}, protocols), "is_imu", True):
            raise AcquisitionError(
                f"{what} {f.address} ({f.name or 'no name'}) is a footpod (running speed and cadence sensor, no IMU), "
                f"not an ankle sensor: give it with --footpod, and an ankle IMU with --{side or 'left/--right'}"
            )
    if footpod is not None and footpod.strip().lower() in {w.strip().lower() for w in (left, right) if w}:
        raise AcquisitionError(f"footpod {footpod} is also named as an ankle sensor: give a different sensor for each")
    protos = [protocol_for(f.family, {"rate_hz": rate_hz}, protocols) for f in candidates]
    group = ble.SensorGroup(backend, connect_timeout_s=connect_timeout_s, reconnect=False)
    links = [group.add(f, p, label=f.name or f.address) for f, p in zip(candidates, protos, strict=True)]
    col = _Collector(group)
    t_connected = time.monotonic_ns()
    try:
        with device_errors():
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
                config=protocol_config(proto, {"rate_hz": rate_hz}),
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
        with device_errors():
            got = await ble.find_sensors([footpod], timeout=max(scan_s, 5.0), backend=backend, protocols=protocols)
        if footpod not in got or got[footpod].family is None:
            raise AcquisitionError(f"footpod {footpod} was not found or is not a supported footpod")
        if getattr(protocol_for(got[footpod].family, {}, protocols), "is_imu", True):
            raise AcquisitionError(f"footpod {footpod} is an IMU, not a footpod (running speed and cadence sensor)")
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
