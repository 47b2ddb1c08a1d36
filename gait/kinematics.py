"""Per-stride segment kinematics: orientation, velocity, stride length, speed, segment angle at contact, shock.

**Shank** (Li et al. 2010, Yang et al. 2011, adapted): a sagittal model, vectorized over strides.

1. ``phi = ∫ gyr_ml dt`` over each gap-free segment (tilt up to an unknown offset and slow gyro drift).
2. Per stride (mid-stance to next mid-stance) the offset ``c`` that makes the mean horizontal world acceleration
   zero: over a whole stride the mean of ``R(theta) f`` is exactly gravity at steady speed, so this needs no
   quasi-static instant. The offsets are interpolated between stride centres, which removes gyro drift linearly.
3. Specific force -> sagittal world frame (``x`` forward, ``z`` up), minus g; per-stride velocity by integration
   from the first stance, with an inverted-pendulum reset: during mid-stance the ankle is (nearly) fixed, so the
   sensor moves as ``r * theta' * (-cos theta, -sin theta)``; the per-stride initial velocity and linear velocity
   drift (per axis) are fitted to 25-55 % of both contacts of the stride; the ankle-to-sensor distance ``r`` is
   one per run: per stride the least-squares value over the horizontal *and* vertical velocity (the vertical adds
   the tibia's rotation through the vertical), then the median over strides. No foot-style zero-velocity
   assumption. When ``r`` fitted over 25-55 % is implausible, the ankle moves inside that window (synthetic runs:
   a 1.5 cm roll until heel-off at 35 % of contact, then the heel rises from ~50 %; ``r`` came out 0.01-0.02 m and
   the 0.08 m fallback gave +3.1 % stride length), and the fit and the reset move to the 15 %-of-contact window
   where the fixed-ankle model fits best (:data:`QUIET_WINDOWS`; synthetic: 35-50 %, misfit ~1 cm/s, stride
   length -1.0 %). The shank passes through the vertical at 12-20 % of contact on both the synthetic and the
   Fukuchi runs, i.e. while the synthetic ankle still rolls, so that is not used. The choice depends on the data
   only (not on a given ``r``), so a radius frozen from an earlier fit comes with the same window.

   Limits, measured on Fukuchi virtual IMUs (4 random mountings x 3 trials x 2 legs): the ankle is not fixed in
   stance (it rolls forward at ~0.1 m/s and decelerates in 20-30 % of contact; with the *true* sensor velocity
   in place of the integrated one the fit gives the same r), so ``r`` is an effective pivot distance identified
   only by the shape of the stance rotation, and it scatters by +-0.05 m between legs: stride length MAE 3.3 %
   per leg (sd of the leg bias 3.7 %); 1.6 % with ``r`` known (sensor height + ~2.5 cm: the pivot sits below
   the ankle while the foot rolls). :func:`gait.analyze` averages the two legs' speeds (pooled MAE 1.6-2.9 %).
   Tried and not kept: fitting a sideways and a forward sensor offset too (the tibia's axial rotation moves a
   sensor beside the bone; small gains, unphysical 0.1-0.2 m offsets), pooling the strides instead of the
   median, the horizontal velocity alone (what 4 m/s synthetic runs failed on: r fitted 0.21-0.30 m).
4. Stride length = horizontal displacement between consecutive mid-stances; speed = length / that time.

**Foot**: 3-D strapdown per stride with zero-velocity updates at mid-stance (the foot is still in walking):
initial tilt from gravity, orientation by quaternion products (a vectorized prefix product: Hillis-Steele doubling
over the padded strides), gravity removed. The velocity error is fitted to the zero-velocity windows around both
mid-stances (smoothed gyro norm < 20 deg/s) as a slow drift (tilt error: linear in time) plus a step at IC (the
heel-strike transient is not resolved at ~200 Hz; gaitmap walk: stride length MAE 3.8 cm with the error spread
linearly over the stride, 1.4 cm with the step), see :func:`_foot_velocity_error`.

**Shank angle at IC**: ``theta`` at IC in degrees, positive when the ankle is ahead of the knee. It is relative to
the tibia direction found by the alignment (gravity while standing: a tibia that leans when standing biases it by
that lean). **Foot angle at IC**: pitch of the heel-to-toe axis, toes up positive.

**Peak tibial acceleration**: the peak of the *resultant* specific force ``|acc|`` (gravity included, as a
strapped accelerometer reads it; orientation-independent, cf. Bradach 2023) in ``[IC, IC + 60 ms]``, in g.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.ndimage import uniform_filter1d

from gait import conventions as C
from gait.events import _window_arg, lowpass

__all__ = ["KinematicsResult", "quat_prefix_product", "stride_kinematics"]

#: Window after IC (s) for the peak tibial acceleration.
PTA_WINDOW_S = 0.06
#: Plausible ankle-to-sensor distance (m) for the pendulum reset; outside it the run value is not trusted.
R_RANGE = (0.02, 0.30)
#: Used when the fit fails and nothing is given: a typical distal-shank strap site (m above the ankle joint).
R_DEFAULT = 0.08
#: Part of the contact (fractions from IC) where the ankle is taken as fixed for the pendulum reset: the ankle is
#: quietest there (Fukuchi markers and the synthetic generator: it still decelerates from ~0.3 m/s at 20 %, the heel
#: rises from ~50 %); 20-50 % gave 4.2 % (Fukuchi, per leg) and 6.5 % (synthetic), 25-55 % 3.3 % and 3.9 %.
STANCE_FIT = (0.25, 0.55)
#: Candidate fit windows (fractions of contact) when the fit over STANCE_FIT is implausible: the one where the
#: fixed-ankle model fits best is used (synthetic runs with a 1.5 cm stance roll until heel-off at 35 % of contact:
#: the ankle moves over 25-35 %, and the fit there returned 0.01-0.02 m; 35-50 % fits it to 1 cm/s).
QUIET_WINDOWS = ((0.20, 0.35), (0.25, 0.40), (0.30, 0.45), (0.35, 0.50), (0.40, 0.55), (0.45, 0.60))
#: At most this many strides (evenly spread over the run) are used to fit the pendulum radius.
R_FIT_STRIDES = 400
#: Foot at rest (zero-velocity window around mid-stance): gyro norm, smoothed over FOOT_REST_SMOOTH_S, below this
#: (rad/s; 20 deg/s, inside the 0.3-0.6 rad/s of foot ZUPT detectors). gaitmap walk: 10-45 deg/s all give 1.3-1.5 cm.
FOOT_REST_GYR = np.deg2rad(20.0)
FOOT_REST_SMOOTH_S = 0.05
#: Ridge weight (s²) on the slow velocity-drift rate of the foot ZUPT fit, (velocity noise / prior drift rate)²
#: = (0.01 m/s / (g sin 2 deg))² ≈ 1e-3: rest windows of a few samples fall back to linear de-drifting.
FOOT_DRIFT_RIDGE = 1e-3


@dataclass
class KinematicsResult:
    """Per-stride kinematic metrics (aligned with the rows of the events table) and run-level info."""

    per_stride: pd.DataFrame
    info: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# --- helpers ------------------------------------------------------------------------------------------------
def _cumtrapz(x: np.ndarray, dt: float, axis: int = -1) -> np.ndarray:
    """Cumulative trapezoid integral starting at 0, same shape as ``x``."""
    x = np.moveaxis(x, axis, -1)
    out = np.zeros_like(x)
    out[..., 1:] = np.cumsum(0.5 * (x[..., 1:] + x[..., :-1]), axis=-1) * dt
    return np.moveaxis(out, -1, axis)


def _padded(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index matrix (n, L) of the half-open windows and its validity mask."""
    width = int(max(1, (stops - starts).max(initial=1)))
    idx = starts[:, None] + np.arange(width)[None, :]
    return idx, idx < stops[:, None]


def _qmul(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product of quaternion arrays (..., 4), scalar first."""
    pw, px, py, pz = np.moveaxis(p, -1, 0)
    qw, qx, qy, qz = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            pw * qw - px * qx - py * qy - pz * qz,
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
        ],
        axis=-1,
    )


def quat_prefix_product(dq: np.ndarray) -> np.ndarray:
    """Cumulative quaternion product along axis 1 of (n, L, 4): out[:, j] = dq[:, 0] ⊗ ... ⊗ dq[:, j].

    Hillis-Steele scan: log2(L) full-array products instead of a loop over samples (the product is
    associative, the earlier factor stays on the left).
    """
    out = dq.copy()
    s = 1
    while s < out.shape[1]:
        out[:, s:] = _qmul(out[:, :-s], out[:, s:])
        s *= 2
    return out


def _qrot(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors v (..., 3) by unit quaternions q (..., 4) (body -> world)."""
    w = q[..., :1]
    u = q[..., 1:]
    t = 2.0 * np.cross(u, v)
    return v + w * t + np.cross(u, t)


def _tilt_quat(acc: np.ndarray) -> np.ndarray:
    """Quaternions (n, 4) that rotate each body-frame gravity reading ``acc`` (n, 3) onto world +z (no yaw)."""
    a = acc / np.linalg.norm(acc, axis=1, keepdims=True)
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(a, z)
    s = np.linalg.norm(axis, axis=1)
    c = a @ z
    ang = np.arctan2(s, c)
    axis = np.where(s[:, None] > 1e-12, axis / np.maximum(s, 1e-12)[:, None], np.array([1.0, 0.0, 0.0]))
    return np.column_stack([np.cos(ang / 2), axis * np.sin(ang / 2)[:, None]])


def _pta(acc_norm: np.ndarray, ic: np.ndarray, fs: float) -> np.ndarray:
    """Peak of |acc| in [IC, IC + PTA_WINDOW_S], in g, refined by a parabola through the peak sample."""
    ok = ic >= 0
    k = _window_arg(acc_norm, np.where(ok, ic, 0), np.where(ok, ic + int(round(PTA_WINDOW_S * fs)) + 1, 0), "max")
    n = acc_norm.size
    y0 = acc_norm[np.clip(k, 0, n - 1)]
    ym = acc_norm[np.clip(k - 1, 0, n - 1)]
    yp = acc_norm[np.clip(k + 1, 0, n - 1)]
    den = ym - 2 * y0 + yp
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(den < 0, 0.5 * (ym - yp) / den, 0.0)
    peak = y0 - 0.25 * (ym - yp) * np.clip(p, -0.5, 0.5)
    return np.where(ok & (k >= 0), peak / C.GRAVITY, np.nan)


def _next_rows(ev: pd.DataFrame) -> np.ndarray:
    """For each stride, the row of the stride that starts at its next IC (-1 when the bout ends there)."""
    nxt = np.full(len(ev), -1, dtype=np.int64)
    if len(ev) > 1:
        cont = ev["next_ic_idx"].to_numpy()[:-1] == ev["ic_idx"].to_numpy()[1:]
        nxt[:-1] = np.where(cont, np.arange(1, len(ev)), -1)
    return nxt


@dataclass
class _StanceWindows:
    """The fit samples of each stride (its two stance windows), laid end to end row after row.

    Only these samples enter the fits, so nothing is padded to the longest stride (the padded matrix was ~5x larger).
    """

    w0a: np.ndarray  # first fit sample of each row
    idx: np.ndarray  # (total,) sample index of every fit sample, clipped to the signal
    offs: np.ndarray  # (n,) where each row starts in ``idx``
    reps: np.ndarray  # (n,) number of fit samples of each row
    tau: np.ndarray  # (total,) time from the row's w0a (s)

    def take(self, x: np.ndarray, rel: bool = False) -> np.ndarray:
        """``x`` on the fit samples (relative to its value at ``w0a`` when ``rel``), NaN and inf made finite."""
        y = x[self.idx]
        if rel:
            y -= np.repeat(x[self.w0a], self.reps)
        return y if np.isfinite(y).all() else np.nan_to_num(y)

    def sum(self, y: np.ndarray) -> np.ndarray:
        """Per row: the sum of ``y`` (given on the fit samples) over the row's fit samples (0 for none)."""
        if y.size == 0:
            return np.zeros(self.offs.size)
        s = np.add.reduceat(y, np.minimum(self.offs, y.size - 1))
        return s if self.reps.all() else np.where(self.reps > 0, s, 0.0)


# --- shank --------------------------------------------------------------------------------------------------
def _shank(
    frame: pd.DataFrame,
    ev: pd.DataFrame,
    fs: float,
    ankle_to_sensor_m: float | None = None,
    standing_angle_deg: float = 0.0,
) -> tuple[pd.DataFrame, dict, list[str]]:
    n_ev = len(ev)
    info: dict = {}
    warnings: list[str] = []
    sl_all, sp, ang = np.full(n_ev, np.nan), np.full(n_ev, np.nan), np.full(n_ev, np.nan)

    def result() -> pd.DataFrame:
        return pd.DataFrame({C.STRIDE_LENGTH: sl_all, C.SPEED: sp, C.SHANK_ANGLE_IC: ang}, index=ev.index)

    w = frame[C.GYR_BF[1]].to_numpy()
    f_ap = frame[C.ACC_BF[0]].to_numpy()
    f_si = frame[C.ACC_BF[2]].to_numpy()
    seg = frame["segment"].to_numpy() if "segment" in frame else np.zeros(len(frame), dtype=np.int32)
    dt = 1.0 / fs

    def integral(x: np.ndarray) -> np.ndarray:
        """``_cumtrapz(x, dt)`` of a 1-D signal with fewer temporaries (bit-identical: halving is exact)."""
        out = np.empty_like(x)
        out[0] = 0.0
        np.add(x[1:], x[:-1], out=out[1:])
        np.cumsum(out[1:], out=out[1:])
        out[1:] *= 0.5 * dt
        return out

    # 1. integrated sagittal angle, restarted in each segment (a gap loses the orientation)
    phi = integral(w)
    seg_start = np.r_[0, np.flatnonzero(np.diff(seg)) + 1]
    if seg_start.size > 1:  # (phi starts at 0 in a single segment)
        seg_id = np.cumsum(np.r_[True, np.diff(seg) != 0]) - 1
        phi = phi - phi[seg_start][seg_id]
    ic = ev["ic_idx"].to_numpy()
    to = ev["to_idx"].to_numpy()
    mst = ev["mst_idx"].to_numpy()
    nxt = _next_rows(ev)
    has = nxt >= 0
    m0 = mst
    m1 = np.where(has, mst[np.maximum(nxt, 0)], -1)
    has &= (m0 >= 0) & (m1 > m0)
    if not has.any():
        warnings.append("no pair of consecutive strides: stride length and shank angle need two stances")
        return result(), info, warnings
    # 2. per-stride tilt offset from the mean specific force over the stride
    cos_p, sin_p = np.cos(phi), np.sin(phi)
    x = f_ap * cos_p
    x -= f_si * sin_p
    u = integral(x)
    np.multiply(f_ap, sin_p, out=x)
    x += f_si * cos_p
    v = integral(x)
    del cos_p, sin_p, x
    a0, a1 = m0[has], m1[has]
    du, dv = u[a1] - u[a0], v[a1] - v[a0]
    del u, v
    c_k = np.arctan2(du, dv)
    centres = 0.5 * (a0 + a1)
    # interpolate per segment (an offset is only meaningful inside its segment)
    c = np.full(w.size, np.nan)
    seg_of_stride = np.searchsorted(seg_start, a0, side="right") - 1
    for s in np.unique(seg_of_stride):  # per segment, not per sample
        sel = seg_of_stride == s
        lo = seg_start[s]
        hi = seg_start[s + 1] if s + 1 < seg_start.size else w.size
        c[lo:hi] = np.interp(np.arange(lo, hi), centres[sel], c_k[sel])
    theta = phi + c
    del phi, c
    # 3. world-frame acceleration (x forward, z up) and the pendulum-reset velocity fit
    cos_t, sin_t = np.cos(theta), np.sin(theta)
    ax = f_ap * cos_t
    ax -= f_si * sin_t
    az = f_ap * sin_t
    az += f_si * cos_t
    az -= C.GRAVITY
    vx_int = integral(ax if np.isfinite(ax).all() else np.nan_to_num(ax))
    del ax
    vz_int = integral(az if np.isfinite(az).all() else np.nan_to_num(az))
    del az
    # sensor velocity per metre of ankle-to-sensor distance up the tibia with the ankle fixed (v = w x r), on the
    # fit samples only
    neg_w = -w

    def ipm(sw: _StanceWindows, trig: np.ndarray) -> np.ndarray:
        y = neg_w[sw.idx] * trig[sw.idx]
        return y if np.isfinite(y).all() else np.nan_to_num(y)

    ct0 = (to - ic)[has]
    nx = np.maximum(nxt[has], 0)
    ct1 = (to - ic)[nx]
    n_rows = int(has.sum())
    sub = np.unique(np.linspace(0, n_rows - 1, min(n_rows, R_FIT_STRIDES)).astype(np.int64))
    ic_has, ic_nx = ic[has], ic[nx]

    def stance_windows(fit: tuple[float, float], rows: np.ndarray | slice = slice(None)) -> _StanceWindows:
        """The fit samples of each stride (rows of the strides with a next stance): f_a-f_b of both contacts."""
        f_a, f_b = fit
        i0, i1 = ic_has[rows], ic_nx[rows]
        c0, c1 = ct0[rows], ct1[rows]
        w0a = i0 + (f_a * c0).astype(np.int64)
        w0b = i0 + (f_b * c0).astype(np.int64) + 1
        w1a = i1 + (f_a * c1).astype(np.int64)
        w1b = i1 + (f_b * c1).astype(np.int64) + 1
        # [w0a, w0b) then [w1a, w1b) (a sample in both counted once)
        n0 = np.maximum(w0b - w0a, 0)
        b1 = np.maximum(w1a, w0b)
        reps = n0 + np.maximum(w1b - b1, 0)
        offs = np.zeros(reps.size, dtype=np.int64)
        np.cumsum(reps[:-1], out=offs[1:])
        p = np.arange(int(reps.sum()), dtype=np.int64) - np.repeat(offs, reps)  # position in the row
        rel = p + np.repeat(b1 - w0b, reps) * (p >= np.repeat(n0, reps))  # sample - w0a
        idx = np.repeat(w0a, reps) + rel
        if idx.size and (idx.min() < 0 or idx.max() >= w.size):  # (gait.live's provisional last stance)
            np.clip(idx, 0, w.size - 1, out=idx)
        return _StanceWindows(w0a, idx, offs, reps, rel * dt)

    def fit_radius(sw: _StanceWindows) -> tuple[float, float]:
        """Run pendulum radius (median over strides) and the median rms misfit (m/s) of the stance windows.

        Per stride, velocity = v0 + integral(a) - drift * tau in each axis, equal to r * ipm on the stance
        windows: with v0 and the drift removed per stride and axis, r of each stride by least squares over both
        axes (the vertical adds the tibia's rotation through the vertical), and the run's r as the median.
        """
        tau = sw.tau
        s0, s1, s2 = sw.reps.astype(float), sw.sum(tau), sw.sum(tau * tau)
        det = s0 * s2 - s1 * s1
        det = np.where(np.abs(det) > 1e-12, det, np.nan)
        sums = {}

        def lin(key: str, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            if key not in sums:
                sums[key] = sw.sum(y), sw.sum(tau * y)
            return sums[key]

        def resid_dot(ky: str, y: np.ndarray, kz: str, z: np.ndarray) -> np.ndarray:
            """Per row: <y, z> on the fit samples after removing each one's least-squares line."""
            (sy, sty), (sz, stz) = lin(ky, y), lin(kz, z)
            quad = (sy * (s2 * sz - s1 * stz) + sty * (s0 * stz - s1 * sz)) / det
            return sw.sum(y * z) - quad

        dxs, dzs = sw.take(vx_int, rel=True), sw.take(vz_int, rel=True)
        pxs, pzs = ipm(sw, cos_t), ipm(sw, sin_t)
        pp = resid_dot("px", pxs, "px", pxs) + resid_dot("pz", pzs, "pz", pzs)
        pdv = resid_dot("px", pxs, "dx", dxs) + resid_dot("pz", pzs, "dz", dzs)
        ok_r = np.isfinite(pp) & np.isfinite(pdv) & (pp > 1e-9)
        if ok_r.sum() < 3:
            return float("nan"), float("nan")
        r_fit = float(np.median(pdv[ok_r] / pp[ok_r]))
        dd = resid_dot("dx", dxs, "dx", dxs) + resid_dot("dz", dzs, "dz", dzs)
        misfit = (dd - 2 * r_fit * pdv + r_fit**2 * pp)[ok_r] / s0[ok_r]
        return r_fit, float(np.sqrt(max(float(np.median(misfit)), 0.0)))

    # the fit window: STANCE_FIT; when the radius fitted there is implausible, the ankle moved inside it (a long
    # stance roll, an early heel-off), and the part of the stance where the fixed-ankle model fits best is used for
    # the radius and the velocity reset instead. Decided from the data alone, also when the radius is given, so a
    # radius frozen from an earlier fit (gait.live) comes with the same window.
    fit = STANCE_FIT
    r = r_fit = fit_radius(stance_windows(fit, sub))[0]
    info["ankle_to_sensor_fit_m"] = round(r_fit, 4) if np.isfinite(r_fit) else None
    plausible = bool(np.isfinite(r_fit) and R_RANGE[0] <= r_fit <= R_RANGE[1])
    if not plausible:
        cands = [fit_radius(stance_windows(q, sub)) + (q,) for q in QUIET_WINDOWS]
        cands = [c for c in cands if np.isfinite(c[0]) and R_RANGE[0] <= c[0] <= R_RANGE[1]]
        if cands:
            r_q, misfit_q, fit = min(cands, key=lambda c: c[1])
            info["ankle_to_sensor_note"] = (
                f"fit over {STANCE_FIT[0]:.0%}-{STANCE_FIT[1]:.0%} of contact implausible ({r_fit:.3f} m): the ankle "
                f"moves there; refitted over {fit[0]:.0%}-{fit[1]:.0%}, where the fixed-ankle model fits best "
                f"(misfit {misfit_q:.3f} m/s)"
            )
            r = r_q
    if ankle_to_sensor_m is not None:
        r = float(ankle_to_sensor_m)
        info["ankle_to_sensor_source"] = "given"
    elif plausible:
        info["ankle_to_sensor_source"] = "fitted"
    elif fit != STANCE_FIT:
        info["ankle_to_sensor_source"] = "fitted (quiet stance)"
    else:
        why = (f"fitted to the stances is implausible ({r:.2f} m)" if np.isfinite(r)
               else "could not be fitted (too few clean stances)")
        warnings.append(
            f"the ankle-to-sensor distance {why}; "
            f"{R_DEFAULT:.2f} m assumed (give ankle_to_sensor_m for better stride lengths)"
        )
        r = R_DEFAULT
        info["ankle_to_sensor_source"] = "default"
    info["ankle_to_sensor_m"] = round(r, 4)
    info["stance_fit"] = [float(fit[0]), float(fit[1])]
    sw = stance_windows(fit)
    tau = sw.tau
    s0, s1, s2 = sw.reps.astype(float), sw.sum(tau), sw.sum(tau * tau)
    det = s0 * s2 - s1 * s1
    det = np.where(np.abs(det) > 1e-12, det, np.nan)
    # per row: intercept and slope in tau of the least-squares line through y on the fit samples
    y = sw.take(vx_int, rel=True)
    y -= r * ipm(sw, cos_t)
    sy, sty = sw.sum(y), sw.sum(tau * y)
    alpha, beta = (s2 * sy - s1 * sty) / det, (s0 * sty - s1 * sy) / det
    # velocity = -alpha + Dx - beta * tau (v0 = -alpha, drift slope beta, Dx = vx_int - vx_int[w0a]); the stride
    # length is its trapezoid integral from one mid-stance to the next, summed directly over the samples
    L = a1 - a0
    w0a = sw.w0a
    if a1.max() >= w.size:  # samples past the end read the last one
        vx_int = np.r_[vx_int, np.full(a1.max() + 1 - w.size, vx_int[-1])]
    s_vx = np.add.reduceat(vx_int, np.column_stack([a0, a1]).ravel())[::2]  # sum over [a0, a1)
    t_dx = s_vx + 0.5 * (vx_int[a1] - vx_int[a0]) - L * vx_int[w0a]
    t_tau = L * (0.5 * (a0 + a1) - w0a) * dt
    sl = (t_dx - alpha * L - beta * t_tau) * dt
    dur = L * dt
    # 4. outputs
    sl_all[has] = sl
    sp[has] = sl / dur
    ang = np.where(ic >= 0, theta[np.clip(ic, 0, w.size - 1)], np.nan)
    ang = np.rad2deg(ang) + standing_angle_deg
    info["shank_model"] = "sagittal"
    return result(), info, warnings


# --- foot ---------------------------------------------------------------------------------------------------
def _rest_runs(rest: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last index of the run of ``rest`` samples holding each index ``at`` (``at`` when not at rest)."""
    edge = np.flatnonzero(rest[1:] != rest[:-1]) + 1
    first = np.r_[0, edge]
    last = np.r_[edge, rest.size] - 1
    k = np.searchsorted(first, at, side="right") - 1
    ok = rest[at]
    return np.where(ok, first[k], at), np.where(ok, last[k], at)


#: Below this fraction of strides with a foot at rest at mid-stance, the placement is questioned (see ``_foot``).
FOOT_MIN_REST_FRACTION: float = 0.1


def _foot_velocity_error(
    vel: np.ndarray, rest: np.ndarray, step: np.ndarray, end: np.ndarray, dt: float, ridge: float = FOOT_DRIFT_RIDGE
) -> np.ndarray:
    """Velocity error (n, L, 3) of integrated foot velocities ``vel``: ``v0 + s t + d H(t - t_step)``.

    Why this shape: a tilt error leaks gravity at a constant rate (``s``, linear in time), and the heel-strike
    transient (a few ms, up to the accelerometer's range) is not resolved at ~200 Hz, so its integral leaves a
    random velocity step ``d`` at IC (gaitmap walk: velocity drifts of 0.1-0.7 m/s appear at IC; spread linearly
    over the stride they gave 3.8 cm stride length MAE, as a step at IC 1.4 cm). Least squares per stride and axis
    over the ``rest`` samples (both zero-velocity windows, which hold samples 0 and ``end``; ``step`` is the index
    of the IC between them). Only the slopes inside the windows tell drift from step, so ``s`` has a ridge towards
    the classic end-to-end drift rate: with windows too short to show a slope this is linear de-drifting.
    """
    rows = np.arange(vel.shape[0])
    t = np.arange(vel.shape[1]) * dt
    h = (np.arange(vel.shape[1])[None, :] >= step[:, None]).astype(float)
    m = rest.astype(float)
    mb = (m, m * t, m * h)  # rest-masked basis functions 1, t, H
    s0, s1, s2, sh, sth = m.sum(1), mb[1].sum(1), (mb[1] * t).sum(1), mb[2].sum(1), (mb[1] * h).sum(1)
    a = np.stack([np.stack([s0, s1, sh], -1), np.stack([s1, s2 + ridge, sth], -1), np.stack([sh, sth, sh], -1)], -2)
    rhs = np.stack([np.einsum("nl,nld->nd", b, vel) for b in mb], axis=1)
    rhs[:, 1] += ridge * (vel[rows, end] - vel[:, 0]) / np.maximum(end * dt, dt)[:, None]
    coef = np.linalg.solve(a + 1e-12 * np.eye(3), rhs)  # (n, 3 basis functions, 3 axes)
    return coef[:, None, 0] + t[None, :, None] * coef[:, None, 1] + h[..., None] * coef[:, None, 2]


def _foot(frame: pd.DataFrame, ev: pd.DataFrame, fs: float, side: str) -> tuple[pd.DataFrame, dict, list[str]]:
    n_ev = len(ev)
    out = pd.DataFrame(index=ev.index, columns=[C.STRIDE_LENGTH, C.SPEED, C.FOOT_ANGLE_IC], dtype=float)
    warnings: list[str] = []
    signs = C.ANATOMICAL_TO_BODY_SIGNS[side]  # mirror back to a right-handed anatomical frame
    acc = frame[list(C.ACC_BF)].to_numpy() * signs[:3]
    gyr = frame[list(C.GYR_BF)].to_numpy() * signs[3:]
    dt = 1.0 / fs
    mst = ev["mst_idx"].to_numpy()
    ic = ev["ic_idx"].to_numpy()
    nxt = _next_rows(ev)
    has = (nxt >= 0) & (mst >= 0)
    m1 = np.where(has, mst[np.maximum(nxt, 0)], -1)
    has &= m1 > mst
    if not has.any():
        warnings.append("no pair of consecutive strides: stride length and foot angle need two stances")
        return out, {}, warnings
    a0, a1 = mst[has], m1[has]
    idx, valid = _padded(a0, a1 + 1)
    idx_c = np.clip(idx, 0, len(frame) - 1)
    # initial tilt from gravity around mid-stance (+-20 ms)
    acc_lp = lowpass(acc, fs, 5.0)
    q0 = _tilt_quat(acc_lp[a0])
    # orientation increments (body-frame rates, trapezoid midpoint rate), identity in the padding
    wmid = 0.5 * (gyr[idx_c] + gyr[np.clip(idx_c + 1, 0, len(frame) - 1)])
    ang = np.linalg.norm(wmid, axis=-1) * dt
    ax = wmid / np.maximum(np.linalg.norm(wmid, axis=-1, keepdims=True), 1e-12)
    dq = np.concatenate([np.cos(ang / 2)[..., None], ax * np.sin(ang / 2)[..., None]], axis=-1)
    dq = np.where(valid[..., None], dq, np.array([1.0, 0.0, 0.0, 0.0]))
    # q_j = q0 ⊗ dq_0 ⊗ ... ⊗ dq_{j-1}
    pref = quat_prefix_product(dq)
    q = np.concatenate([q0[:, None, :], _qmul(q0[:, None, :], pref[:, :-1])], axis=1)
    a_w = _qrot(q, acc[idx_c]) - np.array([0.0, 0.0, C.GRAVITY])
    a_w = np.where(valid[..., None], a_w, 0.0)
    vel = _cumtrapz(a_w, dt, axis=1)
    L = a1 - a0
    rows = np.arange(has.sum())
    # zero-velocity windows: the run of rest samples around each mid-stance, from a0 to the stride's toe-off at
    # most and from the next IC at least to a1; the velocity error fitted there (drift + step at IC) is removed
    gn = uniform_filter1d(np.linalg.norm(gyr, axis=1), max(1, int(FOOT_REST_SMOOTH_S * fs)), mode="nearest")
    rest_first, rest_last = _rest_runs(gn < FOOT_REST_GYR, np.r_[a0, a1])
    at_rest = float(np.mean(gn[a0] < FOOT_REST_GYR))
    if a0.size >= 10 and at_rest < FOOT_MIN_REST_FRACTION:  # shank data: 0 %; foot data: 21-100 % (IPOL, gaitmap)
        warnings.append(
            f"the sensor is at rest at mid-stance in only {at_rest:.0%} of strides, unlike a foot: if the sensors are "
            "on the shins, analyse with placement 'shank'; foot stride lengths are unreliable here"
        )
    to0 = ev["to_idx"].to_numpy()[has]
    r0 = np.clip(rest_last[: a0.size], a0, np.where(to0 > a0, np.minimum(to0, a1), a1)) - a0
    ic1 = np.minimum(np.maximum(ic[np.maximum(nxt, 0)][has], a0 + r0 + 1), a1)  # the IC that ends the swing
    r1 = np.clip(rest_first[a0.size :], ic1, a1) - a0
    j = np.arange(idx.shape[1])[None, :]
    rest = valid & ((j <= r0[:, None]) | (j >= r1[:, None]))
    vel = vel - _foot_velocity_error(vel, rest, ic1 - a0, L, dt)
    vel = np.where(valid[..., None], vel, 0.0)
    pos = _cumtrapz(vel, dt, axis=1)
    end = pos[rows, L]
    sl = np.hypot(end[:, 0], end[:, 1])
    sl_all = np.full(n_ev, np.nan)
    sl_all[has] = sl
    out[C.STRIDE_LENGTH] = sl_all
    sp = np.full(n_ev, np.nan)
    sp[has] = sl / (L * dt)
    out[C.SPEED] = sp
    # foot angle at IC: IC lies in the window of the previous stride (it ends the swing)
    prev = np.full(n_ev, -1, dtype=np.int64)
    prev[nxt[nxt >= 0]] = np.flatnonzero(nxt >= 0)
    row_of = np.full(n_ev, -1, dtype=np.int64)
    row_of[np.flatnonzero(has)] = rows
    pr = prev
    okp = (pr >= 0) & (row_of[np.maximum(pr, 0)] >= 0)
    fa = np.full(n_ev, np.nan)
    if okp.any():
        rr = row_of[pr[okp]]
        jj = ic[okp] - a0[rr]
        inwin = (jj >= 0) & (jj <= L[rr])
        x_fwd = _qrot(q[rr, np.clip(jj, 0, q.shape[1] - 1)], np.array([1.0, 0.0, 0.0]))
        val = np.rad2deg(np.arcsin(np.clip(x_fwd[:, 2], -1, 1)))
        fa_ok = np.where(inwin, val, np.nan)
        fa[np.flatnonzero(okp)] = fa_ok
    out[C.FOOT_ANGLE_IC] = fa
    return out, {"foot_model": "strapdown-zupt"}, warnings


def stride_kinematics(
    frame: pd.DataFrame,
    events: pd.DataFrame,
    fs: float,
    *,
    placement: str = "shank",
    side: str = "left",
    ankle_to_sensor_m: float | None = None,
    standing_angle_deg: float = 0.0,
) -> KinematicsResult:
    """Kinematic metrics for each stride of ``events`` (from :func:`gait.events.events_find`).

    Returns stride length (m), speed (m/s), shank or foot angle at IC (deg) and peak tibial acceleration (g,
    resultant, see the module doc) in a DataFrame aligned with ``events``; NaN where a stride lacks what a metric
    needs (e.g. the last stride of a bout has no next stance). ``ankle_to_sensor_m`` fixes the pendulum radius
    (fitted when None); ``standing_angle_deg`` is the tibia angle during the standing calibration (0: shins
    vertical), added to the shank angles.
    """
    cols = [C.STRIDE_LENGTH, C.SPEED, C.SHANK_ANGLE_IC, C.FOOT_ANGLE_IC, C.PEAK_TIBIAL_ACCEL]
    res = {c_: np.full(len(events), np.nan) for c_ in cols}  # the frame is built once, at the end

    def result(*args: object) -> KinematicsResult:
        return KinematicsResult(pd.DataFrame(res, index=events.index), *args)

    if len(events) == 0:
        return result()
    acc3 = frame[list(C.ACC_BF)].to_numpy()
    acc_norm = np.sqrt(np.einsum("ij,ij->i", acc3, acc3))
    res[C.PEAK_TIBIAL_ACCEL] = _pta(acc_norm, events["ic_idx"].to_numpy(), fs)
    if not np.isfinite(frame[C.GYR_BF[1]].to_numpy()).all():
        return result({}, ["no gyroscope: stride length, speed and segment angles are not computed"])
    if placement == "foot":
        k, info, warns = _foot(frame, events, fs, side)
    else:
        k, info, warns = _shank(frame, events, fs, ankle_to_sensor_m, standing_angle_deg)
    for c_ in k.columns:
        res[c_] = k[c_].to_numpy()
    return result(info, warns)
