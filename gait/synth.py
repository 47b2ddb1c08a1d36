"""Synthetic two-ankle IMU runs with exact ground truth.

Why: every stage of the analysis engine (alignment, events, strapdown stride length, shank angle, tibial
shock, asymmetry, weighted-vs-unweighted statistics) needs signals whose true answer is known. The generator
is *physically consistent*: it builds a smooth rigid-body motion of each shank in a world frame, and the
sensor readings are exact functions of that motion, so integrating the gyroscope gives back the orientation
and double-integrating the gravity-free accelerometer gives back the trajectory.

Model (per leg, vectorized over samples; only per-stride bookkeeping works on stride arrays)
-------------------------------------------------------------------------------------------
* **Timing.** Alternating left/right initial contacts (IC) from a step sequence with stride-time
  variability and step-time asymmetry; per stride a contact time (so toe-off, TO) and a heel-off.
* **Shank orientation.** World <- anatomical rotation ``R_y(-theta) @ R_x(gamma) @ R_z(psi)``: ``theta``
  is the sagittal shank angle of :mod:`gait.conventions` (positive = ankle ahead of the knee), ``gamma`` a
  small frontal tilt and ``psi`` a small axial rotation, both mirrored between the legs. Each angle is a C2
  quintic-Hermite curve through per-stride key points (IC, mid-stance, TO, maximal back swing, maximal
  forward swing) whose knot derivatives come from the cubic spline through them; because ``theta`` is
  applied first, the sagittal projection of the tibia axis is exactly ``theta``. Running: the stance rotation
  is front-loaded (85 % of the IC -> TO rotation done at 60 % of contact) and comes to rest at TO (zero rate
  and angular acceleration, the late-stance plateau of ``gyr_ml``); the back swing starts from rest at TO.
* **Ankle path (running).** Stance: the ankle stays over the ground contact (a small forward roll until
  heel-off at 35 % of contact). Push-off, heel-off -> TO: a force-like forward acceleration (builds up, holds,
  and is released in the last 3 % of the push-off: the ground force vanishes at TO) brings the ankle to
  0.62 x the stride's mean speed; the heel rise (a vertical acceleration bump over 10-80 % of the push-off)
  lifts it by 10 cm, then it rises at a constant rate into TO. Swing, TO -> next IC: forward, a degree-7
  profile from the TO state to rest at the next IC (no acceleration or jerk at either end) minus a short back
  kick (the free shank swings back about the knee); vertically, the free continuation of the rise to rest at
  the next IC plus a lift bump (peak at 3/7 of the swing, ``ankle_clearance_m``), which makes the vertical
  acceleration jump up at TO; a little outwards. Position, velocity and acceleration are continuous, but
  within ~10 ms around TO the forward acceleration drops from the push-off plateau (~2.5 g at 3.5 m/s) to
  about -2 g and the vertical jerk jumps: the signature of TO in ``acc_si`` / ``acc_ap`` / ``gyr_ml``.
  Calibrated on virtual shank IMUs of the Fukuchi 2017 treadmill runs (2.5 and 3.5 m/s, force-plate events;
  at 3.5 m/s real vs synthetic: ankle rise at TO 9.5-10.7 vs 10 cm, forward / vertical ankle speed at TO
  2.0-2.4 / 1.1-1.3 vs 2.2 / 1.2 m/s, axial specific force drop from the late-stance peak to the post-TO
  minimum 2.0-4.4 vs 3.2 g (20 Hz), ``gyr_ml`` at TO -0.3..0.05 vs 0 rad/s, back-swing peak -6.4..-8.8 vs
  -6.6 rad/s, shank angle at TO -30..-36 vs -32 deg). Walking keeps the simpler path: from heel-off to the
  next IC the ankle moves forward (minimum jerk) and rises with an early peak.
* **Body.** Foot placement follows the body, which moves at ``speed_mps`` (with slow fluctuations), so a
  stride length is exactly the body displacement between the two ICs (speed x stride time in steady state).
* **Sensor.** Position ``ankle + R @ offset`` (a few cm up and in front of the ankle joint) plus an impact
  transient at each IC: a damped oscillation *of the sensor position* along the tibia (and a little AP),
  whose second derivative is the tibial-shock transient. Accelerometer ``R_ws.T @ (p'' + g z)`` (specific
  force), gyroscope ``R_ws.T @ omega`` (rad/s), both analytic, evaluated at the sample instants.
* **Start and stop.** The runner stands still (shanks vertical) for ``stand_s``, then the speed and every
  amplitude ramp up over ``ramp_s``; they ramp down again at the end, followed by standing.

Frames and conventions
----------------------
World: x forward, y left, z up (true time). Anatomical shank frame: x forward, y left, z up along the tibia
(:mod:`gait.conventions`). ``SynthRun.mounting[side]`` is the rotation **sensor -> anatomical**,
``v_anatomical = M @ v_sensor``, so a still, vertical shank reads ``acc = M.T @ [0, 0, g]``.
``world[side]["R"]`` is **world <- sensor**, ``v_world = R @ v_sensor``. Both are proper rotations.

Clocks: the left sensor's clock is true time. The right sensor's time stamps are
``t_right = (1 + clock_drift_ppm * 1e-6) * t_true + clock_offset_s``; it samples uniformly in its own clock
(``t_right[k] = clock_offset_s + k / sample_rate_hz``). Every truth time is true time.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from gait import conventions as C

if TYPE_CHECKING:
    from gait.session import Session

__all__ = [
    "RunParams",
    "SynthRun",
    "nominal_mounting",
    "pendulum_frequency_change",
    "shank_angle_deg",
    "simulate_run",
]

FloatArray = NDArray[np.float64]
Mode = Literal["run", "walk"]

_BIG = 1.0e9  # sentinel time (s) for "before the first / after the last stride"
_CHUNK = 131_072  # samples evaluated at once (bounds memory of the (n, 3, 3) intermediates)
_E_X, _E_Y, _E_Z = np.eye(3)

# Passive physical-pendulum leg (reference section 3.2): leg mass, centre of mass and radius of gyration
# about it (both from the hip), load distance from the hip. Reproduces -1.6 / -3.0 / -5.7 % at 0.5 / 1 /
# 2.5 kg per ankle.
_LEG_MASS_KG = 11.3
_LEG_COM_M = 0.38
_LEG_GYRATION_M = 0.30
_LOAD_DIST_M = 0.85

# Mode-dependent defaults and key-point shapes. Key points per stride, in this order:
# IC, mid-stance, TO, maximal back swing, maximal forward swing.
_MODES: dict[str, dict[str, Any]] = {
    "run": {
        "speed_mps": 3.0,
        "shank_angle_ic_deg": 7.0,
        "shank_angle_to_deg": -32.0,
        "max_above_ic_deg": 8.0,
        "mid_stance_frac": 0.6,  # time of the mid-stance key point, fraction of contact
        "mid_stance_angle_frac": 0.85,  # its angle, fraction of the way from the IC angle to the TO angle
        # the stance rotation comes to rest at TO (late-stance plateau of gyr_ml) and the back swing starts there
        "to_at_rest": True,
        "heel_off_frac": 0.35,  # heel-off (push-off starts: the ankle rises and accelerates), fraction of contact
        "push_off": True,  # push-off from heel-off to TO, then the swing from TO (see _push_off)
        "pushoff_speed_frac": 0.62,  # forward ankle speed at TO, fraction of the stride's mean speed
        "pushoff_rise_m": 0.10,  # ankle rise from heel-off to TO
        "back_kick_frac": 0.3,  # backward ankle kick after TO, fraction of the swing lift
        "min_swing_frac": 0.3,  # time of maximal back swing, fraction of swing
        "max_swing_frac": 0.82,  # time of maximal forward swing, fraction of swing
        "stance_roll_m": 0.015,
        "step_width_m": 0.10,
        "lateral_swing_m": 0.01,
        "tilt_deg": (3.0, 5.0, 3.0, 0.0, 1.0),  # frontal tilt, ankle medial of the knee positive
        "rotation_deg": (3.0, -2.0, 1.0, 4.0, 3.0),  # axial rotation, external positive
    },
    "walk": {
        "speed_mps": 1.3,
        "shank_angle_ic_deg": 18.0,
        "shank_angle_to_deg": -35.0,
        "shank_angle_min_deg": -42.0,
        "max_above_ic_deg": 6.0,
        "mid_stance_frac": 0.45,
        "mid_stance_angle_frac": 0.35,
        "to_at_rest": False,  # walking: the shank still rotates backwards at TO (gyr_ml minimum)
        "heel_off_frac": 0.6,
        "push_off": False,  # the ankle moves forward and up from heel-off to the next IC (minimum jerk, bump)
        "pushoff_speed_frac": 0.0,
        "pushoff_rise_m": 0.0,
        "back_kick_frac": 0.0,
        "min_swing_frac": 0.12,
        "max_swing_frac": 0.85,
        "ankle_clearance_m": 0.10,
        "stance_roll_m": 0.02,
        "step_width_m": 0.14,
        "lateral_swing_m": 0.01,
        "tilt_deg": (2.0, 3.0, 2.0, 0.0, 1.0),
        "rotation_deg": (2.0, -3.0, 0.0, 3.0, 2.0),
    },
}

Pair = float | tuple[float, float]


@dataclass(frozen=True)
class RunParams:
    """Everything that defines a synthetic run; ``None`` fields are derived from ``mode`` and speed.

    Pairs (``shank_angle_ic_deg``, ``ankle_load_kg``, ``impact_g``) take one value for both legs or a
    ``(left, right)`` tuple. Load effects are applied on top of the (unloaded) cadence, contact time, shank
    angle and impact given here; :func:`simulate_run` returns the resolved parameters (no ``None`` left).
    """

    mode: Mode = "run"
    #: overground speed (m/s); default 3.0 running, 1.3 walking
    speed_mps: float | None = None
    #: steps per minute; default 146 + 6 * speed (running), 75 + 28 * speed (walking)
    cadence_spm: float | None = None
    #: default 0.36 - 0.035 * speed (running, >= 0.14 s), duty factor 0.62 - 0.03 * (speed - 1.3) (walking)
    contact_time_s: float | None = None
    duration_s: float = 60.0  #: gait time between the two standing periods, ramps included (> 2 ramp_s)
    stand_s: float = 5.0  #: standing still at the start and (at least) at the end
    ramp_s: float = 2.0  #: speed and amplitudes ramp up / down over this time (> 0)
    sample_rate_hz: float = 200.0
    first_side: C.Side = "left"  #: the leg that moves first

    # --- shank angle key points (deg) ----------------------------------------------------------------------
    shank_angle_ic_deg: Pair | None = None  #: default 7 running, 18 walking
    shank_angle_to_deg: float | None = None  #: default -32 running, -35 walking
    shank_angle_min_deg: float | None = (
        None  #: maximal back swing; default -60 - 5 * (speed - 3) running, -42 walking
    )
    shank_angle_max_deg: float | None = (
        None  #: maximal forward swing; default IC angle + 8 (run) / + 6 (walk)
    )
    out_of_plane_scale: float = 1.0  #: scales the small frontal tilt and axial rotation (0: pure sagittal)

    # --- ankle path (m) ------------------------------------------------------------------------------------
    ankle_clearance_m: float | None = (
        None  #: swing rise: running at 3/7 of TO -> IC (~peak), default 0.12 * speed - 0.07; walking peak, 0.10
    )
    stance_roll_m: float | None = None  #: forward ankle translation between IC and heel-off
    step_width_m: float | None = None  #: lateral distance between the two ankle joint centres
    ankle_height_m: float = 0.08  #: ankle joint centre above the ground in stance

    # --- variability (SDs) and asymmetry -------------------------------------------------------------------
    stride_time_cv: float = 0.015
    contact_time_cv: float = 0.03
    shank_angle_sd_deg: float = 1.0  #: per key point and stride
    speed_cv: float = 0.01  #: slow speed fluctuations (8-s correlation)
    step_time_asym: float = 0.0  #: (R - L) / mean of the step times ending with each leg's IC
    contact_time_asym: float = 0.0  #: (R - L) / mean of the contact times

    # --- ankle weights (reference section 3.2) -------------------------------------------------------------
    ankle_load_kg: Pair = 0.0
    #: cadence change = this fraction x the pendulum upper bound (-1.6 / -3.0 / -5.7 % at 0.5 / 1 / 2.5 kg),
    #: computed from the mean load of the two legs
    load_cadence_fraction: float = 0.5
    #: relative contact-time change = this fraction x the relative stride-time change (per leg's own load)
    load_contact_fraction: float = 0.5
    load_shank_angle_deg_per_kg: float = -0.3  #: exploratory: heavier shank lands more vertical
    load_impact_g_per_kg: float = 0.0  #: exploratory (strap-on mass changes the soft-tissue resonance)

    # --- impact transient ----------------------------------------------------------------------------------
    impact: bool = True
    #: transient amplitude (g) added to the rigid-body specific force at IC; default (running)
    #: 1.6 * speed + 0.3 * max(IC angle, 0), (walking) 0.8 + 0.5 * speed
    impact_g: Pair | None = None
    impact_cv: float = 0.1
    impact_freq_hz: float = 25.0
    impact_decay_s: float = 0.004  #: envelope (t/tau)^3 exp(-t/tau), peaking at 3 tau
    impact_ap_ratio: float = -0.3  #: AP / axial component of the transient direction (negative: braking)

    # --- sensor --------------------------------------------------------------------------------------------
    #: sensor -> anatomical rotation: ``None`` (nominal + seeded misalignment), one (3, 3) array for both
    #: legs, or a ``{"left": R, "right": R}`` mapping; explicit matrices get no misalignment
    mounting: Any = None
    #: direction of the skin normal under the sensor, from anterior towards medial (45: anteromedial tibia)
    mount_face_deg: float = 45.0
    mount_misalignment_deg: float = 6.0  #: SD per axis (clipped at 15 deg) of the random misalignment
    sensor_offset_m: tuple[float, float, float] = (0.02, 0.02, 0.05)  #: (anterior, medial, up) from the ankle
    noise: bool = True
    acc_noise_sd: float = 0.05  #: m/s², white
    gyr_noise_sd: float = 0.005  #: rad/s, white
    bias: bool = True
    acc_bias_sd: float = 0.05  #: m/s², constant per sensor
    gyr_bias_sd: float = 0.01  #: rad/s, constant per sensor
    clock_offset_s: float = 0.0  #: right sensor clock minus true time at t = 0
    clock_drift_ppm: float = 0.0  #: right sensor clock rate error (positive: its clock runs fast)
    ideal: bool = False  #: switch off noise, bias and the impact transient at once

    def resolved(self) -> RunParams:
        """These parameters with every ``None`` replaced by its mode / speed dependent default."""
        if self.mode not in _MODES:
            raise ValueError(f"mode: allowed values are {tuple(_MODES)}, but got {self.mode!r}")
        d = _MODES[self.mode]
        v = float(self.speed_mps if self.speed_mps is not None else d["speed_mps"])
        run = self.mode == "run"
        cad = self.cadence_spm
        if cad is None:
            cad = 146.0 + 6.0 * v if run else 75.0 + 28.0 * v
        ct = self.contact_time_s
        if ct is None:
            ct = max(0.36 - 0.035 * v, 0.14) if run else (0.62 - 0.03 * (v - 1.3)) * 120.0 / cad
        ic = self.shank_angle_ic_deg if self.shank_angle_ic_deg is not None else d["shank_angle_ic_deg"]
        ic_pair = _pair(ic, "shank_angle_ic_deg")
        amin = self.shank_angle_min_deg
        if amin is None:
            amin = float(np.clip(-60.0 - 5.0 * (v - 3.0), -95.0, -40.0)) if run else d["shank_angle_min_deg"]
        amax = self.shank_angle_max_deg
        if amax is None:
            amax = float(np.mean(ic_pair)) + d["max_above_ic_deg"]
        clear = self.ankle_clearance_m
        if clear is None:
            clear = float(np.clip(0.12 * v - 0.07, 0.10, 0.60)) if run else d["ankle_clearance_m"]
        imp = self.impact_g
        if imp is None:
            if run:
                imp = tuple(1.6 * v + 0.3 * max(a, 0.0) for a in ic_pair)
            else:
                imp = 0.8 + 0.5 * v
        out = dataclasses.replace(
            self,
            speed_mps=v,
            cadence_spm=float(cad),
            contact_time_s=float(ct),
            shank_angle_ic_deg=_as_param_pair(ic_pair),
            shank_angle_to_deg=float(
                self.shank_angle_to_deg if self.shank_angle_to_deg is not None else d["shank_angle_to_deg"]
            ),
            shank_angle_min_deg=float(amin),
            shank_angle_max_deg=float(amax),
            ankle_clearance_m=float(clear),
            stance_roll_m=float(self.stance_roll_m if self.stance_roll_m is not None else d["stance_roll_m"]),
            step_width_m=float(self.step_width_m if self.step_width_m is not None else d["step_width_m"]),
            ankle_load_kg=_as_param_pair(_pair(self.ankle_load_kg, "ankle_load_kg")),
            impact_g=_as_param_pair(_pair(imp, "impact_g")),
        )
        out._validate()
        return out

    def _validate(self) -> None:
        checks = {
            "speed_mps": self.speed_mps is not None and self.speed_mps > 0,
            "cadence_spm": self.cadence_spm is not None and self.cadence_spm > 0,
            "sample_rate_hz": self.sample_rate_hz > 0,
            "duration_s": self.duration_s > 0,
            "stand_s": self.stand_s >= 0,
            "ramp_s": self.ramp_s > 0,
            "first_side": self.first_side in C.SIDES,
            "impact_decay_s": 0.0 < self.impact_decay_s <= 0.01,
            "impact_freq_hz": self.impact_freq_hz > 0,
            "contact_time_s": self.contact_time_s is not None
            and 0.0 < self.contact_time_s < 0.9 * 120.0 / self.cadence_spm,  # type: ignore[operator]
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid RunParams value(s) for {', '.join(bad)}")


@dataclass(eq=False)
class SynthRun:
    """A simulated two-sensor recording and its ground truth.

    Attributes
    ----------
    params
        The resolved :class:`RunParams`.
    sample_rate_hz
        Nominal sample rate of both sensors (each in its own clock).
    left, right
        ``{"t": (n,), "acc": (n, 3), "gyr": (n, 3)}``: sensor clock (s), specific force (m/s²) and angular
        rate (rad/s) in the raw SENSOR frame, with noise and bias unless switched off.
    truth
        Stride table (true time), one row per complete stride of each leg, columns
        ``gait.conventions.STRIDE_COLS`` + ``mid_stance_time_s``, ``mid_swing_time_s``. Ramp strides are
        included with ``valid=False`` / ``invalid_reason="ramp"``; strides under 20 % of the steady
        amplitude are left out. See :func:`simulate_run` for the definitions.
    mounting
        Per side, the (3, 3) rotation sensor -> anatomical shank frame (``v_anat = M @ v_sensor``).
    sensor_offset_m
        Per side, the sensor site from the ankle joint centre in the anatomical frame (m).
    world
        Per side, noise-free truth at that sensor's samples: ``t`` (true time), ``pos``, ``vel``, ``acc``
        (world frame, m, m/s, m/s²; ``acc`` without gravity), ``R`` ((n, 3, 3) world <- sensor), ``omega``
        (world-frame angular velocity, rad/s), ``ankle_pos`` (ankle joint centre, m), ``shank_angle_deg``.
    standing
        ``((0, t1), (t2, t_end))``: true-time intervals in which both shanks are vertical and motionless.
    clock
        ``{"offset_s": ..., "drift_ppm": ...}`` of the right sensor:
        ``t_right = (1 + drift_ppm * 1e-6) * t_true + offset_s``.
    bias
        Per side ``{"acc": (3,), "gyr": (3,)}`` added to the readings (zero when switched off).
    """

    params: RunParams
    sample_rate_hz: float
    left: dict[str, FloatArray]
    right: dict[str, FloatArray]
    truth: pd.DataFrame
    mounting: dict[str, FloatArray]
    sensor_offset_m: dict[str, FloatArray]
    world: dict[str, dict[str, FloatArray]]
    standing: tuple[tuple[float, float], tuple[float, float]]
    clock: dict[str, float]
    bias: dict[str, dict[str, FloatArray]]
    seed: int | None = None
    _legs: dict[str, _Leg] = field(default_factory=dict, repr=False)

    def sensor(self, side: C.Side) -> dict[str, FloatArray]:
        """The ``left`` or ``right`` sample dict."""
        if side not in C.SIDES:
            raise ValueError(f"side: allowed values are {C.SIDES}, but got {side!r}")
        return self.left if side == "left" else self.right

    def sensor_time(self, side: C.Side, t_true: ArrayLike) -> FloatArray:
        """Sensor-clock time stamps of true times ``t_true`` for ``side`` (identity on the left)."""
        t = np.asarray(t_true, dtype=float)
        if side == "left":
            return t.copy()
        return (1.0 + self.clock["drift_ppm"] * 1e-6) * t + self.clock["offset_s"]

    def true_time(self, side: C.Side, t_sensor: ArrayLike) -> FloatArray:
        """Inverse of :meth:`sensor_time`."""
        t = np.asarray(t_sensor, dtype=float)
        if side == "left":
            return t.copy()
        return (t - self.clock["offset_s"]) / (1.0 + self.clock["drift_ppm"] * 1e-6)

    def kinematics(self, side: C.Side, t_true: ArrayLike) -> dict[str, FloatArray]:
        """Noise- and bias-free model evaluated at arbitrary true times (same keys as ``world[side]`` plus the
        ideal readings ``acc_sensor`` and ``gyr_sensor``); handy for truth at exact event times."""
        return self._legs[side].evaluate(np.atleast_1d(np.asarray(t_true, dtype=float)))


# --- public helpers ---------------------------------------------------------------------------------------


def pendulum_frequency_change(load_kg: ArrayLike) -> FloatArray:
    """Relative change of the leg's passive pendulum frequency with ``load_kg`` on each ankle.

    ``f ∝ sqrt(m g d / I)`` for an 11.3 kg leg (centre of mass 0.38 m from the hip, radius of gyration 0.30 m)
    with the load at 0.85 m: -0.016 / -0.030 / -0.057 at 0.5 / 1 / 2.5 kg (reference, section 3.2). Real
    swing is actively driven, so this is an upper bound on the cadence change.
    """
    m = np.asarray(load_kg, dtype=float)
    i0 = _LEG_MASS_KG * (_LEG_COM_M**2 + _LEG_GYRATION_M**2)
    md0 = _LEG_MASS_KG * _LEG_COM_M
    return np.sqrt((md0 + m * _LOAD_DIST_M) / md0 * i0 / (i0 + m * _LOAD_DIST_M**2)) - 1.0


def nominal_mounting(side: C.Side, face_deg: float = 45.0) -> FloatArray:
    """Sensor -> anatomical rotation of a sensor flat on the shin, long axis up the tibia.

    Sensor ``x`` points up along the tibia, sensor ``z`` out of the skin, ``face_deg`` from anterior towards
    medial (45: anteromedial tibial face, 0: front of the shin, -90: lateral), ``y = z × x``. The right
    sensor is the same physical placement mirrored, which for a right-handed sensor is a *different* proper
    rotation (``M_right = S @ M_left @ diag(1, -1, 1)`` with ``S = diag(1, -1, 1)``).
    """
    s = _side_sign(side)
    a = math.radians(face_deg)
    x_s = _E_Z.copy()
    z_s = np.array([math.cos(a), -s * math.sin(a), 0.0])
    y_s = np.cross(z_s, x_s)
    return np.column_stack([x_s, y_s, z_s])


def shank_angle_deg(r_world_anat: ArrayLike) -> FloatArray:
    """Sagittal shank angle (deg, :mod:`gait.conventions`) from world <- anatomical rotations (..., 3, 3)."""
    r = np.asarray(r_world_anat, dtype=float)
    axis = r[..., :, 2]
    return np.degrees(np.arctan2(-axis[..., 0], axis[..., 2]))


# --- main entry point -------------------------------------------------------------------------------------


def simulate_run(
    params: RunParams | None = None, *, seed: int | None = None, with_world: bool = True, **overrides: Any
) -> SynthRun:
    """Simulate a run (or walk) recorded by one IMU on each shank, with ground truth.

    Parameters
    ----------
    params
        Base parameters (default ``RunParams()``: a recreational runner at 3 m/s for 60 s, 200 Hz).
    seed
        Seed of every random draw (``None``: fresh entropy). Independent streams are used for timing, angles,
        mounting, bias and noise, so switching noise off or changing the clock keeps the same strides.
    with_world
        Keep the per-sample world truth (``SynthRun.world``); ``False`` keeps only its ``t`` and saves memory
        on long, fast recordings (about 0.4 kB per sample and side). :meth:`SynthRun.kinematics` still works.
    **overrides
        Any :class:`RunParams` field, e.g. ``simulate_run(speed_mps=4, ankle_load_kg=1.0, ideal=True)``.

    Returns
    -------
    SynthRun
        Samples, truth stride table, mounting and world-frame truth. Stride table definitions (true time):
        stride ``k`` of a leg runs from its IC to its next IC; ``contact_time_s = to - ic``;
        ``swing_time_s = next_ic - to``; ``step_time_s`` = first IC of the other leg after this IC minus
        this IC; ``flight_time_s = max(0, that other IC - to)`` (0 in walking, where the legs overlap);
        ``cadence_spm = 120 / stride_time_s``; ``stride_length_m`` = horizontal displacement of the ankle
        joint centre between the two ICs; ``speed_mps = stride_length_m / stride_time_s``;
        ``shank_angle_ic_deg`` = shank angle at IC; ``peak_tibial_accel_g`` = maximum of the noise-free
        specific-force magnitude at the sensor over the contact, in g (transient included when on);
        ``mid_stance_time_s`` / ``mid_swing_time_s`` = temporal midpoints of contact / swing.
    """
    base = params if params is not None else RunParams()
    if overrides:
        valid = {f.name for f in dataclasses.fields(RunParams)}
        unknown = sorted(set(overrides) - valid)
        if unknown:
            raise TypeError(f"unknown RunParams field(s) {unknown}; allowed: {sorted(valid)}")
        base = dataclasses.replace(base, **overrides)
    p = base.resolved()
    # one independent stream per quantity (and per leg for per-stride draws), so that changing one
    # parameter does not reshuffle the random draws of the others
    names = ("steps", "speed", "mount", "bias", "noise") + tuple(
        f"{q}_{s}" for q in ("contact", "angles", "impact") for s in C.SIDES
    )
    children = np.random.SeedSequence(seed).spawn(len(names))
    rng = {k: np.random.default_rng(s) for k, s in zip(names, children, strict=True)}
    fs = float(p.sample_rate_hz)
    noise_on = p.noise and not p.ideal
    bias_on = p.bias and not p.ideal
    impact_on = p.impact and not p.ideal

    legs, t_total = _build_legs(p, rng, impact_on)

    # samples: left on true time, right on its own clock
    drift = 1.0 + p.clock_drift_ppm * 1e-6
    out_sensor: dict[str, dict[str, FloatArray]] = {}
    world: dict[str, dict[str, FloatArray]] = {}
    bias: dict[str, dict[str, FloatArray]] = {}
    rng_bias, rng_noise = rng["bias"], rng["noise"]
    for side in C.SIDES:
        leg = legs[side]
        if side == "left":
            n = int(math.floor(t_total * fs)) + 1
            t_sensor = np.arange(n) / fs
            t_true = t_sensor.copy()
        else:
            n = int(math.floor(t_total * fs * drift)) + 1
            k = np.arange(n)
            t_sensor = p.clock_offset_s + k / fs
            t_true = k / (fs * drift)
        ev = leg.evaluate(t_true)
        b_acc = rng_bias.normal(0.0, p.acc_bias_sd, 3) * bias_on
        b_gyr = rng_bias.normal(0.0, p.gyr_bias_sd, 3) * bias_on
        acc = ev.pop("acc_sensor") + b_acc
        gyr = ev.pop("gyr_sensor") + b_gyr
        if noise_on:
            acc += rng_noise.normal(0.0, p.acc_noise_sd, (n, 3))
            gyr += rng_noise.normal(0.0, p.gyr_noise_sd, (n, 3))
        out_sensor[side] = {"t": t_sensor, "acc": acc, "gyr": gyr}
        world[side] = {"t": t_true, **ev} if with_world else {"t": t_true}
        bias[side] = {"acc": b_acc, "gyr": b_gyr}

    truth = _truth_table(legs)
    t_still_start = min(leg.ho[0] for leg in legs.values())
    t_still_end = max(leg.ic[leg.n_ic] for leg in legs.values())
    return SynthRun(
        params=p,
        sample_rate_hz=fs,
        left=out_sensor["left"],
        right=out_sensor["right"],
        truth=truth,
        mounting={s: legs[s].r_as.copy() for s in C.SIDES},
        sensor_offset_m={s: legs[s].offset.copy() for s in C.SIDES},
        world=world,
        standing=((0.0, float(t_still_start)), (float(t_still_end), float(t_total))),
        clock={"offset_s": float(p.clock_offset_s), "drift_ppm": float(p.clock_drift_ppm)},
        bias=bias,
        seed=seed,
        _legs=legs,
    )


# --- small helpers ----------------------------------------------------------------------------------------


def _side_sign(side: str) -> float:
    """+1 on the left leg (lateral = +y), -1 on the right."""
    if side not in C.SIDES:
        raise ValueError(f"side: allowed values are {C.SIDES}, but got {side!r}")
    return 1.0 if side == "left" else -1.0


def _pair(x: Any, name: str) -> FloatArray:
    a = np.asarray(x, dtype=float).reshape(-1)
    if a.size == 1:
        return np.array([a[0], a[0]])
    if a.size == 2:
        return a
    raise ValueError(f"{name}: give one value or a (left, right) pair, got {x!r}")


def _as_param_pair(a: FloatArray) -> Pair:
    return float(a[0]) if a[0] == a[1] else (float(a[0]), float(a[1]))


def _smootherstep(u: FloatArray) -> FloatArray:
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10.0 + u * (-15.0 + 6.0 * u))


def _minjerk(u: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """0 -> 1 minimum-jerk profile and its first two derivatives in ``u`` (clamped outside [0, 1])."""
    u = np.clip(u, 0.0, 1.0)
    w = 1.0 - u
    return u**3 * (10.0 + u * (-15.0 + 6.0 * u)), 30.0 * u**2 * w**2, 60.0 * u * w * (1.0 - 2.0 * u)


def _bump3(u: FloatArray, q: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Early-peaking bump u³(1-u)^q scaled to a peak of 1 at u = 3/(3+q) (C2 at both ends), with derivatives."""
    peak = (3.0 / (3.0 + q)) ** 3 * (q / (3.0 + q)) ** q
    u = np.clip(u, 0.0, 1.0)
    w = 1.0 - u
    wq2 = w ** (q - 2) / peak
    a = 3.0 - (3.0 + q) * u
    f = u**3 * w**2 * wq2
    df = u**2 * w * a * wq2
    ddf = u * (2.0 * w * a - (q - 1.0) * u * a - (3.0 + q) * u * w) * wq2
    return f, df, ddf


def _swing_forward(s: FloatArray) -> tuple[FloatArray, ...]:
    """Degree-7 shapes of a forward swing that starts without acceleration and jerk (the forward drive builds up
    after TO) and comes to rest without jerk (as gently as a minimum-jerk swing): ga(1) = 1, gb'(1) = 1, all other
    values and derivatives up to the third at 0 and 1 vanish. Returns ga, ga', ga'', gb, gb', gb'' in ``s``
    (clamped to [0, 1]); ``gb' <= 1``, so the swing never moves backwards when it has at least its start speed x
    its duration to travel."""
    s = np.clip(s, 0.0, 1.0)
    w = 1.0 - s
    s2 = s * s
    return (
        s2 * s2 * (35.0 - 84.0 * s + 70.0 * s2 - 20.0 * s2 * s),
        140.0 * s2 * s * w**3,
        420.0 * s2 * w**2 * (1.0 - 2.0 * s),
        s2 * s2 * (-15.0 + 39.0 * s - 34.0 * s2 + 10.0 * s2 * s),
        s2 * s * (-60.0 + 195.0 * s - 204.0 * s2 + 70.0 * s2 * s),
        s2 * (-180.0 + 780.0 * s - 1020.0 * s2 + 420.0 * s2 * s),
    )


def _sym_bump(u: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Symmetric bump 64 u³(1-u)³ (peak 1 at u = 1/2, C2 at both ends), with derivatives."""
    u = np.clip(u, 0.0, 1.0)
    w = 1.0 - u
    return (
        64.0 * u**3 * w**3,
        192.0 * u**2 * w**2 * (1.0 - 2.0 * u),
        384.0 * u * w * (1.0 - 5.0 * u + 5.0 * u**2),
    )


def _hermite_start(s: FloatArray) -> tuple[FloatArray, ...]:
    """Quintic Hermite basis for a start value (h0) and a start slope (h1) with everything else zero: h0(0) = 1,
    h1'(0) = 1, all other values and first and second derivatives at 0 and 1 vanish. Returns h0, h0', h0'', h1,
    h1', h1'' in ``s`` (clamped to [0, 1])."""
    s = np.clip(s, 0.0, 1.0)
    w = 1.0 - s
    return (
        1.0 - s**3 * (10.0 - 15.0 * s + 6.0 * s**2),
        -30.0 * s**2 * w**2,
        -60.0 * s * w * (1.0 - 2.0 * s),
        s * w**3 * (1.0 + 3.0 * s),
        w**2 * (1.0 + 2.0 * s - 15.0 * s**2),
        -12.0 * s * w * (3.0 - 5.0 * s),
    )


class _Pulse:
    """Piecewise-polynomial acceleration shape ``f(u)`` on [0, 1] with its exact integrals ``F1 = ∫_0^u f`` and
    ``F2 = ∫_0^u F1`` (``u`` clamped to [0, 1]). ``pieces[k]`` is a polynomial in ``x = u - breaks[k]``."""

    def __init__(self, breaks: tuple[float, ...], pieces: list[np.polynomial.Polynomial]) -> None:
        coefs: tuple[list[FloatArray], list[FloatArray], list[FloatArray]] = ([], [], [])
        v1 = v2 = 0.0
        for k, f in enumerate(pieces):
            f1 = f.integ(k=[v1])
            f2 = f1.integ(k=[v2])
            for c, poly in zip(coefs, (f, f1, f2), strict=True):
                c.append(poly.coef)
            w = breaks[k + 1] - breaks[k]
            v1, v2 = float(f1(w)), float(f2(w))
        deg = max(c.size for c in coefs[2])
        self.breaks = np.asarray(breaks, dtype=float)
        self.coef = tuple(np.array([np.pad(c, (0, deg - c.size)) for c in cs]) for cs in coefs)
        self.area = v1  #: F1(1): velocity gain per unit amplitude and unit duration
        self.moment = v2  #: F2(1): displacement per unit amplitude and unit duration squared

    def __call__(self, u: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        u = np.clip(u, 0.0, 1.0)
        k = np.clip(np.searchsorted(self.breaks, u, side="right") - 1, 0, self.breaks.size - 2)
        x = u - self.breaks[k]
        out = []
        for c in self.coef:
            ck = c[k]
            y = ck[:, -1].copy()
            for i in range(ck.shape[1] - 2, -1, -1):
                y *= x
                y += ck[:, i]
            out.append(y)
        return out[0], out[1], out[2]


def _smooth_edge(width: float, rising: bool) -> np.polynomial.Polynomial:
    """Cubic smoothstep 3y² - 2y³ (y = x / width) or 1 minus it: a C1 edge from 0 to 1 (or 1 to 0)."""
    c = np.array([0.0, 0.0, 3.0 / width**2, -2.0 / width**3])
    return np.polynomial.Polynomial(c if rising else np.array([1.0, 0.0, 0.0, 0.0]) - c)


def _bump_poly(width: float) -> np.polynomial.Polynomial:
    """64 y³ (1 - y)³ with y = x / width: a C2 bump of peak 1."""
    return np.polynomial.Polynomial(np.array([0.0, 0.0, 0.0, 64.0, -192.0, 192.0, -64.0]) / width ** np.arange(7))


_ZERO = np.polynomial.Polynomial([0.0])
_ONE = np.polynomial.Polynomial([1.0])
# Push-off, u = 0 at heel-off, 1 at TO (calibrated on the Fukuchi 2017 treadmill runs, see the module docstring).
# Forward: a force-like acceleration that builds up, holds, and is released in the last 3 % of the push-off
# (the ground force vanishes at TO); zero acceleration and jerk at both ends.
_PUSH_X = _Pulse(
    (0.0, 0.2, 0.65, 0.97, 1.0),
    [_ZERO, _smooth_edge(0.45, True), _ONE, _smooth_edge(0.03, False)],
)
# Vertical: the heel rise, an acceleration bump over 10-80 % of the push-off; the ankle then rises at a constant
# rate into TO.
_PUSH_Z = _Pulse((0.0, 0.1, 0.8, 1.0), [_ZERO, _bump_poly(0.7), _ZERO])


# Bumps of the swing after TO (u = 0 at TO, 1 at the next IC): the lift peaks at 3/7 of the swing, the back kick
# at 3/13; _KICK_SLOPE is the largest slope of the normalised kick bump.
_LIFT_Q, _KICK_Q = 4, 10
_KICK_SLOPE = float(np.max(_bump3(np.linspace(0.0, 1.0, 2001), _KICK_Q)[1]))


def _rotvec_to_matrix(v: FloatArray) -> FloatArray:
    th = float(np.linalg.norm(v))
    if th < 1e-12:
        return np.eye(3)
    k = v / th
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + math.sin(th) * kx + (1.0 - math.cos(th)) * kx @ kx


def _spline_derivatives(t: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """First and second derivatives at the knots of the C2 cubic spline through them (zero slope at the
    first and last knot); ``y`` is (m, channels). Used as knot derivatives of the local quintic Hermite
    curve, which then equals that spline except where derivatives are overridden (standing, extrema)."""
    from scipy.interpolate import CubicSpline

    cs = CubicSpline(t, y, axis=0, bc_type="clamped")
    return cs(t, 1), cs(t, 2)


class _QuinticHermite:
    """C2 piecewise quintic through knots with given values, first and second derivatives (channels last).

    Local (no ringing into standing periods), exact at the knots, constant outside the knot range.
    """

    def __init__(self, t: FloatArray, y: FloatArray, dy: FloatArray, ddy: FloatArray) -> None:
        if np.any(np.diff(t) <= 0):
            raise ValueError("knot times must increase strictly")
        h = np.diff(t)[:, None]
        c0, c1, c2 = y[:-1], h * dy[:-1], 0.5 * h**2 * ddy[:-1]
        rem = y[1:] - c0 - c1 - c2
        d1 = h * dy[1:] - c1 - 2.0 * c2
        d2 = h**2 * ddy[1:] - 2.0 * c2
        c3 = 10.0 * rem - 4.0 * d1 + 0.5 * d2
        c4 = -15.0 * rem + 7.0 * d1 - d2
        c5 = 6.0 * rem - 3.0 * d1 + 0.5 * d2
        self.t = t
        self.h = h[:, 0]
        self.c = (c0, c1, c2, c3, c4, c5)

    def __call__(self, t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        tc = np.clip(t, self.t[0], self.t[-1])
        i = np.clip(np.searchsorted(self.t, tc, side="right") - 1, 0, self.h.size - 1)
        h = self.h[i][:, None]
        s = ((tc - self.t[i]) / self.h[i])[:, None]
        c0, c1, c2, c3, c4, c5 = (c[i] for c in self.c)
        y = c0 + s * (c1 + s * (c2 + s * (c3 + s * (c4 + s * c5))))
        dy = (c1 + s * (2.0 * c2 + s * (3.0 * c3 + s * (4.0 * c4 + s * 5.0 * c5)))) / h
        ddy = (2.0 * c2 + s * (6.0 * c3 + s * (12.0 * c4 + s * 20.0 * c5))) / h**2
        return y, dy, ddy


def _impact_shape(dt: FloatArray, tau: float, omega: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Displacement shape h = -(t/tau)³ exp(-t/tau) sin(omega t) for t >= 0 (0 before; C2 at 0), with h', h''.

    Its second derivative starts with a large positive lobe: the tibial-shock transient."""
    x = np.maximum(dt, 0.0) / tau
    ex = np.exp(-x)
    e = x**3 * ex
    de = (3.0 * x**2 - x**3) * ex / tau
    dde = (6.0 * x - 6.0 * x**2 + x**3) * ex / tau**2
    sn, cs = np.sin(omega * x * tau), np.cos(omega * x * tau)
    h = -e * sn
    dh = -(de * sn + e * omega * cs)
    ddh = -(dde * sn + 2.0 * de * omega * cs - e * omega**2 * sn)
    return h, dh, ddh


def _impact_norm(tau: float, omega: float) -> float:
    """Peak of |h''| of :func:`_impact_shape`, so amplitudes can be given as peak accelerations."""
    dt = np.linspace(0.0, 30.0 * tau, 20001)
    return float(np.max(np.abs(_impact_shape(dt, tau, omega)[2])))


def _cross(a: FloatArray, b: FloatArray) -> FloatArray:
    """Row-wise cross product of (n, 3) arrays (faster than np.cross for this shape)."""
    return np.stack(
        [
            a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1],
            a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
            a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0],
        ],
        axis=1,
    )


def _shank_rotation(
    side: str, ang: FloatArray, dang: FloatArray, ddang: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """World <- anatomical rotation, world angular velocity and acceleration from the three shank angles.

    ``ang`` (n, 3): shank angle theta, frontal tilt (ankle medial of the knee positive) and axial rotation
    (external positive), rad, with first and second time derivatives. ``R = R_y(-theta) R_x(gamma) R_z(psi)``
    with the out-of-plane angles mirrored on the right leg (``gamma = -s tilt``, ``psi = s rotation``, s = +1
    left, -1 right).
    """
    s = _side_sign(side)
    sgn = np.array([-1.0, -s, s])
    phi, gam, psi = (ang * sgn).T
    dphi, dgam, dpsi = (dang * sgn).T
    ddphi, ddgam, ddpsi = (ddang * sgn).T
    cf, sf, cg, sg, cp, sp = np.cos(phi), np.sin(phi), np.cos(gam), np.sin(gam), np.cos(psi), np.sin(psi)
    zero = np.zeros_like(phi)
    ab0 = np.stack([cf, zero, -sf], axis=1)  # A e_x (A = R_y(phi), B = R_x(gam))
    ab1 = np.stack([sf * sg, cg, cf * sg], axis=1)  # A B e_y
    ab2 = np.stack([sf * cg, -sg, cf * cg], axis=1)  # A B e_z
    r_wa = np.stack(
        [cp[:, None] * ab0 + sp[:, None] * ab1, -sp[:, None] * ab0 + cp[:, None] * ab1, ab2], axis=2
    )
    e_y = np.stack([zero, zero + 1.0, zero], axis=1)
    w_a = dphi[:, None] * e_y
    w_ab = w_a + dgam[:, None] * ab0
    omega = w_ab + dpsi[:, None] * ab2
    alpha = (
        ddphi[:, None] * e_y
        + ddgam[:, None] * ab0
        + dgam[:, None] * _cross(w_a, ab0)
        + ddpsi[:, None] * ab2
        + dpsi[:, None] * _cross(w_ab, ab2)
    )
    return r_wa, omega, alpha


# --- one leg ----------------------------------------------------------------------------------------------


@dataclass
class _Leg:
    """Per-leg stride arrays and the evaluator of its continuous motion.

    Stride index ``j`` runs 0..K: ``j = 0`` is the initial standing (its "stride" ends with the first IC) and
    ``j = K`` the final IC followed by standing. Arrays have K + 2 entries, the last a sentinel.
    """

    side: str
    ic: FloatArray  # IC times; ic[0] = -BIG, ic[K+1] = 2 BIG
    ho: FloatArray  # heel-off: the push-off starts; ho[K] = BIG
    to: FloatArray  # toe-off (nan where undefined)
    te: FloatArray  # toe-off for the evaluation (sentinels after the last stride)
    x: FloatArray  # ankle x at IC (x[0] = 0: standing start)
    roll: FloatArray  # ankle x translation IC -> heel-off
    push_acc: FloatArray  # forward push-off acceleration (plateau, m/s²) of the push-off that starts at ho[j]
    push_dx: FloatArray  # forward ankle travel heel-off -> TO (m)
    push_vx: FloatArray  # forward ankle speed at TO (m/s)
    swing_dx: FloatArray  # forward ankle travel TO -> next IC (m)
    rise_acc: FloatArray  # peak vertical heel-rise acceleration (m/s²)
    rise: FloatArray  # ankle rise heel-off -> TO (m)
    rise_vz: FloatArray  # vertical ankle speed at TO (m/s)
    lift: FloatArray  # swing lift bump on top of the free continuation of the rise (m; walking: rise from heel-off)
    kick: FloatArray  # backward ankle displacement of the back kick after TO (bump, m)
    lateral: FloatArray  # outward ankle swing in the swing that starts at ho[j]
    imp_amp: FloatArray  # impact transient displacement scale (m) at ic[j]
    imp_dir: FloatArray  # (K+2, 3) world direction of the transient
    ramp: FloatArray  # ramp amplitude at ic[j]
    theta_ic: FloatArray  # shank angle at ic[j] (deg)
    angles: _QuinticHermite  # channels: shank angle, frontal tilt, axial rotation (rad)
    r_as: FloatArray  # sensor -> anatomical
    offset: FloatArray  # sensor site, anatomical frame (m)
    y0: float  # lateral ankle position in stance (m)
    push_off: bool  # running: push-off and swing from TO; walking: forward and upward motion from heel-off
    z0: float  # ankle height in stance (m)
    tau: float = 0.004
    omega: float = 2.0 * math.pi * 25.0
    other_ic: FloatArray = field(default_factory=lambda: np.empty(0))

    @property
    def n_ic(self) -> int:
        """K: index of the last IC."""
        return self.ic.size - 2

    def evaluate(self, t: FloatArray) -> dict[str, FloatArray]:
        """Noise-free pose, motion and ideal readings at true times ``t`` (evaluated in chunks)."""
        n = t.size
        keys3 = ("pos", "vel", "acc", "omega", "ankle_pos", "acc_sensor", "gyr_sensor")
        out: dict[str, FloatArray] = {k: np.empty((n, 3)) for k in keys3}
        out["R"] = np.empty((n, 3, 3))
        out["shank_angle_deg"] = np.empty(n)
        for a in range(0, n, _CHUNK):
            part = self._evaluate(t[a : a + _CHUNK])
            for k, v in part.items():
                out[k][a : a + _CHUNK] = v
        return out

    def specific_force_norm(self, t: FloatArray) -> FloatArray:
        """|p'' + g z| at true times ``t`` (what an ideal accelerometer's magnitude reads), m/s²."""
        res = np.empty(t.size)
        for a in range(0, t.size, _CHUNK):
            ev = self._evaluate(t[a : a + _CHUNK], full=False)
            res[a : a + _CHUNK] = np.linalg.norm(ev["acc"] + C.GRAVITY * _E_Z, axis=1)
        return res

    def _evaluate(self, t: FloatArray, full: bool = True) -> dict[str, FloatArray]:
        s = _side_sign(self.side)
        ang, dang, ddang = self.angles(t)
        r_wa, omega, alpha = _shank_rotation(self.side, ang, dang, ddang)

        # ankle joint centre: stance roll (IC -> heel-off), push-off (heel-off -> TO: forward force-like pulse
        # released at TO, heel rise), swing (TO -> next IC: quintic from the TO state to rest at the next
        # contact, plus the lift)
        j = np.searchsorted(self.ic, t, side="right") - 1
        ic0, ic1, ho, te = self.ic[j], self.ic[j + 1], self.ho[j], self.te[j]
        d_roll = ho - ic0
        tp, ts = te - ho, ic1 - te
        m1, dm1, ddm1 = _minjerk((t - ic0) / d_roll)
        u_push = (t - ho) / tp
        fx, fx1, fx2 = _PUSH_X(u_push)
        fz, fz1, fz2 = _PUSH_Z(u_push)
        s_sw = (t - te) / ts
        h0, dh0, ddh0, h1, dh1, ddh1 = _hermite_start(s_sw)
        ga, dga, ddga, gb, dgb, ddgb = _swing_forward(s_sw)
        lz, dlz, ddlz = _bump3(s_sw, _LIFT_Q)  # swing lift
        kx, dkx, ddkx = _bump3(s_sw, _KICK_Q)  # back kick
        after = t >= te
        pa, pdx, pvx, sdx = self.push_acc[j], self.push_dx[j], self.push_vx[j], self.swing_dx[j]
        ra, rz, rvz, hz = self.rise_acc[j], self.rise[j], self.rise_vz[j], self.lift[j]
        # forward swing from the TO state to rest at the next IC, minus the back kick (a bump: no effect at the ends)
        free, kick = pvx * ts, self.kick[j]  # travel at the TO speed over the swing
        px = np.where(after, pdx + free * (s_sw - gb) + (sdx - free) * ga - kick * kx, pa * tp**2 * fx2)
        pvx_t = np.where(after, pvx * (1.0 - dgb) + ((sdx - free) * dga - kick * dkx) / ts, pa * tp * fx1)
        pax = np.where(after, ((sdx - free) * ddga - free * ddgb - kick * ddkx) / ts**2, pa * fx)
        pz = np.where(after, rz * h0 + rvz * ts * h1 + hz * lz, ra * tp**2 * fz2)
        pvz = np.where(after, rvz * dh1 + (rz * dh0 + hz * dlz) / ts, ra * tp * fz1)
        paz = np.where(after, (rvz * ts * ddh1 + rz * ddh0 + hz * ddlz) / ts**2, ra * fz)
        u2 = (t - ho) / (ic1 - ho)
        d_sw = ic1 - ho
        if not self.push_off:
            # walking: the ankle moves forward (minimum jerk) and up (early bump) from heel-off to the next IC
            m2, dm2, ddm2 = _minjerk(u2)
            lz, dlz, ddlz = _bump3(u2, 5)
            step = self.x[j + 1] - self.x[j] - self.roll[j]
            px, pvx_t, pax = step * m2, step * dm2 / d_sw, step * ddm2 / d_sw**2
            pz, pvz, paz = hz * lz, hz * dlz / d_sw, hz * ddlz / d_sw**2
        ly, dly, ddly = _sym_bump(u2)
        hy = s * self.lateral[j]
        ankle = np.stack([self.x[j] + self.roll[j] * m1 + px, self.y0 + hy * ly, self.z0 + pz], axis=1)
        ankle_v = np.stack([self.roll[j] * dm1 / d_roll + pvx_t, hy * dly / d_sw, pvz], axis=1)
        ankle_a = np.stack([self.roll[j] * ddm1 / d_roll**2 + pax, hy * ddly / d_sw**2, paz], axis=1)

        # impact transient: sensor displacement along a fixed world direction after each IC
        dt = t - ic0
        active = (j >= 1) & (j <= self.n_ic) & (dt < 60.0 * self.tau)
        h, dh, ddh = _impact_shape(np.where(active, dt, 0.0), self.tau, self.omega)
        amp = np.where(active, self.imp_amp[j], 0.0)[:, None] * self.imp_dir[j]

        q = r_wa @ self.offset
        w_q = _cross(omega, q)
        acc = ankle_a + _cross(alpha, q) + _cross(omega, w_q) + amp * ddh[:, None]
        if not full:
            return {"acc": acc}
        pos = ankle + q + amp * h[:, None]
        vel = ankle_v + w_q + amp * dh[:, None]
        r_ws = r_wa @ self.r_as
        acc_sensor = np.einsum("nji,nj->ni", r_ws, acc + C.GRAVITY * _E_Z)
        gyr_sensor = np.einsum("nji,nj->ni", r_ws, omega)
        return {
            "pos": pos,
            "vel": vel,
            "acc": acc,
            "R": r_ws,
            "omega": omega,
            "ankle_pos": ankle,
            "shank_angle_deg": np.degrees(ang[:, 0]),
            "acc_sensor": acc_sensor,
            "gyr_sensor": gyr_sensor,
        }


# --- building the gait ------------------------------------------------------------------------------------


def _build_legs(
    p: RunParams, rng: dict[str, np.random.Generator], impact_on: bool
) -> tuple[dict[str, _Leg], float]:
    """Step sequence, per-stride parameters and motion curves of both legs, and the total time."""
    d = _MODES[p.mode]
    v = float(p.speed_mps)  # type: ignore[arg-type]
    loads = _pair(p.ankle_load_kg, "ankle_load_kg")
    # ankle-weight effects: cadence from the mean load; contact time, shank angle and impact from each
    # leg's own load
    t_stride = 120.0 / float(p.cadence_spm)  # type: ignore[arg-type]
    t_stride /= 1.0 + p.load_cadence_fraction * float(pendulum_frequency_change(loads.mean()))
    rel_t_side = 1.0 / (1.0 + p.load_cadence_fraction * pendulum_frequency_change(loads)) - 1.0
    contact = float(p.contact_time_s) * (1.0 + p.load_contact_fraction * rel_t_side)  # type: ignore[arg-type]
    contact *= 1.0 + np.array([-0.5, 0.5]) * p.contact_time_asym
    contact = np.minimum(contact, 0.9 * t_stride)
    theta_ic0 = _pair(p.shank_angle_ic_deg, "shank_angle_ic_deg")
    theta_ic = theta_ic0 + p.load_shank_angle_deg_per_kg * loads
    theta_max = float(p.shank_angle_max_deg) + theta_ic - theta_ic0.mean()  # type: ignore[arg-type]
    impact_g = _pair(p.impact_g, "impact_g") + p.load_impact_g_per_kg * loads
    h_off = d["heel_off_frac"]

    t_start = float(p.stand_s)
    t_end = t_start + float(p.duration_s)

    def ramp(t: FloatArray) -> FloatArray:
        return _smootherstep((t - t_start) / p.ramp_s) * _smootherstep((t_end - t) / p.ramp_s)

    # step sequence: IC i belongs to the first leg for even i; d_step[i] is the time from IC i to IC i+1
    order = (p.first_side, "right" if p.first_side == "left" else "left")
    first = C.SIDES.index(order[0])
    t_first = t_start + t_stride - h_off * contact[first]
    n_steps = int(math.ceil((t_end - t_first) / (0.25 * t_stride))) + 8  # enough even at the minimum step
    owner = np.array([C.SIDES.index(order[i % 2]) for i in range(n_steps + 1)])
    ends_right = owner[1:] == C.SIDES.index("right")
    d_step = 0.5 * t_stride * (1.0 + np.where(ends_right, 0.5, -0.5) * p.step_time_asym)
    d_step = d_step + rng["steps"].normal(0.0, p.stride_time_cv * t_stride / math.sqrt(2.0), n_steps)
    d_step = np.maximum(d_step, 0.25 * t_stride)
    ic_all = t_first + np.concatenate([[0.0], np.cumsum(d_step)])

    # body progression: speed x ramp x slow fluctuation; the ankle lands where the body is at IC
    t_b = np.arange(0.0, ic_all[-1] + 1.0, 0.01)
    knots = np.arange(0.0, t_b[-1] + 8.0, 8.0)
    fluct = np.interp(t_b, knots, rng["speed"].normal(0.0, p.speed_cv, knots.size))
    vel_b = v * ramp(t_b) * (1.0 + fluct)
    x_b = np.concatenate([[0.0], np.cumsum(0.5 * (vel_b[1:] + vel_b[:-1]) * np.diff(t_b))])

    ics_of = {}
    for side in C.SIDES:
        ics = ic_all[owner == C.SIDES.index(side)]
        ics_of[side] = ics[: int(np.argmax(ics >= t_end)) + 1]  # the leg stops at its first IC at/after t_end
    t_total = max(ics[-1] for ics in ics_of.values()) + max(float(p.stand_s), 1.0 / p.sample_rate_hz)

    tau = float(p.impact_decay_s)
    omega = 2.0 * math.pi * float(p.impact_freq_hz)
    norm = _impact_norm(tau, omega)
    tilt = np.asarray(d["tilt_deg"]) * p.out_of_plane_scale
    rot = np.asarray(d["rotation_deg"]) * p.out_of_plane_scale
    mountings = _mountings(p, rng["mount"])

    legs: dict[str, _Leg] = {}
    for si, side in enumerate(C.SIDES):
        s = _side_sign(side)
        ra, rc, ri = rng[f"angles_{side}"], rng[f"contact_{side}"], rng[f"impact_{side}"]
        ics = ics_of[side]
        n_ic = ics.size  # K; real strides j = 1..K-1 are the rows of the per-stride arrays below
        n_str = n_ic - 1
        ic_j = ics[:-1]
        cj = contact[si] * (1.0 + rc.normal(0.0, p.contact_time_cv, n_str))
        cj = np.clip(cj, 0.1 * np.diff(ics), 0.9 * np.diff(ics))
        to_j = ic_j + cj
        # virtual standing stride 0: the swing into the first IC starts at ho0 with nominal timing
        ho0 = t_start if si == first else ics[0] - (t_stride - h_off * contact[si])
        to0 = ho0 + (1.0 - h_off) * contact[si]
        r_ic = np.concatenate([[0.0], ramp(ics), [0.0]])
        x = np.concatenate([[0.0], np.interp(ics, t_b, x_b)])
        x = np.concatenate([x, x[-1:]])
        roll = np.zeros(n_ic + 2)
        roll[1:n_ic] = np.minimum(r_ic[1:n_ic] * p.stance_roll_m, 0.5 * np.diff(x[1 : n_ic + 1]))
        swing_scale = np.concatenate([r_ic[1 : n_ic + 1], [0.0, 0.0]])  # swing j ends at IC j+1
        push = _push_off(
            ho=np.concatenate([[ho0], ic_j + h_off * cj]),
            to=np.concatenate([[to0], to_j]),
            next_ic=ics,
            contact=np.concatenate([[contact[si]], cj]),
            length=np.diff(x[: n_ic + 1]),
            roll=roll[:n_ic],
            scale=swing_scale[:n_ic],
            h_off=h_off,
            speed_frac=d["pushoff_speed_frac"],
            rise_m=d["pushoff_rise_m"],
            clearance_m=float(p.ankle_clearance_m),  # type: ignore[arg-type]
            kick_frac=d["back_kick_frac"],
        )

        # shank-angle key points (deg): swing j = 0..K-1 has TO, MIN, MAX; stance j = 1..K-1 has IC, MS
        sd = p.shank_angle_sd_deg
        th_ic = theta_ic[si] + ra.normal(0.0, sd, n_str)
        th_to = float(p.shank_angle_to_deg) + ra.normal(0.0, sd, n_ic)  # type: ignore[arg-type]
        th_min = float(p.shank_angle_min_deg) + ra.normal(0.0, sd, n_ic)  # type: ignore[arg-type]
        th_max = theta_max[si] + ra.normal(0.0, sd, n_ic)
        th_ms = th_ic + d["mid_stance_angle_frac"] * (th_to[1:] - th_ic)
        to_all = np.concatenate([[to0], to_j])
        sw = ics - to_all
        kt = np.full((n_ic, 5), np.nan)  # rows: stride j; columns: IC, MS, TO, MIN, MAX
        kv = np.zeros((n_ic, 5, 3))  # channels: shank angle, frontal tilt, axial rotation
        kt[1:, 0], kt[1:, 1] = ic_j, ic_j + d["mid_stance_frac"] * cj
        kt[:, 2], kt[:, 3], kt[:, 4] = (
            to_all,
            to_all + d["min_swing_frac"] * sw,
            to_all + d["max_swing_frac"] * sw,
        )
        kv[1:, 0, 0], kv[1:, 1, 0] = th_ic, th_ms
        kv[:, 2, 0], kv[:, 3, 0], kv[:, 4, 0] = th_to, th_min, th_max
        kv[:, :, 1], kv[:, :, 2] = tilt, rot
        kind = np.tile(np.arange(5), (n_ic, 1))  # 0 IC, 1 MS, 2 TO, 3 MIN, 4 MAX; -1 standing knots
        keep = ~np.isnan(kt)
        kt, kv, kind = kt[keep], kv[keep], kind[keep]
        kv = np.radians(kv) * ramp(kt)[:, None]
        # standing knots: start (if any), motion onset ho0, last IC (ramp = 0), end of recording
        head = [0.0, ho0] if ho0 > 0.0 else [ho0]
        kt = np.concatenate([head, kt, [ics[-1], t_total]])
        kv = np.concatenate([np.zeros((len(head), 3)), kv, np.zeros((2, 3))])
        kind = np.concatenate([np.full(len(head), -1), kind, [-1, -1]])
        dy, ddy = _spline_derivatives(kt, kv)
        if d["to_at_rest"]:
            # running: the stance rotation slows down from mid-stance and comes to rest at TO (the late-stance
            # plateau of gyr_ml, Fukuchi 2017), theta = theta_TO + (theta_MS - theta_TO) (1 - s)³ on [MS, TO];
            # the back swing starts from rest at TO, when the foot leaves the ground. The other knots take the
            # shank-angle derivatives of the spline through IC, TO and the swing key points alone, so the swing
            # and the approach to IC do not depend on how the stance rotation is shaped.
            ref = kind != 1
            dy[ref, 0], ddy[ref, 0] = (a[:, 0] for a in _spline_derivatives(kt[ref], kv[ref, :1]))
            i_to = np.flatnonzero(kind == 2)
            dy[i_to, 0], ddy[i_to, 0] = 0.0, 0.0
            i_ms = np.flatnonzero(kind == 1)
            delta, h = kv[i_ms, 0] - kv[i_ms + 1, 0], kt[i_ms + 1] - kt[i_ms]  # the TO knot follows its MS
            dy[i_ms, 0], ddy[i_ms, 0] = -3.0 * delta / h, 6.0 * delta / h**2
        dy[kind >= 3, 0] = 0.0  # maximal back / forward swing are true extrema of the shank angle
        still = np.all(kv == 0.0, axis=1)
        dy[still], ddy[still] = 0.0, 0.0

        leg = _Leg(
            side=side,
            ic=np.concatenate([[-_BIG], ics, [2.0 * _BIG]]),
            ho=np.concatenate([[ho0], ic_j + h_off * cj, [_BIG, 2.0 * _BIG]]),
            to=np.concatenate([[to0], to_j, [np.nan, np.nan]]),
            te=np.concatenate([[to0], to_j, [1.5 * _BIG, 2.5 * _BIG]]),
            x=x,
            roll=roll,
            **{k: np.concatenate([v, [0.0, 0.0]]) for k, v in push.items()},
            lateral=swing_scale * d["lateral_swing_m"],
            imp_amp=np.zeros(n_ic + 2),
            imp_dir=np.zeros((n_ic + 2, 3)),
            ramp=r_ic,
            theta_ic=np.concatenate([[0.0], th_ic * r_ic[1:n_ic], [0.0, 0.0]]),
            angles=_QuinticHermite(kt, kv, dy, ddy),
            r_as=mountings[side],
            offset=np.array(
                [p.sensor_offset_m[0], -s * p.sensor_offset_m[1], p.sensor_offset_m[2]], dtype=float
            ),
            y0=s * 0.5 * float(p.step_width_m),  # type: ignore[arg-type]
            push_off=bool(d["push_off"]),
            z0=float(p.ankle_height_m),
            tau=tau,
            omega=omega,
            other_ic=ics_of["right" if side == "left" else "left"],
        )
        # impact transient at each real IC: along the tibia (+ a little AP) as oriented at that IC
        amp_g = impact_g[si] * (1.0 + ri.normal(0.0, p.impact_cv, n_ic))
        if impact_on:
            r_wa = _shank_rotation(side, *leg.angles(ics))[0]
            direction = r_wa[:, :, 2] + p.impact_ap_ratio * r_wa[:, :, 0]
            direction /= np.linalg.norm(direction, axis=1, keepdims=True)
            leg.imp_amp[1 : n_ic + 1] = np.maximum(amp_g, 0.0) * C.GRAVITY * r_ic[1 : n_ic + 1] / norm
            leg.imp_dir[1 : n_ic + 1] = direction
        legs[side] = leg
    return legs, float(t_total)


def _push_off(
    *,
    ho: FloatArray,
    to: FloatArray,
    next_ic: FloatArray,
    contact: FloatArray,
    length: FloatArray,
    roll: FloatArray,
    scale: FloatArray,
    h_off: float,
    speed_frac: float,
    rise_m: float,
    clearance_m: float,
    kick_frac: float,
) -> dict[str, FloatArray]:
    """Per-stride push-off and swing amplitudes of the ankle (arrays over the strides that start at ``ho``).

    Push-off (heel-off -> TO, duration ``tp``): the forward acceleration follows :data:`_PUSH_X` and brings the
    ankle to ``speed_frac`` x the stride's mean speed at TO; the heel rise (:data:`_PUSH_Z`) lifts it by
    ``rise_m``. The swing (TO -> next IC) continues from that state and comes to rest at the next contact; its
    lift bump makes the rise at 3/7 of the swing equal to ``clearance_m`` (at least the free continuation). All
    amplitudes follow the ramp (``scale``, ``length``).
    """
    tp, ts = to - ho, next_ic - to
    # mean speed of the stride (heel-off of stride j is h_off * contact after its IC)
    vx = speed_frac * length / (next_ic - ho + h_off * contact)
    shape_x = _PUSH_X.moment / _PUSH_X.area  # push-off travel = vx * tp * shape_x
    # the swing never moves the ankle backwards if the travel left after TO is at least vx * ts
    vx = np.minimum(vx, 0.9 * np.maximum(length - roll, 0.0) / (tp * shape_x + ts))
    rise = rise_m * scale
    vz = rise / (tp * _PUSH_Z.moment / _PUSH_Z.area)
    h0, _, _, h1, _, _ = _hermite_start(np.array([3.0 / 7.0]))
    free = rise * h0[0] + vz * ts * h1[0]  # height at 3/7 of the swing (the lift's peak) without the lift
    lift = np.maximum(clearance_m * scale - free, 0.0)
    # back kick: once the foot is off the ground the shank swings back about the knee, which briefly pulls the
    # ankle backwards (and up: the lift); its largest backward speed stays below vx / 2
    kick = np.minimum(kick_frac * lift, 0.5 * vx * ts / _KICK_SLOPE)
    swing_dx = length - roll - vx * tp * shape_x
    return {
        "push_acc": vx / (tp * _PUSH_X.area),
        "push_dx": vx * tp * shape_x,
        "push_vx": vx,
        "swing_dx": swing_dx,
        "rise_acc": vz / (tp * _PUSH_Z.area),
        "rise": rise,
        "rise_vz": vz,
        "lift": lift,
        "kick": kick,
    }


def _mountings(p: RunParams, rng: np.random.Generator) -> dict[str, FloatArray]:
    """Sensor -> anatomical rotation per side: explicit, or nominal + seeded misalignment."""
    draws = {s: rng.normal(0.0, p.mount_misalignment_deg, 3) for s in C.SIDES}
    out = {}
    for side in C.SIDES:
        m = p.mounting
        if m is not None:
            r = np.asarray(m[side] if isinstance(m, Mapping) else m, dtype=float)
            if r.shape != (3, 3) or not np.allclose(r @ r.T, np.eye(3), atol=1e-6) or np.linalg.det(r) < 0:
                raise ValueError(f"mounting for {side} must be a proper (3, 3) rotation matrix")
            out[side] = r.copy()
        else:
            mis = np.radians(np.clip(draws[side], -15.0, 15.0))
            out[side] = nominal_mounting(side, p.mount_face_deg) @ _rotvec_to_matrix(mis)
    return out


# --- truth ------------------------------------------------------------------------------------------------


def _peak_tibial_accel(leg: _Leg, ic: FloatArray, to: FloatArray) -> FloatArray:
    """Maximum specific-force magnitude (g) over [ic, to] per stride: coarse grid, then a local fine grid."""
    if ic.size == 0:
        return np.empty(0)
    dur = to - ic
    u = np.linspace(0.0, 1.0, 151)
    early = np.linspace(0.0, 0.08, 81)
    grid = np.concatenate(
        [ic[:, None] + dur[:, None] * u, ic[:, None] + np.minimum(early, dur[:, None])], axis=1
    )
    f = leg.specific_force_norm(grid.ravel()).reshape(grid.shape)
    best = grid[np.arange(ic.size), np.argmax(f, axis=1)]
    half = np.maximum(dur / 150.0, 1e-3) * 1.5
    lo = np.maximum(best - half, ic)
    hi = np.minimum(best + half, to)
    fine = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, 61)
    f2 = leg.specific_force_norm(fine.ravel()).reshape(fine.shape)
    return np.maximum(f.max(axis=1), f2.max(axis=1)) / C.GRAVITY


def _truth_table(legs: dict[str, _Leg]) -> pd.DataFrame:
    """Stride table of both legs in true time (see :func:`simulate_run`)."""
    frames = []
    for side, leg in legs.items():
        k = leg.n_ic
        j = np.arange(1, k)  # complete strides: IC j -> IC j+1
        r0, r1 = leg.ramp[j], leg.ramp[j + 1]
        keep = (r0 >= 0.2) & (r1 >= 0.2)
        j = j[keep]
        ic, nxt, to = leg.ic[j], leg.ic[j + 1], leg.to[j]
        stride = nxt - ic
        contact = to - ic
        k_other = np.searchsorted(leg.other_ic, ic, side="right")
        has_other = k_other < leg.other_ic.size
        other = np.where(has_other, leg.other_ic[np.minimum(k_other, leg.other_ic.size - 1)], np.nan)
        length = leg.x[j + 1] - leg.x[j]
        steady = (leg.ramp[j] > 0.999) & (leg.ramp[j + 1] > 0.999)
        frames.append(
            pd.DataFrame(
                {
                    C.SIDE: side,
                    C.STRIDE_ID: np.arange(j.size),
                    C.BOUT_ID: 0,
                    C.IC_TIME: ic,
                    C.TO_TIME: to,
                    C.NEXT_IC_TIME: nxt,
                    C.STRIDE_TIME: stride,
                    C.CONTACT_TIME: contact,
                    C.SWING_TIME: nxt - to,
                    C.FLIGHT_TIME: np.maximum(other - to, 0.0),
                    C.STEP_TIME: other - ic,
                    C.DUTY_FACTOR: contact / stride,
                    C.CADENCE: 120.0 / stride,
                    C.STRIDE_LENGTH: length,
                    C.SPEED: length / stride,
                    C.SHANK_ANGLE_IC: leg.theta_ic[j],
                    C.FOOT_ANGLE_IC: np.nan,
                    C.PEAK_TIBIAL_ACCEL: _peak_tibial_accel(leg, ic, to),
                    C.VALID: steady,
                    C.INVALID_REASON: np.where(steady, None, "ramp"),
                    C.BRIDGED_S: 0.0,
                    C.MID_STANCE_TIME: ic + 0.5 * contact,
                    C.MID_SWING_TIME: to + 0.5 * (nxt - to),
                }
            )
        )
    table = pd.concat(frames, ignore_index=True).sort_values([C.IC_TIME, C.SIDE], kind="stable")
    return table.reset_index(drop=True)


def simulate_session(
    params: RunParams | None = None,
    *,
    seed: int | None = None,
    label: str | None = None,
    subject: str = "synthetic-runner",
    notes: str = "",
    session_id: str | None = None,
    start_time: str | None = None,
    **overrides: Any,
) -> tuple[Session, pd.DataFrame]:
    """Simulate a run (see :func:`simulate_run`) and wrap it as a :class:`gait.Session` plus its true stride table.

    The session carries the generator's parameters, seed, mounting and clock model in ``meta.extra["synth"]``, so
    a file says how it was made. The label defaults to ``weighted``/``unweighted`` from the ankle load.
    """
    import json

    from gait.session import Session

    run = simulate_run(params, seed=seed, with_world=False, **overrides)
    p = run.params
    load = {s: float(v) for s, v in zip(C.SIDES, np.broadcast_to(p.ankle_load_kg, 2), strict=True)}
    if label is None:
        label = C.LABEL_WEIGHTED if any(v > 0 for v in load.values()) else C.LABEL_UNWEIGHTED
    synth_meta = {
        "seed": run.seed,
        "params": json.loads(json.dumps(_jsonable(asdict(p)))),
        "mounting_sensor_to_anatomical": {s: np.asarray(run.mounting[s]).tolist() for s in C.SIDES},
        "right_clock": "t_right = (1 + clock_drift_ppm * 1e-6) * t_true + clock_offset_s",
    }
    session = Session.from_arrays(
        left=run.left,
        right=run.right,
        placement="shank",
        sample_rate_hz=run.sample_rate_hz,
        label=label,
        load_kg=load,
        subject=subject,
        sensor_model="gait.synth",
        notes=notes or f"synthetic {p.mode} at {p.speed_mps:.2f} m/s",
        session_id=session_id,
        start_time=start_time,
        extra={"synth": synth_meta},
    )
    return session, run.truth


def _jsonable(value: Any) -> Any:
    """Parameters as plain JSON types (arrays to lists, NaN kept)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
