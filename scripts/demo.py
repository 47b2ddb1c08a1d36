"""The main job on a fresh machine (``make demo``): simulated runs without and with ankle weights, then a report.

Each stage is added as the project grows: simulate -> (pair, record through simulated BLE sensors) -> analyze ->
compare -> report. The script prints what it does and where the files are.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gait.cli import main as gait


def run(*argv: str) -> None:
    print(f"\n$ gait {' '.join(argv)}", flush=True)
    code = gait(list(argv))
    if code:
        sys.exit(code)


def demo(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    unweighted = out / "unweighted.parquet"
    weighted = out / "weighted.parquet"
    run("simulate", "--out", str(unweighted), "--duration", "2m", "--speed", "3.3", "--seed", "1")
    run(
        "simulate",
        "--out",
        str(weighted),
        "--duration",
        "2m",
        "--speed",
        "3.3",
        "--load",
        "1kg",
        "--seed",
        "2",
    )
    run("info", str(unweighted))
    run("info", str(weighted))
    run("analyze", str(unweighted), "--out", str(out / "unweighted.strides.csv"))
    run("analyze", str(weighted), "--out", str(out / "weighted.strides.csv"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    demo(parser.parse_args().out)
