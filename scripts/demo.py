"""The main job on a fresh machine (``make demo``): the runner's whole journey with simulated BLE sensors.

Two virtual ankle sensors (Movesense protocol, byte for byte) are paired, then a run without and a run with 1 kg
per ankle are recorded through the real scanning, connecting, streaming, raw-log and decoding path (40x faster than
real time), analyzed, compared, and written up as one HTML report. Everything lands in ``demo-output/``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from gait.cli import main as gait


def run(*argv: str) -> None:
    print(f"\n$ gait {' '.join(argv)}", flush=True)
    code = gait(list(argv))
    if code:
        sys.exit(code)


def demo(out: Path, minutes: float, speedup: float) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    os.environ.setdefault("GAIT_CONFIG_DIR", str(out / "config"))  # never touch the user's real pairing
    unweighted = out / "unweighted.parquet"
    weighted = out / "weighted_1kg.parquet"
    sim = ("--simulate", "--speedup", f"{speedup:g}")
    run("scan", *sim)
    run("pair", *sim)
    duration = f"{minutes * 60:g}s"
    run(
        "record",
        str(unweighted),
        "--label",
        "unweighted",
        "--duration",
        duration,
        "--subject",
        "demo-runner",
        "--seed",
        "1",
        *sim,
    )
    run(
        "record",
        str(weighted),
        "--label",
        "weighted",
        "--load",
        "1kg",
        "--duration",
        duration,
        "--subject",
        "demo-runner",
        "--seed",
        "1",
        *sim,
    )
    run("analyze", str(unweighted), "--out", str(out / "unweighted.strides.csv"))
    run("analyze", str(weighted), "--out", str(out / "weighted_1kg.strides.csv"))
    report = out / "report.html"
    run("report", str(unweighted), str(weighted), "--out", str(report))
    print(
        f"\nDemo done. Open {report.resolve()} in a browser; the sessions, raw BLE logs and stride tables are in "
        f"{out.resolve()}/."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    parser.add_argument("--minutes", type=float, default=2.0, help="length of each simulated run")
    parser.add_argument("--speedup", type=float, default=40.0, help="simulated seconds per real second")
    args = parser.parse_args()
    demo(args.out, args.minutes, args.speedup)
