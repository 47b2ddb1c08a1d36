"""The online host-clock fit: host minus sensor time of one sensor while it streams.

:class:`HostClock` is the recorder's counterpart of the offline fit in :func:`gait.clocksync.fit_clock` (used when
a raw log is decoded): it puts the live analysis on the same host clock as the decoded session.
:func:`payload_last` gives both fits their x values: the sensor time of each payload's last sample.
"""

from __future__ import annotations

import math

import numpy as np

from gait.clocksync import robust_line

__all__ = ["HostClock", "payload_last"]


def payload_last(values: np.ndarray, payload_index: np.ndarray, n_payloads: int) -> np.ndarray:
    """Per payload, the largest value among its samples (NaN for a payload without samples)."""
    out = np.full(n_payloads, -np.inf)
    np.maximum.at(out, payload_index, values)
    out[~np.isfinite(out)] = np.nan
    return out


class HostClock:
    """The online counterpart of the recorder's clock fit (:func:`gait.clocksync.fit_clock`): host minus sensor time
    of one sensor from ``arrival - sensor time`` of its payloads (the radio and OS only ever delay a notification).
    As offline: the lower envelope (the minimum in each ``bin_s`` of sensor time) over the last ``window_s``, and a
    robust line through it (a level only while it spans less than ``slope_span_s``), refitted when a bin completes;
    before the first bins are complete, the minimum so far. A plain running minimum would lag a drifting clock by
    drift x window (30 ppm over 45 s: 1.4 ms, a 0.4 % step asymmetry); the line follows it."""

    def __init__(self, bin_s: float = 2.0, window_s: float = 90.0, slope_span_s: float = 30.0):
        self.bin_s = float(bin_s)
        self.window_s = float(window_s)
        self.slope_span_s = float(slope_span_s)
        self.reset()

    def reset(self) -> None:
        self._bins: dict[int, tuple[float, float]] = {}  # bin -> (sensor s, arrival - sensor s) of its minimum
        self._fit: tuple[float, float, float] | None = None  # level at x0, slope, x0
        self._fitted_bins: int | None = None
        self._min = math.inf

    def add(self, sensor_s: np.ndarray, arrival_s: np.ndarray) -> None:
        """Per payload: the sensor time of its last sample and its arrival (backend seconds)."""
        x = np.asarray(sensor_s, dtype=float)
        y = np.asarray(arrival_s, dtype=float) - x
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        if x.size == 0:
            return
        self._min = min(self._min, float(y.min()))
        bins = self._bins
        key = np.floor(x / self.bin_s).astype(np.int64)
        order = np.lexsort((y, key))  # by bin, then by y: the first of each bin is its minimum
        first = order[np.flatnonzero(np.r_[True, key[order][1:] != key[order][:-1]])]
        for k, xi, yi in zip(key[first].tolist(), x[first].tolist(), y[first].tolist(), strict=True):
            if k not in bins or yi < bins[k][1]:
                bins[k] = (xi, yi)
        newest = max(bins)
        for k in [k for k in bins if k < newest - self.window_s / self.bin_s]:
            del bins[k]
        done = sorted(k for k in bins if k < newest)  # the newest bin is still filling
        if len(done) >= 3 and done[-1] != self._fitted_bins:
            self._fitted_bins = done[-1]
            bx = np.array([bins[k][0] for k in done])
            by = np.array([bins[k][1] for k in done])
            x0 = float(bx[-1])
            lvl, slope, _ = robust_line(bx, by, x0, slope=float(np.ptp(bx)) >= self.slope_span_s)
            self._fit = (lvl, slope, x0)

    def offset_at(self, sensor_s: np.ndarray) -> np.ndarray | None:
        """Host minus sensor seconds at these sensor times; None before any payload."""
        if self._fit is not None:
            lvl, slope, x0 = self._fit
            return lvl + slope * (np.asarray(sensor_s, dtype=float) - x0)
        return None if not math.isfinite(self._min) else np.full(np.shape(sensor_s), self._min)
