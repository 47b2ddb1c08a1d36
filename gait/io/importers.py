"""Import IMU recordings from CSV files into a :class:`~gait.session.Session`.

Why: researchers arrive with data recorded by a vendor's app or by their own logger, not with our session
files. Every importer returns a Session in the project's units (s, m/s², rad/s, raw sensor axes) and turns a
file it cannot read into one :class:`ImportFormatError` line that names the file and the problem.

* :func:`import_csv`: any CSV, with a column mapping, a time column (s, ms, µs, ns or date-time) or a
  sample rate, and the units of acc (``m/s^2``, ``g``, ``mg``) and gyr (``rad/s``, ``deg/s``).
* :func:`import_movella_dot`: the per-sensor CSV that the Movella DOT app exports.
* :func:`import_witmotion`: the CSV that the WitMotion app / PC software records.
* :func:`import_metabase`: MbientLab MetaBase exports (one accelerometer and one gyroscope CSV per sensor).
* :func:`import_sensor_csv`: any of the three vendor layouts, recognised from the header.

Each side is one file (or, for MetaBase, one pair of files); ``left=`` and ``right=`` take them. When both
sides have absolute or synchronised clocks, the two stay aligned (one common time origin); otherwise each side
starts at 0 and ``meta.extra["import"]["clock_aligned"]`` says so.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait import conventions as C
from gait.errors import GaitError
from gait.session import Session

__all__ = [
    "ACC_UNITS",
    "GYR_UNITS",
    "TIME_UNITS",
    "ImportFormatError",
    "SideRecording",
    "detect_vendor",
    "import_csv",
    "import_metabase",
    "import_movella_dot",
    "import_sensor_csv",
    "import_witmotion",
    "read_csv_side",
    "read_metabase",
    "read_movella_dot",
    "read_witmotion",
]

PathLike = str | Path


class ImportFormatError(GaitError, ValueError):
    """A file whose columns, values or units are not what the importer was told (or the vendor documents)."""


#: Factors that take each accepted acceleration unit to m/s².
ACC_UNITS: dict[str, float] = {
    "m/s^2": 1.0,
    "m/s2": 1.0,
    "m/s²": 1.0,
    "g": C.GRAVITY,
    "mg": C.GRAVITY / 1000.0,
}
#: Factors that take each accepted angular-rate unit to rad/s.
GYR_UNITS: dict[str, float] = {
    "rad/s": 1.0,
    "deg/s": math.pi / 180.0,
    "dps": math.pi / 180.0,
    "°/s": math.pi / 180.0,
}
#: Factors that take each numeric time unit to seconds (``"datetime"`` parses date-time text instead).
TIME_UNITS: dict[str, float] = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


@dataclass
class SideRecording:
    """One sensor's samples as read from a file, before they become a session side.

    ``time_s`` is on the file's own clock (absolute epoch seconds when ``absolute`` is true, else sensor or
    relative seconds); ``acc`` and ``gyr`` are ``(n, 3)`` in m/s² and rad/s, raw sensor axes.
    """

    time_s: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    absolute: bool = False  # time_s is UTC epoch seconds, comparable across files
    synced: bool = False  # time_s is a sensor clock shared with the other side (e.g. Movella DOT sync)
    sensor_model: str = ""
    firmware: str = ""
    info: dict[str, Any] = field(default_factory=dict)


# --- small helpers ------------------------------------------------------------------------------------------
def _unit_factor(unit: str, table: Mapping[str, float], what: str) -> float:
    key = unit.strip().lower().replace(" ", "")
    key = {"m/s**2": "m/s^2", "mps2": "m/s^2", "degps": "deg/s", "deg/sec": "deg/s", "rad/sec": "rad/s"}.get(key, key)
    if key not in table:
        raise ImportFormatError(f"unknown {what} unit {unit!r}; allowed values are {', '.join(repr(u) for u in table)}")
    return table[key]


def _sniff_sep(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _read_table(path: Path, *, skiprows: int = 0, sep: str | None = None) -> pd.DataFrame:
    """Read a delimited text file with a header row; a missing or unreadable file gives one line."""
    if not path.exists():
        raise ImportFormatError(f"{path}: no such file")
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            head = [line for _, line in zip(range(skiprows + 5), fh, strict=False)][skiprows:]
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not "".join(head).strip():
        raise ImportFormatError(f"{path}: the file is empty")
    sep = sep or _sniff_sep("".join(head))
    try:  # pandas streams the file: no second copy of a long recording in memory
        frame = pd.read_csv(
            path, sep=sep, skiprows=skiprows, skipinitialspace=True, encoding="utf-8-sig", encoding_errors="replace"
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportFormatError(f"{path}: not a readable CSV table ({first[:100]})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _numeric(frame: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    """A column as float; text that is not a number names the row and the value."""
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & frame[column].notna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        value = frame[column].iloc[row]
        hint = ""
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+,\d+\s*", value):
            hint = " (a decimal comma? save the file with decimal points)"
        raise ImportFormatError(f"{path}: column {column!r} row {row + 1}: {value!r} is not a number{hint}")
    return values


def _require(frame: pd.DataFrame, wanted: Sequence[str], path: Path, hint: str = "") -> None:
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        shown = ", ".join(map(repr, list(frame.columns)[:12])) + (" ..." if len(frame.columns) > 12 else "")
        raise ImportFormatError(
            f"{path}: missing column(s) {', '.join(map(repr, missing))} (the file has {shown}){hint}"
        )


def _check_units(path: Path, acc: np.ndarray, gyr: np.ndarray, acc_unit: str, gyr_unit: str) -> None:
    """Catch a wrong unit declaration (acc in g read as m/s², gyr in deg/s read as rad/s) in one line."""
    if acc.shape[0] < 10:
        return
    with np.errstate(invalid="ignore"):
        acc_norm = float(np.nanmedian(np.linalg.norm(acc, axis=1)))
        gyr_p99 = float(np.nanpercentile(np.abs(gyr), 99)) if np.isfinite(gyr).any() else 0.0
    if np.isfinite(acc_norm) and acc_norm < 2.5:
        raise ImportFormatError(
            f"{path}: acceleration read as {acc_unit!r} has a median magnitude of {acc_norm:.2f} m/s², "
            "far below gravity; the file is probably in g (pass acc_unit='g')"
        )
    if np.isfinite(acc_norm) and acc_norm > 60.0:
        likely = "m/s^2" if acc_norm < 60.0 * C.GRAVITY else "mg"
        raise ImportFormatError(
            f"{path}: acceleration read as {acc_unit!r} has a median magnitude of {acc_norm:.0f} m/s², "
            f"far above gravity; the file is probably in {likely} (pass acc_unit={likely!r})"
        )
    if gyr_p99 > 60.0:
        raise ImportFormatError(
            f"{path}: angular rate read as {gyr_unit!r} reaches {gyr_p99:.0f} rad/s (99th percentile); "
            "the file is probably in deg/s (pass gyr_unit='deg/s')"
        )


def _check_declared_deg(path: Path, acc: np.ndarray, gyr: np.ndarray, gyr_unit: str) -> None:
    """Catch rad/s declared as deg/s (generic CSV only): a moving leg (impacts far off gravity) that barely turns."""
    if acc.shape[0] < 10 or _unit_factor(gyr_unit, GYR_UNITS, "angular rate") == 1.0 or not np.isfinite(gyr).any():
        return
    with np.errstate(invalid="ignore"):
        gyr_p99 = float(np.nanpercentile(np.abs(gyr), 99))
        shake = float(np.nanpercentile(np.abs(np.linalg.norm(acc, axis=1) - C.GRAVITY), 99))
    if 0.0 < gyr_p99 < 0.35 and shake > 5.0:
        raise ImportFormatError(
            f"{path}: angular rate read as {gyr_unit!r} stays below {gyr_p99:.2f} rad/s (99th percentile) "
            "while the acceleration shows movement; the file is probably in rad/s (pass gyr_unit='rad/s')"
        )


def _check_rate(path: Path, t: np.ndarray, time_unit: str, factor: float) -> None:
    """Catch a wrong time unit (ms read as s, us read as ms): the sample rate comes out far from any sensor's."""
    dt = np.diff(t) if t.size > 10 else np.empty(0)
    dt = dt[dt > 0]
    if dt.size == 0:
        if t.size > 10:
            raise ImportFormatError(f"{path}: the time column does not advance (every row says {t[0]:g} s)")
        return
    rate = 1.0 / float(np.median(dt))
    if 1.0 <= rate <= 10_000.0:
        return
    likely = min(TIME_UNITS, key=lambda u: abs(math.log10(rate * factor / TIME_UNITS[u] / 200.0)))
    raise ImportFormatError(
        f"{path}: time read as {time_unit!r} gives {rate:.3g} samples per second, not a sensor's rate; "
        f"the time column is probably in {likely!r} (pass time_unit={likely!r})"
    )


def _parse_datetime(values: pd.Series, path: Path, column: str) -> tuple[np.ndarray, bool]:
    """Date-time text -> (seconds, absolute); time-of-day only gives relative seconds (wraps at midnight)."""
    text = values.astype(str).str.strip()
    if text.str.fullmatch(r"\d{1,2}:\d{2}:\d{2}(\.\d+)?").all():
        parts = text.str.split(":", expand=True).astype(float)
        secs = (parts[0] * 3600 + parts[1] * 60 + parts[2]).to_numpy()
        wraps = np.concatenate([[0], np.cumsum(np.diff(secs) < -43200)])
        return secs + 86400.0 * wraps, False
    try:
        stamps = pd.to_datetime(text, format="mixed")
    except (ValueError, TypeError) as exc:
        raise ImportFormatError(f"{path}: column {column!r} is not a date-time ({str(exc)[:80]})") from None
    if stamps.dt.tz is None:
        stamps = stamps.dt.tz_localize(UTC)  # local time of the phone; only differences matter across sides
    secs = (stamps - pd.Timestamp("1970-01-01", tz=UTC)).dt.total_seconds().to_numpy()
    return secs, True


def _side_of(time_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sort by time (stable) and drop rows whose time is not finite."""
    ok = np.isfinite(time_s)
    time_s, acc, gyr = time_s[ok], acc[ok], gyr[ok]
    if time_s.size > 1 and np.any(np.diff(time_s) < 0):
        order = np.argsort(time_s, kind="stable")
        time_s, acc, gyr = time_s[order], acc[order], gyr[order]
    return time_s, acc, gyr


# --- generic CSV --------------------------------------------------------------------------------------------
def read_csv_side(
    path: PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    time_unit: str = "s",
    sample_rate_hz: float | None = None,
    acc_unit: str = "m/s^2",
    gyr_unit: str = "rad/s",
    sep: str | None = None,
    frame: pd.DataFrame | None = None,
) -> SideRecording:
    """Read one sensor's samples from a CSV with a column mapping (see :func:`import_csv`)."""
    path = Path(path)
    mapping = {name: name for name in C.SAMPLE_COLS} | dict(columns or {})
    unknown = set(mapping) - set(C.SAMPLE_COLS)
    if unknown:
        raise ImportFormatError(f"columns= maps unknown name(s) {sorted(unknown)}; use {', '.join(C.SAMPLE_COLS)}")
    acc_factor = _unit_factor(acc_unit, ACC_UNITS, "acceleration")
    gyr_factor = _unit_factor(gyr_unit, GYR_UNITS, "angular rate")
    if frame is None:
        frame = _read_table(path, sep=sep)
    if len(frame) == 0:
        raise ImportFormatError(f"{path}: the table has a header but no samples")
    hint = "; map the file's names with columns={'acc_x': 'AccX', ...}"
    _require(frame, [mapping[c] for c in C.ACC_SF], path, hint)
    acc = np.column_stack([_numeric(frame, mapping[c], path) for c in C.ACC_SF]) * acc_factor
    gyr_cols = [mapping[c] for c in C.GYR_SF]
    if any(c in frame.columns for c in gyr_cols) or columns and any(k in columns for k in C.GYR_SF):
        _require(frame, gyr_cols, path, hint)
        gyr = np.column_stack([_numeric(frame, c, path) for c in gyr_cols]) * gyr_factor
    else:
        gyr = np.full_like(acc, np.nan)  # accelerometer-only file
    time_col = mapping[C.TIME]
    absolute = False
    if time_col in frame.columns:
        if time_unit == "datetime":
            t, absolute = _parse_datetime(frame[time_col], path, time_col)
        else:
            t = _numeric(frame, time_col, path) * _unit_factor(time_unit, TIME_UNITS, "time")
    elif sample_rate_hz:
        t = np.arange(len(frame)) / float(sample_rate_hz)
    else:
        raise ImportFormatError(
            f"{path}: no time column {time_col!r} and no sample rate; pass columns={{'time_s': ...}} "
            "or sample_rate_hz=..."
        )
    t, acc, gyr = _side_of(t, acc, gyr)
    if not np.isfinite(acc).all(axis=1).any():
        raise ImportFormatError(f"{path}: no row has all three acceleration values ({len(frame)} rows read)")
    _check_units(path, acc, gyr, acc_unit, gyr_unit)
    _check_declared_deg(path, acc, gyr, gyr_unit)
    if time_col in frame.columns and time_unit != "datetime":
        _check_rate(path, t, time_unit, _unit_factor(time_unit, TIME_UNITS, "time"))
    return SideRecording(t, acc, gyr, absolute=absolute, info={"file": path.name, "format": "csv"})


def import_csv(
    path: PathLike | None = None,
    *,
    left: PathLike | None = None,
    right: PathLike | None = None,
    side: str | None = None,
    side_column: str | None = None,
    columns: Mapping[str, str] | None = None,
    time_unit: str = "s",
    sample_rate_hz: float | None = None,
    acc_unit: str = "m/s^2",
    gyr_unit: str = "rad/s",
    sep: str | None = None,
    placement: str | Mapping[str, str] = "shank",
    **session_kwargs: Any,
) -> Session:
    """Import a generic CSV recording into a Session.

    Three shapes are accepted: one file per side (``left=``, ``right=``); one file for one side
    (``import_csv(path, side="left")``); one file holding both sides with a ``side_column`` whose values are
    ``left``/``right`` (or ``L``/``R``).

    Parameters
    ----------
    columns
        Our name -> the file's column name, for any of ``time_s, acc_x .. gyr_z`` that the file spells
        differently. Without gyroscope columns the session is accelerometer-only.
    time_unit
        Unit of the time column: ``s``, ``ms``, ``us``, ``ns`` or ``datetime`` (ISO text or ``HH:MM:SS.fff``).
    sample_rate_hz
        Used when the file has no time column (samples are then taken as equally spaced).
    acc_unit, gyr_unit
        ``m/s^2``, ``g`` or ``mg``; ``rad/s`` or ``deg/s``. A declaration that does not fit the data (gravity
        far from 9.8 m/s², rates above 60 rad/s) is an :class:`ImportFormatError`.
    placement, session_kwargs
        Passed to :meth:`Session.from_arrays` (``label``, ``subject``, ``load_kg``, ``sensor_model``, ...).

    Examples
    --------
    >>> session = import_csv(left="l.csv", right="r.csv", columns={"time_s": "t_ms"}, time_unit="ms",
    ...                      acc_unit="g", gyr_unit="deg/s", label="unweighted")  # doctest: +SKIP
    """
    opts = dict(
        columns=columns,
        time_unit=time_unit,
        sample_rate_hz=sample_rate_hz,
        acc_unit=acc_unit,
        gyr_unit=gyr_unit,
        sep=sep,
    )
    sides: dict[str, SideRecording] = {}
    if path is not None:
        if left is not None or right is not None:
            raise ImportFormatError("give either a path (with side= or side_column=) or left=/right=, not both")
        path = Path(path)
        if side_column:
            frame = _read_table(path, sep=sep)
            _require(frame, [side_column], path)
            labels = frame[side_column].astype(str).str.strip().str.lower()
            labels = labels.replace({"l": "left", "r": "right"})
            bad = sorted(set(labels) - set(C.SIDES))
            if bad:
                raise ImportFormatError(
                    f"{path}: column {side_column!r} has value(s) {bad[:5]}; expected left/right (or L/R)"
                )
            for s in C.SIDES:
                part = frame[labels.to_numpy() == s].reset_index(drop=True)
                if len(part):
                    sides[s] = read_csv_side(path, frame=part, **opts)
        elif side in C.SIDES:
            sides[side] = read_csv_side(path, **opts)
        else:
            raise ImportFormatError(
                f"{path}: say which ankle the file is from (side='left' or 'right') or name the column "
                "that does (side_column=...)"
            )
    else:
        for s, p in (("left", left), ("right", right)):
            if p is not None:
                sides[s] = read_csv_side(p, **opts)
    if not sides:
        raise ImportFormatError("give a file: import_csv(path, side=...) or import_csv(left=..., right=...)")
    return _to_session(sides, "csv", placement=placement, **session_kwargs)


# --- Movella DOT --------------------------------------------------------------------------------------------
_DOT_ACC = ("Acc_X", "Acc_Y", "Acc_Z")
_DOT_GYR = ("Gyr_X", "Gyr_Y", "Gyr_Z")
_DOT_WRAP = 2**32  # SampleTimeFine is an unsigned 32-bit microsecond counter


def read_movella_dot(path: PathLike) -> SideRecording:
    """Read one Movella DOT app CSV export (one file per sensor).

    Layout followed (Movella DOT app / Movella DOT SDK ``XsensDotLogger``, as in public copies of the SDK's
    logger and of app exports): an optional ``sep=,`` line; ``Key:,value`` header lines (``DeviceTag``,
    ``FirmwareVersion``, ``AppVersion``, ``SyncStatus``, ``OutputRate``, ``FilterProfile``, ``Measurement
    Mode``, ``StartTime``) and a copyright line; a blank line; then the column row
    ``PacketCounter,SampleTimeFine,...``. The importer needs ``Acc_X..Z`` (calibrated acceleration, m/s²) and
    ``Gyr_X..Z`` (angular velocity, deg/s), i.e. a "rate quantities" or custom mode that exports them;
    ``SampleTimeFine`` is the sensor clock in µs (unsigned 32-bit, wraps after ~71.6 min; unwrapped here).

    The units are those of the Movella DOT BLE Services Specification (XD0506P rev. C: m/s² and °/s, as
    ``devices/protocols/movella_dot.py`` decodes them). Unverified: that the app writes them unchanged was not
    checked against a file from the current app; the ``StartTime`` format differs between app versions and is
    kept as text.
    """
    path = Path(path)
    if not path.exists():
        raise ImportFormatError(f"{path}: no such file")
    header: dict[str, str] = {}
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        for i, line in enumerate(fh):
            stripped = line.strip()
            if stripped.startswith("PacketCounter") or stripped.startswith("SampleTimeFine"):
                data_row = i
                break
            if ":" in stripped and "," in stripped:
                key, _, value = stripped.partition(",")
                header[key.rstrip(": ").strip()] = value.split(",")[0].strip()
            if i > 60:
                data_row = -1
                break
        else:
            data_row = -1
    if data_row < 0:
        raise ImportFormatError(
            f"{path}: not a Movella DOT export (no 'PacketCounter,SampleTimeFine,...' column row near the top)"
        )
    frame = _read_table(path, skiprows=data_row, sep=",")
    if len(frame) == 0:
        raise ImportFormatError(f"{path}: the export has a header but no samples")
    mode = header.get("Measurement Mode", "")
    if not all(c in frame.columns for c in _DOT_ACC):
        raise ImportFormatError(
            f"{path}: this Movella DOT export has no Acc_X/Acc_Y/Acc_Z"
            + (f" (measurement mode {mode!r})" if mode else "")
            + "; record in a mode that outputs calibrated acceleration and angular velocity"
            + " (e.g. rate quantities)"
        )
    acc = np.column_stack([_numeric(frame, c, path) for c in _DOT_ACC])
    if all(c in frame.columns for c in _DOT_GYR):
        gyr = np.column_stack([_numeric(frame, c, path) for c in _DOT_GYR]) * GYR_UNITS["deg/s"]
    else:
        gyr = np.full_like(acc, np.nan)
    synced = header.get("SyncStatus", "").lower() == "synced"
    if "SampleTimeFine" in frame.columns and frame["SampleTimeFine"].notna().all():
        stf = _numeric(frame, "SampleTimeFine", path)
        steps = np.diff(stf)
        stf = stf + _DOT_WRAP * np.concatenate([[0], np.cumsum(steps < -_DOT_WRAP / 2)])
        t = stf * 1e-6
    else:
        rate = _rate_from_text(header.get("OutputRate", ""))
        if not rate:
            raise ImportFormatError(f"{path}: no SampleTimeFine values and no OutputRate header to time the samples")
        t = np.arange(len(frame)) / rate
        synced = False
    t, acc, gyr = _side_of(t, acc, gyr)
    _check_units(path, acc, gyr, "m/s^2", "deg/s")
    info = {
        "file": path.name,
        "format": "movella_dot",
        "device_tag": header.get("DeviceTag", ""),
        "measurement_mode": mode,
        "output_rate": header.get("OutputRate", ""),
        "filter_profile": header.get("FilterProfile", ""),
        "sync_status": header.get("SyncStatus", ""),
        "vendor_start_time": header.get("StartTime", ""),
        "app_version": header.get("AppVersion", ""),
    }
    return SideRecording(
        t,
        acc,
        gyr,
        synced=synced,
        sensor_model="Movella DOT",
        firmware=header.get("FirmwareVersion", ""),
        info=info,
    )


def _rate_from_text(text: str) -> float | None:
    m = re.search(r"([0-9]*\.?[0-9]+)", text)
    return float(m.group(1)) if m else None


def import_movella_dot(left: PathLike | None = None, right: PathLike | None = None, **session_kwargs: Any) -> Session:
    """Import Movella DOT app CSV exports (one per ankle) into a Session; see :func:`read_movella_dot`.

    The two ankles keep a common time origin when both exports say ``SyncStatus: Synced`` (the DOT sync puts
    the sensor clocks on one time base); otherwise each starts at 0.
    """
    sides = {s: read_movella_dot(p) for s, p in (("left", left), ("right", right)) if p is not None}
    return _to_session(sides, "movella_dot", **session_kwargs)


# --- WitMotion ----------------------------------------------------------------------------------------------
_WIT_ACC = ("Acceleration X(g)", "Acceleration Y(g)", "Acceleration Z(g)")
_WIT_GYR = ("Angular velocity X(°/s)", "Angular velocity Y(°/s)", "Angular velocity Z(°/s)")
_WIT_ACC_OLD = ("AccX(g)", "AccY(g)", "AccZ(g)")
_WIT_GYR_OLD = ("AsX(°/s)", "AsY(°/s)", "AsZ(°/s)")
_WIT_DEVICE = "Device name"


def read_witmotion(path: PathLike, device: str | None = None) -> SideRecording:
    """Read one sensor's samples from a WitMotion app / PC software CSV recording.

    Layout followed (as in public recordings made with the WitMotion software, e.g. the ``data_0.csv`` files
    of the IMU Sitting Postures dataset recorded with WT901BLECL sensors): comma- or tab-separated with
    columns ``Time``, ``Device name``, ``Chip Time()``, ``Acceleration X(g)`` .. ``Z(g)``, ``Angular velocity
    X(°/s)`` .. ``Z(°/s)``, then angles, magnetic field, temperature and quaternions, which are ignored.
    Several sensors may share one file, one row each per time step, told apart by ``Device name``: pass
    ``device=`` (a name or a unique part of it, e.g. the MAC address) to pick one. Time comes from ``Chip
    Time()`` (sensor clock, date and time) when present, else from ``Time`` (``HH:MM:SS.fff`` or a date-time).

    Unverified: WitMotion publishes no specification of this file; the layout is taken from public recordings.
    The older PC-software header ``AccX(g) .. AsX(°/s)`` is accepted too.
    """
    path = Path(path)
    frame = _read_table(path)
    if all(c in frame.columns for c in _WIT_ACC):
        acc_cols, gyr_cols = _WIT_ACC, _WIT_GYR
    elif all(c in frame.columns for c in _WIT_ACC_OLD):
        acc_cols, gyr_cols = _WIT_ACC_OLD, _WIT_GYR_OLD
    else:
        _require(frame, _WIT_ACC, path, " (expected a WitMotion recording with acceleration in g)")
        raise AssertionError  # unreachable: _require raised
    if _WIT_DEVICE in frame.columns:
        names = frame[_WIT_DEVICE].astype(str).str.strip()
        found = list(dict.fromkeys(names))
        if device is not None:
            match = [n for n in found if device == n or device.lower() in n.lower()]
            if len(match) != 1:
                raise ImportFormatError(
                    f"{path}: device {device!r} matches {len(match)} of the sensors in the file ({', '.join(found)})"
                )
            frame = frame[(names == match[0]).to_numpy()].reset_index(drop=True)
            device = match[0]
        elif len(found) > 1:
            raise ImportFormatError(
                f"{path}: the file holds {len(found)} sensors ({', '.join(found)}); pick one with devices="
            )
        else:
            device = found[0] if found else ""
    if len(frame) == 0:
        raise ImportFormatError(f"{path}: the recording has a header but no samples")
    acc = np.column_stack([_numeric(frame, c, path) for c in acc_cols]) * C.GRAVITY
    if all(c in frame.columns for c in gyr_cols):
        gyr = np.column_stack([_numeric(frame, c, path) for c in gyr_cols]) * GYR_UNITS["deg/s"]
    else:
        gyr = np.full_like(acc, np.nan)
    time_col = next((c for c in ("Chip Time()", "Chip Time", "Time", "time") if c in frame.columns), None)
    if time_col is None:
        raise ImportFormatError(f"{path}: no 'Chip Time()' or 'Time' column to time the samples")
    t, absolute = _parse_datetime(frame[time_col], path, time_col)
    t, acc, gyr = _side_of(t, acc, gyr)
    _check_units(path, acc, gyr, "g", "deg/s")
    model = re.sub(r"\(.*\)$", "", device or "").strip() or "WitMotion"
    info = {"file": path.name, "format": "witmotion", "device": device or "", "time_column": time_col}
    return SideRecording(t, acc, gyr, absolute=absolute, synced=not absolute, sensor_model=model, info=info)


def import_witmotion(
    left: PathLike | None = None,
    right: PathLike | None = None,
    *,
    devices: Mapping[str, str] | None = None,
    **session_kwargs: Any,
) -> Session:
    """Import WitMotion CSV recordings into a Session; see :func:`read_witmotion`.

    ``left``/``right`` are files (the same file twice when one recording holds both sensors); ``devices`` maps
    ``"left"``/``"right"`` to the ``Device name`` (or a unique part, such as the MAC address) to take from it.
    """
    devices = dict(devices or {})
    sides = {s: read_witmotion(p, devices.get(s)) for s, p in (("left", left), ("right", right)) if p is not None}
    return _to_session(sides, "witmotion", **session_kwargs)


# --- MbientLab MetaBase -------------------------------------------------------------------------------------
_MB_EPOCH = re.compile(r"^epoch? \(ms\)$")
_MB_ELAPSED = "elapsed (s)"
_MB_AXES = ("x-axis", "y-axis", "z-axis")


def _metabase_one(path: Path, unit_table: Mapping[str, float], what: str) -> tuple[np.ndarray, np.ndarray, bool]:
    frame = _read_table(path, sep=",")
    if len(frame) == 0:
        raise ImportFormatError(f"{path}: the export has a header but no samples")
    axis_cols = []
    unit = None
    for ax in _MB_AXES:
        col = next((c for c in frame.columns if c.startswith(ax + " (")), None)
        if col is None:
            _require(frame, [f"{ax} (...)"], path, f" (expected a MetaBase {what} export)")
        axis_cols.append(col)
        unit = col[len(ax) + 2 : -1]
    factor = unit_table.get(str(unit).lower())
    if factor is None:
        raise ImportFormatError(
            f"{path}: {what} column unit {unit!r} is not one of {', '.join(unit_table)} (is this the {what} file?)"
        )
    values = np.column_stack([_numeric(frame, c, path) for c in axis_cols]) * factor
    epoch = next((c for c in frame.columns if _MB_EPOCH.match(c)), None)
    if epoch is not None:
        return _numeric(frame, epoch, path) * 1e-3, values, True
    if _MB_ELAPSED in frame.columns:
        return _numeric(frame, _MB_ELAPSED, path), values, False
    raise ImportFormatError(f"{path}: no 'epoch (ms)' or 'elapsed (s)' column to time the samples")


def read_metabase(accelerometer: PathLike, gyroscope: PathLike | None = None) -> SideRecording:
    """Read one MetaMotion sensor from its MetaBase accelerometer CSV and (optionally) its gyroscope CSV.

    Layout followed (MetaBase app exports, as in MbientLab's tutorials and public code that reads or writes
    them): one CSV per sensor stream, named ``..._Accelerometer.csv`` / ``..._Gyroscope.csv``, with columns
    ``epoch (ms)``, ``time (<UTC offset>)``, ``elapsed (s)``, ``x-axis (g)``, ``y-axis (g)``, ``z-axis (g)``
    (gyroscope: ``x-axis (deg/s)`` ..). Older app versions write ``epoc (ms)`` and ``timestamp (<offset>)``;
    both are accepted. The gyroscope is resampled (linear interpolation) onto the accelerometer's timestamps,
    over the span both streams cover. When ``gyroscope`` is None the file beside the accelerometer's with
    ``Gyroscope`` in place of ``Accelerometer`` in its name is used if it exists.

    Unverified: MbientLab documents the app, not the CSV columns; the header is taken from public exports.
    """
    acc_path = Path(accelerometer)
    if gyroscope is None and "Accelerometer" in acc_path.name:
        guess = acc_path.with_name(acc_path.name.replace("Accelerometer", "Gyroscope"))
        gyroscope = guess if guess.exists() else None
    t, acc, absolute = _metabase_one(acc_path, ACC_UNITS, "accelerometer")
    info: dict[str, Any] = {"file": acc_path.name, "format": "metabase"}
    if gyroscope is not None:
        gyr_path = Path(gyroscope)
        tg, gyr_raw, absolute_g = _metabase_one(gyr_path, GYR_UNITS, "gyroscope")
        if absolute_g != absolute:
            raise ImportFormatError(f"{gyr_path}: its clock (epoch vs elapsed) differs from {acc_path.name}'s")
        order = np.argsort(tg, kind="stable")
        tg, gyr_raw = tg[order], gyr_raw[order]
        t, acc, _ = _side_of(t, acc, acc)
        keep = (t >= tg[0]) & (t <= tg[-1])
        if not keep.any():
            raise ImportFormatError(f"{gyr_path}: the gyroscope and accelerometer recordings do not overlap in time")
        t, acc = t[keep], acc[keep]
        gyr = np.column_stack([np.interp(t, tg, gyr_raw[:, k]) for k in range(3)])
        info["gyroscope_file"] = gyr_path.name
    else:
        gyr = np.full_like(acc, np.nan)
    t, acc, gyr = _side_of(t, acc, gyr)
    _check_units(acc_path, acc, gyr, "g", "deg/s")
    return SideRecording(t, acc, gyr, absolute=absolute, sensor_model="MbientLab MetaMotion", info=info)


def import_metabase(
    left: PathLike | tuple[PathLike, PathLike] | None = None,
    right: PathLike | tuple[PathLike, PathLike] | None = None,
    **session_kwargs: Any,
) -> Session:
    """Import MetaBase exports into a Session; each side is ``(accelerometer_csv, gyroscope_csv)`` or the
    accelerometer CSV alone (its gyroscope file is then found by name). See :func:`read_metabase`."""
    sides = {}
    for s, p in (("left", left), ("right", right)):
        if p is None:
            continue
        sides[s] = read_metabase(*p) if isinstance(p, tuple | list) else read_metabase(p)
    return _to_session(sides, "metabase", **session_kwargs)


# --- auto-detection -----------------------------------------------------------------------------------------
def detect_vendor(path: PathLike) -> str:
    """``"movella_dot"``, ``"witmotion"``, ``"metabase"`` or ``"csv"`` (anything else), from the header."""
    path = Path(path)
    if not path.exists():
        raise ImportFormatError(f"{path}: no such file")
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        head = "".join(fh.readline() for _ in range(30))
    if "PacketCounter" in head and "SampleTimeFine" in head:
        return "movella_dot"
    if "Acceleration X(g)" in head or "AccX(g)" in head:
        return "witmotion"
    if re.search(r"epoch? \(ms\)", head) and "x-axis (" in head:
        return "metabase"
    return "csv"


def import_sensor_csv(left: PathLike | None = None, right: PathLike | None = None, **session_kwargs: Any) -> Session:
    """Import vendor exports whose layout is recognised from the header (Movella DOT, WitMotion, MetaBase)."""
    given = [p for p in (left, right) if p is not None]
    if not given:
        raise ImportFormatError("give a file for at least one side (left=... and/or right=...)")
    vendors = {detect_vendor(p) for p in given}
    if len(vendors) > 1:
        raise ImportFormatError(f"the two files are of different layouts ({', '.join(sorted(vendors))})")
    vendor = vendors.pop()
    if vendor == "movella_dot":
        return import_movella_dot(left, right, **session_kwargs)
    if vendor == "witmotion":
        return import_witmotion(left, right, **session_kwargs)
    if vendor == "metabase":
        return import_metabase(left, right, **session_kwargs)
    raise ImportFormatError(
        f"{given[0]}: not a Movella DOT, WitMotion or MetaBase export; use import_csv with a column mapping"
    )


# --- to a session -------------------------------------------------------------------------------------------
def _to_session(
    sides: Mapping[str, SideRecording],
    fmt: str,
    *,
    placement: str | Mapping[str, str] = "shank",
    **kwargs: Any,
) -> Session:
    if not sides:
        raise ImportFormatError("give a file for at least one side (left=... and/or right=...)")
    recs = list(sides.values())
    common = len(recs) > 1 and (all(r.absolute for r in recs) or all(r.synced and not r.absolute for r in recs))
    origin = min(float(r.time_s[0]) for r in recs if r.time_s.size) if common else None
    arrays = {}
    for s, r in sides.items():
        if r.time_s.size == 0:
            raise ImportFormatError(f"{r.info.get('file', s)}: no samples with a valid time")
        t0 = origin if origin is not None else float(r.time_s[0])
        arrays[s] = {"t": r.time_s - t0, "acc": r.acc, "gyr": r.gyr}
    start_time = kwargs.pop("start_time", None)
    abs_starts = [r.time_s[0] for r in recs if r.absolute]
    if start_time is None and abs_starts:
        start_time = datetime.fromtimestamp(min(abs_starts), UTC).isoformat(timespec="milliseconds")
    extra = dict(kwargs.pop("extra", None) or {})
    extra["import"] = {
        "format": fmt,
        "clock_aligned": bool(common) or len(recs) == 1,
        "sides": {s: r.info for s, r in sides.items()},
    }
    models = {s: r.sensor_model for s, r in sides.items() if r.sensor_model}
    firmware = {s: r.firmware for s, r in sides.items() if r.firmware}
    kwargs.setdefault("sensor_model", models or None)
    kwargs.setdefault("firmware", firmware or None)
    try:
        return Session.from_arrays(
            **arrays, placement=placement, start_time=start_time, extra=extra, check_units=False, **kwargs
        )
    except ValueError as exc:
        if isinstance(exc, GaitError):
            raise
        raise ImportFormatError(str(exc)) from None
