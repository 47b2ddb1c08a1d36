"""Session: built from arrays in one call, saved and read back losslessly, bad files give one clear line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import gait
from gait import conventions as C
from gait.errors import SessionFileError


def _side(n: int, rate: float = 200.0, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "t": np.arange(n) / rate,
        "acc": rng.normal([0, 0, 9.81], 0.5, size=(n, 3)),
        "gyr": rng.normal(0, 0.5, size=(n, 3)),
    }


finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def side_arrays(draw: st.DrawFn) -> dict[str, np.ndarray]:
    n = draw(st.integers(0, 40))
    t = np.cumsum(draw(arrays(np.float64, n, elements=st.floats(0, 1, allow_nan=False))))
    acc = draw(arrays(np.float64, (n, 3), elements=finite))
    gyr = draw(arrays(np.float64, (n, 3), elements=st.one_of(finite, st.just(np.nan))))
    return {"t": t, "acc": acc, "gyr": gyr}


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    left=st.one_of(st.none(), side_arrays()),
    right=side_arrays(),
    label=text,
    notes=text,
    subject=text,
    load=st.floats(0, 5, allow_nan=False),
    placement=st.sampled_from(C.PLACEMENTS),
)
def test_round_trip_is_lossless(tmp_path, left, right, label, notes, subject, load, placement):
    session = gait.Session.from_arrays(
        left=left,
        right=right,
        placement=placement,
        sample_rate_hz=100.0,
        label=label,
        notes=notes,
        subject=subject,
        load_kg=load,
        check_units=False,
        gaps={"right": [[1.0, 2.5]]},
        extra={"note": "extra survives", "nested": {"a": [1, 2.5]}},
    )
    path = session.save(tmp_path / "s.parquet")
    back = gait.Session.load(path)
    assert back == session
    for side in session.sides:
        a, b = session.arrays(side), back.arrays(side)
        for key in ("t", "acc", "gyr"):
            np.testing.assert_array_equal(a[key], b[key])  # bit-exact, NaN where NaN
    assert back.meta.label == label and back.meta.notes == notes and back.meta.load_kg == session.meta.load_kg


def test_pandas_opens_the_file_directly(tmp_path):
    session = gait.Session.from_arrays(left=_side(300), right=_side(200, seed=1), label="unweighted")
    session.save(tmp_path / "run.parquet")
    frame = pd.read_parquet(tmp_path / "run.parquet")
    assert list(frame.columns) == [C.SIDE, *C.SAMPLE_COLS]
    assert (frame[C.SIDE] == "left").sum() == 300 and (frame[C.SIDE] == "right").sum() == 200
    meta = json.loads(pq.read_schema(tmp_path / "run.parquet").metadata[C.SESSION_METADATA_KEY])
    assert meta["label"] == "unweighted" and meta["format_version"] == C.SESSION_FORMAT_VERSION


def test_from_arrays_options():
    s = gait.Session.from_arrays(
        right={"acc": _side(100)["acc"]},  # no time, no gyro: rate given, accelerometer only
        sample_rate_hz=50,
        load_kg={"right": 1.0},
        placement={"right": "foot"},
        sensor_model="WitMotion WT901BLE",
    )
    assert s.sides == ("right",)
    assert s.arrays("right")["t"][-1] == pytest.approx(99 / 50)
    assert np.isnan(s.arrays("right")["gyr"]).all()
    assert s.meta.placement == {"right": "foot"} and s.meta.sensor_model == {"right": "WitMotion WT901BLE"}
    with pytest.raises(KeyError, match="no left sensor"):
        s.arrays("left")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "at least one side"),
        ({"left": {"acc": np.zeros((5, 2))}, "sample_rate_hz": 10}, r"shape \(n, 3\)"),
        ({"left": {"t": np.arange(5.0), "acc": np.zeros((4, 3))}}, "t must have shape"),
        ({"left": {"t": np.arange(5.0)[::-1], "acc": np.zeros((5, 3))}}, "time goes backwards"),
        ({"left": {"acc": np.zeros((5, 3))}}, "sample rate"),
        ({"left": _side(100), "placement": "hip"}, "placement"),
        ({"left": {**_side(100), "acc": _side(100)["acc"] / 9.81}}, "in g"),
        ({"left": {**_side(100), "gyr": np.full((100, 3), 300.0)}}, "deg/s"),
        ({"left": {**_side(100), "mag": 1}}, "unknown key"),
    ],
)
def test_bad_arrays_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gait.Session.from_arrays(**kwargs)


def test_not_a_session_truncated_or_newer(tmp_path):
    good = gait.Session.from_arrays(left=_side(2000), right=_side(2000)).save(tmp_path / "good.parquet")

    text = tmp_path / "notes.txt"
    text.write_text("this is not a session\n")
    with pytest.raises(SessionFileError, match="not a readable session file"):
        gait.Session.load(text)

    data = good.read_bytes()
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(SessionFileError, match="truncated"):
        gait.Session.load(cut)

    plain = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"x": [1, 2, 3]}), plain)
    with pytest.raises(SessionFileError, match="not a gait session"):
        gait.Session.load(plain)

    table = pq.read_table(good)
    meta = json.loads(table.schema.metadata[C.SESSION_METADATA_KEY])
    meta["format_version"] = C.SESSION_FORMAT_VERSION + 1
    newer = tmp_path / "newer.parquet"
    pq.write_table(table.replace_schema_metadata({C.SESSION_METADATA_KEY: json.dumps(meta).encode()}), newer)
    with pytest.raises(SessionFileError, match="newer version"):
        gait.Session.load(newer)

    with pytest.raises(SessionFileError, match="no such file"):
        gait.Session.load(tmp_path / "missing.parquet")
    with pytest.raises(SessionFileError, match="folder"):
        gait.Session.load(tmp_path)


def test_errors_are_one_line_messages(tmp_path):
    bad = tmp_path / "x.parquet"
    bad.write_bytes(b"PAR1garbage")
    with pytest.raises(SessionFileError) as info:
        gait.Session.load(bad)
    assert "\n" not in str(info.value)


def test_describe_mentions_each_side():
    s = gait.Session.from_arrays(left=_side(400), right=_side(400), label="weighted", load_kg=1.0, notes="hill")
    text = s.describe()
    assert "left:" in text and "right:" in text and "weighted" in text and "1 kg" in text and "hill" in text
