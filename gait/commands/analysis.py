"""``gait analyze`` (a session to a stride table, in plain words) and ``gait validate`` (accuracy on reference data)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

from gait import conventions as C
from gait.phrasing import asymmetry_sentence

#: Metrics printed by ``gait analyze``, in this order, with their display format.
_SHOWN = (
    (C.STRIDE_LENGTH, "{:.2f}"),
    (C.CADENCE, "{:.0f}"),
    (C.CONTACT_TIME, "{:.3f}"),
    (C.FLIGHT_TIME, "{:.3f}"),
    (C.DUTY_FACTOR, "{:.2f}"),
    (C.SPEED, "{:.2f}"),
    (C.SHANK_ANGLE_IC, "{:.1f}"),
    (C.FOOT_ANGLE_IC, "{:.1f}"),
    (C.PEAK_TIBIAL_ACCEL, "{:.1f}"),
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="turn a session into a stride table and print the per-leg summary and asymmetry",
        description="Analyze a session: events, stride length, contact time, shank angle at contact, tibial "
        "shock and left/right asymmetry. Prints medians per leg and the asymmetry in plain words.",
    )
    p.add_argument("session", type=Path, help="session file (.parquet)")
    p.add_argument("--out", type=Path, help="write the stride table (.parquet or .csv)")
    p.add_argument("--placement", choices=C.PLACEMENTS, help="override the placement stored in the session")
    p.set_defaults(handler=_analyze)

    p = sub.add_parser(
        "validate",
        help="measure accuracy on the public reference recordings and synthetic runs; prints a table",
        description="Run the engine on every dataset in ../shared/data (or --data) and on synthetic running "
        "with known truth; print detection F1, bias, 95%% limits of agreement and errors against the targets.",
    )
    p.add_argument("--data", type=Path, default=None, help="folder of public recordings (default ../shared/data)")
    p.add_argument(
        "--datasets",
        default="synthetic,fukuchi,gaitmap,ipol,adeptdata",
        help="comma-separated subset (default: all)",
    )
    p.add_argument("--out", type=Path, help="also write the full table as CSV")
    p.set_defaults(handler=_validate)


def format_summary(result, session=None) -> str:  # noqa: ANN001 - AnalysisResult / Session
    """The per-leg medians, the asymmetry worth mentioning, and warnings, as lines a runner can read."""
    strides = result.strides
    valid = strides[strides[C.VALID]] if len(strides) else strides
    lines = []
    if session is not None:
        m = session.meta
        load = max(m.load_kg.values()) if m.load_kg else 0.0
        weights = f"{load:g} kg per ankle" if load else "no ankle weights"
        lines.append(
            f"{m.label or 'session'} ({m.subject or 'unknown runner'}), {weights}, {session.duration_s() / 60:.1f} min"
        )
    n = {s: int((strides[C.SIDE] == s).sum()) for s in C.SIDES}
    nv = {s: int((valid[C.SIDE] == s).sum()) for s in C.SIDES}
    lines.append("strides: " + ", ".join(f"{s} {nv[s]} valid of {n[s]}" for s in C.SIDES if n[s]))
    summary = result.summary
    rows = []
    for metric, fmt in _SHOWN:
        cells = []
        for side in (*C.SIDES, "both"):
            hit = summary[(summary["side"] == side) & (summary["metric"] == metric)]
            med = float(hit["median"].iloc[0]) if len(hit) else math.nan
            iqr = float(hit["iqr"].iloc[0]) if len(hit) else math.nan
            cells.append("-" if not math.isfinite(med) else f"{fmt.format(med)} ±{fmt.format(iqr / 2)}")
        if all(c == "-" for c in cells):
            continue
        label, unit = C.METRICS.get(metric, (metric, ""))
        rows.append((f"{label}{f' ({unit})' if unit else ''}", *cells))
    if rows:
        width = max(len(r[0]) for r in rows)
        lines.append(f"{'median ± half IQR':<{width}}  {'left':>14}  {'right':>14}  {'both':>14}")
        lines += [f"{r[0]:<{width}}  {r[1]:>14}  {r[2]:>14}  {r[3]:>14}" for r in rows]
    if len(result.asymmetry) or len(valid):
        lines.append(asymmetry_sentence(result.asymmetry))
    for w in result.warnings:
        lines.append(f"warning: {w}")
    return "\n".join(lines)


def load_session(path: Path):  # noqa: ANN201 - a gait.session.Session (imported lazily)
    """:meth:`Session.load`; when the file is damaged but its raw log lies beside it, the error says how to recover."""
    from gait.errors import SessionFileError
    from gait.session import Session

    try:
        return Session.load(path)
    except SessionFileError as exc:
        rawlog = path.with_suffix(".rawlog")
        if path.is_file() and path.suffix.lower() == ".rawlog":
            raise SessionFileError(f"{path}: a raw BLE log, not a session; run `gait recover {path}` first") from None
        if path.is_file() and path.suffix.lower() in (".csv", ".txt", ".tsv"):
            raise SessionFileError(
                f"{path}: a text table, not a session; import it first (gait.io.importers.import_csv or "
                "import_sensor_csv, then session.save('run.parquet'))"
            ) from None
        if path.is_file() and rawlog.is_file():
            hint = f"its raw log is beside it: `gait recover {rawlog} --overwrite` rebuilds it"
            raise SessionFileError(f"{exc}; {hint}") from None
        raise


def check_out_path(path: Path, suffixes: tuple[str, ...] = (), *, may_replace_session: bool = False) -> None:
    """Refuse, before the slow part, an output path that cannot be written (a folder, a missing folder, a suffix)
    or that holds a session a derived table would replace."""
    from gait.errors import GaitError

    if path.is_dir():
        raise GaitError(f"{path}: is a folder; give a file name, e.g. {path / ('result' + (suffixes or ('.csv',))[0])}")
    parent = path.parent
    if not parent.exists():
        raise GaitError(f"{parent}: no such folder; create it first or choose another --out")
    if not parent.is_dir():
        raise GaitError(f"{parent}: is a file, not a folder")
    if suffixes and path.suffix.lower() not in suffixes:
        raise GaitError(f"{path}: write {' or '.join(suffixes)}")
    if not may_replace_session and _is_session_file(path):
        raise GaitError(f"{path} is a session file and would be replaced; choose another --out")


def _is_session_file(path: Path) -> bool:
    """Whether ``path`` is an existing gait session (a recording must never be overwritten by a derived table)."""
    if not path.is_file():
        return False
    try:
        import pyarrow.parquet as pq

        meta = pq.read_schema(path).metadata or {}
    except Exception:  # noqa: BLE001 - not Parquet at all: not a session
        return False
    return C.SESSION_METADATA_KEY in meta


def _analyze(args: argparse.Namespace) -> int:
    from gait.analysis import analyze

    if args.out:
        check_out_path(args.out, (".parquet", ".csv", ".pq"))
    session = load_session(args.session)
    result = analyze(session, placement=args.placement)
    print(format_summary(result, session))
    if args.out:
        write_table(result.strides, args.out)
        print(f"stride table written to {args.out}")
    return 0


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a table as Parquet or CSV by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    else:
        raise ValueError(f"{path}: write .parquet or .csv")


def _validate(args: argparse.Namespace) -> int:
    from gait.validation import format_table, validate_all

    if args.out:
        check_out_path(args.out, (".csv",))
    names = tuple(d.strip() for d in args.datasets.split(",") if d.strip())
    table = validate_all(data_root=args.data, datasets=names)
    print(format_table(table))
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"table written to {args.out}")
    judged = table[table["pass"].notna()] if "pass" in table else table.iloc[0:0]
    n_fail = int((judged["pass"] == False).sum())  # noqa: E712 - object column of bool/None
    print(f"{len(judged) - n_fail} targets met, {n_fail} missed")
    return 0
