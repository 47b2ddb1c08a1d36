"""A recording session: validated metadata plus per-side IMU samples, saved as one Parquet file.

The file is a plain Parquet table (``side``, ``time_s``, ``acc_x .. gyr_z``; float64, so saving is lossless) that
pandas, pyarrow, DuckDB or R read directly; the metadata travel as JSON in the file's key-value metadata under
``gait.session``. Samples are always in raw sensor axes (alignment is the analysis engine's job), acc in m/s², gyr in
rad/s, time in seconds.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait import conventions as C
from gait.errors import SessionFileError

SideData = Mapping[str, Any] | pd.DataFrame


@dataclass
class SessionMeta:
    """What a session is about. Per-side fields are dicts keyed by ``"left"``/``"right"``."""

    session_id: str = ""
    start_time: str = ""  # ISO 8601, UTC
    subject: str = ""
    label: str = ""  # e.g. "unweighted", "weighted"
    load_kg: dict[str, float] = field(default_factory=dict)  # added mass per ankle
    placement: dict[str, str] = field(default_factory=dict)  # "shank" or "foot"
    sensor_model: dict[str, str] = field(default_factory=dict)
    sample_rate_hz: dict[str, float] = field(default_factory=dict)  # nominal
    firmware: dict[str, str] = field(default_factory=dict)
    notes: str = ""
    gaps: dict[str, list[list[float]]] = field(default_factory=dict)  # [start_s, end_s] of missing data
    extra: dict[str, Any] = field(default_factory=dict)  # anything JSON: clock fits, footpod reference, truth...
    sides: list[str] = field(default_factory=list)  # sides with a sensor (kept even when a side has no samples)
    format_version: int = C.SESSION_FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, allow_nan=True)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SessionMeta:
        known = {f.name for f in fields(cls)}
        meta = cls(**{k: v for k, v in d.items() if k in known})
        unknown = {k: v for k, v in d.items() if k not in known}
        if unknown:  # keep what a newer minor writer added instead of dropping it
            meta.extra = {**meta.extra, "_unknown_meta": unknown}
        return meta

    @property
    def total_load_kg(self) -> float:
        return float(sum(self.load_kg.values()))

    @property
    def clocks_aligned(self) -> bool:
        """Whether both sides are known to share one time base (to well under a step).

        True for a ``gait record`` session (every sensor clock fitted to the host clock), an import whose sides
        have synchronised or absolute clocks, or a session whose maker set ``extra["clocks_aligned"]`` (e.g. a
        dataset with one packet counter for both feet). The analysis then never moves one side by whole strides.
        """
        e = self.extra or {}
        if "clocks_aligned" in e:
            return bool(e["clocks_aligned"])
        if "acquisition" in e:
            return True
        imp = e.get("import")
        return bool(imp.get("clock_aligned")) if isinstance(imp, Mapping) else False


def _per_side(value: Any, sides: tuple[str, ...], name: str, cast: type) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        bad = set(value) - set(C.SIDES)
        if bad:
            raise ValueError(f"{name}: unknown side(s) {sorted(bad)}; use 'left' and 'right'")
        return {s: cast(v) for s, v in value.items()}
    return {s: cast(value) for s in sides}


def _side_frame(side: str, data: SideData, sample_rate_hz: float | None, check_units: bool) -> pd.DataFrame:
    """Turn ``dict(t=..., acc=(n,3), gyr=(n,3))`` (or a DataFrame in the session layout) into the session layout."""
    if isinstance(data, pd.DataFrame):
        missing = [c for c in C.SAMPLE_COLS if c not in data.columns and c != C.TIME]
        if missing:
            raise ValueError(f"{side}: missing columns {missing}; expected {list(C.SAMPLE_COLS)}")
        acc = data[list(C.ACC_SF)].to_numpy(float)
        gyr = data[list(C.GYR_SF)].to_numpy(float)
        t = data[C.TIME].to_numpy(float) if C.TIME in data.columns else None
    else:
        unknown = set(data) - {"t", "acc", "gyr"}
        if unknown:
            raise ValueError(f"{side}: unknown key(s) {sorted(unknown)}; expected t, acc and gyr")
        if "acc" not in data:
            raise ValueError(f"{side}: 'acc' is required (an (n, 3) array in m/s²)")
        acc = np.asarray(data["acc"], dtype=float)
        gyr = data.get("gyr")
        gyr = np.full_like(acc, np.nan) if gyr is None else np.asarray(gyr, dtype=float)
        t = None if data.get("t") is None else np.asarray(data["t"], dtype=float)
    if acc.ndim != 2 or acc.shape[1] != 3:
        raise ValueError(f"{side}: acc must have shape (n, 3), got {acc.shape}")
    if gyr.shape != acc.shape:
        raise ValueError(f"{side}: gyr must have the same shape as acc {acc.shape}, got {gyr.shape}")
    n = acc.shape[0]
    if t is None:
        if not sample_rate_hz:
            raise ValueError(f"{side}: give a time array 't' or the sample rate")
        t = np.arange(n) / float(sample_rate_hz)
    if t.shape != (n,):
        raise ValueError(f"{side}: t must have shape ({n},) like acc, got {t.shape}")
    if n > 1 and np.any(np.diff(t) < 0):
        raise ValueError(f"{side}: time goes backwards; sort the samples by time first")
    if n and not np.isfinite(acc).any():
        raise ValueError(f"{side}: the acceleration has no numbers (all NaN); check the file or leave this side out")
    if check_units and n > 10:
        _check_units(side, acc, gyr)
    frame = pd.DataFrame(
        np.column_stack([t, acc, gyr]), columns=list(C.SAMPLE_COLS), copy=False
    )
    return frame


def _check_units(side: str, acc: np.ndarray, gyr: np.ndarray) -> None:
    """Catch the two usual unit mistakes (acc in g, gyr in deg/s) with a message that says what to do."""
    with np.errstate(invalid="ignore"):
        acc_norm = np.nanmedian(np.linalg.norm(acc, axis=1))
        gyr_p99 = np.nanpercentile(np.abs(gyr), 99) if np.isfinite(gyr).any() else 0.0
    if np.isfinite(acc_norm) and acc_norm < 2.5:
        raise ValueError(
            f"{side}: acceleration looks like it is in g (median magnitude {acc_norm:.2f}); "
            "multiply by 9.80665 to give m/s²"
        )
    if gyr_p99 > 60.0:
        raise ValueError(
            f"{side}: angular rate looks like it is in deg/s (99th percentile {gyr_p99:.0f}); "
            "multiply by pi/180 to give rad/s"
        )


class Session:
    """Metadata (:class:`SessionMeta`) plus per-side samples (DataFrames ``time_s, acc_x .. gyr_z``).

    Build one with :meth:`from_arrays`, save with :meth:`save`, read with :meth:`load`.
    """

    def __init__(self, meta: SessionMeta, samples: Mapping[str, pd.DataFrame]):
        bad = set(samples) - set(C.SIDES)
        if bad:
            raise ValueError(f"unknown side(s) {sorted(bad)}; use 'left' and 'right'")
        if not samples:
            raise ValueError("a session needs samples from at least one side")
        self.meta = meta
        self.samples = {s: samples[s] for s in C.SIDES if s in samples}
        self.meta.sides = list(self.samples)

    # --- construction ---------------------------------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        left: SideData | None = None,
        right: SideData | None = None,
        *,
        placement: str | Mapping[str, str] = "shank",
        sample_rate_hz: float | Mapping[str, float] | None = None,
        label: str = "",
        load_kg: float | Mapping[str, float] | None = 0.0,
        subject: str = "",
        sensor_model: str | Mapping[str, str] | None = None,
        firmware: str | Mapping[str, str] | None = None,
        start_time: str | datetime | None = None,
        session_id: str | None = None,
        notes: str = "",
        gaps: Mapping[str, list] | None = None,
        extra: Mapping[str, Any] | None = None,
        check_units: bool = True,
    ) -> Session:
        """Build a session from plain arrays in one call.

        Each side is ``dict(t=(n,), acc=(n, 3), gyr=(n, 3))`` in seconds, m/s² and rad/s (raw sensor axes), or a
        DataFrame with ``time_s, acc_x .. gyr_z``. Either side may be omitted. ``t`` may be left out when
        ``sample_rate_hz`` is given; ``gyr`` may be left out (accelerometer-only sensors). Per-side options take a
        single value (both sides) or a ``{"left": ..., "right": ...}`` mapping.
        """
        given = {s: d for s, d in (("left", left), ("right", right)) if d is not None}
        if not given:
            raise ValueError("give samples for at least one side (left=... and/or right=...)")
        sides = tuple(given)
        rates = _per_side(sample_rate_hz, sides, "sample_rate_hz", float)
        samples = {s: _side_frame(s, d, rates.get(s), check_units) for s, d in given.items()}
        for s, frame in samples.items():
            if s not in rates:
                dt = np.diff(frame[C.TIME].to_numpy())
                dt = dt[dt > 0]
                rates[s] = float(round(1.0 / np.median(dt), 3)) if dt.size else float("nan")
        places = _per_side(placement, sides, "placement", str)
        for s, p in places.items():
            if p not in C.PLACEMENTS:
                raise ValueError(f"placement for {s} must be one of {C.PLACEMENTS}, got {p!r}")
        if isinstance(start_time, datetime):
            start_time = start_time.astimezone(UTC).isoformat()
        meta = SessionMeta(
            session_id=session_id or uuid.uuid4().hex[:12],
            start_time=start_time or datetime.now(UTC).isoformat(timespec="seconds"),
            subject=subject,
            label=label,
            load_kg=_per_side(load_kg, sides, "load_kg", float),
            placement=places,
            sensor_model=_per_side(sensor_model, sides, "sensor_model", str),
            sample_rate_hz=rates,
            firmware=_per_side(firmware, sides, "firmware", str),
            notes=notes,
            gaps={s: [list(map(float, g)) for g in v] for s, v in (gaps or {}).items()},
            extra=dict(extra or {}),
            sides=list(sides),
        )
        return cls(meta, samples)

    # --- access ---------------------------------------------------------------------------------------------
    @property
    def sides(self) -> tuple[str, ...]:
        return tuple(self.samples)

    def arrays(self, side: str) -> dict[str, np.ndarray]:
        """``dict(t, acc, gyr)`` of one side as NumPy arrays."""
        if side not in self.samples:
            raise KeyError(f"this session has no {side} sensor (it has: {', '.join(self.sides)})")
        f = self.samples[side]
        return {
            "t": f[C.TIME].to_numpy(),
            "acc": f[list(C.ACC_SF)].to_numpy(),
            "gyr": f[list(C.GYR_SF)].to_numpy(),
        }

    def duration_s(self, side: str | None = None) -> float:
        sides = [side] if side else list(self.sides)
        spans = [
            float(self.samples[s][C.TIME].iloc[-1] - self.samples[s][C.TIME].iloc[0])
            for s in sides
            if len(self.samples[s])
        ]
        return max(spans) if spans else 0.0

    def describe(self) -> str:
        """A short multi-line text: the metadata and one line per side."""
        m = self.meta
        load = ", ".join(f"{s} {v:g} kg" for s, v in m.load_kg.items()) or "none"
        lines = [
            f"session {m.session_id}  started {m.start_time}",
            f"subject {m.subject or '-'}  label {m.label or '-'}  load per ankle: {load}",
        ]
        if m.notes:
            lines.append(f"notes: {m.notes}")
        for s in self.sides:
            f = self.samples[s]
            n = len(f)
            dur = self.duration_s(s)
            acc = f[list(C.ACC_SF)].to_numpy()
            gyr = f[list(C.GYR_SF)].to_numpy()
            acc_med = float(np.nanmedian(np.linalg.norm(acc, axis=1))) if n else math.nan
            has_gyr = bool(np.isfinite(gyr).any())
            gap_s = sum(b - a for a, b in m.gaps.get(s, []))
            lines.append(
                f"{s:>5}: {n} samples, {dur:.1f} s at {m.sample_rate_hz.get(s, math.nan):g} Hz, "
                f"{m.placement.get(s, '?')}, {m.sensor_model.get(s) or 'unknown sensor'}, "
                f"median |acc| {acc_med:.2f} m/s², {'gyro' if has_gyr else 'no gyro'}, "
                f"{len(m.gaps.get(s, []))} gap(s) ({gap_s:.1f} s)"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        parts = ", ".join(f"{s}: {len(f)} samples" for s, f in self.samples.items())
        return f"<Session {self.meta.session_id} {self.meta.label or ''} ({parts})>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Session):
            return NotImplemented
        return (
            self.meta.to_json() == other.meta.to_json()
            and self.sides == other.sides
            and all(self.samples[s].equals(other.samples[s]) for s in self.sides)
        )

    # --- files ----------------------------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """All samples in one long table with a ``side`` column (the on-disk layout)."""
        parts = [f.assign(**{C.SIDE: s}) for s, f in self.samples.items()]
        frame = pd.concat(parts, ignore_index=True)
        return frame[[C.SIDE, *C.SAMPLE_COLS]]

    def save(self, path: str | Path) -> Path:
        """Write the session to one Parquet file (lossless; metadata as JSON in the file's key-value metadata)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        frame = self.to_frame()
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), C.SESSION_METADATA_KEY: self.meta.to_json().encode()}
        )
        tmp = path.with_name(path.name + ".tmp")
        pq.write_table(table, tmp, compression="zstd")
        tmp.replace(path)  # atomic: a crash never leaves a half-written session under the final name
        return path

    @classmethod
    def load(cls, path: str | Path) -> Session:
        """Read a session file; a file that is not a session, is truncated or too new gives a one-line error."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        if not path.exists():
            raise SessionFileError(f"{path}: no such file")
        if path.is_dir():
            raise SessionFileError(f"{path}: is a folder, not a session file")
        try:
            pf = pq.ParquetFile(path)
            raw_meta = (pf.schema_arrow.metadata or {}).get(C.SESSION_METADATA_KEY)
            if raw_meta is None:
                raise SessionFileError(f"{path}: a Parquet file, but not a gait session (no session metadata)")
            meta_dict = json.loads(raw_meta.decode())
            version = int(meta_dict.get("format_version", 0))
            if version > C.SESSION_FORMAT_VERSION:
                raise SessionFileError(
                    f"{path}: written by a newer version of gait (session format {version}; this version reads "
                    f"up to {C.SESSION_FORMAT_VERSION}); update gait to open it"
                )
            table = pf.read()
        except SessionFileError:
            raise
        except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
            what = "truncated or damaged" if path.stat().st_size > 12 else "empty or truncated"
            raise SessionFileError(f"{path}: not a readable session file ({what}: {_short(exc)})") from None
        except (UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError):
            raise SessionFileError(f"{path}: the session metadata is damaged") from None
        frame = table.to_pandas()
        missing = [c for c in (C.SIDE, *C.SAMPLE_COLS) if c not in frame.columns]
        if missing:
            raise SessionFileError(f"{path}: session file lacks column(s) {missing}")
        meta = SessionMeta.from_dict(meta_dict)
        samples = {}
        side_col = frame[C.SIDE].astype(str).to_numpy()
        values = frame[list(C.SAMPLE_COLS)].to_numpy(dtype=float)
        for s in C.SIDES:
            mask = side_col == s
            if mask.any() or s in meta.sides:
                samples[s] = pd.DataFrame(values[mask], columns=list(C.SAMPLE_COLS))
        if not samples:
            raise SessionFileError(f"{path}: the session holds no samples")
        return cls(meta, samples)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def load_session(path: str | Path) -> Session:
    """Shorthand for :meth:`Session.load`."""
    return Session.load(path)
