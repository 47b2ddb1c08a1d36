"""Regenerate ``data/samples/``: small synthetic sessions with their true stride tables, from fixed seeds.

The same runner (same seed for the body, same mounting) runs 2 minutes unweighted and 2 minutes with 1 kg per ankle
at the same speed, and walks for 1 minute. 100 Hz keeps the files small; the right sensor's clock is 40 ms off and
drifts 30 ppm, as two independent sensors would.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gait.synth import simulate_session

SAMPLES = {
    "run_unweighted": dict(seed=11, speed_mps=3.2, ankle_load_kg=0.0, duration_s=120.0),
    "run_weighted_1kg": dict(seed=11, speed_mps=3.2, ankle_load_kg=1.0, duration_s=120.0),
    "walk": dict(seed=12, mode="walk", speed_mps=1.3, duration_s=60.0),
}
COMMON = dict(sample_rate_hz=100.0, clock_offset_s=0.04, clock_drift_ppm=30.0, subject="sample-runner")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, kwargs in SAMPLES.items():
        session, truth = simulate_session(
            **COMMON, **kwargs, session_id=name, start_time="2026-01-01T08:00:00+00:00"
        )
        session.save(out / f"{name}.parquet")
        truth.to_csv(out / f"{name}.truth.csv", index=False, float_format="%.6f")
        print(f"{name}: {session.duration_s():.0f} s, {len(truth)} true strides")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "samples")
    main(parser.parse_args().out)
