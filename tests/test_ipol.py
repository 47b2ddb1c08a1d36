"""IPOL healthy-gait foot IMUs (issue 3 targets): stride detection and event timing against the checked labels.

The labels are IMU-derived (two published algorithms, manually checked), not force-plate or motion-capture
events; see the README's Validation section for why our contacts and toe-offs come ~30 ms before them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gait import conventions as C


def _xfail(reason: str):  # noqa: ANN202
    return pytest.mark.xfail(strict=True, reason=reason)


@pytest.fixture(scope="module")
def ipol_pooled(shared_data):
    from gait.validation import validate_ipol

    df = validate_ipol(data_root=shared_data)
    return df[(df["trial"] == "all") & (df["side"] == "both")].set_index("metric")


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("metric", "stat", "op", "target"),
    [
        pytest.param(
            "stride_f1", "value", ">=", 0.99,
            marks=_xfail("measured 0.984 (2026-11): 23 of the ~36 misses are contacts > 100 ms before the label "
                         "(the foot hovers after its swing-end zero crossing), the rest barely-rotating "
                         "initiation, turning and closing steps"),
        ),
        pytest.param(
            "ic_ms", "median_abs", "<=", 20.0,
            marks=_xfail("measured 28.5 ms (bias -31.7 ms, 2026-11): the authors' convention puts heel strike at "
                         "the impact-jerk peak, ~25 ms after the swing-end zero crossing that matches motion "
                         "capture on gaitmap (5.8 ms)"),
        ),
        pytest.param(
            "to_ms", "median_abs", "<=", 20.0,
            marks=_xfail("measured 30 ms (bias -34 ms, 2026-11): the authors' convention puts toe-off 30 ms after "
                         "the push-off minimum of the pitch rate, which is our toe-off (gaitmap: 9.8 ms)"),
        ),
    ],
)
def test_ipol_validation_targets(ipol_pooled, metric: str, stat: str, op: str, target: float) -> None:
    value = float(ipol_pooled.loc[metric, stat])
    assert value >= target if op == ">=" else value <= target, (metric, value)


@pytest.mark.shared_data
def test_ipol_detection_does_not_regress(ipol_pooled) -> None:
    # 0.950 before the shared clock was trusted and small swings were found (2026-11); 0.983 after
    assert ipol_pooled.loc["stride_f1", "value"] >= 0.98
    assert ipol_pooled.loc["stride_recall", "value"] >= 0.975


@pytest.mark.shared_data
def test_ipol_right_foot_is_not_shifted_by_a_stride_fraction(shared_data) -> None:
    # 9-1 and 11-3: the estimated left/right clock offset moved the right foot by half a stride (F1 0 there)
    from gait.validation import validate_ipol

    df = validate_ipol(data_root=shared_data, trials=["9-1", "11-3"], per_trial=True)
    f1 = df[(df["metric"] == "stride_f1") & (df["side"] == "right") & (df["trial"] != "all")]
    assert len(f1) == 2
    assert (f1["value"] >= 0.9).all(), f1[["trial", "value"]]


def test_ipol_unannotated_spans_cover_only_long_unevaluated_reference_strides() -> None:
    from gait.validation import _ipol_unannotated

    ic = np.array([1.0, 2.0, 3.0, 5.5, 6.5, 7.5])  # 3.0 -> 5.5 bridges turning steps that were not annotated
    ref = pd.DataFrame(
        {
            C.SIDE: "left",
            C.IC_TIME: ic,
            C.NEXT_IC_TIME: np.r_[ic[1:], np.nan],
            "straight": [True, True, False, True, True, True],
        }
    )
    ref[C.STRIDE_TIME] = ref[C.NEXT_IC_TIME] - ref[C.IC_TIME]
    assert _ipol_unannotated(ref, "left", 0.1) == [(3.1, 5.4)]
    ref["straight"] = True  # an evaluated stride is never excluded, however long
    assert _ipol_unannotated(ref, "left", 0.1) == []
    assert _ipol_unannotated(ref, "right", 0.1) == []
