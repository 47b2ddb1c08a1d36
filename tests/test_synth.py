"""Tests of the synthetic two-ankle IMU generator (gait.synth).

The generator is the ground truth of every other test, so these tests check it against independent
computations: strapdown integration of its own readings, geometry of its own world trajectories, the
conventions' mirror mapping, and the documented parameter effects.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.integrate import cumulative_trapezoid
from scipy.interpolate import CubicSpline

from gait import conventions as C
from gait.synth import (
    RunParams,
    SynthRun,
    nominal_mounting,
    pendulum_frequency_change,
    shank_angle_deg,
    simulate_run,
)

G_UP = np.array([0.0, 0.0, C.GRAVITY])


# --- helpers ----------------------------------------------------------------------------------------------


def _rodrigues(rotvec: np.ndarray) -> np.ndarray:
    """Batched rotation vectors (n, 3) -> rotation matrices (n, 3, 3)."""
    th = np.linalg.norm(rotvec, axis=1)
    k = rotvec / np.where(th > 0, th, 1.0)[:, None]
    kx = np.zeros((len(rotvec), 3, 3))
    kx[:, 0, 1], kx[:, 0, 2], kx[:, 1, 2] = -k[:, 2], k[:, 1], -k[:, 0]
    kx -= np.transpose(kx, (0, 2, 1))
    s, c = np.sin(th)[:, None, None], np.cos(th)[:, None, None]
    return np.eye(3) + s * kx + (1.0 - c) * kx @ kx


def _integrate_gyro(r0: np.ndarray, gyr: np.ndarray, dt: float) -> np.ndarray:
    """Body-frame strapdown on SO(3): exponential map of the trapezoidal rotation vector + coning term."""
    theta = 0.5 * (gyr[:-1] + gyr[1:]) * dt + dt**2 / 12.0 * np.cross(gyr[:-1], gyr[1:])
    steps = _rodrigues(theta)
    out = np.empty((len(gyr), 3, 3))
    out[0] = r0
    for i, step in enumerate(steps):
        out[i + 1] = out[i] @ step
    return out


def _angle_between_deg(ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
    rel = np.einsum("nji,njk->nik", ra, rb)
    cos = np.clip((np.trace(rel, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)
    return np.degrees(np.arccos(cos))


def _steady(run: SynthRun, side: str) -> pd.DataFrame:
    tr = run.truth
    return tr[(tr[C.SIDE] == side) & tr[C.VALID]].reset_index(drop=True)


def _body_frame(run: SynthRun, side: str) -> tuple[np.ndarray, np.ndarray]:
    """Sensor readings -> shank body frame (ap, ml, si) with the known mounting and the conventions' signs."""
    m = run.mounting[side]
    data = run.sensor(side)
    signs = C.ANATOMICAL_TO_BODY_SIGNS[side]
    return data["acc"] @ m.T * signs[:3], data["gyr"] @ m.T * signs[3:]


def _ankle_from_world(run: SynthRun, side: str, idx: np.ndarray) -> np.ndarray:
    """Ankle joint centre from the world sensor pose and the known mounting and sensor offset."""
    w = run.world[side]
    r_wa = w["R"][idx] @ run.mounting[side].T
    return w["pos"][idx] - r_wa @ run.sensor_offset_m[side]


def _ankle_acc(run: SynthRun, side: str, t: np.ndarray, h: float = 2e-4) -> np.ndarray:
    """World acceleration of the ankle joint centre (m/s², (n, 3)) at true times ``t``: central second
    difference of the model's ankle position (exact model, no sampling)."""
    x = [run.kinematics(side, t + d)["ankle_pos"] for d in (-h, 0.0, h)]
    return (x[0] - 2.0 * x[1] + x[2]) / h**2


def _ankle_vel(run: SynthRun, side: str, t: np.ndarray, h: float = 2e-4) -> np.ndarray:
    return (run.kinematics(side, t + h)["ankle_pos"] - run.kinematics(side, t - h)["ankle_pos"]) / (2.0 * h)


def _ideal_body(run: SynthRun, side: str, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free readings at true times ``t`` in the shank body frame (ap, ml, si)."""
    k = run.kinematics(side, t)
    signs = C.ANATOMICAL_TO_BODY_SIGNS[side]
    m = run.mounting[side]
    return k["acc_sensor"] @ m.T * signs[:3], k["gyr_sensor"] @ m.T * signs[3:]


# --- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_default() -> SynthRun:
    return simulate_run(seed=7, duration_s=40.0)


@pytest.fixture(scope="module")
def run_1k() -> SynthRun:
    """Noise-, bias- and transient-free run at 1 kHz for the physics tests."""
    return simulate_run(seed=11, ideal=True, sample_rate_hz=1000.0, duration_s=12.0, stand_s=2.0)


@pytest.fixture(scope="module")
def run_35() -> SynthRun:
    """Noise-, bias- and transient-free run at 3.5 m/s, 1 kHz: the speed of the Fukuchi 2017 reference trials."""
    return simulate_run(seed=11, ideal=True, sample_rate_hz=1000.0, duration_s=12.0, stand_s=2.0, speed_mps=3.5)


@pytest.fixture(scope="module")
def run_symmetric() -> SynthRun:
    """No variability or asymmetry; cadence 160 spm so half a stride is 75 samples at 200 Hz."""
    return simulate_run(
        seed=3,
        duration_s=20.0,
        cadence_spm=160.0,
        stride_time_cv=0.0,
        contact_time_cv=0.0,
        shank_angle_sd_deg=0.0,
        speed_cv=0.0,
        impact_cv=0.0,
        noise=False,
        bias=False,
    )


# --- 1. physics -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", C.SIDES)
def test_gyro_integrates_to_true_orientation(run_1k: SynthRun, side: str) -> None:
    w, data = run_1k.world[side], run_1k.sensor(side)
    tr = _steady(run_1k, side)
    t0, t1 = tr[C.IC_TIME].iloc[1], tr[C.NEXT_IC_TIME].iloc[3]  # three full strides
    i0, i1 = np.searchsorted(w["t"], [t0, t1])
    dt = float(np.mean(np.diff(w["t"][i0:i1])))  # true-time sample interval (the right clock may drift)
    est = _integrate_gyro(w["R"][i0], data["gyr"][i0 : i1 + 1], dt)
    err = _angle_between_deg(w["R"][i0 : i1 + 1], est)
    assert np.degrees(np.abs(data["gyr"][i0:i1]).max()) > 300.0  # the test is not trivially passed
    assert err.max() < 0.5
    assert err.max() < 0.01  # in fact much tighter


@pytest.mark.parametrize("impact", [False, True])
def test_accelerometer_double_integrates_to_true_trajectory(impact: bool) -> None:
    run = simulate_run(
        seed=5, sample_rate_hz=1000.0, duration_s=10.0, stand_s=1.0, noise=False, bias=False, impact=impact
    )
    w, data = run.world["left"], run.left
    tr = _steady(run, "left")
    ic0, ic1 = tr[C.IC_TIME].iloc[1] - 0.01, tr[C.NEXT_IC_TIME].iloc[1] + 0.01
    i0, i1 = np.searchsorted(w["t"], [ic0, ic1])
    sl = slice(i0, i1 + 1)
    dt = 1.0 / run.sample_rate_hz
    a_world = np.einsum("nij,nj->ni", w["R"][sl], data["acc"][sl]) - G_UP
    vel = w["vel"][i0] + cumulative_trapezoid(a_world, dx=dt, axis=0, initial=0.0)
    pos = w["pos"][i0] + cumulative_trapezoid(vel, dx=dt, axis=0, initial=0.0)
    travelled = np.linalg.norm(w["pos"][i1] - w["pos"][i0])
    assert travelled > 1.5  # one running stride
    assert np.abs(vel - w["vel"][sl]).max() < 0.02
    assert np.linalg.norm(pos - w["pos"][sl], axis=1).max() < 0.01
    if impact:  # the transient is really there, at tibial-shock size
        assert np.linalg.norm(data["acc"][sl], axis=1).max() > 4.0 * C.GRAVITY


def test_readings_are_continuous_across_events(run_1k: SynthRun) -> None:
    tr = _steady(run_1k, "left")
    events = np.concatenate([tr[C.IC_TIME], tr[C.TO_TIME], tr[C.MID_STANCE_TIME], list(run_1k.standing[1])])
    eps = 1e-7
    before = run_1k.kinematics("left", events - eps)
    after = run_1k.kinematics("left", events + eps)
    for key in ("pos", "vel", "acc", "omega"):
        assert np.abs(after[key] - before[key]).max() < 1e-3, key


def test_rotations_are_proper(run_default: SynthRun) -> None:
    for side in C.SIDES:
        m = run_default.mounting[side]
        assert np.allclose(m @ m.T, np.eye(3)) and np.isclose(np.linalg.det(m), 1.0)
        r = run_default.world[side]["R"][::500]
        assert np.allclose(np.einsum("nji,njk->nik", r, r), np.eye(3), atol=1e-12)
        assert np.allclose(np.linalg.det(r), 1.0)


def test_nominal_right_mounting_is_the_mirrored_placement_not_a_reflection() -> None:
    left, right = nominal_mounting("left"), nominal_mounting("right")
    mirror = np.diag([1.0, -1.0, 1.0])
    assert np.isclose(np.linalg.det(mirror @ left), -1.0)  # a plain mirror image is no sensor
    assert np.allclose(right, mirror @ left @ mirror)  # the mirrored sensor has its y axis flipped
    assert np.allclose(left[:, 0], [0, 0, 1]) and np.allclose(right[:, 0], [0, 0, 1])  # x up the tibia
    assert left[1, 2] < 0 < right[1, 2]  # sensor z faces medially on both legs


# --- 2. standing ------------------------------------------------------------------------------------------


def test_standing_reads_gravity_through_the_mounting(run_default: SynthRun) -> None:
    p = run_default.params
    for side in C.SIDES:
        data, w = run_default.sensor(side), run_default.world[side]
        for t0, t1 in run_default.standing:
            still = (w["t"] > t0 + 0.05) & (w["t"] < t1 - 0.05)
            assert still.sum() > 0.9 * p.stand_s * run_default.sample_rate_hz
            acc, gyr = data["acc"][still], data["gyr"][still]
            expected = run_default.mounting[side].T @ G_UP + run_default.bias[side]["acc"]
            assert np.allclose(acc.mean(axis=0), expected, atol=0.01)
            assert np.allclose(gyr.mean(axis=0), run_default.bias[side]["gyr"], atol=0.001)
            assert np.allclose(acc.std(axis=0), p.acc_noise_sd, rtol=0.15)
            assert abs(np.linalg.norm(acc, axis=1).mean() - C.GRAVITY) < 0.1
            assert np.allclose(w["shank_angle_deg"][still], 0.0)
            assert np.ptp(w["pos"][still], axis=0).max() == 0.0


def test_standing_is_exact_without_noise_and_bias() -> None:
    mount = {"left": nominal_mounting("left"), "right": nominal_mounting("right", face_deg=-90.0)}
    run = simulate_run(seed=1, duration_s=8.0, ideal=True, mounting=mount)
    for side in C.SIDES:
        still = run.world[side]["t"] < run.standing[0][1]
        assert np.allclose(run.sensor(side)["acc"][still], mount[side].T @ G_UP, atol=1e-9)
        assert np.abs(run.sensor(side)["gyr"][still]).max() < 1e-12


# --- 3. truth consistency ---------------------------------------------------------------------------------


@pytest.mark.parametrize("side", C.SIDES)
def test_stride_length_is_the_ankle_displacement_between_ics(run_default: SynthRun, side: str) -> None:
    tr = run_default.truth[run_default.truth[C.SIDE] == side]
    w = run_default.world[side]
    i_ic = np.abs(w["t"][:, None] - tr[C.IC_TIME].to_numpy()).argmin(axis=0)
    i_next = np.abs(w["t"][:, None] - tr[C.NEXT_IC_TIME].to_numpy()).argmin(axis=0)
    disp = _ankle_from_world(run_default, side, i_next) - _ankle_from_world(run_default, side, i_ic)
    assert np.allclose(np.linalg.norm(disp[:, :2], axis=1), tr[C.STRIDE_LENGTH], atol=1e-3)
    assert np.allclose(tr[C.STRIDE_LENGTH], tr[C.SPEED] * tr[C.STRIDE_TIME])
    # the ankle barely moves from IC to mid-stance (the shank rotates over the foot)
    i_ms = np.abs(w["t"][:, None] - tr[C.MID_STANCE_TIME].to_numpy()).argmin(axis=0)
    stance_move = _ankle_from_world(run_default, side, i_ms) - _ankle_from_world(run_default, side, i_ic)
    assert np.linalg.norm(stance_move, axis=1).max() < 0.02


def test_stride_table_matches_parameters(run_default: SynthRun) -> None:
    p = run_default.params
    tr = run_default.truth
    assert list(tr.columns[: len(C.STRIDE_COLS)]) == list(C.STRIDE_COLS)
    steady = tr[tr[C.VALID]]
    assert len(steady) > 80 and set(steady[C.SIDE]) == set(C.SIDES)
    t_stride = 120.0 / p.cadence_spm
    assert steady[C.CADENCE].mean() == pytest.approx(p.cadence_spm, rel=0.01)
    assert steady[C.STRIDE_TIME].std() == pytest.approx(p.stride_time_cv * t_stride, rel=0.4)
    assert steady[C.CONTACT_TIME].mean() == pytest.approx(p.contact_time_s, rel=0.02)
    assert steady[C.DUTY_FACTOR].mean() == pytest.approx(p.contact_time_s / t_stride, rel=0.03)
    assert steady[C.SPEED].mean() == pytest.approx(p.speed_mps, rel=0.02)
    assert steady[C.SHANK_ANGLE_IC].mean() == pytest.approx(p.shank_angle_ic_deg, abs=0.5)
    assert steady[C.SHANK_ANGLE_IC].std() == pytest.approx(p.shank_angle_sd_deg, rel=0.4)
    assert (steady[C.FLIGHT_TIME] > 0.05).all()  # running at 3 m/s has a flight phase
    assert np.allclose(steady[C.SWING_TIME] + steady[C.CONTACT_TIME], steady[C.STRIDE_TIME])
    assert steady[C.PEAK_TIBIAL_ACCEL].between(5.0, 12.0).mean() > 0.9
    # events alternate between the legs: each step is about half a stride
    assert steady[C.STEP_TIME].mean() == pytest.approx(t_stride / 2.0, rel=0.02)
    assert ((tr[C.IC_TIME] < tr[C.TO_TIME]) & (tr[C.TO_TIME] < tr[C.NEXT_IC_TIME])).all()


@pytest.mark.parametrize("side", C.SIDES)
def test_shank_angle_at_ic_from_world_orientation(run_default: SynthRun, side: str) -> None:
    tr = run_default.truth[run_default.truth[C.SIDE] == side]
    m = run_default.mounting[side]
    exact = run_default.kinematics(side, tr[C.IC_TIME].to_numpy())["R"] @ m.T
    assert np.allclose(shank_angle_deg(exact), tr[C.SHANK_ANGLE_IC], atol=1e-9)
    # and from the sampled world orientation, interpolated to the IC instants
    w = run_default.world[side]
    sampled = shank_angle_deg(w["R"] @ m.T)
    assert np.allclose(np.interp(tr[C.IC_TIME], w["t"], sampled), tr[C.SHANK_ANGLE_IC], atol=0.1)


def test_peak_tibial_accel_is_the_true_peak(run_1k: SynthRun) -> None:
    run = simulate_run(seed=11, noise=False, bias=False, sample_rate_hz=1000.0, duration_s=12.0, stand_s=2.0)
    w, acc = run.world["left"], np.linalg.norm(run.left["acc"], axis=1) / C.GRAVITY
    for row in _steady(run, "left").itertuples():
        in_contact = (w["t"] >= row.ic_time_s) & (w["t"] <= row.to_time_s)
        sampled = acc[in_contact].max()
        assert sampled <= row.peak_tibial_accel_g + 1e-9
        assert sampled > 0.95 * row.peak_tibial_accel_g
    # the transient dominates the peak: without it the peak is far lower
    without = _steady(run_1k, "left")[C.PEAK_TIBIAL_ACCEL]
    assert without.max() < 0.6 * _steady(run, "left")[C.PEAK_TIBIAL_ACCEL].mean()


def test_peak_tibial_accel_grows_with_speed_and_shank_angle() -> None:
    kw = {"seed": 2, "duration_s": 15.0, "noise": False, "bias": False}
    base = _steady(simulate_run(**kw), "left")[C.PEAK_TIBIAL_ACCEL].mean()
    fast = _steady(simulate_run(speed_mps=5.0, **kw), "left")[C.PEAK_TIBIAL_ACCEL].mean()
    forefoot = _steady(simulate_run(shank_angle_ic_deg=1.0, **kw), "left")[C.PEAK_TIBIAL_ACCEL].mean()
    assert fast > base + 1.5 > forefoot + 1.5
    assert 5.0 < forefoot < base < fast < 13.0


def test_mirror_symmetry_in_the_shank_body_frame(run_symmetric: SynthRun) -> None:
    half = 75  # half a stride at 160 spm and 200 Hz
    acc_l, gyr_l = _body_frame(run_symmetric, "left")
    acc_r, gyr_r = _body_frame(run_symmetric, "right")
    tr = _steady(run_symmetric, "left")
    t = run_symmetric.left["t"]
    i0, i1 = np.searchsorted(t, [tr[C.IC_TIME].iloc[2], tr[C.IC_TIME].iloc[-3]])
    assert i1 - i0 > 1000
    assert np.abs(gyr_l[i0:i1] - gyr_r[i0 + half : i1 + half]).max() < 1e-6
    assert np.abs(acc_l[i0:i1] - acc_r[i0 + half : i1 + half]).max() < 1e-5
    # without the mounting correction the raw signals differ (the two sensors sit differently)
    raw_l, raw_r = run_symmetric.left["gyr"], run_symmetric.right["gyr"]
    assert np.abs(raw_l[i0:i1] - raw_r[i0 + half : i1 + half]).max() > 0.5
    # out-of-plane channels are not trivially zero, so their mirroring is tested too
    assert np.abs(gyr_l[i0:i1, 0]).max() > 0.1 and np.abs(gyr_l[i0:i1, 2]).max() > 0.1
    # gyr_ml is the rate of the shank angle: positive while the shank swings forward, largest mid-swing
    w = run_symmetric.world["left"]
    rate = np.gradient(np.radians(w["shank_angle_deg"]), t)
    assert np.corrcoef(rate[i0:i1], gyr_l[i0:i1, 1])[0, 1] > 0.999
    mid_swing = np.searchsorted(t, tr[C.MID_SWING_TIME])
    assert (gyr_l[mid_swing, 1] > 4.0).all()
    stride = slice(*np.searchsorted(t, [tr[C.IC_TIME].iloc[3], tr[C.NEXT_IC_TIME].iloc[3]]))
    peak_t = t[stride][np.argmax(gyr_l[stride, 1])]
    assert tr[C.TO_TIME].iloc[3] < peak_t < tr[C.NEXT_IC_TIME].iloc[3]


# --- 3b. push-off and toe-off ----------------------------------------------------------------------------


@pytest.mark.parametrize("side", C.SIDES)
def test_toe_off_changes_the_ankle_acceleration_abruptly_at_the_true_toe_off(run_1k: SynthRun, side: str) -> None:
    """The push-off force ends at TO and the swing starts there: in the world data the ankle's forward
    acceleration drops from the push-off plateau and its vertical acceleration, constant before TO (the heel
    rise is over), jumps into the swing lift, both exactly at the truth's TO."""
    to = _steady(run_1k, side)[C.TO_TIME].to_numpy()
    ms = np.arange(-30.0, 30.01, 0.5)  # ms from TO
    acc = np.stack([_ankle_acc(run_1k, side, to + d * 1e-3) for d in ms]) / C.GRAVITY  # (time, stride, xyz)
    ax, az = acc[..., 0], acc[..., 2]
    at = {d: i for i, d in enumerate(ms)}
    # forward: the push-off acceleration holds until the last few ms, is gone at TO, and the back kick follows
    assert (ax[at[-20.0]] > 1.5).all() and (ax[at[-10.0]] > 1.5).all()
    assert np.abs(ax[at[0.0]]).max() < 0.05
    assert (ax[at[10.0]] < -1.0).all()
    # vertical: flat before TO, rising right after it (a jump of the vertical jerk at TO)
    assert np.abs(az[: at[-1.0]]).max() < 0.02
    assert (az[at[5.0]] - az[at[0.0]] > 0.15).all() and (az[at[20.0]] > 0.5).all()
    # consistent with the truth: the vertical acceleration departs from 0 within 2 ms after the true TO and the
    # forward push-off acceleration is released within the 6 ms before it
    onset = ms[np.argmax(az > 0.05, axis=0)]
    assert ((onset > 0.0) & (onset <= 2.0)).all()
    last_push = ms[len(ms) - 1 - np.argmax((ax > 0.05)[::-1], axis=0)]
    assert ((last_push >= -6.0) & (last_push < 0.0)).all()
    # the ankle path stays smooth: velocity continuous through TO
    v = [_ankle_vel(run_1k, side, to + d) for d in (-1e-6, 1e-6)]
    assert np.abs(v[1] - v[0]).max() < 1e-3


@pytest.mark.parametrize("side", C.SIDES)
def test_toe_off_signature_in_the_shank_signals(run_1k: SynthRun, side: str) -> None:
    """What a shank IMU sees at TO (as in real running): the shank rotation is at rest at TO (late-stance
    plateau of gyr_ml) and the back swing starts right after it, and the axial specific force falls steeply
    across TO, fastest just before the true TO."""
    tr = _steady(run_1k, side)
    to = tr[C.TO_TIME].to_numpy()
    ms = np.arange(-30.0, 30.01, 0.5)
    body = [_ideal_body(run_1k, side, to + d * 1e-3) for d in ms]
    si = np.stack([b[0][:, 2] for b in body]) / C.GRAVITY
    gyr_ml = np.stack([b[1][:, 1] for b in body])
    at = {d: i for i, d in enumerate(ms)}
    assert np.abs(gyr_ml[at[0.0]]).max() < 0.05
    assert (gyr_ml[at[-30.0]] > -0.5).all() and (gyr_ml[at[30.0]] < -1.0).all()
    assert (si[at[-15.0]] - si[at[15.0]] > 1.0).all()
    steepest = ms[np.argmin(np.diff(si, axis=0), axis=0)]
    assert ((steepest >= -6.0) & (steepest <= 1.0)).all()
    # the shank angle at TO is the late-stance plateau, not a point of fast rotation
    angle = run_1k.kinematics(side, to)["shank_angle_deg"]
    assert np.allclose(angle, run_1k.params.shank_angle_to_deg, atol=4.0 * run_1k.params.shank_angle_sd_deg)


def test_push_off_matches_real_running_at_3_5_mps(run_35: SynthRun) -> None:
    """Calibration against virtual shank IMUs of the Fukuchi 2017 treadmill runs at 3.5 m/s (two runners, four
    legs, force-plate TO; signals 5 cm above the ankle): the ranges contain the real per-leg medians."""
    for side in C.SIDES:
        to = _steady(run_35, side)[C.TO_TIME].to_numpy()
        rise = np.median(run_35.kinematics(side, to)["ankle_pos"][:, 2] - run_35.params.ankle_height_m)
        assert 0.09 < rise < 0.11  # real 9.5-10.7 cm above the stance minimum
        vx, _, vz = np.median(_ankle_vel(run_35, side, to), axis=0)
        assert 2.0 < vx < 2.4  # real 2.0-2.4 m/s forward (belt frame)
        assert 1.0 < vz < 1.35  # real 1.1-1.3 m/s up
        push = np.median(_ankle_acc(run_35, side, to - 0.02)[:, 0]) / C.GRAVITY
        assert 2.2 < push < 3.3  # real 2.7-3.2 g (mean over TO-50..-10 ms of markers low-passed at 20 Hz)
        late = np.array([_ideal_body(run_35, side, to + d)[0][:, 2] for d in np.arange(-0.12, 0.0, 0.002)])
        post = np.array([_ideal_body(run_35, side, to + d)[0][:, 2] for d in np.arange(0.0, 0.06, 0.002)])
        drop = np.median(late.max(axis=0) - post.min(axis=0)) / C.GRAVITY
        assert 2.0 < drop < 4.5  # acc_si, late-stance peak to post-TO minimum; real 2.0-4.4 g
        gyr = np.array([_ideal_body(run_35, side, to + d)[1][:, 1] for d in np.arange(0.0, 0.2, 0.002)])
        assert -8.8 < np.median(gyr.min(axis=0)) < -5.5  # back-swing peak of gyr_ml; real -6.4..-8.8 rad/s


# --- 4. ankle weights -------------------------------------------------------------------------------------


def test_pendulum_bound_matches_reference() -> None:
    assert np.allclose(pendulum_frequency_change([0.5, 1.0, 2.5]), [-0.016, -0.030, -0.057], atol=0.001)
    assert pendulum_frequency_change(0.0) == 0.0


def test_ankle_weights_lower_cadence_and_lengthen_strides_at_matched_speed() -> None:
    kw = {"seed": 4, "duration_s": 40.0, "noise": False, "bias": False, "speed_cv": 0.0}
    runs = {kg: _steady_both(simulate_run(ankle_load_kg=kg, **kw)) for kg in (0.0, 1.0)}
    light, heavy = runs[0.0].mean(numeric_only=True), runs[1.0].mean(numeric_only=True)
    expected = 0.5 * pendulum_frequency_change(1.0)  # default load_cadence_fraction = 0.5 -> about -1.5 %
    assert heavy[C.CADENCE] / light[C.CADENCE] - 1.0 == pytest.approx(expected, abs=0.004)
    assert heavy[C.STRIDE_LENGTH] / light[C.STRIDE_LENGTH] - 1.0 == pytest.approx(-expected, abs=0.005)
    assert heavy[C.SPEED] == pytest.approx(light[C.SPEED], rel=0.005)
    assert heavy[C.SWING_TIME] > light[C.SWING_TIME]
    assert heavy[C.CONTACT_TIME] >= light[C.CONTACT_TIME] - 0.002
    assert heavy[C.SHANK_ANGLE_IC] < light[C.SHANK_ANGLE_IC]  # default: a little more vertical
    # the full pendulum bound when asked for
    full = _steady_both(simulate_run(ankle_load_kg=1.0, load_cadence_fraction=1.0, **kw))
    assert full[C.CADENCE].mean() / light[C.CADENCE] - 1.0 == pytest.approx(2 * expected, abs=0.004)


def _steady_both(run: SynthRun) -> pd.DataFrame:
    return run.truth[run.truth[C.VALID]]


# --- 5. walking -------------------------------------------------------------------------------------------


def test_walking_has_double_support_and_no_flight() -> None:
    run = simulate_run(seed=9, mode="walk", duration_s=30.0)
    p, tr = run.params, _steady_both(run)
    assert p.speed_mps == pytest.approx(1.3) and 100 < p.cadence_spm < 125
    assert (tr[C.DUTY_FACTOR] > 0.5).all()
    assert (tr[C.FLIGHT_TIME] == 0.0).all()
    assert (tr[C.STEP_TIME] < tr[C.CONTACT_TIME]).all()  # the other foot lands before this one lifts
    assert 15.0 < tr[C.SHANK_ANGLE_IC].mean() < 20.0
    assert tr[C.SPEED].mean() == pytest.approx(1.3, rel=0.02)
    assert tr[C.PEAK_TIBIAL_ACCEL].mean() < 4.0


# --- 6. clocks --------------------------------------------------------------------------------------------


def test_right_clock_offset_and_drift() -> None:
    kw = {"seed": 8, "duration_s": 10.0, "stand_s": 1.0, "ideal": True, "sample_rate_hz": 500.0}
    offset, ppm = 0.75, 1000.0
    ref = simulate_run(**kw)
    run = simulate_run(clock_offset_s=offset, clock_drift_ppm=ppm, **kw)
    fs = run.sample_rate_hz
    t_r = run.right["t"]
    assert np.allclose(t_r, offset + np.arange(t_r.size) / fs)
    t_true = run.world["right"]["t"]
    assert np.allclose(t_r, (1.0 + ppm * 1e-6) * t_true + offset)
    assert np.allclose(run.true_time("right", t_r), t_true)
    assert np.allclose(run.sensor_time("right", t_true), t_r)
    # the signal at a right time stamp is the reference (undrifted) signal at the corresponding true time
    for key in ("gyr", "acc"):
        expected = CubicSpline(ref.right["t"], ref.right[key])(t_true)
        scale = np.abs(ref.right[key]).max()
        assert np.abs(run.right[key] - expected).max() < 0.01 * scale
        n = min(t_r.size, ref.right["t"].size)  # positive drift: more samples over the same true time
        assert np.abs(run.right[key][:n] - ref.right[key][:n]).max() > 0.05 * scale  # drift matters
    assert t_r.size > ref.right["t"].size
    # exactly: the noise-free model of the undrifted run, evaluated at (t_right - offset) / (1 + drift)
    exact = ref.kinematics("right", (t_r - offset) / (1.0 + ppm * 1e-6))
    assert np.allclose(run.right["acc"], exact["acc_sensor"], atol=1e-9)
    assert np.allclose(run.right["gyr"], exact["gyr_sensor"], atol=1e-9)
    # the left sensor and the truth (true time) do not change
    assert np.array_equal(run.left["t"], ref.left["t"]) and np.array_equal(run.left["gyr"], ref.left["gyr"])
    pd.testing.assert_frame_equal(run.truth, ref.truth)
    assert run.clock == {"offset_s": offset, "drift_ppm": ppm}


# --- 7. determinism, API, speed ---------------------------------------------------------------------------


def test_same_seed_same_run_other_seed_other_run() -> None:
    a, b, c = (simulate_run(seed=s, duration_s=8.0) for s in (21, 21, 22))
    for side in C.SIDES:
        for key in ("t", "acc", "gyr"):
            assert np.array_equal(a.sensor(side)[key], b.sensor(side)[key])
        assert np.array_equal(a.mounting[side], b.mounting[side])
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert not np.array_equal(a.left["acc"][:100], c.left["acc"][:100])
    assert not np.allclose(a.mounting["left"], c.mounting["left"])


def test_switching_noise_off_keeps_the_same_strides() -> None:
    noisy, clean = simulate_run(seed=5, duration_s=8.0), simulate_run(seed=5, duration_s=8.0, ideal=True)
    cols = [C.IC_TIME, C.TO_TIME, C.STRIDE_LENGTH, C.SHANK_ANGLE_IC]
    pd.testing.assert_frame_equal(noisy.truth[cols], clean.truth[cols])
    assert np.array_equal(noisy.mounting["right"], clean.mounting["right"])


def test_params_resolution_and_errors() -> None:
    p = simulate_run(seed=1, duration_s=6.0, speed_mps=4.0, ankle_load_kg=(0.0, 1.0)).params
    assert isinstance(p, RunParams)
    assert p.cadence_spm == pytest.approx(146.0 + 24.0)
    assert p.ankle_load_kg == (0.0, 1.0)
    assert all(getattr(p, f) is not None for f in ("contact_time_s", "shank_angle_min_deg", "impact_g"))
    with pytest.raises(TypeError, match="unknown RunParams"):
        simulate_run(sped_mps=3.0)
    with pytest.raises(ValueError, match="mode"):
        simulate_run(mode="swim")
    with pytest.raises(ValueError, match="contact_time_s"):
        simulate_run(contact_time_s=2.0)
    with pytest.raises(ValueError, match="rotation"):
        simulate_run(mounting=np.diag([1.0, -1.0, 1.0]))


def test_output_shapes_and_rates(run_default: SynthRun) -> None:
    fs = run_default.sample_rate_hz
    for side in C.SIDES:
        d, w = run_default.sensor(side), run_default.world[side]
        n = d["t"].size
        assert d["acc"].shape == d["gyr"].shape == (n, 3)
        assert w["R"].shape == (n, 3, 3) and w["pos"].shape == (n, 3)
        assert np.allclose(np.diff(d["t"]), 1.0 / fs)
        assert np.isfinite(d["acc"]).all() and np.isfinite(d["gyr"]).all()
    assert run_default.standing[0] == pytest.approx((0.0, run_default.params.stand_s))
    assert run_default.standing[1][1] - run_default.standing[1][0] >= run_default.params.stand_s


def test_two_minutes_at_200_hz_is_fast() -> None:
    simulate_run(seed=0, duration_s=5.0)  # warm-up (imports)
    best = min(_timed(lambda: simulate_run(seed=0, duration_s=120.0)) for _ in range(2))
    assert best < 1.0


def _timed(fn) -> float:  # noqa: ANN001
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mode=st.sampled_from(["run", "walk"]),
    speed_factor=st.floats(0.0, 1.0),
    ic_angle=st.floats(-2.0, 22.0),
    asym=st.floats(-0.05, 0.05),
    seed=st.integers(0, 2**31),
)
def test_invariants_over_parameter_space(
    mode: str, speed_factor: float, ic_angle: float, asym: float, seed: int
) -> None:
    speed = 2.5 + 3.5 * speed_factor if mode == "run" else 1.0 + 0.6 * speed_factor
    run = simulate_run(
        seed=seed,
        mode=mode,
        speed_mps=speed,
        shank_angle_ic_deg=ic_angle,
        step_time_asym=asym,
        contact_time_asym=asym,
        duration_s=10.0,
        stand_s=1.0,
        ramp_s=1.0,
    )
    tr = _steady_both(run)
    assert len(tr) >= 6
    assert tr[C.SPEED].mean() == pytest.approx(speed, rel=0.03)
    assert ((tr[C.DUTY_FACTOR] > 0.5) == (mode == "walk")).all()
    assert tr[C.SHANK_ANGLE_IC].mean() == pytest.approx(ic_angle, abs=1.5)
    assert (np.diff(run.world["left"]["ankle_pos"][:, 0]) >= -1e-9).all()  # the ankle never moves backwards
    assert (run.world["left"]["ankle_pos"][:, 2] >= run.params.ankle_height_m - 1e-9).all()
    for side in C.SIDES:
        assert np.isfinite(run.sensor(side)["acc"]).all()
