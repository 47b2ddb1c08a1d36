"""Write analysis results for other tools: CSV/Parquet tables and gaitmap-style stride lists.

Why: a stride table is only useful outside Python if it lands in a format the next tool reads (a spreadsheet,
R, DuckDB), and cross-checking our event detection against *gaitmap* (mad-lab-fau/gaitmap) needs its
stride-list convention: per sensor (``"left_sensor"``, ``"right_sensor"``) a DataFrame indexed by ``s_id``
with ``start`` and ``end`` sample indices and one column per event (``ic``, ``tc``, ``min_vel``, ``pre_ic``),
all sample indices.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from gait import conventions as C
from gait.errors import GaitError

__all__ = [
    "GAITMAP_SENSOR_NAMES",
    "ExportError",
    "export_gaitmap_stride_list",
    "export_result",
    "export_strides",
    "export_summary",
    "export_table",
    "to_gaitmap_stride_list",
]

#: Our side name -> gaitmap's sensor name.
GAITMAP_SENSOR_NAMES = {"left": "left_sensor", "right": "right_sensor"}

_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


class ExportError(GaitError, ValueError):
    """A table that cannot be written in the asked format (wrong columns, unknown file type)."""


def _table_of(obj: Any, attr: str) -> pd.DataFrame:
    if isinstance(obj, pd.DataFrame):
        return obj
    table = getattr(obj, attr, None)
    if not isinstance(table, pd.DataFrame):
        raise ExportError(
            f"expected a DataFrame or an analysis result with .{attr}, got {type(obj).__name__}"
        )
    return table


def export_table(table: pd.DataFrame, path: str | Path, *, fmt: str | None = None) -> Path:
    """Write a DataFrame to CSV or Parquet, chosen by ``fmt`` or the file suffix; returns the path.

    CSV is written without the index (a named index becomes a column first), with ``.`` decimals and NaN as an
    empty field; Parquet keeps dtypes exactly.
    """
    path = Path(path)
    fmt = fmt or _FORMATS.get(path.suffix.lower())
    if fmt not in ("csv", "parquet"):
        raise ExportError(
            f"{path}: cannot tell the format; use a .csv or .parquet name, or fmt='csv'/'parquet'"
        )
    table = table.reset_index() if any(n is not None for n in table.index.names) else table
    if path.is_dir():
        raise ExportError(f"{path}: is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ExportError(f"{path.parent}: cannot be a folder, a file is in the way") from None
    tmp = path.with_name(path.name + ".tmp")
    if fmt == "csv":
        table.to_csv(tmp, index=False)
    else:
        table.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def export_strides(result: Any, path: str | Path, *, fmt: str | None = None) -> Path:
    """Write a stride table (or ``result.strides``) to CSV or Parquet."""
    return export_table(_table_of(result, "strides"), path, fmt=fmt)


def export_summary(result: Any, path: str | Path, *, fmt: str | None = None) -> Path:
    """Write a per-run summary (or ``result.summary``) to CSV or Parquet."""
    return export_table(_table_of(result, "summary"), path, fmt=fmt)


def export_result(result: Any, folder: str | Path, *, fmt: str = "csv", stem: str = "run") -> dict[str, Path]:
    """Write every table of an analysis result (``strides``, ``summary``, ``asymmetry``) into ``folder``.

    Files are named ``<stem>.<table>.<csv|parquet>``; tables the result does not have are skipped.
    """
    folder = Path(folder)
    ext = {"csv": ".csv", "parquet": ".parquet"}.get(fmt)
    if ext is None:
        raise ExportError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    written = {}
    for name in ("strides", "summary", "asymmetry"):
        table = getattr(result, name, None)
        if isinstance(table, pd.DataFrame):
            written[name] = export_table(table, folder / f"{stem}.{name}{ext}", fmt=fmt)
    return written


def _to_samples(times: pd.Series, t0: float, rate: float) -> pd.Series:
    values = np.round((times.to_numpy(dtype=float) - t0) * rate)
    return pd.Series(pd.array(np.where(np.isfinite(values), values, np.nan), dtype="Float64")).astype("Int64")


def to_gaitmap_stride_list(
    strides: Any,
    sample_rate_hz: float | Mapping[str, float],
    *,
    stride_type: Literal["ic", "min_vel"] = "ic",
    t0_s: float | Mapping[str, float] = 0.0,
    valid_only: bool = True,
) -> dict[str, pd.DataFrame]:
    """Our stride table -> gaitmap's multi-sensor stride list (sample indices), to cross-check with gaitmap.

    ``stride_type="ic"`` (gaitmap's "ic" stride list): ``start`` = ``ic`` = initial contact, ``end`` = next
    initial contact of the same foot, ``tc`` = toe-off inside the stride, ``min_vel`` = mid-stance (when the
    stride table has ``mid_stance_time_s``; else missing). ``stride_type="min_vel"`` (gaitmap's default after
    event detection): ``start`` = ``min_vel`` = mid-stance, ``end`` = next stride's mid-stance, ``pre_ic`` =
    the contact before ``start``, ``tc`` and ``ic`` the toe-off and contact inside; it needs
    ``mid_stance_time_s`` and drops the last stride of each bout (its end is unknown), as gaitmap's own
    conversion does.

    Sample index = round((time - t0_s) * sample_rate_hz); with a session, ``t0_s`` is the side's first sample
    time (usually 0). Strides flagged invalid are dropped unless ``valid_only=False``.
    """
    table = _table_of(strides, "strides")
    missing = [c for c in (C.SIDE, C.IC_TIME, C.TO_TIME, C.NEXT_IC_TIME) if c not in table.columns]
    if missing:
        raise ExportError(f"the stride table lacks column(s) {missing}")
    if stride_type not in ("ic", "min_vel"):
        raise ExportError(f"stride_type: allowed values are 'ic' and 'min_vel', but got {stride_type!r}")
    has_ms = C.MID_STANCE_TIME in table.columns
    if stride_type == "min_vel" and not has_ms:
        raise ExportError(
            f"a 'min_vel' stride list needs mid-stance times ({C.MID_STANCE_TIME!r}), which this stride "
            "table "
            "lacks; use stride_type='ic'"
        )
    if valid_only and C.VALID in table.columns:
        table = table[table[C.VALID].fillna(False).astype(bool).to_numpy()]
    out = {}
    for side in C.SIDES:
        part = table[table[C.SIDE].astype(str).to_numpy() == side]
        if C.STRIDE_ID in part.columns:
            part = part.sort_values(C.IC_TIME, kind="stable")
        part = part.reset_index(drop=True)
        rate = float(sample_rate_hz[side] if isinstance(sample_rate_hz, Mapping) else sample_rate_hz)
        t0 = float(t0_s[side] if isinstance(t0_s, Mapping) else t0_s)
        ic = _to_samples(part[C.IC_TIME], t0, rate)
        tc = _to_samples(part[C.TO_TIME], t0, rate)
        next_ic = _to_samples(part[C.NEXT_IC_TIME], t0, rate)
        ms = (
            _to_samples(part[C.MID_STANCE_TIME], t0, rate)
            if has_ms
            else pd.Series(pd.NA, index=part.index, dtype="Int64")
        )
        if stride_type == "ic":
            sl = pd.DataFrame({"start": ic, "end": next_ic, "ic": ic, "tc": tc, "min_vel": ms})
        else:
            # consecutive = the next row starts where this stride ends (same bout, no dropped stride between)
            nxt_ms = ms.shift(-1)
            consecutive = (ic.shift(-1) == next_ic).fillna(False).to_numpy(dtype=bool)
            sl = pd.DataFrame(
                {"start": ms, "end": nxt_ms, "pre_ic": ic, "min_vel": ms, "tc": tc, "ic": next_ic}
            )[consecutive]
        sl = sl.dropna(subset=["start", "end"]).reset_index(drop=True)
        sl.index = pd.RangeIndex(len(sl), name="s_id")
        out[GAITMAP_SENSOR_NAMES[side]] = sl
    return out


def export_gaitmap_stride_list(
    strides: Any,
    path: str | Path,
    sample_rate_hz: float | Mapping[str, float],
    **kwargs: Any,
) -> Path:
    """Write :func:`to_gaitmap_stride_list` as one CSV with a ``sensor`` column (``left_sensor``/
    ``right_sensor``) and ``s_id``, the layout ``pd.concat(stride_list, names=["sensor", "s_id"])`` gives."""
    lists = to_gaitmap_stride_list(strides, sample_rate_hz, **kwargs)
    table = pd.concat(lists, names=["sensor", "s_id"]).reset_index()
    return export_table(table, path)
