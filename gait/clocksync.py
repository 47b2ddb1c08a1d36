"""Sensor clock -> host clock: offset and drift per sensor, fitted on the lower envelope of arrival delays.

Why: each ankle sensor stamps samples with its own crystal, which is offset from the host and drifts (tens of ppm:
50 ppm is 180 ms per hour), while host arrival times are late by a variable radio and OS delay (connection events,
scheduler), never early. So for each notification ``arrival - sensor_time = offset(t) + delay`` with ``delay >= 0``;
the *lower envelope* of that difference (its minimum in short bins) tracks ``offset(t)`` to within the smallest
delays. A robust line through the envelope points gives offset and drift; for long runs the line is re-fitted in
overlapping windows and the pieces joined (piecewise linear), so a drift that changes with temperature is followed.

Protocols without timestamps use the same fit with the sample count divided by the nominal rate as "sensor time".
Everything is vectorized; :func:`fit_clock` is pure (arrays in, a :class:`ClockFit` out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ClockFit", "fit_clock", "lower_envelope", "unwrap_sensor_time"]

#: Periods (s) at which common sensor counters wrap: u32 µs (Movella DOT), u32 ms (Movesense), u16 ms.
WRAP_PERIODS_S = (2.0**32 * 1e-6, 2.0**32 * 1e-3, 2.0**16 * 1e-3)


@dataclass
class ClockFit:
    """A piecewise-linear map from sensor time to host time: ``host = sensor + offset(sensor)``.

    ``knots_s`` are sensor times and ``offsets_s`` the fitted ``host - sensor`` there; outside the knots the end
    segments are extended. ``drift_ppm`` is how much faster the sensor clock runs than the host's (overall),
    ``residual_s`` the robust spread (1.4826 MAD) of the envelope points around the fit, ``n_points`` how many
    envelope points were used; ``rate_fitted`` is False when an implausible slope was refused (offset only).
    """

    knots_s: np.ndarray
    offsets_s: np.ndarray
    drift_ppm: float
    residual_s: float
    n_points: int
    rate_fitted: bool = True

    def offset_at(self, sensor_s: np.ndarray) -> np.ndarray:
        x = np.asarray(sensor_s, dtype=float)
        k, o = self.knots_s, self.offsets_s
        if k.size == 1:
            return np.full_like(x, o[0])
        y = np.interp(x, k, o)
        lo, hi = x < k[0], x > k[-1]
        if lo.any():
            y[lo] = o[0] + (x[lo] - k[0]) * (o[1] - o[0]) / (k[1] - k[0])
        if hi.any():
            y[hi] = o[-1] + (x[hi] - k[-1]) * (o[-1] - o[-2]) / (k[-1] - k[-2])
        return y

    def to_host(self, sensor_s: np.ndarray) -> np.ndarray:
        """Host time (same units and origin as the arrivals the fit was made from) of sensor times."""
        x = np.asarray(sensor_s, dtype=float)
        return x + self.offset_at(x)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary for session metadata."""
        return {
            "offset_s": float(self.offsets_s[0]),
            "drift_ppm": float(self.drift_ppm),
            "residual_ms": float(self.residual_s * 1e3),
            "n_points": int(self.n_points),
            "rate_fitted": bool(self.rate_fitted),
            "n_knots": int(self.knots_s.size),
            "knots_s": [float(v) for v in self.knots_s],
            "offsets_s": [float(v) for v in self.offsets_s],
        }


def unwrap_sensor_time(t: np.ndarray, periods: tuple[float, ...] = WRAP_PERIODS_S) -> np.ndarray:
    """Undo counter roll-overs in sensor times given in arrival order.

    A backward jump close to one of ``periods`` is a roll-over and the period is added from there on; smaller
    backward steps (a duplicate, a reordered packet) are left alone.
    """
    t = np.asarray(t, dtype=float)
    if t.size < 2:
        return t.copy()
    d = np.diff(t)
    add = np.zeros_like(d)
    for i in np.flatnonzero(d < -1.0):
        jump = -d[i]
        best = min(periods, key=lambda p: abs(p - jump))
        if abs(best - jump) < 0.05 * best + 60.0:
            add[i] = best
    return t + np.concatenate([[0.0], np.cumsum(add)])


def lower_envelope(x: np.ndarray, y: np.ndarray, bin_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The point of minimum ``y`` in each ``bin_s`` wide bin of ``x`` (x sorted or not)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size == 0:
        return x, y
    b = np.floor((x - x.min()) / bin_s).astype(np.int64)
    order = np.lexsort((y, b))  # by bin, then by y: the first of each bin is its minimum
    b_sorted = b[order]
    first = order[np.flatnonzero(np.r_[True, b_sorted[1:] != b_sorted[:-1]])]
    return x[first], y[first]


def robust_line(
    x: np.ndarray, y: np.ndarray, x0: float, n_iter: int = 4, slope: bool = True
) -> tuple[float, float, float]:
    """Intercept at ``x0``, slope and robust residual spread; late outliers (above the line) are rejected.

    ``slope=False`` fits a level only (slope 0).
    """
    keep = np.ones(x.size, dtype=bool)
    a, b, spread = float(np.median(y)), 0.0, 0.0
    for _ in range(n_iter):
        if not slope:
            a = float(np.median(y[keep]))
        elif keep.sum() >= 2 and np.ptp(x[keep]) > 0:
            b, a = np.polyfit(x[keep] - x0, y[keep], 1)
        elif keep.any():
            a, b = float(np.median(y[keep])), 0.0
        r = y - (a + b * (x - x0))
        spread = 1.4826 * float(np.median(np.abs(r[keep] - np.median(r[keep])))) if keep.any() else 0.0
        new = r <= 3.0 * spread + 1e-4  # one-sided: a late delivery is an outlier, an early one cannot happen
        if new.sum() < 2 or np.array_equal(new, keep):
            break
        keep = new
    return float(a), float(b), spread


def fit_clock(
    sensor_s: np.ndarray,
    arrival_s: np.ndarray,
    *,
    bin_s: float = 2.0,
    window_s: float = 300.0,
    max_drift_ppm: float = 2000.0,
    min_drift_span_s: float = 60.0,
) -> ClockFit:
    """Fit ``host = sensor + offset + drift * sensor`` to notification arrivals.

    Parameters
    ----------
    sensor_s
        Sensor time of each notification (for a packet of several samples: its *last* sample, the earliest the
        packet can have been sent).
    arrival_s
        Host arrival time of each notification (same length).
    bin_s
        Width of the lower-envelope bins in sensor seconds (each should hold several notifications).
    window_s
        Length of the re-fitting windows; runs shorter than this get one line.
    max_drift_ppm
        A slope beyond this is not a crystal's drift (the host times are not trustworthy, e.g. a simulation run
        as fast as possible): the fit then keeps the sensor's own rate and fits the offset only.
    min_drift_span_s
        Stretches shorter than this get the offset only: over a few seconds the delay noise outweighs any drift
        (50 ppm is 3 ms per minute).
    """
    x = np.asarray(sensor_s, dtype=float)
    y = np.asarray(arrival_s, dtype=float) - x
    if x.size == 0:
        return ClockFit(np.array([0.0]), np.array([0.0]), 0.0, 0.0, 0)
    span = float(np.nanmax(x) - np.nanmin(x))
    bin_s = min(bin_s, max(span / 20.0, 1e-3)) if span > 0 else bin_s
    ex, ey = lower_envelope(x, y, bin_s)
    x_first = float(ex.min())
    a, b, spread = robust_line(ex, ey, x_first)
    if abs(b) * 1e6 > max_drift_ppm or span < min_drift_span_s:
        a, _, spread = robust_line(ex, ey, x_first, slope=False)
        knots = np.array([x_first, x_first + max(span, 1e-9)])
        return ClockFit(knots, np.array([a, a]), 0.0, spread, int(ex.size), rate_fitted=False)
    if span <= window_s or ex.size < 8:
        knots = np.array([x_first, x_first + max(span, 1e-9)])
        return ClockFit(knots, a + b * (knots - x_first), _ppm(b), spread, int(ex.size))
    # re-fit in windows of window_s centred on knots every window_s / 2, join the pieces
    x_last = float(ex.max())
    n_knots = max(2, int(np.ceil((x_last - x_first) / (window_s / 2))) + 1)
    knots = np.linspace(x_first, x_last, n_knots)
    offsets = np.empty(n_knots)
    for i, k in enumerate(knots):
        sel = np.abs(ex - k) <= window_s / 2
        if sel.sum() >= 4:
            ak, bk, _ = robust_line(ex[sel], ey[sel], k)
            offsets[i] = ak if abs(bk) * 1e6 <= max_drift_ppm else a + b * (k - x_first)
        else:
            offsets[i] = a + b * (k - x_first)
    resid = ey - np.interp(ex, knots, offsets)
    spread = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
    return ClockFit(knots, offsets, _ppm(b), spread, int(ex.size))


def _ppm(slope: float) -> float:
    """Sensor rate error (ppm) from the slope of ``host - sensor`` against sensor time."""
    return (1.0 / (1.0 + slope) - 1.0) * 1e6 if slope > -1.0 else float("inf")
