"""Weighted versus unweighted: how a runner's form changes with ankle weights, with the run as the unit.

Input is a list of runs, each ``(metadata, stride table)``; everything is computed from stride tables (one row per
stride and side, columns of :mod:`gait.conventions`). For every metric and every weighted condition the result gives
the change from the unweighted baseline with a 95 % CI from a two-stage cluster bootstrap (runs within condition,
then strides within run), Hedges' g on the between-run SD, and the MDC95 from repeated unweighted runs, so that a
difference smaller than the run-to-run noise is never called a change. Sessions at several loads also give a
dose-response slope per kg and the heaviest load at which the form held.

Example::

    cmp = compare_runs([(meta_a, strides_a), (meta_b, strides_b), ...])
    cmp.table, cmp.verdicts, cmp.warnings, cmp.advice
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gait import conventions as C
from gait.errors import GaitError
from gait.metrics import symmetry_angle

__all__ = [
    "ASYMMETRY_METRICS",
    "COMPARED_METRICS",
    "Comparison",
    "ComparisonError",
    "RunInfo",
    "asymmetry_table",
    "compare_runs",
    "condition_phrase",
    "fmt_interval",
    "fmt_value",
    "run_info",
    "symmetry_index",
]


class ComparisonError(GaitError, ValueError):
    """Runs that cannot be compared (one run only, different runners or placements, no valid strides)."""


#: Per-stride metrics compared between conditions (the angle that does not apply to the placement drops out).
COMPARED_METRICS: tuple[str, ...] = (
    C.STRIDE_LENGTH,
    C.CADENCE,
    C.CONTACT_TIME,
    C.FLIGHT_TIME,
    C.DUTY_FACTOR,
    C.SHANK_ANGLE_IC,
    C.FOOT_ANGLE_IC,
    C.PEAK_TIBIAL_ACCEL,
    C.SPEED,
)
#: Metrics whose left/right asymmetry is compared too (speed is one number for the body, not per leg).
ASYMMETRY_METRICS: tuple[str, ...] = tuple(m for m in COMPARED_METRICS if m != C.SPEED)
#: Metrics compared at matched speed (both depend strongly on speed, and runners slow down with weights).
SPEED_ADJUSTED_METRICS: tuple[str, ...] = (C.STRIDE_LENGTH, C.CADENCE)

SA, SI = "symmetry_angle", "symmetry_index"
_STAT_LABEL = {"mean": "", SA: "symmetry angle", SI: "symmetry index"}
_SPEED_MATCH_FRACTION = 0.02  # mean speeds within 2 % count as matched
_MIN_STRIDES_IN_WINDOW = 30  # per run, for the overlapping-speed-range comparison
_MIN_PACE_SD = 0.02  # m/s of local-pace variation within runs, for the pooled within-run speed regression
_PACE_WINDOW = 11  # strides per side in the rolling mean that gives the local pace
GUIDANCE_KG = (0.5, 2.5)  # the usual ankle-weight range per ankle (about 1-5 lb)

#: What a rise of each metric means in plain words (a fall gets the second phrase).
_MEANING = {
    C.SHANK_ANGLE_IC: ("more overstriding (the shin reaches further ahead at landing)",
                       "less overstriding (a more vertical shin at landing)"),
    C.FOOT_ANGLE_IC: ("a steeper heel-first landing", "a flatter foot at landing"),
    C.CADENCE: ("quicker steps", "slower, longer-swinging steps"),
    C.STRIDE_LENGTH: ("longer strides", "shorter strides"),
    C.CONTACT_TIME: ("longer on the ground each step", "shorter ground contacts"),
    C.FLIGHT_TIME: ("more time in the air", "less time in the air"),
    C.DUTY_FACTOR: ("a more grounded running style", "a bouncier running style"),
    C.PEAK_TIBIAL_ACCEL: ("harder landings (more tibial shock; part of it may be the strap next to the sensor)",
                          "softer landings (less tibial shock; part of it may be the strap next to the sensor)"),
    C.SPEED: ("you ran faster", "you ran slower"),
}


# --- asymmetry (running-biomechanics.md 2.7; the formulas live in gait.metrics) ---------------------------
def symmetry_index(left: Any, right: Any) -> np.ndarray:
    """Robinson's symmetry index in %: (R - L) / (0.5 (R + L)) x 100; positive when the right value is larger."""
    left, right = np.asarray(left, float), np.asarray(right, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (right - left) / (0.5 * (right + left)) * 100.0


def asymmetry_table(strides: pd.DataFrame, metrics: Sequence[str] = ASYMMETRY_METRICS) -> pd.DataFrame:
    """Left/right asymmetry of one run (:func:`gait.metrics.asymmetry`), flagged only when beyond the noise.

    ``exceeds_noise`` comes from :func:`gait.metrics.asymmetry`: a Welch test on the per-stride values *and* an L-R
    difference larger than the runner's stride-to-stride SD within a leg (Exell; running-biomechanics.md 2.7).
    """
    from gait.metrics import asymmetry

    base = asymmetry(strides)
    base = base[base["metric"].isin(list(metrics))].reset_index(drop=True)
    out = base.rename(columns={"si_pct": "symmetry_index_pct", "sa_pct": "symmetry_angle_pct", "noise_sd": "stride_sd"})
    out["welch_significant"] = out["welch_p"].lt(0.05)
    out["metric_label"] = [C.METRICS[m][0] for m in out["metric"]]
    out["unit"] = [C.METRICS[m][1] for m in out["metric"]]
    return out


# --- input ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunInfo:
    """The metadata of one run that matter for a comparison (load is per ankle, the mean of the sides)."""

    session_id: str
    subject: str = ""
    label: str = ""
    load_kg: float = 0.0
    placement: str = ""


def _get(meta: Any, name: str, default: Any = None) -> Any:
    if isinstance(meta, Mapping):
        return meta.get(name, default)
    return getattr(meta, name, default)


def run_info(meta: Any, index: int = 0) -> RunInfo:
    """Read a :class:`RunInfo` from a Session, SessionMeta, RunInfo, mapping or any object with those attributes."""
    if isinstance(meta, RunInfo):
        return meta
    if hasattr(meta, "meta") and not isinstance(meta, Mapping):  # a Session
        meta = meta.meta
    load = _get(meta, "load_kg", 0.0)
    if isinstance(load, Mapping):
        vals = [float(v) for v in load.values() if v is not None]
        load = float(np.mean(vals)) if vals else 0.0
    load = float(load or 0.0)
    place = _get(meta, "placement", "")
    if isinstance(place, Mapping):
        kinds = sorted({str(v) for v in place.values()})
        place = kinds[0] if len(kinds) == 1 else ", ".join(f"{s} {v}" for s, v in sorted(place.items()))
    sid = str(_get(meta, "session_id", "") or f"run {index + 1}")
    return RunInfo(sid, str(_get(meta, "subject", "") or ""), str(_get(meta, "label", "") or ""), load,
                   str(place or ""))


def _strides_of(obj: Any) -> pd.DataFrame:
    strides = obj if isinstance(obj, pd.DataFrame) else getattr(obj, "strides", None)
    if not isinstance(strides, pd.DataFrame):
        raise ComparisonError(f"expected a stride table (DataFrame) or an analysis result, got {type(obj).__name__}")
    return strides


def _finite(x: Any) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    return a[np.isfinite(a)]


def _valid_side_frames(strides: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The valid strides of each side, in time order."""
    if C.SIDE not in strides.columns:
        raise ComparisonError(f"the stride table has no {C.SIDE!r} column")
    keep = np.ones(len(strides), bool)
    if C.VALID in strides.columns:
        keep = strides[C.VALID].astype("boolean").fillna(False).to_numpy(dtype=bool)
    side = strides[C.SIDE].astype(str).to_numpy()
    out = {}
    for s in C.SIDES:
        part = strides.loc[keep & (side == s)]
        if len(part):
            out[s] = part.sort_values(C.IC_TIME) if C.IC_TIME in part.columns else part
    return out


def _local_pace(speed: np.ndarray) -> np.ndarray:
    """Mean speed of the neighbouring strides, leaving the stride itself out.

    Speed per stride is stride length / stride time, so a stride's own speed shares its measurement noise with its
    stride length and cadence; the leave-one-out local pace does not, so selecting or regressing on it is unbiased.
    """
    roll = pd.Series(speed).rolling(_PACE_WINDOW, center=True, min_periods=3)
    total, count = roll.sum().to_numpy(), roll.count().to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total - speed) / (count - 1)


@dataclass
class _Run:
    info: RunInfo
    sides: dict[str, np.ndarray]  # side -> (n, K) values of the compared metrics
    pace: dict[str, np.ndarray]  # side -> local pace per stride (m/s)
    n_strides: int
    condition: int = -1


def _prepare(info: RunInfo, strides: pd.DataFrame, metrics: Sequence[str]) -> _Run:
    frames = _valid_side_frames(strides)
    sides, pace = {}, {}
    for s, f in frames.items():
        cols = [f[m].to_numpy(dtype=float) if m in f.columns else np.full(len(f), np.nan) for m in metrics]
        sides[s] = np.column_stack(cols) if cols else np.empty((len(f), 0))
        sp = f[C.SPEED].to_numpy(dtype=float) if C.SPEED in f.columns else np.full(len(f), np.nan)
        pace[s] = _local_pace(sp)
    n = sum(len(v) for v in sides.values())
    if n == 0:
        raise ComparisonError(f"run {info.session_id} has no valid strides: analyze it again or leave it out")
    return _Run(info, sides, pace, n)


# --- bootstrap -----------------------------------------------------------------------------------------------
def _side_means(X: np.ndarray, rng: np.random.Generator, n_boot: int) -> np.ndarray:
    """(n_boot + 1, K) NaN-aware column means: row 0 of all strides, then of stride resamples with replacement.

    Resamples are multinomial stride weights (counts), so each block is one matrix product, not a Python loop.
    """
    n = X.shape[0]
    finite = np.isfinite(X)
    X0, F = np.where(finite, X, 0.0), finite.astype(float)
    out = np.empty((n_boot + 1, X.shape[1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        out[0] = X0.sum(0) / F.sum(0)
        block = max(1, min(n_boot, 2_000_000 // max(n, 1)))
        for start in range(0, n_boot, block):
            b = min(block, n_boot - start)
            idx = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
            W = np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(float)
            out[1 + start:1 + start + b] = (W @ X0) / (W @ F)
    return out


def _nanmean(a: np.ndarray, axis: int) -> np.ndarray:
    finite = np.isfinite(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(finite, a, 0.0).sum(axis) / finite.sum(axis)


def _draw_runs(reps: np.ndarray, rng: np.random.Generator, n_boot: int) -> np.ndarray:
    """Stage 1 of the cluster bootstrap: draw runs with replacement; each drawn copy gets its own stride resample.

    ``reps`` is (R, n_boot + 1, Q) (row 0: point values); returns the drawn run values, (n_boot, R, Q).
    """
    R = reps.shape[0]
    idx = rng.integers(0, R, size=(n_boot, R))
    rows = 1 + np.stack([rng.permutation(n_boot) for _ in range(R)], axis=1)
    return reps[idx, rows, :]


def _interval(point: np.ndarray, reps: np.ndarray, parts: Sequence[tuple[float, np.ndarray, int]],
              level: float) -> tuple[np.ndarray, np.ndarray]:
    """Cluster-bootstrap percentile interval, widened for few runs.

    With R runs the bootstrap variance of a mean is (R-1)/R of the unbiased one and the normal quantile is too
    small; the distances from the estimate to the percentile limits are scaled by sqrt(R/(R-1)) (per condition, in
    the variance) and t(df)/z with Welch-Satterthwaite df (Hesterberg's expanded percentile idea). ``parts`` holds
    (coefficient, bootstrap variance of the condition mean, runs) for each condition in the contrast.
    """
    from scipy import stats

    alpha = 1.0 - level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        q_lo, q_hi = np.nanpercentile(reps, [100 * alpha / 2, 100 * (1 - alpha / 2)], axis=0)
    v_boot = sum(a * a * v for a, v, _ in parts)
    v_corr = sum(a * a * v * (r / (r - 1) if r >= 2 else 1.0) for a, v, r in parts)
    denom = sum((a * a * v * r / (r - 1)) ** 2 / (r - 1) for a, v, r in parts if r >= 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        df = np.where(np.asarray(denom) > 0, np.asarray(v_corr) ** 2 / denom, np.inf)
        f = np.sqrt(v_corr / v_boot) * stats.t.ppf(1 - alpha / 2, np.maximum(df, 1.0)) / stats.norm.ppf(1 - alpha / 2)
    f = np.where(np.isfinite(f), f, 1.0)
    lo = point - f * np.maximum(point - q_lo, 0.0)
    hi = point + f * np.maximum(q_hi - point, 0.0)
    return lo, hi


def _hedges_g(diff: float, a: np.ndarray, b: np.ndarray) -> float:
    """Hedges' g on the pooled between-run SD (exact small-sample correction); NaN when it cannot be estimated."""
    from scipy.special import gammaln

    a, b = _finite(a), _finite(b)
    df = a.size + b.size - 2
    if df < 2 or (a.size < 2 and b.size < 2):
        return math.nan
    ss = (a.size - 1) * (a.var(ddof=1) if a.size > 1 else 0.0) + (b.size - 1) * (b.var(ddof=1) if b.size > 1 else 0.0)
    sd = math.sqrt(ss / df)
    if not sd > 0:
        return math.nan
    j = math.exp(gammaln(df / 2) - 0.5 * math.log(df / 2) - gammaln((df - 1) / 2))
    return diff / sd * j


# --- result --------------------------------------------------------------------------------------------------
@dataclass
class Comparison:
    """The result of :func:`compare_runs`.

    ``table``: one row per metric and condition (tidy; ``change``: the interval excludes 0 and the change exceeds
    the MDC95; ``equivalent``: the 90 % interval lies within +-MDC95, i.e. no change beyond the noise is shown by
    two one-sided tests); ``verdicts``: plain-language sentences; ``warnings``: what
    limits the evidence; ``advice``: load guidance from the runner's own numbers; ``runs``: one row per run with its
    run-level values; ``progression``: slope per kg per metric when there are several loads (else None).
    """

    table: pd.DataFrame
    verdicts: list[str]
    warnings: list[str]
    advice: list[str]
    runs: pd.DataFrame
    progression: pd.DataFrame | None = None
    heaviest_ok_load_kg: float | None = None
    baseline: str = ""
    speed_adjustment: dict[str, str] = field(default_factory=dict)
    methods: str = ""

    def summary(self) -> str:
        """Verdicts, warnings and advice as plain text."""
        lines = [f"Baseline: {self.baseline}"]
        lines += [f"Speed ({k}): {v}" for k, v in self.speed_adjustment.items()]
        lines += ["", *(f"- {v}" for v in self.verdicts)]
        if self.warnings:
            lines += ["", "Caveats:", *(f"- {w}" for w in self.warnings)]
        if self.advice:
            lines += ["", "Advice:", *(f"- {a}" for a in self.advice)]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# --- the comparison ------------------------------------------------------------------------------------------
def _condition_name(label: str, load: float) -> str:
    return f"{label or 'unlabelled'} ({load:g} kg)"


def _validate(infos: list[RunInfo]) -> None:
    if not infos:
        raise ComparisonError("no runs given: a comparison needs unweighted and weighted runs")
    if len(infos) == 1:
        raise ComparisonError(f"only one run ({infos[0].session_id}): a comparison needs at least one unweighted "
                              "and one weighted run")
    seen: set[str] = set()
    for i in infos:
        if i.session_id in seen:
            raise ComparisonError(f"session {i.session_id} is given twice")
        seen.add(i.session_id)
    subjects = sorted({i.subject for i in infos if i.subject})
    if len(subjects) > 1:
        raise ComparisonError(f"runs from different runners ({', '.join(subjects)}): compare one runner's runs at "
                              "a time")
    places = sorted({i.placement for i in infos if i.placement})
    if len(places) > 1:
        raise ComparisonError(f"runs with different sensor placements ({'; '.join(places)}): compare runs with the "
                              "same placement")


def _check_one_gait(infos: list[RunInfo], tables: list[pd.DataFrame]) -> None:
    """Refuse walking mixed with running (median duty factor above 0.5: no flight phase): their metrics differ
    by far more than any ankle weight changes them, so the comparison would be meaningless."""
    walking = []
    for info, strides in zip(infos, tables, strict=True):
        if C.DUTY_FACTOR not in strides.columns:
            return
        ok = strides[C.VALID].astype("boolean").fillna(False).to_numpy(bool) if C.VALID in strides else True
        duty = _finite(strides[C.DUTY_FACTOR].to_numpy(float)[ok])
        if duty.size:
            walking.append((info.session_id, bool(np.median(duty) > 0.5)))
    walks = [sid for sid, w in walking if w]
    if walks and len(walks) < len(walking):
        raise ComparisonError(f"walking and running mixed (walking: {', '.join(walks)}; the others are running): "
                              "compare runs with runs, walks with walks")


def compare_runs(
    runs: Sequence[tuple[Any, Any]],
    *,
    baseline_label: str = C.LABEL_UNWEIGHTED,
    n_boot: int = 2000,
    seed: int | None = 0,
    speed_adjust: str = "auto",
    level: float = 0.95,
) -> Comparison:
    """Compare each weighted condition with the unweighted baseline, run as the unit.

    Parameters
    ----------
    runs : list of (metadata, stride table or analysis result)
        Metadata: a Session, SessionMeta, RunInfo or mapping (session_id, subject, label, load_kg, placement).
    baseline_label : str
        Runs with this label are the baseline; if none has it, the runs without load are.
    n_boot : int
        Bootstrap replicates (vectorized; 2000 take well under a second for a few runs).
    seed : int | None
        Seed of the bootstrap (same seed, same intervals).
    speed_adjust : "auto" | "overlap" | "regression" | "none"
        How stride length and cadence are put on matched speed; "auto" uses none when mean speeds are within 2 %,
        else the overlapping range of local pace, else the within-run slope on local pace pooled over all runs.
        The method used is stated per condition (``Comparison.speed_adjustment``, ``table.speed_adjustment``).
    level : float
        Confidence level of the intervals.
    """
    if speed_adjust not in ("auto", "overlap", "regression", "none"):
        raise ComparisonError(f"speed_adjust: allowed values are auto, overlap, regression, none, but got "
                              f"{speed_adjust!r}")
    if n_boot < 200:
        raise ComparisonError(f"n_boot={n_boot} is too few for a 95 % interval; use at least 200")
    pairs = list(runs)
    infos = [run_info(m, i) for i, (m, _) in enumerate(pairs)]
    _validate(infos)
    _check_one_gait(infos, [_strides_of(obj) for _, obj in pairs])
    metrics_all = list(COMPARED_METRICS)
    prepared = [_prepare(info, _strides_of(obj), metrics_all) for info, (_, obj) in zip(infos, pairs, strict=True)]
    # metrics without a single finite value anywhere (e.g. the foot angle on a shank placement) drop out
    present = [k for k, m in enumerate(metrics_all)
               if any(np.isfinite(x[:, k]).any() for r in prepared for x in r.sides.values())]
    metrics = [metrics_all[k] for k in present]
    for r in prepared:
        r.sides = {s: x[:, present] for s, x in r.sides.items()}
    if not metrics:
        raise ComparisonError("the stride tables hold none of the compared metrics")

    warn: list[str] = []
    # --- conditions --------------------------------------------------------------------------------------------
    base_ids = [i for i, r in enumerate(prepared) if r.info.label == baseline_label]
    if base_ids:
        baseline_desc = f"runs labelled '{baseline_label}'"
    else:
        base_ids = [i for i, r in enumerate(prepared) if r.info.load_kg == 0]
        baseline_desc = "runs without load (0 kg)"
        if not base_ids:
            raise ComparisonError(f"no baseline run: none is labelled '{baseline_label}' and none has 0 kg load; "
                                  "set the baseline label")
    loaded_base = sorted({prepared[i].info.load_kg for i in base_ids if prepared[i].info.load_kg > 0})
    if loaded_base:
        warn.append(f"some baseline runs carry a load ({', '.join(f'{v:g}' for v in loaded_base)} kg per ankle)")
    keys: dict[tuple[str, float], list[int]] = {}
    for i, r in enumerate(prepared):
        if i not in base_ids:
            keys.setdefault((r.info.label, r.info.load_kg), []).append(i)
    if not keys:
        raise ComparisonError(f"all runs are baseline ({baseline_desc}); add a weighted run to compare")
    cond_keys = [("__baseline__", 0.0), *sorted(keys, key=lambda k: (k[1], k[0]))]
    members = [base_ids, *(keys[k] for k in cond_keys[1:])]
    base_load = float(np.mean([prepared[i].info.load_kg for i in base_ids]))
    cond_loads = [base_load, *(k[1] for k in cond_keys[1:])]
    cond_names = [baseline_label or "baseline", *(_condition_name(*k) for k in cond_keys[1:])]
    for c, ids in enumerate(members):
        for i in ids:
            prepared[i].condition = c
    n_runs_c = [len(ids) for ids in members]
    baseline_desc += f", {n_runs_c[0]} run(s)"

    # --- speed adjustment, decided on the point values --------------------------------------------------------
    k_speed = metrics.index(C.SPEED) if C.SPEED in metrics else None
    adj_ks = [metrics.index(m) for m in SPEED_ADJUSTED_METRICS if m in metrics]

    def run_mean(r: _Run, k: int) -> float:
        vals = [np.nanmean(x[:, k]) for x in r.sides.values() if np.isfinite(x[:, k]).any()]
        return float(np.mean(vals)) if vals else math.nan

    run_speed = np.array([run_mean(r, k_speed) if k_speed is not None else math.nan for r in prepared])
    cond_speed = [float(np.nanmean(run_speed[ids])) if np.isfinite(run_speed[ids]).any() else math.nan
                  for ids in members]
    methods: dict[int, str] = {}
    windows: dict[int, tuple[float, float]] = {}
    speed_text: dict[str, str] = {}
    slope: dict[int, float] = {}
    pace_sd = 0.0
    if k_speed is not None and adj_ks:
        for k in adj_ks:
            slope[k], pace_sd = _pace_slope(prepared, k, k_speed)
    reg_ok = bool(slope) and pace_sd >= _MIN_PACE_SD and all(np.isfinite(v) for v in slope.values())
    for c in range(1, len(members)):
        v0, v1 = cond_speed[0], cond_speed[c]
        name = cond_names[c]
        if k_speed is None or not adj_ks or not (np.isfinite(v0) and np.isfinite(v1)):
            methods[c] = "none"
            speed_text[name] = "not adjusted (no speed in the stride tables)"
            continue
        if speed_adjust == "none":
            methods[c] = "none"
            speed_text[name] = f"not adjusted (asked not to); mean speed {v0:.2f} vs {v1:.2f} m/s"
            continue
        if speed_adjust == "auto" and abs(v1 - v0) <= _SPEED_MATCH_FRACTION * v0:
            methods[c] = "matched"
            speed_text[name] = f"not needed: mean speeds within 2 % ({v0:.2f} vs {v1:.2f} m/s)"
            continue
        tried = ["overlap", "regression"] if speed_adjust in ("auto", "overlap") else ["regression", "overlap"]
        for how in tried:
            if how == "overlap":
                w = _overlap_window([prepared[i] for i in members[0]], [prepared[i] for i in members[c]])
                if w is not None:
                    methods[c], windows[c] = "overlap", w
                    speed_text[name] = (f"compared within the overlapping speed range {w[0]:.2f}-{w[1]:.2f} m/s "
                                        f"(mean speeds {v0:.2f} vs {v1:.2f} m/s)")
                    break
            elif reg_ok:
                methods[c] = "regression"
                speed_text[name] = (f"adjusted to the baseline speed {v0:.2f} m/s (mean speed here {v1:.2f} m/s) "
                                    "with the slope on local pace within each run, pooled over all runs")
                if abs(v1 - v0) > 2.6 * pace_sd:  # beyond the 10th-90th percentile spread of pace within runs
                    warn.append(f"{name}: the speed adjustment extrapolates ({v0:.2f} vs {v1:.2f} m/s is more than "
                                "the pace varied within your runs); run the conditions at the same pace if you can")
                break
        else:
            methods[c] = "none"
            speed_text[name] = (f"NOT adjusted: mean speed {v0:.2f} vs {v1:.2f} m/s, too little overlap in speed "
                                "and too little pace variation within runs for a regression")
            warn.append(f"{name}: speed differed ({v0:.2f} vs {v1:.2f} m/s) and could not be adjusted for; changes "
                        "in stride length and cadence may be due to speed")
        if methods[c] in ("overlap", "regression", "none") and abs(v1 - v0) > _SPEED_MATCH_FRACTION * v0:
            warn.append(f"{name}: you ran at {v1:.2f} m/s against {v0:.2f} m/s unweighted; contact time, flight "
                        "time, duty factor and tibial shock also depend on speed and were not adjusted")

    # --- stage 2 (strides within runs) then run-level quantities ----------------------------------------------
    rng = np.random.default_rng(seed)
    K = len(metrics)
    asym = [metrics.index(m) for m in ASYMMETRY_METRICS if m in metrics]
    win_conds = sorted(windows)
    # quantity columns: K means, SA per asym metric, SI per asym metric, then (SL, cadence) per overlap window
    Q = K + 2 * len(asym) + len(adj_ks) * len(win_conds)
    reps = np.full((len(prepared), n_boot + 1, Q), np.nan)
    for ri, r in enumerate(prepared):
        side_reps = {}
        for s, X in r.sides.items():
            extra = []
            for c in win_conds:
                if r.condition in (0, c):
                    lo, hi = windows[c]
                    inside = (r.pace[s] >= lo) & (r.pace[s] <= hi)
                    extra += [np.where(inside, X[:, k], np.nan) for k in adj_ks]
                else:
                    extra += [np.full(len(X), np.nan) for _ in adj_ks]
            side_reps[s] = _side_means(np.column_stack([X, *extra]) if extra else X, rng, n_boot)
        stacked = np.stack(list(side_reps.values()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            both = np.nanmean(stacked, axis=0)
        reps[ri, :, :K] = both[:, :K]
        reps[ri, :, K + 2 * len(asym):] = both[:, K:]
        if "left" in side_reps and "right" in side_reps:
            L, Rr = side_reps["left"][:, asym], side_reps["right"][:, asym]
            reps[ri, :, K:K + len(asym)] = symmetry_angle(L, Rr)
            reps[ri, :, K + len(asym):K + 2 * len(asym)] = symmetry_index(L, Rr)
    if any(len(r.sides) < 2 for r in prepared):
        one = [r.info.session_id for r in prepared if len(r.sides) < 2]
        warn.append(f"run(s) {', '.join(one)} have valid strides from one leg only: no asymmetry for them")

    # --- stage 1 (runs within condition) ----------------------------------------------------------------------
    point_run = reps[:, 0, :]  # (runs, Q)
    drawn = [_draw_runs(reps[ids], rng, n_boot) for ids in members]  # each (B, R_c, Q)
    cond_reps = [_nanmean(d, 1) for d in drawn]  # each (B, Q)
    cond_point = [_nanmean(point_run[ids], 0) for ids in members]
    with warnings.catch_warnings():  # all-NaN columns (another condition's speed window) give NaN, as intended
        warnings.simplefilter("ignore", RuntimeWarning)
        cond_var = [np.nanvar(cr, axis=0) for cr in cond_reps]

    # --- the table --------------------------------------------------------------------------------------------
    qinfo: list[tuple[str, str, str, str, int]] = []  # (metric id, base metric, statistic, unit, column)
    for k, m in enumerate(metrics):
        qinfo.append((m, m, "mean", C.METRICS[m][1], k))
    for j, k in enumerate(asym):
        qinfo.append((f"{metrics[k]}_{SA}_pct", metrics[k], SA, "%", K + j))
    for j, k in enumerate(asym):
        qinfo.append((f"{metrics[k]}_{SI}_pct", metrics[k], SI, "%", K + len(asym) + j))

    rows = []
    diff_reps: dict[tuple[int, str], np.ndarray] = {}
    var_parts: dict[tuple[int, str], tuple[float, float]] = {}
    for c in range(1, len(members)):
        label, load = cond_keys[c]
        weak = n_runs_c[0] < 2 or n_runs_c[c] < 2
        for mid, base, stat, unit, col in qinfo:
            k = metrics.index(base)
            how = methods[c] if (stat == "mean" and k in adj_ks) else "none"
            col_use = col
            if how == "overlap":
                col_use = K + 2 * len(asym) + win_conds.index(c) * len(adj_ks) + adj_ks.index(k)
            b_runs = point_run[members[0], col_use].copy()
            c_runs = point_run[members[c], col_use].copy()
            b_rep, c_rep = cond_reps[0][:, col_use], cond_reps[c][:, col_use]
            b_pt, c_pt = cond_point[0][col_use], cond_point[c][col_use]
            var0, var1 = cond_var[0][col_use], cond_var[c][col_use]
            if how == "regression":
                beta = slope[k]
                v0, v1 = cond_point[0][k_speed], cond_point[c][k_speed]
                c_pt = c_pt - beta * (v1 - v0)
                c_rep = c_rep - beta * (cond_reps[c][:, k_speed] - cond_reps[0][:, k_speed])
                b_runs = b_runs - beta * (point_run[members[0], k_speed] - v0)
                c_runs = c_runs - beta * (point_run[members[c], k_speed] - v0)
                var1 = float(np.nanvar(c_rep))
            diff = c_pt - b_pt
            d_rep = c_rep - b_rep
            diff_reps[(c, mid)] = d_rep
            var_parts[(c, mid)] = (float(var0), float(var1))
            parts = [(1.0, var0, n_runs_c[0]), (1.0, var1, n_runs_c[c])]
            lo, hi = _interval(np.array([diff]), d_rep[:, None], parts, level)
            lo, hi = float(lo[0]), float(hi[0])
            pct = pct_lo = pct_hi = math.nan
            if stat == "mean" and b_pt != 0 and np.isfinite(b_pt):
                pct = diff / b_pt * 100.0
                with np.errstate(invalid="ignore", divide="ignore"):
                    p_rep = d_rep / b_rep * 100.0
                plo, phi = _interval(np.array([pct]), p_rep[:, None], parts, level)
                pct_lo, pct_hi = float(plo[0]), float(phi[0])
            fb = _finite(b_runs)
            mdc = 1.96 * math.sqrt(2.0) * float(np.std(fb, ddof=1)) if fb.size >= 2 else math.nan
            # equivalence (two one-sided tests at 5 %): the 90 % interval lies within +-MDC95
            e_lo, e_hi = _interval(np.array([diff]), d_rep[:, None], parts, 1.0 - 2.0 * (1.0 - level))
            equivalent = bool(np.isfinite(mdc) and -mdc < e_lo[0] and e_hi[0] < mdc)
            g = _hedges_g(diff, b_runs, c_runs)
            excl0 = bool(np.isfinite(lo) and (lo > 0 or hi < 0))
            exceeds = bool(abs(diff) > mdc) if np.isfinite(mdc) and np.isfinite(diff) else None
            change = bool(excl0 and exceeds) if exceeds is not None else False
            adj_text = {"overlap": speed_text[cond_names[c]], "regression": speed_text[cond_names[c]],
                        "matched": speed_text[cond_names[c]]}.get(how, "")
            if how == "regression":
                adj_text += f"; slope {slope[k]:.3g} {C.METRICS[base][1]} per m/s"
            row = {
                "metric": mid, "base_metric": base, "statistic": stat,
                "metric_label": (C.METRICS[base][0] + (f" {_STAT_LABEL[stat]}" if stat != "mean" else "")),
                "unit": unit, "condition": cond_names[c], "label": label, "load_kg": load,
                "baseline_mean": b_pt, "mean": c_pt, "diff": diff, "diff_ci_low": lo, "diff_ci_high": hi,
                "pct": pct, "pct_ci_low": pct_lo, "pct_ci_high": pct_hi, "effect_size": g, "mdc95": mdc,
                "n_runs_baseline": int(fb.size), "n_runs": int(_finite(c_runs).size),
                "ci_excludes_zero": excl0, "exceeds_mdc": exceeds, "change": change, "equivalent": equivalent,
                "adjusted_for_speed": how in ("overlap", "regression"), "speed_adjustment": adj_text,
                "weak_evidence": weak,
            }
            row["verdict"] = _verdict(row)
            rows.append(row)
    table = pd.DataFrame(rows)
    table["exceeds_mdc"] = table["exceeds_mdc"].astype("boolean")

    # --- run table ----------------------------------------------------------------------------------------------
    run_rows = []
    for ri, r in enumerate(prepared):
        row = {"session_id": r.info.session_id, "label": r.info.label, "load_kg": r.info.load_kg,
               "condition": cond_names[r.condition], "baseline": r.condition == 0, "n_strides": r.n_strides}
        for mid, _, _, _, col in qinfo:
            row[mid] = point_run[ri, col]
        run_rows.append(row)
    runs_df = pd.DataFrame(run_rows)

    # --- warnings about the evidence -----------------------------------------------------------------------------
    if n_runs_c[0] < 2:
        warn.insert(0, "only one unweighted run: the noise between runs (MDC) is unknown, so no difference can be "
                       "called a change; record at least two, better three, unweighted runs")
    elif n_runs_c[0] == 2:
        warn.append("the run-to-run noise (MDC) comes from only two unweighted runs and is itself rough")
    singles = [cond_names[c] for c in range(1, len(members)) if n_runs_c[c] < 2]
    if singles or n_runs_c[0] < 2:
        warn.append("one run per condition is weak evidence: the interval then shows only stride-to-stride noise "
                    "within that run, not the day-to-day variation; alternate conditions (ABBA) over 3-4 runs each")
    if any(r.n_strides < 60 for r in prepared):
        short = [r.info.session_id for r in prepared if r.n_strides < 60]
        warn.append(f"run(s) {', '.join(short)} have fewer than 60 valid strides; run means are noisy")
    if C.PEAK_TIBIAL_ACCEL in metrics:
        warn.append("tibial shock with a weight strapped near the sensor is partly a mounting artefact; mount the "
                    "sensor on bone, apart from the weight cuff")

    # --- verdict list, progression, advice ---------------------------------------------------------------------
    verdicts = [v for v, st, ch in zip(table["verdict"], table["statistic"], table["change"], strict=True)
                if st == "mean" or (st == SA and ch)]
    progression, heaviest, prog_lines = _progression(
        table, cond_keys, cond_loads, n_runs_c, diff_reps, var_parts, level)
    advice = _advice(table, cond_keys, n_runs_c, heaviest, prog_lines)
    methods_text = _methods_text(level, n_boot, baseline_desc)
    return Comparison(table=table, verdicts=verdicts, warnings=warn, advice=advice, runs=runs_df,
                      progression=progression, heaviest_ok_load_kg=heaviest, baseline=baseline_desc,
                      speed_adjustment=speed_text, methods=methods_text)


def _pace_slope(runs: list[_Run], k: int, k_speed: int) -> tuple[float, float]:
    """Pooled within-run slope of metric ``k`` on local pace (run and leg as fixed effects), and the pooled
    within-run SD of the local pace. Uses only the speed variation inside runs, none between conditions.

    The local pace carries part of the stride-to-stride speed noise, which would flatten the slope; the slope is
    divided by the reliability of the pace (regression calibration), with the noise variance estimated from
    successive differences of stride speed.
    """
    sxy = sxx = noise = 0.0
    dof = 0
    for r in runs:
        for s, X in r.sides.items():
            p, x, v = r.pace[s], X[:, k], X[:, k_speed]
            ok = np.isfinite(p) & np.isfinite(x)
            if ok.sum() < 10:
                continue
            pc, xc = p[ok] - p[ok].mean(), x[ok] - x[ok].mean()
            sxy, sxx, dof = sxy + float(pc @ xc), sxx + float(pc @ pc), dof + int(ok.sum()) - 1
            dv = _finite(np.diff(v))
            if dv.size:
                noise += (int(ok.sum()) - 1) * 0.5 * float(np.mean(dv**2)) / (_PACE_WINDOW - 1)
    if sxx <= 0 or dof == 0:
        return math.nan, 0.0
    reliability = 1.0 - noise / sxx
    if reliability < 0.3:  # the pace hardly varies beyond its own noise: no usable slope
        return math.nan, 0.0
    return sxy / sxx / reliability, math.sqrt(sxx * reliability / dof)


def _overlap_window(base: list[_Run], cond: list[_Run]) -> tuple[float, float] | None:
    """The shared range (10th-90th percentile) of local pace, if every run keeps enough strides in it."""
    def pooled(rs: list[_Run]) -> np.ndarray:
        return _finite(np.concatenate([p for r in rs for p in r.pace.values()]))

    pb, pc = pooled(base), pooled(cond)
    if pb.size == 0 or pc.size == 0:
        return None
    lo = max(np.percentile(pb, 10), np.percentile(pc, 10))
    hi = min(np.percentile(pb, 90), np.percentile(pc, 90))
    if not lo < hi:
        return None
    for r in base + cond:
        n_in = sum(int(((p >= lo) & (p <= hi)).sum()) for p in r.pace.values())
        if n_in < _MIN_STRIDES_IN_WINDOW:
            return None
    return float(lo), float(hi)


# --- words ----------------------------------------------------------------------------------------------------
_DIGITS = {"m": 2, "steps/min": 1, "deg": 1, "g": 2, "m/s": 2, "%": 1, "": 3}


def _num_text(value: float, unit: str, signed: bool = False, ref: float | None = None) -> str:
    """The number alone at the precision of its unit (seconds in ms); two significant digits of ``ref`` (default
    the value) when that precision would round ``ref`` to 0; never "-0"."""
    scale = 1000.0 if unit == "s" else 1.0
    v, r = float(value) * scale, abs(float(value if ref is None else ref)) * scale
    digits = 0 if unit == "s" else _DIGITS.get(unit, 2)
    if np.isfinite(r) and r != 0 and round(r, digits) == 0:
        digits = max(digits, 1 - int(math.floor(math.log10(r))))
    v = round(v, digits) + 0.0
    return f"{v:{'+' if signed and v else ''}.{digits}f}"


def _unit_suffix(unit: str) -> str:
    return {"s": " ms", "": "", "%": " %"}.get(unit, f" {unit}")


def fmt_value(value: float, unit: str, signed: bool = False) -> str:
    """A number with its unit at a sensible precision (seconds are shown in ms)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    return _num_text(value, unit, signed) + _unit_suffix(unit)


def fmt_interval(diff: float, lo: float, hi: float, unit: str) -> str:
    """``+2.1 deg [1.2, 3.0]``: a signed change with its interval, the unit written once."""
    if not np.isfinite(diff):
        return "n/a"
    ref = _ref(diff, lo, hi)
    return f"{_num_text(diff, unit, True, ref)}{_unit_suffix(unit)} {_ci_text(lo, hi, unit, ref)}"


def _ref(*values: float) -> float:
    """The magnitude that sets the shared precision of an estimate and its interval."""
    finite = [abs(v) for v in values if np.isfinite(v)]
    return max(finite) if finite else math.nan


def _ci_text(lo: float, hi: float, unit: str, ref: float) -> str:
    def one(v: float) -> str:
        return _num_text(v, unit, ref=ref) if np.isfinite(v) else "n/a"

    return f"[{one(lo)}, {one(hi)}]"


def _bare(value: float, unit: str) -> str:
    """A number at the precision of its unit, without the unit."""
    return _num_text(value, unit) if np.isfinite(value) else "n/a"


def condition_phrase(label: str, load: float) -> str:
    """How a verdict names a condition: "With 1 kg per ankle", or "In your 'easy' runs" without load."""
    return f"With {load:g} kg per ankle" if load > 0 else f"In your '{label}' runs"


def _verdict(row: Mapping[str, Any]) -> str:
    """One plain sentence for one row of the table."""
    unit, diff, lo, hi, mdc = row["unit"], row["diff"], row["diff_ci_low"], row["diff_ci_high"], row["mdc95"]
    base, stat = row["base_metric"], row["statistic"]
    who = condition_phrase(row["label"], row["load_kg"])
    ref = _ref(diff, lo, hi)
    ci = _ci_text(lo, hi, unit, ref)
    noise = f"the {fmt_value(mdc, unit)} noise between your unweighted runs"
    if stat == "mean":
        what = C.METRICS[base][0]
        amount = f"{_num_text(abs(diff), unit, ref=ref)}{_unit_suffix(unit)} {ci}"
        if np.isfinite(row["pct"]):
            amount += f" ({row['pct']:+.1f} %)"
        moved = "rose by" if diff > 0 else "fell by"
        meaning = _MEANING.get(base, ("", ""))[0 if diff > 0 else 1]
    else:
        what = f"left/right asymmetry in {C.METRICS[base][0]} ({_STAT_LABEL[stat]})"
        b, m = row["baseline_mean"], row["mean"]
        amount = f"{fmt_value(b, '%')} to {fmt_value(m, '%')} (change {_num_text(diff, unit, True, ref)} points {ci})"
        moved = "went from"
        meaning = "more asymmetric" if abs(m) > abs(b) else "more symmetric"
    if not np.isfinite(diff):
        return f"{who} your {what} could not be compared (no values)."
    if not row["ci_excludes_zero"]:
        if stat == "mean":
            text = f"{who} your {what} did not change clearly: {fmt_interval(diff, lo, hi, unit)}"
        else:
            text = f"{who} your {what} did not change clearly: {amount}"
        text += f" (noise between your unweighted runs: {fmt_value(mdc, unit)})." if np.isfinite(mdc) else "."
    elif row["exceeds_mdc"] is None:
        text = (f"{who} your {what} {moved} {amount}, but with only one unweighted run the noise between runs is "
                "unknown, so this cannot be called a change yet.")
    elif not row["exceeds_mdc"]:
        text = f"{who} your {what} {moved} {amount}, but that is within {noise}: not a change."
    else:
        text = f"{who} your {what} {moved} {amount}, more than {noise}: {meaning}."
    if row["adjusted_for_speed"]:
        text += " (Compared at matched speed.)"
    if row["weak_evidence"]:
        text += " One run per condition: weak evidence."
    return text


def _form_rows(table: pd.DataFrame) -> pd.Series:
    """Rows that count as running form for the load guidance: every mean except speed, and the symmetry angles."""
    return ((table["statistic"] == "mean") & (table["base_metric"] != C.SPEED)) | (table["statistic"] == SA)


def _progression(table: pd.DataFrame, cond_keys: list[tuple[str, float]], cond_loads: list[float],
                 n_runs_c: list[int], diff_reps: dict[tuple[int, str], np.ndarray],
                 var_parts: dict[tuple[int, str], tuple[float, float]],
                 level: float) -> tuple[pd.DataFrame | None, float | None, list[str]]:
    """Dose-response per metric (slope per kg of the run-level values on load) and the heaviest load that held."""
    from scipy import stats

    loads = np.array(cond_loads, float)
    lines: list[str] = []
    # heaviest load at which every form metric stayed within its MDC (the same rule as the verdicts)
    heaviest: float | None = None
    form = table[_form_rows(table)]
    if form["exceeds_mdc"].isna().any():
        lines.append("No load can be cleared without at least two unweighted runs (the noise between runs).")
    else:
        heaviest = 0.0
        for load in sorted({k[1] for k in cond_keys[1:] if k[1] > 0}):
            if form.loc[form["load_kg"] == load, "change"].any():
                break
            heaviest = load
    if len(np.unique(loads)) < 3:
        return None, heaviest, lines
    rows = []
    R = np.array(n_runs_c, float)
    lbar = float((R * loads).sum() / R.sum())
    sxx = float((R * (loads - lbar) ** 2).sum())
    a = R * (loads - lbar) / sxx  # slope = sum_c a_c * mean_c
    for mid in table["metric"].unique():
        sub = table[table["metric"] == mid]
        first = sub.iloc[0]
        if first["statistic"] == SI:
            continue
        diffs = [0.0] + [float(sub.loc[sub["condition"] == _condition_name(*cond_keys[c]), "diff"].iloc[0])
                         for c in range(1, len(cond_keys))]
        d_reps = [np.zeros(len(next(iter(diff_reps.values()))))] + [diff_reps[(c, mid)]
                                                                  for c in range(1, len(cond_keys))]
        slope = float((a * np.array(diffs)).sum())
        slope_rep = sum(a_c * d for a_c, d in zip(a, d_reps, strict=True))
        # variance parts (bootstrap variance of each condition mean) for the small-sample widening
        own = [var_parts[(c, mid)] for c in range(1, len(cond_keys))]
        col_var = [float(np.mean([v0 for v0, _ in own])), *(v1 for _, v1 in own)]
        parts = [(float(a_c), v, int(r)) for a_c, v, r in zip(a, col_var, n_runs_c, strict=True)]
        if all(r < 2 for r in n_runs_c):  # one run per load: use the scatter of run means about the line
            resid = np.array(diffs) - (np.array(diffs).mean() + slope * (loads - loads.mean()))
            dfr = len(loads) - 2
            se = math.sqrt((resid**2).sum() / dfr / ((loads - loads.mean()) ** 2).sum())
            half = float(stats.t.ppf(0.5 + level / 2, dfr)) * se
            lo, hi, how = slope - half, slope + half, "scatter of the run means about the line (one run per load)"
        else:
            lo_a, hi_a = _interval(np.array([slope]), slope_rep[:, None], parts, level)
            lo, hi, how = float(lo_a[0]), float(hi_a[0]), "cluster bootstrap"
        rows.append({"metric": mid, "base_metric": first["base_metric"], "statistic": first["statistic"],
                     "metric_label": first["metric_label"], "unit": first["unit"],
                     "slope_per_kg": slope, "slope_ci_low": lo, "slope_ci_high": hi,
                     "baseline_mean": float(first["baseline_mean"]), "n_loads": int(len(np.unique(loads))),
                     "n_runs": int(R.sum()), "ci_method": how})
    return pd.DataFrame(rows), heaviest, lines


def _advice(table: pd.DataFrame, cond_keys: list[tuple[str, float]], n_runs_c: list[int],
            heaviest: float | None, lines: list[str]) -> list[str]:
    """Load guidance (start light, 0.5-2.5 kg, add gradually, 1-2 weighted runs a week, back off when form
    degrades), driven by which of this runner's metrics changed at which load."""
    out = list(lines)
    form = table[_form_rows(table)]
    loads = sorted({k[1] for k in cond_keys[1:] if k[1] > 0})
    if not loads:
        return out
    guide = (f"The usual guidance: start light, within about {GUIDANCE_KG[0]:g}-{GUIDANCE_KG[1]:g} kg "
             "(1-5 lb) per ankle, add load gradually (about 0.5 kg at a time), one or two weighted runs a week, "
             "and back off when your form degrades.")

    def changed_at(load: float) -> str:
        sub = form[(form["load_kg"] == load) & form["change"]]
        text = "; ".join(f"{r.metric_label} {fmt_value(r['diff'], r.unit, signed=True)}" for _, r in sub.iterrows())
        if len(sub) == 1:  # with ~14 form rows per load, one spurious change happens in about 1 load in 10
            text += "; only this one metric moved, so re-test this load to confirm"
        return text

    def unsure_at(load: float) -> tuple[str, bool]:
        """The primary form means (not the asymmetries) not called a change but not shown equivalent either (the
        90 % interval reaches beyond +-MDC95), as a sentence, and whether that is most of them."""
        sub = form[(form["load_kg"] == load) & (form["statistic"] == "mean")]
        wide = sub[~sub["change"] & ~sub["equivalent"]]
        if not len(wide):
            return "", False
        names = list(wide["metric_label"])
        what = ", ".join(names) if len(names) <= 3 else f"{len(names)} of {len(sub)} form metrics ({names[0]}, ...)"
        return (f" But at {load:g} kg the intervals for {what} are still too wide to rule out a change larger than "
                "that noise, so for those 'held' is not shown yet; more runs per load will tell.",
                2 * len(wide) > len(sub))

    heavy = [v for v in loads if v > GUIDANCE_KG[1]]
    if heavy:
        out.append(f"{', '.join(f'{v:g}' for v in heavy)} kg per ankle is above the usual "
                   f"{GUIDANCE_KG[0]:g}-{GUIDANCE_KG[1]:g} kg guidance, whatever your numbers show.")
    if heaviest is None:
        out.append(f"Until your run-to-run noise is known, stay at the lightest load you tried ({loads[0]:g} kg per "
                   "ankle) or below. " + guide)
        return out
    first_bad = next((v for v in loads if v > heaviest), None)
    if heaviest == 0.0 and first_bad is not None:
        out.append(f"Already at {first_bad:g} kg per ankle your form changed beyond your run-to-run noise "
                   f"({changed_at(first_bad)}). Start lighter (about {max(first_bad / 2, 0.25):g} kg per ankle or "
                   "less), re-test, and add load only while these numbers hold. " + guide)
    elif first_bad is not None:
        train = min(heaviest, GUIDANCE_KG[1])
        lighter = [v for v in loads if v < train]
        back = f"{lighter[-1]:g} kg" if lighter else f"about {train / 2:g} kg"
        out.append(f"Your form held up to {heaviest:g} kg per ankle: no form metric moved beyond the noise "
                   f"between your unweighted runs. At {first_bad:g} kg it did ({changed_at(first_bad)})."
                   + unsure_at(heaviest)[0])
        out.append(f"Train at {train:g} kg per ankle, one or two weighted runs a week, and re-test before trying "
                   f"{first_bad:g} kg again; if those metrics move beyond their noise at {train:g} kg, back off "
                   f"to {back}. " + guide)
    else:
        top = loads[-1]
        nxt = min(top + 0.5, GUIDANCE_KG[1])
        unsure, mostly = unsure_at(top)
        out.append(f"Your form held at every load you tried (up to {top:g} kg per ankle): no form metric moved "
                   "beyond the noise between your unweighted runs." + unsure)
        if mostly:
            out.append(f"Stay at {min(top, GUIDANCE_KG[1]):g} kg per ankle or below, one or two weighted runs a "
                       "week, until more runs settle it. " + guide)
        elif top < GUIDANCE_KG[1]:
            out.append(f"Keep {top:g} kg for one or two weighted runs a week; after a few weeks you may try "
                       f"{nxt:g} kg and re-test. " + guide)
        else:
            out.append(f"Stay at or below {GUIDANCE_KG[1]:g} kg per ankle, one or two weighted runs a week. " + guide)
    if min(n_runs_c) < 3:
        out.append("Re-test with 3 runs per load (alternating weighted and unweighted) before relying on this.")
    return out


def _methods_text(level: float, n_boot: int, baseline: str) -> str:
    return (
        f"Baseline: {baseline}. The run is the unit: each run is reduced to its mean per leg (the mean of the two "
        "legs for a metric; the symmetry index and angle from the two leg means), and conditions are compared on "
        f"run means. {level:.0%} intervals come from a two-stage cluster bootstrap ({n_boot} replicates: runs "
        "resampled within condition, then strides within each drawn run), widened for few runs (variance "
        "R/(R-1) and t instead of z with Welch-Satterthwaite degrees of freedom). Effect size: Hedges' g on the "
        "pooled between-run SD of run means. MDC95 = 1.96 x sqrt(2) x SEM, with SEM the SD of the unweighted run "
        "means; a difference is called a change only when its interval excludes zero and it exceeds the MDC95. "
        "Stride length and cadence are compared at matched speed (see the speed note). Load progression: slope of "
        "the run-level values on load (per kg per ankle) with a cluster-bootstrap interval; the heaviest load that "
        "held is the heaviest at which no form metric (means and symmetry angles, not speed) was called a change. "
        "Each row is judged on its own: with no real effect about 1 % of rows, but about 1 load in 10 (14 form "
        "rows), shows a spurious change (simulated, 2-4 runs per condition), so re-test before backing off on "
        "the strength of a single metric. Absence of a change is not shown by a wide interval: a metric counts "
        "as unchanged beyond the noise only when its 90 % interval lies within +-MDC95 (two one-sided tests), "
        "and the advice says so when it does not."
    )
