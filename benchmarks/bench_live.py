"""Live analysis: latency from a stride's end to its emission, CPU for two sensors at 200 Hz, agreement with offline.

Three parts:

1. **CPU.** A synthetic run (``--duration`` s; standing 5 s, then running; the right sensor's clock offset 0.35 s and
   drifting 30 ppm) is fed as fast as possible in 50 ms chunks per sensor, the two sensors interleaved as the
   recorder delivers them. CPU = process CPU time of the feeding / simulated duration, as % of one core (feeding
   in real-time-equivalent chunks, just faster). Reported over the whole run and for the steady part after the
   calibration.
2. **Latency.** Stream latency = the sensor's newest sample time when a stride is emitted minus the stride's end
   (its next IC), for every stride after the calibration. Wall latency, measured with ``--realtime`` s fed at real
   time pace (sleeping between chunks as the radio would deliver them): wall clock at emission minus the wall clock
   at which the sample at the stride's end was fed.
3. **Agreement** of the emitted strides with ``gait.analyze`` of the same recording (steady strides, valid in both,
   valid neighbours).

Run: ``.venv/bin/python benchmarks/bench_live.py [--duration 600] [--realtime 45]``.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import gait  # noqa: E402
from gait import conventions as C  # noqa: E402
from gait.live import LiveAnalyzer, interleaved_chunks  # noqa: E402
from gait.synth import simulate_run  # noqa: E402

CHUNK_S = 0.05


def _run(duration: float, seed: int):
    return simulate_run(duration_s=duration, stand_s=5.0, seed=seed, clock_offset_s=0.35, clock_drift_ppm=30.0)


def cpu_part(duration: float, seed: int) -> tuple[object, pd.DataFrame, LiveAnalyzer]:
    run = _run(duration, seed)
    arrays = {"left": run.left, "right": run.right}
    true = {s: run.world[s]["t"] for s in arrays}
    chunks = interleaved_chunks(arrays, CHUNK_S, true)
    live = LiveAnalyzer(sample_rate_hz=run.sample_rate_hz)
    out = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    cpu_at_live = t_at_live = None
    for side, sl in chunks:
        a = arrays[side]
        new = live.feed(side, a["t"][sl], a["acc"][sl], a["gyr"][sl])
        if len(new):
            out.append(new)
        if cpu_at_live is None and live.status == "live":
            cpu_at_live, t_at_live = time.process_time(), float(true[side][sl.stop - 1])
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    sim = float(run.left["t"][-1])
    emitted = pd.concat(out, ignore_index=True)
    steady_cpu = time.process_time() - cpu_at_live
    n_sides = 2
    print(
        f"1. CPU, {sim:.0f} s of two sensors at {run.sample_rate_hz:.0f} Hz fed in {CHUNK_S * 1000:.0f} ms chunks "
        f"(in {wall:.1f} s wall):"
    )
    print(f"   whole run (calibration included): {cpu:.2f} s CPU = {cpu / sim * 100:.2f} % of one core")
    print(
        f"   after calibration ({sim - t_at_live:.0f} s):        {steady_cpu:.2f} s CPU = "
        f"{steady_cpu / (sim - t_at_live) * 100:.2f} % of one core"
    )
    st = live.stats
    print(
        f"   {st['analyses']} window analyses and {st['tables']} stride tables for {st['emitted']} strides "
        f"({st['analyses'] / max(st['emitted'], 1):.2f} analyses per stride, {n_sides} sensors); "
        f"kernels + bookkeeping {st['analysis_cpu_s'] / (cpu or 1) * 100:.0f} % of the CPU"
    )
    since = live.info["live_since_s"]
    lat = emitted.loc[emitted[C.NEXT_IC_TIME] > since + 1.0, "latency_s"]
    print(
        f"2. stream latency (stride end -> emitted), {len(lat)} strides after calibration at {since:.1f} s: "
        f"median {lat.median():.3f} s, 95th {lat.quantile(0.95):.3f} s, max {lat.max():.3f} s"
    )
    for side in C.SIDES:
        lt = emitted.loc[(emitted[C.NEXT_IC_TIME] > since + 1.0) & (emitted[C.SIDE] == side), "latency_s"]
        print(f"     {side:5s}: median {lt.median():.3f} s, max {lt.max():.3f} s")
    return run, emitted, live


def wall_part(seconds: float, seed: int) -> None:
    run = _run(seconds, seed)
    arrays = {"left": run.left, "right": run.right}
    true = {s: run.world[s]["t"] for s in arrays}
    chunks = interleaved_chunks(arrays, CHUNK_S, true)
    live = LiveAnalyzer(sample_rate_hz=run.sample_rate_hz)
    fed_t = {s: [] for s in arrays}
    fed_wall = {s: [] for s in arrays}
    rows = []
    t0 = time.perf_counter()
    for side, sl in chunks:
        t_true = float(true[side][sl.stop - 1])
        if t_true > seconds:
            break
        delay = t0 + t_true - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        a = arrays[side]
        fed_t[side].append(float(a["t"][sl.stop - 1]))
        fed_wall[side].append(time.perf_counter())
        new = live.feed(side, a["t"][sl], a["acc"][sl], a["gyr"][sl])
        done = time.perf_counter()
        for r in new.itertuples(index=False):
            s = r.side
            own_end = r.sensor_ic_time_s + (r.next_ic_time_s - r.ic_time_s)
            k = int(np.searchsorted(np.asarray(fed_t[s]), own_end, side="left"))
            arrived = fed_wall[s][min(k, len(fed_wall[s]) - 1)]
            rows.append((s, r.next_ic_time_s, r.latency_s, done - arrived, done - fed_wall[side][-1]))
    d = pd.DataFrame(rows, columns=["side", "end", "stream", "wall", "processing"])
    d = d[d["end"] > live.info["live_since_s"] + 1.0]
    print(
        f"   wall latency, {seconds:.0f} s fed at real-time pace ({len(d)} strides after calibration): "
        f"median {d['wall'].median():.3f} s, max {d['wall'].max():.3f} s "
        f"(stream latency median {d['stream'].median():.3f}, max {d['stream'].max():.3f}; processing of the "
        f"emitting chunk median {d['processing'].median() * 1000:.1f} ms, max {d['processing'].max() * 1000:.1f} ms)"
    )


def agreement_part(run: object, emitted: pd.DataFrame) -> None:
    off = gait.analyze(run).strides
    print(
        "3. agreement with gait.analyze of the same recording (steady strides: valid in both, valid neighbours, "
        "IC after 42 s):"
    )
    rows = []
    for side in C.SIDES:
        o = off[off[C.SIDE] == side].reset_index(drop=True)
        e = emitted[emitted[C.SIDE] == side].reset_index(drop=True)
        j = np.abs(o[C.IC_TIME].to_numpy()[:, None] - e[C.IC_TIME].to_numpy()[None, :]).argmin(axis=1)
        e = e.iloc[j].reset_index(drop=True)
        found = int((np.abs(e[C.IC_TIME] - o[C.IC_TIME]) < 0.01).sum())
        ok = o[C.VALID] & e[C.VALID] & o[C.VALID].shift(1, fill_value=False) & o[C.VALID].shift(-1, fill_value=False)
        ok &= o[C.IC_TIME] > 42.0
        print(f"   {side}: {found} of {len(o)} offline strides found live, {int(ok.sum())} steady")
        for m, scale, unit in (
            (C.IC_TIME, 1000, "ms"),
            (C.CONTACT_TIME, 1000, "ms"),
            (C.STRIDE_TIME, 1000, "ms"),
            (C.STEP_TIME, 1000, "ms"),
            (C.FLIGHT_TIME, 1000, "ms"),
            (C.PEAK_TIBIAL_ACCEL, 1, "g"),
            (C.SHANK_ANGLE_IC, 1, "deg"),
            (C.STRIDE_LENGTH, None, "%"),
        ):
            d = (e[m] - o[m])[ok]
            d = (d / o[m][ok] * 100) if scale is None else d * scale
            d = d.abs()
            rows.append((side, m, unit, d.median(), d.quantile(0.95), d.max()))
    t = pd.DataFrame(rows, columns=["side", "metric", "unit", "median", "p95", "max"])
    with pd.option_context("display.width", 120, "display.float_format", "{:.3f}".format):
        print(t.to_string(index=False))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=600.0, help="simulated seconds for the CPU part (default 600)")
    p.add_argument("--realtime", type=float, default=45.0, help="seconds fed at real-time pace (0: skip)")
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    run, emitted, _ = cpu_part(a.duration, a.seed)
    if a.realtime > 0:
        wall_part(a.realtime, a.seed + 1)
    agreement_part(run, emitted)


if __name__ == "__main__":
    main()
