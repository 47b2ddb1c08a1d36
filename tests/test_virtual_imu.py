"""Physics of the virtual IMU: analytic motion, frames, mounting, standing prefix, Fukuchi plausibility."""

from __future__ import annotations

import numpy as np
import pytest
from conftest_shared import fukuchi_trials_readable, requires_shared
from scipy.spatial.transform import Rotation

from gait.conventions import GRAVITY
from gait.virtual_imu import lowpass, minimum_jerk, random_mounting, rigid_fit, shank_frame, virtual_imu

FUKUCHI = "fukuchi2017_running_treadmill"

# a 4-marker cluster (segment frame, m) and a sensor site
CLUSTER = np.array([[0.05, 0.03, 0.20], [-0.04, 0.05, 0.22], [0.05, -0.03, 0.10], [-0.03, -0.05, 0.08]])
SITE = np.array([0.0, 0.04, 0.12])


def _pose(t: np.ndarray) -> tuple[Rotation, np.ndarray]:
    """Smooth analytic segment motion: rotation and origin position."""
    eul = np.column_stack(
        [
            0.8 * np.sin(2 * np.pi * 1.5 * t),
            0.5 * np.sin(2 * np.pi * 3 * t + 1),
            0.2 * np.sin(2 * np.pi * 2 * t),
        ]
    )
    p0 = np.column_stack(
        [
            0.3 * np.sin(2 * np.pi * 1.4 * t),
            0.1 * np.cos(2 * np.pi * 2.8 * t),
            1 + 0.05 * np.sin(2 * np.pi * 4.2 * t),
        ]
    )
    return Rotation.from_euler("zxy", eul), p0


def _markers(fs: float, duration: float) -> np.ndarray:
    t = np.arange(int(duration * fs)) / fs
    rot, p0 = _pose(t)
    return np.einsum("nij,mj->nmi", rot.as_matrix(), CLUSTER) + p0[:, None, :]


def _analytic(t: np.ndarray, mounting: np.ndarray, h: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Specific force and body angular rate of the sensor from the analytic motion (central differences)."""

    def sensor(tt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rot, p0 = _pose(tt)
        return rot.as_matrix() @ mounting, rot.apply(SITE) + p0

    rs, p = sensor(t)
    rp, pp = sensor(t + h)
    rm, pm = sensor(t - h)
    acc = np.einsum("nji,nj->ni", rs, (pp - 2 * p + pm) / h**2 + np.array([0, 0, GRAVITY]))
    w = np.einsum("nji,njk->nik", rs, (rp - rm) / (2 * h))
    return acc, np.column_stack([w[:, 2, 1], w[:, 0, 2], w[:, 1, 0]])


def test_analytic_rigid_motion_is_reproduced() -> None:
    fs = 150.0
    mounting = Rotation.from_euler("xyz", [10, -120, 35], degrees=True).as_matrix()
    out = virtual_imu(_markers(fs, 6.0), CLUSTER, SITE, mounting, fs, 200.0, up="z", cutoff_hz=30.0)
    assert out["t"][1] == pytest.approx(1 / 200)
    acc_ref, gyr_ref = _analytic(out["t"], mounting)
    inner = slice(200, -200)  # filtfilt edges of a motion that does not start at rest
    assert np.abs(out["acc"] - acc_ref)[inner].max() < 0.01 * np.abs(acc_ref).max()
    assert np.abs(out["gyr"] - gyr_ref)[inner].max() < 0.01 * np.abs(gyr_ref).max()


def test_rigid_fit_recovers_pose_and_tolerates_missing_markers() -> None:
    rng = np.random.default_rng(3)
    rot = Rotation.random(50, random_state=4)
    t = rng.normal(size=(50, 3))
    x = np.einsum("nij,mj->nmi", rot.as_matrix(), CLUSTER) + t[:, None, :]
    x[::5, 1] = np.nan  # one marker missing in every fifth frame
    r_fit, t_fit = rigid_fit(CLUSTER, x)
    np.testing.assert_allclose(r_fit, rot.as_matrix(), atol=1e-9)
    np.testing.assert_allclose(t_fit, t, atol=1e-9)
    assert np.allclose(np.linalg.det(r_fit), 1.0)
    x[0, :2] = np.nan  # fewer than three markers: NaN pose
    r_fit, _ = rigid_fit(CLUSTER, x)
    assert np.isnan(r_fit[0]).all() and np.isfinite(r_fit[1:]).all()


@pytest.mark.parametrize("side", ["left", "right"])
def test_shank_frame_axes(side: str) -> None:
    # lab: x forward, y left, z up; the lateral side is +y on the left leg and -y on the right leg
    lat = 1.0 if side == "left" else -1.0
    knee_lat, knee_med = np.array([0.02, 0.05 * lat, 0.5]), np.array([0.02, -0.05 * lat, 0.5])
    ankle_lat, ankle_med = np.array([0.0, 0.035 * lat, 0.08]), np.array([0.0, -0.035 * lat, 0.08])
    f = shank_frame(knee_lat, knee_med, ankle_lat, ankle_med, side)
    np.testing.assert_allclose(f.axes.T @ f.axes, np.eye(3), atol=1e-12)
    assert np.linalg.det(f.axes) == pytest.approx(1.0)
    assert f.axes[0, 0] > 0.99 and f.axes[1, 1] > 0.99 and f.axes[2, 2] > 0.99  # x fwd, y left, z up
    np.testing.assert_allclose(f.site(1 / 3), [0.02 / 3, 0.0, 0.08 + 0.42 / 3], atol=1e-12)
    assert f.length == pytest.approx(np.hypot(0.02, 0.42))


def test_mounting_round_trip() -> None:
    fs = 150.0
    mk = _markers(fs, 4.0)
    mounting = random_mounting(np.random.default_rng(7))[0]
    base = virtual_imu(mk, CLUSTER, SITE, None, fs, 100.0)
    mounted = virtual_imu(mk, CLUSTER, SITE, mounting, fs, 100.0)
    np.testing.assert_allclose(mounted["mounting"], mounting)
    # rotating the mounted readings back into the segment axes gives the unmounted readings
    np.testing.assert_allclose(mounted["acc"] @ mounting.T, base["acc"], atol=1e-9)
    np.testing.assert_allclose(mounted["gyr"] @ mounting.T, base["gyr"], atol=1e-9)


def test_random_mounting_is_a_rotation_facing_outward() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        m, normal = random_mounting(rng, tilt_deg=0.0)
        assert np.allclose(m.T @ m, np.eye(3)) and np.linalg.det(m) == pytest.approx(1.0)
        assert np.isclose(np.abs(m.T @ normal).max(), 1.0)  # one sensor axis is the skin normal
        assert normal[2] == 0.0


def test_standing_prefix_noise_bias_and_no_spike() -> None:
    fs = 150.0
    bias_a, bias_g = np.array([0.1, -0.2, 0.05]), np.array([0.01, 0.0, -0.02])
    out = virtual_imu(
        _markers(fs, 6.0),
        CLUSTER,
        SITE,
        None,
        fs,
        200.0,
        standing_s=2.0,
        transition_s=1.0,
        acc_bias=bias_a,
        gyr_bias=bias_g,
    )
    t = out["t"]
    assert out["t_offset_s"] == pytest.approx(2.0) and out["transition_end_s"] == pytest.approx(3.0, abs=0.01)
    still = t < 1.95
    np.testing.assert_allclose(np.linalg.norm(out["acc"][still] - bias_a, axis=1), GRAVITY, atol=1e-6)
    np.testing.assert_allclose(out["gyr"][still], np.broadcast_to(bias_g, out["gyr"][still].shape), atol=1e-6)
    fade = (t >= 2.0) & (t <= 3.0)
    later = (t > 3.2) & (t < t[-1] - 0.3)
    # fading in never exceeds the motion itself (no fake spike at the junction)
    assert np.abs(out["acc"][fade]).max() <= 1.05 * np.abs(out["acc"][later]).max()
    assert np.abs(out["gyr"][fade]).max() <= 1.05 * np.abs(out["gyr"][later]).max()
    noisy = virtual_imu(
        _markers(fs, 6.0),
        CLUSTER,
        SITE,
        None,
        fs,
        200.0,
        standing_s=2.0,
        acc_noise=0.05,
        gyr_noise=0.01,
        rng=1,
    )
    assert np.std(noisy["gyr"][still], axis=0) == pytest.approx([0.01] * 3, rel=0.1)


def test_helpers_validate_input() -> None:
    s, ds, dds = minimum_jerk(np.array([0.0, 0.5, 1.0]))
    np.testing.assert_allclose(s, [0, 0.5, 1])
    np.testing.assert_allclose(ds[[0, 2]], 0) and np.testing.assert_allclose(dds[[0, 2]], 0)
    with pytest.raises(ValueError, match="Nyquist"):
        lowpass(np.zeros(100), 100.0, 60.0)
    with pytest.raises(ValueError, match="markers must be"):
        virtual_imu(np.zeros((5, 4, 3)), CLUSTER, SITE, None, 150.0)
    with pytest.raises(ValueError, match="rotation"):
        virtual_imu(_markers(150.0, 1.0), CLUSTER, SITE, np.ones((3, 3)), 150.0)


# --- on real motion capture ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fukuchi_trials() -> dict:
    from gait.io.public import load_fukuchi_trial

    return {name: load_fukuchi_trial(name) for name in fukuchi_trials_readable()}


@requires_shared(FUKUCHI)
def test_fukuchi_standing_prefix_reads_gravity(fukuchi_trials: dict) -> None:
    from gait.validation import fukuchi_virtual_imus

    imus = fukuchi_virtual_imus(
        fukuchi_trials["RBDS008runT35"],
        rng=2,
        standing_s=3.0,
        acc_noise=0.0,
        gyr_noise=0.0,
        acc_bias_sd=0.0,
        gyr_bias_sd=0.0,
    )
    for imu in imus.values():
        still = imu["t"] < imu["t_offset_s"] - 0.05
        assert still.sum() > 500
        np.testing.assert_allclose(np.linalg.norm(imu["acc"][still], axis=1), GRAVITY, atol=1e-3)
        assert np.abs(imu["gyr"][still]).max() < 1e-4
        # random mounting: gravity is not simply on one sensor axis
        assert imu["mounting"].shape == (3, 3)


@requires_shared(FUKUCHI)
def test_fukuchi_signal_ranges_are_plausible(fukuchi_trials: dict) -> None:
    """The README measured p99 |w| 450-600 deg/s and p99 |a| 3.9-5.8 g (site on the tibial axis).

    Its throwaway script differentiated with finite differences, which damp the upper band by ~10 %; the
    spline derivative here keeps it, so |a| runs ~5 % higher: the bounds below are the README's widened by
    that much.
    """
    from gait.validation import fukuchi_virtual_imus

    for trial in fukuchi_trials.values():
        imus = fukuchi_virtual_imus(
            trial,
            mounting="aligned",
            skin_offset_m=0.0,
            standing_s=0.0,
            acc_noise=0.0,
            gyr_noise=0.0,
            acc_bias_sd=0.0,
            gyr_bias_sd=0.0,
        )
        for imu in imus.values():
            w99 = np.rad2deg(np.percentile(np.linalg.norm(imu["gyr"], axis=1), 99))
            a = np.linalg.norm(imu["acc"], axis=1) / GRAVITY
            assert 420 < w99 < 650, w99
            assert 3.6 < np.percentile(a, 99) < 6.4, np.percentile(a, 99)
            assert 1.5 < np.median(a) < 2.6


@requires_shared(FUKUCHI)
def test_fukuchi_gyr_ml_is_the_shank_angle_rate(fukuchi_trials: dict) -> None:
    """With the sensor on the anatomical axes, gyr_ml = -w_y must be the time derivative of the shank
    angle."""
    from gait.io.public import fukuchi_reference
    from gait.validation import fukuchi_virtual_imus

    trial = fukuchi_trials["RBDS001runT25"]
    ref = fukuchi_reference(trial)
    imus = fukuchi_virtual_imus(
        trial,
        mounting="aligned",
        standing_s=0.0,
        fs_imu=trial.fs_markers,
        acc_noise=0.0,
        gyr_noise=0.0,
        acc_bias_sd=0.0,
        gyr_bias_sd=0.0,
    )
    for side, imu in imus.items():
        rate = np.gradient(np.deg2rad(ref.shank_angle_deg[side]), 1 / trial.fs_markers)
        n = min(len(rate), len(imu["t"]))
        gyr_ml = -imu["gyr"][:n, 1]
        assert np.corrcoef(gyr_ml[50:-50], rate[50 : n - 50])[0, 1] > 0.97
        assert np.median(np.abs(gyr_ml[50:-50] - rate[50 : n - 50])) < 0.2
