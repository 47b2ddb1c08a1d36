"""End-to-end ``gait.analyze``: synthetic truth, clock alignment, summaries, asymmetry and bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gait
from gait import conventions as C
from gait.errors import AnalysisError
from gait.metrics import asymmetry, clock_offset, summarize, symmetry_angle
from gait.synth import simulate_run


def _match(res, run, side):
    s = res.strides[res.strides[C.SIDE] == side]
    t = run.truth[(run.truth[C.SIDE] == side) & run.truth[C.VALID]]
    j = np.abs(s[C.IC_TIME].to_numpy()[:, None] - t[C.IC_TIME].to_numpy()[None, :]).argmin(axis=0)
    return s.iloc[j].reset_index(drop=True), t.reset_index(drop=True)


@pytest.fixture(scope="module")
def run_offset():
    run = simulate_run(duration_s=40, stand_s=3, seed=21, speed_mps=3.5, clock_offset_s=0.137, clock_drift_ppm=40)
    return run, gait.analyze(run)


def test_stride_table_columns_and_truth(run_offset) -> None:
    run, res = run_offset
    assert list(res.strides.columns[: len(C.STRIDE_COLS)]) == list(C.STRIDE_COLS)
    assert res.strides[C.VALID].mean() > 0.95
    for side in C.SIDES:
        s, t = _match(res, run, side)
        assert np.median(np.abs(s[C.IC_TIME] - t[C.IC_TIME])) < 0.006
        assert np.median(np.abs(s[C.STRIDE_TIME] - t[C.STRIDE_TIME])) < 0.006
        assert np.median(np.abs(s[C.STEP_TIME] - t[C.STEP_TIME])) < 0.006  # needs the clock alignment
        assert np.nanmedian(np.abs(s[C.SHANK_ANGLE_IC] - t[C.SHANK_ANGLE_IC])) < 1.5
        assert s[C.FOOT_ANGLE_IC].isna().all()


def test_clock_offset_and_drift_recovered(run_offset) -> None:
    run, res = run_offset
    clk = res.info["clock"]
    assert clk["applied"]
    # offset at the reference time of the fit (median IC time) = offset + drift * t
    t_ref = res.strides[C.IC_TIME].median()
    assert clk["offset_s"] == pytest.approx(0.137 + 40e-6 * t_ref, abs=0.004)


def test_step_asymmetry_is_not_mistaken_for_clock_offset() -> None:
    run = simulate_run(duration_s=40, stand_s=3, seed=22, step_time_asym=0.04)
    res = gait.analyze(run)
    assert not res.info["clock"]["applied"]
    row = res.asymmetry.set_index("metric").loc[C.STEP_TIME]
    true = run.truth[run.truth[C.VALID]].groupby(C.SIDE)[C.STEP_TIME].mean()
    assert row["diff_r_minus_l"] == pytest.approx(true["right"] - true["left"], abs=0.006)
    assert row["exceeds_noise"]


def test_summary_and_asymmetry_shapes(run_offset) -> None:
    _, res = run_offset
    sm = res.summary
    assert set(sm["side"]) == {"left", "right", "both"}
    assert {"n", "mean", "sd", "cv_pct", "median", "iqr"} <= set(sm.columns)
    assert (sm.loc[sm["metric"] == C.CADENCE, "median"].between(150, 190)).all()
    asy = res.asymmetry
    assert {"si_pct", "sa_pct", "welch_p", "exceeds_noise"} <= set(asy.columns)
    assert (asy["sa_pct"].abs() < 5).all()


def test_symmetry_formulas() -> None:
    assert symmetry_angle(1.0, 1.0) == pytest.approx(0.0)
    assert symmetry_angle(50.0, 55.0) == pytest.approx((45 - np.degrees(np.arctan(50 / 55))) / 90 * 100)
    # Zifchock correction when |45 - arctan(L/R)| > 90
    assert symmetry_angle(-2.0, 1.0) == pytest.approx((45 - np.degrees(np.arctan(-2.0)) - 180) / 90 * 100)
    df = pd.DataFrame(
        {C.SIDE: ["left"] * 3 + ["right"] * 3, C.STRIDE_TIME: [1.0, 1.01, 0.99, 1.1, 1.11, 1.09], C.VALID: True}
    )
    a = asymmetry(df).set_index("metric").loc[C.STRIDE_TIME]
    assert a["si_pct"] == pytest.approx((1.1 - 1.0) / 1.05 * 100)
    s = summarize(df)
    assert s.set_index(["side", "metric"]).loc[("both", C.STRIDE_TIME), "n"] == 6


def test_clock_offset_beyond_half_a_stride_uses_the_onset() -> None:
    rng = np.random.default_rng(0)
    left = np.cumsum(np.full(60, 0.7) + rng.normal(0, 0.005, 60)) + 5.0
    right = left + 0.35 + 1.0  # true offset 1.0 s (more than a stride)
    co = clock_offset(left, right, onset_left_s=4.0, onset_right_s=5.02)
    assert co.offset_s == pytest.approx(1.0, abs=0.01)
    co2 = clock_offset(left, right)  # without the onset the offset is only known modulo a stride
    assert abs(co2.offset_s) < 0.36


def test_session_and_path_inputs(tmp_path) -> None:
    run = simulate_run(duration_s=20, stand_s=3, seed=3)
    ses = gait.Session.from_arrays(left=run.left, right=run.right, placement="shank")
    path = ses.save(tmp_path / "run.session.parquet")
    a = gait.analyze(ses)
    b = gait.analyze(str(path))
    pd.testing.assert_frame_equal(a.strides, b.strides)


def test_foot_placement_from_session_meta(shared_data) -> None:
    from gait.io.public import read_gaitmap_imu

    imu = read_gaitmap_imu(shared_data / "gaitmap_example_foot_walking" / "imu_sample_not_rotated.csv")
    ses = gait.Session.from_arrays(left=imu["left"], right=imu["right"], placement="foot", sample_rate_hz=204.8)
    res = gait.analyze(ses)
    assert res.strides[C.SHANK_ANGLE_IC].isna().all()
    assert res.strides[C.FOOT_ANGLE_IC].notna().mean() > 0.8
    assert set(res.strides.loc[res.strides[C.VALID], C.SIDE]) == {"left", "right"}


# --- bad inputs ---------------------------------------------------------------------------------------------
def _standing(n: int = 3000, fs: float = 100.0) -> dict:
    rng = np.random.default_rng(1)
    acc = np.tile([0.3, 0.2, C.GRAVITY], (n, 1)) + rng.normal(0, 0.02, (n, 3))
    return {"t": np.arange(n) / fs, "acc": acc, "gyr": rng.normal(0, 0.003, (n, 3))}


def test_only_standing_raises() -> None:
    with pytest.raises(AnalysisError, match="only standing"):
        gait.analyze({"left": _standing(), "right": _standing()})


def test_too_short_raises() -> None:
    d = _standing(n=100)
    with pytest.raises(AnalysisError, match="too short"):
        gait.analyze({"left": d})


def test_nans_and_a_gap_split_segments() -> None:
    run = simulate_run(duration_s=40, stand_s=3, seed=9)
    left = {k: v.copy() for k, v in run.left.items()}
    left["acc"][4000:4010] = np.nan  # 50 ms of NaN
    keep = np.ones(left["t"].size, bool)
    keep[6000:6400] = False  # a 2-s gap
    left = {k: v[keep] for k, v in left.items()}
    res = gait.analyze({"left": left, "right": run.right}, sample_rate_hz=run.sample_rate_hz)
    s = res.strides[res.strides[C.SIDE] == "left"]
    t_gap = (run.left["t"][6000], run.left["t"][6400])
    spans = (s[C.IC_TIME] < t_gap[1]) & (s[C.NEXT_IC_TIME] > t_gap[0])
    assert not spans.any()  # no stride across the gap
    assert any("gap" in w for w in res.warnings)
    assert any("NaN" in w for w in res.warnings)
    assert s[C.VALID].sum() > 40


def test_upside_down_sensor_is_reported_and_still_analysed() -> None:
    from gait.synth import nominal_mounting

    flip = np.diag([-1.0, 1.0, -1.0])  # sensor rotated 180 deg about its y axis: x now points down the shin
    run = simulate_run(duration_s=30, stand_s=3, seed=12, mounting={
        "left": nominal_mounting("left") @ flip, "right": nominal_mounting("right")})
    res = gait.analyze(run, nominal_up="+acc_x")
    assert res.info["alignment"]["left"]["upside_down"] is True
    assert res.info["alignment"]["right"]["upside_down"] is False
    assert any("upside down" in w for w in res.warnings)
    s, t = _match(res, run, "left")
    assert np.nanmedian(np.abs(s[C.SHANK_ANGLE_IC] - t[C.SHANK_ANGLE_IC])) < 1.5


def test_ordinary_run_gives_no_warnings() -> None:
    """Warnings are for things the runner can act on: an ordinary two-ankle run from one clock raises none."""
    run = simulate_run(duration_s=40, stand_s=3, seed=1, speed_mps=3.3, sample_rate_hz=208.0)
    res = gait.analyze(run)
    assert res.warnings == []
    for side in C.SIDES:
        assert res.info["kinematics"][side]["ankle_to_sensor_source"].startswith("fitted")


def test_swapped_sides_are_reported_not_silently_swapped() -> None:
    run = simulate_run(duration_s=30, stand_s=3, seed=13)
    res = gait.analyze({"left": run.right, "right": run.left}, sample_rate_hz=run.sample_rate_hz)
    assert any("swapped" in w for w in res.warnings)
    ok = gait.analyze(run)
    assert not any("swapped" in w for w in ok.warnings)


def test_accelerometer_only_gives_timing_and_nan_gyro_metrics() -> None:
    run = simulate_run(duration_s=30, stand_s=3, seed=14)
    sides = {s: {"t": d["t"], "acc": d["acc"], "gyr": np.full_like(d["acc"], np.nan)}
             for s, d in (("left", run.left), ("right", run.right))}
    res = gait.analyze(sides, sample_rate_hz=run.sample_rate_hz)
    s = res.strides
    assert len(s) > 40
    assert s[C.STRIDE_LENGTH].isna().all() and s[C.SHANK_ANGLE_IC].isna().all() and s[C.TO_TIME].isna().all()
    cad = s[C.CADENCE].median()
    assert cad == pytest.approx(run.truth[C.CADENCE].median(), rel=0.02)
    assert any("no gyroscope" in w for w in res.warnings)


def test_jittery_timestamps_are_resampled() -> None:
    run = simulate_run(duration_s=25, stand_s=3, seed=15)
    d = {k: v.copy() for k, v in run.left.items()}
    d["t"] = d["t"] + np.random.default_rng(0).uniform(-0.002, 0.002, d["t"].size)
    res = gait.analyze({"left": d}, sample_rate_hz=200.0)
    assert any("irregular" in w for w in res.warnings)
    s, t = _match(res, run, "left")
    assert np.median(np.abs(s[C.IC_TIME] - t[C.IC_TIME])) < 0.008


# --- accuracy targets on the validation harness (the numbers of `gait validate`) ----------------------------
@pytest.fixture(scope="module")
def fukuchi_pooled(shared_data):
    from gait.validation import validate_fukuchi

    df = validate_fukuchi(data_root=shared_data)
    return df[(df["trial"] == "all") & (df["side"] == "both")].set_index("metric")


@pytest.fixture(scope="module")
def synthetic_pooled():
    from gait.validation import validate_synthetic

    df = validate_synthetic()
    return df[(df["trial"] == "all") & (df["side"] == "both")].set_index("metric")


def _xfail(reason: str):  # noqa: ANN202
    return pytest.mark.xfail(strict=True, reason=reason)


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("metric", "stat", "op", "target"),
    [
        ("stride_f1", "value", ">=", 0.98),
        ("ic_ms", "median_abs", "<=", 15.0),
        ("to_ms", "median_abs", "<=", 15.0),
        ("contact_time_ms", "mae", "<=", 15.0),
        ("stride_length_pct", "mae", "<=", 3.0),  # 1.6 % (2026-11); other mountings: see below
        pytest.param(
            "shank_angle_ic_deg", "mae", "<=", 2.0,
            marks=_xfail("measured 3.7 deg (2026-11) = the -2.7..-3.6 deg tibia lean of the static trial used as the "
                         "standing pose; 1.0 deg with standing_shank_angle_deg given"),
        ),
    ],
)
def test_fukuchi_validation_targets(fukuchi_pooled, metric: str, stat: str, op: str, target: float) -> None:
    value = float(fukuchi_pooled.loc[metric, stat])
    assert value >= target if op == ">=" else value <= target, (metric, value)


@pytest.fixture(scope="module")
def fukuchi_other_mountings(shared_data):
    from gait.validation import validate_fukuchi

    out = {}
    for seed in (10, 20, 30):
        df = validate_fukuchi(data_root=shared_data, seed=seed)
        out[seed] = df[(df["trial"] == "all") & (df["side"] == "both")].set_index("metric")
    return out


@pytest.mark.shared_data
def test_fukuchi_other_mountings_events_and_contact(fukuchi_other_mountings) -> None:
    for seed, t in fukuchi_other_mountings.items():
        assert t.loc["stride_f1", "value"] >= 0.98, seed
        assert t.loc["ic_ms", "median_abs"] <= 15.0, seed
        assert t.loc["to_ms", "median_abs"] <= 15.0, seed
        assert t.loc["contact_time_ms", "mae"] <= 15.0, seed  # measured 10.2-13.9 ms


@pytest.mark.shared_data
def test_fukuchi_other_mountings_stride_length(fukuchi_other_mountings) -> None:
    for seed, t in fukuchi_other_mountings.items():
        assert t.loc["stride_length_pct", "mae"] <= 3.0, seed  # measured 2026-11: 2.8, 2.5, 1.4 %


@pytest.mark.parametrize(
    ("metric", "target"),
    [
        ("stride_length_pct", 2.0),  # measured 0.96 % (2026-11; 3.1 % before the quiet-stance refit of the radius)
        ("shank_angle_ic_deg", 1.5),  # measured 0.6 deg
        ("contact_time_ms", 10.0),  # measured 6.9 ms
    ],
)
def test_synthetic_validation_targets(synthetic_pooled, metric: str, target: float) -> None:
    assert float(synthetic_pooled.loc[metric, "mae"]) <= target, metric


@pytest.mark.shared_data
def test_adeptdata_accelerometer_only_run_targets(shared_data) -> None:
    """25 min outdoor run, one ankle accelerometer, no gyroscope and no reference: cadence plausible for running
    and strides over at least 90 % of the time the ankle moves (the runner stops about 3.5 min in all)."""
    from gait.io.public import load_adeptdata_ankle
    from gait.validation import still_seconds, validate_adeptdata

    a = load_adeptdata_ankle(shared_data)
    # the stops are in the raw data, independent of the engine: |acc| flat to 0.03 m/s^2 for 30-80 s at a time
    assert 150.0 <= still_seconds(a["acc"], a["fs_hz"]) <= 300.0
    rows = validate_adeptdata(data_root=shared_data).set_index("metric")
    assert 150.0 <= rows.loc["cadence_spm", "value"] <= 165.0  # the spectral peak: 155-160 steps/min
    assert rows.loc["stride_coverage", "value"] >= 0.9  # measured 0.94 (2026-11)
    assert rows.loc["stride_coverage_whole_file", "value"] < rows.loc["stride_coverage", "value"]


def test_still_seconds_counts_only_flat_windows() -> None:
    from gait.validation import still_seconds

    fs = 100.0
    rng = np.random.default_rng(0)
    acc = np.tile([0.0, 0.0, 9.81], (int(60 * fs), 1)) + rng.normal(0, 0.02, (int(60 * fs), 3))
    acc[int(20 * fs) : int(40 * fs)] += rng.normal(0, 8.0, (int(20 * fs), 3))  # 20 s of running in the middle
    assert still_seconds(acc, fs) == pytest.approx(40.0)


@pytest.mark.parametrize(
    ("extra", "aligned"),
    [
        ({}, False),
        ({"acquisition": {"backend": "simulated"}}, True),  # `gait record`: every sensor fitted to the host clock
        ({"import": {"format": "csv", "clock_aligned": True}}, True),
        ({"import": {"format": "csv", "clock_aligned": False}}, False),
        ({"acquisition": {}, "clocks_aligned": False}, False),  # an explicit statement wins
    ],
)
def test_session_says_whether_its_clocks_are_aligned(extra: dict, aligned: bool) -> None:
    from gait.session import SessionMeta

    assert SessionMeta(extra=extra).clocks_aligned is aligned


def test_a_step_asymmetry_on_one_clock_is_not_corrected_away() -> None:
    """15 % step-time asymmetry, both sensors on one clock: the IC alternation sees a 28 ms 'offset'. With clocks
    of unknown relation the engine must take it for a clock offset (and the asymmetry vanishes); a session that
    says its clocks are aligned (a `gait record` session, IPOL's packet counter) keeps the runner's asymmetry."""
    from gait.synth import simulate_session

    out = {}
    for aligned in (False, True):
        session, truth = simulate_session(
            seed=4, duration_s=60, step_time_asym=0.15, clock_offset_s=0.0, clock_drift_ppm=0.0
        )
        session.meta.extra["clocks_aligned"] = aligned
        res = gait.analyze(session)
        st = res.strides[res.strides[C.VALID]].groupby(C.SIDE)[C.STEP_TIME].mean()
        out[aligned] = (res.info["clock"], st["right"] - st["left"])
    true_diff = truth.groupby(C.SIDE)[C.STEP_TIME].mean().pipe(lambda m: m["right"] - m["left"])
    assert true_diff < -0.05
    assert out[False][0]["applied"] and abs(out[False][1]) < 0.01  # unknown clocks: read as an offset
    assert not out[True][0]["applied"] and "share one clock" in out[True][0]["note"]
    assert out[True][1] == pytest.approx(true_diff, abs=0.003)


def test_a_side_without_numbers_is_named_once() -> None:
    run = simulate_run(duration_s=20, seed=1)
    bad = dict(run.left)
    bad["acc"] = np.full_like(np.asarray(bad["acc"], float), np.nan)
    res = gait.analyze({"left": bad, "right": run.right})
    assert any(w.startswith("left: fewer than 10 usable samples") for w in res.warnings), res.warnings
    assert not any("left: left:" in w for w in res.warnings)
    with pytest.raises(AnalysisError) as err:
        gait.analyze({"left": bad})
    assert "left: left:" not in str(err.value) and "left: fewer than 10" in str(err.value)


def test_session_refuses_acceleration_without_numbers() -> None:
    run = simulate_run(duration_s=5, seed=1)
    bad = {k: np.array(v, dtype=float) for k, v in run.left.items()}
    bad["acc"][:] = np.nan
    with pytest.raises(ValueError, match="left: the acceleration has no numbers"):
        gait.Session.from_arrays(left=bad, right=run.right)


def test_a_short_run_does_not_print_nan_for_the_sensor_height() -> None:
    from gait.synth import simulate_session

    session, _ = simulate_session(seed=16, duration_s=5.0, stand_s=1.0)
    res = gait.analyze(session)
    assert not any("nan" in w for w in res.warnings), res.warnings


def test_shank_data_analysed_as_foot_is_questioned() -> None:
    from pathlib import Path

    sample = Path(__file__).resolve().parent.parent / "data" / "samples" / "run_unweighted.parquet"
    warned = [w for w in gait.analyze(sample, placement="foot").warnings if "unlike a foot" in w]
    assert len(warned) == 2 and "placement 'shank'" in warned[0]
    assert not [w for w in gait.analyze(sample).warnings if "unlike a foot" in w]


@pytest.mark.shared_data
def test_real_foot_data_is_not_questioned(shared_data) -> None:
    from gait.validation import gaitmap_session

    session, _, _ = gaitmap_session(shared_data)
    assert not [w for w in gait.analyze(session).warnings if "unlike a foot" in w]
