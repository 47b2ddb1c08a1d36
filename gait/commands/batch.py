"""``gait batch``: analyze a folder of sessions on Dask into a partitioned Parquet dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``batch`` subcommand."""
    p = sub.add_parser(
        "batch",
        help="analyze every session in a folder (in parallel, on Dask) into one Parquet dataset",
        description="Analyze every session file under FOLDER, one Dask task per session, and write the "
        "stride rows and one row per run to RESULT/strides and RESULT/runs (Parquet, partitioned by subject "
        "or label). Sessions already analyzed (same file) are skipped; a session that fails is listed with "
        "its reason and the others go on. Exit status 1 when any session failed.",
    )
    p.add_argument("folder", type=Path, help="folder with session files (searched recursively)")
    p.add_argument("--out", required=True, type=Path, help="result folder (created if missing)")
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)",
    )
    p.add_argument("--workers", type=int, default=2, help="worker processes of the local cluster (default 2)")
    p.add_argument(
        "--partition-by",
        choices=("subject", "label"),
        default="subject",
        help="partition column of the dataset (default subject)",
    )
    p.add_argument("--pattern", default="*.parquet", help="file name pattern of sessions (default *.parquet)")
    p.add_argument("--force", action="store_true", help="analyze every session again, even those already done")
    p.add_argument("--no-progress", action="store_true", help="no progress bar or counter")
    p.set_defaults(handler=_batch)


def _batch(args: argparse.Namespace) -> int:
    from gait.batch import find_sessions, run_batch
    from gait.errors import GaitError

    if not find_sessions(args.folder, args.pattern, exclude=[args.out]):
        raise GaitError(f"{args.folder}: no session files ({args.pattern}) in this folder or below")
    report = run_batch(
        args.folder,
        args.out,
        scheduler=args.scheduler,
        workers=args.workers,
        pattern=args.pattern,
        partition_by=args.partition_by,
        progress=not args.no_progress,
        force=args.force,
    )
    print(report.summary())
    return 1 if report.failed else 0
