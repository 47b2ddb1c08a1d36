"""Per-stride kinematics: quaternion scan, shank stride length and angle on synthetic runs, gaitmap and Fukuchi."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gait import conventions as C
from gait.events import events_find
from gait.kinematics import _qmul, quat_prefix_product, stride_kinematics
from gait.preprocess import imu_preprocess
from gait.synth import simulate_run


def test_quaternion_prefix_product_matches_sequential() -> None:
    rng = np.random.default_rng(0)
    q = rng.normal(size=(3, 37, 4))
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    ref = q.copy()
    for j in range(1, q.shape[1]):
        ref[:, j] = _qmul(ref[:, j - 1], q[:, j])
    np.testing.assert_allclose(quat_prefix_product(q), ref, atol=1e-12)


def _kin(run, side, **kw):
    d = run.sensor(side)
    p = imu_preprocess(run.true_time(side, d["t"]), d["acc"], d["gyr"], side=side, fs=run.sample_rate_hz)
    ev = events_find(p.frame, p.fs).events
    k = stride_kinematics(p.frame, ev, p.fs, side=side, **kw)
    return ev, k


def _errors(run, side, ev, k, col):
    t = run.truth[(run.truth[C.SIDE] == side) & run.truth[C.VALID]]
    det = ev[C.IC_TIME].to_numpy()
    j = np.abs(det[:, None] - t[C.IC_TIME].to_numpy()[None, :]).argmin(axis=0)
    return k.per_stride[col].to_numpy()[j] - t[col].to_numpy(), t[col].to_numpy()


@pytest.mark.parametrize(("speed", "load"), [(2.5, 0.0), (4.0, 2.5), (6.0, 1.0)])
def test_synthetic_shank_angle_at_ic_within_1_5_deg(speed: float, load: float) -> None:
    run = simulate_run(duration_s=30, stand_s=3, seed=11, speed_mps=speed, ankle_load_kg=load)
    for side in C.SIDES:
        ev, k = _kin(run, side)
        err, _ = _errors(run, side, ev, k, C.SHANK_ANGLE_IC)
        assert np.nanmedian(np.abs(err)) < 1.5, side
        assert abs(np.nanmedian(err)) < 1.0, side


@pytest.mark.parametrize(("speed", "load"), [(2.5, 0.0), (4.0, 2.5), (6.0, 1.0)])
def test_synthetic_stride_length(speed: float, load: float) -> None:
    run = simulate_run(duration_s=30, stand_s=3, seed=11, speed_mps=speed, ankle_load_kg=load)
    for side in C.SIDES:
        ev, k = _kin(run, side)
        err, ref = _errors(run, side, ev, k, C.STRIDE_LENGTH)
        rel = err / ref
        assert np.isfinite(rel).mean() > 0.9
        # measured 2026-11 (generator with push-off, radius refitted over the quiet 35-50 % of contact: the ankle
        # rolls until heel-off at 35 %, see gait.kinematics): median -1.9 .. -0.4 % per leg (was +3.8 .. +4.6 %)
        assert abs(np.nanmedian(rel)) < 0.025, side
        assert k.info["ankle_to_sensor_source"] != "default" and not k.warnings, side


def test_synthetic_stride_length_exact_without_ankle_roll() -> None:
    """With the ankle fixed in stance and the pendulum radius known, the Li/Yang reset is within 2 %."""
    run = simulate_run(duration_s=30, stand_s=3, seed=5, stance_roll_m=0.0)
    for side in C.SIDES:
        ev, k = _kin(run, side, ankle_to_sensor_m=float(run.sensor_offset_m[side][2]))
        err, ref = _errors(run, side, ev, k, C.STRIDE_LENGTH)
        assert abs(np.nanmedian(err / ref)) < 0.02


def test_synthetic_peak_tibial_acceleration() -> None:
    run = simulate_run(duration_s=30, stand_s=3, seed=4, impact_g=10.0)
    ev, k = _kin(run, "left")
    err, ref = _errors(run, "left", ev, k, C.PEAK_TIBIAL_ACCEL)
    # sampled at 200 Hz, the 25 Hz transient's peak is under-read by a few per cent
    assert abs(np.nanmedian(err / ref)) < 0.12


@pytest.mark.shared_data
def test_gaitmap_foot_stride_length_vs_motion_capture(shared_data) -> None:
    from gait.io.public import GAITMAP_FS_HZ, read_gaitmap_imu

    folder = shared_data / "gaitmap_example_foot_walking"
    imu = read_gaitmap_imu(folder / "imu_sample_not_rotated.csv")
    ref = pd.read_csv(folder / "stride_events_sample.csv")
    pos = pd.read_csv(folder / "position_sample.csv", index_col=[0, 1, 2])
    fs = GAITMAP_FS_HZ
    abs_err = []
    for side in C.SIDES:
        d = imu[side]
        p = imu_preprocess(d["t"], d["acc"], d["gyr"], side=side, fs=fs, placement="foot")
        ev = events_find(p.frame, fs, placement="foot").events
        k = stride_kinematics(p.frame, ev, fs, placement="foot", side=side).per_stride
        last = pos.loc[f"{side}_sensor"].groupby(level=0).last()
        ref_sl = np.hypot(last["pos_x"], last["pos_y"])
        r = ref[ref["foot"] == side].set_index("s_id")
        nic = ev["next_ic_idx"].to_numpy()
        for sid, row in r.iterrows():
            j = int(np.argmin(np.abs(nic - row["ic"])))
            if abs(nic[j] - row["ic"]) < 30 and np.isfinite(k[C.STRIDE_LENGTH].iloc[j]):
                abs_err.append(abs(k[C.STRIDE_LENGTH].iloc[j] - ref_sl.loc[sid]))
        assert k[C.FOOT_ANGLE_IC].median() == pytest.approx(28, abs=10)  # heel strike, toes up
    assert len(abs_err) >= 50
    # the target is 3 cm (gaitmap's own pipelines: 3.7-4.2 cm); measured 1.4 cm with the ZUPT fit of a
    # velocity step at IC (3.8 cm when the velocity drift was spread linearly over the stride)
    assert np.mean(abs_err) < 0.02


@pytest.mark.shared_data
def test_fukuchi_virtual_shank_angle_and_stride_length(shared_data) -> None:
    try:
        from tests.fukuchi_virtual import ALL_TRIALS, virtual_trial
    except ImportError:
        from fukuchi_virtual import ALL_TRIALS, virtual_trial

    for name in ALL_TRIALS:
        tr = virtual_trial(name)
        for side in C.SIDES:
            d = tr.imu[side]
            p = imu_preprocess(d["t"], d["acc"], d["gyr"], side=side, fs=tr.fs)
            ev = events_find(p.frame, p.fs).events
            k = stride_kinematics(p.frame, ev, p.fs, side=side, standing_angle_deg=tr.standing_angle_deg[side])
            r = tr.reference(side)
            det = ev[C.IC_TIME].to_numpy() - tr.t_offset
            j = np.abs(det[:, None] - r[C.IC_TIME].to_numpy()[None, :]).argmin(axis=0)
            e_ang = k.per_stride[C.SHANK_ANGLE_IC].to_numpy()[j] - r[C.SHANK_ANGLE_IC].to_numpy()
            assert np.nanmedian(np.abs(e_ang)) <= 2.0, (name, side)
            sl = np.nanmedian(k.per_stride[C.STRIDE_LENGTH].to_numpy()[j])
            # treadmill: reference = nominal belt speed x stride time (the feet markers move at the nominal belt
            # speed within 1 % in mid-stance); measured 2026-11: -3.0 .. +8.0 % per leg (the pendulum radius is
            # poorly identified, see gait.kinematics); the 3 % target is an xfail in test_analysis
            assert sl == pytest.approx(r[C.STRIDE_LENGTH].median(), rel=0.10), (name, side)
