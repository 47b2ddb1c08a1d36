"""Validation machinery behind ``gait validate``: match detected strides to a reference and score them.

Why: every claim about accuracy must come from real reference data (force plate, motion capture, checked
events) or synthetic truth, computed the same way everywhere. This module

* matches each reference initial contact (IC) to the nearest detected IC of the same side within a tolerance
  (one-to-one), giving precision / recall / F1 of stride detection;
* computes bias, 95% limits of agreement (bias +/- 1.96 SD), mean and median absolute error of IC and TO (ms),
  contact time and stride time (ms), stride length (cm and %) and shank angle at contact (deg);
* builds the input of each dataset (a :class:`gait.Session`), runs an injected analyzer (default
  :func:`gait.analyze`) and returns one tidy DataFrame per dataset, with the targets of the engine issue.

Columns of the tidy result: ``dataset, trial, side, metric, unit, n, bias, loa_low, loa_high, mae, median_abs,
stat, value, target, pass, note``. ``stat`` names the statistic the target applies to and ``value`` is its
value (e.g. ``median_abs`` for event times, ``mae`` for stride length, ``value`` = F1 for detection rows).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gait.conventions import (
    CADENCE,
    CONTACT_TIME,
    IC_TIME,
    NEXT_IC_TIME,
    SHANK_ANGLE_IC,
    SIDE,
    SIDES,
    STRIDE_LENGTH,
    STRIDE_TIME,
    TO_TIME,
    VALID,
)

__all__ = [
    "RESULT_COLS",
    "TARGETS",
    "StrideComparison",
    "Target",
    "agreement",
    "compare_strides",
    "detection_scores",
    "fukuchi_session",
    "fukuchi_virtual_imus",
    "format_table",
    "make_session",
    "match_events",
    "metric_rows",
    "validate_adeptdata",
    "validate_all",
    "validate_fukuchi",
    "validate_gaitmap",
    "validate_ipol",
    "synthetic_session",
    "validate_synthetic",
]

PathLike = str | os.PathLike[str]
Analyzer = Callable[[Any], Any]
Interval = tuple[float, float]

RESULT_COLS = (
    "dataset",
    "trial",
    "side",
    "metric",
    "unit",
    "n",
    "bias",
    "loa_low",
    "loa_high",
    "mae",
    "median_abs",
    "stat",
    "value",
    "target",
    "pass",
    "note",
)

#: metric name -> (unit, function(pairs) -> errors). Pairs have ``ref_<col>`` and ``det_<col>`` columns.
METRIC_UNITS = {
    "ic_ms": "ms",
    "to_ms": "ms",
    "contact_time_ms": "ms",
    "stride_time_ms": "ms",
    "stride_length_cm": "cm",
    "stride_length_pct": "%",
    "shank_angle_ic_deg": "deg",
}


@dataclass(frozen=True)
class Target:
    """A pass/fail threshold: ``stat`` compared with ``op`` (``<=``, ``>=``, ``in``) to ``value``."""

    stat: str
    op: str
    value: float | tuple[float, float]

    def check(self, x: float) -> bool | None:
        """True/False, or None when ``x`` is NaN (nothing to judge)."""
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return None
        if self.op == "<=":
            return bool(x <= self.value)  # type: ignore[operator]
        if self.op == ">=":
            return bool(x >= self.value)  # type: ignore[operator]
        lo, hi = self.value  # type: ignore[misc]
        return bool(lo <= x <= hi)

    def __str__(self) -> str:
        if self.op == "in":
            lo, hi = self.value  # type: ignore[misc]
            return f"{self.stat} in [{lo:g}, {hi:g}]"
        return f"{self.stat} {'≤' if self.op == '<=' else '≥'} {self.value:g}"


#: Targets of the engine issue, per dataset and metric. Event times: median absolute error; stride length,
#: contact time and shank angle: mean absolute error (the stricter reading where the issue does not name the
#: statistic).
TARGETS: dict[str, dict[str, Target]] = {
    "gaitmap": {
        "stride_length_cm": Target("mae", "<=", 3.0),
        "ic_ms": Target("median_abs", "<=", 15.0),
        "to_ms": Target("median_abs", "<=", 15.0),
    },
    "ipol": {
        "stride_f1": Target("value", ">=", 0.99),
        "ic_ms": Target("median_abs", "<=", 20.0),
        "to_ms": Target("median_abs", "<=", 20.0),
    },
    "fukuchi": {
        "stride_f1": Target("value", ">=", 0.98),
        "ic_ms": Target("median_abs", "<=", 15.0),
        "to_ms": Target("median_abs", "<=", 15.0),
        "contact_time_ms": Target("mae", "<=", 15.0),
        "stride_length_pct": Target("mae", "<=", 3.0),
        "shank_angle_ic_deg": Target("mae", "<=", 2.0),
    },
    "synthetic": {
        "stride_length_pct": Target("mae", "<=", 2.0),
        "shank_angle_ic_deg": Target("mae", "<=", 1.5),
        "contact_time_ms": Target("mae", "<=", 10.0),
    },
    "adeptdata": {
        "cadence_spm": Target("value", "in", (140.0, 200.0)),
        "stride_coverage": Target("value", ">=", 0.9),
    },
}


# --- matching and statistics --------------------------------------------------------------------------------


def match_events(
    ref: Sequence[float] | np.ndarray, det: Sequence[float] | np.ndarray, tolerance: float
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matching of event times: closest pairs first, each within ``tolerance``.

    Returns index arrays ``(ref_idx, det_idx)`` of the matched pairs, sorted by reference index. NaN times
    never match. Candidate pairs are found with ``searchsorted`` (no quadratic scan).
    """
    r = np.asarray(ref, dtype=float)
    d = np.asarray(det, dtype=float)
    if r.size == 0 or d.size == 0:
        return np.array([], dtype=int), np.array([], dtype=int)
    d_ok = np.flatnonzero(np.isfinite(d))
    order = d_ok[np.argsort(d[d_ok], kind="stable")]
    ds = d[order]
    lo = np.searchsorted(ds, r - tolerance, side="left")
    hi = np.searchsorted(ds, r + tolerance, side="right")
    counts = np.where(np.isfinite(r), hi - lo, 0)
    ri = np.repeat(np.arange(r.size), counts)
    offs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    dj = order[np.repeat(lo, counts) + offs]
    dist = np.abs(d[dj] - r[ri])
    keep_r: list[int] = []
    keep_d: list[int] = []
    used_r: set[int] = set()
    used_d: set[int] = set()
    for k in np.argsort(dist, kind="stable"):  # greedy over candidate pairs (few per event)
        i, j = int(ri[k]), int(dj[k])
        if i in used_r or j in used_d:
            continue
        used_r.add(i)
        used_d.add(j)
        keep_r.append(i)
        keep_d.append(j)
    out_r = np.array(keep_r, dtype=int)
    out_d = np.array(keep_d, dtype=int)
    s = np.argsort(out_r)
    return out_r[s], out_d[s]


def detection_scores(n_ref: int, n_det: int, n_matched_ref: int, n_false_pos: int | None = None) -> dict:
    """Precision, recall and F1 of stride detection.

    ``recall = matched references / references``; ``precision = (detections - false positives) / detections``
    with ``false positives = detections - matched`` unless given (detections may match references that are not
    themselves evaluated, e.g. a stride that just touches the U-turn). NaN when a denominator is 0.
    """
    fp = n_det - n_matched_ref if n_false_pos is None else n_false_pos
    recall = n_matched_ref / n_ref if n_ref else math.nan
    precision = (n_det - fp) / n_det if n_det else math.nan
    if math.isnan(recall) or math.isnan(precision) or precision + recall == 0:
        f1 = math.nan if (math.isnan(recall) or math.isnan(precision)) else 0.0
    else:
        f1 = 2 * precision * recall / (precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "n_ref": n_ref, "n_det": n_det, "fp": fp}


def agreement(errors: Iterable[float] | np.ndarray) -> dict[str, float]:
    """Bland-Altman style summary of errors (detected - reference), NaNs dropped.

    ``bias`` (mean), ``sd`` (ddof 1), ``loa_low``/``loa_high`` = bias -/+ 1.96 SD, ``mae``, ``median_abs``,
    ``rmse``, ``n``.
    """
    e = np.asarray(list(errors) if not isinstance(errors, np.ndarray) else errors, dtype=float)
    e = e[np.isfinite(e)]
    n = int(e.size)
    if n == 0:
        nan = math.nan
        return {
            "n": 0,
            "bias": nan,
            "sd": nan,
            "loa_low": nan,
            "loa_high": nan,
            "mae": nan,
            "median_abs": nan,
            "rmse": nan,
        }
    bias = float(e.mean())
    sd = float(e.std(ddof=1)) if n > 1 else math.nan
    return {
        "n": n,
        "bias": bias,
        "sd": sd,
        "loa_low": bias - 1.96 * sd,
        "loa_high": bias + 1.96 * sd,
        "mae": float(np.abs(e).mean()),
        "median_abs": float(np.median(np.abs(e))),
        "rmse": float(np.sqrt(np.mean(e**2))),
    }


def _in_intervals(t: np.ndarray, intervals: Sequence[Interval] | None) -> np.ndarray:
    if intervals is None:
        return np.ones(t.shape, dtype=bool)
    m = np.zeros(t.shape, dtype=bool)
    for a, b in intervals:
        m |= (t >= a) & (t <= b)
    return m


def _overlaps(start: np.ndarray, end: np.ndarray, intervals: Sequence[Interval] | None) -> np.ndarray:
    m = np.zeros(start.shape, dtype=bool)
    for a, b in intervals or ():
        m |= (end >= a) & (start <= b)
    return m


@dataclass
class StrideComparison:
    """Matched strides and detection counts of one reference / detection pair of stride tables."""

    pairs: pd.DataFrame
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def scores(self, side: str = "both") -> dict:
        """Detection scores for ``"left"``, ``"right"`` or ``"both"``."""
        sides = SIDES if side == "both" else (side,)
        c = {k: sum(self.counts.get(s, {}).get(k, 0) for s in sides) for k in ("n_ref", "n_det", "tp", "fp")}
        return detection_scores(c["n_ref"], c["n_det"], c["tp"], c["fp"])

    def errors(self, metric: str, side: str = "both") -> np.ndarray:
        """Errors (detected - reference) of one metric of :data:`METRIC_UNITS`, for a side or both."""
        p = self.pairs if side == "both" else self.pairs[self.pairs[SIDE] == side]
        if metric == "ic_ms":
            return 1000 * (p[f"det_{IC_TIME}"] - p[f"ref_{IC_TIME}"]).to_numpy(float)
        if metric == "to_ms":
            return 1000 * (p[f"det_{TO_TIME}"] - p[f"ref_{TO_TIME}"]).to_numpy(float)
        if metric == "contact_time_ms":
            return 1000 * (p[f"det_{CONTACT_TIME}"] - p[f"ref_{CONTACT_TIME}"]).to_numpy(float)
        if metric == "stride_time_ms":
            return 1000 * (p[f"det_{STRIDE_TIME}"] - p[f"ref_{STRIDE_TIME}"]).to_numpy(float)
        if metric == "stride_length_cm":
            return 100 * (p[f"det_{STRIDE_LENGTH}"] - p[f"ref_{STRIDE_LENGTH}"]).to_numpy(float)
        if metric == "stride_length_pct":
            ref = p[f"ref_{STRIDE_LENGTH}"].to_numpy(float)
            return 100 * (p[f"det_{STRIDE_LENGTH}"].to_numpy(float) - ref) / ref
        if metric == "shank_angle_ic_deg":
            return (p[f"det_{SHANK_ANGLE_IC}"] - p[f"ref_{SHANK_ANGLE_IC}"]).to_numpy(float)
        raise ValueError(f"metric: allowed values are {', '.join(METRIC_UNITS)}, but got {metric!r}")


_PAIR_COLS = (IC_TIME, TO_TIME, NEXT_IC_TIME, STRIDE_TIME, CONTACT_TIME, STRIDE_LENGTH, SHANK_ANGLE_IC)


def _complete(df: pd.DataFrame) -> pd.DataFrame:
    """Copy with the pair columns present; stride and contact time derived from events where missing."""
    out = df.copy()
    for c in _PAIR_COLS:
        if c not in out.columns:
            out[c] = np.nan
    out[STRIDE_TIME] = out[STRIDE_TIME].fillna(out[NEXT_IC_TIME] - out[IC_TIME])
    out[CONTACT_TIME] = out[CONTACT_TIME].fillna(out[TO_TIME] - out[IC_TIME])
    return out


def compare_strides(
    reference: pd.DataFrame,
    detected: pd.DataFrame,
    tolerance_s: float = 0.1,
    *,
    window: Mapping[str, Sequence[Interval]] | Sequence[Interval] | None = None,
    exclude: Mapping[str, Sequence[Interval]] | Sequence[Interval] | None = None,
    ref_mask: pd.Series | np.ndarray | None = None,
    valid_only: bool = False,
) -> StrideComparison:
    """Match detected to reference strides by IC (per side) and count detections.

    Every reference IC is a matching candidate; only *evaluated* references count for recall and the error
    statistics: full strides (finite ``next_ic_time_s``), with ``ref_mask`` True, IC inside ``window`` and the
    stride not overlapping ``exclude``. Detected strides count for precision when their IC is inside
    ``window`` and they do not overlap ``exclude``; one that matches no reference IC at all is a false
    positive. ``window``/``exclude`` are lists of (start, end) seconds, or dicts of them per side.
    ``valid_only`` drops detected rows whose ``valid`` column is False first.
    """
    ref = _complete(reference).reset_index(drop=True)
    det = _complete(detected).reset_index(drop=True)
    if valid_only and VALID in det.columns:
        det = det[det[VALID].fillna(False).astype(bool)].reset_index(drop=True)
    if ref_mask is None:
        ref_mask_arr = np.ones(len(ref), dtype=bool)
    else:
        ref_mask_arr = np.asarray(ref_mask, dtype=bool)
        if ref_mask_arr.shape != (len(ref),):
            raise ValueError("ref_mask must have one entry per reference stride")

    def per_side(x: Any, side: str) -> Sequence[Interval] | None:
        return x.get(side) if isinstance(x, Mapping) else x

    pair_frames = []
    counts: dict[str, dict[str, int]] = {}
    for side in SIDES:
        rs = ref[ref[SIDE] == side]
        ds = det[det[SIDE] == side]
        r_ic = rs[IC_TIME].to_numpy(float)
        d_ic = ds[IC_TIME].to_numpy(float)
        w, ex = per_side(window, side), per_side(exclude, side)
        r_end = rs[NEXT_IC_TIME].to_numpy(float)
        r_eval = (
            ref_mask_arr[rs.index.to_numpy()]
            & np.isfinite(r_end)
            & _in_intervals(r_ic, w)
            & ~_overlaps(r_ic, r_end, ex)
        )
        d_end = ds[NEXT_IC_TIME].fillna(ds[IC_TIME]).to_numpy(float)
        d_eval = np.isfinite(d_ic) & _in_intervals(d_ic, w) & ~_overlaps(d_ic, d_end, ex)
        ri, di = match_events(r_ic, d_ic, tolerance_s)
        matched_det = np.zeros(len(ds), dtype=bool)
        matched_det[di] = True
        keep = r_eval[ri]
        counts[side] = {
            "n_ref": int(r_eval.sum()),
            "n_det": int(d_eval.sum()),
            "tp": int(keep.sum()),
            "fp": int((d_eval & ~matched_det).sum()),
        }
        a = rs.iloc[ri[keep]][list(_PAIR_COLS)].add_prefix("ref_").reset_index(drop=True)
        b = ds.iloc[di[keep]][list(_PAIR_COLS)].add_prefix("det_").reset_index(drop=True)
        pf = pd.concat([a, b], axis=1)
        pf.insert(0, SIDE, side)
        pair_frames.append(pf)
    pairs = pd.concat(pair_frames, ignore_index=True)
    return StrideComparison(pairs=pairs, counts=counts)


def _row(
    dataset: str,
    trial: str,
    side: str,
    metric: str,
    unit: str,
    stats: Mapping[str, float],
    target: Target | None,
    stat_value: float | None = None,
    note: str = "",
) -> dict:
    if target is not None:
        value = stat_value if target.stat == "value" else stats.get(target.stat, math.nan)
    else:
        value = stat_value if stat_value is not None else math.nan
    value = math.nan if value is None else float(value)
    return {
        "dataset": dataset,
        "trial": trial,
        "side": side,
        "metric": metric,
        "unit": unit,
        "n": int(stats.get("n", 0)),
        "bias": stats.get("bias", math.nan),
        "loa_low": stats.get("loa_low", math.nan),
        "loa_high": stats.get("loa_high", math.nan),
        "mae": stats.get("mae", math.nan),
        "median_abs": stats.get("median_abs", math.nan),
        "stat": target.stat if target else "",
        "value": value,
        "target": str(target) if target else "",
        "pass": target.check(value) if target else None,
        "note": note,
    }


def metric_rows(
    comparison: StrideComparison,
    dataset: str,
    trial: str,
    metrics: Sequence[str] = tuple(METRIC_UNITS),
    sides: Sequence[str] = ("left", "right", "both"),
    targets: Mapping[str, Target] | None = None,
) -> list[dict]:
    """Tidy rows (see :data:`RESULT_COLS`) of detection scores and error statistics for each side."""
    targets = TARGETS.get(dataset, {}) if targets is None else targets
    rows = []
    for side in sides:
        sc = comparison.scores(side)
        for key in ("precision", "recall", "f1"):
            name = f"stride_{key}"
            rows.append(_row(dataset, trial, side, name, "", {"n": sc["n_ref"]}, targets.get(name), sc[key]))
        for m in metrics:
            err = comparison.errors(m, side)
            stats = agreement(err)
            if stats["n"] == 0:
                continue
            rows.append(_row(dataset, trial, side, m, METRIC_UNITS[m], stats, targets.get(m)))
    return rows


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(RESULT_COLS))


def _pooled(comparisons: Sequence[StrideComparison]) -> StrideComparison:
    pairs = pd.concat([c.pairs for c in comparisons], ignore_index=True)
    counts = {
        s: {
            k: sum(c.counts.get(s, {}).get(k, 0) for c in comparisons) for k in ("n_ref", "n_det", "tp", "fp")
        }
        for s in SIDES
    }
    return StrideComparison(pairs, counts)


def _skipped(dataset: str, reason: str) -> pd.DataFrame:
    row = _row(dataset, "", "", "", "", {}, None, note=f"skipped: {reason}")
    return _frame([row])


# --- plumbing: sessions and analyzers -----------------------------------------------------------------------


def make_session(left: Mapping | None, right: Mapping | None, **meta: Any) -> Any:
    """A :class:`gait.Session` via ``Session.from_arrays`` (``meta``: placement, sample_rate_hz, ...).

    Falls back to a plain dict ``{"left": ..., "right": ..., **meta}`` when the Session class is not
    available, so the machinery can be exercised with a dummy analyzer before the engine exists.
    """
    try:
        from gait.session import Session
    except ImportError:
        return {"left": left, "right": right, **meta}
    return Session.from_arrays(left=left, right=right, **meta)


def _default_analyzer() -> Analyzer:
    try:
        import gait

        return gait.analyze
    except (ImportError, AttributeError) as exc:
        raise RuntimeError(f"gait.analyze is not available ({exc}); pass analyze=...") from None


def _strides_of(result: Any) -> pd.DataFrame:
    strides = result.strides if hasattr(result, "strides") else result
    if not isinstance(strides, pd.DataFrame) or SIDE not in strides.columns or IC_TIME not in strides.columns:
        raise TypeError("the analyzer must return a result with a .strides DataFrame (side, ic_time_s, ...)")
    return strides


def _run(analyze: Analyzer | None, session: Any) -> pd.DataFrame:
    return _strides_of((analyze or _default_analyzer())(session))


def _shift(df: pd.DataFrame, dt: float) -> pd.DataFrame:
    out = df.copy()
    for c in (IC_TIME, TO_TIME, NEXT_IC_TIME):
        if c in out.columns:
            out[c] = out[c] + dt
    return out


# --- Fukuchi: virtual shank IMUs ----------------------------------------------------------------------------


def fukuchi_virtual_imus(
    trial: Any,
    *,
    rng: np.random.Generator | int | None = 0,
    fs_imu: float = 200.0,
    mounting: str = "random",
    standing_s: float = 3.0,
    transition_s: float = 1.0,
    site_fraction: float = 1 / 3,
    skin_offset_m: float = 0.045,
    acc_noise: float = 0.05,
    gyr_noise: float = 0.005,
    acc_bias_sd: float = 0.1,
    gyr_bias_sd: float = 0.02,
    cutoff_hz: float = 20.0,
) -> dict[str, dict[str, Any]]:
    """Virtual shank IMUs for both legs of a :class:`gait.io.public.FukuchiTrial`.

    Site: ``site_fraction`` of the way from the ankle to the knee joint centre, ``skin_offset_m`` out from the
    tibial axis in the direction the sensor faces. ``mounting="random"``:
    :func:`gait.virtual_imu.random_mounting` per leg (any azimuth around the shank, any axis orientation, tilt
    up to 10 deg); ``"aligned"``: sensor axes = shank anatomical axes, on the lateral side. Noise (white, per
    axis) and constant biases drawn from N(0, ``*_bias_sd``) per axis, in m/s² and rad/s. Each returned dict
    is :func:`gait.virtual_imu.virtual_imu`'s, plus ``frame`` (the :class:`~gait.virtual_imu.SegmentFrame`),
    ``acc_bias`` and ``gyr_bias``.
    """
    from gait.io.public import FUKUCHI_UP_AXIS
    from gait.virtual_imu import random_mounting, shank_frame, virtual_imu

    rng = np.random.default_rng(rng)
    out: dict[str, dict[str, Any]] = {}
    for side in SIDES:
        p = "R" if side == "right" else "L"
        st = trial.static
        frame = shank_frame(
            st[f"{p}.Knee"], st[f"{p}.Knee.Medial"], st[f"{p}.Ankle"], st[f"{p}.Ankle.Medial"], side
        )
        if mounting == "random":
            mount, normal = random_mounting(rng)
        elif mounting == "aligned":
            mount = np.eye(3)
            normal = np.array([0.0, 1.0 if side == "left" else -1.0, 0.0])  # lateral
        else:
            raise ValueError(f"mounting: allowed values are 'random', 'aligned', but got {mounting!r}")
        acc_bias = rng.normal(0.0, acc_bias_sd, 3) if acc_bias_sd > 0 else np.zeros(3)
        gyr_bias = rng.normal(0.0, gyr_bias_sd, 3) if gyr_bias_sd > 0 else np.zeros(3)
        imu = virtual_imu(
            trial.cluster(side),
            trial.cluster(side, static=True),
            frame.site(site_fraction, skin_offset_m * normal),
            mount,
            trial.fs_markers,
            fs_imu,
            segment_axes=frame.axes,
            up=FUKUCHI_UP_AXIS,
            cutoff_hz=cutoff_hz,
            standing_s=standing_s,
            transition_s=transition_s,
            acc_noise=acc_noise,
            gyr_noise=gyr_noise,
            acc_bias=acc_bias,
            gyr_bias=gyr_bias,
            rng=rng,
        )
        imu.update(frame=frame, acc_bias=acc_bias, gyr_bias=gyr_bias)
        out[side] = imu
    return out


def fukuchi_session(
    name: str, data_root: PathLike | None = None, *, seed: int = 0, **imu_options: Any
) -> tuple[Any, pd.DataFrame, dict[str, Any]]:
    """Virtual shank-IMU session of a Fukuchi trial, its reference strides on the session clock, and info.

    ``info``: ``window`` (evaluation interval: after the standing prefix and the fade-in, before the end),
    ``t_offset_s``, ``summary`` (the reference summary), ``imus`` (the virtual-IMU dicts, with the true
    mounting).
    """
    from gait.io.public import fukuchi_reference, load_fukuchi_trial

    trial = load_fukuchi_trial(name, data_root)
    ref = fukuchi_reference(trial)
    imus = fukuchi_virtual_imus(trial, rng=seed, **imu_options)
    t_off = float(imus["left"]["t_offset_s"])
    start = float(imus["left"]["transition_end_s"])
    end = float(imus["left"]["t"][-1])
    fs = 1.0 / float(np.median(np.diff(imus["left"]["t"])))
    session = make_session(
        {k: imus["left"][k] for k in ("t", "acc", "gyr")},
        {k: imus["right"][k] for k in ("t", "acc", "gyr")},
        placement="shank",
        sample_rate_hz=round(fs, 6),
        subject=trial.subject,
        label=f"fukuchi {name} virtual shank IMUs",
        notes=f"virtual IMUs from Fukuchi 2017 {name}; standing prefix {t_off:g} s, fade-in to {start:g} s",
    )
    return (
        session,
        _shift(ref.strides, t_off),
        {
            "window": [(start, end)],
            "t_offset_s": t_off,
            "summary": ref.summary,
            "imus": imus,
        },
    )


def validate_fukuchi(
    analyze: Analyzer | None = None,
    data_root: PathLike | None = None,
    *,
    trials: Sequence[str] | None = None,
    seed: int = 0,
    tolerance_s: float = 0.1,
    **imu_options: Any,
) -> pd.DataFrame:
    """Fukuchi treadmill running: virtual shank IMUs (random unknown mounting, noise, bias, standing prefix).

    Per trial and pooled (``trial="all"``): stride F1, IC/TO, contact and stride time, stride length (belt
    speed x stride time) and shank angle at IC against the force-plate / marker reference.
    """
    from gait.io.public import FUKUCHI_TRIALS

    rows: list[dict] = []
    comps = []
    for k, name in enumerate(trials or list(FUKUCHI_TRIALS)):
        session, ref, info = fukuchi_session(name, data_root, seed=seed + k, **imu_options)
        det = _run(analyze, session)
        comp = compare_strides(ref, det, tolerance_s, window=info["window"])
        comps.append(comp)
        rows += metric_rows(comp, "fukuchi", name)
    if len(comps) > 1:
        rows += metric_rows(_pooled(comps), "fukuchi", "all", sides=("both",))
    return _frame(rows)


# --- gaitmap ------------------------------------------------------------------------------------------------


def gaitmap_session(data_root: PathLike | None = None) -> tuple[Any, pd.DataFrame, dict[str, Any]]:
    """Session of the gaitmap example walk in *raw* sensor axes (foot) and its IC-based reference."""
    from gait.io.public import load_gaitmap_example

    g = load_gaitmap_example(data_root, imu_file="imu_sample_not_rotated.csv")
    imu = g["imu"]
    session = make_session(
        imu["left"],
        imu["right"],
        placement="foot",
        sample_rate_hz=g["fs_hz"],
        label="gaitmap example walk (raw axes)",
        notes="gaitmap example_data imu_sample_not_rotated.csv (MIT)",
        extra={"clocks_aligned": True},  # one file, one time column for both feet
    )
    return session, g["reference"], g


def validate_gaitmap(
    analyze: Analyzer | None = None, data_root: PathLike | None = None, *, tolerance_s: float = 0.1
) -> pd.DataFrame:
    """gaitmap example walk (foot, raw axes): IC/TO vs mocap events, stride length vs the heel-marker stride.

    Reference strides are IC-based (``pre_ic`` -> ``ic``, toe-off ``tc``); the reference stride length is the
    mid-stance-to-mid-stance heel displacement of the gaitmap stride holding that swing, which equals the
    IC-to-IC displacement in steady walking. Detections are evaluated within the span covered by the reference
    events.
    """
    session, ref, _ = gaitmap_session(data_root)
    det = _run(analyze, session)
    span = {
        s: [(float(d[IC_TIME].min()) - tolerance_s, float(d[NEXT_IC_TIME].max()) + tolerance_s)]
        for s, d in ref.groupby(SIDE)
    }
    comp = compare_strides(ref, det, tolerance_s, window=span)
    metrics = ("ic_ms", "to_ms", "contact_time_ms", "stride_time_ms", "stride_length_cm", "stride_length_pct")
    return _frame(metric_rows(comp, "gaitmap", "example_walk", metrics))


# --- IPOL ---------------------------------------------------------------------------------------------------


def _gap_intervals(t: np.ndarray, gap: np.ndarray) -> list[Interval]:
    if not gap.any():
        return []
    edges = np.diff(np.concatenate([[0], gap.astype(np.int8), [0]]))
    a = np.flatnonzero(edges == 1)
    b = np.flatnonzero(edges == -1) - 1
    dt = t[1] - t[0] if len(t) > 1 else 0.0
    return [(float(t[i] - dt), float(t[j] + dt)) for i, j in zip(a, b, strict=True)]


def ipol_session(
    trial_id: str, data_root: PathLike | None = None
) -> tuple[Any, pd.DataFrame, dict[str, Any]]:
    """Session of one IPOL trial on its packet-counter clock (gaps NaN and listed), reference and info."""
    from gait.io.public import load_ipol_trial

    tr = load_ipol_trial(trial_id, data_root, fill="nan")
    gaps = {s: _gap_intervals(tr.imu[s]["t"], tr.imu[s]["gap"]) for s in SIDES}  # type: ignore[arg-type]
    session = make_session(
        {k: tr.imu["left"][k] for k in ("t", "acc", "gyr")},
        {k: tr.imu["right"][k] for k in ("t", "acc", "gyr")},
        placement="foot",
        sample_rate_hz=tr.fs_hz,
        subject=str(tr.meta.get("Subject", "")),
        label=f"ipol {trial_id}",
        gaps={s: [list(g) for g in v] for s, v in gaps.items() if v},
        notes="IPOL healthy gait (Voisard et al. 2023, AGPL-3.0), packet-counter clock",
        extra={"clocks_aligned": True},  # both feet on the one packet counter
    )
    fs = tr.fs_hz
    t0, t1 = (float(v) / fs for v in tr.meta["TrialBoundaries"])  # type: ignore[union-attr]
    u0, u1 = (float(v) / fs for v in tr.meta["UTurnBoundaries"])  # type: ignore[union-attr]
    return session, tr.reference, {"window": [(t0, t1)], "uturn": (u0, u1), "gaps": gaps}


#: An IPOL reference stride longer than this many median stride times (of its foot) spans swings that were not
#: annotated (the turning steps, the steps after the trial end).
IPOL_UNANNOTATED_STRIDES = 1.5


def _ipol_unannotated(ref: pd.DataFrame, side: str, tolerance_s: float) -> list[Interval]:
    """Spans where the IPOL annotation of one foot skips swings, to leave detections there unjudged.

    The annotators listed no swings inside the U-turn and after the walk, and the ``UTurnBoundaries`` do not
    cover all of the turning steps: the reference stride that bridges such a gap (left out as not straight)
    lasts two or more strides, and a stride detected inside it would count as a false positive with nothing to
    match. Its interior, shrunk by the matching tolerance so that the evaluated strides on either side keep
    their detections, is excluded. Straight (evaluated) reference strides are never excluded.
    """
    rs = ref[ref[SIDE] == side]
    st = rs[STRIDE_TIME].to_numpy(float)
    if not np.isfinite(st).any():
        return []
    long = ~rs["straight"].to_numpy(bool) & (st > IPOL_UNANNOTATED_STRIDES * np.nanmedian(st))
    a = rs[IC_TIME].to_numpy(float)[long] + tolerance_s
    b = rs[NEXT_IC_TIME].to_numpy(float)[long] - tolerance_s
    return [(float(x), float(y)) for x, y in zip(a, b, strict=True) if y > x]


def validate_ipol(
    analyze: Analyzer | None = None,
    data_root: PathLike | None = None,
    *,
    trials: Sequence[str] | None = None,
    tolerance_s: float = 0.1,
    per_trial: bool = False,
) -> pd.DataFrame:
    """IPOL healthy walking (13 subjects, foot IMUs): straight-walking strides only.

    Strides overlapping the U-turn or a packet-loss gap are left out of both the reference and the detections;
    the rest are pooled over trials (``trial="all"``), or also reported per trial with ``per_trial``. The two
    foot sensors of a trial share one clock (the Awinda packet counter, on which the reference events are
    given), and the sessions say so (``extra["clocks_aligned"]``): the left/right offset estimated from the IC
    alternation is only defined modulo a stride, and the still -> walking onsets that picked the multiple for
    clocks of unknown relation differ by up to a step in walking, which shifted the right foot by half or a
    whole stride in 13 of the 76 trials (the "half-stride lock" of 9-1 and 11-3).
    """
    from gait.io.public import ipol_trial_ids

    ids = list(trials) if trials is not None else ipol_trial_ids(data_root)
    rows: list[dict] = []
    comps = []
    metrics = ("ic_ms", "to_ms", "contact_time_ms", "stride_time_ms")
    for tid in ids:
        session, ref, info = ipol_session(tid, data_root)
        det = _run(analyze, session)
        exclude = {s: [info["uturn"], *info["gaps"][s], *_ipol_unannotated(ref, s, tolerance_s)] for s in SIDES}
        comp = compare_strides(
            ref, det, tolerance_s, window=info["window"], exclude=exclude, ref_mask=ref["straight"].to_numpy()
        )
        comps.append(comp)
        if per_trial:
            rows += metric_rows(comp, "ipol", tid, metrics)
    if comps:
        rows += metric_rows(_pooled(comps), "ipol", "all", metrics)
    return _frame(rows)


# --- adeptdata ----------------------------------------------------------------------------------------------


ADEPT_STILL_SD_MPS2: float = 0.5  #: SD of |acc| below which a 5-s window counts as standing still


def still_seconds(acc: np.ndarray, fs: float, window_s: float = 5.0, sd_mps2: float = ADEPT_STILL_SD_MPS2) -> float:
    """Seconds in whole ``window_s`` windows where the acceleration magnitude is nearly constant (the runner stands)."""
    mag = np.linalg.norm(np.asarray(acc, float), axis=1)
    w = max(int(round(window_s * fs)), 1)
    n = mag.size // w
    if n == 0:
        return 0.0
    sd = mag[: n * w].reshape(n, w).std(axis=1)
    return float(np.count_nonzero(sd < sd_mps2) * w / fs)


def validate_adeptdata(analyze: Analyzer | None = None, data_root: PathLike | None = None) -> pd.DataFrame:
    """25-min outdoor run, left-ankle accelerometer only: a smoke test without reference.

    Checks that the median cadence is plausible for running (140-200 steps/min) and that detected strides
    cover at least 90% of the time the ankle moves (sum of stride times / moving time). The runner stops several
    times (traffic lights: 5-s windows where the acceleration magnitude varies by less than
    ``ADEPT_STILL_SD_MPS2``, about 3.5 min in all); no stride can exist there, so those windows are not counted.
    The coverage of the whole file is reported beside it without a target.
    """
    from gait.io.public import load_adeptdata_ankle

    a = load_adeptdata_ankle(data_root)
    session = make_session(
        {"t": a["t"], "acc": a["acc"]},
        None,
        placement="foot",
        sample_rate_hz=a["fs_hz"],
        label="adeptdata acc_running (ankle, acc only)",
        notes="adeptdata acc_running, ActiGraph at the left ankle/shoe, acc only (GPL-3)",
    )
    det = _run(analyze, session)
    det = det[det[SIDE] == "left"]
    st = det[STRIDE_TIME] if STRIDE_TIME in det.columns else det[NEXT_IC_TIME] - det[IC_TIME]
    st = st.to_numpy(float)
    cad = det[CADENCE].to_numpy(float) if CADENCE in det.columns else 120.0 / st
    duration = float(a["t"][-1] - a["t"][0])
    cadence = float(np.nanmedian(cad)) if np.isfinite(cad).any() else math.nan
    covered = float(np.nansum(st[st < 2.0]))
    coverage_file = covered / duration if duration > 0 else math.nan
    moving = duration - still_seconds(a["acc"], a["fs_hz"])
    coverage = covered / moving if moving > 0 else math.nan
    tg = TARGETS["adeptdata"]
    n = {"n": int(np.isfinite(st).sum())}
    return _frame(
        [
            _row(
                "adeptdata", "acc_running", "left", "cadence_spm", "steps/min", n, tg["cadence_spm"], cadence
            ),
            _row(
                "adeptdata", "acc_running", "left", "stride_coverage", "", n, tg["stride_coverage"], coverage,
                note=f"of the {moving:.0f} s the ankle moves",
            ),
            _row(
                "adeptdata", "acc_running", "left", "stride_coverage_whole_file", "", n, None, coverage_file,
                note=f"of all {duration:.0f} s, stops included",
            ),
        ]
    )


# --- synthetic running --------------------------------------------------------------------------------------


def synthetic_session(
    speed_mps: float, load_kg: float, seed: int, duration_s: float = 60.0, **params: Any
) -> tuple[Any, pd.DataFrame]:
    """A :func:`gait.synth.simulate_run` recording as a session, and its truth stride table (true time).

    Mounting misalignment, noise, bias and the impact transient are the generator's defaults; the right
    sensor gets a clock offset drawn uniformly in +/-0.1 s (seeded), which the engine must remove: the truth
    is on the true (= left sensor) clock. ``params`` override any ``RunParams`` field.
    """
    from gait.synth import simulate_run

    offset = float(np.random.default_rng(seed).uniform(-0.1, 0.1))
    opts = {"clock_offset_s": offset, **params}
    run = simulate_run(seed=seed, speed_mps=speed_mps, ankle_load_kg=load_kg, duration_s=duration_s, **opts)
    session = make_session(
        run.left,
        run.right,
        placement="shank",
        sample_rate_hz=run.sample_rate_hz,
        load_kg=load_kg,
        subject="synthetic",
        label="weighted" if load_kg > 0 else "unweighted",
        notes=f"gait.synth run at {speed_mps:g} m/s, {load_kg:g} kg per ankle, seed {seed}",
    )
    return session, run.truth


def validate_synthetic(
    analyze: Analyzer | None = None,
    *,
    speeds: Sequence[float] = (2.5, 4.0, 6.0),
    loads: Sequence[float] = (0.0, 1.0, 2.5),
    seed: int = 0,
    duration_s: float = 60.0,
    tolerance_s: float = 0.1,
    simulate: Callable[[float, float, int, float], tuple[Any, pd.DataFrame]] | None = None,
) -> pd.DataFrame:
    """Synthetic running with known truth over speeds x loads, per leg and pooled.

    ``simulate(speed, load, seed, duration) -> (session, truth)`` defaults to :func:`synthetic_session`; when
    :mod:`gait.synth` cannot be imported the result is one "skipped" row. Only steady strides (truth
    ``valid``) are evaluated, and detections between the first and last steady IC.
    """
    if simulate is None:
        try:
            import gait.synth  # noqa: F401
        except ImportError as exc:
            return _skipped("synthetic", f"gait.synth not available ({exc})")
    sim = simulate or synthetic_session
    rows: list[dict] = []
    comps = []
    for i, speed in enumerate(speeds):
        for j, load in enumerate(loads):
            session, truth = sim(float(speed), float(load), seed + 100 * i + j, duration_s)
            det = _run(analyze, session)
            steady = truth[VALID].astype(bool).to_numpy() if VALID in truth.columns else None
            st = truth[steady] if steady is not None else truth
            window = [(float(st[IC_TIME].min()) - tolerance_s, float(st[NEXT_IC_TIME].max()) + tolerance_s)]
            comp = compare_strides(truth, det, tolerance_s, window=window, ref_mask=steady)
            comps.append(comp)
            rows += metric_rows(comp, "synthetic", f"{speed:g} m/s, {load:g} kg")
    if len(comps) > 1:
        rows += metric_rows(_pooled(comps), "synthetic", "all", sides=("both",))
    return _frame(rows)


# --- everything ---------------------------------------------------------------------------------------------

_VALIDATORS: dict[str, Callable[..., pd.DataFrame]] = {
    "gaitmap": validate_gaitmap,
    "ipol": validate_ipol,
    "fukuchi": validate_fukuchi,
    "adeptdata": validate_adeptdata,
}


def validate_all(
    analyze: Analyzer | None = None,
    data_root: PathLike | None = None,
    datasets: Sequence[str] = ("synthetic", "fukuchi", "gaitmap", "ipol", "adeptdata"),
) -> pd.DataFrame:
    """Run every validation; a dataset whose folder is absent gives one "skipped" row instead of an error."""
    from gait.io.public import ADEPT, FUKUCHI, GAITMAP, IPOL, shared_data_root

    folders = {"gaitmap": GAITMAP, "ipol": IPOL, "fukuchi": FUKUCHI, "adeptdata": ADEPT}
    root = shared_data_root(data_root)
    frames = []
    for name in datasets:
        if name == "synthetic":
            frames.append(validate_synthetic(analyze))
            continue
        if name not in _VALIDATORS:
            raise ValueError(
                f"datasets: allowed values are synthetic, {', '.join(_VALIDATORS)}, but got {name!r}"
            )
        if root is None or not (root / folders[name]).is_dir():
            frames.append(_skipped(name, "shared data folder absent"))
            continue
        frames.append(_VALIDATORS[name](analyze, root))
    return pd.concat(frames, ignore_index=True)


def _fmt(x: Any, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, bool | np.bool_):
        return "PASS" if x else "FAIL"
    if isinstance(x, int | np.integer):
        return str(int(x))
    if isinstance(x, float | np.floating):
        return f"{x:.{digits}f}"
    return str(x)


def format_table(df: pd.DataFrame) -> str:
    """Plain-text table of a validation result (one line per row; LoA as ``[low, high]``)."""
    headers = [
        "dataset",
        "trial",
        "side",
        "metric",
        "unit",
        "n",
        "bias",
        "LoA 95%",
        "MAE",
        "median|e|",
        "value",
        "target",
        "result",
    ]
    lines = []
    for r in df.to_dict("records"):
        detection = str(r["metric"]).startswith("stride_") and r["unit"] in ("", None)
        digits = 3 if detection else 2
        loa = "" if _fmt(r["loa_low"]) == "" else f"[{_fmt(r['loa_low'])}, {_fmt(r['loa_high'])}]"
        result = _fmt(r["pass"]) if r["pass"] is not None else (r.get("note") or "")
        lines.append(
            [
                str(r["dataset"]),
                str(r["trial"]),
                str(r["side"]),
                str(r["metric"]),
                str(r["unit"] or ""),
                _fmt(r["n"]),
                _fmt(r["bias"]),
                loa,
                _fmt(r["mae"]),
                _fmt(r["median_abs"]),
                _fmt(r["value"], digits),
                str(r["target"] or ""),
                result,
            ]
        )
    widths = [max([len(h)] + [len(line[i]) for line in lines]) for i, h in enumerate(headers)]
    numeric = {5, 6, 8, 9, 10}

    def fmt_line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [fmt_line(headers), "  ".join("-" * w for w in widths)]
    out += [fmt_line(line) for line in lines]
    return "\n".join(out)
