"""Exporters: CSV/Parquet tables round-trip; gaitmap stride lists follow gaitmap's conventions."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from gait import conventions as C
from gait.errors import GaitError
from gait.io.export import (
    ExportError,
    export_gaitmap_stride_list,
    export_result,
    export_strides,
    export_summary,
    export_table,
    to_gaitmap_stride_list,
)

RATE = 200.0


def _strides(n: int = 6, mid_stance: bool = True) -> pd.DataFrame:
    """A stride table (STRIDE_COLS, IC-to-IC strides) with event times on the 200 Hz grid."""
    rows = []
    for side, first in (("left", 1.0), ("right", 1.35)):
        for k in range(n):
            ic = first + 0.7 * k
            row = {c: np.nan for c in C.STRIDE_COLS}
            row.update(
                {
                    C.SIDE: side,
                    C.STRIDE_ID: k,
                    C.BOUT_ID: 0,
                    C.IC_TIME: ic,
                    C.TO_TIME: ic + 0.25,
                    C.NEXT_IC_TIME: ic + 0.7,
                    C.STRIDE_TIME: 0.7,
                    C.CONTACT_TIME: 0.25,
                    C.VALID: k != 2 or side == "left",
                    C.INVALID_REASON: None if (k != 2 or side == "left") else "turn",
                }
            )
            if mid_stance:
                row[C.MID_STANCE_TIME] = ic + 0.1
            rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_tables_roundtrip(tmp_path, suffix):
    strides = _strides(mid_stance=False)[list(C.STRIDE_COLS)]
    path = export_strides(strides, tmp_path / f"sub/strides{suffix}")
    back = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    assert list(back.columns) == list(C.STRIDE_COLS)
    np.testing.assert_allclose(back[C.IC_TIME], strides[C.IC_TIME])
    assert back[C.VALID].tolist() == strides[C.VALID].tolist()


def test_summary_and_result_export(tmp_path):
    summary = pd.DataFrame({"metric": ["cadence_spm"], "mean": [170.0]}).set_index("metric")
    path = export_summary(SimpleNamespace(summary=summary), tmp_path / "s.csv")
    assert pd.read_csv(path).columns.tolist() == ["metric", "mean"]  # a named index becomes a column
    result = SimpleNamespace(strides=_strides(), summary=summary, asymmetry=None)
    written = export_result(result, tmp_path / "out", fmt="parquet", stem="run1")
    assert sorted(written) == ["strides", "summary"]
    assert written["strides"].name == "run1.strides.parquet"


def test_export_errors_are_one_line(tmp_path):
    with pytest.raises(ExportError) as exc:
        export_table(_strides(), tmp_path / "x.xlsx")
    assert isinstance(exc.value, GaitError) and "use a .csv or .parquet name" in str(exc.value)
    with pytest.raises(ExportError):
        export_strides(object(), tmp_path / "x.csv")


def test_gaitmap_ic_stride_list():
    lists = to_gaitmap_stride_list(_strides(), RATE, stride_type="ic")
    assert set(lists) == {"left_sensor", "right_sensor"}
    left = lists["left_sensor"]
    assert left.index.name == "s_id" and list(left.index) == list(range(6))
    assert list(left.columns) == ["start", "end", "ic", "tc", "min_vel"]
    assert left.loc[0].tolist() == [200, 340, 200, 250, 220]
    assert (left["start"] == left["ic"]).all()
    # gaitmap's event order for an "ic" stride: ic < min_vel < tc < end
    assert ((left["ic"] < left["min_vel"]) & (left["min_vel"] < left["tc"]) & (left["tc"] < left["end"])).all()
    assert len(lists["right_sensor"]) == 5  # the invalid stride is dropped
    assert len(to_gaitmap_stride_list(_strides(), RATE, valid_only=False)["right_sensor"]) == 6


def test_gaitmap_min_vel_stride_list_matches_gaitmap_conversion():
    lists = to_gaitmap_stride_list(_strides(), RATE, stride_type="min_vel", t0_s={"left": 0.0, "right": 0.0})
    left = lists["left_sensor"]
    assert list(left.columns) == ["start", "end", "pre_ic", "min_vel", "tc", "ic"]
    # stride k: min_vel_k -> min_vel_{k+1}; pre_ic = IC_k; tc = TO_k; ic = IC_{k+1}
    assert left.loc[0].tolist() == [220, 360, 200, 220, 250, 340]
    order = ["pre_ic", "min_vel", "tc", "ic"]  # gaitmap's SL_EVENT_ORDER["min_vel"]
    assert np.logical_and.reduce([left[a] < left[b] for a, b in zip(order, order[1:], strict=False)]).all()
    assert len(left) == 5  # the last stride's end (next mid-stance) is unknown
    # right: the invalid stride 2 breaks the chain, so strides 1 and 2 have no known next mid-stance
    assert len(lists["right_sensor"]) == 3


def test_gaitmap_min_vel_needs_mid_stance_and_file_layout(tmp_path):
    with pytest.raises(ExportError) as exc:
        to_gaitmap_stride_list(_strides(mid_stance=False), RATE, stride_type="min_vel")
    assert "use stride_type='ic'" in str(exc.value)
    lists = to_gaitmap_stride_list(_strides(mid_stance=False), RATE)
    assert lists["left_sensor"]["min_vel"].isna().all()
    path = export_gaitmap_stride_list(_strides(), tmp_path / "sl.csv", {"left": RATE, "right": RATE})
    back = pd.read_csv(path)
    assert back.columns[:2].tolist() == ["sensor", "s_id"]
    assert set(back["sensor"]) == {"left_sensor", "right_sensor"}
    restored = {k: g.drop(columns="sensor").set_index("s_id") for k, g in back.groupby("sensor")}
    assert restored["left_sensor"]["start"].tolist() == lists["left_sensor"]["start"].tolist()


def test_engine_strides_give_a_consistent_gaitmap_stride_list():
    import gait
    from gait.synth import simulate_session

    session, _ = simulate_session(seed=3, duration_s=15.0)
    result = gait.analyze(session)
    fs = session.meta.sample_rate_hz["left"]
    for stride_type, order in (("min_vel", ["pre_ic", "min_vel", "tc", "ic"]), ("ic", ["ic", "min_vel", "tc"])):
        lists = to_gaitmap_stride_list(result, fs, stride_type=stride_type)
        for sl in lists.values():
            assert len(sl) > 5
            ok = np.logical_and.reduce([sl[a] < sl[b] for a, b in zip(order, order[1:], strict=False)])
            assert ok.all(), f"{stride_type}: events out of gaitmap's order"
            assert (sl["start"] < sl["end"]).all()


def test_export_to_a_folder_or_under_a_file_is_one_line(tmp_path):
    (tmp_path / "taken.csv").write_text("keep me")
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(ExportError, match="is a folder"):
        export_table(_strides(), tmp_path / "folder.csv")
    with pytest.raises(ExportError, match="a file is in the way"):
        export_result(SimpleNamespace(strides=_strides()), tmp_path / "taken.csv")
    assert (tmp_path / "taken.csv").read_text() == "keep me"
