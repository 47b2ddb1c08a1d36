"""Time the whole analysis of one hour of two-ankle data at 200 Hz, and a cold process on one minute.

Targets (engine issue): <= 1 s per hour of data on one core, peak memory <= 1 GB, and a cold
``python -c "import gait; gait.analyze(one-minute session)"`` under 1.5 s. No JIT anywhere.

Run: ``.venv/bin/python benchmarks/bench_analysis.py`` (pins BLAS/OpenMP to one thread before importing numpy).
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import gait  # noqa: E402
from gait.synth import simulate_run  # noqa: E402


def hour_of_data(fs: float = 200.0, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """One hour per side: a 5-minute synthetic run (standing, running, standing) tiled 12 times."""
    run = simulate_run(duration_s=290.0, stand_s=5.0, sample_rate_hz=fs, seed=seed)
    out = {}
    for side in ("left", "right"):
        d = run.sensor(side)
        n = d["t"].size
        reps = int(np.ceil(3600 * fs / n))
        t = (np.arange(n * reps) / fs)[: int(3600 * fs)]
        acc = np.tile(d["acc"], (reps, 1))[: t.size]
        gyr = np.tile(d["gyr"], (reps, 1))[: t.size]
        out[side] = {"t": t, "acc": acc, "gyr": gyr}
    return out


def main() -> None:
    data = hour_of_data()
    hours = data["left"]["t"][-1] / 3600.0
    gait.analyze({s: {k: v[:20000] for k, v in d.items()} for s, d in data.items()})  # warm imports
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        res = gait.analyze(data)
        times.append(time.perf_counter() - t0)
    best = min(times)
    tracemalloc.start()
    gait.analyze(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    n = len(res.strides)
    print(f"one hour of two-ankle data at 200 Hz: {n} strides")
    print(f"  analysis time: {best:.2f} s (best of 3; runs {', '.join(f'{x:.2f}' for x in times)})")
    print(f"  seconds per hour of data: {best / hours:.2f} s/h; real-time factor: {hours * 3600 / best:.0f}x")
    print(f"  peak traced memory: {peak / 2**20:.0f} MiB")

    # cold process on a one-minute session file
    minute = simulate_run(duration_s=50.0, stand_s=5.0, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "minute.session.parquet"
        gait.Session.from_arrays(left=minute.left, right=minute.right, placement="shank").save(path)
        code = f"import gait; gait.analyze({str(path)!r})"
        cold = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            cold.append(time.perf_counter() - t0)
    print(f"  cold process (import gait + analyze a 1-minute session file): {min(cold):.2f} s "
          f"(runs {', '.join(f'{x:.2f}' for x in cold)})")
    _gaitmap_note(best / hours)


def _gaitmap_note(ours_s_per_h: float) -> None:
    """gaitmap is a foot-IMU library with an AGPL stride segmenter; it is not a dependency, so only say how it compares.

    Its own pipeline cannot run on shank data, so a like-for-like timing needs foot data and gaitmap installed
    (``pip install gaitmap gaitmap-mad``); the anchor is the measured 0.63 s per minute of two-foot data (38 s/h,
    warm; first calls add 4-17 s of numba JIT) from ../shared/reference/anchors.md section 3.2.
    """
    try:
        import gaitmap  # noqa: F401
    except ImportError:
        print(f"  gaitmap not installed: anchor 38 s per hour of two-foot data (warm) vs ours {ours_s_per_h:.2f} s/h, "
              f"{38 / ours_s_per_h:.0f}x faster; its first call in a process adds 4-17 s of numba JIT")
        return
    print("  gaitmap is installed: time its mad_gait_pipeline on foot data with the same duration for a direct figure")


if __name__ == "__main__":
    main()
