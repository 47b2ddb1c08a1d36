"""Virtual sensors for ``--simulate``, the tests and the demo.

:func:`simulation` puts two virtual ankle sensors (:mod:`devices.simulated`) fed by :mod:`gait.synth` - or
standing still, for pairing - on a simulated radio, with a footpod and a neighbour's sensor that must never be
connected to; recording and pairing then run on its backend exactly as on real sensors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gait.acquire.common import DEFAULT_RATE_HZ, IMU_SIDES, check_rate_hz, protocol_for

if TYPE_CHECKING:  # imported lazily at run time: gait imports devices only in acquisition code
    from devices.ble import Backend
    from devices.simulated import SimulatedRadio, VirtualPeripheral

__all__ = ["DEFAULT_SIM_FAMILY", "Simulation", "simulation"]

DEFAULT_SIM_FAMILY = "movesense"


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

    rate_hz = check_rate_hz(rate_hz)
    proto_l = protocol_for(family, {"rate_hz": rate_hz}, protocols)
    proto_r = protocol_for(family, {"rate_hz": rate_hz}, protocols)
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
        other = protocol_for(family, {"rate_hz": rate_hz}, protocols)
        still = standing_arrays(min(duration_s, 120.0), fs, up="+x", seed=99)
        neighbour = radio.add_sensor(other, acc=still["acc"], gyr=still["gyr"], rssi=-85, battery=40)
    return Simulation(radio, radio.backend(), peripherals["left"], peripherals["right"], pod, neighbour, truth)
