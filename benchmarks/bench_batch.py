"""Sessions per second of ``gait batch`` on 1 and 2 local Dask workers, for 200 synthetic 60-s sessions.

Writes 200 two-ankle sessions (200 Hz, 60 s of running each, from :mod:`gait.synth`) into a temporary folder, then
analyzes the folder with :func:`gait.batch.run_batch` on a ``LocalCluster`` of 1 and of 2 worker processes. The
cluster is started before the clock starts (its start-up time is printed apart), so the rate is the steady
throughput: read, analyze, write the Parquet parts and the manifest, per session.

Run: ``.venv/bin/python benchmarks/bench_batch.py [--sessions 200] [--duration 60]``.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # one BLAS thread per worker process: the workers are the parallelism

import argparse  # noqa: E402
import logging  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402


def make_sessions(folder: Path, n: int, duration_s: float) -> float:
    """Write ``n`` synthetic sessions (10 runners, alternating loads); returns the seconds it took."""
    from gait.synth import simulate_session

    t0 = time.perf_counter()
    for i in range(n):
        session, _ = simulate_session(
            seed=i, subject=f"R{i % 10:02d}", ankle_load_kg=1.0 if i % 2 else 0.0, duration_s=duration_s
        )
        session.save(folder / f"session_{i:04d}.parquet")
    return time.perf_counter() - t0


def bench(folder: Path, out: Path, workers: int) -> tuple[float, float, int]:
    """-> (cluster start-up s, sessions per second, failed count) on ``workers`` worker processes."""
    from distributed import Client, LocalCluster

    from gait.batch import run_batch

    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    client.run(lambda: __import__("gait.analysis"))  # warm the imports on every worker
    startup = time.perf_counter() - t0
    try:
        report = run_batch(folder, out, client=client, progress=False)
    finally:
        client.close()
        cluster.close()
    return startup, report.sessions_per_s, len(report.failed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0, help="running time per session (s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gait-bench-batch-") as tmp:
        folder = Path(tmp) / "sessions"
        folder.mkdir()
        gen = make_sessions(folder, args.sessions, args.duration)
        size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        print(
            f"generated {args.sessions} sessions of {args.duration:.0f} s ({size_mb:.0f} MB) in {gen:.1f} s "
            f"({os.cpu_count()} CPU cores)"
        )
        for workers in (1, 2):
            startup, rate, failed = bench(folder, Path(tmp) / f"out{workers}", workers)
            print(
                f"{workers} worker(s): {rate:.1f} sessions/s "
                f"({args.sessions / rate:.1f} s for {args.sessions}; cluster start-up {startup:.1f} s; "
                f"{failed} failed)"
            )


if __name__ == "__main__":
    main()
