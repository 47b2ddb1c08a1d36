"""The running-form report: one self-contained HTML file (figures as base64 PNG, inline CSS, no network), optional PDF.

Built from stride tables only: ``build_report([(session_or_meta, result), ...], comparison=None)`` where ``result``
has ``.strides`` (or is the stride table). Plot functions return a matplotlib Figure, accept ``ax=``, and never
show anything; matplotlib is imported inside them (Agg canvas, no pyplot).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait import conventions as C
from gait.compare import SA, Comparison, asymmetry_table, condition_phrase, fmt_interval, fmt_value, run_info
from gait.errors import GaitError
from gait.phrasing import asymmetry_sentence

__all__ = [
    "Report",
    "ReportError",
    "build_report",
    "leg_table",
    "plot_asymmetry",
    "plot_distribution",
    "plot_forest",
    "plot_overstriding",
    "plot_progression",
    "plot_trend",
]


class ReportError(GaitError, ValueError):
    """A report that cannot be written (the file exists, nothing to report)."""


#: Okabe-Ito colour-blind-safe palette; every series also differs in line style and marker (greyscale-safe).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
SIDE_STYLE = {
    "left": {"color": PALETTE[0], "linestyle": "-", "marker": "o"},
    "right": {"color": PALETTE[1], "linestyle": "--", "marker": "^"},
}
CONDITION_MARKERS = ("o", "s", "^", "D", "v", "P")
CONDITION_LINES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)))
TREND_METRICS = (C.STRIDE_LENGTH, C.CADENCE, C.CONTACT_TIME, C.SHANK_ANGLE_IC)
DISTRIBUTION_METRICS = (C.STRIDE_LENGTH, C.CADENCE, C.CONTACT_TIME, C.FLIGHT_TIME, C.SHANK_ANGLE_IC,
                        C.PEAK_TIBIAL_ACCEL)
TYPICAL_SHANK_DEG = (5.0, 10.0)  # rearfoot strikers at about 3 m/s; no validated cutoff (running-biomechanics 2.5)
_DPI = 100


# --- small helpers ---------------------------------------------------------------------------------------------
def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _label(metric: str) -> str:
    name, unit = C.METRICS.get(metric, (metric, ""))
    return f"{name} ({_unit_text(unit)})" if unit else name


def _unit_text(unit: str) -> str:
    return "ms" if unit == "s" else unit


def _scale(metric: str) -> float:
    """Seconds are shown in ms in figures and tables."""
    return 1000.0 if C.METRICS.get(metric, ("", ""))[1] == "s" else 1.0


def _valid(strides: pd.DataFrame) -> pd.DataFrame:
    if C.VALID in strides.columns:
        return strides.loc[strides[C.VALID].astype("boolean").fillna(False).to_numpy(dtype=bool)]
    return strides


def _side_values(strides: pd.DataFrame, metric: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """side -> (time in minutes, values in display units) of valid strides with a finite value, time-ordered."""
    v = _valid(strides)
    out = {}
    if metric not in v.columns:
        return out
    side = v[C.SIDE].astype(str).to_numpy()
    t = v[C.IC_TIME].to_numpy(float) / 60.0 if C.IC_TIME in v.columns else np.arange(len(v), dtype=float)
    x = v[metric].to_numpy(float) * _scale(metric)
    for s in C.SIDES:
        m = (side == s) & np.isfinite(x) & np.isfinite(t)
        if m.any():
            order = np.argsort(t[m], kind="stable")
            out[s] = (t[m][order], x[m][order])
    return out


def _angle_metric(strides: pd.DataFrame) -> str:
    """The landing angle that applies: the shank angle, or the foot angle for a foot placement."""
    for m in (C.SHANK_ANGLE_IC, C.FOOT_ANGLE_IC):
        if m in strides.columns and np.isfinite(_valid(strides)[m].to_numpy(float)).any():
            return m
    return C.SHANK_ANGLE_IC


def _new_axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _new_grid(nrows: int, ncols: int, figsize: tuple[float, float]) -> tuple[Any, np.ndarray]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, np.atleast_1d(fig.subplots(nrows, ncols)).ravel()


def _trend_per_10min(t: np.ndarray, x: np.ndarray) -> float:
    if t.size < 10 or np.ptp(t) <= 0:
        return math.nan
    return float(np.polyfit(t, x, 1)[0] * 10.0)


def _rolling_median(x: np.ndarray, window: int = 31) -> np.ndarray:
    return pd.Series(x).rolling(window, center=True, min_periods=max(3, window // 3)).median().to_numpy()


# --- figures -------------------------------------------------------------------------------------------------
def plot_trend(strides: pd.DataFrame, metric: str, ax: Any = None) -> Any:
    """One metric over the run, per leg: strides as faint points, a rolling median, the linear trend per 10 min."""
    fig, ax = _new_axes(ax, (6.0, 3.2))
    data = _side_values(strides, metric)
    unit = _unit_text(C.METRICS.get(metric, ("", ""))[1])
    for s, (t, x) in data.items():
        st = SIDE_STYLE[s]
        few = np.unique(np.linspace(0, t.size - 1, min(t.size, 600)).astype(int))  # keeps the PNG small
        ax.plot(t[few], x[few], linestyle="none", marker=st["marker"], markersize=2.5, alpha=0.25,
                color=st["color"])
        slope = _trend_per_10min(t, x)
        trend = f", trend {slope:+.2g} {unit}/10 min" if np.isfinite(slope) else ""
        ax.plot(t, _rolling_median(x), color=st["color"], linestyle=st["linestyle"], linewidth=2.0,
                marker=st["marker"], markevery=max(1, t.size // 8), markersize=6, label=f"{s}{trend}")
    ax.set_xlabel("time in run (min)")
    ax.set_ylabel(_label(metric))
    ax.set_title(C.METRICS.get(metric, (metric, ""))[0])
    if data:
        ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    return fig


def plot_distribution(strides: pd.DataFrame, metric: str, ax: Any = None) -> Any:
    """Left versus right distribution of one metric: left filled and hatched with a solid edge, right an unfilled
    dashed outline (distinct in greyscale), means as vertical lines."""
    fig, ax = _new_axes(ax, (4.0, 3.0))
    data = _side_values(strides, metric)
    allx = np.concatenate([x for _, x in data.values()]) if data else np.array([])
    if allx.size:
        lo, hi = np.percentile(allx, [0.5, 99.5])
        bins = np.linspace(lo, hi, 31) if hi > lo else 10
        top = 0.0
        for s, (_, x) in data.items():
            st = SIDE_STYLE[s]
            if s == "left":
                counts, _, _ = ax.hist(x, bins=bins, histtype="stepfilled", facecolor=st["color"], alpha=0.3,
                                       edgecolor=st["color"], hatch="//", linewidth=1.4,
                                       label=f"{s} (mean {x.mean():.3g})")
            else:
                counts, _, _ = ax.hist(x, bins=bins, histtype="step", color=st["color"], linestyle="--",
                                       linewidth=2.0, label=f"{s} (mean {x.mean():.3g})")
            ax.axvline(x.mean(), color=st["color"], linestyle=st["linestyle"], linewidth=1.5)
            top = max(top, float(np.max(counts)))
        ax.set_ylim(0, top * 1.45 if top else 1)  # room for the legend above the bars
        ax.legend(fontsize=8, loc="upper right")
    ax.set_xlabel(_label(metric))
    ax.set_ylabel("strides")
    ax.set_title(C.METRICS.get(metric, (metric, ""))[0])
    return fig


def plot_asymmetry(asym: pd.DataFrame, ax: Any = None) -> Any:
    """Symmetry angle per metric: solid hatched bars when beyond the stride-to-stride noise, hollow otherwise."""
    fig, ax = _new_axes(ax, (7.0, 0.45 * max(len(asym), 3) + 1.2))
    if len(asym):
        y = np.arange(len(asym))[::-1]
        flagged = asym["exceeds_noise"].to_numpy(bool)
        vals = asym["symmetry_angle_pct"].to_numpy(float)
        ax.axvspan(-2.0, 2.0, color="0.85", label="about 2 %: usual in healthy runners")
        ax.barh(y[~flagged], vals[~flagged], color="none", edgecolor=PALETTE[0], linewidth=1.5,
                label="within stride-to-stride noise")
        ax.barh(y[flagged], vals[flagged], color=PALETTE[1], edgecolor="black", hatch="xx", linewidth=1.0,
                label="beyond stride-to-stride noise")
        ax.set_yticks(y, [f"{lab}" for lab in asym["metric_label"]])
        ax.axvline(0.0, color="black", linewidth=0.8)
        lim = max(5.0, float(np.nanmax(np.abs(vals))) * 1.15) if np.isfinite(vals).any() else 5.0
        ax.set_xlim(-lim, lim)
        for yi, v, f in zip(y, vals, flagged, strict=True):
            if np.isfinite(v):
                ax.text(v + (0.02 * lim if v >= 0 else -0.02 * lim), yi, f"{_signed(v, 1)} %" + (" *" if f else ""),
                        va="center", ha="left" if v >= 0 else "right", fontsize=8)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_xlabel("symmetry angle (%)   <- left larger | right larger ->")
    ax.set_title("Left/right asymmetry")
    return fig


def plot_overstriding(strides: pd.DataFrame, ax: Any = None) -> Any:
    """Landing angle per leg with the typical 5-10 deg band of rearfoot strikers (no validated cutoff)."""
    fig, ax = _new_axes(ax, (7.0, 3.4))
    metric = _angle_metric(strides)
    if metric == C.SHANK_ANGLE_IC:
        ax.axvspan(*TYPICAL_SHANK_DEG, color="0.88", label="typical 5-10 deg (rearfoot strikers, ~3 m/s)")
    plot_distribution(strides, metric, ax=ax)
    ax.set_title(f"Overstriding: {C.METRICS[metric][0]}")
    ax.legend(fontsize=8, loc="upper right")
    return fig


def plot_forest(comparison: Comparison, ax: Any = None, statistic: str = "mean") -> Any:
    """Change from the unweighted runs per metric with its 95 % CI; the shaded band is +-MDC95 (the noise).

    ``statistic="mean"`` shows % change of each metric; ``"symmetry_angle"`` the change of the asymmetry in %
    points. Each condition has its own marker and line style.
    """
    t = comparison.table
    t = t[(t["statistic"] == statistic) & (t["base_metric"] != C.SPEED if statistic == "mean" else True)]
    metrics = list(dict.fromkeys(t["metric"]))
    conds = list(dict.fromkeys(t["condition"]))
    fig, ax = _new_axes(ax, (10.0, 0.55 * max(len(metrics), 3) + 1.4))
    y0 = np.arange(len(metrics))[::-1].astype(float)
    pct = statistic == "mean"
    for i, m in enumerate(metrics):
        r = t[t["metric"] == m].iloc[0]
        mdc = r["mdc95"] / abs(r["baseline_mean"]) * 100.0 if pct and r["baseline_mean"] else r["mdc95"]
        if np.isfinite(mdc):
            ax.fill_between([-mdc, mdc], y0[i] - 0.4, y0[i] + 0.4, color="0.85", linewidth=0)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = []
    step = 0.6 / max(len(conds), 1)
    for j, c in enumerate(conds):
        sub = t[t["condition"] == c].set_index("metric").reindex(metrics)
        est = sub["pct" if pct else "diff"].to_numpy(float)
        lo = sub["pct_ci_low" if pct else "diff_ci_low"].to_numpy(float)
        hi = sub["pct_ci_high" if pct else "diff_ci_high"].to_numpy(float)
        y = y0 + (j - (len(conds) - 1) / 2) * step
        color = PALETTE[j % len(PALETTE)]
        ax.errorbar(est, y, xerr=[np.maximum(est - lo, 0), np.maximum(hi - est, 0)], fmt="none", ecolor=color,
                    elinewidth=1.8, linestyle=CONDITION_LINES[j % len(CONDITION_LINES)], capsize=3)
        change = sub["change"].to_numpy(bool)
        mk = CONDITION_MARKERS[j % len(CONDITION_MARKERS)]
        ax.plot(est[change], y[change], linestyle="none", marker=mk, color=color, markersize=8,
                markeredgecolor="black")
        ax.plot(est[~change], y[~change], linestyle="none", marker=mk, markerfacecolor="white", color=color,
                markersize=8)
        handles.append(Line2D([], [], color=color, marker=mk, markerfacecolor="white", markersize=8,
                              linestyle=CONDITION_LINES[j % len(CONDITION_LINES)], label=c))
    handles += [Line2D([], [], color="0.3", marker="o", markeredgecolor="black", linestyle="none",
                       label="filled: a change"),
                Line2D([], [], color="0.3", marker="o", markerfacecolor="white", linestyle="none",
                       label="hollow: no change"),
                Patch(color="0.85", label="noise between unweighted\nruns (MDC95)")]
    ax.axvline(0.0, color="black", linewidth=0.8)
    names = [t[t["metric"] == m].iloc[0]["metric_label"] for m in metrics]
    ax.set_yticks(y0, names)
    ax.set_xlabel("change from unweighted (%)" if pct else "change of the symmetry angle (% points)")
    ax.set_title("Weighted versus unweighted: change with 95 % CI" if pct else "Asymmetry: change with 95 % CI")
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="x", alpha=0.3)
    return fig


def plot_progression(comparison: Comparison, metric: str, ax: Any = None, legend: bool = True) -> Any:
    """Run-level change from the unweighted mean against load per ankle, with the fitted slope and the MDC band."""
    fig, ax = _new_axes(ax, (4.5, 3.2))
    runs = comparison.runs
    t = comparison.table
    sub = t[t["metric"] == metric]
    if not len(sub) or metric not in runs.columns:
        return fig
    first = sub.iloc[0]
    unit = first["unit"]
    scale = 1000.0 if unit == "s" else 1.0
    base = float(first["baseline_mean"])
    mdc = float(first["mdc95"]) * scale
    if np.isfinite(mdc):
        ax.axhspan(-mdc, mdc, color="0.85", label="MDC95 (noise)")
    x = runs["load_kg"].to_numpy(float)
    y = (runs[metric].to_numpy(float) - base) * scale
    ax.plot(x, y, linestyle="none", marker="o", color=PALETTE[0], markerfacecolor="white", label="runs")
    # the adjusted condition means (at matched speed where that applied) over the runs
    means = sub.groupby("load_kg")["diff"].mean() * scale
    ax.plot([0.0, *means.index], [0.0, *means.to_numpy()], linestyle="none", marker="s", color=PALETTE[1],
            markersize=8, markeredgecolor="black", label="condition mean")
    prog = comparison.progression
    if prog is not None and metric in set(prog["metric"]):
        p = prog.set_index("metric").loc[metric]
        xs = np.linspace(0.0, float(np.nanmax(x)), 20)
        # the run-level fit passes through the run-weighted centre of the condition means
        n_c = np.array([float(first["n_runs_baseline"]), *sub["n_runs"].to_numpy(float)])
        l_c = np.array([0.0, *sub["load_kg"].to_numpy(float)])
        m_c = np.array([0.0, *(sub["diff"].to_numpy(float) * scale)])
        xbar, ybar = float((n_c * l_c).sum() / n_c.sum()), float((n_c * m_c).sum() / n_c.sum())
        ax.plot(xs, ybar + p["slope_per_kg"] * scale * (xs - xbar), linestyle="--", color="black",
                label="fitted slope per kg")
        title = f"{first['metric_label']}: {p['slope_per_kg'] * scale:+.2g} {_unit_text(unit)}/kg".rstrip()
    if comparison.heaviest_ok_load_kg is not None:
        ax.axvline(comparison.heaviest_ok_load_kg, color=PALETTE[2], linestyle=":", linewidth=2,
                   label="heaviest load that held")
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_xlabel("load per ankle (kg)")
    ax.set_ylabel(f"change ({_unit_text(unit) or 'ratio'})")
    ax.set_title(title if prog is not None and metric in set(prog["metric"]) else first["metric_label"])
    if legend:
        ax.legend(fontsize=7, loc="best")
    return fig


# --- tables --------------------------------------------------------------------------------------------------
def leg_table(strides: pd.DataFrame) -> pd.DataFrame:
    """Mean and SD per leg and both legs for every metric of conventions.METRICS present (display units)."""
    v = _valid(strides)
    side = v[C.SIDE].astype(str).to_numpy()
    rows = []
    for m, (name, unit) in C.METRICS.items():
        if m not in v.columns:
            continue
        x = v[m].to_numpy(float) * _scale(m)
        if not np.isfinite(x).any():
            continue
        row = {"metric": name, "unit": _unit_text(unit)}
        for s, sel in (("left", side == "left"), ("right", side == "right"), ("both", np.ones(len(x), bool))):
            xs = x[sel & np.isfinite(x)]
            row[f"{s}_mean"] = xs.mean() if xs.size else math.nan
            row[f"{s}_sd"] = xs.std(ddof=1) if xs.size > 1 else math.nan
            row[f"{s}_n"] = int(xs.size)
        rows.append(row)
    return pd.DataFrame(rows)


def _num(x: float, unit: str) -> str:
    if not np.isfinite(x):
        return "–"
    digits = {"m": 2, "steps/min": 1, "ms": 0, "deg": 1, "g": 1, "m/s": 2, "": 3}.get(unit, 2)
    return f"{round(float(x), digits) + 0.0:.{digits}f}"


def _signed(x: float, digits: int) -> str:
    """``+1.2`` / ``-0.3`` / ``0.0`` (no "-0.0")."""
    if not np.isfinite(x):
        return "–"
    v = round(float(x), digits) + 0.0
    return f"{v:+.{digits}f}" if v else f"{0:.{digits}f}"


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], caption: str = "",
                numeric_from: int = 1) -> str:
    """A table; cells are escaped here (pass plain text)."""
    head = "".join(f"<th scope='col'>{_esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f"<td class='{'num' if j >= numeric_from else 'txt'}'>{_esc(c)}</td>" for j, c in enumerate(r))
        + "</tr>" for r in rows)
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return f"<div class='table-wrap'><table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


# --- the report ----------------------------------------------------------------------------------------------
_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1a1a1a;
background:#fff;line-height:1.45;overflow-wrap:anywhere}
main{max-width:1100px;margin:0 auto;padding:1rem 1.25rem 3rem}
h1{font-size:1.6rem;margin:.6rem 0}h2{font-size:1.3rem;border-bottom:2px solid #0072B2;padding-bottom:.2rem;
margin-top:2.2rem}h3{font-size:1.1rem;margin-top:1.6rem}
nav ul{display:flex;flex-wrap:wrap;gap:.4rem 1rem;list-style:none;padding:0}
.summary{background:#f2f6fa;border-left:5px solid #0072B2;padding:.6rem 1rem;margin:1rem 0}
.summary h2{margin-top:.3rem}
.summary li{margin:.25rem 0}
.warn{background:#fff6e5;border-left:5px solid #E69F00;padding:.5rem 1rem}
figure{margin:1rem 0;padding:0}
figure img{display:block;max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.9rem;color:#444;margin-top:.3rem}
.table-wrap{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0;overflow-wrap:normal}
details{margin:.6rem 0}summary{cursor:pointer;font-weight:600}
caption{text-align:left;font-size:.9rem;color:#444;padding:.2rem 0}
th,td{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top}
th{background:#eef2f6;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.muted{color:#555;font-size:.9rem}
"""

#: On load, the page records whether every image decoded and whether anything overflows horizontally (for checks in
#: a headless browser; harmless otherwise).
_SELF_CHECK = (
    "window.addEventListener('load',function(){var im=Array.prototype.slice.call(document.images);"
    "var ok=im.every(function(i){return i.complete&&i.naturalWidth>0;});var b=document.body.dataset;"
    "b.imagesOk=String(ok);b.imageCount=String(im.length);"
    "b.overflow=String(document.documentElement.scrollWidth>window.innerWidth);b.checked='true';});"
)


@dataclass
class _Item:
    kind: str  # "html" | "figure"
    title: str
    html: str
    figure: Any = None


@dataclass
class Report:
    """A self-contained HTML report. Add content with :meth:`add_text`, :meth:`add_html`, :meth:`add_figure`,
    :meth:`add_table`; write it with :meth:`save` (HTML) or :meth:`save_pdf`."""

    title: str = "Running form report"
    summary: list[str] = field(default_factory=list)
    sections: list[tuple[str, str, list[_Item]]] = field(default_factory=list)  # (anchor id, title, items)

    # --- building -----------------------------------------------------------------------------------------------
    def _section(self, section: str) -> list[_Item]:
        for _, title, items in self.sections:
            if title == section:
                return items
        anchor = f"s{len(self.sections) + 1}"
        self.sections.append((anchor, section, []))
        return self.sections[-1][2]

    def add_text(self, text: str, section: str, title: str = "") -> Report:
        """Plain text (escaped; blank lines separate paragraphs)."""
        paras = "".join(f"<p>{_esc(p)}</p>" for p in str(text).split("\n\n") if p.strip())
        self._section(section).append(_Item("html", title, paras))
        return self

    def add_html(self, fragment: str, section: str, title: str = "") -> Report:
        """An HTML fragment the caller has already escaped."""
        self._section(section).append(_Item("html", title, fragment))
        return self

    def add_figure(self, fig: Any, title: str, alt: str, section: str, caption: str = "") -> Report:
        """A matplotlib Figure, embedded as a base64 PNG with alt text (kept for the PDF as well)."""
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=_DPI)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
        frag = f"<figure><img src='data:image/png;base64,{data}' alt='{_esc(alt)}'>{cap}</figure>"
        self._section(section).append(_Item("figure", title, frag, fig))
        return self

    def add_table(self, frame: pd.DataFrame, title: str, section: str, caption: str = "") -> Report:
        """A DataFrame as an HTML table (escaped)."""
        rows = [[("" if pd.isna(v) else (f"{v:.4g}" if isinstance(v, float) else v)) for v in r]
                for r in frame.itertuples(index=False)]
        self._section(section).append(_Item("html", title, _html_table(list(map(str, frame.columns)), rows,
                                                                          caption)))
        return self

    @property
    def figures(self) -> list[Any]:
        return [it.figure for _, _, items in self.sections for it in items if it.kind == "figure"]

    # --- output ------------------------------------------------------------------------------------------------
    @property
    def html(self) -> str:
        """The whole report as one HTML string (no external resources)."""
        script_hash = base64.b64encode(hashlib.sha256(_SELF_CHECK.encode()).digest()).decode()
        csp = (f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
               f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'")
        nav = "".join(f"<li><a href='#{a}'>{_esc(t)}</a></li>" for a, t, _ in self.sections)
        summary = "".join(f"<li>{_esc(s)}</li>" for s in self.summary)
        body = []
        for anchor, title, items in self.sections:
            body.append(f"<section id='{anchor}'><h2>{_esc(title)}</h2>")
            for it in items:
                if it.title:
                    body.append(f"<h3>{_esc(it.title)}</h3>")
                body.append(it.html)
            body.append("</section>")
        return (
            "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"{csp}\">"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_esc(self.title)}</title><style>{_CSS}</style></head><body><main>"
            f"<h1>{_esc(self.title)}</h1>"
            f"<section id='summary' class='summary'><h2>Summary</h2><ul>{summary}</ul></section>"
            f"<nav aria-label='sections'><ul>{nav}</ul></nav>{''.join(body)}"
            f"</main><script>{_SELF_CHECK}</script></body></html>\n"
        )

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the HTML file (never opens a browser, never prompts); an existing file needs ``overwrite=True``."""
        path = Path(path)
        if path.suffix.lower() == ".pdf":
            return self.save_pdf(path, overwrite=overwrite)
        _check_target(path, overwrite)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.html, encoding="utf-8")
        tmp.replace(path)
        return path

    def save_pdf(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write a PDF: a first page (or more) with the summary in words, then every figure, one per page.

        Tables (per-leg values, the comparison table) and the methods text are in the HTML only.
        """
        from matplotlib.backends.backend_pdf import PdfPages

        path = Path(path)
        _check_target(path, overwrite)
        lines: list[str] = []
        for s in self.summary:
            lines += textwrap.wrap(s, 100, initial_indent="- ", subsequent_indent="  ") or [""]
        per_page = 52
        tmp = path.with_name(path.name + ".tmp")
        with PdfPages(tmp) as pdf:
            for start in range(0, max(len(lines), 1), per_page):
                fig, ax = _new_axes(None, (8.27, 11.69))  # A4 portrait
                fig.set_layout_engine("none")
                ax.set_position((0.08, 0.05, 0.86, 0.9))
                ax.axis("off")
                head = self.title if start == 0 else f"{self.title} (continued)"
                ax.text(0.0, 1.0, head, fontsize=15, weight="bold", va="top", transform=ax.transAxes)
                ax.text(0.0, 0.96, "\n".join(lines[start:start + per_page]), fontsize=9, va="top",
                        linespacing=1.5, transform=ax.transAxes)
                pdf.savefig(fig)
            for fig in self.figures:
                pdf.savefig(fig)
        tmp.replace(path)
        return path


def _check_target(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise ReportError(f"{path} exists; choose another name or allow overwriting")
    if not path.parent.exists():
        raise ReportError(f"{path.parent}: no such folder")


# --- build ---------------------------------------------------------------------------------------------------
def _meta_text(meta: Any, name: str) -> str:
    if hasattr(meta, "meta") and not isinstance(meta, Mapping):
        meta = meta.meta
    value = meta.get(name, "") if isinstance(meta, Mapping) else getattr(meta, name, "")
    return str(value or "")


def _strides(result: Any) -> pd.DataFrame:
    strides = result if isinstance(result, pd.DataFrame) else getattr(result, "strides", None)
    if not isinstance(strides, pd.DataFrame):
        raise ReportError(f"expected an analysis result with .strides, got {type(result).__name__}")
    return strides


def _session_sentence(name: str, strides: pd.DataFrame, asym: pd.DataFrame) -> str:
    v = _valid(strides)
    n_all, n_ok = len(strides), len(v)
    dur = (np.nanmax(v[C.IC_TIME]) - np.nanmin(v[C.IC_TIME])) / 60.0 if n_ok and C.IC_TIME in v.columns else 0.0
    parts = []
    for m in (C.SPEED, C.CADENCE, C.STRIDE_LENGTH, C.CONTACT_TIME, _angle_metric(strides), C.PEAK_TIBIAL_ACCEL):
        if m in v.columns and np.isfinite(v[m].to_numpy(float)).any():
            parts.append(f"{C.METRICS[m][0]} {fmt_value(float(np.nanmean(v[m].to_numpy(float))), C.METRICS[m][1])}")
    text = f"{name}: {dur:.1f} min of strides, {n_ok} of {n_all} valid; " + ", ".join(parts) + "."
    sides = [x for x in C.SIDES if len(v) and (v[C.SIDE] == x).any()]
    if len(sides) == 1:
        other = "right" if sides[0] == "left" else "left"
        text += f" Only the {sides[0]} ankle has valid strides (no {other} data), so left and right cannot be compared."
    else:
        text += " " + asymmetry_sentence(asym)
    return text


def build_report(results: Sequence[tuple[Any, Any]], comparison: Comparison | None = None, *,
                 title: str = "Running form report", notes: Sequence[str] = ()) -> Report:
    """Build the report for one or more sessions and, optionally, their weighted-versus-unweighted comparison.

    ``results`` is a list of ``(session or metadata, analysis result or stride table)``. ``notes`` are extra lines
    for the summary (e.g. why no comparison was made).
    """
    if not results:
        raise ReportError("nothing to report: give at least one analyzed session")
    rep = Report(title=title)
    for i, (meta, result) in enumerate(results):
        info = run_info(meta, i)
        strides = _strides(result)
        load = f"{info.load_kg:g} kg per ankle"
        name = f"{info.label or 'session'} ({load}) - {info.session_id}"
        section = f"Session {i + 1}: {name}"
        asym = asymmetry_table(strides)
        rep.summary.append(_session_sentence(name, strides, asym))
        _session_sections(rep, section, meta, info, strides, asym)
    if comparison is not None:
        _comparison_sections(rep, comparison)
        rep.summary += _comparison_summary(comparison)
        rep.summary += comparison.advice
    rep.summary += list(notes)
    _methods_section(rep, comparison)
    return rep


def _comparison_summary(cmp: Comparison) -> list[str]:
    """The called changes as full sentences; differences that cannot be judged yet (one unweighted run) condensed
    into one line per condition."""
    t = cmp.table
    lines = t.loc[t["change"], "verdict"].tolist()
    unknown = t["exceeds_mdc"].isna()
    for _, sub in t[unknown & t["ci_excludes_zero"] & (t["statistic"] == "mean")].groupby("condition", sort=False):
        who = condition_phrase(sub.iloc[0]["label"], sub.iloc[0]["load_kg"])
        items = "; ".join(f"{r.metric_label} {fmt_interval(r.diff, r.diff_ci_low, r.diff_ci_high, r.unit)}"
                          for r in sub.itertuples())
        lines.append(f"{who}: {items}. With a single unweighted run the noise between runs is unknown, so none of "
                     "these can be called a change yet.")
    if not lines:
        lines.append("Weighted versus unweighted: no form metric changed beyond the noise between your unweighted "
                     "runs." if not unknown.any() else
                     "Weighted versus unweighted: no clear difference; with a single unweighted run the noise "
                     "between runs is unknown.")
    return lines


def _session_sections(rep: Report, section: str, meta: Any, info: Any, strides: pd.DataFrame,
                      asym: pd.DataFrame) -> None:
    details = [f"Subject: {info.subject or '-'}", f"label: {info.label or '-'}",
               f"load per ankle: {info.load_kg:g} kg", f"placement: {info.placement or '-'}"]
    start = _meta_text(meta, "start_time")
    if start:
        details.append(f"started: {start}")
    rep.add_html(f"<p class='muted'>{_esc('; '.join(details))}</p>", section)
    notes = _meta_text(meta, "notes")
    if notes:
        rep.add_html(f"<p><strong>Notes:</strong> {_esc(notes)}</p>", section)
    legs = leg_table(strides)
    rows = [[r.metric, r.unit or "-", f"{_num(r.left_mean, r.unit)} ± {_num(r.left_sd, r.unit)}",
             f"{_num(r.right_mean, r.unit)} ± {_num(r.right_sd, r.unit)}",
             f"{_num(r.both_mean, r.unit)} ± {_num(r.both_sd, r.unit)}", f"{r.left_n} / {r.right_n}"]
            for r in legs.itertuples()]
    rep.add_html(_html_table(["metric", "unit", "left (mean ± SD)", "right (mean ± SD)", "both", "strides L / R"],
                             rows, "Per-leg values over the valid strides (mean ± SD stride to stride)",
                             numeric_from=2), section, "Per-leg metrics")

    # trends over the run (fatigue), 2 x 2
    trend_metrics = [m if m != C.SHANK_ANGLE_IC else _angle_metric(strides) for m in TREND_METRICS]
    fig, axes = _new_grid(2, 2, (11.0, 6.4))
    alt_parts = []
    for ax, m in zip(axes, trend_metrics, strict=True):
        plot_trend(strides, m, ax=ax)
        for s, (t, x) in _side_values(strides, m).items():
            slope = _trend_per_10min(t, x)
            if np.isfinite(slope):
                alt_parts.append(f"{C.METRICS[m][0]} {s} {slope:+.2g} {_unit_text(C.METRICS[m][1])} per 10 min")
    rep.add_figure(fig, "Over the run", section=section,
                   alt="Line charts of stride length, cadence, contact time and landing angle against time in the "
                       "run, left leg solid with circles, right leg dashed with triangles. Trends: "
                       + "; ".join(alt_parts) + ".",
                   caption="Each point is a stride; lines are a rolling median over 31 strides. The legend gives "
                           "the straight-line trend per 10 minutes (a drift is a sign of fatigue or a change of "
                           "pace).")

    # left versus right distributions, 2 x 3
    dist_metrics = [m if m != C.SHANK_ANGLE_IC else _angle_metric(strides) for m in DISTRIBUTION_METRICS]
    dist_metrics = [m for m in dist_metrics if m in strides.columns]
    fig, axes = _new_grid(2, 3, (12.0, 6.0))
    for ax, m in zip(axes, dist_metrics, strict=False):
        plot_distribution(strides, m, ax=ax)
    for ax in axes[len(dist_metrics):]:
        ax.axis("off")
    means = []
    for m in dist_metrics:
        sv = _side_values(strides, m)
        if sv:
            means.append(f"{C.METRICS[m][0]}: " + ", ".join(
                f"{s} {x.mean():.3g}" for s, (_, x) in sv.items()))
    rep.add_figure(fig, "Left versus right", section=section,
                   alt="Histograms of six metrics, left leg filled and hatched with a solid outline, right leg a "
                       "dashed outline; means: " + "; ".join(means) + ".",
                   caption="Distributions over the valid strides; vertical lines are the means.")

    # asymmetry
    if len(asym):
        rep.add_figure(plot_asymmetry(asym), "Asymmetry", section=section,
                       alt="Bar chart of the symmetry angle per metric; "
                           + "; ".join(f"{r.metric_label} {_signed(r.symmetry_angle_pct, 1)} %"
                                       f"{' (beyond noise)' if r.exceeds_noise else ''}" for r in asym.itertuples())
                           + ".",
                       caption="Symmetry angle (Zifchock): 0 % is perfect symmetry, positive means the right value "
                               "is larger. A metric is flagged only when the left-right difference exceeds the "
                               "stride-to-stride variation of each leg (and its 95 % CI excludes zero); healthy "
                               "runners usually show about 1-2 %.")
        rows = [[r.metric_label, _unit_text(r.unit) or "-", _num(r.left * _scale(r.metric), _unit_text(r.unit)),
                 _num(r.right * _scale(r.metric), _unit_text(r.unit)), _signed(r.symmetry_index_pct, 1),
                 _signed(r.symmetry_angle_pct, 1), "yes" if r.exceeds_noise else "no"]
                for r in asym.itertuples()]
        rep.add_html(_html_table(["metric", "unit", "left", "right", "symmetry index (%)", "symmetry angle (%)",
                                  "beyond noise"], rows, numeric_from=2), section)

    # overstriding
    am = _angle_metric(strides)
    sv = _side_values(strides, am)
    means = ", ".join(f"{s} {x.mean():.1f} deg" for s, (_, x) in sv.items()) or "not measured"
    if am == C.SHANK_ANGLE_IC:
        context = (f"Shank angle at contact: {means}. Positive means the ankle lands ahead of the knee. Recreational "
                   "rearfoot strikers at about 3 m/s typically land at 5-10 deg, forefoot strikers near 0-5 deg; "
                   "clinicians informally look twice above about 10 deg, but no validated cutoff exists. Read it "
                   "as a continuous number and compare your own runs (with and without weights), not a threshold.")
    else:
        context = (f"Foot angle at contact: {means} (foot placement; the shank angle is not measured). There is no "
                   "validated cutoff for this angle either; compare your own runs.")
    rep.add_figure(plot_overstriding(strides), "Overstriding", section=section,
                   alt=f"Histogram of the landing angle per leg with the typical 5 to 10 degree band. {context}",
                   caption=context)


def _comparison_sections(rep: Report, cmp: Comparison) -> None:
    section = "Weighted versus unweighted"
    t = cmp.table
    if cmp.advice:
        rep.add_html("<ul>" + "".join(f"<li>{_esc(a)}</li>" for a in cmp.advice) + "</ul>", section,
                     "What to do with the weights")
    changed = t.loc[t["change"], "verdict"].tolist()
    maybe = t.loc[t["exceeds_mdc"].isna() & t["ci_excludes_zero"] & (t["statistic"] == "mean"), "verdict"].tolist()
    if changed or maybe:
        key = "<ul>" + "".join(f"<li>{_esc(v)}</li>" for v in changed + maybe) + "</ul>"
    else:
        key = "<p>No metric changed beyond the noise between your unweighted runs.</p>"
    rep.add_html(key + f"<details><summary>All verdicts ({len(cmp.verdicts)})</summary><ul>"
                 + "".join(f"<li>{_esc(v)}</li>" for v in cmp.verdicts) + "</ul></details>", section, "Changes")
    notes = [f"Baseline: {cmp.baseline}."] + [f"Speed, {k}: {v}." for k, v in cmp.speed_adjustment.items()]
    warn = "".join(f"<li>{_esc(w)}</li>" for w in cmp.warnings)
    rep.add_html("<p class='muted'>" + "<br>".join(_esc(n) for n in notes) + "</p>"
                 + (f"<div class='warn'><strong>Caveats</strong><ul>{warn}</ul></div>" if warn else ""), section)
    means = t[t["statistic"] == "mean"]
    fig = plot_forest(cmp)
    alt = "; ".join(f"{r.condition} {r.metric_label} {r.pct:+.1f} % [{r.pct_ci_low:+.1f}, {r.pct_ci_high:+.1f}]"
                    f"{' (change)' if r.change else ''}" for r in means.itertuples() if r.base_metric != C.SPEED)
    rep.add_figure(fig, "Change per metric", section=section,
                   alt="Forest plot of the % change from unweighted with 95 % confidence intervals and the noise "
                       f"band: {alt}.",
                   caption="Filled markers: called a change (the CI excludes zero and the change exceeds the noise "
                           "between unweighted runs, MDC95, shaded). Hollow markers: no change.")
    sa = t[t["statistic"] == SA]
    if len(sa):
        alt = "; ".join(f"{r.condition} {r.metric_label} {r.diff:+.1f} points" for r in sa.itertuples())
        rep.add_figure(plot_forest(cmp, statistic=SA), "Change in asymmetry", section=section,
                       alt=f"Forest plot of the change of the symmetry angle per metric: {alt}.",
                       caption="Change of the symmetry angle in % points; shaded: noise between unweighted runs.")
    header = ["metric", "unit", "condition", "unweighted", "weighted", "change [95 % CI]", "% change", "MDC95",
              "Hedges' g", "runs", "change?"]

    def table_rows(sub: pd.DataFrame) -> list[list[str]]:
        rows = []
        for r in sub.itertuples():
            u = _unit_text(r.unit) if r.statistic == "mean" else "%"
            sc = 1000.0 if r.unit == "s" else 1.0
            rows.append([r.metric_label, u or "-", r.condition, _num(r.baseline_mean * sc, u), _num(r.mean * sc, u),
                         f"{_num(r.diff * sc, u)} [{_num(r.diff_ci_low * sc, u)}, {_num(r.diff_ci_high * sc, u)}]",
                         _signed(r.pct, 1), _num(r.mdc95 * sc, u),
                         _signed(r.effect_size, 2),
                         f"{r.n_runs_baseline} / {r.n_runs}", "yes" if r.change else "no"])
        return rows

    rep.add_html(_html_table(header, table_rows(means), "Run-level comparison (cluster bootstrap); runs: unweighted "
                             "/ weighted", numeric_from=3), section, "Table")
    asym_rows = table_rows(t[t["statistic"] == SA])
    if asym_rows:
        rep.add_html(f"<details><summary>Asymmetry rows (symmetry angle, {len(asym_rows)})</summary>"
                     + _html_table(header, asym_rows, numeric_from=3) + "</details>", section)
    if cmp.progression is not None:
        prog = cmp.progression
        form = [m for m in prog["metric"] if not m.endswith("_pct") and m != C.SPEED]
        n = len(form)
        ncols = 3
        fig, axes = _new_grid(math.ceil(n / ncols), ncols, (12.0, 3.3 * math.ceil(n / ncols)))
        for ax, m in zip(axes, form, strict=False):
            plot_progression(cmp, m, ax=ax, legend=False)
        for ax in axes[n:]:
            ax.axis("off")
        handles, labels = axes[0].get_legend_handles_labels()
        if n < len(axes):
            axes[n].legend(handles, labels, loc="center", fontsize=10, title="legend")
        else:
            fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=9)
        alt = "; ".join(f"{r.metric_label} {r.slope_per_kg:+.3g} {r.unit} per kg [{r.slope_ci_low:+.3g}, "
                        f"{r.slope_ci_high:+.3g}]" for r in prog.itertuples() if r.metric in form)
        held = (f"heaviest load at which every form metric held: {cmp.heaviest_ok_load_kg:g} kg"
                if cmp.heaviest_ok_load_kg is not None else "the heaviest load that held is unknown")
        rep.add_figure(fig, "Load progression", section=section,
                       alt=f"Change from unweighted against load per ankle for each form metric; slopes: {alt}; "
                           f"{held}.",
                       caption=f"Hollow circles: runs; squares: condition means (at matched speed where that "
                               f"applied); dashed: slope per kg; shaded: noise between unweighted runs; {held}.")
        rows = [[r.metric_label, _unit_text(r.unit) if r.statistic == "mean" else "%",
                 f"{r.slope_per_kg * (1000 if r.unit == 's' else 1):+.3g}",
                 f"[{r.slope_ci_low * (1000 if r.unit == 's' else 1):+.3g}, "
                 f"{r.slope_ci_high * (1000 if r.unit == 's' else 1):+.3g}]", r.ci_method]
                for r in prog.itertuples()]
        rep.add_html(_html_table(["metric", "unit", "slope per kg", "95 % CI", "interval from"], rows,
                                 numeric_from=2), section, "Dose-response (per kg per ankle)")


def _methods_section(rep: Report, cmp: Comparison | None) -> None:
    text = [
        "Every number comes from the stride table: one row per stride and leg; only strides marked valid are used. "
        "Per-leg values are means ± SD over strides. Trends over the run are straight-line fits per leg.",
        "Asymmetry: symmetry index SI = (R - L) / mean x 100 and symmetry angle SA = (45 deg - atan(L/R)) / 90 deg "
        "x 100; flagged only when the left-right difference exceeds each leg's stride-to-stride SD and its Welch "
        "95 % CI excludes zero.",
        "Overstriding: the shank angle at contact is reported as a continuous number; no validated cutoff exists.",
        "Peak tibial acceleration is sensitive to how firmly the sensor is strapped; with an ankle weight next to "
        "the sensor part of any change is a mounting artefact.",
    ]
    if cmp is not None:
        text.append(cmp.methods)
    rep.add_text("\n\n".join(text), "Methods")
