"""CSV importers: generic mapping with unit conversion, the three vendor layouts, one-line errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gait import conventions as C
from gait.errors import GaitError
from gait.io.importers import (
    ImportFormatError,
    detect_vendor,
    import_csv,
    import_metabase,
    import_movella_dot,
    import_sensor_csv,
    import_witmotion,
)
from gait.session import Session

DATA = Path(__file__).parent / "data"
METABASE_ACC = DATA / "MetaWear_2024-05-04T12.15.30.123_C8F1A2B3D4E5_Accelerometer.csv"
METABASE_GYR = DATA / "MetaWear_2024-05-04T12.15.30.123_C8F1A2B3D4E5_Gyroscope.csv"
GENERIC_MAP = {
    "time_s": "t_ms",
    "acc_x": "AX",
    "acc_y": "AY",
    "acc_z": "AZ",
    "gyr_x": "GX",
    "gyr_y": "GY",
    "gyr_z": "GZ",
}
DEG = math.pi / 180.0


def _write(
    path: Path, n: int = 50, rate: float = 100.0, acc_scale: float = 1.0, gyr_scale: float = 1.0
) -> dict:
    """A CSV in our own column names with acc in m/s² / acc_scale and gyr in rad/s / gyr_scale."""
    rng = np.random.default_rng(0)
    t = np.arange(n) / rate
    acc = rng.normal([0.5, 0.2, C.GRAVITY], 0.3, size=(n, 3))
    gyr = rng.normal(0.0, 2.0, size=(n, 3))
    frame = pd.DataFrame(np.column_stack([t, acc / acc_scale, gyr / gyr_scale]), columns=list(C.SAMPLE_COLS))
    frame.to_csv(path, index=False)
    return {"t": t, "acc": acc, "gyr": gyr}


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text, text
    assert isinstance(exc.value, GaitError) and isinstance(exc.value, ValueError)
    return text


# --- generic CSV --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("acc_unit", "acc_scale", "gyr_unit", "gyr_scale"),
    [
        ("m/s^2", 1.0, "rad/s", 1.0),
        ("g", C.GRAVITY, "deg/s", DEG),
        ("mg", C.GRAVITY / 1000.0, "dps", DEG),
        ("m/s²", 1.0, "°/s", DEG),
    ],
)
def test_generic_units_convert_to_si(tmp_path, acc_unit, acc_scale, gyr_unit, gyr_scale):
    truth = _write(tmp_path / "left.csv", acc_scale=acc_scale, gyr_scale=gyr_scale)
    session = import_csv(tmp_path / "left.csv", side="left", acc_unit=acc_unit, gyr_unit=gyr_unit, label="x")
    got = session.arrays("left")
    np.testing.assert_allclose(got["acc"], truth["acc"], rtol=1e-9)
    np.testing.assert_allclose(got["gyr"], truth["gyr"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got["t"], truth["t"])
    assert session.meta.label == "x" and session.meta.placement == {"left": "shank"}


def test_generic_mapping_time_ms_and_side_column():
    session = import_csv(
        DATA / "generic_both_sides.csv",
        side_column="foot",
        columns=GENERIC_MAP,
        time_unit="ms",
        acc_unit="g",
        gyr_unit="deg/s",
        subject="S01",
        load_kg=1.0,
    )
    assert session.sides == ("left", "right")
    raw = pd.read_csv(DATA / "generic_both_sides.csv", sep=";")
    left = raw[raw["foot"] == "L"]
    got = session.arrays("left")
    np.testing.assert_allclose(got["t"], left["t_ms"].to_numpy() / 1000.0)
    np.testing.assert_allclose(got["acc"][:, 2], left["AZ"].to_numpy() * C.GRAVITY)
    np.testing.assert_allclose(got["gyr"][:, 1], left["GY"].to_numpy() * DEG)
    assert session.meta.sample_rate_hz == {"left": 100.0, "right": 100.0}
    assert session.meta.load_kg == {"left": 1.0, "right": 1.0}


def test_generic_sample_rate_without_time_column_and_acc_only(tmp_path):
    pd.DataFrame({"ax": [0.0] * 20, "ay": [0.0] * 20, "az": [1.0] * 20}).to_csv(
        tmp_path / "a.csv", index=False
    )
    session = import_csv(
        right=tmp_path / "a.csv",
        columns={"acc_x": "ax", "acc_y": "ay", "acc_z": "az"},
        sample_rate_hz=50.0,
        acc_unit="g",
    )
    got = session.arrays("right")
    assert got["t"][1] == pytest.approx(0.02)
    assert np.isnan(got["gyr"]).all()


def test_generic_saved_session_roundtrip(tmp_path):
    _write(tmp_path / "l.csv")
    _write(tmp_path / "r.csv")
    session = import_csv(left=tmp_path / "l.csv", right=tmp_path / "r.csv")
    session.save(tmp_path / "s.parquet")
    assert Session.load(tmp_path / "s.parquet") == session


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({}, "missing column(s) 'acc_x'"),
        ({"columns": GENERIC_MAP, "time_unit": "ms"}, "probably in g (pass acc_unit='g')"),
        ({"columns": GENERIC_MAP, "time_unit": "ms", "acc_unit": "g"}, "probably in deg/s"),
        ({"columns": GENERIC_MAP, "acc_unit": "furlong/s2"}, "unknown acceleration unit 'furlong/s2'"),
        (
            {"columns": {**GENERIC_MAP, "time_s": "clock"}, "acc_unit": "g", "gyr_unit": "deg/s"},
            "no time column",
        ),
        ({"columns": {"accel_x": "AX"}}, "unknown name(s) ['accel_x']"),
    ],
)
def test_generic_wrong_columns_or_units_one_line(kwargs, fragment):
    with pytest.raises(ImportFormatError) as exc:
        import_csv(DATA / "generic_both_sides.csv", side_column="foot", **kwargs)
    assert fragment in _one_line(exc)


def test_generic_declared_g_but_file_in_ms2(tmp_path):
    _write(tmp_path / "l.csv")
    with pytest.raises(ImportFormatError) as exc:
        import_csv(tmp_path / "l.csv", side="left", acc_unit="g")
    assert "pass acc_unit='m/s^2'" in _one_line(exc)


def test_generic_text_in_a_number_column(tmp_path):
    _write(tmp_path / "l.csv")
    frame = pd.read_csv(tmp_path / "l.csv")
    frame["acc_y"] = frame["acc_y"].astype(object)
    frame.loc[3, "acc_y"] = "n/a?"
    frame.to_csv(tmp_path / "l.csv", index=False)
    with pytest.raises(ImportFormatError) as exc:
        import_csv(tmp_path / "l.csv", side="left")
    assert "column 'acc_y' row 4: 'n/a?' is not a number" in _one_line(exc)


def test_generic_needs_a_side(tmp_path):
    _write(tmp_path / "l.csv")
    with pytest.raises(ImportFormatError) as exc:
        import_csv(tmp_path / "l.csv")
    assert "side='left'" in _one_line(exc)
    with pytest.raises(ImportFormatError) as exc:
        import_csv(tmp_path / "missing.csv", side="left")
    assert "no such file" in _one_line(exc)


# --- Movella DOT --------------------------------------------------------------------------------------------
def test_movella_dot_rate_quantities():
    session = import_movella_dot(
        DATA / "movella_dot_left.csv", DATA / "movella_dot_right.csv", label="unweighted"
    )
    raw = pd.read_csv(DATA / "movella_dot_left.csv", skiprows=11)
    got = session.arrays("left")
    np.testing.assert_allclose(got["acc"][:, 2], raw["Acc_Z"].to_numpy())  # m/s² as exported
    np.testing.assert_allclose(got["gyr"][:, 1], raw["Gyr_Y"].to_numpy() * DEG)  # deg/s -> rad/s
    # SampleTimeFine (µs) wraps past 2**32 inside the file: time stays monotonic at 60 Hz
    assert np.all(np.diff(got["t"]) > 0)
    assert session.meta.sample_rate_hz["left"] == pytest.approx(60.0, rel=1e-3)
    # both exports say "Synced": one time base, the right sensor started 5 ms later
    assert session.arrays("right")["t"][0] == pytest.approx(0.005, abs=1e-6)
    assert session.meta.sensor_model == {"left": "Movella DOT", "right": "Movella DOT"}
    assert session.meta.firmware["left"] == "2.6.0"
    info = session.meta.extra["import"]
    assert info["clock_aligned"] and info["sides"]["right"]["device_tag"] == "2"


def test_movella_dot_without_acc_is_one_line():
    with pytest.raises(ImportFormatError) as exc:
        import_movella_dot(left=DATA / "movella_dot_euler_mode.csv")
    text = _one_line(exc)
    assert "no Acc_X/Acc_Y/Acc_Z" in text and "Extended(Euler)" in text


def test_movella_dot_rejects_other_files():
    with pytest.raises(ImportFormatError) as exc:
        import_movella_dot(left=DATA / "generic_both_sides.csv")
    assert "not a Movella DOT export" in _one_line(exc)


# --- WitMotion ----------------------------------------------------------------------------------------------
def test_witmotion_two_sensors_in_one_file():
    path = DATA / "witmotion_two_sensors.csv"
    session = import_witmotion(path, path, devices={"left": "d6:a8", "right": "e1:02:33"})
    raw = pd.read_csv(path)
    left = raw[raw["Device name"].str.contains("d6:a8")]
    got = session.arrays("left")
    np.testing.assert_allclose(got["acc"][:, 0], left["Acceleration X(g)"].to_numpy() * C.GRAVITY)
    np.testing.assert_allclose(got["gyr"][:, 2], left["Angular velocity Z(°/s)"].to_numpy() * DEG)
    assert session.meta.sample_rate_hz["left"] == pytest.approx(50.0)
    # Chip Time is absolute: common origin, the right sensor's first sample 4 ms after the left's
    assert session.arrays("right")["t"][0] == pytest.approx(0.004, abs=1e-6)
    assert session.meta.start_time.startswith("2025-11-12T16:09:58.052")
    assert session.meta.sensor_model == {"left": "WT901BLE67", "right": "WT901BLE68"}


def test_witmotion_needs_device_when_file_has_several():
    with pytest.raises(ImportFormatError) as exc:
        import_witmotion(left=DATA / "witmotion_two_sensors.csv")
    assert "holds 2 sensors" in _one_line(exc)
    with pytest.raises(ImportFormatError) as exc:
        import_witmotion(left=DATA / "witmotion_two_sensors.csv", devices={"left": "WT901"})
    assert "matches 2 of the sensors" in _one_line(exc)


def test_witmotion_wrong_columns(tmp_path):
    (tmp_path / "w.csv").write_text("Time,Device name,AccelX,AccelY\n16:00:00.000,a,1,2\n")
    with pytest.raises(ImportFormatError) as exc:
        import_witmotion(left=tmp_path / "w.csv")
    assert "missing column(s) 'Acceleration X(g)'" in _one_line(exc)


# --- MetaBase -----------------------------------------------------------------------------------------------
def test_metabase_pair_found_by_name_and_gyro_resampled():
    session = import_metabase(left=METABASE_ACC)
    acc = pd.read_csv(METABASE_ACC)
    gyr = pd.read_csv(METABASE_GYR)
    got = session.arrays("left")
    # the gyroscope starts 3 ms after the accelerometer: the first acc sample (outside its span) is dropped
    assert len(got["t"]) == len(acc) - 1
    np.testing.assert_allclose(got["acc"][:, 2], acc["z-axis (g)"].to_numpy()[1:] * C.GRAVITY)
    expected = np.interp(acc["epoch (ms)"].to_numpy()[1:], gyr["epoch (ms)"], gyr["y-axis (deg/s)"]) * DEG
    np.testing.assert_allclose(got["gyr"][:, 1], expected, rtol=1e-4)  # epoch seconds: ~0.2 µs resolution
    assert session.meta.start_time.startswith("2024-05-04T10:15:30.133")
    assert session.meta.sensor_model == {"left": "MbientLab MetaMotion"}


def test_metabase_explicit_pair_and_swapped_files():
    session = import_metabase(right=(METABASE_ACC, METABASE_GYR))
    assert session.sides == ("right",)
    with pytest.raises(ImportFormatError) as exc:
        import_metabase(left=(METABASE_GYR, METABASE_ACC))
    assert "is this the accelerometer file?" in _one_line(exc)


# --- auto-detection -----------------------------------------------------------------------------------------
def test_detect_vendor_and_import_sensor_csv():
    assert detect_vendor(DATA / "movella_dot_left.csv") == "movella_dot"
    assert detect_vendor(DATA / "witmotion_two_sensors.csv") == "witmotion"
    assert detect_vendor(METABASE_ACC) == "metabase"
    assert detect_vendor(DATA / "generic_both_sides.csv") == "csv"
    session = import_sensor_csv(left=DATA / "movella_dot_left.csv", right=DATA / "movella_dot_right.csv")
    assert session.sides == ("left", "right")
    with pytest.raises(ImportFormatError) as exc:
        import_sensor_csv(left=DATA / "movella_dot_left.csv", right=METABASE_ACC)
    assert "different layouts" in _one_line(exc)
    with pytest.raises(ImportFormatError) as exc:
        import_sensor_csv(left=DATA / "generic_both_sides.csv")
    assert "use import_csv" in _one_line(exc)


def test_empty_or_header_only_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("time_s,acc_x,acc_y,acc_z\n")
    with pytest.raises(ImportFormatError) as exc:
        import_csv(tmp_path / "empty.csv", side="left")
    assert "the file is empty" in _one_line(exc)
    with pytest.raises(ImportFormatError) as exc:
        import_csv(tmp_path / "header.csv", side="left")
    assert "header but no samples" in _one_line(exc)
    (tmp_path / "other.csv").write_text("time_s,acc_x,acc_y,acc_z\n0,0,0,1\n")
    with pytest.raises(ImportFormatError) as exc:
        import_metabase(left=tmp_path / "other.csv")
    assert "missing column(s) 'x-axis (...)'" in _one_line(exc)


@pytest.mark.parametrize(("declared", "likely"), [("s", "ms"), ("us", "ms"), ("ns", "ms")])
def test_generic_wrong_time_unit_is_named(tmp_path, declared, likely):
    path = tmp_path / "l.csv"
    truth = _write(path, n=200, rate=200.0)
    frame = pd.read_csv(path)
    frame["time_s"] = truth["t"] * 1000.0  # the logger wrote milliseconds
    frame.to_csv(path, index=False)
    with pytest.raises(ImportFormatError) as exc:
        import_csv(path, side="left", time_unit=declared)
    assert f"probably in {likely!r} (pass time_unit={likely!r})" in _one_line(exc)
    session = import_csv(path, side="left", time_unit="ms")
    assert session.meta.sample_rate_hz["left"] == pytest.approx(200.0)


def test_generic_rad_per_s_declared_as_deg_per_s(tmp_path):
    path = tmp_path / "l.csv"
    rng = np.random.default_rng(1)
    t = np.arange(400) / 200.0
    swing = 8.0 * np.sin(2 * np.pi * 1.4 * t)  # a running shank: up to 8 rad/s
    acc = np.column_stack([C.GRAVITY + 20.0 * np.abs(np.sin(2 * np.pi * 1.4 * t)) ** 8, rng.normal(0, 1, t.size),
                           rng.normal(0, 1, t.size)])
    gyr = np.column_stack([rng.normal(0, 0.5, t.size), rng.normal(0, 0.5, t.size), swing])
    pd.DataFrame(np.column_stack([t, acc, gyr]), columns=list(C.SAMPLE_COLS)).to_csv(path, index=False)
    assert import_csv(path, side="left", gyr_unit="rad/s").arrays("left")["gyr"].max() > 7.0
    with pytest.raises(ImportFormatError) as exc:
        import_csv(path, side="left", gyr_unit="deg/s")
    assert "probably in rad/s (pass gyr_unit='rad/s')" in _one_line(exc)


def test_generic_file_without_numbers_or_moving_time_is_one_line(tmp_path):
    _write(tmp_path / "l.csv", n=50)
    frame = pd.read_csv(tmp_path / "l.csv")
    frame.assign(acc_x=np.nan, acc_y=np.nan, acc_z=np.nan).to_csv(tmp_path / "nan.csv", index=False)
    with pytest.raises(ImportFormatError) as exc:
        import_csv(tmp_path / "nan.csv", side="left")
    assert "no row has all three acceleration values (50 rows read)" in _one_line(exc)
    frame.assign(time_s=3.0).to_csv(tmp_path / "stuck.csv", index=False)
    with pytest.raises(ImportFormatError) as exc:
        import_csv(tmp_path / "stuck.csv", side="left")
    assert "the time column does not advance (every row says 3 s)" in _one_line(exc)


def test_generic_decimal_comma_is_named(tmp_path):
    _write(tmp_path / "l.csv", n=50)
    pd.read_csv(tmp_path / "l.csv").to_csv(tmp_path / "euro.csv", sep=";", decimal=",", index=False)
    with pytest.raises(ImportFormatError) as exc:
        import_csv(tmp_path / "euro.csv", side="left")
    assert "is not a number (a decimal comma?" in _one_line(exc)
