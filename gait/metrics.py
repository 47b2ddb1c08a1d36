"""The stride table, per-run summaries, left/right asymmetry, and the clock offset between the two sensors.

Definitions (reference section 2.2; IC_i(k), TO_i(k) events of leg i, j the other leg):

* stride time ``IC_i(k+1) - IC_i(k)``; contact ``TO_i(k) - IC_i(k)``; swing = stride - contact;
  duty factor = contact / stride; cadence = 120 / stride time (steps/min);
* step time: first IC of the other leg after this IC, minus this IC; flight time: that same IC minus this leg's TO,
  clipped at 0 (the legs overlap in walking). Both need the two clocks aligned: see :func:`clock_offset`.

Asymmetry per metric: left and right means, the difference R - L, the symmetry index
``SI = (R - L) / (0.5 (R + L)) * 100`` and the symmetry angle of Zifchock et al. 2008
``SA = (45 deg - arctan(L / R)) / 90 deg * 100`` (with the > 90 deg correction). Whether the difference exceeds the
stride-to-stride noise is a **Welch t-test** on the per-stride values (p < 0.05). Strides within a run are
autocorrelated, so this p-value is optimistic; treat it as a screen, not as inference between runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gait import conventions as C

__all__ = ["ClockOffset", "asymmetry", "bridged_per_stride", "clock_offset", "stride_table", "summarize"]

#: Contact-time fraction of the stride outside which a stride is flagged invalid.
DUTY_RANGE = (0.12, 0.85)
#: A stride whose time deviates more than this fraction from the local median is flagged invalid.
STRIDE_TIME_DEVIATION = 0.25


@dataclass
class ClockOffset:
    """Right-sensor clock minus left-sensor clock, as ``offset_s + drift * (t - t_ref_s)`` (right clock, s)."""

    offset_s: float
    drift: float
    t_ref_s: float
    n_pairs: int
    method: str
    applied: bool
    note: str = ""

    def correct(self, t_right: np.ndarray) -> np.ndarray:
        """Right-clock times -> left-clock times."""
        return np.asarray(t_right, float) - (self.offset_s + self.drift * (np.asarray(t_right, float) - self.t_ref_s))

    def as_dict(self) -> dict:
        return {
            "offset_s": round(self.offset_s, 5),
            "drift_ppm": round(self.drift * 1e6, 1),
            "n_pairs": self.n_pairs,
            "method": self.method,
            "applied": self.applied,
            "note": self.note,
        }


def clock_offset(
    ic_left: np.ndarray,
    ic_right: np.ndarray,
    *,
    onset_left_s: float | None = None,
    onset_right_s: float | None = None,
    min_apply_s: float = 0.02,
) -> ClockOffset:
    """Estimate the right-minus-left clock offset (and drift) from the alternation of initial contacts.

    In steady gait the right IC falls half-way through the left stride on average, so the offset is the median
    departure of that phase from 0.5, in seconds (a robust line over time gives the drift). Limits: (1) a real
    step-time asymmetry is indistinguishable from an offset, so offsets below ``min_apply_s`` are reported but not
    applied (clocks synchronised by the recorder are trusted to that level); (2) the phase only gives the offset
    modulo a stride time: when both sensors see a still -> moving onset, the multiple of the stride closest to the
    onset difference is chosen, otherwise the one closest to zero.
    """
    ic_left = np.sort(np.asarray(ic_left, float))
    ic_right = np.sort(np.asarray(ic_right, float))
    if ic_left.size < 4 or ic_right.size < 4:
        return ClockOffset(0.0, 0.0, 0.0, 0, "none", False, "too few strides on one side")
    k = np.searchsorted(ic_left, ic_right, side="right") - 1
    ok = (k >= 0) & (k < ic_left.size - 1)
    k = k[ok]
    tr = ic_right[ok]
    T = ic_left[k + 1] - ic_left[k]
    okT = (T > 0.4) & (T < 2.2)
    k, tr, T = k[okT], tr[okT], T[okT]
    if tr.size < 4:
        return ClockOffset(0.0, 0.0, 0.0, 0, "none", False, "too few overlapping strides")
    phase = (tr - ic_left[k]) / T  # in [0, 1)
    ang = np.unwrap(2 * np.pi * (phase - 0.5))
    d = ang / (2 * np.pi) * T  # offset estimate per pair (s), continuous over the run
    # robust line d = a + b (t - t_ref)
    t_ref = float(np.median(tr))
    x = tr - t_ref
    keep = np.ones(d.size, bool)
    a, b = float(np.median(d)), 0.0
    for _ in range(3):
        res = d - (a + b * x)
        mad = np.median(np.abs(res[keep] - np.median(res[keep]))) + 1e-6
        keep = np.abs(res - np.median(res[keep])) < 4 * 1.4826 * mad
        if keep.sum() < 4:
            break
        a, b = float(np.mean(d[keep])), 0.0  # mean of the inliers: sub-sample precision
        if np.ptp(x[keep]) > 120.0:  # a drift is only identifiable over minutes
            (b2, a2), cov = np.polyfit(x[keep], d[keep], 1, cov=True)
            if abs(b2) > 3 * np.sqrt(cov[0, 0]):  # keep it only when significant
                a, b = float(a2), float(b2)
    T_med = float(np.median(T))
    method = "ic-alternation"
    note = ""
    if onset_left_s is not None and onset_right_s is not None:
        coarse = onset_right_s - onset_left_s
        n = np.round((coarse - a) / T_med)
        a += n * T_med
        method += "+onset"
    else:
        n = np.round(-a / T_med)
        a += n * T_med
    applied = bool(np.max(np.abs(a + b * x)) >= min_apply_s)
    if not applied:
        note = f"offset {a * 1000:.1f} ms below {min_apply_s * 1000:.0f} ms: not applied (may be step asymmetry)"
    return ClockOffset(float(a), float(b), t_ref, int(keep.sum()), method, bool(applied), note)


#: Bridged (interpolated) data this close (s) to IC or TO, or between them, or this close to the next IC, make a
#: stride invalid.
BRIDGE_CONTACT_MARGIN_S = 0.03


def bridged_per_stride(
    bridged: np.ndarray | None,
    fs: float,
    ic_idx: np.ndarray,
    to_idx: np.ndarray,
    next_ic_idx: np.ndarray,
    *,
    margin_s: float = BRIDGE_CONTACT_MARGIN_S,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seconds of bridged samples per stride (IC to next IC), around its contact (IC - margin to TO + margin) and
    around the IC that ends it (next IC +- margin).

    ``bridged`` is :attr:`gait.preprocess.Preprocessed.bridged` (None: nothing bridged, all zeros); indices are rows
    of the preprocessed frame (a missing TO, -1, gives the window IC +- margin). Bridged data at contact make the
    IC itself, the contact time, the shank angle at IC and the peak tibial acceleration untrustworthy; at the next
    IC they displace the stride's end (synthetic running, 2 % packet loss: stride time error 4.2 vs 1.6 ms, stride
    length 4.3 vs 2.1 cm); in the swing they only add a little integration error to the stride length
    (``benchmarks/bench_packet_loss.py``).
    """
    ic = np.asarray(ic_idx, dtype=np.int64)
    zero = np.zeros(ic.size)
    if bridged is None or not bridged.any() or ic.size == 0:
        return zero, zero.copy(), zero.copy()
    cs = np.r_[0, np.cumsum(bridged, dtype=np.int64)]
    n = bridged.size
    to = np.asarray(to_idx, dtype=np.int64)
    nxt = np.asarray(next_ic_idx, dtype=np.int64)
    ok = ic >= 0
    m = int(round(margin_s * fs))

    def count(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # bridged samples in rows [a, b)
        a, b = np.clip(a, 0, n), np.clip(b, 0, n)
        return np.where(ok & (b > a), cs[b] - cs[a], 0)

    total = count(ic, np.where(nxt > ic, nxt, ic)) / fs
    end = np.where(to > ic, to, ic) + m + 1
    contact = count(ic - m, end) / fs
    ending = np.where(nxt > ic, count(nxt - m, nxt + m + 1), 0) / fs
    return total, contact, ending


def _first_after(times: np.ndarray, after: np.ndarray) -> np.ndarray:
    """For each value of ``after``, the first of ``times`` (sorted) strictly later; NaN when none."""
    if times.size == 0:
        return np.full(after.shape, np.nan)
    k = np.searchsorted(times, after, side="right")
    out = times[np.minimum(k, times.size - 1)]
    return np.where(k < times.size, out, np.nan)


def stride_table(per_side: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Assemble the stride table (``conventions.STRIDE_COLS``) from per-side event + kinematics frames.

    Each input frame has at least ``ic_time_s, to_time_s, next_ic_time_s, bout_id`` and the kinematic columns, with
    times already in one common clock. Adds temporal metrics, step and flight time against the other side (when
    present) and the ``valid``/``invalid_reason`` flags.
    """
    parts = []
    for side, df in per_side.items():
        if df is None or len(df) == 0:
            continue
        # the new columns are collected and the frame built once (inserting columns one by one cost ~70 % of this)
        d = dict(df.items())
        d[C.SIDE] = side
        d[C.STRIDE_ID] = np.arange(len(df))
        d[C.STRIDE_TIME] = d[C.NEXT_IC_TIME] - d[C.IC_TIME]
        d[C.CONTACT_TIME] = d[C.TO_TIME] - d[C.IC_TIME]
        d[C.SWING_TIME] = d[C.STRIDE_TIME] - d[C.CONTACT_TIME]
        d[C.DUTY_FACTOR] = d[C.CONTACT_TIME] / d[C.STRIDE_TIME]
        d[C.CADENCE] = 120.0 / d[C.STRIDE_TIME]
        other = [s for s in per_side if s != side and per_side[s] is not None and len(per_side[s])]
        if other:
            o_ic = np.sort(per_side[other[0]][C.IC_TIME].to_numpy(float))
            nxt_other = _first_after(o_ic, d[C.IC_TIME].to_numpy(float))
            step = nxt_other - d[C.IC_TIME].to_numpy(float)
            # the other leg's IC must fall inside this stride, else a stride of the other leg is missing
            inside = nxt_other < d[C.NEXT_IC_TIME].to_numpy(float)
            d[C.STEP_TIME] = np.where(inside, step, np.nan)
            flight = np.maximum(nxt_other - d[C.TO_TIME].to_numpy(float), 0.0)
            d[C.FLIGHT_TIME] = np.where(inside, flight, np.nan)
        else:
            d[C.STEP_TIME] = np.nan
            d[C.FLIGHT_TIME] = np.nan
        # validity
        reason = np.full(len(df), "", dtype=object)
        st = d[C.STRIDE_TIME].to_numpy(float)
        med = pd.Series(st).rolling(9, center=True, min_periods=1).median().to_numpy()
        dev = np.abs(st - med) / med > STRIDE_TIME_DEVIATION
        reason[dev] = "stride time deviates from its neighbours"
        duty = d[C.DUTY_FACTOR].to_numpy(float)
        bad_duty = np.isfinite(duty) & ((duty < DUTY_RANGE[0]) | (duty > DUTY_RANGE[1]))
        reason[bad_duty & (reason == "")] = "implausible contact time"
        if C.INVALID_REASON in d and d[C.INVALID_REASON].notna().any():
            prior = d[C.INVALID_REASON].fillna("").astype(str).to_numpy()
            reason = np.where(reason == "", prior, reason)
        d[C.VALID] = reason == ""
        d[C.INVALID_REASON] = pd.Series(np.where(reason == "", None, reason), index=df.index, dtype=object)
        parts.append(pd.DataFrame(d, index=df.index))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object if c in (C.SIDE, C.INVALID_REASON) else float)
                             for c in STRIDE_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    for c in STRIDE_COLUMNS:
        if c not in out:
            out[c] = np.nan
    extra = [c for c in (C.MID_STANCE_TIME, C.MID_SWING_TIME) if c in out]
    out = out[list(STRIDE_COLUMNS) + extra].sort_values([C.IC_TIME], kind="stable").reset_index(drop=True)
    out[C.STRIDE_ID] = out[C.STRIDE_ID].astype(np.int64)
    out[C.BOUT_ID] = out[C.BOUT_ID].astype(np.int64)
    out[C.VALID] = out[C.VALID].astype(bool)
    return out


STRIDE_COLUMNS = C.STRIDE_COLS


#: Metrics summarised and compared: ``conventions.METRICS`` plus the step time (asymmetry of steps matters).
SUMMARY_METRICS = (*C.METRICS, C.STEP_TIME)


def _metric_cols(strides: pd.DataFrame) -> list[str]:
    return [m for m in SUMMARY_METRICS if m in strides and strides[m].notna().any()]


def summarize(strides: pd.DataFrame, *, valid_only: bool = True) -> pd.DataFrame:
    """Per side and for both sides together: n, mean, SD, CV (%), median, IQR, q25, q75 of every metric.

    One row per (side, metric), sides ``left``, ``right`` and ``both``; a plain DataFrame.
    """
    d = strides[strides[C.VALID]] if valid_only and C.VALID in strides else strides
    rows = []
    metrics = _metric_cols(d)
    sides = d[C.SIDE].to_numpy()
    groups = [(s, sides == s) for s in C.SIDES if (sides == s).any()] + [("both", None)]
    cols = {m: d[m].to_numpy(float) for m in metrics}
    for side, sel in groups:
        for m in metrics:
            x = cols[m] if sel is None else cols[m][sel]
            x = x[np.isfinite(x)]
            n = x.size
            if n == 0:
                rows.append((side, m, 0, *([np.nan] * 7)))
                continue
            mean = float(np.mean(x))
            sd = float(np.std(x, ddof=1)) if n > 1 else np.nan
            q25, med, q75 = np.percentile(x, [25, 50, 75])
            cv = 100 * sd / abs(mean) if mean != 0 else np.nan
            rows.append((side, m, n, mean, sd, cv, float(med), float(q75 - q25), float(q25), float(q75)))
    return pd.DataFrame(rows, columns=["side", "metric", "n", "mean", "sd", "cv_pct", "median", "iqr", "q25", "q75"])


def symmetry_angle(left: float | np.ndarray, right: float | np.ndarray) -> np.ndarray:
    """Zifchock et al. 2008 symmetry angle (%), 0 = symmetric, with the > 90 deg correction."""
    left = np.asarray(left, float)
    right = np.asarray(right, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ang = 45.0 - np.degrees(np.arctan(left / right))
    ang = np.where(np.abs(ang) > 90.0, ang - 180.0, ang)
    return ang / 90.0 * 100.0


def _welch_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided p of Welch's t-test, as ``scipy.stats.ttest_ind(a, b, equal_var=False).pvalue`` (the same
    arithmetic, step by step) without its ~2 ms of per-call machinery; ``a`` and ``b`` hold >= 2 finite values."""
    from scipy.special import stdtr

    n1, n2 = float(a.size), float(b.size)
    m1, m2 = np.mean(a), np.mean(b)
    v1 = np.mean((a - m1) ** 2) * (n1 / (n1 - 1))
    v2 = np.mean((b - m2) ** 2) * (n2 / (n2 - 1))
    vn1, vn2 = v1 / n1, v2 / n2
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (vn1 + vn2) ** 2 / (vn1**2 / (n1 - 1) + vn2**2 / (n2 - 1))
        df = 1.0 if np.isnan(df) else df
        t = np.divide(m1 - m2, np.sqrt(vn1 + vn2))
    return float(2 * stdtr(df, -np.abs(t)))


def asymmetry(strides: pd.DataFrame, *, valid_only: bool = True, alpha: float = 0.05) -> pd.DataFrame:
    """Left/right asymmetry per metric: means, R - L, SI (%), SA (%), Welch t-test p and ``exceeds_noise``.

    ``exceeds_noise`` follows the rule of the running-biomechanics reference (§2.7): a difference is flagged only when
    it is both statistically clear (Welch t-test on the per-stride values, p < ``alpha``) *and* larger than the
    stride-to-stride spread within a leg (``noise_sd``, the pooled within-leg SD). With hundreds of strides the test
    alone would flag differences far below anything a runner could feel or change.
    """
    d = strides[strides[C.VALID]] if valid_only and C.VALID in strides else strides
    rows = []
    side = d[C.SIDE].to_numpy()
    is_l, is_r = side == "left", side == "right"
    for m in _metric_cols(d):
        x = d[m].to_numpy(float)
        xl, xr = x[is_l], x[is_r]
        xl, xr = xl[np.isfinite(xl)], xr[np.isfinite(xr)]
        if xl.size == 0 or xr.size == 0:
            continue
        ml, mr = float(np.mean(xl)), float(np.mean(xr))
        denom = 0.5 * (ml + mr)
        si = (mr - ml) / denom * 100 if denom != 0 else np.nan
        sa = float(symmetry_angle(ml, mr))
        if xl.size >= 3 and xr.size >= 3 and (np.std(xl) > 0 or np.std(xr) > 0):
            p = _welch_p(xr, xl)
        else:
            p = np.nan
        dof = xl.size + xr.size - 2
        noise = (
            float(np.sqrt(((xl.size - 1) * np.var(xl, ddof=1) + (xr.size - 1) * np.var(xr, ddof=1)) / dof))
            if xl.size > 1 and xr.size > 1
            else np.nan
        )
        beyond = bool(np.isfinite(p) and p < alpha and np.isfinite(noise) and abs(mr - ml) > noise)
        rows.append((m, xl.size, xr.size, ml, mr, mr - ml, si, sa, p, noise, beyond))
    cols = ["metric", "n_left", "n_right", "left", "right", "diff_r_minus_l", "si_pct", "sa_pct", "welch_p",
            "noise_sd", "exceeds_noise"]
    return pd.DataFrame(rows, columns=cols)
