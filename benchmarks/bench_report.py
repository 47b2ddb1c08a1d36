"""Seconds to compare runs (cluster bootstrap) and to build and write the HTML report.

Uses the bundled sample sessions (``data/samples/``: a 2-min unweighted and a 2-min 1-kg run) analyzed once, then
times, each on its own: :func:`gait.compare.compare_runs` with the default 2000 bootstrap replicates, the same for
six 10-min runs (3 per condition, ~10 000 strides: a study-sized comparison), :func:`gait.report.build_report`, and
writing the self-contained HTML.

Run: ``.venv/bin/python benchmarks/bench_report.py``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


def timed(fn, *a, **k):
    t0 = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - t0


def main() -> None:
    import gait
    from gait.compare import compare_runs
    from gait.report import build_report
    from gait.synth import simulate_session

    runs = []
    for name in ("run_unweighted", "run_weighted_1kg"):
        session = gait.Session.load(SAMPLES / f"{name}.parquet")
        runs.append((session, gait.analyze(session)))
    n_strides = sum(len(r.strides) for _, r in runs)
    cmp, t_cmp = timed(compare_runs, runs, seed=0)
    rep, t_build = timed(build_report, runs, cmp)
    with tempfile.TemporaryDirectory() as tmp:
        path, t_save = timed(rep.save, Path(tmp) / "report.html")
        size_kib = path.stat().st_size / 1024
    print(f"samples: 2 runs, {n_strides} strides")
    print(f"  compare (2000 bootstrap replicates): {t_cmp:6.2f} s")
    print(f"  build report ({len(rep.figures)} figures):  {t_build:6.2f} s")
    print(f"  write HTML ({size_kib:.0f} KiB):            {t_save:6.2f} s")

    big = []
    for i in range(6):
        load = 1.0 if i >= 3 else 0.0
        session, _ = simulate_session(seed=100 + i, ankle_load_kg=load, duration_s=600.0, sample_rate_hz=100.0)
        big.append((session, gait.analyze(session)))
    n_big = sum(len(r.strides) for _, r in big)
    _, t_big = timed(compare_runs, big, seed=0)
    print(f"study: 6 runs of 10 min, {n_big} strides")
    print(f"  compare (2000 bootstrap replicates): {t_big:6.2f} s")


if __name__ == "__main__":
    main()
