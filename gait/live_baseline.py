"""The runner's baseline for live form warnings, and what a warning says.

A :class:`Baseline` is built from the runner's unweighted runs (stride tables, analysis results or summary
tables): per watched quantity (:data:`WATCH_LEVEL` per leg, :data:`WATCH_ASYM` as R - L) the median over runs and
the noise between and within runs. :class:`WarningPolicy` says when a live value counts as drifted and the
hysteresis; :class:`LiveWarning` is one active warning with its wording. :class:`gait.live.LiveAnalyzer` judges
its rolling means against the baseline; this module needs no streaming, so a baseline can be built, saved and
read back without the analysis stack.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gait import conventions as C

__all__ = [
    "METRIC_INFO",
    "MIN_BETWEEN_SD",
    "WATCH_ASYM",
    "WATCH_LEVEL",
    "Baseline",
    "BaselineItem",
    "LiveWarning",
    "WarningPolicy",
    "unit_label",
]

#: Label and unit of every metric shown or watched (``conventions.METRICS`` has no step time).
METRIC_INFO: dict[str, tuple[str, str]] = {**C.METRICS, C.STEP_TIME: ("step time", "s")}


#: The quantities watched against a baseline: the segment angle at contact per leg, and these R - L asymmetries.
WATCH_LEVEL: tuple[str, ...] = (C.SHANK_ANGLE_IC, C.FOOT_ANGLE_IC)
WATCH_ASYM: tuple[str, ...] = (C.CONTACT_TIME, C.STEP_TIME, C.SHANK_ANGLE_IC, C.FOOT_ANGLE_IC, C.PEAK_TIBIAL_ACCEL)
#: Floor of the between-run SD used for the noise (units of the metric). Run-to-run SDs estimated from two or three
#: baseline runs are themselves very rough (chi-square with 1-2 degrees of freedom), and with a single run they are
#: unknown; the noise never drops below what these floors give. Asymmetries use the same floors.
MIN_BETWEEN_SD: dict[str, float] = {
    C.SHANK_ANGLE_IC: 0.5,
    C.FOOT_ANGLE_IC: 0.7,
    C.CONTACT_TIME: 0.004,
    C.STEP_TIME: 0.004,
    C.PEAK_TIBIAL_ACCEL: 0.3,
}


@dataclass(frozen=True)
class WarningPolicy:
    """When a watched quantity counts as drifted, and the hysteresis that keeps warnings from flickering.

    noise = ``z`` x sqrt(SD_between^2 (1 + 1/k) + SE_window^2): SD_between is the SD of the baseline run values
    (k runs; floored by :data:`MIN_BETWEEN_SD`), SE_window the standard error of the live 30-s mean from the
    stride-to-stride SD. A warning turns on when |live - baseline| exceeds the noise for ``on_s`` seconds (stream
    time) and off when it stays below ``release`` x noise for ``off_s`` seconds; nothing is judged with fewer than
    ``min_strides`` valid strides per leg in the window.
    """

    z: float = 1.96
    on_s: float = 3.0
    off_s: float = 6.0
    release: float = 0.7
    min_strides: int = 10


@dataclass
class BaselineItem:
    """One watched quantity of the baseline: ``kind`` ``"level"`` (one leg) or ``"asym"`` (R - L)."""

    key: str
    metric: str
    kind: str
    side: str  # "left", "right" or "r-l"
    center: float  # median over the baseline runs
    between_sd: float  # SD of the run values (NaN with one run)
    stride_sd: float  # pooled stride-to-stride SD within runs (per leg)
    n_runs: int

    @property
    def mdc95(self) -> float:
        """Minimal detectable change between two runs, 1.96 sqrt(2) SD_between (NaN with one run)."""
        return 1.96 * math.sqrt(2.0) * self.between_sd if math.isfinite(self.between_sd) else math.nan

    @property
    def label(self) -> str:
        name = METRIC_INFO[self.metric][0]
        return f"{name} ({self.side})" if self.kind == "level" else f"{name} asymmetry (R-L)"


def _valid(strides: pd.DataFrame) -> pd.DataFrame:
    return strides[strides[C.VALID].astype(bool)] if C.VALID in strides else strides


def _finite(x: Any) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    return a[np.isfinite(a)]


class Baseline:
    """A runner's baseline (their unweighted runs): per watched quantity the median over runs and the noise.

    Build one with :meth:`from_strides` (a list of stride tables or :class:`gait.AnalysisResult`) or
    :meth:`from_summary` (a :func:`gait.metrics.summarize` table, optionally of several runs with a ``run``
    column, or a table from :meth:`to_frame`); :meth:`coerce` accepts any of these.
    """

    def __init__(self, items: Iterable[BaselineItem], notes: Sequence[str] = ()):
        self.items = {i.key: i for i in items}
        self.notes = list(notes)

    def __repr__(self) -> str:
        return f"Baseline({len(self.items)} quantities, runs={max((i.n_runs for i in self.items.values()), default=0)})"

    @classmethod
    def coerce(cls, obj: Any) -> Baseline | None:
        if obj is None or isinstance(obj, Baseline):
            return obj
        if isinstance(obj, pd.DataFrame):
            if C.IC_TIME in obj.columns:
                return cls.from_strides([obj])
            return cls.from_summary(obj)
        if isinstance(obj, Iterable):
            return cls.from_strides(list(obj))
        raise TypeError(f"a baseline is a list of stride tables or a summary DataFrame, not {type(obj).__name__}")

    @staticmethod
    def _run_values(strides: pd.DataFrame) -> dict[str, tuple[float, float, int]]:
        """Per watched key: (run value, stride SD, n) of one run."""
        d = _valid(strides)
        out: dict[str, tuple[float, float, int]] = {}
        per = {s: d[d[C.SIDE] == s] for s in C.SIDES}
        for m in set(WATCH_LEVEL) | set(WATCH_ASYM):
            if m not in d.columns:
                continue
            vals = {s: _finite(per[s][m]) for s in C.SIDES}
            for s in C.SIDES:
                x = vals[s]
                if m in WATCH_LEVEL and x.size:
                    out[f"{m}:{s}"] = (float(np.mean(x)), float(np.std(x, ddof=1)) if x.size > 1 else math.nan, x.size)
            if m in WATCH_ASYM and vals["left"].size > 1 and vals["right"].size > 1:
                xl, xr = vals["left"], vals["right"]
                ss = float(((xl - xl.mean()) ** 2).sum() + ((xr - xr.mean()) ** 2).sum())
                sd = math.sqrt(ss / (xl.size + xr.size - 2))
                out[f"{m}:asym"] = (float(xr.mean() - xl.mean()), sd, min(xl.size, xr.size))
        return out

    @classmethod
    def _from_runs(cls, runs: list[dict[str, tuple[float, float, int]]], notes: list[str]) -> Baseline:
        keys = sorted({k for r in runs for k in r})
        items = []
        for k in keys:
            metric, side = k.split(":")
            v = np.array([r[k][0] for r in runs if k in r and math.isfinite(r[k][0])])
            sds = np.array([r[k][1] for r in runs if k in r and math.isfinite(r[k][1])])
            if v.size == 0:
                continue
            items.append(
                BaselineItem(
                    key=k,
                    metric=metric,
                    kind="asym" if side == "asym" else "level",
                    side="r-l" if side == "asym" else side,
                    center=float(np.median(v)),
                    between_sd=float(np.std(v, ddof=1)) if v.size > 1 else math.nan,
                    stride_sd=float(np.sqrt(np.mean(sds**2))) if sds.size else math.nan,
                    n_runs=int(v.size),
                )
            )
        if len(runs) < 2:
            notes.append("one baseline run: the noise between runs is unknown; its floor is used")
        return cls(items, notes)

    @classmethod
    def from_strides(cls, tables: Sequence[Any]) -> Baseline:
        """From the stride tables (or :class:`gait.AnalysisResult`) of the runner's unweighted runs."""
        runs = []
        for t in tables:
            st = t.strides if hasattr(t, "strides") else t
            if not isinstance(st, pd.DataFrame) or C.SIDE not in st:
                raise TypeError("each baseline run must be a stride table (DataFrame) or an AnalysisResult")
            runs.append(cls._run_values(st))
        if not runs:
            raise ValueError("a baseline needs at least one run")
        return cls._from_runs(runs, [])

    @classmethod
    def from_summary(cls, df: pd.DataFrame) -> Baseline:
        """From a summary table: :meth:`to_frame` output, or :func:`gait.metrics.summarize` output (of one run, or of
        several runs stacked with a ``run`` column). Optional ``mdc95``/``mdc``/``noise`` columns (per row) give the
        between-run MDC95 directly."""
        if {"key", "center"} <= set(df.columns):
            items = []
            for r in df.itertuples(index=False):
                between = getattr(r, "between_sd", math.nan)
                if not math.isfinite(float(between)) and math.isfinite(float(getattr(r, "mdc95", math.nan))):
                    between = float(r.mdc95) / (1.96 * math.sqrt(2.0))
                items.append(
                    BaselineItem(
                        str(r.key),
                        str(r.metric),
                        str(r.kind),
                        str(r.side),
                        float(r.center),
                        float(between),
                        float(getattr(r, "stride_sd", math.nan)),
                        int(getattr(r, "n_runs", 1)),
                    )
                )
            return cls(items)
        need = {"side", "metric", "mean"}
        if not need <= set(df.columns):
            raise ValueError(f"a baseline summary needs the columns {sorted(need)} (gait.metrics.summarize output)")
        run_col = next((c for c in ("run", "session", "session_id") if c in df.columns), None)
        groups = [g for _, g in df.groupby(run_col, sort=False)] if run_col else [df]
        runs = []
        mdc_given: dict[str, float] = {}
        for g in groups:
            vals: dict[str, tuple[float, float, int]] = {}
            by = {(r.side, r.metric): r for r in g.itertuples(index=False)}
            for m in set(WATCH_LEVEL) | set(WATCH_ASYM):
                rows = {s: by.get((s, m)) for s in C.SIDES}
                for s, r in rows.items():
                    if r is None:
                        continue
                    for col in ("mdc95", "mdc", "noise"):
                        if col in g.columns and math.isfinite(float(getattr(r, col))):
                            mdc_given[f"{m}:{s}"] = float(getattr(r, col))
                    if m in WATCH_LEVEL:
                        vals[f"{m}:{s}"] = (float(r.mean), float(getattr(r, "sd", math.nan)), int(getattr(r, "n", 0)))
                if m in WATCH_ASYM and rows["left"] is not None and rows["right"] is not None:
                    sd = math.sqrt(
                        0.5
                        * (
                            float(getattr(rows["left"], "sd", math.nan)) ** 2
                            + float(getattr(rows["right"], "sd", math.nan)) ** 2
                        )
                    )
                    vals[f"{m}:asym"] = (float(rows["right"].mean) - float(rows["left"].mean), sd, 0)
            runs.append(vals)
        base = cls._from_runs(runs, [])
        for k, mdc in mdc_given.items():
            if k in base.items:
                base.items[k].between_sd = mdc / (1.96 * math.sqrt(2.0))
        if mdc_given:
            base.notes = [n for n in base.notes if not n.startswith("one baseline run")]
        return base

    def to_frame(self) -> pd.DataFrame:
        """One row per watched quantity: key, metric, kind, side, center (median over runs), between_sd, mdc95,
        stride_sd, n_runs. :meth:`from_summary` reads it back."""
        rows = [
            {
                "key": i.key,
                "metric": i.metric,
                "kind": i.kind,
                "side": i.side,
                "center": i.center,
                "between_sd": i.between_sd,
                "mdc95": i.mdc95,
                "stride_sd": i.stride_sd,
                "n_runs": i.n_runs,
            }
            for i in self.items.values()
        ]
        return pd.DataFrame(rows)


@dataclass
class LiveWarning:
    """An active baseline warning."""

    key: str
    metric: str
    side: str
    value: float
    baseline: float
    noise: float
    since_s: float

    @property
    def deviation(self) -> float:
        return self.value - self.baseline

    @property
    def text(self) -> str:
        """One line for a log or a warning banner, e.g. ``shank angle at contact, left: 10.7 deg, 3.8 deg above
        your baseline 6.9 deg (noise 1.2 deg)``."""
        name = METRIC_INFO[self.metric][0]
        f, u = _fmt_unit(self.metric), unit_label(self.metric)
        what = f"{name} asymmetry R-L" if self.side == "r-l" else f"{name}, {self.side}"
        word = "above" if self.deviation > 0 else "below"
        sign = "+" if self.side == "r-l" and self.value > 0 else ""
        return (
            f"{what}: {sign}{f(self.value)} {u}, {f(abs(self.deviation))} {u} {word} your baseline "
            f"{f(self.baseline)} {u} (noise {f(self.noise)} {u})"
        )

    @property
    def short(self) -> str:
        """For an 80-column screen: ``shank angle IC left 10.7 deg: +3.8 vs baseline 6.9 (noise 1.2)``."""
        names = {C.SHANK_ANGLE_IC: "shank angle IC", C.FOOT_ANGLE_IC: "foot angle IC", C.PEAK_TIBIAL_ACCEL: "shock"}
        name = names.get(self.metric, METRIC_INFO[self.metric][0])
        f, u = _fmt_unit(self.metric), unit_label(self.metric)
        what = f"{name} asym R-L" if self.side == "r-l" else f"{name} {self.side}"
        sign = "+" if self.deviation > 0 else "-"
        return (
            f"{what} {f(self.value)} {u}: {sign}{f(abs(self.deviation))} vs baseline {f(self.baseline)} "
            f"(noise {f(self.noise)})"
        )


def unit_label(metric: str) -> str:
    """Display unit of a metric (times in ms)."""
    unit = METRIC_INFO.get(metric, ("", ""))[1]
    return "ms" if unit == "s" else unit


def _fmt_unit(metric: str) -> Any:
    unit = METRIC_INFO.get(metric, ("", ""))[1]
    if unit == "s":
        return lambda v: f"{v * 1000:.0f}"
    if unit == "m" or unit == "m/s":
        return lambda v: f"{v:.2f}"
    return lambda v: f"{v:.1f}"
