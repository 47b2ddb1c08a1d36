"""Matching, detection scores and agreement statistics on constructed cases, and the dataset plumbing with a
dummy analyzer that returns the reference itself, perturbed."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest_shared import requires_shared

from gait.validation import (
    RESULT_COLS,
    StrideComparison,
    Target,
    agreement,
    compare_strides,
    detection_scores,
    format_table,
    match_events,
    metric_rows,
    validate_all,
    validate_fukuchi,
    validate_synthetic,
)


def _strides(
    side: str, ic: list[float], stride: float = 0.7, contact: float = 0.25, **cols: list
) -> pd.DataFrame:
    ic_arr = np.asarray(ic, dtype=float)
    df = pd.DataFrame(
        {
            "side": side,
            "ic_time_s": ic_arr,
            "to_time_s": ic_arr + contact,
            "next_ic_time_s": ic_arr + stride,
        }
    )
    for k, v in cols.items():
        df[k] = v
    return df


# --- matching -----------------------------------------------------------------------------------------------


def test_match_events_nearest_one_to_one() -> None:
    ref = [1.0, 2.0, 3.0, 4.0]
    det = [1.02, 2.5, 2.96, 3.03, 9.0]
    ri, di = match_events(ref, det, 0.1)
    # 2.0 has nothing within 0.1 s; 3.0 takes the closer 3.03 (not 2.96); 4.0 has nothing either
    assert ri.tolist() == [0, 2] and di.tolist() == [0, 3]


def test_match_events_contention_and_edge_cases() -> None:
    # two references competing for one detection: the closer one wins, the other stays unmatched
    ri, di = match_events([1.0, 1.05], [1.04], 0.1)
    assert ri.tolist() == [1] and di.tolist() == [0]
    ri, di = match_events([1.0, np.nan, 3.0], [np.nan, 1.0, 3.0], 0.01)
    assert ri.tolist() == [0, 2] and di.tolist() == [1, 2]
    assert match_events([], [1.0], 0.1)[0].size == 0
    assert match_events([1.0], [], 0.1)[1].size == 0
    ri, _ = match_events([1.0], [1.1000001], 0.1)
    assert ri.size == 0
    # unsorted detections are fine
    ri, di = match_events([1.0, 2.0], [2.01, 0.99], 0.05)
    assert di.tolist() == [1, 0]


def test_detection_scores() -> None:
    s = detection_scores(n_ref=100, n_det=98, n_matched_ref=95)
    assert s["recall"] == pytest.approx(0.95)
    assert s["precision"] == pytest.approx(95 / 98)
    assert s["f1"] == pytest.approx(2 * 0.95 * (95 / 98) / (0.95 + 95 / 98))
    s = detection_scores(10, 12, 10, n_false_pos=1)  # one detection matched a non-evaluated reference
    assert s["precision"] == pytest.approx(11 / 12)
    assert math.isnan(detection_scores(0, 5, 0)["f1"])
    assert detection_scores(5, 5, 0)["f1"] == 0.0


def test_agreement_statistics() -> None:
    e = np.array([1.0, -1.0, 2.0, 4.0, np.nan])
    a = agreement(e)
    sd = np.std([1, -1, 2, 4], ddof=1)
    assert a["n"] == 4 and a["bias"] == pytest.approx(1.5)
    assert a["loa_low"] == pytest.approx(1.5 - 1.96 * sd) and a["loa_high"] == pytest.approx(1.5 + 1.96 * sd)
    assert a["mae"] == pytest.approx(2.0) and a["median_abs"] == pytest.approx(1.5)
    assert a["rmse"] == pytest.approx(math.sqrt((1 + 1 + 4 + 16) / 4))
    empty = agreement([])
    assert empty["n"] == 0 and math.isnan(empty["bias"])


def test_target_checks() -> None:
    assert Target("median_abs", "<=", 15).check(15.0) is True
    assert Target("value", ">=", 0.99).check(0.98) is False
    assert Target("value", "in", (140, 200)).check(150) is True
    assert Target("mae", "<=", 3).check(math.nan) is None
    assert str(Target("mae", "<=", 3.0)) == "mae ≤ 3"


# --- comparing stride tables --------------------------------------------------------------------------------


def test_compare_strides_counts_and_errors() -> None:
    ic = [1.0, 1.7, 2.4, 3.1, 3.8, 4.5]
    ref = pd.concat(
        [
            _strides("left", ic, stride_length_m=[2.0] * 6, shank_angle_ic_deg=[6.0] * 6),
            _strides(
                "right", [t + 0.35 for t in ic], stride_length_m=[2.0] * 6, shank_angle_ic_deg=[6.0] * 6
            ),
        ]
    )
    # detections: left shifted +10 ms, one left stride missed; right exact plus one false detection
    det_left = _strides(
        "left",
        [t + 0.01 for t in ic if t != 2.4],
        contact=0.24,
        stride_length_m=[2.02] * 5,
        shank_angle_ic_deg=[7.0] * 5,
    )
    det_right = _strides(
        "right", [t + 0.35 for t in ic] + [6.0], stride_length_m=[2.0] * 7, shank_angle_ic_deg=[6.0] * 7
    )
    comp = compare_strides(ref, pd.concat([det_left, det_right]), 0.1)
    assert comp.counts["left"] == {"n_ref": 6, "n_det": 5, "tp": 5, "fp": 0}
    assert comp.counts["right"] == {"n_ref": 6, "n_det": 7, "tp": 6, "fp": 1}
    both = comp.scores("both")
    assert both["recall"] == pytest.approx(11 / 12) and both["precision"] == pytest.approx(11 / 12)
    np.testing.assert_allclose(comp.errors("ic_ms", "left"), 10.0)
    np.testing.assert_allclose(comp.errors("to_ms", "left"), 0.0, atol=1e-9)
    np.testing.assert_allclose(comp.errors("contact_time_ms", "left"), -10.0)
    np.testing.assert_allclose(comp.errors("stride_length_cm", "left"), 2.0)
    np.testing.assert_allclose(comp.errors("stride_length_pct", "left"), 1.0)
    np.testing.assert_allclose(comp.errors("shank_angle_ic_deg", "left"), 1.0)
    np.testing.assert_allclose(comp.errors("ic_ms", "right"), 0.0, atol=1e-9)
    assert len(comp.errors("ic_ms")) == 11
    with pytest.raises(ValueError, match="allowed values"):
        comp.errors("nonsense")


def test_compare_strides_windows_and_exclusions() -> None:
    ic = list(np.arange(0.0, 10.0, 1.0))
    ref = _strides("left", ic, stride=1.0)
    det = _strides("left", [t + 0.02 for t in ic] + [5.5], stride=1.0)  # an extra detection at 5.5 s
    turn = (4.6, 6.2)  # a U-turn: strides overlapping it are left out on both sides
    comp = compare_strides(ref, det, 0.1, window=[(1.0, 9.5)], exclude=[turn])
    # evaluated references: IC in [1, 9.5] and the stride not overlapping the turn: ICs 1, 2, 3, 7, 8, 9
    # (the strides starting at 4, 5 and 6 s overlap 4.6-6.2 s)
    c = comp.counts["left"]
    assert c["n_ref"] == 6 and c["tp"] == 6
    assert c["n_det"] == 6 and c["fp"] == 0  # the extra detection at 5.5 s lies inside the turn
    # a mask removes references from evaluation; detections that match them are not false positives
    mask = np.ones(len(ref), dtype=bool)
    mask[2] = False
    comp = compare_strides(ref, det, 0.1, window=[(1.0, 9.5)], exclude=[turn], ref_mask=mask)
    assert comp.counts["left"]["n_ref"] == 5 and comp.counts["left"]["fp"] == 0
    # valid_only drops invalid detections before matching
    det["valid"] = True
    det.loc[0:2, "valid"] = False
    comp = compare_strides(ref, det, 0.1, valid_only=True)
    assert comp.counts["left"]["tp"] == 7


def test_metric_rows_and_format_table() -> None:
    ref = _strides("left", [1.0, 1.7, 2.4], stride_length_m=[2.0] * 3)
    det = _strides("left", [1.03, 1.73, 2.43], stride_length_m=[2.1] * 3)
    rows = metric_rows(compare_strides(ref, det), "fukuchi", "t1", sides=("left", "both"))
    df = pd.DataFrame(rows, columns=list(RESULT_COLS))
    ic = df[(df.metric == "ic_ms") & (df.side == "left")].iloc[0]
    assert ic["n"] == 3 and ic["bias"] == pytest.approx(30) and ic["median_abs"] == pytest.approx(30)
    assert ic["stat"] == "median_abs" and ic["pass"] is False  # 30 ms > 15 ms
    f1 = df[(df.metric == "stride_f1") & (df.side == "both")].iloc[0]
    assert f1["value"] == pytest.approx(1.0) and f1["pass"] is True
    sl = df[df.metric == "stride_length_pct"].iloc[0]
    assert sl["mae"] == pytest.approx(5.0) and sl["pass"] is False
    text = format_table(df)
    assert "ic_ms" in text and "FAIL" in text and "PASS" in text and "median_abs ≤ 15" in text
    assert len(text.splitlines()) == len(df) + 2


def test_validate_synthetic_with_injected_simulator() -> None:
    truths: dict[int, pd.DataFrame] = {}

    def simulate(speed: float, load: float, seed: int, duration: float) -> tuple[dict, pd.DataFrame]:
        ic = np.arange(1.0, duration, 0.7)
        truth = pd.concat(
            [
                _strides("left", list(ic), stride_length_m=speed * 0.7, shank_angle_ic_deg=5.0 + load),
                _strides(
                    "right", list(ic + 0.35), stride_length_m=speed * 0.7, shank_angle_ic_deg=5.0 + load
                ),
            ],
            ignore_index=True,
        )
        truth["valid"] = True
        session = {"speed": speed, "load": load}
        truths[id(session)] = truth
        return session, truth

    def analyze(session: dict) -> pd.DataFrame:
        d = truths[id(session)].copy()
        d["stride_length_m"] *= 1.01
        d["contact_time_s"] = d["to_time_s"] - d["ic_time_s"] + 0.005
        return d

    df = validate_synthetic(analyze, speeds=(2.5, 6.0), loads=(0.0, 2.5), duration_s=10.0, simulate=simulate)
    assert set(df.trial) == {"2.5 m/s, 0 kg", "2.5 m/s, 2.5 kg", "6 m/s, 0 kg", "6 m/s, 2.5 kg", "all"}
    judged = df[df["pass"].notna()]
    assert judged["pass"].astype(bool).all()
    sl = df[(df.trial == "all") & (df.metric == "stride_length_pct")].iloc[0]
    assert sl["mae"] == pytest.approx(1.0)


def test_validate_all_skips_absent_data(tmp_path: Path) -> None:
    df = validate_all(lambda s: None, data_root=tmp_path, datasets=("fukuchi", "ipol"))
    assert list(df.dataset) == ["fukuchi", "ipol"]
    assert df["note"].str.startswith("skipped").all()
    with pytest.raises(ValueError, match="allowed values"):
        validate_all(lambda s: None, data_root=tmp_path, datasets=("nope",))


@requires_shared("fukuchi2017_running_treadmill")
def test_validate_fukuchi_with_a_perturbed_reference() -> None:
    """The dummy analyzer returns the force-plate reference (on the session clock) with known errors."""
    from gait.io.public import fukuchi_reference, load_fukuchi_trial

    trial = load_fukuchi_trial("RBDS008runT35")
    ref = fukuchi_reference(trial).strides
    rng = np.random.default_rng(1)

    def analyze(session) -> pd.DataFrame:  # type: ignore[no-untyped-def]
        t0 = session.samples["left"]["time_s"].to_numpy()
        assert np.isclose(t0[1] - t0[0], 1 / 200)
        d = ref.copy()
        offset = 3.0  # the standing prefix
        d["ic_time_s"] += offset + 0.004 + rng.normal(0, 0.002, len(d))
        d["to_time_s"] += offset - 0.003
        d["next_ic_time_s"] += offset
        d["contact_time_s"] = d["to_time_s"] - d["ic_time_s"]
        d["stride_length_m"] *= 1.02
        d["shank_angle_ic_deg"] += 1.0
        return d.iloc[:-3]  # the engine misses the last strides

    df = validate_fukuchi(analyze, trials=["RBDS008runT35"])
    both = df[(df.side == "both")].set_index("metric")
    assert both.loc["ic_ms", "median_abs"] == pytest.approx(4.0, abs=1.5)
    assert both.loc["to_ms", "bias"] == pytest.approx(-3.0, abs=1e-6)
    assert both.loc["stride_length_pct", "mae"] == pytest.approx(2.0, abs=1e-6)
    assert both.loc["shank_angle_ic_deg", "bias"] == pytest.approx(1.0, abs=1e-6)
    assert both.loc["stride_precision", "value"] == pytest.approx(1.0)
    assert 0.95 < both.loc["stride_recall", "value"] < 1.0
    assert both.loc["ic_ms", "pass"] and both.loc["shank_angle_ic_deg", "pass"]


def test_stride_comparison_pooling_is_additive() -> None:
    ref = _strides("left", [1.0, 1.7])
    comp = compare_strides(ref, _strides("left", [1.0]))
    assert isinstance(comp, StrideComparison)
    from gait.validation import _pooled

    pooled = _pooled([comp, comp])
    assert pooled.counts["left"]["n_ref"] == 4 and pooled.counts["left"]["tp"] == 2
    assert len(pooled.pairs) == 2
