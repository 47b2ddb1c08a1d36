"""Loaders of the public datasets: counts, units, the Fukuchi reference against its README, clear errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from conftest_shared import fukuchi_trials_readable, requires_shared, shared_dataset

from gait.io import public as P

GM, IP, FK, AD = P.GAITMAP, P.IPOL, P.FUKUCHI, P.ADEPT


def test_shared_data_root_env_and_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert P.shared_data_root(tmp_path) == tmp_path.resolve()
    assert P.shared_data_root(tmp_path / "absent") is None
    monkeypatch.setenv(P.ENV_VAR, str(tmp_path))
    assert P.shared_data_root() == tmp_path.resolve()
    with pytest.raises(FileNotFoundError, match="not found under"):
        P.dataset_dir(GM)
    monkeypatch.setenv(P.ENV_VAR, str(tmp_path / "absent"))
    assert P.shared_data_root() is None
    with pytest.raises(FileNotFoundError, match=P.ENV_VAR):
        P.dataset_dir(GM)


# --- gaitmap ------------------------------------------------------------------------------------------------


@requires_shared(GM)
def test_gaitmap_imu_units_and_counts() -> None:
    g = P.load_gaitmap_example()
    for side in ("left", "right"):
        imu = g["imu"][side]
        assert len(imu["t"]) == 7928 and imu["acc"].shape == imu["gyr"].shape == (7928, 3)
        assert imu["t"][1] == pytest.approx(1 / 204.8)
        assert 9.3 < np.linalg.norm(imu["acc"][:100], axis=1).mean() < 10.3  # m/s² at rest
        assert 8 < np.abs(imu["gyr"]).max() < 15  # rad/s (600-700 deg/s peaks)
    rotated = P.read_gaitmap_imu(shared_dataset(GM) / "imu_sample.csv")  # type: ignore[operator]
    # the same samples, only rotated: magnitudes agree
    np.testing.assert_allclose(
        np.linalg.norm(rotated["right"]["gyr"], axis=1), np.linalg.norm(g["imu"]["right"]["gyr"], axis=1)
    )
    ev = g["events"]
    assert ev["foot"].value_counts().to_dict() == {"left": 28, "right": 29}
    assert (ev["pre_ic"] < ev["tc"]).all() and (ev["tc"] < ev["ic"]).all()
    lengths = g["lengths"]
    assert len(lengths) == 57
    assert lengths["stride_length_m"].median() == pytest.approx(1.38, abs=0.01)
    assert lengths["stride_length_m"].between(0.45, 1.47).all()
    ref = g["reference"]
    assert ref["stride_length_m"].notna().all()
    assert ref["contact_time_s"].between(0.5, 0.9).all()  # walking stance


# --- IPOL ---------------------------------------------------------------------------------------------------


@requires_shared(IP)
def test_ipol_trials_grid_and_reference() -> None:
    ids = P.ipol_trial_ids()
    assert len(ids) == 76 and ids[0] == "1-1"
    tr = P.load_ipol_trial("1-1")
    folder = shared_dataset(IP) / "GaitData"  # type: ignore[operator]
    with gzip.open(folder / "1-1_lf.txt.gz", "rt") as fh:
        n_rows = sum(1 for _ in fh) - 2
    left = tr.imu["left"]
    n = len(left["t"])
    assert n == n_rows + left["n_missing"] - left["n_duplicates"]
    assert left["n_missing"] == 86 and np.isnan(left["acc"][left["gap"]]).all()
    assert np.isfinite(left["acc"][~left["gap"]]).all()
    np.testing.assert_allclose(np.diff(left["t"]), 0.01)
    assert 9.0 < np.nanmedian(np.linalg.norm(left["acc"][:50], axis=1)) < 10.5
    assert 8 < np.nanmax(np.abs(left["gyr"])) < 25  # rad/s
    lin = P.read_ipol_imu(folder / "1-1_lf.txt.gz", fill="linear")
    assert np.isfinite(lin["acc"]).all() and lin["gap"].sum() == 86
    ref = tr.reference
    assert set(ref["side"]) == {"left", "right"}
    assert ref["straight"].sum() > 20 and (~ref["straight"]).sum() >= 2
    straight = ref[ref["straight"]].dropna(subset=["next_ic_time_s"])
    assert straight["stride_time_s"].between(0.8, 1.6).all()
    assert straight["contact_time_s"].between(0.4, 1.0).all()


def _ipol_file(path: Path, counters: list[int]) -> Path:
    """A tiny IPOL-format foot file whose Acc_X equals the row number."""
    lines = ["Acquisition frequency: 100 Hz", "\t".join(P.IPOL_COLUMNS)]
    for row, pc in enumerate(counters):
        lines.append("\t".join([f"{pc}.0", f"{row}.0", "0.0", "9.81"] + ["0.0"] * 6))
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


def test_ipol_rows_sit_at_their_packet_counter(tmp_path: Path) -> None:
    # The IPOL event indices are samples of the trial's shared PacketCounter clock, which starts at 0, 1 or 2
    # per file. Rebasing each file on its own first counter put files starting at 1 or 2 one or two samples
    # early against the labels (measured: -10.2 +- 2.7 ms per counter step in the HS-to-gyro-zero-crossing lag).
    f = _ipol_file(tmp_path / "9-9_lf.txt.gz", [2, 3, 4, 7, 8])
    d = P.read_ipol_imu(f)
    assert len(d["t"]) == 9 and d["first_packet"] == 2.0
    np.testing.assert_array_equal(np.flatnonzero(~d["gap"]), [2, 3, 4, 7, 8])
    np.testing.assert_array_equal(d["acc"][[2, 3, 4, 7, 8], 0], [0, 1, 2, 3, 4])  # row r at its counter
    assert np.isnan(d["acc"][:2]).all() and d["n_missing"] == 4  # 2 before the first packet + 2 lost
    np.testing.assert_allclose(d["t"][7], 0.07)
    lin = P.read_ipol_imu(f, fill="linear")
    np.testing.assert_allclose(lin["acc"][[0, 1, 5, 6], 0], [0, 0, 2 + 1 / 3, 2 + 2 / 3])
    old = P.read_ipol_imu(f, origin="first_row")  # the former behaviour, kept explicit
    np.testing.assert_array_equal(np.flatnonzero(~old["gap"]), [0, 1, 2, 5, 6])
    with pytest.raises(ValueError, match="origin"):
        P.read_ipol_imu(f, origin="row")


@requires_shared(IP)
def test_ipol_feet_share_the_packet_clock() -> None:
    # 3-3: left file starts at counter 2, right at 0 (right and lower back both end at counter 4233).
    tr = P.load_ipol_trial("3-3")
    left, right = tr.imu["left"], tr.imu["right"]
    assert left["first_packet"] == 2.0 and right["first_packet"] == 0.0
    assert left["gap"][:2].all() and not left["gap"][2] and not right["gap"][0]
    assert len(right["t"]) == 4234 and len(left["t"]) == 4122  # last counters 4233 / 4121, not rebased


# --- Fukuchi ------------------------------------------------------------------------------------------------

#: The README's table: contacts, full strides R/L, contact time R/L (s), cadence, shank angle R/L (deg), peak
#: Fy.
README = {
    "RBDS001runT25": (77, (37, 38), (0.278, 0.273), 156.5, (5.8, 5.9), 1361),
    "RBDS001runT35": (85, (42, 41), (0.220, 0.227), 171.4, (6.5, 7.8), 1521),
    "RBDS008runT35": (81, (40, 39), (0.240, 0.247), 162.2, (6.0, 9.0), 1783),
}


@pytest.fixture(scope="module")
def fukuchi() -> dict:
    return {name: P.load_fukuchi_trial(name) for name in fukuchi_trials_readable()}


@requires_shared(FK)
def test_fukuchi_files_units(fukuchi: dict) -> None:
    for name, tr in fukuchi.items():
        assert tr.n_frames == 4500 and tr.fs_markers == 150.0
        assert len(tr.force) == 9000 and tr.fs_force == 300.0
        assert tr.force["time_s"].iloc[-1] == pytest.approx(8999 / 300)
        asis = tr.markers["R.ASIS"][:, P.FUKUCHI_UP_AXIS]
        assert 0.8 < np.nanmedian(asis) < 1.2, name  # metres
        assert 1200 < tr.force["fy_n"].max() < 2500  # newtons, also from the C3D
        assert tr.cluster("left").shape == (4500, 4, 3)
        assert len(tr.static["L.Ankle.Medial"]) == 150
        assert tr.subject_info["mass_kg"] in (62.0, 69.0)
    if "RBDS001runT35" not in fukuchi:
        pytest.skip("ezc3d not installed: the C3D trial was not read")
    c3d = fukuchi["RBDS001runT35"]
    assert set(c3d.markers) == set(fukuchi["RBDS001runT25"].markers)
    assert np.isnan(c3d.markers["L.ASIS"]).any()  # (0, 0, 0) frames are missing, not the lab origin


@requires_shared(FK)
@pytest.mark.parametrize("name", list(README))
def test_fukuchi_reference_matches_readme(fukuchi: dict, name: str) -> None:
    if name not in fukuchi:
        pytest.skip("ezc3d not installed: the C3D trial cannot be read")
    contacts, (full_r, full_l), (ct_r, ct_l), cadence, (ang_r, ang_l), peak = README[name]
    ref = P.fukuchi_reference(fukuchi[name])
    s = ref.summary
    assert s["contacts"] == contacts and s["alternating"]
    assert (s["full_strides_right"], s["full_strides_left"]) == (full_r, full_l)
    assert s["contact_time_median_s_right"] == pytest.approx(ct_r, abs=0.0015)
    assert s["contact_time_median_s_left"] == pytest.approx(ct_l, abs=0.0015)
    assert s["cadence_spm"] == pytest.approx(cadence, abs=0.1)
    assert s["peak_fy_median_n"] == pytest.approx(peak, abs=1.0)
    # interpolated at the force IC (default): within 0.35 deg of the README's values (nearest marker frame,
    # which our "nearest" mode reproduces to within rounding of the table)
    assert s["shank_angle_ic_median_deg_right"] == pytest.approx(ang_r, abs=0.35)
    assert s["shank_angle_ic_median_deg_left"] == pytest.approx(ang_l, abs=0.35)
    nearest = P.fukuchi_reference(fukuchi[name], angle_at_ic="nearest").summary
    assert nearest["shank_angle_ic_median_deg_right"] == pytest.approx(ang_r, abs=0.06)
    assert nearest["shank_angle_ic_median_deg_left"] == pytest.approx(ang_l, abs=0.06)
    st = ref.strides
    speed = fukuchi[name].speed_mps
    full = st.dropna(subset=["next_ic_time_s"])
    np.testing.assert_allclose(full["stride_length_m"], speed * full["stride_time_s"])
    assert full["stride_time_s"].between(0.6, 0.85).all()


# --- adeptdata ----------------------------------------------------------------------------------------------


@requires_shared(AD)
def test_adeptdata_units() -> None:
    a = P.load_adeptdata_ankle()
    assert a["acc"].shape == (150000, 3)
    np.testing.assert_allclose(np.diff(a["t"][:1000]), 0.01, atol=1e-9)
    assert 12 < np.median(np.linalg.norm(a["acc"], axis=1)) < 25  # m/s² while running, not g
    assert np.abs(a["acc"]).max() == pytest.approx(8 * 9.80665, rel=1e-3)  # the ±8 g clip


# --- bad files ----------------------------------------------------------------------------------------------


def _one_line(exc: pytest.ExceptionInfo, name: str) -> None:
    msg = str(exc.value)
    assert "\n" not in msg and name in msg and len(msg) < 200, msg


def test_bad_files_give_one_clear_line(tmp_path: Path) -> None:
    txt = tmp_path / "notes.txt"
    txt.write_text("hello\tworld\n1\t2\n")
    for reader, what in [
        (P.read_fukuchi_markers, "not a Fukuchi marker file"),
        (P.read_fukuchi_forces, "not a Fukuchi force file"),
        (P.read_fukuchi_subjects, "not a Fukuchi subject file"),
        (P.read_gaitmap_stride_events, "not a gaitmap stride-event file"),
        (P.read_gaitmap_imu, "not a gaitmap IMU CSV"),
        (P.read_gaitmap_stride_lengths, "not a gaitmap position file"),
        (P.read_ipol_imu, "not an IPOL IMU file"),
        (P.read_ipol_meta, "not valid JSON"),
        (P.read_fukuchi_c3d, "not a C3D file"),
    ]:
        with pytest.raises(ValueError, match=what) as exc:
            reader(txt)
        _one_line(exc, "notes.txt")
    meta = tmp_path / "9-9.json"
    meta.write_text(json.dumps({"Subject": 9}))
    with pytest.raises(ValueError, match="not IPOL metadata") as exc:
        P.read_ipol_meta(meta)
    _one_line(exc, "9-9.json")
    gz = tmp_path / "x_lf.txt.gz"
    gz.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="not an IPOL IMU file") as exc:
        P.read_ipol_imu(gz)
    _one_line(exc, "x_lf.txt.gz")
    with pytest.raises(ValueError, match="not an adeptdata CSV"):
        P.load_adeptdata_ankle(path=str(txt))
    with pytest.raises(FileNotFoundError):
        P.read_fukuchi_forces(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="allowed values"):
        P.load_fukuchi_trial("RBDS999runT99", tmp_path)


@requires_shared(FK)
def test_swapped_fukuchi_files_are_rejected() -> None:
    folder = shared_dataset(FK)
    with pytest.raises(ValueError, match="not a Fukuchi force file"):
        P.read_fukuchi_forces(folder / "RBDS001runT25markers.txt")  # type: ignore[operator]
    with pytest.raises(ValueError, match="not a Fukuchi marker file"):
        P.read_fukuchi_markers(folder / "RBDS001runT25forces.txt")  # type: ignore[operator]
    with pytest.raises(ValueError, match="not a C3D file"):
        P.read_fukuchi_c3d(folder / "RBDS001static.txt")  # type: ignore[operator]
