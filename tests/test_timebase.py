"""The analysis does not depend on where the recording clock started or how fast it ran by a few ppm.

Every recording is put on host time by a clock fit, so its timestamps are never exactly at the nominal rate; some
sensors also stamp whole-ms packets. Such samples are kept as recorded (on a fitted line), not resampled: resampling
would low-pass the impact by an amount that depends on the sub-sample phase, so the same run recorded twice would
give peak tibial accelerations up to ~20 % apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gait
from gait import conventions as C
from gait.synth import simulate_session

METRICS = (C.PEAK_TIBIAL_ACCEL, C.CONTACT_TIME, C.SHANK_ANGLE_IC, C.STRIDE_LENGTH, C.STRIDE_TIME)


@pytest.fixture(scope="module")
def run():
    session, _ = simulate_session(seed=2, duration_s=60, sample_rate_hz=208.0, clock_offset_s=0.0, clock_drift_ppm=0.0)
    return {side: session.arrays(side) for side in session.sides}


def _analyze(
    arrays, shift_periods: float = 0.0, ppm: float = 0.0, stamp_ms: bool = False, lost: np.ndarray | None = None
) -> pd.DataFrame:
    sides = {}
    for side, a in arrays.items():
        t = a["t"] * (1 + ppm * 1e-6) + shift_periods / 208.0
        if stamp_ms:  # packets of 8 samples, each stamped to the whole ms, samples spread at the nominal rate
            k = np.arange(t.size)
            t = np.round(t[(k // 8) * 8] * 1000) / 1000 + (k % 8) / 208.0
        keep = np.ones(t.size, bool) if lost is None else ~np.isin(np.arange(t.size) // 8, lost)
        sides[side] = dict(t=t[keep], acc=a["acc"][keep], gyr=a["gyr"][keep])
    session = gait.Session.from_arrays(
        left=sides["left"], right=sides["right"], placement="shank", sample_rate_hz=208.0,
        extra={"clocks_aligned": True},
    )
    res = gait.analyze(session)
    assert not [w for w in res.warnings if "irregular" in w]
    st = res.strides[res.strides[C.VALID]]
    return st.groupby(C.SIDE)[list(METRICS)].mean()


@pytest.mark.parametrize(
    ("shift", "ppm", "stamp_ms"), [(0.5, 0.0, False), (0.0, 30.0, False), (0.37, -45.0, False), (0.2, 30.0, True)]
)
def test_metrics_do_not_depend_on_clock_phase_drift_or_ms_stamps(run, shift, ppm, stamp_ms) -> None:
    ref = _analyze(run)
    got = _analyze(run, shift, ppm, stamp_ms)
    # identical samples: identical shock, angles and lengths; times scaled by the drift at most (45 ppm of 0.7 s)
    pd.testing.assert_frame_equal(got, ref, rtol=1e-4, atol=1e-4)


def test_lost_packets_with_a_drifting_clock_keep_the_recorded_samples(run) -> None:
    lost = np.random.default_rng(3).choice(np.arange(20, 1500), 25, replace=False)  # 25 packets of 8 samples
    ref = _analyze(run, lost=lost)
    got = _analyze(run, 0.4, 40.0, lost=lost)
    pd.testing.assert_frame_equal(got, ref, rtol=1e-4, atol=1e-4)


def test_timestamps_that_jump_around_are_still_resampled_and_said(run) -> None:
    rng = np.random.default_rng(1)
    a = run["left"]
    t = a["t"] + rng.uniform(-0.4, 0.4, a["t"].size) / 208.0  # 0.4 of a period: not a regular sampler
    t = np.maximum.accumulate(t + np.arange(t.size) * 1e-9)
    session = gait.Session.from_arrays(left=dict(t=t, acc=a["acc"], gyr=a["gyr"]), placement="shank",
                                       sample_rate_hz=208.0)
    res = gait.analyze(session)
    assert any("timestamps are irregular; resampled" in w for w in res.warnings)
