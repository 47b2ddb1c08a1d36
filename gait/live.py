"""Live analysis while recording: the offline kernels on a sliding window of each ankle's stream.

:class:`LiveAnalyzer` takes chunks of decoded samples from either ankle (``feed(side, t, acc, gyr)``, raw sensor
axes, SI units, each sensor's own clock), keeps the last ``buffer_s`` seconds per side in a fixed-size ring buffer
(memory never grows) and emits every new stride once, with the same numbers the offline analysis
(:func:`gait.analyze`) gives for the same recording. It runs the offline kernels themselves -
:func:`gait.preprocess.imu_preprocess` (time base, gaps), :func:`gait.events.events_find`,
:func:`gait.kinematics.stride_kinematics`, :func:`gait.metrics.stride_table`, :func:`gait.metrics.clock_offset` -
and re-implements none of them.

Design
------
Calibration (once, then frozen)
    When each side holds ``calibration_s`` seconds of gait (10 s by default, plus whatever standing preceded it),
    :func:`~gait.preprocess.imu_preprocess` runs on that side's buffer: the sensor-to-shank **alignment**
    (gravity from the standing period, sagittal axis from the gait), the **gyro bias** and the **sample rate** are
    frozen. The ICs of that buffer give :func:`~gait.metrics.clock_offset` (IC alternation + the still -> moving
    onsets, exactly as :func:`gait.analyze` with ``clock_offset_s="auto"``) the **right-minus-left clock
    offset**; the offset and the choice of the stride multiple are frozen, and when the offset was applied its
    drift is tracked by re-running the same kernel every ``clock_refit_s`` on the ICs of the last five minutes (a
    crystal drifts tens of ppm: 50 ppm is 3 ms a minute). The two run-level fits of the offline chain that need
    many strides - each shank's **pendulum radius** (ankle-to-sensor distance, a pooled fit in
    :func:`~gait.kinematics.stride_kinematics`) and the **left/right stride-length equalization** of
    :func:`gait.analyze` - are fitted on the buffers then as well (provisional), once more after
    ``radius_calibration_s`` (30 s) of gait, and frozen. Strides seen during calibration are emitted when it
    completes (their latency is that of the calibration).
Analysis cadence
    Each side is analysed once per stride: when its data reach the expected end of its next stride plus
    ``guard_s`` (0.25 s), the last ``window_s`` (8 s) are rotated with the frozen alignment and run through
    events -> kinematics; one :func:`~gait.metrics.stride_table` over both sides' latest windows gives the
    temporal metrics, step and flight time and the validity flags. A side that is due waits up to ``max_wait_s``
    for the other one, so that one stride table serves both legs. A side that is not moving is looked at once a
    second only.
When each metric is available (stride ``k`` runs from ``IC_k`` to ``IC_k+1``; it ends at ``IC_k+1``)
    * stride time, cadence, contact, swing, duty factor, peak tibial acceleration: ``IC_k+1`` is fixed once the
      data reach ~0.2 s past it (the IC detector looks 150 ms past the zero crossing, the zero-phase filters need
      a little more): the ``guard_s`` of 0.25 s.
    * step and flight time: need the other leg's IC inside the stride, which comes half a stride *before* its end:
      available at the same moment.
    * stride length, speed and the shank angle at contact: the kernel integrates from mid-stance ``k`` to
      mid-stance ``k+1`` and fits the pendulum reset to the first half of the next stance, so it needs the data up
      to ``IC_k+1 + contact/2`` (~0.12 s after the stride ends in running; inside the guard). The kernel takes
      mid-stance ``k+1`` from the *row* of stride ``k+1``, which only exists once ``IC_k+2`` is seen - a whole
      stride later. Instead of waiting, the next stance's toe-off and mid-stance are predicted from the median of
      the last five strides (sample offsets from their IC) and given to the kernel as a provisional successor
      row; its own outputs are discarded. Against the offline values this costs < 0.3 % of stride length and
      < 0.1 deg of shank angle (``benchmarks/bench_live.py``). Walking contacts are longer: there the emission
      waits until the data reach ``IC_k+1 +`` the predicted mid-stance offset.
    So every stride is emitted once, ~0.25-0.7 s (stream time) after it ends, with every metric final.
Deduplication
    A stride is new when no stride of that leg was emitted within ``dedup_tol_s`` of its IC (own clock) and it
    starts at least ``left_guard_s`` after the start of the analysed window (the zero-phase filters and the
    kernel's per-stride tilt offsets are unreliable at a window's left edge). Two strides of one leg are at least
    0.4 s apart, so the tolerance of 0.1 s can never merge two of them.
Rolling summary and baseline warnings
    :meth:`LiveAnalyzer.summary` gives per-leg means (valid strides, as :func:`gait.metrics.summarize`) and R - L
    asymmetry over the last ``summary_window_s`` (30 s) and, given a :class:`Baseline` (the runner's unweighted
    runs: stride tables or a summary table), warnings with hysteresis when the shank angle at contact of a leg or
    a left/right asymmetry drifts beyond the baseline by more than the noise (see :class:`WarningPolicy`).

Memory is constant: the ring buffers are allocated once; emitted strides, IC history and warnings are kept in
bounded deques (see :meth:`LiveAnalyzer.memory_report`).

Example::

    live = LiveAnalyzer(baseline=[strides_run1, strides_run2])
    for side, t, acc, gyr in decoded_chunks:      # ~50 ms per side, both sides interleaved
        new = live.feed(side, t, acc, gyr)         # DataFrame of strides emitted now (usually 0 or 1 row)
    summary = live.summary()                       # per-leg numbers, asymmetry, warnings
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gait import analysis as _analysis
from gait import conventions as C
from gait.analysis import _movement_onset
from gait.errors import AnalysisError
from gait.events import events_find
from gait.kinematics import stride_kinematics
from gait.live_baseline import MIN_BETWEEN_SD, Baseline, BaselineItem, LiveWarning, WarningPolicy
from gait.metrics import ClockOffset, bridged_per_stride, clock_offset, stride_table
from gait.preprocess import Alignment, imu_preprocess, moving_mask, still_mask, timebase_check, to_body_frame

__all__ = [
    "Baseline",
    "BaselineItem",
    "LiveAnalyzer",
    "LiveSummary",
    "LiveWarning",
    "StreamClock",
    "WarningPolicy",
    "DISPLAY_METRICS",
    "EMIT_COLS",
]

#: Per-leg metrics the summary (and the live view) shows, in this order.
DISPLAY_METRICS: tuple[str, ...] = (
    C.CADENCE,
    C.CONTACT_TIME,
    C.STRIDE_LENGTH,
    C.SHANK_ANGLE_IC,
    C.FOOT_ANGLE_IC,
    C.PEAK_TIBIAL_ACCEL,
    C.STEP_TIME,
    C.FLIGHT_TIME,
    C.SPEED,
)
#: Extra columns of emitted strides: IC in the sensor's own clock, when it was emitted (stream time, reference
#: clock) and the latency from the stride's end to its emission (stream time of that sensor).
SENSOR_IC = "sensor_ic_time_s"
EMITTED_AT = "emitted_at_s"
LATENCY = "latency_s"
EMIT_COLS: tuple[str, ...] = (*C.STRIDE_COLS, C.MID_STANCE_TIME, C.MID_SWING_TIME, SENSOR_IC, EMITTED_AT, LATENCY)
_TIME_COLS = (C.IC_TIME, C.TO_TIME, C.NEXT_IC_TIME, C.MID_STANCE_TIME, C.MID_SWING_TIME)
_EV_IDX = ("ic_idx", "to_idx", "next_ic_idx", "ms_idx", "mst_idx")


def _make_empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object if c in (C.SIDE, C.INVALID_REASON) else float) for c in EMIT_COLS})


_EMPTY = _make_empty()


def _empty_strides() -> pd.DataFrame:
    return _EMPTY.copy()


# --- streaming helpers ----------------------------------------------------------------------------------------
class _Ring:
    """Fixed-capacity store of samples (time + 6 channels) with amortised O(1) appends; never reallocates."""

    def __init__(self, capacity: int):
        self.capacity = int(capacity)
        self._buf = np.empty((2 * self.capacity, 7))
        self._a = 0
        self._b = 0

    def __len__(self) -> int:
        return self._b - self._a

    def append(self, block: np.ndarray) -> None:
        m = block.shape[0]
        if m == 0:
            return
        if m >= self.capacity:
            block, m = block[-self.capacity :], self.capacity
        if self._b + m > self._buf.shape[0]:  # slide the newest part to the front (no overlap: b - keep > keep)
            keep = min(len(self), self.capacity - m)
            self._buf[:keep] = self._buf[self._b - keep : self._b]
            self._a, self._b = 0, keep
        self._buf[self._b : self._b + m] = block
        self._b += m
        if len(self) > self.capacity:
            self._a = self._b - self.capacity

    def view(self) -> np.ndarray:
        return self._buf[self._a : self._b]

    def since(self, t0: float) -> np.ndarray:
        v = self.view()
        return v[np.searchsorted(v[:, 0], t0, side="right") :]

    @property
    def nbytes(self) -> int:
        return int(self._buf.nbytes)


class StreamClock:
    """Sensor counter -> continuous seconds, chunk by chunk: undoes roll-overs like
    :func:`gait.clocksync.unwrap_sensor_time` does for a whole recording (the recorder's live path needs it for
    u16/u32 counters, which wrap every 65 s / 49 days)."""

    def __init__(self) -> None:
        self.last = math.nan
        self.add = 0.0

    def __call__(self, t: np.ndarray) -> np.ndarray:
        from gait.clocksync import unwrap_sensor_time

        t = np.asarray(t, dtype=float)
        if t.size == 0:
            return t
        if math.isfinite(self.last):
            u = unwrap_sensor_time(np.r_[self.last - self.add, t])
            out = u[1:] - u[0] + self.last
        else:
            out = unwrap_sensor_time(t)
        self.add = float(out[-1] - t[-1])
        self.last = float(out[-1])
        return out


# --- baseline warnings (the baseline itself: gait.live_baseline) ----------------------------------------------
@dataclass
class _WarnState:
    above_since: float = math.nan
    below_since: float = math.nan
    on: bool = False
    on_since: float = math.nan
    value: float = math.nan
    noise: float = math.nan


# --- summary ----------------------------------------------------------------------------------------------------
@dataclass
class LiveSummary:
    """The rolling state for a live view.

    ``legs``: index = metric (:data:`DISPLAY_METRICS` present), columns ``left, right, left_sd, right_sd, left_n,
    right_n`` (means and SDs of the valid strides over the last ``window_s``). ``asymmetry``: index = metric,
    columns ``left, right, diff_r_minus_l, si_pct``. ``status`` is ``"waiting"`` (no data), ``"calibrating"`` or
    ``"live"``; ``message`` says what is going on in words.
    """

    elapsed_s: float
    status: str
    message: str
    window_s: float
    n_strides: dict[str, int]
    legs: pd.DataFrame
    asymmetry: pd.DataFrame
    warnings: list[LiveWarning]
    placement: str = "shank"
    last_stride_s: dict[str, float] = field(default_factory=dict)
    #: baseline centres for display, ``{(metric, "left"|"right"|"r-l"): value}`` (empty without a baseline)
    baseline: dict[tuple[str, str], float] = field(default_factory=dict)

    def value(self, metric: str, side: str) -> float:
        """Mean of ``metric`` for ``side`` (``left``/``right``) over the window, NaN when unknown."""
        if metric in self.legs.index and side in self.legs.columns:
            return float(self.legs.at[metric, side])
        return math.nan


# --- per side state -----------------------------------------------------------------------------------------
@dataclass
class _Side:
    name: str
    ring: _Ring | None = None
    rate_guess: float = math.nan
    time_shift: float = 0.0  # added to this sensor's times after its clock jumped back (a restart)
    first_t: float = math.nan
    last_t: float = -math.inf
    # frozen at calibration
    fs: float = math.nan
    alignment: Alignment | None = None
    bias: np.ndarray | None = None
    acc_only: bool = False
    onset: float | None = None
    r: float | None = None
    leg_factor: float = 1.0  # stride-length scale of gait.analysis.equalize_legs, frozen like the radius
    calib_ic: np.ndarray | None = None
    calibrated_at: float = math.nan
    next_check: float = -math.inf
    # analysis scheduling and results
    first_window: bool = True
    due: float = math.inf
    frame: pd.DataFrame | None = None  # latest per-side stride frame (reference clock) incl. the open IC row
    bridged: np.ndarray | None = None  # samples of the latest body-frame window interpolated across short holes
    new_pos: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    new_sensor_ic: np.ndarray = field(default_factory=lambda: np.zeros(0))
    new_mode: list[str] = field(default_factory=list)
    emitted: deque = field(default_factory=lambda: deque(maxlen=64))  # own-clock ICs (dedup)
    stride_hist: deque = field(default_factory=lambda: deque(maxlen=9))  # own stride times (scheduling)
    ic_hist: deque = field(default_factory=lambda: deque(maxlen=512))  # own-clock ICs (clock drift), ~6 min
    new_sensor_next: np.ndarray = field(default_factory=lambda: np.zeros(0))
    last_next_ic: float = math.nan  # own clock, of the latest emitted stride
    last_mode: str = ""
    prev_next: float = -math.inf  # own clock: next IC of the previously emitted stride (bout continuity)
    bout: int = -1
    counter: int = 0
    warnings: deque = field(default_factory=lambda: deque(maxlen=20))


# --- the analyzer ---------------------------------------------------------------------------------------------
class LiveAnalyzer:
    """Stride analysis of two ankle streams while they are recorded; see the module documentation.

    Parameters
    ----------
    sample_rate_hz
        Nominal rate of the sensors (sizes the buffers; the time base is checked by the kernel). None: from the
        first samples.
    placement, ankle_to_sensor_m, standing_shank_angle_deg, nominal_up, clock_offset_s
        As in :func:`gait.analyze`. ``clock_offset_s="auto"`` estimates the right-minus-left offset at calibration
        (frozen; drift tracked), a number fixes it, None trusts the clocks (times already in one clock).
    baseline
        A :class:`Baseline`, a list of the runner's unweighted stride tables, or a summary table.
    buffer_s
        Seconds of samples kept per side (ring buffer; calibration looks at all of it).
    window_s
        Seconds analysed per stride (enough for the filters and the neighbouring strides the kernels use).
    guard_s
        How far (s) the data must reach past a stride's end before it is emitted.
    calibration_s
        Seconds of gait per side before the alignment and clocks are frozen.
    radius_calibration_s
        Seconds of gait after which the ankle-to-sensor distance (pendulum radius) is re-fitted once on the whole
        buffer and frozen (before: the value fitted on the calibration stretch). The kernel fits it as one pooled
        value per run; 10 s of gait give it to +-0.006 m (+-0.3 % of stride length), 30 s to +-0.002 m.
    summary_window_s
        The rolling window of the summary and the warnings.
    """

    def __init__(
        self,
        *,
        sample_rate_hz: float | None = None,
        placement: str = "shank",
        baseline: Any = None,
        clock_offset_s: float | str | None = "auto",
        ankle_to_sensor_m: float | None = None,
        standing_shank_angle_deg: float = 0.0,
        nominal_up: str | None = None,
        buffer_s: float = 30.0,
        window_s: float = 8.0,
        guard_s: float = 0.25,
        left_guard_s: float = 2.0,
        calibration_s: float = 10.0,
        radius_calibration_s: float = 30.0,
        summary_window_s: float = 30.0,
        max_wait_s: float = 0.45,
        retry_s: float = 0.2,
        summary_every_s: float = 1.0,
        clock_refit_s: float = 30.0,
        dedup_tol_s: float = 0.1,
        warning_policy: WarningPolicy | None = None,
    ):
        if placement not in C.PLACEMENTS:
            raise ValueError(f"placement must be one of {C.PLACEMENTS}, got {placement!r}")
        if window_s < left_guard_s + 3.0 or buffer_s < window_s:
            raise ValueError("need buffer_s >= window_s >= left_guard_s + 3 s")
        self.sample_rate_hz = sample_rate_hz
        self.placement = placement
        self.baseline = Baseline.coerce(baseline)
        self.clock_mode = clock_offset_s
        self.ankle_to_sensor_m = ankle_to_sensor_m
        self.standing_shank_angle_deg = standing_shank_angle_deg
        self.nominal_up = nominal_up
        self.buffer_s = float(buffer_s)
        self.window_s = float(window_s)
        self.guard_s = float(guard_s)
        self.left_guard_s = float(left_guard_s)
        self.calibration_s = float(calibration_s)
        self.radius_calibration_s = float(radius_calibration_s)
        self.summary_window_s = float(summary_window_s)
        self.max_wait_s = float(max_wait_s)
        self.retry_s = float(retry_s)
        self.summary_every_s = float(summary_every_s)
        self.clock_refit_s = float(clock_refit_s)
        self.dedup_tol_s = float(dedup_tol_s)
        self.policy = warning_policy or WarningPolicy()
        self.angle_metric = C.SHANK_ANGLE_IC if placement == "shank" else C.FOOT_ANGLE_IC
        self._sides = {s: _Side(s) for s in C.SIDES}
        self._clock: ClockOffset | None = None  # None until resolved
        self._clock_source = ""
        self._next_refit = math.inf
        self._clock_fit_t = math.nan
        self._clock_rejected = 0
        self._run_level_due = math.inf
        self._run_level_final = False
        self._live_since = math.nan
        # emitted strides of the last minute or so: (side, valid, next IC, the DISPLAY_METRICS values)
        self._history: deque[tuple] = deque(maxlen=2048)
        self._summary: LiveSummary | None = None
        self._next_summary = -math.inf
        self._warn: dict[str, _WarnState] = {}
        self._first_ref = math.nan
        self.stats = {"analyses": 0, "tables": 0, "analysis_cpu_s": 0.0, "emitted": 0, "feeds": 0}

    # --- input --------------------------------------------------------------------------------------------
    def feed(self, side: str, t: Any, acc: Any, gyr: Any = None) -> pd.DataFrame:
        """Add decoded samples of one side; returns the strides (of either side) emitted by this call.

        ``t``: (n,) seconds in that sensor's clock (increasing; samples not later than the newest one already
        fed are dropped as duplicates); ``acc``, ``gyr``: (n, 3) raw sensor axes in m/s² and rad/s (``gyr`` None
        for an accelerometer-only sensor). Chunks longer than a second are processed a second at a time.
        """
        if side not in self._sides:
            raise ValueError(f"side must be one of {C.SIDES}, got {side!r}")
        t = np.asarray(t, dtype=float).ravel()
        acc = np.asarray(acc, dtype=float).reshape(-1, 3)
        gyr = np.full_like(acc, np.nan) if gyr is None else np.asarray(gyr, dtype=float).reshape(-1, 3)
        if not (t.size == acc.shape[0] == gyr.shape[0]):
            raise ValueError(f"{side}: t, acc and gyr must have the same number of samples")
        S = self._sides[side]
        if S.time_shift:
            t = t + S.time_shift
        fin = t[np.isfinite(t)]
        if fin.size and math.isfinite(S.last_t) and fin[0] < S.last_t - 2.0 and fin[-1] < S.last_t:
            # the sensor clock went back by more than any reordering (a sensor restart): glue the new samples on
            # after a 1-s gap, so the analysis goes on (the gap splits the segments, as any dropout)
            shift = S.last_t + 1.0 - float(fin[0])
            S.time_shift += shift
            t = t + shift
            S.warnings.append(
                f"{side}: the sensor clock jumped back by {shift - 1.0:.1f} s (restart?); continued after a gap"
            )
        prev = np.maximum.accumulate(np.r_[S.last_t, t])[:-1]
        keep = np.isfinite(t) & (t > prev)
        if not keep.any():
            return _empty_strides()
        block = np.column_stack([t, acc, gyr])[keep]
        if S.ring is None:
            self._init_ring(S, block)
        if not math.isfinite(S.first_t):
            S.first_t = float(block[0, 0])
            if S.name == "left" or not math.isfinite(self._first_ref):
                self._first_ref = S.first_t
        out = []
        step = 1.0  # keep each step well inside one analysis window
        n_steps = int((block[-1, 0] - block[0, 0]) / step)
        cuts = np.searchsorted(block[:, 0], block[0, 0] + step * np.arange(1, n_steps + 1))
        for part in np.split(block, cuts) if cuts.size else (block,):
            if part.shape[0] == 0:
                continue
            S.ring.append(part)
            S.last_t = float(part[-1, 0])
            self.stats["feeds"] += 1
            if self._clock is None or S.alignment is None:
                self._calibration_step(S)
            if self._clock is not None:
                new = self._maybe_tick()
                if new is not None and len(new):
                    out.append(new)
                self._maybe_refit_clock()
            self._maybe_summary()
        if not out:
            return _empty_strides()
        return pd.concat(out, ignore_index=True) if len(out) > 1 else out[0]

    def flush(self) -> pd.DataFrame:
        """At the end of a recording: analyse what is left in the buffers (the last strides, without the guard)."""
        act = [S for S in self._sides.values() if S.alignment is not None]
        if self._clock is None or not act:
            return _empty_strides()
        guard = self.guard_s
        self.guard_s = 0.0
        try:
            res = self._tick(act, final=True)
        finally:
            self.guard_s = guard
        self._maybe_summary(force=True)
        return res

    def _init_ring(self, S: _Side, block: np.ndarray) -> None:
        dt = np.diff(block[:, 0])
        guess = 1.0 / float(np.median(dt)) if dt.size else 0.0
        rate = max(self.sample_rate_hz or 0.0, guess if np.isfinite(guess) else 0.0, 50.0)
        rate = min(rate, 2000.0)
        S.rate_guess = rate
        S.ring = _Ring(int(math.ceil(self.buffer_s * rate * 1.25)) + 16)

    # --- calibration ----------------------------------------------------------------------------------------
    def _gait_seconds(self, S: _Side) -> float:
        v = S.ring.view()
        if v.shape[0] < 10:
            return 0.0
        fs = S.rate_guess
        gyr = v[:, 4:7]
        if np.isfinite(gyr).all():
            return float(moving_mask(gyr, fs).sum() / fs)
        acc = v[:, 1:4]
        ok = np.isfinite(acc).all(axis=1)
        return float((~still_mask(acc[ok], None, fs)).sum() / fs)

    def _calibration_step(self, S: _Side) -> None:
        if S.alignment is None and S.last_t >= S.next_check:
            S.next_check = S.last_t + 0.5
            if self._gait_seconds(S) >= self.calibration_s:
                self._calibrate_side(S)
                if S.alignment is not None and self._clock is not None:  # this sensor joined late
                    both = all(x.alignment is not None for x in self._sides.values())
                    if self._clock_source == "single sensor" and both:
                        self._calibrate_clock()
                    S.due = -math.inf
        if self._clock is not None:
            return
        cal = [x for x in self._sides.values() if x.alignment is not None]
        if len(cal) == 2:
            self._calibrate_clock()
        elif len(cal) == 1 and cal[0].last_t - cal[0].calibrated_at >= self.calibration_s:
            # the other sensor has shown no gait for another calibration period: go on with one leg
            c = cal[0]
            self._clock = ClockOffset(0.0, 0.0, 0.0, 0, "none", False, "one sensor only: clocks not aligned")
            self._clock_source = "single sensor"
            c.warnings.append(f"no gait from the {'right' if c.name == 'left' else 'left'} sensor yet: one leg only")
            self._start_live()

    def _calibrate_side(self, S: _Side) -> None:
        v = S.ring.view()
        gyr = v[:, 4:7]
        acc_only = not np.isfinite(gyr).any()
        try:
            pre = imu_preprocess(
                v[:, 0],
                v[:, 1:4],
                None if acc_only else gyr,
                side=S.name,
                fs=self.sample_rate_hz,
                placement=self.placement,
                nominal_up=self.nominal_up,
            )
        except AnalysisError as exc:
            S.warnings.append(f"calibration: {exc}")
            return
        ev = events_find(pre.frame, pre.fs, placement=self.placement, acc_only=pre.acc_only).events
        if len(ev) < 4:
            return  # not enough strides yet: try again later
        t = pre.frame[C.TIME].to_numpy()
        kin = stride_kinematics(
            pre.frame,
            ev,
            pre.fs,
            placement=self.placement,
            side=S.name,
            ankle_to_sensor_m=self.ankle_to_sensor_m,
            standing_angle_deg=self.standing_shank_angle_deg,
        )
        S.fs = pre.fs
        S.alignment = pre.alignment
        S.bias = np.asarray(pre.gyro_bias, dtype=float)
        S.acc_only = pre.acc_only
        S.onset = _movement_onset(pre, t)
        S.r = self.ankle_to_sensor_m if self.ankle_to_sensor_m is not None else kin.info.get("ankle_to_sensor_m")
        S.calib_ic = ev[C.IC_TIME].to_numpy(float)
        S.calibrated_at = S.last_t
        S.first_window = True
        S.due = math.inf
        S.warnings.extend(pre.warnings)
        S.warnings.extend(f"{S.name}: {w}" for w in kin.warnings)

    def _clock_from_ics(self) -> ClockOffset:
        """:func:`gait.metrics.clock_offset` on every IC seen so far (calibration buffer + emitted, own clocks)."""
        L, R = self._sides["left"], self._sides["right"]
        ics = [np.unique(np.round(np.r_[x.calib_ic, np.asarray(x.ic_hist, dtype=float)], 6)) for x in (L, R)]
        return clock_offset(ics[0], ics[1], onset_left_s=L.onset, onset_right_s=R.onset)

    def _calibrate_clock(self) -> None:
        L = self._sides["left"]
        mode = self.clock_mode
        if mode is None:
            co = ClockOffset(0.0, 0.0, 0.0, 0, "none", False, "clocks trusted as they are")
        elif mode != "auto":
            co = ClockOffset(float(mode), 0.0, 0.0, 0, "given", True)
        else:
            co = self._clock_from_ics()
            if co.method == "none":
                co = ClockOffset(0.0, 0.0, 0.0, 0, "none", False, f"not estimated ({co.note}); clocks trusted")
        self._clock = co
        self._clock_source = "calibration"
        self._next_refit = L.last_t + self.clock_refit_s if co.applied and mode == "auto" else math.inf
        self._clock_fit_t = self._sides["right"].last_t
        self._start_live()

    def _start_live(self) -> None:
        self._fit_run_level(final=False)
        now = self._now_ref()
        if not math.isfinite(self._live_since):
            self._live_since = now
        self._run_level_due = now + max(self.radius_calibration_s - self.calibration_s, 0.0)
        for S in self._sides.values():
            if S.alignment is not None:
                S.due = -math.inf

    # --- clocks -------------------------------------------------------------------------------------------
    def _to_ref(self, side: str, t: Any) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        if side == "right" and self._clock is not None and self._clock.applied:
            return self._clock.correct(t)
        return t

    def _now_ref(self) -> float:
        """Newest sample time over both sides, in the reference (left) clock."""
        now = -math.inf
        co = self._clock
        for S in self._sides.values():
            t = S.last_t
            if S.name == "right" and co is not None and co.applied and math.isfinite(t):
                t = t - (co.offset_s + co.drift * (t - co.t_ref_s))
            now = max(now, t)
        return now if math.isfinite(now) else math.nan

    def _maybe_refit_clock(self) -> None:
        L, R = self._sides["left"], self._sides["right"]
        if not (math.isfinite(self._next_refit) and L.last_t >= self._next_refit):
            return
        self._next_refit = L.last_t + self.clock_refit_s
        for S in (L, R):  # the last five minutes
            while S.ic_hist and S.ic_hist[0] < S.last_t - 300.0:
                S.ic_hist.popleft()
        if len(L.ic_hist) < 40 or len(R.ic_hist) < 40:
            return
        co = clock_offset(np.asarray(L.ic_hist), np.asarray(R.ic_hist))
        if co.n_pairs < 20 or co.method == "none":
            return
        cur = self._clock
        T = float(np.median(np.asarray(L.stride_hist))) if L.stride_hist else 0.0
        at_ref = cur.offset_s + cur.drift * (co.t_ref_s - cur.t_ref_s)
        a = co.offset_s + (round((at_ref - co.offset_s) / T) * T if T > 0 else 0.0)  # keep the frozen multiple
        new_now = a + co.drift * (R.last_t - co.t_ref_s)
        cur_now = cur.offset_s + cur.drift * (R.last_t - cur.t_ref_s)
        # A real clock only drifts (tens of ppm): a jump beyond 200 ppm of the time since the last fit plus 3 ms is
        # an estimation error (e.g. a few mis-detected contacts), not drift; keep the current clock then.
        since = max(R.last_t - self._clock_fit_t, 0.0) if math.isfinite(self._clock_fit_t) else 0.0
        plausible = 0.003 + 200e-6 * since
        if 0.002 < abs(new_now - cur_now) <= plausible:
            self._clock = ClockOffset(a, co.drift, co.t_ref_s, co.n_pairs, "ic-alternation, refitted live", True)
            self._clock_source = "calibration + drift tracking"
            self._clock_fit_t = R.last_t
        elif abs(new_now - cur_now) > plausible:
            self._clock_rejected += 1

    # --- analysis -----------------------------------------------------------------------------------------
    def _maybe_tick(self) -> pd.DataFrame | None:
        if self._run_level_due < math.inf and self._now_ref() >= self._run_level_due:
            self._fit_run_level(final=True)
        act = [S for S in self._sides.values() if S.alignment is not None]
        ready = [S for S in act if S.last_t >= S.due]
        if not ready:
            return None
        waiting = [S for S in act if S not in ready]
        if waiting and all(S.last_t - S.due < self.max_wait_s for S in ready):
            return None
        return self._tick(ready)

    def _tick(self, ready: list[_Side], final: bool = False) -> pd.DataFrame:
        c0 = time.process_time()
        for S in ready:
            self._analyze(S, final=final)
        out = self._emit()
        self.stats["analysis_cpu_s"] += time.process_time() - c0
        return out

    def _body_frame(self, S: _Side, a: np.ndarray) -> pd.DataFrame | None:
        """Samples -> body-frame frame with the FROZEN alignment and bias (the kernel's time base)."""
        t, acc, gyr = a[:, 0], a[:, 1:4], a[:, 4:7]
        S.bridged = None
        if t.size < max(10, 2.0 * S.fs):
            return None
        tb = timebase_check(t, fs=S.fs)
        finite = np.isfinite(acc).all() and (S.acc_only or np.isfinite(gyr).all())
        if tb.uniform and len(tb.segments) == 1 and finite:
            # what imu_preprocess does on a clean stretch (its no-copy path), with the frozen rotation
            acc_b, gyr_b = to_body_frame(acc, gyr - S.bias, S.alignment)
            cols = {C.TIME: t}
            cols.update({c: acc_b[:, i] for i, c in enumerate(C.ACC_BF)})
            cols.update({c: gyr_b[:, i] for i, c in enumerate(C.GYR_BF)})
            cols["segment"] = np.zeros(t.size, dtype=np.int32)
            return pd.DataFrame(cols, copy=False)
        # gaps, NaN or jitter: the kernel cleans and resamples; then its window rotation is swapped for the frozen
        try:
            pre = imu_preprocess(
                t,
                acc,
                None if S.acc_only else gyr,
                side=S.name,
                fs=S.fs,
                placement=self.placement,
            )
        except AnalysisError:
            return None
        S.bridged = pre.bridged
        return _rerotate(pre, S.alignment, S.bias)

    def _analyze(self, S: _Side, final: bool = False) -> None:
        """Run the kernels on this side's latest window; store its stride frame and which rows are new."""
        S.new_pos = np.zeros(0, dtype=np.int64)
        S.new_sensor_ic = np.zeros(0)
        S.new_sensor_next = np.zeros(0)
        S.new_mode = []
        t_end = S.last_t
        a = S.ring.view() if (S.first_window or final) else S.ring.since(t_end - self.window_s)
        left_ok = a[0, 0] + (0.0 if S.first_window else self.left_guard_s)
        first = S.first_window
        S.first_window = False
        if not first and not final and not self._moving_recently(S, a):
            S.due = t_end + 1.0
            return
        self.stats["analyses"] += 1
        frame = self._body_frame(S, a)
        if frame is None:
            S.due = t_end + self.retry_s
            return
        fs = S.fs
        ev = events_find(frame, fs, placement=self.placement, acc_only=S.acc_only).events
        if len(ev) == 0:
            S.due = t_end + self.retry_s
            return
        n = len(frame)
        n_ev = len(ev)
        cols = {c: ev[c].to_numpy() for c in ev.columns}
        ic_idx = cols["ic_idx"].astype(np.int64)
        nic_idx = cols["next_ic_idx"].astype(np.int64)
        have_next = np.r_[nic_idx[:-1] == ic_idx[1:], False]
        guard = self.guard_s
        # the provisional successor of the last stride (see the module doc), when the data cover its stance
        ev_k = ev
        fake_ok = False
        if not S.acc_only and not final:
            k0 = max(0, n_ev - 5)
            base = ic_idx[k0:]
            to_off = int(np.median(cols["to_idx"][k0:].astype(np.int64) - base))
            mst_off = int(np.median(cols["mst_idx"][k0:].astype(np.int64) - base))
            st_off = int(np.median(nic_idx[k0:] - base))
            ic_new = int(nic_idx[-1])
            stance = max(mst_off, int(math.ceil(0.5 * to_off))) + 3
            guard = max(guard, stance / fs)
            if ic_new + stance < n and to_off > 0 and mst_off >= 0:
                succ = {
                    "ic_idx": ic_new,
                    "to_idx": ic_new + to_off,
                    "next_ic_idx": ic_new + st_off,
                    "mst_idx": ic_new + mst_off,
                    "ms_idx": int(cols["ms_idx"][-1]) + st_off,
                }
                ev_k = pd.DataFrame({c: np.append(v, succ.get(c, v[-1])) for c, v in cols.items()})
                fake_ok = True
        kin = stride_kinematics(
            frame,
            ev_k,
            fs,
            placement=self.placement,
            side=S.name,
            ankle_to_sensor_m=S.r,
            standing_angle_deg=self.standing_shank_angle_deg,
        )
        own_ic = cols[C.IC_TIME].astype(float)
        own_next = cols[C.NEXT_IC_TIME].astype(float)
        # the per-side frame of gait.analyze (times in the reference clock) plus one row that holds only the IC of
        # the stride in progress, so that the other leg's step and flight times find it
        nan1 = np.array([np.nan])
        data: dict[str, np.ndarray] = {}
        for c in _TIME_COLS:
            v = self._to_ref(S.name, cols[c].astype(float))
            data[c] = np.r_[v, self._to_ref(S.name, own_next[-1:]) if c == C.IC_TIME else nan1]
        data[C.BOUT_ID] = np.zeros(n_ev + 1, dtype=np.int64)
        ps = kin.per_stride
        for c in ps.columns:
            data[c] = np.r_[ps[c].to_numpy(dtype=float)[:n_ev], nan1]
            if c in (C.STRIDE_LENGTH, C.SPEED):
                data[c] = data[c] * S.leg_factor
        data[C.SHANK_ANGLE_IC if self.placement == "foot" else C.FOOT_ANGLE_IC] = np.full(n_ev + 1, np.nan)
        if S.acc_only:
            data[C.INVALID_REASON] = np.full(n_ev + 1, None, dtype=object)
        # short holes bridged by the kernel: as in gait.analysis.analyze
        br, at_ic, at_next = bridged_per_stride(S.bridged, fs, ic_idx, cols["to_idx"].astype(np.int64), nic_idx)
        data[C.BRIDGED_S] = np.r_[br, nan1]
        if at_ic.any() or at_next.any():
            why = np.full(n_ev + 1, None, dtype=object)
            for where, sel, x in (("next contact", at_next > 0, at_next), ("contact", at_ic > 0, at_ic)):
                why[: n_ev][sel] = [f"data missing at {where} ({v * 1000:.0f} ms bridged)" for v in x[sel]]
            data[C.INVALID_REASON] = why
        S.frame = pd.DataFrame(data)
        # which rows are complete, reliable and new
        reliable = own_next <= t_end - (0.0 if final else guard)
        complete = have_next | fake_ok | S.acc_only | final
        complete[:-1] = True
        cand = reliable & complete & (own_ic >= left_ok)
        if S.emitted:
            em = np.fromiter(S.emitted, dtype=float)
            dup = (np.abs(own_ic[:, None] - em[None, :]) < self.dedup_tol_s).any(axis=1)
            cand &= ~dup
        pos = np.flatnonzero(cand)
        S.new_pos = pos
        S.new_sensor_ic = own_ic[pos]
        S.new_sensor_next = own_next[pos]
        S.new_mode = [str(m) for m in cols["mode"][pos]]
        # bookkeeping for scheduling
        for p in pos:
            S.emitted.append(float(own_ic[p]))
            S.ic_hist.append(float(own_ic[p]))
            S.stride_hist.append(float(own_next[p] - own_ic[p]))
        if pos.size:
            S.last_next_ic = (
                max(S.last_next_ic, float(own_next[pos].max()))
                if math.isfinite(S.last_next_ic)
                else (float(own_next[pos].max()))
            )
        T = float(np.median(np.asarray(S.stride_hist))) if S.stride_hist else float(np.median(own_next - own_ic))
        nxt = (S.last_next_ic if math.isfinite(S.last_next_ic) else float(own_next[-1])) + 1.03 * T + guard
        S.due = nxt if nxt > t_end else t_end + self.retry_s

    def _fit_run_level(self, final: bool) -> None:
        """The run-level fits of the offline chain on the buffers: each shank's pendulum radius (the kernel's pooled
        fit) and the left/right stride-length equalization of :func:`gait.analysis.analyze`. Done at calibration
        (provisional) and once more after ``radius_calibration_s`` of gait on everything buffered, then frozen."""
        self._run_level_due = math.inf
        per_side: dict[str, pd.DataFrame] = {}
        for S in self._sides.values():
            if S.alignment is None or S.acc_only:
                continue
            frame = self._body_frame(S, S.ring.view())
            if frame is None:
                continue
            ev = events_find(frame, S.fs, placement=self.placement, acc_only=S.acc_only).events
            if len(ev) < 4:
                continue
            kin = stride_kinematics(
                frame,
                ev,
                S.fs,
                placement=self.placement,
                side=S.name,
                ankle_to_sensor_m=self.ankle_to_sensor_m,
                standing_angle_deg=self.standing_shank_angle_deg,
            )
            r = kin.info.get("ankle_to_sensor_m")
            if self.ankle_to_sensor_m is None and r is not None and math.isfinite(r):
                S.r = float(r)
            per_side[S.name] = pd.DataFrame(
                {
                    C.IC_TIME: self._to_ref(S.name, ev[C.IC_TIME].to_numpy(float)),
                    C.STRIDE_LENGTH: kin.per_stride[C.STRIDE_LENGTH].to_numpy(float),
                    C.SPEED: kin.per_stride[C.SPEED].to_numpy(float),
                }
            )
        factors: dict[str, float] = {}
        equalize = getattr(_analysis, "equalize_legs", None)
        if equalize is not None and self.placement == "shank" and set(per_side) == set(C.SIDES):
            info: dict[str, Any] = {}
            try:
                equalize(per_side, info, [])
                factors = info.get("kinematics", {}).get("leg_equalization_factor", {}) or {}
            except (TypeError, KeyError, ValueError) as exc:  # the offline helper changed: say so, go on unscaled
                self._sides["left"].warnings.append(f"leg equalization unavailable live: {exc}")
        for S in self._sides.values():
            S.leg_factor = float(factors.get(S.name, 1.0))
        self._run_level_final = final
        if final and self.clock_mode == "auto" and self._clock is not None and self._clock.applied:
            # the offset from three times as many IC pairs as at calibration (same kernel, same onsets), frozen
            co = self._clock_from_ics()
            if co.method != "none" and co.applied:
                self._clock = co
                self._clock_source = "calibration (30 s of gait)"
                self._clock_fit_t = self._sides["right"].last_t

    def _moving_recently(self, S: _Side, a: np.ndarray) -> bool:
        tail = a[a[:, 0] > a[-1, 0] - 3.0]
        if tail.shape[0] < 10:
            return False
        gyr = tail[:, 4:7]
        if np.isfinite(gyr).all():
            return bool(moving_mask(gyr, S.fs).any())
        return bool((~still_mask(tail[:, 1:4], None, S.fs)).any())

    def _emit(self) -> pd.DataFrame:
        sides = [S for S in self._sides.values() if S.frame is not None and len(S.frame)]
        if not any(S.new_pos.size for S in sides):
            return _empty_strides()
        table = stride_table({S.name: S.frame for S in sides})
        self.stats["tables"] += 1
        side_col = table[C.SIDE].to_numpy()
        sid = table[C.STRIDE_ID].to_numpy()
        sel, extra = [], {C.STRIDE_ID: [], C.BOUT_ID: [], SENSOR_IC: [], EMITTED_AT: [], LATENCY: []}
        for S in sides:
            if S.new_pos.size == 0:
                continue
            idx = np.flatnonzero((side_col == S.name) & np.isin(sid, S.new_pos))
            idx = idx[np.argsort(sid[idx], kind="stable")]  # the order of new_pos (stride ids are row positions)
            sel.append(idx)
            for k in range(idx.size):
                # live bouts: a new bout where strides stop following each other (the IC is not the previous
                # stride's next IC: a gap, a stop, a missed stride) or the mode changes (running/walking)
                cont = S.bout >= 0 and abs(S.new_sensor_ic[k] - S.prev_next) < 1.5 / S.fs
                if not (cont and S.new_mode[k] == S.last_mode):
                    S.bout += 1
                S.last_mode = S.new_mode[k]
                S.prev_next = float(S.new_sensor_next[k])
                extra[C.STRIDE_ID].append(S.counter)
                extra[C.BOUT_ID].append(S.bout)
                S.counter += 1
            extra[SENSOR_IC].append(S.new_sensor_ic)
            extra[EMITTED_AT].append(np.full(idx.size, float(self._to_ref(S.name, S.last_t))))
            extra[LATENCY].append(S.last_t - S.new_sensor_next)
            S.new_pos = np.zeros(0, dtype=np.int64)
        rows = np.concatenate(sel)
        data = {c: table[c].to_numpy()[rows] for c in EMIT_COLS if c in table.columns}
        data[C.STRIDE_ID] = np.asarray(extra[C.STRIDE_ID], dtype=np.int64)
        data[C.BOUT_ID] = np.asarray(extra[C.BOUT_ID], dtype=np.int64)
        for c in (SENSOR_IC, EMITTED_AT, LATENCY):
            data[c] = np.concatenate(extra[c])
        order = np.argsort(data[C.IC_TIME], kind="stable")
        out = pd.DataFrame({c: data[c][order] if c in data else np.full(rows.size, np.nan) for c in EMIT_COLS})
        self.stats["emitted"] += len(out)
        vals = np.column_stack([out[m].to_numpy(dtype=float) for m in DISPLAY_METRICS])
        for side, ok, nic, v in zip(
            data[C.SIDE][order], data[C.VALID][order], data[C.NEXT_IC_TIME][order], vals, strict=True
        ):
            self._history.append((side, bool(ok), float(nic), v))
        return out

    # --- summary ------------------------------------------------------------------------------------------
    def _maybe_summary(self, force: bool = False) -> None:
        now = self._now_ref()
        if not math.isfinite(now):
            return
        if force or now >= self._next_summary:
            self._next_summary = now + self.summary_every_s
            self._summary = self._make_summary(now)

    def _status(self) -> tuple[str, str]:
        present = [S for S in self._sides.values() if math.isfinite(S.last_t)]
        if not present:
            return "waiting", "waiting for data"
        if self._clock is None:
            done = [self._gait_seconds(S) for S in present]
            got = ", ".join(f"{S.name} {min(g, self.calibration_s):.0f}" for S, g in zip(present, done, strict=True))
            return "calibrating", f"calibrating: stand still, then run ({got} of {self.calibration_s:.0f} s of gait)"
        return "live", f"live ({self._clock_source})"

    def _make_summary(self, now: float) -> LiveSummary:
        horizon = now - max(self.summary_window_s, 60.0)
        while self._history and self._history[0][2] < horizon:
            self._history.popleft()
        status, msg = self._status()
        elapsed = now - self._first_ref if math.isfinite(self._first_ref) else 0.0
        recs = [r for r in self._history if r[2] >= now - self.summary_window_s]
        n = {s: 0 for s in C.SIDES}
        last: dict[str, float] = {}
        stats: dict[str, np.ndarray] = {}
        for s in C.SIDES:
            mine = [r for r in recs if r[0] == s]
            if mine:
                last[s] = float(now - max(r[2] for r in mine))
            ok = [r[3] for r in mine if r[1]]  # valid strides only, as gait.metrics.summarize
            n[s] = len(ok)
            x = np.vstack(ok) if ok else np.full((0, len(DISPLAY_METRICS)), np.nan)
            fin = np.isfinite(x)
            cnt = fin.sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                xs = np.where(fin, x, 0.0)
                mean = xs.sum(axis=0) / cnt
                var = (np.where(fin, x - mean, 0.0) ** 2).sum(axis=0) / (cnt - 1)
            stats[s] = np.vstack([np.where(cnt > 0, mean, np.nan), np.where(cnt > 1, np.sqrt(var), np.nan), cnt])
        keep = [i for i, m in enumerate(DISPLAY_METRICS) if any(stats[s][2, i] > 0 for s in C.SIDES)]
        idx = pd.Index([DISPLAY_METRICS[i] for i in keep], name="metric")
        legs = pd.DataFrame(
            {
                "left": stats["left"][0, keep],
                "right": stats["right"][0, keep],
                "left_sd": stats["left"][1, keep],
                "right_sd": stats["right"][1, keep],
                "left_n": stats["left"][2, keep],
                "right_n": stats["right"][2, keep],
            },
            index=idx,
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            diff = legs["right"] - legs["left"]
            asym = pd.DataFrame(
                {
                    "left": legs["left"],
                    "right": legs["right"],
                    "diff_r_minus_l": diff,
                    "si_pct": diff / (0.5 * (legs["right"] + legs["left"])) * 100.0,
                },
                index=idx,
            )
        warnings = self._update_warnings(now, legs, n)
        return LiveSummary(
            elapsed_s=float(elapsed),
            status=status,
            message=msg,
            window_s=self.summary_window_s,
            n_strides=n,
            legs=legs,
            asymmetry=asym,
            warnings=warnings,
            placement=self.placement,
            last_stride_s=last,
            baseline=self._baseline_centres(),
        )

    def _baseline_centres(self) -> dict[tuple[str, str], float]:
        if self.baseline is None:
            return {}
        return {(i.metric, i.side): i.center for i in self.baseline.items.values()}

    def _update_warnings(self, now: float, legs: pd.DataFrame, n: dict[str, int]) -> list[LiveWarning]:
        if self.baseline is None:
            return []
        pol = self.policy
        active = []
        for key, item in self.baseline.items.items():
            value, se2 = math.nan, math.nan
            if item.metric in legs.index:
                row = legs.loc[item.metric]
                if item.kind == "level":
                    value = float(row[item.side])
                    sd, k = float(row[f"{item.side}_sd"]), float(row[f"{item.side}_n"])
                    se2 = sd * sd / k if k > 1 else math.nan
                else:
                    value = float(row["right"] - row["left"])
                    if row["left_n"] > 1 and row["right_n"] > 1:
                        se2 = float(row["left_sd"] ** 2 / row["left_n"] + row["right_sd"] ** 2 / row["right_n"])
            st = self._warn.setdefault(key, _WarnState())
            n_needed = min(n.values()) if item.kind == "asym" else n.get(item.side, 0)
            if math.isfinite(value) and math.isfinite(se2) and n_needed >= pol.min_strides:
                floor = MIN_BETWEEN_SD.get(item.metric, 0.0)
                between = max(item.between_sd, floor) if math.isfinite(item.between_sd) else floor
                noise = pol.z * math.sqrt(between**2 * (1.0 + 1.0 / max(item.n_runs, 1)) + se2)
                st.value, st.noise = value, noise
                dev = abs(value - item.center)
                if dev > noise:
                    st.below_since = math.nan
                    if not math.isfinite(st.above_since):
                        st.above_since = now
                    if not st.on and now - st.above_since >= pol.on_s:
                        st.on, st.on_since = True, now
                elif dev < pol.release * noise:
                    st.above_since = math.nan
                    if not math.isfinite(st.below_since):
                        st.below_since = now
                    if st.on and now - st.below_since >= pol.off_s:
                        st.on = False
                else:  # between release and threshold: hold the current state
                    st.above_since = st.below_since = math.nan
            else:  # too few strides to judge (a stop): hold the current state
                st.above_since = st.below_since = math.nan
            if st.on:
                active.append(LiveWarning(key, item.metric, item.side, st.value, item.center, st.noise, st.on_since))
        return active

    # --- outputs ------------------------------------------------------------------------------------------
    def summary(self) -> LiveSummary:
        """The rolling summary (recomputed at most every ``summary_every_s`` of stream time, on feed)."""
        if self._summary is None:
            now = self._now_ref()
            self._summary = self._make_summary(now if math.isfinite(now) else 0.0)
        else:
            status, msg = self._status()
            self._summary.status, self._summary.message = status, msg
        return self._summary

    @property
    def status(self) -> str:
        return self._status()[0]

    @property
    def elapsed_s(self) -> float:
        now = self._now_ref()
        return float(now - self._first_ref) if math.isfinite(now) and math.isfinite(self._first_ref) else 0.0

    @property
    def info(self) -> dict[str, Any]:
        """What was frozen at calibration, the clock, counters and warnings."""
        out: dict[str, Any] = {"alignment": {}, "gyro_bias": {}, "ankle_to_sensor_m": {}, "sample_rate_hz": {}}
        for S in self._sides.values():
            if S.alignment is not None:
                out["alignment"][S.name] = S.alignment.as_dict()
                out["gyro_bias"][S.name] = np.round(S.bias, 5).tolist()
                out["ankle_to_sensor_m"][S.name] = S.r
                out.setdefault("leg_equalization_factor", {})[S.name] = S.leg_factor
                out["sample_rate_hz"][S.name] = S.fs
        out["clock"] = None if self._clock is None else {
            **self._clock.as_dict(), "source": self._clock_source, "refits_rejected": self._clock_rejected
        }
        out["live_since_s"] = self._live_since  # reference-clock time at which calibration completed
        out["run_level_final"] = self._run_level_final
        out["stats"] = dict(self.stats)
        out["warnings"] = [w for S in self._sides.values() for w in S.warnings]
        return out

    @property
    def clock(self) -> ClockOffset | None:
        return self._clock

    def memory_report(self) -> dict[str, int]:
        """Sizes of everything that is kept (ring bytes and the lengths of the bounded deques)."""
        rep: dict[str, int] = {"history": len(self._history)}
        for S in self._sides.values():
            rep[f"{S.name}_ring_bytes"] = S.ring.nbytes if S.ring is not None else 0
            rep[f"{S.name}_ring_samples"] = len(S.ring) if S.ring is not None else 0
            rep[f"{S.name}_emitted"] = len(S.emitted)
            rep[f"{S.name}_ic_hist"] = len(S.ic_hist)
            rep[f"{S.name}_frame_rows"] = 0 if S.frame is None else len(S.frame)
            rep[f"{S.name}_warnings"] = len(S.warnings)
        return rep


def _rerotate(pre: Any, frozen: Alignment, bias: np.ndarray) -> pd.DataFrame:
    """A window preprocessed with its own alignment and bias -> the same samples with the frozen ones.

    Body = raw @ M with M = rotation.T scaled by the signs (:func:`gait.preprocess.to_body_frame`); the kernel's
    gyro is ``(raw - bias_w) @ Mg_w``, so raw follows exactly and is rotated again.
    """
    al = pre.alignment

    def mats(a: Alignment) -> tuple[np.ndarray, np.ndarray]:
        m = a.rotation.T
        return m * a.signs[:3], m * a.signs[3:]

    ma_w, mg_w = mats(al)
    ma_f, mg_f = mats(frozen)
    fr = pre.frame
    acc = fr[list(C.ACC_BF)].to_numpy() @ (np.linalg.inv(ma_w) @ ma_f)
    gyr = (fr[list(C.GYR_BF)].to_numpy() @ np.linalg.inv(mg_w) + np.asarray(pre.gyro_bias) - bias) @ mg_f
    out = fr.copy()
    out[list(C.ACC_BF)] = acc
    out[list(C.GYR_BF)] = gyr
    return out


def feed_session(live: LiveAnalyzer, source: Any, *, chunk_s: float = 0.05) -> pd.DataFrame:
    """Feed a whole recording through ``live`` as the recorder would, and return every emitted stride.

    ``source``: a :class:`gait.synth.SynthRun` (chunks ordered by true time, so the right sensor's clock offset and
    drift show as they would live), a :class:`gait.Session` or ``{side: dict(t, acc, gyr)}`` (ordered by each
    sensor's time since its first sample). ``chunk_s`` of samples per side and chunk, the sides interleaved;
    :meth:`LiveAnalyzer.flush` at the end.
    """
    arrays, true_time = _arrays_of(source)
    out = []
    for side, sl in interleaved_chunks(arrays, chunk_s, true_time):
        a = arrays[side]
        out.append(live.feed(side, a["t"][sl], a["acc"][sl], a["gyr"][sl]))
    out.append(live.flush())
    out = [o for o in out if len(o)]
    return pd.concat(out, ignore_index=True) if out else _empty_strides()


def _arrays_of(source: Any) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, np.ndarray] | None]:
    if hasattr(source, "samples") and hasattr(source, "meta"):
        return {s: source.arrays(s) for s in source.sides}, None
    if hasattr(source, "left") and hasattr(source, "right") and hasattr(source, "sample_rate_hz"):
        arrays = {"left": source.left, "right": source.right}
        world = getattr(source, "world", None) or {}
        true = {s: world[s]["t"] for s in arrays if s in world and "t" in world[s]}
        return arrays, (true if len(true) == len(arrays) else None)
    if isinstance(source, Mapping):
        return {s: v for s, v in source.items() if s in C.SIDES}, None
    raise TypeError(f"cannot feed a {type(source).__name__}")


def interleaved_chunks(
    arrays: Mapping[str, Mapping[str, np.ndarray]], chunk_s: float, true_time: Mapping[str, np.ndarray] | None = None
) -> list[tuple[str, slice]]:
    """(side, slice) chunks of ``chunk_s`` per side in arrival order: by ``true_time`` when given, else by each
    sensor's own clock relative to its first sample (both sensors start together)."""
    heads = []
    for side, a in arrays.items():
        tt = np.asarray(true_time[side]) if true_time is not None else np.asarray(a["t"]) - a["t"][0]
        if tt.size == 0:
            continue
        edges = np.searchsorted(tt, np.arange(tt[0] + chunk_s, tt[-1] + chunk_s, chunk_s), side="left")
        starts = np.r_[0, edges]
        stops = np.r_[edges, tt.size]
        for a0, b0 in zip(starts, stops, strict=True):
            if b0 > a0:
                heads.append((float(tt[b0 - 1]), side, slice(int(a0), int(b0))))
    heads.sort(key=lambda x: (x[0], x[1]))
    return [(side, sl) for _, side, sl in heads]
