"""Analyze a folder of sessions on Dask: one task per session, results as a partitioned Parquet dataset.

Why: a cohort of hundreds or thousands of runs does not fit one process's patience or memory. Each session
file is an independent :mod:`dask.distributed` task that reads its one file, runs the analysis, writes its own
Parquet parts and returns a small status, so memory is bounded by the workers, not by the cohort. A session
that fails is reported with its reason and the rest go on; a re-run skips sessions already done (a manifest
entry per session file, with its size, modification time and content hash).

Output layout (hive-partitioned, readable with ``pd.read_parquet(out / "strides")``, DuckDB, Spark, R arrow)::

    OUT/strides/subject=S01/<key>.parquet   one row per stride: the stride table + session columns
    OUT/runs/subject=S01/<key>.parquet      one row per session (run): metadata + run means of the metrics
    OUT/_manifest/<key>.json                done-marker of one session file (what was written, from what)
    OUT/_failed.csv                         sessions that failed in the last run, with the reason

``key`` is derived from the session file's path relative to the folder. The partition column is ``subject``
(default) or ``label``; the session columns in every row are ``session_id, file, subject, label, load_kg``
(per ankle; in stride rows the load of that stride's side). Run rows add ``start_time, duration_s, placement,
speed_ref_mps`` (the set speed the session carries, NaN if none), ``n_strides, n_valid`` and the mean of every
metric of :data:`gait.conventions.METRICS` over the valid strides.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

import numpy as np
import pandas as pd

from gait import conventions as C
from gait.errors import GaitError

__all__ = [
    "BatchReport",
    "analyze_session_file",
    "find_sessions",
    "read_runs",
    "read_strides",
    "run_batch",
    "run_level_table",
]

Analyzer = Callable[[Any], Any]
PartitionBy = Literal["subject", "label"]

#: Session columns added to every stride and run row.
SESSION_COLS = ("session_id", "file", "subject", "label", "load_kg")
_STRING_COLS = {C.SIDE, C.INVALID_REASON, "session_id", "file", "subject", "label", "start_time", "placement"}
_INT_COLS = {C.STRIDE_ID, C.BOUT_ID, "n_strides", "n_valid"}
#: Folder value for a session without subject (or label): a real string, because pandas cannot read a hive
#: dataset with a null partition (``__HIVE_DEFAULT_PARTITION__``: "Cannot yet unify dictionaries with nulls");
#: :func:`read_runs` / :func:`read_strides` give it back as missing.
_NULL_PARTITION = "(none)"


@dataclass
class BatchReport:
    """What one :func:`run_batch` call did; ``failed`` maps a session file (relative path) to its reason."""

    out: Path
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0
    n_workers: int = 0

    @property
    def n_sessions(self) -> int:
        """Session files found: analyzed, skipped and failed."""
        return len(self.done) + len(self.skipped) + len(self.failed)

    @property
    def sessions_per_s(self) -> float:
        """Sessions analyzed (not skipped) per second of wall time."""
        n = len(self.done) + len(self.failed)
        return n / self.elapsed_s if self.elapsed_s > 0 else math.nan

    def summary(self) -> str:
        """A few lines for a terminal: counts, time, and one line per failed session."""
        workers = f" on {self.n_workers} worker(s)" if self.n_workers else ""
        lines = [
            f"{len(self.done)} analyzed, {len(self.skipped)} already done, {len(self.failed)} failed "
            f"in {self.elapsed_s:.1f} s{workers} -> {self.out}"
        ]
        lines += [f"FAILED {name}: {reason}" for name, reason in sorted(self.failed.items())]
        return "\n".join(lines)


# --- finding sessions and deciding what is done -------------------------------------------------------------
def find_sessions(folder: str | Path, pattern: str = "*.parquet", *, exclude: Iterable[Path] = ()) -> list[Path]:
    """Session files under ``folder`` (recursive) matching ``pattern``, sorted; ``exclude`` skipped."""
    folder = Path(folder)
    if folder.is_file():
        raise GaitError(f"{folder}: is a file; give the folder that holds the session files")
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    skip = [Path(e).resolve() for e in exclude]
    found = []
    for p in folder.rglob(pattern):
        if not p.is_file() or p.name.endswith(".tmp"):
            continue
        rp = p.resolve()
        if any(rp.is_relative_to(s) for s in skip):
            continue
        found.append(p)
    return sorted(found)


def _key(rel: str) -> str:
    stem = Path(rel).name.removesuffix(".parquet").removesuffix(".session")
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)[:40]
    return f"{safe}-{hashlib.blake2b(rel.encode(), digest_size=6).hexdigest()}"


def _file_hash(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _is_done(path: Path, manifest: Path) -> bool:
    """True when the manifest says this file (same size and mtime, or same content hash) was analyzed."""
    if not manifest.exists():
        return False
    try:
        entry = json.loads(manifest.read_text())
        st = path.stat()
    except (OSError, ValueError):
        return False
    if entry.get("size") != st.st_size:
        return False
    if entry.get("mtime_ns") == st.st_mtime_ns:
        return True
    return entry.get("hash") == _file_hash(path)  # touched but unchanged content still counts as done


# --- the task -----------------------------------------------------------------------------------------------
def _partition_dir(value: Any) -> str:
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    return urllib.parse.quote(text or _NULL_PARTITION, safe="")


def _normalize(table: pd.DataFrame) -> pd.DataFrame:
    """Fixed dtypes per column so that every part of the dataset has the same schema."""
    out = {}
    for col in table.columns:
        s = table[col]
        if col in _STRING_COLS:
            out[col] = s.astype("string")
        elif col == C.VALID:
            out[col] = s.astype("boolean")
        elif col in _INT_COLS:
            out[col] = pd.to_numeric(s, errors="coerce").astype("Int64")
        elif pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            out[col] = s.astype("float64") if not pd.api.types.is_bool_dtype(s) else s.astype("boolean")
        else:
            out[col] = s.astype("string")
    return pd.DataFrame(out, index=table.index)


def _load_per_ankle(meta: Any, side: str | None = None) -> float:
    loads = dict(getattr(meta, "load_kg", {}) or {})
    if side is not None and side in loads:
        return float(loads[side])
    return float(np.mean(list(loads.values()))) if loads else 0.0


def _reference_speed(extra: dict[str, Any]) -> float:
    """The set (treadmill / target) speed a session file carries, else NaN: ``extra["speed_ref_mps"]``, or the
    generator's speed of a synthetic session (``extra["synth"]["params"]["speed_mps"]``)."""
    value = extra.get("speed_ref_mps")
    if value is None:
        value = ((extra.get("synth") or {}).get("params") or {}).get("speed_mps")
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def run_level_table(strides: pd.DataFrame, session_info: dict[str, Any]) -> pd.DataFrame:
    """One run row: the session's metadata plus the mean of every metric over the valid strides (both sides).

    ``n_strides``/``n_valid`` count the stride rows; metric columns keep their stride-table names
    (``contact_time_s`` is the run's mean contact time).
    """
    valid = strides
    if C.VALID in strides.columns:
        valid = strides[strides[C.VALID].fillna(False).astype(bool).to_numpy()]
    row: dict[str, Any] = dict(session_info)
    row["n_strides"] = len(strides)
    row["n_valid"] = len(valid)
    for metric in C.METRICS:
        if metric in valid.columns:
            values = pd.to_numeric(valid[metric], errors="coerce")
            row[metric] = float(values.mean()) if values.notna().any() else math.nan
    return pd.DataFrame([row])


def _write_part(table: pd.DataFrame, root: Path, partition_by: str, key: str) -> list[str]:
    """Write ``table`` as one part per partition value under ``root``; paths relative to its parent."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    written = []
    values = table[partition_by].astype("string").fillna("")
    for value in pd.unique(values):
        part = table[(values == value).to_numpy()].drop(columns=[partition_by])
        folder = root / f"{partition_by}={_partition_dir(value)}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{key}.parquet"
        tmp = path.with_name(path.name + ".tmp")
        pq.write_table(pa.Table.from_pandas(_normalize(part), preserve_index=False), tmp)
        tmp.replace(path)
        written.append(str(path.relative_to(root.parent)))
    return written


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def analyze_session_file(
    path: str,
    rel: str,
    out: str,
    partition_by: str = "subject",
    analyzer: Analyzer | None = None,
) -> dict[str, Any]:
    """The Dask task: read one session file, analyze it, write its stride and run parts and manifest entry.

    Never raises for a bad session: returns ``{"file": rel, "status": "failed", "reason": "<one line>"}``; on
    success ``{"file": rel, "status": "done", "n_strides": n, "seconds": s}``. Only this small dict travels
    back to the client.
    """
    t_start = time.perf_counter()
    out_dir = Path(out)
    key = _key(rel)
    manifest = out_dir / "_manifest" / f"{key}.json"
    try:
        from gait.session import Session

        src = Path(path)
        st = src.stat()
        file_hash = _file_hash(src)
        session = Session.load(src)
        if analyzer is None:
            from gait import analyze as analyzer
        result = analyzer(session)
        strides = getattr(result, "strides", result)
        if not isinstance(strides, pd.DataFrame):
            raise TypeError(f"the analyzer returned {type(strides).__name__}, not a result with a stride table")
        meta = session.meta
        info = {
            "session_id": meta.session_id,
            "file": rel,
            "subject": meta.subject,
            "label": meta.label,
            "load_kg": _load_per_ankle(meta),
        }
        stride_rows = strides.reset_index(drop=True).copy()
        for col in ("session_id", "file", "subject", "label"):
            stride_rows[col] = info[col]
        if C.SIDE in stride_rows.columns:
            stride_rows["load_kg"] = [_load_per_ankle(meta, s) for s in stride_rows[C.SIDE].astype(str)]
        else:
            stride_rows["load_kg"] = info["load_kg"]
        run_info = {
            **info,
            "start_time": meta.start_time,
            "duration_s": session.duration_s(),
            "placement": ",".join(sorted(set(meta.placement.values()))),
            "speed_ref_mps": _reference_speed(meta.extra),
        }
        runs = run_level_table(strides, run_info)
        # a re-run of a changed file replaces what its previous version wrote (its partition may have changed)
        if manifest.exists():
            try:
                for old in json.loads(manifest.read_text()).get("parts", []):
                    (out_dir / old).unlink(missing_ok=True)
            except (OSError, ValueError):
                pass
        parts = _write_part(stride_rows, out_dir / "strides", partition_by, key)
        parts += _write_part(runs, out_dir / "runs", partition_by, key)
        entry = {
            "file": rel,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "hash": file_hash,
            "session_id": meta.session_id,
            "subject": meta.subject,
            "label": meta.label,
            "n_strides": len(strides),
            "parts": parts,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        manifest.parent.mkdir(parents=True, exist_ok=True)
        tmp = manifest.with_name(manifest.name + ".tmp")
        tmp.write_text(json.dumps(entry, indent=1))
        tmp.replace(manifest)  # written last: a crash before this leaves the session "not done"
        return {
            "file": rel,
            "status": "done",
            "n_strides": len(strides),
            "seconds": time.perf_counter() - t_start,
        }
    except Exception as exc:  # noqa: BLE001 - a failed session is data to report, not a crash
        reason = _one_line(exc).replace(f"{path}: ", "")  # the report names the file already
        return {"file": rel, "status": "failed", "reason": reason, "seconds": time.perf_counter() - t_start}


# --- progress -----------------------------------------------------------------------------------------------
class _Progress:
    """A one-line bar on a terminal; a plain "n/N" counter line every ~10 % (and at the end) elsewhere."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True):
        self.total, self.n, self.failed = total, 0, 0
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.perf_counter()
        self._next_line = 0

    def update(self, failed: bool) -> None:
        self.n += 1
        self.failed += int(failed)
        if not self.enabled:
            return
        rate = self.n / max(time.perf_counter() - self.t0, 1e-9)
        text = f"{self.n}/{self.total} sessions ({self.failed} failed, {rate:.1f}/s)"
        if self.tty:
            width = 30
            filled = int(width * self.n / self.total)
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {text}")
            if self.n == self.total:
                self.stream.write("\n")
        elif self.n >= self._next_line or self.n == self.total:
            self.stream.write(text + "\n")
            self._next_line = self.n + max(1, self.total // 10)
        self.stream.flush()


# --- driver -------------------------------------------------------------------------------------------------
def run_batch(
    folder: str | Path,
    out: str | Path,
    *,
    scheduler: str | None = None,
    workers: int = 2,
    client: Any = None,
    processes: bool = True,
    analyzer: Analyzer | None = None,
    pattern: str = "*.parquet",
    partition_by: PartitionBy = "subject",
    progress: bool = True,
    progress_stream: TextIO | None = None,
    force: bool = False,
) -> BatchReport:
    """Analyze every session file under ``folder`` on Dask and write the results to the dataset ``out``.

    Parameters
    ----------
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); the cluster is used as it is. Without it a
        ``LocalCluster`` of ``workers`` worker processes (one thread each) is started here and closed at the
        end.
    client
        An existing ``distributed.Client`` to use instead (it is not closed); e.g. in a notebook.
    processes
        Local cluster only: ``False`` runs the workers as threads of this process (quick start, for tests).
    analyzer
        Called with a :class:`~gait.session.Session`; returns a result with ``.strides`` (or a stride table).
        Default :func:`gait.analyze`. It must be importable (or picklable) on the workers.
    partition_by
        ``"subject"`` or ``"label"``: the hive partition column of both datasets.
    progress
        Show a progress bar (a terminal) or a counter line every ~10 % (anything else) on ``progress_stream``.
    force
        Analyze every session again, even those the manifest lists as done.

    Returns
    -------
    BatchReport
        Files analyzed, skipped (already done) and failed (with a one-line reason each).
    """
    if partition_by not in ("subject", "label"):
        raise ValueError(f"partition_by: allowed values are 'subject' and 'label', but got {partition_by!r}")
    t0 = time.perf_counter()
    folder, out = Path(folder), Path(out)
    files = find_sessions(folder, pattern, exclude=[out])
    if out.exists() and not out.is_dir():
        raise GaitError(f"{out}: is a file; the result is a folder (give a new or an earlier result folder)")
    out.mkdir(parents=True, exist_ok=True)
    report = BatchReport(out=out)
    todo = []
    for p in files:
        rel = p.relative_to(folder).as_posix()
        if not force and _is_done(p, out / "_manifest" / f"{_key(rel)}.json"):
            report.skipped.append(rel)
        else:
            todo.append((p, rel))
    if todo:
        _run_tasks(
            todo,
            out,
            report,
            scheduler,
            workers,
            client,
            processes,
            analyzer,
            partition_by,
            progress,
            progress_stream,
        )
    failed_csv = out / "_failed.csv"
    if report.failed:
        pd.DataFrame(sorted(report.failed.items()), columns=["file", "reason"]).to_csv(failed_csv, index=False)
    else:
        failed_csv.unlink(missing_ok=True)
    report.elapsed_s = time.perf_counter() - t0
    return report


def _run_tasks(
    todo: list[tuple[Path, str]],
    out: Path,
    report: BatchReport,
    scheduler: str | None,
    workers: int,
    client: Any,
    processes: bool,
    analyzer: Analyzer | None,
    partition_by: str,
    progress: bool,
    progress_stream: TextIO | None,
) -> None:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    own_client = client is None
    if client is None:
        if scheduler:
            try:
                client = Client(scheduler)
            except (OSError, ValueError) as exc:  # unreachable, timed out, or not an address
                raise GaitError(f"cannot use the Dask scheduler {scheduler}: {_one_line(exc)}") from None
        else:
            if workers < 1:
                raise ValueError(f"workers must be at least 1, got {workers}")
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=processes,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
    try:
        report.n_workers = len(client.scheduler_info(n_workers=-1).get("workers", {})) or workers
        bar = _Progress(len(todo), progress_stream, progress)
        futures = [
            client.submit(
                analyze_session_file,
                str(p.resolve()),
                rel,
                str(out.resolve()),
                partition_by,
                analyzer,
                key=f"gait-session-{_key(rel)}-{os.getpid()}-{time.monotonic_ns()}",
                pure=False,
            )
            for p, rel in todo
        ]
        by_future = dict(zip(futures, (rel for _, rel in todo), strict=True))
        del futures
        for fut in as_completed(list(by_future)):
            rel = by_future.pop(fut)
            try:
                status = fut.result()
            except Exception as exc:  # noqa: BLE001 - a killed worker, an unpicklable analyzer: report it
                status = {"file": rel, "status": "failed", "reason": _one_line(exc)}
            fut.release()
            if status.get("status") == "done":
                report.done.append(rel)
            else:
                report.failed[rel] = status.get("reason", "unknown error")
            bar.update(status.get("status") != "done")
    finally:
        if own_client:
            client.close()
        if cluster is not None:
            cluster.close()


# --- reading the dataset ------------------------------------------------------------------------------------
def _read_dataset(path: Path, what: str) -> pd.DataFrame:
    if not path.is_dir() or not any(path.rglob("*.parquet")):
        raise FileNotFoundError(f"{path}: no {what} dataset here (run `gait batch` first)")
    import pyarrow as pa
    import pyarrow.dataset as ds

    keys = sorted({p.name.split("=", 1)[0] for p in path.iterdir() if p.is_dir() and "=" in p.name})
    # partition values are text even when they look like numbers ("01" must not become 1)
    partitioning = ds.partitioning(pa.schema([(k, pa.string()) for k in keys]), flavor="hive") if keys else None
    dataset = ds.dataset(path, format="parquet", partitioning=partitioning, exclude_invalid_files=True)
    part_schema = pa.schema([(k, pa.string()) for k in keys])
    schema = pa.unify_schemas([f.physical_schema for f in dataset.get_fragments()] + [part_schema])
    dataset = ds.dataset(path, format="parquet", partitioning=partitioning, schema=schema)
    frame = dataset.to_table().to_pandas()
    for k in keys:
        values = frame[k].astype("string")
        frame[k] = values.mask(values.isin([_NULL_PARTITION, "__HIVE_DEFAULT_PARTITION__"]))
    return frame


def read_strides(out: str | Path) -> pd.DataFrame:
    """The stride rows of a batch result, all partitions, as one DataFrame."""
    return _read_dataset(Path(out) / "strides", "strides")


def read_runs(out: str | Path) -> pd.DataFrame:
    """The run rows (one per session) of a batch result, all partitions, as one DataFrame."""
    return _read_dataset(Path(out) / "runs", "runs")
