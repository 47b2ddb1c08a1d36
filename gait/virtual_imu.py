"""Virtual IMUs: what a sensor strapped to a rigid segment would read, computed from motion capture.

Why: motion-capture datasets (e.g. Fukuchi 2017 treadmill running) have no IMU, but they have a marker cluster
on each shank and reference events from a force plate. Carrying a chosen sensor site and mounting along the
fitted cluster gives the specific force ``R^T (p'' + g up)`` and the angular rate ``vee(R^T R')`` that a
strapped IMU would measure, in its own (raw) axes, so the whole analysis engine can be validated against
force-plate events.

Pipeline (all vectorized over frames):

1. gaps in marker trajectories are linearly interpolated, markers are low-passed (Butterworth, zero-phase
   ``filtfilt``, 20 Hz by default) *before* anything is differentiated;
2. a least-squares rigid fit (Kabsch / Procrustes, batched SVD) of the static-trial cluster to every frame
   gives the segment pose ``x = R s + t`` (static lab -> running lab);
3. the sensor pose is ``R_s = R A M`` (``A``: segment anatomical axes in the static trial, ``M``: mounting,
   sensor axes in the segment frame) and its site ``p = R site + t``;
4. an optional quiet-standing prefix in the static pose is prepended, and the running motion is *faded in*
   over ``transition_s`` (see :func:`virtual_imu`);
5. the pose is resampled to the IMU rate with a quintic position spline and a rotation spline
   (:class:`scipy.spatial.transform.RotationSpline`), whose analytic derivatives give ``p''`` and the
   body-frame angular rate;
6. optional white noise, constant bias and a random mounting misalignment.

No impact transient is invented: the specific force is as smooth as the low-passed markers allow, so do not
validate tibial-shock magnitudes with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import make_interp_spline
from scipy.signal import butter, filtfilt
from scipy.spatial.transform import Rotation, RotationSpline

from gait.conventions import GRAVITY

__all__ = [
    "SegmentFrame",
    "fill_gaps",
    "lowpass",
    "minimum_jerk",
    "random_mounting",
    "rigid_fit",
    "shank_frame",
    "virtual_imu",
]

FloatArray = NDArray[np.float64]
AxisSpec = int | Literal["x", "y", "z"] | ArrayLike


# --- generic helpers ----------------------------------------------------------------------------------------


def lowpass(x: ArrayLike, fs: float, cutoff_hz: float, order: int = 4, axis: int = 0) -> FloatArray:
    """Zero-phase Butterworth low-pass (``filtfilt``) along ``axis``; the data must be finite."""
    x = np.asarray(x, dtype=float)
    if not 0 < cutoff_hz < fs / 2:
        raise ValueError(f"cutoff {cutoff_hz} Hz must lie between 0 and the Nyquist frequency {fs / 2} Hz")
    b, a = butter(order, cutoff_hz / (fs / 2))
    return filtfilt(b, a, x, axis=axis)


def fill_gaps(x: ArrayLike, axis: int = 0) -> tuple[FloatArray, int]:
    """Linearly interpolate NaNs along ``axis`` (edges held); columns that are all NaN stay NaN.

    Returns the filled copy and the number of values that were filled.
    """
    x = np.array(x, dtype=float)
    moved = np.moveaxis(x, axis, 0)
    flat = moved.reshape(moved.shape[0], -1)
    bad = ~np.isfinite(flat)
    n_filled = 0
    idx = np.arange(flat.shape[0])
    for j in np.flatnonzero(bad.any(axis=0) & ~bad.all(axis=0)):  # loop over channels with gaps only
        good = ~bad[:, j]
        flat[~good, j] = np.interp(idx[~good], idx[good], flat[good, j])
        n_filled += int((~good).sum())
    return np.moveaxis(flat.reshape(moved.shape), 0, axis), n_filled


def minimum_jerk(tau: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Minimum-jerk ramp ``s = 10 tau^3 - 15 tau^4 + 6 tau^5`` on [0, 1] and its first two derivatives."""
    tau = np.clip(np.asarray(tau, dtype=float), 0.0, 1.0)
    s = tau**3 * (10 - 15 * tau + 6 * tau**2)
    ds = 30 * tau**2 * (1 - tau) ** 2
    dds = 60 * tau * (1 - tau) * (1 - 2 * tau)
    return s, ds, dds


def _unit(v: ArrayLike) -> FloatArray:
    v = np.asarray(v, dtype=float)
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    if np.any(n == 0):
        raise ValueError("cannot normalise a zero-length vector")
    return v / n


def _up_vector(up: AxisSpec) -> FloatArray:
    if isinstance(up, str):
        if up not in ("x", "y", "z"):
            raise ValueError(f"up axis must be 'x', 'y', 'z' or a vector, but got {up!r}")
        up = "xyz".index(up)
    if isinstance(up, int | np.integer):
        v = np.zeros(3)
        v[int(up)] = 1.0
        return v
    return _unit(up)


def _as_matrix(rot: Rotation | ArrayLike | None) -> FloatArray:
    if rot is None:
        return np.eye(3)
    if isinstance(rot, Rotation):
        return rot.as_matrix()
    m = np.asarray(rot, dtype=float)
    if m.shape != (3, 3) or not np.allclose(m @ m.T, np.eye(3), atol=1e-6) or np.linalg.det(m) < 0:
        raise ValueError("a rotation must be a scipy Rotation or a proper 3x3 rotation matrix")
    return m


# --- rigid fit ----------------------------------------------------------------------------------------------


def rigid_fit(reference: ArrayLike, frames: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Least-squares rigid transform of a marker cluster, per frame (Kabsch / Procrustes, batched SVD).

    Parameters
    ----------
    reference : (n_markers, 3)
        Cluster positions in the reference (static) pose.
    frames : (n_frames, n_markers, 3)
        Cluster positions per frame; NaN markers get zero weight in that frame.

    Returns
    -------
    R : (n_frames, 3, 3) and t : (n_frames, 3) with ``frames[k, i] ~= R[k] @ reference[i] + t[k]``.
    Frames with fewer than 3 valid markers are NaN.
    """
    ref = np.asarray(reference, dtype=float)
    x = np.asarray(frames, dtype=float)
    if x.ndim == 2:
        x = x[None]
    if ref.ndim != 2 or ref.shape[1] != 3 or x.shape[1:] != ref.shape:
        raise ValueError(f"shape mismatch: reference {ref.shape}, frames {x.shape} (want (m,3) and (n,m,3))")
    w = (np.isfinite(x).all(axis=2) & np.isfinite(ref).all(axis=1)).astype(float)  # (n, m)
    x0 = np.where(w[..., None] > 0, x, 0.0)
    r0 = np.where(np.isfinite(ref), ref, 0.0)
    wsum = w.sum(axis=1)  # (n,)
    ok = wsum >= 3
    wsafe = np.where(ok, wsum, 1.0)
    c_ref = np.einsum("nm,mj->nj", w, r0) / wsafe[:, None]
    c_x = np.einsum("nm,nmj->nj", w, x0) / wsafe[:, None]
    a = r0[None] - c_ref[:, None, :]
    b = x0 - c_x[:, None, :]
    h = np.einsum("nm,nmi,nmj->nij", w, a, b)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.einsum("nji,nkj->nik", vt, u)))  # det(V U^T)
    d = np.where(d == 0, 1.0, d)
    dmat = np.zeros_like(h)
    dmat[:, 0, 0] = 1.0
    dmat[:, 1, 1] = 1.0
    dmat[:, 2, 2] = d
    rot = np.einsum("nji,njk,nlk->nil", vt, dmat, u)  # V D U^T
    t = c_x - np.einsum("nij,nj->ni", rot, c_ref)
    rot[~ok] = np.nan
    t[~ok] = np.nan
    return rot, t


# --- anatomical frame ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentFrame:
    """An anatomical segment frame in the static trial (lab coordinates, metres).

    ``axes`` has the anatomical unit axes as columns (x forward, y left, z up the segment), ``proximal`` and
    ``distal`` are the joint centres (knee and ankle for the shank), ``origin`` is the distal joint centre.
    """

    origin: FloatArray
    axes: FloatArray
    proximal: FloatArray
    distal: FloatArray

    @property
    def length(self) -> float:
        """Distance between the joint centres (m)."""
        return float(np.linalg.norm(self.proximal - self.distal))

    def to_lab(self, local: ArrayLike) -> FloatArray:
        """A point given in this frame (relative to ``origin``) in lab coordinates."""
        return self.origin + self.axes @ np.asarray(local, dtype=float)

    def site(self, fraction: float = 1 / 3, offset: ArrayLike = (0.0, 0.0, 0.0)) -> FloatArray:
        """A point ``fraction`` of the way from the distal to the proximal joint centre, plus ``offset``.

        ``offset`` is in the segment frame (m), e.g. ``(0.0, -0.05, 0.0)`` puts a right-leg sensor 5 cm
        lateral of the tibial axis (y points to the left).
        """
        return self.distal + fraction * (self.proximal - self.distal) + self.axes @ np.asarray(offset, float)


def shank_frame(
    knee_lateral: ArrayLike,
    knee_medial: ArrayLike,
    ankle_lateral: ArrayLike,
    ankle_medial: ArrayLike,
    side: Literal["left", "right"],
) -> SegmentFrame:
    """Shank anatomical frame from the epicondyle and malleolus markers of a static trial.

    Joint centres are the midpoints of the epicondyles (knee) and of the malleoli (ankle). ``z`` points from
    the ankle to the knee joint centre (up the tibia), ``y`` to the runner's left (lateral-to-medial on the
    right leg, medial-to-lateral on the left), orthogonalised against ``z``, and ``x = y x z`` forward:
    right-handed and the same on both legs, as in :mod:`gait.conventions`. Inputs may be (3,) points or (n, 3)
    frames (NaN-averaged).
    """
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', but got {side!r}")

    def mean(p: ArrayLike) -> FloatArray:
        p = np.asarray(p, dtype=float)
        return np.nanmean(p.reshape(-1, 3), axis=0)

    kl, km, al, am = (mean(p) for p in (knee_lateral, knee_medial, ankle_lateral, ankle_medial))
    knee = (kl + km) / 2
    ankle = (al + am) / 2
    z = _unit(knee - ankle)
    lat_to_med = ((km - kl) + (am - al)) / 2
    y_raw = lat_to_med if side == "right" else -lat_to_med
    x = _unit(np.cross(y_raw, z))
    y = np.cross(z, x)
    return SegmentFrame(origin=ankle, axes=np.column_stack([x, y, z]), proximal=knee, distal=ankle)


def random_mounting(
    rng: np.random.Generator,
    *,
    azimuth_deg: tuple[float, float] = (-180.0, 180.0),
    tilt_deg: float = 10.0,
    any_orientation: bool = True,
) -> tuple[FloatArray, FloatArray]:
    """A plausible random strap mounting.

    The sensor lies flat on the skin at a random azimuth around the segment's long axis (its face normal is
    radial), is rotated in its own plane by a random multiple of 90 deg and possibly flipped
    (``any_orientation``: the printed axes may point any way), and tilted by up to ``tilt_deg`` about a random
    axis.

    Returns
    -------
    mounting : (3, 3)
        Sensor axes (columns) in the segment frame, for :func:`virtual_imu`.
    normal : (3,)
        The outward radial direction at the chosen azimuth in the segment frame; use ``radius * normal`` as
        the site offset (:meth:`SegmentFrame.site`) so the sensor sits on the surface, not on the bone axis.
    """
    az = np.deg2rad(rng.uniform(*azimuth_deg))
    normal = np.array([np.cos(az), np.sin(az), 0.0])
    up = np.array([0.0, 0.0, 1.0])
    base = np.column_stack([up, np.cross(normal, up), normal])  # sensor x up the segment, z outward
    if any_orientation:
        in_plane = Rotation.from_rotvec(np.array([0.0, 0.0, 1.0]) * (np.pi / 2) * rng.integers(4)).as_matrix()
        flip = Rotation.from_rotvec(np.array([1.0, 0.0, 0.0]) * np.pi * rng.integers(2)).as_matrix()
        base = base @ in_plane @ flip
    return _random_small_rotation(rng, tilt_deg) @ base, normal


def _random_small_rotation(rng: np.random.Generator, max_deg: float) -> FloatArray:
    if max_deg <= 0:
        return np.eye(3)
    axis = _unit(rng.normal(size=3))
    angle = np.deg2rad(rng.uniform(0.0, max_deg))
    return Rotation.from_rotvec(axis * angle).as_matrix()


# --- the virtual IMU ----------------------------------------------------------------------------------------


def virtual_imu(
    markers: ArrayLike,
    static_markers: ArrayLike,
    site: ArrayLike,
    mounting: Rotation | ArrayLike | None,
    fs_markers: float,
    fs_imu: float = 200.0,
    *,
    segment_axes: ArrayLike | None = None,
    up: AxisSpec = "z",
    cutoff_hz: float = 20.0,
    filter_order: int = 4,
    standing_s: float = 0.0,
    transition_s: float = 1.0,
    acc_noise: float = 0.0,
    gyr_noise: float = 0.0,
    acc_bias: ArrayLike | None = None,
    gyr_bias: ArrayLike | None = None,
    misalignment_deg: float = 0.0,
    rng: np.random.Generator | int | None = None,
    gravity: float = GRAVITY,
) -> dict[str, object]:
    """Specific force and angular rate of a virtual IMU carried by a rigid marker cluster.

    Parameters
    ----------
    markers : (n_frames, n_markers, 3)
        Cluster trajectories in metres, any lab frame; NaN gaps are interpolated.
    static_markers : (n_markers, 3) or (n_static_frames, n_markers, 3)
        The same markers in the static trial (NaN-averaged over frames); defines the reference pose.
    site : (3,)
        Sensor position in the static trial's lab frame (m), e.g. ``shank_frame(...).site(1/3)``.
    mounting : 3x3 / Rotation / None
        Sensor axes (columns) expressed in the segment frame ``segment_axes`` (identity: sensor = segment
        axes).
    fs_markers, fs_imu : float
        Marker and output sampling rates (Hz).
    segment_axes : (3, 3), optional
        Segment anatomical axes (columns) in the static lab frame, e.g. ``shank_frame(...).axes``; default:
        the lab axes.
    up : 'x' | 'y' | 'z' | int | (3,)
        The lab's up direction (gravity points the other way).
    cutoff_hz, filter_order
        Butterworth low-pass applied to the markers before the fit (zero phase).
    standing_s : float
        Seconds of quiet standing in the static pose before the motion (0: none). The running motion is then
        faded in over the first ``transition_s`` seconds of the trial: pose = static pose blended towards the
        running pose with a minimum-jerk weight ``s(t)`` (positions about the trial's mean site position,
        orientations by slerp). This keeps position, velocity and acceleration continuous, so no fake spike is
        created; the signals inside the fade are not realistic and should be left out of a validation
        (``result["transition_end_s"]``). Running frame ``k`` is at IMU time ``standing_s + k / fs_markers``.
    acc_noise, gyr_noise : float
        Standard deviation of white noise (m/s², rad/s).
    acc_bias, gyr_bias : (3,), optional
        Constant biases in the sensor frame (m/s², rad/s).
    misalignment_deg : float
        Extra random rotation of the sensor (random axis, angle uniform up to this) on top of ``mounting``.
    rng : Generator | int | None
        Randomness for the noise and the misalignment.

    Returns
    -------
    dict with ``t`` (N,) s, ``acc`` (N, 3) m/s², ``gyr`` (N, 3) rad/s in the sensor frame, and for checking:
    ``t_offset_s`` (IMU time of running frame 0), ``transition_end_s``, ``mounting`` (the actual sensor axes
    in the segment frame, misalignment included), ``position`` (N, 3) lab m and ``orientation`` (N, 4)
    quaternions (x, y, z, w; sensor to lab), ``n_filled`` (marker values interpolated).
    """
    rng = np.random.default_rng(rng)
    x = np.asarray(markers, dtype=float)
    if x.ndim != 3 or x.shape[2] != 3 or x.shape[0] < 10:
        raise ValueError(f"markers must be (n_frames >= 10, n_markers, 3), but got shape {x.shape}")
    static = np.asarray(static_markers, dtype=float)
    if static.ndim == 3:
        static = np.nanmean(static, axis=0)
    if static.shape != x.shape[1:]:
        raise ValueError(f"static markers {static.shape} do not match the cluster {x.shape[1:]}")
    if fs_imu <= 0 or fs_markers <= 0:
        raise ValueError("sampling rates must be positive")
    g_up = gravity * _up_vector(up)
    a_seg = _as_matrix(segment_axes) if segment_axes is not None else np.eye(3)
    m_mount = _as_matrix(mounting) @ _random_small_rotation(rng, misalignment_deg)
    r_sensor_static = a_seg @ m_mount  # sensor axes in the static lab frame
    site = np.asarray(site, dtype=float)

    # 1) fill and filter markers, 2) rigid fit
    x, n_filled = fill_gaps(x, axis=0)
    usable = np.isfinite(x).all(axis=(0, 2))
    if usable.sum() < 3:
        raise ValueError("fewer than 3 markers of the cluster have any data")
    x_f = np.full_like(x, np.nan)
    x_f[:, usable] = lowpass(x[:, usable], fs_markers, cutoff_hz, filter_order, axis=0)
    rot_fit, t_fit = rigid_fit(np.where(usable[:, None], static, np.nan), x_f)
    if not np.isfinite(rot_fit).all():
        raise ValueError("the rigid fit failed in some frames (fewer than 3 usable markers)")

    # 3) sensor pose at marker rate
    r_run = np.einsum("nij,jk->nik", rot_fit, r_sensor_static)
    p_run = np.einsum("nij,j->ni", rot_fit, site) + t_fit
    n_run = len(p_run)

    # 4) optional standing prefix and fade-in
    n_pre = int(round(standing_s * fs_markers)) if standing_s > 0 else 0
    t_offset = n_pre / fs_markers
    transition_end = t_offset
    if n_pre:
        n_tr = min(max(int(round(transition_s * fs_markers)), 2), n_run)
        transition_end = t_offset + (n_tr - 1) / fs_markers
        s, _, _ = minimum_jerk(np.arange(n_tr) / (n_tr - 1))
        p_c = p_run.mean(axis=0)
        p_run = p_run.copy()
        p_run[:n_tr] = p_c + s[:, None] * (p_run[:n_tr] - p_c)
        q_static = Rotation.from_matrix(r_sensor_static)
        rel = (q_static.inv() * Rotation.from_matrix(r_run[:n_tr])).as_rotvec()
        r_run = r_run.copy()
        r_run[:n_tr] = (q_static * Rotation.from_rotvec(rel * s[:, None])).as_matrix()
        p_all = np.concatenate([np.repeat(p_c[None], n_pre, axis=0), p_run])
        r_all = np.concatenate([np.repeat(r_sensor_static[None], n_pre, axis=0), r_run])
    else:
        p_all, r_all = p_run, r_run
    t_m = np.arange(len(p_all)) / fs_markers

    # 5) resample with analytic derivatives
    n_imu = int(np.floor(t_m[-1] * fs_imu + 1e-9)) + 1
    t = np.arange(n_imu) / fs_imu
    pos_spline = make_interp_spline(t_m, p_all, k=5)
    p = pos_spline(t)
    p_dd = pos_spline.derivative(2)(t)
    rot_spline = RotationSpline(t_m, Rotation.from_matrix(r_all))
    q = rot_spline(t)
    gyr = rot_spline(t, 1)  # body-frame angular rate = R^T R' (sensor frame)
    acc = q.inv().apply(p_dd + g_up)

    # 6) sensor errors
    if acc_bias is not None:
        acc = acc + np.asarray(acc_bias, dtype=float)
    if gyr_bias is not None:
        gyr = gyr + np.asarray(gyr_bias, dtype=float)
    if acc_noise > 0:
        acc = acc + rng.normal(0.0, acc_noise, acc.shape)
    if gyr_noise > 0:
        gyr = gyr + rng.normal(0.0, gyr_noise, gyr.shape)
    return {
        "t": t,
        "acc": acc,
        "gyr": gyr,
        "t_offset_s": t_offset,
        "transition_end_s": transition_end,
        "mounting": m_mount,
        "position": p,
        "orientation": q.as_quat(),
        "n_filled": n_filled,
    }
