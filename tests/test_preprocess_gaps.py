"""Short packet-loss holes are bridged inside the analysis (never silently); long gaps still split segments."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import gait
from gait import conventions as C
from gait.metrics import bridged_per_stride
from gait.preprocess import imu_preprocess, timebase_check
from gait.synth import simulate_run

FS = 208.0
PACKET = 8


@pytest.fixture(scope="module")
def run():
    return simulate_run(duration_s=40, stand_s=3, seed=5, speed_mps=3.5, sample_rate_hz=FS)


def _drop(side: dict, starts) -> dict:
    """The side's samples with 8-sample packets removed at the given first-sample indices."""
    keep = np.ones(side["t"].size, bool)
    for i in starts:
        keep[i : i + PACKET] = False
    return {k: np.asarray(side[k])[keep] for k in ("t", "acc", "gyr")}


def _data(run, left_starts=(), right_starts=()) -> dict:
    return {"left": _drop(run.left, left_starts), "right": _drop(run.right, right_starts)}


def _stride_at(res, side: str, ic: float) -> pd.Series:
    s = res.strides[res.strides[C.SIDE] == side]
    k = int(np.argmin(np.abs(s[C.IC_TIME].to_numpy() - ic)))
    assert abs(s[C.IC_TIME].iloc[k] - ic) < 0.03
    return s.iloc[k]


def _steady_left(run) -> pd.DataFrame:
    t = run.truth
    return t[(t[C.SIDE] == "left") & t[C.VALID].astype(bool)].reset_index(drop=True)


def test_few_lost_packets_keep_almost_all_strides(run) -> None:
    clean = gait.analyze(_data(run), sample_rate_hz=FS)
    rng = np.random.default_rng(3)
    n = run.left["t"].size
    starts = {s: np.sort(rng.choice(np.arange(1000, n - 1000, 50), 6, replace=False)) for s in C.SIDES}
    res = gait.analyze(_data(run, starts["left"], starts["right"]), sample_rate_hz=FS)
    n_clean = int(clean.strides[C.VALID].sum())
    # every stride is still found; each hole costs at most the two strides whose contact it touches
    assert len(res.strides) >= len(clean.strides) - 1
    assert int(res.strides[C.VALID].sum()) >= n_clean - 2 * 12
    assert int(res.strides[C.VALID].sum()) >= 0.75 * n_clean
    for side in C.SIDES:
        info = res.info["bridged"][side]
        assert info["holes"] == 6
        assert info["total_s"] == pytest.approx(6 * PACKET / FS, abs=1e-4)
    assert res.strides[C.BRIDGED_S].sum() > 0
    assert any("bridged by interpolation" in w for w in res.warnings)
    assert not any("separate segments" in w for w in res.warnings)
    with_reason = res.strides[C.INVALID_REASON].fillna("").str.startswith("data missing at")
    assert (res.strides.loc[with_reason, C.BRIDGED_S] > 0).all()
    # the valid strides keep their accuracy
    ok = res.strides[res.strides[C.VALID]]
    assert ok[C.STRIDE_TIME].median() == pytest.approx(clean.strides[C.STRIDE_TIME].median(), abs=0.005)


def test_hole_at_contact_invalidates_the_stride(run) -> None:
    truth = _steady_left(run)
    ic = float(truth[C.IC_TIME].iloc[20])
    i0 = int(np.searchsorted(run.left["t"], ic)) - 3  # the packet covers IC - 15 ms .. IC + 24 ms
    res = gait.analyze(_data(run, [i0]), sample_rate_hz=FS)
    s = _stride_at(res, "left", ic)
    assert not s[C.VALID]
    m = re.fullmatch(r"data missing at contact \((\d+) ms bridged\)", s[C.INVALID_REASON])
    assert m and 0 < int(m.group(1)) <= round(PACKET / FS * 1000)
    prev = _stride_at(res, "left", float(truth[C.IC_TIME].iloc[19]))  # its stride ends on the bridged IC
    assert not prev[C.VALID]
    assert prev[C.INVALID_REASON].startswith("data missing at next contact (")
    # the hole straddles the IC: its samples count in the stride before or after it
    assert s[C.BRIDGED_S] + prev[C.BRIDGED_S] == pytest.approx(PACKET / FS)
    # everything else is untouched: the other leg has no hole
    assert (res.strides.loc[res.strides[C.SIDE] == "right", C.BRIDGED_S] == 0).all()


def test_hole_in_swing_keeps_the_stride_valid(run) -> None:
    truth = _steady_left(run)
    row = truth.iloc[20]
    i0 = int(np.searchsorted(run.left["t"], row[C.MID_SWING_TIME])) - PACKET // 2
    clean = gait.analyze(_data(run), sample_rate_hz=FS)
    res = gait.analyze(_data(run, [i0]), sample_rate_hz=FS)
    s = _stride_at(res, "left", float(row[C.IC_TIME]))
    c = _stride_at(clean, "left", float(row[C.IC_TIME]))
    assert s[C.VALID], s[C.INVALID_REASON]
    assert s[C.BRIDGED_S] == pytest.approx(PACKET / FS)
    assert abs(s[C.STRIDE_LENGTH] - row[C.STRIDE_LENGTH]) < 0.1
    assert s[C.STRIDE_TIME] == pytest.approx(c[C.STRIDE_TIME], abs=1.5 / FS)
    assert s[C.CONTACT_TIME] == pytest.approx(c[C.CONTACT_TIME], abs=1.5 / FS)
    assert int(res.strides[C.VALID].sum()) == int(clean.strides[C.VALID].sum())
    assert int((res.strides[C.BRIDGED_S] > 0).sum()) == 1


def test_long_gap_still_splits_and_is_not_bridged(run) -> None:
    t = run.left["t"]
    a = int(np.searchsorted(t, 15.0))
    b = a + int(0.5 * FS)
    keep = np.r_[0:a, b : t.size]
    data = {"left": {k: np.asarray(run.left[k])[keep] for k in ("t", "acc", "gyr")}, "right": _drop(run.right, [])}
    pre = imu_preprocess(data["left"]["t"], data["left"]["acc"], data["left"]["gyr"], side="left", fs=FS)
    assert pre.bridged is None
    assert len(pre.timebase.gaps_s) == 1 and not pre.timebase.bridges_s
    assert pre.frame["segment"].nunique() == 2
    res = gait.analyze(data, sample_rate_hz=FS)
    assert res.info["bridged"]["left"] == {"holes": 0, "total_s": 0.0}
    assert (res.strides[C.BRIDGED_S] == 0).all()
    assert any("separate segments" in w for w in res.warnings)
    left = res.strides[res.strides[C.SIDE] == "left"]
    spans = (left[C.IC_TIME] < t[a - 1]) & (left[C.NEXT_IC_TIME] > t[b])
    assert not spans.any()


def test_loss_free_analysis_is_unchanged(run) -> None:
    on = gait.analyze(run)
    off = gait.analyze(run, bridge_max_s=0.0)
    pd.testing.assert_frame_equal(on.strides, off.strides, check_exact=True)
    assert (on.strides[C.BRIDGED_S] == 0.0).all()
    assert on.info["bridged"] == {"left": {"holes": 0, "total_s": 0.0}, "right": {"holes": 0, "total_s": 0.0}}


def test_bridging_off_splits_like_before(run) -> None:
    data = _data(run, [3000])
    res = gait.analyze(data, sample_rate_hz=FS, bridge_max_s=0.0)
    assert (res.strides[C.BRIDGED_S] == 0).all()
    assert any("separate segments" in w for w in res.warnings)


def test_timebase_check_bridges_short_holes_only() -> None:
    t = np.arange(2000) / 100.0
    t = np.delete(t, np.r_[500:504, 1200:1260])  # a 50 ms hole and a 0.6 s gap
    tb = timebase_check(t, fs=100.0, bridge_max_s=0.1)
    assert tb.segments == [(0, 1196), (1196, t.size)]
    assert tb.bridges_s == [(4.99, 5.04)]
    assert tb.gaps_s == [(pytest.approx(11.99), pytest.approx(12.6))]
    assert tb.pieces == [(0, 500), (500, 1196), (1196, t.size)]
    assert tb.uniform
    old = timebase_check(t, fs=100.0)
    assert old.segments == old.pieces == [(0, 500), (500, 1196), (1196, t.size)] and not old.bridges_s


def test_bridged_per_stride_windows() -> None:
    fs = 100.0
    mask = np.zeros(1000, bool)
    mask[100:104] = True  # at the IC of stride 0 (IC 102)
    mask[160:165] = True  # in its swing
    ic = np.array([102, 200, -1])
    to = np.array([130, 230, -1])
    nxt = np.array([200, 300, -1])
    total, at_ic, at_next = bridged_per_stride(mask, fs, ic, to, nxt)
    np.testing.assert_allclose(total, [0.07, 0.0, 0.0])  # 102..104 and 160..165 inside [102, 200)
    np.testing.assert_allclose(at_ic, [0.04, 0.0, 0.0])  # IC - 30 ms .. TO + 30 ms
    np.testing.assert_allclose(at_next, [0.0, 0.0, 0.0])
    total, at_ic, at_next = bridged_per_stride(None, fs, ic, to, nxt)
    assert not total.any() and not at_ic.any() and not at_next.any()


def test_live_analyzer_bridges_and_flags_like_the_offline_path(run) -> None:
    from gait.live import LiveAnalyzer, feed_session

    rng = np.random.default_rng(8)
    n = run.left["t"].size
    starts = np.sort(rng.choice(np.arange(1500, n - 1000, 40), 15, replace=False))
    data = {"left": _drop(run.left, starts)}
    em = feed_session(LiveAnalyzer(sample_rate_hz=FS), data)
    assert len(em) > 20
    assert (em[C.BRIDGED_S].fillna(0) > 0).any()
    why = em[C.INVALID_REASON].fillna("")
    assert (em.loc[why.str.startswith("data missing at"), C.BRIDGED_S] > 0).all()
    assert em[C.VALID].mean() > 0.5
