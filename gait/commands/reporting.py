"""``gait compare`` and ``gait report``: weighted versus unweighted runs, and the HTML (and PDF) form report."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from gait import conventions as C

SPEED_CHOICES = ("auto", "overlap", "regression", "none")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="compare runs with ankle weights against runs without",
        description="Analyze each session and compare every weighted condition (label and load per ankle) with the "
        "unweighted runs, the run being the unit: change with a 95 %% cluster-bootstrap CI, Hedges' g, and whether "
        "it exceeds the noise between unweighted runs (MDC95). Prints plain-language verdicts and the table.",
    )
    p.add_argument("sessions", nargs="+", type=Path, help="session files (.parquet), all of one runner")
    p.add_argument("--baseline-label", default=C.LABEL_UNWEIGHTED,
                   help="label of the baseline runs (default: unweighted; else the runs without load)")
    p.add_argument("--out", type=Path, default=None, help="also write the full table as CSV")
    p.add_argument("--speed-adjust", choices=SPEED_CHOICES, default="auto",
                   help="how stride length and cadence are put on matched speed (default auto)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.set_defaults(handler=_compare)

    p = sub.add_parser(
        "report",
        help="write a self-contained HTML form report (optionally PDF)",
        description="Analyze the sessions and write one HTML file (figures embedded, no network needed) with a "
        "summary, per-leg metrics, trends over the run, left/right distributions, asymmetry and overstriding; with "
        "several sessions also the weighted-versus-unweighted comparison. Never opens a browser.",
    )
    p.add_argument("sessions", nargs="+", type=Path, help="session files (.parquet)")
    p.add_argument("--out", type=Path, default=None,
                   help="HTML file to write (default: FIRST_SESSION.report.html beside the first session)")
    p.add_argument("--pdf", action="store_true", help="also write a PDF beside it (summary page + figures)")
    p.add_argument("--overwrite", action="store_true", help="replace existing report files")
    p.add_argument("--baseline-label", default=C.LABEL_UNWEIGHTED, help="label of the baseline runs")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.set_defaults(handler=_report)


def _analyze_all(paths: list[Path]) -> list[tuple[Any, Any]]:
    """(Session, AnalysisResult) per file; a bad file raises a one-line GaitError naming it."""
    from gait import analyze
    from gait.commands.analysis import load_session
    from gait.errors import AnalysisError

    out = []
    for path in paths:
        session = load_session(path)
        try:
            out.append((session, analyze(session)))
        except AnalysisError as exc:
            raise AnalysisError(f"{path}: {exc}") from None
    return out


def _compare_named(runs: list[tuple[Any, Any]], paths: list[Path], **kwargs: Any) -> Any:
    """:func:`gait.compare.compare_runs`, its one-line errors naming the files the runner typed, not session ids."""
    from gait.compare import ComparisonError, compare_runs

    try:
        return compare_runs(runs, **kwargs)
    except ComparisonError as exc:
        names: dict[str, str] = {}
        for (session, _), path in zip(runs, paths, strict=True):
            names.setdefault(session.meta.session_id, str(path))
        names.pop("", None)
        if not names:
            raise
        pattern = re.compile(r"(?:session )?\b(" + "|".join(map(re.escape, names)) + r")\b")
        raise ComparisonError(pattern.sub(lambda m: names[m.group(1)], str(exc))) from None


def _print_table(cmp: Any) -> None:
    import pandas as pd

    from gait.compare import fmt_interval, fmt_value

    t = cmp.table
    t = t[t["statistic"] == "mean"]
    shown = pd.DataFrame({
        "metric": t["metric_label"],
        "condition": t["condition"],
        "change [95% CI]": [fmt_interval(r.diff, r.diff_ci_low, r.diff_ci_high, r.unit) for r in t.itertuples()],
        "%": [f"{p:+.1f}" if p == p else "-" for p in t["pct"]],
        "MDC95": [fmt_value(r.mdc95, r.unit) for r in t.itertuples()],
        "g": [f"{g:+.2f}" if g == g else "-" for g in t["effect_size"]],
        "change?": ["yes" if c else "no" for c in t["change"]],
    })
    print()
    print(shown.to_string(index=False))


def _compare(args: argparse.Namespace) -> int:
    from gait.commands.analysis import check_out_path

    if args.out is not None:
        check_out_path(args.out, (".csv",))
    runs = _analyze_all(args.sessions)
    cmp = _compare_named(runs, args.sessions, baseline_label=args.baseline_label, seed=args.seed,
                         speed_adjust=args.speed_adjust)
    print(cmp.summary())
    _print_table(cmp)
    if args.out is not None:
        cmp.table.to_csv(args.out, index=False)
        print(f"\nwrote {args.out} ({len(cmp.table)} rows)")
    return 0


def _default_out(first: Path) -> Path:
    stem = first.name.removesuffix(".parquet").removesuffix(".session")
    return first.with_name(f"{stem}.report.html")


def _report(args: argparse.Namespace) -> int:
    from gait.commands.analysis import check_out_path
    from gait.compare import ComparisonError
    from gait.report import ReportError, build_report

    out = args.out or _default_out(args.sessions[0])
    if out.suffix.lower() == ".pdf":
        raise ReportError(f"{out}: the report is HTML; give --out NAME.html and add --pdf for a PDF beside it")
    check_out_path(out, (".html", ".htm"))
    pdf = out.with_suffix(".pdf") if args.pdf else None
    for target in (out, pdf):  # fail before the slow part
        if target is not None and target.exists() and not args.overwrite:
            raise ReportError(f"{target} exists; use --overwrite to replace it, or --out for another name")
    runs = _analyze_all(args.sessions)
    cmp, notes = None, []
    if len(runs) > 1:
        try:
            cmp = _compare_named(runs, args.sessions, baseline_label=args.baseline_label, seed=args.seed)
        except ComparisonError as exc:
            notes.append(f"No weighted-versus-unweighted comparison: {exc}.")
            print(f"gait report: not comparing: {exc}", file=sys.stderr)
    report = build_report(runs, cmp, notes=notes)
    path = report.save(out, overwrite=args.overwrite)
    print(f"wrote {path}")
    if pdf is not None:
        print(f"wrote {report.save_pdf(pdf, overwrite=args.overwrite)}")
    print()
    print("\n".join(f"- {line}" for line in report.summary))
    return 0
