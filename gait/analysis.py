"""One call from a session (or a file) to the stride table: ``gait.analyze``.

The chain per side is :func:`gait.preprocess.imu_preprocess` -> :func:`gait.events.events_find` ->
:func:`gait.kinematics.stride_kinematics`; then the two clocks are aligned (:func:`gait.metrics.clock_offset`), the
stride lengths of two shanks are scaled to a common mean speed (both feet travel the same distance; each shank's
pendulum radius is only known to a few cm, see :func:`equalize_legs`), and :func:`gait.metrics.stride_table`,
:func:`gait.metrics.summarize` and :func:`gait.metrics.asymmetry` finish.
Every stage is callable alone on arrays.

Problems the user can fix raise :class:`gait.errors.AnalysisError` (a ``ValueError``) with a one-line reason: the
recording is too short, there is only standing, no strides anywhere. Problems of one stride give ``valid=False``
and an ``invalid_reason`` in the table instead; problems of one side are listed in ``info["warnings"]``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from gait import conventions as C
from gait.errors import AnalysisError
from gait.events import events_find, gait_bouts
from gait.kinematics import stride_kinematics
from gait.metrics import asymmetry, bridged_per_stride, clock_offset, stride_table, summarize
from gait.preprocess import bridge_count, imu_preprocess, moving_mask, side_cues

__all__ = ["AnalysisResult", "analyze"]


@dataclass
class AnalysisResult:
    """What :func:`analyze` returns: plain DataFrames plus an ``info`` dict.

    ``strides``: one row per stride and side (``conventions.STRIDE_COLS``); ``summary``: per side and both, n,
    mean, SD, CV, median, IQR per metric; ``asymmetry``: per metric L, R, SI, SA, Welch test; ``bouts``: gait bouts
    and still periods per side; ``info``: alignment rotations, clock offset, placement, warnings.
    """

    strides: pd.DataFrame
    summary: pd.DataFrame
    asymmetry: pd.DataFrame
    bouts: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        return self.info.get("warnings", [])

    def to_frame(self) -> pd.DataFrame:
        """The stride table (a copy), the one table everything above is computed from."""
        return self.strides.copy()

    def __repr__(self) -> str:
        n = {s: int((self.strides[C.SIDE] == s).sum()) for s in C.SIDES}
        return f"AnalysisResult(strides={n}, warnings={len(self.warnings)})"


def _inputs(source: Any, placement: str | None, fs: float | None) -> tuple[dict, dict, dict, bool]:
    """-> per-side dict(t, acc, gyr), per-side placement, per-side nominal rate, and whether the two sides are
    known to share one clock (:attr:`gait.session.SessionMeta.clocks_aligned`), from the accepted inputs."""
    if isinstance(source, str | os.PathLike):
        from gait.session import Session

        source = Session.load(source)
    if hasattr(source, "samples") and hasattr(source, "meta"):  # gait.Session
        arrays = {s: source.arrays(s) for s in source.sides}
        places = {s: placement or source.meta.placement.get(s, "shank") for s in arrays}
        rates = {s: fs or source.meta.sample_rate_hz.get(s) for s in arrays}
        return arrays, places, rates, bool(source.meta.clocks_aligned)
    if hasattr(source, "left") and hasattr(source, "right") and hasattr(source, "sample_rate_hz"):  # SynthRun
        arrays = {"left": source.left, "right": source.right}
        places = {s: placement or "shank" for s in arrays}
        return arrays, places, {s: fs or source.sample_rate_hz for s in arrays}, False
    if isinstance(source, Mapping):
        arrays = {s: v for s, v in source.items() if s in C.SIDES and v is not None}
        if not arrays:
            raise AnalysisError("give samples as {'left': dict(t=, acc=, gyr=), 'right': ...}")
        return arrays, {s: placement or "shank" for s in arrays}, {s: fs for s in arrays}, False
    raise AnalysisError(
        f"cannot analyse a {type(source).__name__}: give a gait.Session, a session file path or per-side arrays"
    )


def analyze(
    session_or_path: Any,
    *,
    placement: str | None = None,
    sample_rate_hz: float | None = None,
    clock_offset_s: float | str | None = "auto",
    ankle_to_sensor_m: float | None = None,
    standing_shank_angle_deg: float = 0.0,
    nominal_up: str | None = None,
    bridge_max_s: float = 0.1,
) -> AnalysisResult:
    """Analyse a two-ankle (or one-ankle) recording into a stride table, summaries and asymmetry.

    Parameters
    ----------
    session_or_path
        A :class:`gait.Session`, a path to a saved session, a ``{"left": dict(t, acc, gyr), ...}`` mapping (raw
        sensor axes, SI units) or a :class:`gait.synth.SynthRun`.
    placement
        ``"shank"`` or ``"foot"``; default: from the session metadata (else shank).
    clock_offset_s
        ``"auto"`` estimates the right-minus-left clock offset from the IC alternation (see
        :func:`gait.metrics.clock_offset`; for a session whose sides share one clock, ``meta.clocks_aligned``, it
        is only reported, in ``info["clock"]``), a number applies a known offset, ``None`` trusts the clocks.
    ankle_to_sensor_m
        Distance of the sensor above the stance pivot (m) for the pendulum reset; fitted per leg when None. The
        pivot sits ~2-3 cm below the ankle joint while the foot rolls (Fukuchi), so give the measured sensor
        height above the ankle plus ~0.025 m.
    standing_shank_angle_deg
        Tibia angle during the standing still period used for alignment (0 = shins vertical, as instructed). A
        single IMU only measures the angle relative to its calibration pose: a runner who stands with the shins
        leaning by x deg gets every shank angle off by -x deg unless x is given here.
    nominal_up
        Raw axis the sensor maker says points up the shin (e.g. ``"+acc_x"``), to flag upside-down mounting.
    bridge_max_s
        Gaps in the samples (lost BLE packets) up to this long (s) are bridged by interpolation instead of
        splitting the recording (0: never). Each stride's ``bridged_s`` says how much of it is interpolated; a
        stride with bridged data at contact is invalid; ``info["bridged"]`` counts the holes per side.

    Examples
    --------
    >>> import gait
    >>> from gait.synth import simulate_run
    >>> res = gait.analyze(simulate_run(duration_s=20, seed=1))
    >>> sorted(res.strides["side"].unique())
    ['left', 'right']
    """
    arrays, places, rates, clocks_aligned = _inputs(session_or_path, placement, sample_rate_hz)
    warnings: list[str] = []
    info: dict[str, Any] = {"placement": places, "alignment": {}, "gyro_bias": {}, "kinematics": {}}
    per_side: dict[str, pd.DataFrame] = {}
    bouts_all = []
    onsets: dict[str, float | None] = {}
    errors: dict[str, str] = {}
    only_still = {}
    for side, a in arrays.items():
        place = places[side]
        if place not in C.PLACEMENTS:
            raise AnalysisError(f"placement must be one of {C.PLACEMENTS}, got {place!r}")
        try:
            pre = imu_preprocess(
                a["t"],
                a["acc"],
                a.get("gyr"),
                side=side,
                fs=rates.get(side),
                placement=place,
                nominal_up=nominal_up,
                bridge_max_s=bridge_max_s,
            )
        except AnalysisError as exc:
            errors[side] = str(exc).removeprefix(f"{side}: ")  # the side is named once, where errors are joined
            continue
        warnings += pre.warnings
        info["alignment"][side] = pre.alignment.as_dict()
        info["gyro_bias"][side] = np.round(pre.gyro_bias, 5).tolist()
        info.setdefault("sample_rate_hz", {})[side] = pre.fs
        n_br = 0 if pre.bridged is None else int(pre.bridged.sum())
        info.setdefault("bridged", {})[side] = {"holes": bridge_count(pre.bridged), "total_s": round(n_br / pre.fs, 4)}
        ev = events_find(pre.frame, pre.fs, placement=place, acc_only=pre.acc_only).events
        t = pre.frame[C.TIME].to_numpy()
        bouts, bout_of = gait_bouts(ev, pre.still, t)
        bouts.insert(0, C.SIDE, side)
        bouts_all.append(bouts)
        only_still[side] = len(ev) == 0 and pre.still.mean() > 0.8
        onsets[side] = _movement_onset(pre, t)
        if len(ev) == 0:
            errors[side] = "no strides found" + (" (only standing)" if only_still[side] else "")
            continue
        kin = stride_kinematics(
            pre.frame,
            ev,
            pre.fs,
            placement=place,
            side=side,
            ankle_to_sensor_m=ankle_to_sensor_m,
            standing_angle_deg=standing_shank_angle_deg,
        )
        warnings += [f"{side}: {w}" for w in kin.warnings]
        if not pre.acc_only:
            info["alignment"][side].update(side_cues(pre.frame, ev["ic_idx"].to_numpy(), ev["to_idx"].to_numpy()))
        info["kinematics"][side] = kin.info
        d = ev[[C.IC_TIME, C.TO_TIME, C.NEXT_IC_TIME, C.MID_STANCE_TIME, C.MID_SWING_TIME]].copy()
        d[C.BOUT_ID] = bout_of
        for c in kin.per_stride.columns:
            d[c] = kin.per_stride[c].to_numpy()
        if place == "foot":
            d[C.SHANK_ANGLE_IC] = np.nan
        else:
            d[C.FOOT_ANGLE_IC] = np.nan
        if pre.acc_only:
            d[C.INVALID_REASON] = None  # timing from the acc is valid; gyro metrics are NaN (see warnings)
        bridged_s, at_ic, at_next = bridged_per_stride(
            pre.bridged, pre.fs, ev["ic_idx"].to_numpy(), ev["to_idx"].to_numpy(), ev["next_ic_idx"].to_numpy()
        )
        d[C.BRIDGED_S] = bridged_s
        if at_ic.any() or at_next.any():
            # contact: IC, contact time, shank angle, shock; next contact: the stride's end (time, length)
            msg = np.full(len(d), None, dtype=object)
            for where, text, x in (("next contact", at_next > 0, at_next), ("contact", at_ic > 0, at_ic)):
                msg[text] = [f"data missing at {where} ({v * 1000:.0f} ms bridged)" for v in x[text]]
            prior = d[C.INVALID_REASON] if C.INVALID_REASON in d else pd.Series(None, index=d.index, dtype=object)
            d[C.INVALID_REASON] = prior.where(prior.notna(), pd.Series(msg, index=d.index))
        per_side[side] = d
    if not per_side:
        if errors and all("only standing" in e for e in errors.values()):
            raise AnalysisError("the recording contains only standing: no gait to analyse")
        raise AnalysisError("no strides found: " + "; ".join(f"{s}: {e}" for s, e in errors.items()))
    warnings += [f"{s}: {e}" for s, e in errors.items()]
    # clock alignment of the right sensor onto the left one
    if "left" in per_side and "right" in per_side and clock_offset_s is not None:
        if clock_offset_s == "auto":
            # the IC alternation gives the offset modulo a stride; the still -> moving onsets pick the multiple only
            # for clocks of unknown relation: the feet start up to a step apart, so on one clock they would move a
            # side by half or a whole stride (13 of 76 IPOL walks did before this rule)
            co = clock_offset(
                per_side["left"][C.IC_TIME].to_numpy(),
                per_side["right"][C.IC_TIME].to_numpy(),
                onset_left_s=None if clocks_aligned else onsets.get("left"),
                onset_right_s=None if clocks_aligned else onsets.get("right"),
            )
            if clocks_aligned and co.applied:  # one clock: what the alternation sees is the runner's step asymmetry
                co = replace(co, applied=False, note=f"offset {co.offset_s * 1000:.1f} ms not applied: the session's "
                             "two sensors share one clock (a step-time asymmetry, not a clock offset)")
        else:
            from gait.metrics import ClockOffset

            co = ClockOffset(float(clock_offset_s), 0.0, 0.0, 0, "given", True)
        # the note (an offset too small to apply, as on every run from one clock) stays in info["clock"]: routine,
        # nothing for the runner to do, so not a warning
        info["clock"] = co.as_dict()
        if co.applied:
            r = per_side["right"]
            for c in (C.IC_TIME, C.TO_TIME, C.NEXT_IC_TIME, C.MID_STANCE_TIME, C.MID_SWING_TIME):
                r[c] = co.correct(r[c].to_numpy(float))
            if abs(co.offset_s) > 0.02:
                warnings.append(f"clock: right sensor offset {co.offset_s * 1000:.0f} ms from the left one, corrected")
    if {"left", "right"} <= set(per_side) and places.get("left") == places.get("right") == "shank":
        equalize_legs(per_side, info, warnings)
    strides = stride_table(per_side)
    swap = _swap_check(info)
    if swap:
        warnings.append(swap)
    info["warnings"] = warnings
    bouts = pd.concat(bouts_all, ignore_index=True) if bouts_all else pd.DataFrame()
    return AnalysisResult(strides, summarize(strides), asymmetry(strides), bouts, info)


#: Fewest strides with a length per leg, and the largest left/right ratio of mean speeds, for the leg equalization.
EQUALIZE_MIN_STRIDES = 10
EQUALIZE_MAX_RATIO = 1.25


def equalize_legs(per_side: dict[str, pd.DataFrame], info: dict, warnings: list[str]) -> None:
    """Scale each shank's stride lengths and speeds so both legs give the same mean running speed (in place).

    Both feet travel the same distance over the same time, so the mean speed from the left and the right sensor
    must agree; the shank's pendulum radius (see :mod:`gait.kinematics`) is identified per leg with errors of a
    few per cent that are independent between the legs, so their geometric mean is the better estimate
    (measured on Fukuchi virtual IMUs, 4 mountings x 3 trials: mean absolute leg bias 3.3 % -> 1.9 %, worst
    8.4 % -> 5.0 %). Only the strides inside the time span both legs cover count; skipped (with a warning) when the legs
    disagree by more than :data:`EQUALIZE_MAX_RATIO`, which points at a problem on one side instead.
    """
    lo = max(float(d[C.IC_TIME].min()) for d in per_side.values())
    hi = min(float(d[C.IC_TIME].max()) for d in per_side.values())
    speeds = {}
    for side, d in per_side.items():
        ic = d[C.IC_TIME].to_numpy(float)
        v = d[C.SPEED].to_numpy(float)
        ok = np.isfinite(v) & (v > 0) & (ic >= lo) & (ic <= hi)
        if ok.sum() < EQUALIZE_MIN_STRIDES:
            return
        speeds[side] = float(np.median(v[ok]))
    ratio = speeds["right"] / speeds["left"]
    if not 1 / EQUALIZE_MAX_RATIO <= ratio <= EQUALIZE_MAX_RATIO:
        warnings.append(
            f"the two shanks give mean speeds {speeds['left']:.2f} (left) and {speeds['right']:.2f} m/s (right): "
            "too different to be the same run; stride lengths are left per leg"
        )
        return
    common = float(np.sqrt(speeds["left"] * speeds["right"]))
    factors = {}
    for side, d in per_side.items():
        f = common / speeds[side]
        d[C.STRIDE_LENGTH] = d[C.STRIDE_LENGTH] * f
        d[C.SPEED] = d[C.SPEED] * f
        factors[side] = round(f, 4)
    info.setdefault("kinematics", {})["leg_equalization_factor"] = factors


def _movement_onset(pre: Any, t: np.ndarray) -> float | None:
    """Time of the first still -> moving transition after >= 1 s of standing, if the recording starts still."""
    if pre.acc_only:
        return None
    # only the start of the recording matters: the moving mask of a prefix equals the whole one except within one
    # window of the prefix's end (the smoothing runs from the start), so look at 30 s, then 4x more until decided
    cols = [pre.frame[c].to_numpy() for c in C.GYR_BF]
    n = cols[0].size
    w = max(3, int(round(0.2 * pre.fs)))  # moving_mask's window
    p = min(n, max(int(30 * pre.fs), 4 * w))
    while True:
        moving = moving_mask(np.column_stack([c[:p] for c in cols]), pre.fs, window_s=0.2)
        if p == n:
            break
        if moving[: p - w].any():
            moving = moving[: p - w]
            break
        p = min(n, 4 * p)
    if moving.size == 0 or moving[0]:
        return None
    first = int(np.argmax(moving))
    if not moving.any() or t[first] - t[0] < 1.0 or not pre.still[: max(1, first // 2)].all():
        return None
    return float(t[first])


def _swap_check(info: dict) -> str | None:
    """A warning when the two sensors look swapped left/right, or mounted the opposite way up to each other.

    The sagittal alignment is mirror-symmetric by construction, so a swap only shows out of the sagittal plane:
    both legs must then show the ankle *lateral* of the knee in mid-stance and an *external* tibial rotation in
    early stance (:func:`gait.preprocess.side_cues`). Reported, never acted upon.
    """
    al = info.get("alignment", {})
    msgs = []
    if {"left", "right"} <= set(al):
        tilts = [al[s].get("stance_tilt_deg", np.nan) for s in ("left", "right")]
        rots = [al[s].get("early_stance_rotation", np.nan) for s in ("left", "right")]
        if all(t < -1.0 for t in tilts) and all(r > 0.0 for r in rots):
            msgs.append(
                "the left and right sensors look swapped (both legs lean the wrong way in stance and rotate "
                "externally after contact); check the labels; analysed as labelled"
            )
        ups = [al[s].get("up_axis", "") for s in ("left", "right")]
        if ups[0] and ups[1] and ups[0][1:] == ups[1][1:] and ups[0][0] != ups[1][0]:
            msgs.append(
                f"the two sensors are mounted the opposite way up ({ups[0]} up on the left, {ups[1]} on the right):"
                " one is upside down; analysed with the rotation found for each"
            )
    return " ; ".join(msgs) or None
