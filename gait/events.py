"""Gait events per leg from the segment-frame signals: mid-swing, initial contact, toe-off, mid-stance; gait bouts.

Everything keys on the sagittal angular velocity ``gyr_ml`` (positive when the shank swings forward, see
:mod:`gait.conventions`):

* **Mid-swing (MS)**: peaks of the 6 Hz low-passed ``gyr_ml`` above 30 % (foot: 20 %, see
  :data:`MS_REL_THR_FOOT`) of the local swing envelope; candidates not separated by a negative (stance) dip are
  merged.
* **Initial contact (IC)**: after MS, ``gyr_ml`` falls through zero into the stance rotation. Shank: IC is the
  onset of the impact jerk (norm of the derivative of the specific force) after that zero crossing, checked
  against the swing-to-contact delay of the neighbouring strides (see :func:`_shank_ic`: at low rates a poorly
  sampled impact can be weaker than the late-swing deceleration). Foot: IC is the zero crossing itself (heel
  strike ends the toes-up swing).
* **Toe-off (TO)**: foot, and shank in walking: the negative minimum of ``gyr_ml`` before the next MS (Aminian;
  Falbriard for the foot: in the second half of the MS-to-MS window). Shank in running: the end of the ground
  reaction force, seen as the steepest drop of the axial specific force ``acc_si`` in late stance. In real
  running (Fukuchi force plate) ``gyr_ml`` has a plateau near zero in late stance and leaves it when the foot
  leaves the ground (the swing's knee flexion starts): when that onset exists and a real ``acc_si`` drop lies
  within +-25 ms of it, that drop is TO; otherwise the steepest drop of the whole late stance (a strong drop
  earlier in stance, after a push-off peak, is not the end of contact: 40 ms early on one Fukuchi leg).
* **Mid-stance**: shank, the midpoint of IC and TO; foot, the quietest sample (minimum gyro norm) in stance.

Without a gyroscope, IC is the onset of the acceleration impact of each stride (one per stride, found with the
stride period from the autocorrelation); TO and mid-swing are NaN.

Everything is vectorized over strides (padded windows); nothing loops over samples. Rates 50-1000 Hz.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.ndimage import maximum_filter1d, uniform_filter1d
from scipy.signal import butter, find_peaks, sosfiltfilt

from gait import conventions as C

__all__ = ["EventResult", "events_find", "gait_bouts", "lowpass", "stride_period"]

#: Stride times (s) outside this range are not strides.
STRIDE_TIME_RANGE = (0.4, 2.2)
#: Mid-swing: fraction of the largest gyr_ml within +-1.5 s a swing peak must reach. The shank also rotates forward
#: (positive) in stance, so it needs 0.3; a foot rotates forward only in swing (flat or rolling backwards in
#: stance), and its gait initiation, termination and turning steps swing at 20-30 % of the steady rate: 0.2 finds
#: them (IPOL foot data: 37 first/last strides of the straight bouts were lost at 0.3, 14 at 0.2; gaitmap unchanged).
MS_REL_THR = 0.3
MS_REL_THR_FOOT = 0.2
#: Strides shorter than this (s, rolling median) count as running, longer as walking (140 steps/min).
RUN_STRIDE_TIME_MAX = 0.857
#: Running TO: fall of gyr_ml below its late-stance plateau (rad/s) that marks the start of the swing, and
#: the half-width (s) of the window around it searched for the end of axial loading.
TO_GYR_DROP = 0.5
TO_SEARCH_S = 0.025
#: ... and how steep (fraction of the steepest late-stance drop) the drop near the onset must be to be preferred.
TO_FALL_RATIO = 0.3
#: Shank IC: low-pass cut-off (Hz) of the specific force for the impact jerk, and the lowest rate (Hz) at which it
#: is applied (see :func:`_jerk`).
IC_JERK_FC = 40.0
IC_JERK_MIN_FS = 160.0
#: Dips of the jerk (s) bridged inside one impact burst.
IC_BURST_GAP_S = 0.01
#: Shank IC: largest distance (s) of a stride's swing-to-contact delay from the rolling median of
#: IC_CONSISTENCY_STRIDES strides before it is searched again near that median (see :func:`_shank_ic`).
IC_CONSISTENCY_S = 0.03
IC_CONSISTENCY_STRIDES = 9
#: ... and how much earlier (s) than the typical burst onset a half-max onset must be to count as the late swing.
IC_EARLY_S = 0.05


@dataclass
class EventResult:
    """Per-leg events. ``events`` has one row per detected stride (IC to next IC) with times in seconds.

    Columns: ``ic_time_s, to_time_s, next_ic_time_s, mid_stance_time_s, mid_swing_time_s, segment, mode``
    (``"running"``/``"walking"``) and sample indices ``ic_idx, to_idx, next_ic_idx, ms_idx``.
    """

    events: pd.DataFrame
    fs: float
    method: str
    warnings: list[str] = field(default_factory=list)


#: :func:`lowpass` designs by (order, cut-off, rate): a design costs ~0.3 ms, as much as filtering a minute of data
#: (gait.live filters short windows several times per stride).
_LOWPASS_DESIGNS: dict[tuple, tuple] = {}


def lowpass(x: np.ndarray, fs: float, fc: float, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth low-pass along axis 0 (cut-off clipped below Nyquist)."""
    fc = min(fc, 0.45 * fs)
    key = (order, fc, fs)
    design = _LOWPASS_DESIGNS.get(key)
    if design is None:
        if len(_LOWPASS_DESIGNS) >= 64:
            _LOWPASS_DESIGNS.clear()
        # one biquad: filtfilt on (b, a) is the same filter, padding and initial state as sosfiltfilt, ~25 % faster
        design = butter(order, fc, fs=fs) if order <= 2 else (butter(order, fc, fs=fs, output="sos"),)
        _LOWPASS_DESIGNS[key] = design  # (the filters only read the coefficients)
    if len(design) == 2:
        from scipy.signal import filtfilt

        return filtfilt(*design, x, axis=0)
    return sosfiltfilt(design[0], x, axis=0)


def _window_arg(
    x: np.ndarray, starts: np.ndarray, stops: np.ndarray, mode: str = "min", max_width: int | None = None
) -> np.ndarray:
    """Index of the min/max of ``x`` in each half-open window [start, stop); -1 where a window is empty.

    Windows longer than ``max_width`` (default: 2.5 s at the largest plausible rate ratio, i.e. the caller's
    stride limit) are cut, so one long pause cannot blow up the padded matrix.
    """
    starts = np.asarray(starts, dtype=np.int64)
    stops = np.asarray(stops, dtype=np.int64)
    if max_width is not None:
        stops = np.minimum(stops, starts + max_width)
    n = stops - starts
    out = np.full(starts.size, -1, dtype=np.int64)
    if starts.size == 0 or n.max(initial=0) <= 0:
        return out
    ok = n > 0
    s, nk = starts[ok], n[ok]
    # the non-empty windows laid end to end: O(total length) however unequal they are (a padded matrix is as wide
    # as the longest window, ~6x the work on a run with pauses); samples outside ``x`` read its first/last value
    offs = np.zeros(nk.size, dtype=np.int64)
    np.cumsum(nk[:-1], out=offs[1:])
    flat = np.arange(int(offs[-1] + nk[-1]), dtype=np.int64)
    flat += np.repeat(s - offs, nk)
    if s.min() < 0 or (s + nk).max() > x.size:
        np.clip(flat, 0, x.size - 1, out=flat)
    v = x[flat]
    ext = (np.minimum if mode == "min" else np.maximum).reduceat(v, offs)
    hit = v == np.repeat(ext, nk)
    if np.isnan(ext).any():  # like argmin/argmax: the first NaN of a window that has one
        hit |= np.isnan(v)
    pos = np.flatnonzero(hit)
    out[ok] = s + (pos[np.searchsorted(pos, offs)] - offs)
    return out


def _padded_windows(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index matrix (n, L) of half-open windows and its validity mask."""
    width = int(max(1, (stops - starts).max(initial=1)))
    idx = starts[:, None] + np.arange(width)[None, :]
    return idx, idx < stops[:, None]


def stride_period(x: np.ndarray, fs: float, lo: float = 0.4, hi: float = 2.2) -> float:
    """Dominant period (s) of ``x`` in [lo, hi] from its autocorrelation (FFT); NaN when there is none."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < hi * fs * 1.5:
        return float("nan")
    x = x - x.mean()
    nfft = 1 << int(np.ceil(np.log2(2 * x.size)))
    spec = np.fft.rfft(x, nfft)
    ac = np.fft.irfft(spec * np.conj(spec), nfft)[: x.size]
    if ac[0] <= 0:
        return float("nan")
    ac = ac / ac[0]
    a, b = int(lo * fs), min(int(hi * fs), ac.size - 1)
    peaks, _ = find_peaks(ac[a:b])
    if peaks.size == 0:
        return float("nan")
    best = peaks[np.argmax(ac[a:b][peaks])] + a
    return float(best / fs)


def _mid_swings(x6: np.ndarray, fs: float, rel_thr: float = MS_REL_THR) -> np.ndarray:
    """Mid-swing sample indices: peaks of the low-passed gyr_ml, one per stance-separated swing.

    A peak counts when it exceeds ``rel_thr`` times the largest rate within +-1.5 s (and 0.8 rad/s). A signal
    that starts inside a swing, past its peak (a segment that begins after a packet-loss gap), gets its first
    sample as the mid-swing, so that the contact ending that swing still starts a stride.
    """
    env = maximum_filter1d(x6, size=max(3, int(3.0 * fs)), mode="nearest")
    thr = np.maximum(rel_thr * env, 0.8)  # rad/s; a slow walking swing still peaks above ~2 rad/s
    pk, _ = find_peaks(x6, distance=max(1, int(0.25 * fs)))
    if x6.size > 1 and x6[0] >= x6[1]:
        pk = np.r_[0, pk]
    pk = pk[x6[pk] > thr[pk]]
    if pk.size < 2:
        return pk
    # merge candidates not separated by a stance (the rate must go negative between two swings)
    dips = np.minimum.reduceat(x6, pk)[:-1]
    new_group = np.r_[True, dips < 0]
    gid = np.cumsum(new_group) - 1
    order = np.lexsort((-x6[pk], gid))  # per group, highest first
    first = np.r_[True, gid[order][1:] != gid[order][:-1]]
    return np.sort(pk[order][first])


_window_arg_capped = _window_arg


def _steepest(x: np.ndarray, starts: np.ndarray, stops: np.ndarray, mode: str) -> np.ndarray:
    """Sample of the steepest fall (``"fall"``) or rise of ``x`` inside each window; -1 where empty."""
    d = np.diff(x, append=x[-1])
    k = _window_arg(d, starts, stops, "min" if mode == "fall" else "max")
    return k


def _acc_only_ic(acc: np.ndarray, fs: float) -> np.ndarray:
    """IC sample indices from the accelerometer alone: the onset of the sharpest jolt (impact) of each stride.

    The jerk envelope (norm of the derivative of the specific-force vector, smoothed over ~20 ms) peaks at every
    impact; the stride period from its autocorrelation (the other leg's impacts are weaker at this ankle, so the
    stride repeats more exactly than the step) spaces the peaks; IC is where the jerk first reaches half its peak.
    """
    a = lowpass(acc, fs, min(40.0, 0.4 * fs))
    d = np.diff(a, axis=0, append=a[-1:])
    jerk = np.sqrt(np.einsum("ij,ij->i", d, d)) * fs
    env = uniform_filter1d(jerk, max(1, int(0.02 * fs)), mode="nearest")
    period = stride_period(env, fs, lo=0.4, hi=2.2)
    if not np.isfinite(period):
        return np.array([], dtype=np.int64)
    if period < 0.9:  # may be the step: prefer twice the period when it repeats at least as well
        p2 = stride_period(env, fs, lo=1.6 * period, hi=min(2.4 * period, 2.2))
        if np.isfinite(p2) and _ac_at(env, fs, p2) >= 0.9 * _ac_at(env, fs, period):
            period = p2
    pk, _ = find_peaks(env, distance=max(1, int(0.7 * period * fs)), prominence=np.percentile(env, 75))
    w0 = np.maximum(pk - int(0.05 * fs), 0)
    idx, valid = _padded_windows(w0, pk + 1)
    above = valid & (jerk[np.clip(idx, 0, jerk.size - 1)] >= 0.5 * jerk[pk][:, None])
    return w0 + np.argmax(above, axis=1)


def _ac_at(x: np.ndarray, fs: float, lag_s: float) -> float:
    """Normalised autocorrelation of ``x`` at one lag."""
    k = int(round(lag_s * fs))
    x = x - x.mean()
    if k <= 0 or k >= x.size:
        return float("nan")
    return float(np.dot(x[:-k], x[k:]) / np.dot(x, x))


def events_find(
    frame: pd.DataFrame,
    fs: float,
    *,
    placement: str = "shank",
    acc_only: bool = False,
) -> EventResult:
    """Detect strides and their events in one side's body-frame samples (``time_s``, ``BF_COLS``, ``segment``).

    Works per gap-free ``segment``; a stride never spans a gap. Returns an :class:`EventResult`; an empty
    ``events`` table (no rows) when no gait is found, never an exception.
    """
    parts = []
    warnings: list[str] = []
    seg_col = frame["segment"].to_numpy() if "segment" in frame else np.zeros(len(frame), dtype=np.int32)
    bounds = np.flatnonzero(np.diff(seg_col)) + 1
    starts = np.r_[0, bounds]
    stops = np.r_[bounds, len(frame)]
    t_all = frame[C.TIME].to_numpy()
    for a, b in zip(starts, stops, strict=True):
        if b - a < int(1.5 * fs):
            continue
        sub = frame.iloc[a:b]
        if acc_only:
            ev = _events_acc_only(sub, fs)
        else:
            ev = _events_gyro(sub, fs, placement)
        if len(ev):
            for c in ("ic_idx", "to_idx", "next_ic_idx", "ms_idx"):
                v = ev[c].to_numpy()
                ev[c] = np.where(v >= 0, v + a, -1)
            ev["segment"] = int(seg_col[a])
            for c, src in (
                (C.IC_TIME, "ic_idx"),
                (C.TO_TIME, "to_idx"),
                (C.NEXT_IC_TIME, "next_ic_idx"),
                (C.MID_SWING_TIME, "ms_idx"),
            ):
                v = ev[src].to_numpy()
                ev[c] = np.where(v >= 0, t_all[np.clip(v, 0, len(t_all) - 1)], np.nan)
            # sub-sample refinements (fractions of a sample) carried in *_frac columns
            for c, frac in ((C.IC_TIME, "ic_frac"), (C.NEXT_IC_TIME, "next_ic_frac"), (C.TO_TIME, "to_frac")):
                if frac in ev:
                    ev[c] = ev[c] + ev[frac].fillna(0.0).to_numpy() / fs
            ev[C.MID_STANCE_TIME] = t_all[np.clip(ev["mst_idx"].to_numpy() + a, 0, len(t_all) - 1)]
            ev.loc[ev["mst_idx"].to_numpy() < 0, C.MID_STANCE_TIME] = np.nan
            ev["mst_idx"] = np.where(ev["mst_idx"].to_numpy() >= 0, ev["mst_idx"].to_numpy() + a, -1)
            parts.append(ev)
    cols = [
        C.IC_TIME,
        C.TO_TIME,
        C.NEXT_IC_TIME,
        C.MID_STANCE_TIME,
        C.MID_SWING_TIME,
        "segment",
        "mode",
        "ic_idx",
        "to_idx",
        "next_ic_idx",
        "ms_idx",
        "mst_idx",
    ]
    if not parts:
        warnings.append("no strides found")
        return EventResult(pd.DataFrame(columns=cols), fs, "acc" if acc_only else placement, warnings)
    ev = pd.concat(parts, ignore_index=True)[cols]
    return EventResult(ev, fs, "acc" if acc_only else placement, warnings)


def _modes(stride_times: np.ndarray) -> np.ndarray:
    """"running"/"walking" per stride from the rolling median (5 strides) of the stride time."""
    st = pd.Series(stride_times).rolling(5, center=True, min_periods=1).median().to_numpy()
    return np.where(st < RUN_STRIDE_TIME_MAX, "running", "walking")


def _jerk(acc: np.ndarray, fs: float) -> np.ndarray:
    """Norm of the first difference of the specific force (m/s³); sample k holds the change from k to k+1.

    Low-passed at :data:`IC_JERK_FC` only when the rate is at least :data:`IC_JERK_MIN_FS`: closer to Nyquist the
    zero-phase filter smears the impact over the neighbouring samples (at 100 Hz ICs came 1-2 samples early and 6 %
    were lost to the late-swing deceleration), and the sensor's own anti-alias filter already bounds the noise.
    """
    if fs >= IC_JERK_MIN_FS:
        acc = lowpass(acc, fs, IC_JERK_FC)
    d = np.diff(acc, axis=0, append=acc[-1:])
    return np.sqrt(np.einsum("ij,ij->i", d, d)) * fs


def _jerk_onset(jerk: np.ndarray, w0: np.ndarray, w1: np.ndarray, fs: float, burst: bool = False) -> np.ndarray:
    """Per window [w0, w1): the first sample whose jerk reaches half the window's largest jerk; -1 where empty.

    ``burst=True``: the first sample of the burst that ends at the maximum instead, i.e. of the run of samples at or
    above half the maximum, with dips of up to :data:`IC_BURST_GAP_S` bridged (the impact transient oscillates). An
    earlier, separate rise (the late-swing deceleration, which at low rates can be as steep as a poorly sampled
    impact) is then not taken; but on real loading, whose jerk rises in steps, it is a few ms late (Fukuchi), so it
    only serves to find the typical delay in :func:`_shank_ic`.
    """
    n = jerk.size
    w1 = np.maximum(w1, w0 + 1)
    jmax = _window_arg(jerk, w0, w1, "max")
    ok = jmax >= 0
    idx, valid = _padded_windows(w0, np.where(ok, jmax + 1, w0 + 1))
    above = valid & (jerk[np.clip(idx, 0, n - 1)] >= 0.5 * jerk[np.clip(jmax, 0, n - 1)][:, None])
    if not burst:
        return np.where(ok & above.any(axis=1), w0 + np.argmax(above, axis=1), -1)
    bridged = above.copy()
    for s in range(1, int(round(IC_BURST_GAP_S * fs)) + 1):
        bridged[:, s:] |= above[:, :-s]
    last_gap = np.where(valid & ~bridged, np.arange(idx.shape[1])[None, :], -1).max(axis=1)
    return np.where(ok, w0 + last_gap + 1, -1)


def _shank_ic(
    acc: np.ndarray, zc: np.ndarray, has: np.ndarray, nxt: np.ndarray, fs: float, cap: int
) -> np.ndarray:
    """Shank IC sample per mid-swing: the onset of the impact jerk after the zero crossing ``zc`` of gyr_ml.

    The ground stops the tibia and the specific force changes abruptly (a transient, or the axial loading of the
    stance): IC is the first sample whose jerk reaches half the largest jerk in a window from just before the zero
    crossing that ends the forward swing to 150 ms after it (:func:`_jerk_onset`). The delay from that zero
    crossing to contact is a property of the runner's swing and nearly constant from stride to stride (+-3 ms
    synthetic, +-8 ms Fukuchi within a trial, but 0-90 ms between runners): a stride whose onset lies more than
    :data:`IC_CONSISTENCY_S` from the rolling median delay of its neighbours (from the burst onsets, which the
    late-swing deceleration cannot capture) is searched again only within that distance of it. At low rates,
    where a poorly sampled impact can be weaker than the late-swing deceleration (50 Hz synthetic: 38-65 % of the
    ICs were missed), this keeps the contact found in the other strides; strides that agree are left as they are.
    """
    n = acc.shape[0]
    jerk = _jerk(acc, fs)
    zc_safe = np.where(has, zc, 0)
    w0 = np.maximum(zc_safe - int(0.03 * fs), 0)
    w1 = np.minimum(np.minimum(zc_safe + int(0.15 * fs), nxt), w0 + cap)
    live = has & (w1 > w0)
    ic = np.where(live, _jerk_onset(jerk, w0, w1, fs), -1)
    onset = np.where(live, _jerk_onset(jerk, w0, w1, fs, burst=True), -1)
    if (onset >= 0).sum() < 3:
        return ic

    def rolling_median(d: np.ndarray) -> np.ndarray:
        med = pd.Series(d).rolling(IC_CONSISTENCY_STRIDES, center=True, min_periods=1).median().to_numpy()
        return np.where(np.isfinite(med), med, np.nanmedian(d))

    # typical delay from the burst onsets; the half-max onsets more than IC_EARLY_S before it are taken as the
    # late-swing deceleration and left out of the typical half-max delay that the strides are checked against
    d_burst = rolling_median(np.where(onset >= 0, onset - zc_safe, np.nan).astype(float))
    d_ic = np.where(ic >= 0, ic - zc_safe, np.nan).astype(float)
    early = d_ic < d_burst - max(IC_EARLY_S * fs, 2.5)
    if (np.isfinite(d_ic) & ~early).sum() < 3:
        return ic
    med = rolling_median(np.where(early, np.nan, d_ic))
    half_w = max(IC_CONSISTENCY_S * fs, 1.5)
    redo = live & ((ic < 0) | (np.abs(d_ic - med) > half_w))
    if redo.any():
        centre = zc_safe + np.rint(med).astype(np.int64)
        r0 = np.clip(centre - int(half_w), 0, n - 1)
        r1 = np.clip(np.minimum(centre + int(half_w) + 1, nxt), r0 + 1, n)
        ic = np.where(redo, _jerk_onset(jerk, r0, r1, fs), ic)
    return ic


def _events_gyro(sub: pd.DataFrame, fs: float, placement: str) -> pd.DataFrame:
    cap = int(STRIDE_TIME_RANGE[1] * fs)

    def _window_arg(x, starts, stops, mode="min"):  # noqa: ANN001, ANN202 - windows capped at one long stride
        return _window_arg_capped(x, starts, stops, mode, cap)

    def _steepest(x, starts, stops, mode):  # noqa: ANN001, ANN202
        d = np.diff(x, append=x[-1])
        return _window_arg(d, starts, stops, "min" if mode == "fall" else "max")

    g = sub["gyr_ml"].to_numpy()
    x = lowpass(g, fs, 30.0)
    x6 = lowpass(g, fs, 6.0)
    ms = _mid_swings(x6, fs, MS_REL_THR_FOOT if placement == "foot" else MS_REL_THR)
    if ms.size < 2:
        return pd.DataFrame()
    n = x.size
    nxt = np.r_[ms[1:], n]
    # IC: first +/- zero crossing after MS (before the next MS)
    zc = np.flatnonzero((x[:-1] > 0) & (x[1:] <= 0))
    k = np.searchsorted(zc, ms, side="right")
    has = k < zc.size
    zc_after = np.where(has, zc[np.minimum(k, zc.size - 1)], -1)
    has &= zc_after < nxt
    if placement == "foot":
        ic = np.where(has, zc_after, -1)
        # sub-sample: linear interpolation of the crossing
        x0, x1 = x[np.clip(ic, 0, n - 2)], x[np.clip(ic + 1, 0, n - 1)]
        ic_frac = np.where(has, x0 / np.where(x0 - x1 != 0, x0 - x1, 1.0), 0.0)
    else:
        acc = sub[list(C.ACC_BF)].to_numpy()
        ic = _shank_ic(acc, zc_after, has, nxt, fs, cap)
        ic_frac = np.zeros(ic.size)
    # strides: IC after MS_k to IC after MS_k+1
    ic0, ic1 = ic[:-1], ic[1:]
    ok = (ic0 >= 0) & (ic1 >= 0)
    stride_t = (ic1 - ic0) / fs
    ok &= (stride_t >= STRIDE_TIME_RANGE[0]) & (stride_t <= STRIDE_TIME_RANGE[1])
    mode = _modes(np.where(ok, stride_t, np.nan))
    ms1 = ms[1:]
    # TO between IC_k and MS_k+1
    half = ms[:-1] + (ms1 - ms[:-1]) // 2
    if placement == "foot":
        to = _window_arg(x, np.maximum(half, ic0 + 1), ms1, "min")
    else:
        to_walk = _window_arg(x, np.maximum(half, ic0 + 1), ms1, "min")
        # late stance: between the post-impact minimum of gyr_ml and the early-swing minimum, gyr_ml has a local
        # maximum near zero; the ground reaction force ends shortly after it (steepest drop of acc_si)
        a = np.minimum(ic0 + int(0.08 * fs), ms1 - 1)  # after the impact transient
        # early-swing minimum: in the second half of IC..next MS too, so the post-impact minimum of the stance
        # (often as deep) cannot take its place
        es_start = np.maximum(ms[:-1] + (ms1 - ms[:-1]) * 2 // 5, ic0 + (ms1 - ic0) // 2)
        es_min = _window_arg(x, np.minimum(es_start, ms1 - 1), ms1, "min")
        plateau = _window_arg(x, a, np.maximum(es_min, a + 1), "max")
        acc_f = lowpass(sub["acc_si"].to_numpy(), fs, 20.0)
        # the swing starts when gyr_ml leaves the plateau (falls TO_GYR_DROP below it): the foot is off then or
        # within a few ms; the acc_si drop is searched only around that onset (an earlier drop of the axial
        # force inside the stance, e.g. after a push-off peak, is not the end of contact)
        pk = np.clip(plateau, 0, n - 1)
        idx, valid = _padded_windows(pk, np.clip(es_min, pk + 1, pk + int(0.25 * fs)))
        below = valid & (x[np.clip(idx, 0, n - 1)] < (x[pk] - TO_GYR_DROP)[:, None])
        found = below.any(axis=1)
        onset = np.where(found, pk + np.argmax(below, axis=1), es_min)
        h_on = int(TO_SEARCH_S * fs)
        # only when the plateau is a real interior maximum (else gyr_ml falls through the whole late stance and
        # the onset means nothing): then the whole late stance is searched
        real = found & (plateau >= a + int(0.01 * fs)) & (plateau < es_min - 1)
        lo0 = np.maximum(plateau - int(0.03 * fs), a)
        hi0 = np.maximum(es_min, lo0 + 1)
        lo = np.maximum(onset - h_on, lo0)
        hi = np.maximum(np.minimum(onset + h_on, es_min), lo + 1)
        d_acc = np.diff(acc_f, append=acc_f[-1])
        to_wide = _steepest(acc_f, lo0, hi0, "fall")
        to_near = _steepest(acc_f, lo, hi, "fall")
        # the drop near the onset must be a real end of loading, comparable with the steepest one of late stance
        steep_near, steep_wide = d_acc[np.clip(to_near, 0, n - 1)], d_acc[np.clip(to_wide, 0, n - 1)]
        real &= (to_near >= 0) & (steep_near <= TO_FALL_RATIO * steep_wide)
        to_run = np.where(real, to_near, to_wide)
        to = np.where(mode == "running", to_run, to_walk)
    ok &= (to > ic0) & (to < ic1)
    # mid-stance
    if placement == "foot":
        gn = np.linalg.norm(sub[list(C.GYR_BF)].to_numpy(), axis=1)
        gn = uniform_filter1d(gn, max(1, int(0.1 * fs)), mode="nearest")  # centre of the flat-foot period
        mst = _window_arg(gn, np.where(ok, ic0, 0), np.where(ok, to, 0), "min")
    else:
        mst = np.where(ok, (ic0 + to) // 2, -1)
    ev = pd.DataFrame(
        {
            "ic_idx": np.where(ok, ic0, -1),
            "to_idx": np.where(ok, to, -1),
            "next_ic_idx": np.where(ok, ic1, -1),
            "ms_idx": ms1,
            "mst_idx": np.where(ok, mst, -1),
            "ic_frac": ic_frac[:-1],
            "next_ic_frac": ic_frac[1:],
            "mode": mode,
        }
    )
    return ev[ok].reset_index(drop=True)


def _events_acc_only(sub: pd.DataFrame, fs: float) -> pd.DataFrame:
    ic = _acc_only_ic(sub[list(C.ACC_BF)].to_numpy(), fs)
    if ic.size < 2:
        return pd.DataFrame()
    ic0, ic1 = ic[:-1], ic[1:]
    st = (ic1 - ic0) / fs
    ok = (st >= STRIDE_TIME_RANGE[0]) & (st <= STRIDE_TIME_RANGE[1])
    ev = pd.DataFrame(
        {
            "ic_idx": ic0,
            "to_idx": -1,
            "next_ic_idx": ic1,
            "ms_idx": -1,
            "mst_idx": -1,
            "mode": _modes(np.where(ok, st, np.nan)),
        }
    )
    return ev[ok].reset_index(drop=True)


def gait_bouts(
    events: pd.DataFrame, still: np.ndarray, t: np.ndarray, *, max_gap_strides: float = 1.5
) -> tuple[pd.DataFrame, np.ndarray]:
    """Group strides into bouts and list still periods.

    A bout is a run of strides of the same mode (running/walking) where each stride starts within
    ``max_gap_strides`` stride times of the previous one's end, inside one segment. Returns the bouts table
    (``bout_id, kind, start_s, end_s, n_strides``; still periods get ``kind="still"`` and ``n_strides=0``) and the
    bout id of each stride.
    """
    rows = []
    bout_of = np.full(len(events), -1, dtype=np.int64)
    if len(events):
        ic = events[C.IC_TIME].to_numpy()
        nic = events[C.NEXT_IC_TIME].to_numpy()
        mode = events["mode"].to_numpy()
        seg = events["segment"].to_numpy()
        st = nic - ic
        brk = np.r_[
            True,
            (ic[1:] - nic[:-1] > max_gap_strides * st[:-1]) | (mode[1:] != mode[:-1]) | (seg[1:] != seg[:-1]),
        ]
        bout_of = np.cumsum(brk) - 1
        g = pd.DataFrame({"b": bout_of, "ic": ic, "nic": nic, "mode": mode})
        agg = g.groupby("b").agg(start_s=("ic", "min"), end_s=("nic", "max"), kind=("mode", "first"), n=("ic", "size"))
        for b, r in agg.iterrows():
            rows.append((int(b), str(r.kind), float(r.start_s), float(r.end_s), int(r.n)))
    # still periods (>= 1 s)
    if still.size:
        d = np.diff(np.r_[0, still.astype(np.int8), 0])
        s0, s1 = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
        for a, b in zip(s0, s1, strict=True):
            if t[b - 1] - t[a] >= 1.0:
                rows.append((-1, "still", float(t[a]), float(t[b - 1]), 0))
    bouts = pd.DataFrame(rows, columns=[C.BOUT_ID, "kind", "start_s", "end_s", "n_strides"])
    bouts = bouts.sort_values("start_s", kind="stable").reset_index(drop=True)
    return bouts, bout_of
