"""Benchmark the acquisition pipeline: two ankle sensors at ~200 Hz for 10 simulated minutes, as fast as possible.

The virtual sensors (devices.simulated, real protocol bytes) send with an unbounded speedup; the real recording
path runs unchanged: bleak callbacks -> queue -> raw-log writer (+ live status decoding) -> decode -> session file.
Prints how many times real time the streaming part sustains, the end-to-end figure including decoding and saving,
the CPU used (process time / wall time; the simulator runs in the same process and is included), and checks that
no sample sent by the sensors was lost by our code.

Run: ``.venv/bin/python benchmarks/bench_acquire.py [--family movesense] [--minutes 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gait import acquire


def sent_samples(peripheral) -> int:
    """Samples in the payloads a virtual sensor actually sent."""
    idx = np.asarray(peripheral.sent_index, dtype=np.int64)
    if idx.size == 0:
        return 0
    sl = peripheral._slices[idx]
    return int((sl[:, 1] - sl[:, 0]).sum())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--family", default="movesense", help="sensor protocol (default movesense)")
    p.add_argument("--minutes", type=float, default=10.0, help="simulated minutes (default 10)")
    p.add_argument("--rate", type=float, default=200.0, help="requested sample rate (the sensor's nearest)")
    p.add_argument("--burst", type=float, default=0.5, help="simulated seconds sent per radio tick (default 0.5)")
    args = p.parse_args(argv)

    duration = 60.0 * args.minutes
    t = time.perf_counter()
    sim = acquire.simulation(
        "run",
        family=args.family,
        speedup=math.inf,
        duration_s=duration,
        rate_hz=args.rate,
        footpod=False,
        stranger=False,
        seed=0,
    )
    sim.radio.burst_s = args.burst
    setup_s = time.perf_counter() - t
    fs = sim.left.protocol.rate_hz
    with tempfile.TemporaryDirectory() as d:
        res = asyncio.run(
            acquire.record_async(
                Path(d) / "bench.parquet",
                left=sim.left.address,
                right=sim.right.address,
                backend=sim.backend,
                duration_s=duration,
                handle_sigint=False,
            )
        )
        raw_mb = res.rawlog_path.stat().st_size / 1e6
    simulated = min(res.duration_s, len(sim.left.source["t"]) / fs)
    print(
        f"{args.family}: 2 sensors at {fs:g} Hz, {simulated / 60:.1f} simulated min (setup {setup_s:.1f} s, "
        f"raw log {raw_mb:.1f} MB)"
    )
    lost_total = 0
    for side in ("left", "right"):
        sent = sent_samples(getattr(sim, side))
        got = res.stats[side]["samples"]
        lost_total += sent - got
        print(
            f"  {side:>5}: {sent} samples sent, {got} in the session, {sent - got} lost, "
            f"{res.stats[side]['bad_payloads']} bad payloads"
        )
    stream_x = simulated / res.stream_wall_s
    total_x = simulated / res.wall_s
    print(
        f"  streaming: {res.stream_wall_s:.2f} s wall = {stream_x:.0f}x real time, "
        f"CPU {res.stream_cpu_s / res.stream_wall_s:.0%} of one core"
    )
    print(
        f"  end to end (incl. decode + save): {res.wall_s:.2f} s = {total_x:.0f}x real time, "
        f"CPU {res.cpu_s / res.wall_s:.0%}"
    )
    ok = lost_total == 0 and stream_x >= 20
    print("  PASS: no samples lost, >= 20x real time" if ok else "  FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
