"""Loaders for the public reference recordings in ``../shared/data`` (never copied into the project).

Why: validating the engine needs real data with reference values, and researchers want to run the pipeline on
these public layouts too. Every loader returns plain numpy / pandas objects in SI units (the unit is in the
name of each column or field), raises a one-line ``ValueError`` naming the problem when a file is not what it
claims to be, and takes the folder from a ``data_root`` argument (default: :func:`shared_data_root`).

Datasets (read each folder's README for provenance, licence and pitfalls):

* ``gaitmap_example_foot_walking``: foot IMUs (204.8 Hz), motion-capture stride events and stride lengths.
* ``ipol_healthy_gait_feet``: foot IMUs (100 Hz) of 13 subjects, checked TO/HS events; packet-counter clock.
* ``fukuchi2017_running_treadmill``: treadmill running markers (150 Hz) and force (300 Hz), static trials.
* ``adeptdata_acc_running_ankle``: 25 min outdoor run, ankle accelerometer only (100 Hz, g).
"""

from __future__ import annotations

import gzip
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gait.conventions import (
    CADENCE,
    CONTACT_TIME,
    GRAVITY,
    IC_TIME,
    NEXT_IC_TIME,
    SHANK_ANGLE_IC,
    SIDE,
    SIDES,
    SPEED,
    STRIDE_ID,
    STRIDE_LENGTH,
    STRIDE_TIME,
    TO_TIME,
)

__all__ = [
    "ADEPT",
    "FUKUCHI",
    "FUKUCHI_TRIALS",
    "GAITMAP",
    "IPOL",
    "FukuchiReference",
    "FukuchiTrial",
    "IpolTrial",
    "dataset_dir",
    "fukuchi_reference",
    "gaitmap_reference_strides",
    "ipol_reference_strides",
    "ipol_trial_ids",
    "load_adeptdata_ankle",
    "load_fukuchi_trial",
    "load_gaitmap_example",
    "load_ipol_trial",
    "read_fukuchi_c3d",
    "read_fukuchi_forces",
    "read_fukuchi_markers",
    "read_fukuchi_subjects",
    "read_gaitmap_imu",
    "read_gaitmap_stride_events",
    "read_gaitmap_stride_lengths",
    "read_ipol_imu",
    "read_ipol_meta",
    "shared_data_root",
]

ENV_VAR = "GAIT_SHARED_DATA"
GAITMAP = "gaitmap_example_foot_walking"
IPOL = "ipol_healthy_gait_feet"
FUKUCHI = "fukuchi2017_running_treadmill"
ADEPT = "adeptdata_acc_running_ankle"

GAITMAP_FS_HZ = 204.8
GAITMAP_MOCAP_FS_HZ = 100.0
IPOL_FS_HZ = 100.0
FUKUCHI_MARKER_FS_HZ = 150.0
FUKUCHI_FORCE_FS_HZ = 300.0
ADEPT_FS_HZ = 100.0
MM = 1e-3

#: Fukuchi lab frame: X = running direction, Y = up, Z = to the runner's right (belt moves towards -X).
FUKUCHI_FORWARD_AXIS = 0
FUKUCHI_UP_AXIS = 1

#: The Fukuchi trials in the shared folder: name -> (subject, belt speed m/s, marker file, force file).
FUKUCHI_TRIALS: dict[str, tuple[str, float, str, str | None]] = {
    "RBDS001runT25": ("RBDS001", 2.5, "RBDS001runT25markers.txt", "RBDS001runT25forces.txt"),
    "RBDS001runT35": ("RBDS001", 3.5, "RBDS001runT35.c3d", None),
    "RBDS008runT35": ("RBDS008", 3.5, "RBDS008runT35markers.txt", "RBDS008runT35forces.txt"),
}

#: What a parser may raise on a file of the wrong kind (turned into one-line ValueErrors).
_PARSE_ERRORS = (ValueError, IndexError, KeyError, TypeError, UnicodeDecodeError, EOFError, OSError)

FORCE_COLS = ("time_s", "fx_n", "fy_n", "fz_n", "cop_x_m", "cop_y_m", "cop_z_m")


# --- locating the data --------------------------------------------------------------------------------------


def shared_data_root(data_root: str | os.PathLike[str] | None = None) -> Path | None:
    """The folder holding the public datasets, or ``None`` when it is absent.

    Order: ``data_root`` if given, else ``$GAIT_SHARED_DATA``, else ``../shared/data`` relative to the
    repository root (the folder holding ``pyproject.toml`` above this file), else ``../shared/data`` from the
    current directory.
    """
    if data_root is not None:
        candidates = [Path(data_root)]
    elif os.environ.get(ENV_VAR):
        candidates = [Path(os.environ[ENV_VAR])]
    else:
        candidates = []
        for parent in Path(__file__).resolve().parents:
            if (parent / "pyproject.toml").is_file():
                candidates.append(parent.parent / "shared" / "data")
                break
        candidates.append(Path.cwd().parent / "shared" / "data")
    for c in candidates:
        if c.is_dir():
            return c.resolve()
    return None


def dataset_dir(name: str, data_root: str | os.PathLike[str] | None = None) -> Path:
    """Folder of one dataset; ``FileNotFoundError`` with the searched path when it is missing."""
    root = shared_data_root(data_root)
    if root is None:
        where = data_root or os.environ.get(ENV_VAR) or "../shared/data"
        raise FileNotFoundError(f"shared data folder not found ({where}); set {ENV_VAR} or pass data_root")
    path = root / name
    if not path.is_dir():
        raise FileNotFoundError(f"dataset {name!r} not found under {root}")
    return path


def _why(exc: BaseException) -> str:
    """First line of an exception message, shortened, for one-line errors."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= 100 else text[:97] + "..."


def _check_file(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    return path


# --- gaitmap example data -----------------------------------------------------------------------------------


def read_gaitmap_imu(
    path: str | os.PathLike[str], fs_hz: float = GAITMAP_FS_HZ
) -> dict[str, dict[str, np.ndarray]]:
    """A gaitmap two-header-row IMU CSV (``imu_sample*.csv``) as ``{side: dict(t, acc, gyr)}``.

    ``t`` in s (sample index / ``fs_hz``), ``acc`` (n, 3) m/s², ``gyr`` (n, 3) **rad/s** (the file has deg/s).
    Columns are selected by the (sensor, axis) header, so interleaved and grouped layouts both work.
    """
    path = _check_file(path)
    try:
        df = pd.read_csv(path, header=[0, 1], index_col=0)
    except _PARSE_ERRORS as exc:
        raise ValueError(f"{path.name}: not a gaitmap IMU CSV with two header rows ({_why(exc)})") from None
    sensors = {"left": "left_sensor", "right": "right_sensor"}
    out: dict[str, dict[str, np.ndarray]] = {}
    for side, sensor in sensors.items():
        cols = [(sensor, f"{kind}_{ax}") for kind in ("acc", "gyr") for ax in "xyz"]
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ValueError(f"{path.name}: not a gaitmap IMU CSV (missing column {missing[0]})")
        values = df.loc[:, cols].to_numpy(dtype=float)
        idx = df.index.to_numpy(dtype=float)
        out[side] = {"t": idx / fs_hz, "acc": values[:, :3], "gyr": np.deg2rad(values[:, 3:])}
    return out


def read_gaitmap_stride_events(path: str | os.PathLike[str], fs_hz: float = GAITMAP_FS_HZ) -> pd.DataFrame:
    """``stride_events_sample.csv``: sample indices (``start end ic tc min_vel pre_ic``) plus ``*_time_s``.

    Sample indices refer to ``imu_sample.csv`` (204.8 Hz). A gaitmap stride runs ``min_vel`` -> next
    ``min_vel``; ``pre_ic`` is the initial contact before it, ``tc`` the toe-off, ``ic`` the contact that ends
    it.
    """
    path = _check_file(path)
    df = pd.read_csv(path)
    need = ["s_id", "foot", "start", "end", "ic", "tc", "min_vel", "pre_ic"]
    if [c for c in need if c not in df.columns]:
        raise ValueError(f"{path.name}: not a gaitmap stride-event file (need columns {', '.join(need)})")
    if not df["foot"].isin(SIDES).all():
        raise ValueError(f"{path.name}: column 'foot' must hold 'left'/'right'")
    for c in need[2:]:
        df[f"{c}_time_s"] = df[c].astype(float) / fs_hz
    return df


def read_gaitmap_stride_lengths(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Reference stride lengths from ``position_sample.csv``: one row per (``side``, ``s_id``).

    Stride length = horizontal norm of the heel-marker position at the last sample of the stride (m), as the
    dataset README defines it; ``n_samples`` at 100 Hz is given too.
    """
    path = _check_file(path)
    try:
        df = pd.read_csv(path, index_col=[0, 1, 2])
    except _PARSE_ERRORS as exc:
        raise ValueError(f"{path.name}: not a gaitmap position file ({_why(exc)})") from None
    if not {"pos_x", "pos_y", "pos_z"} <= set(df.columns) or df.index.nlevels != 3:
        raise ValueError(
            f"{path.name}: not a gaitmap position file (need index sensor/s_id/sample and pos_x..z)"
        )
    last = df.groupby(level=[0, 1]).tail(1)
    sizes = df.groupby(level=[0, 1]).size()
    out = pd.DataFrame(
        {
            SIDE: [str(s).replace("_sensor", "") for s in last.index.get_level_values(0)],
            "s_id": last.index.get_level_values(1).astype(int),
            STRIDE_LENGTH: np.hypot(last["pos_x"].to_numpy(), last["pos_y"].to_numpy()),
            "n_samples": sizes.loc[[(a, b) for a, b, _ in last.index]].to_numpy(),
        }
    )
    return out.reset_index(drop=True)


def gaitmap_reference_strides(events: pd.DataFrame, lengths: pd.DataFrame | None = None) -> pd.DataFrame:
    """IC-to-IC reference strides from gaitmap events, in stride-table columns.

    gaitmap strides run mid-stance to mid-stance; the IC-based stride inside one is ``pre_ic`` -> ``ic`` with
    toe-off ``tc``: ``ic_time_s = pre_ic``, ``to_time_s = tc``, ``next_ic_time_s = ic``, contact time
    ``tc - pre_ic``. ``stride_length_m`` (mid-stance to mid-stance heel displacement) is joined on ``s_id``.
    """
    out = pd.DataFrame(
        {
            SIDE: events["foot"].to_numpy(),
            STRIDE_ID: events["s_id"].to_numpy(),
            IC_TIME: events["pre_ic_time_s"].to_numpy(),
            TO_TIME: events["tc_time_s"].to_numpy(),
            NEXT_IC_TIME: events["ic_time_s"].to_numpy(),
        }
    )
    out[STRIDE_TIME] = out[NEXT_IC_TIME] - out[IC_TIME]
    out[CONTACT_TIME] = out[TO_TIME] - out[IC_TIME]
    if lengths is not None:
        lmap = lengths.set_index(["side", "s_id"])[STRIDE_LENGTH]
        out[STRIDE_LENGTH] = [
            lmap.get((s, i), np.nan) for s, i in zip(out[SIDE], out[STRIDE_ID], strict=True)
        ]
    return out.sort_values([SIDE, IC_TIME]).reset_index(drop=True)


def load_gaitmap_example(
    data_root: str | os.PathLike[str] | None = None, imu_file: str = "imu_sample_not_rotated.csv"
) -> dict[str, object]:
    """The gaitmap example walk: dict: ``imu`` (per side), ``events``, ``lengths``, ``reference``, ``fs_hz``.

    ``imu_file="imu_sample_not_rotated.csv"`` (default) keeps the raw sensor axes; ``imu_sample.csv`` is
    already rotated into gaitmap's foot frame.
    """
    folder = dataset_dir(GAITMAP, data_root)
    imu = read_gaitmap_imu(folder / imu_file)
    events = read_gaitmap_stride_events(folder / "stride_events_sample.csv")
    lengths = read_gaitmap_stride_lengths(folder / "position_sample.csv")
    return {
        "imu": imu,
        "events": events,
        "lengths": lengths,
        "reference": gaitmap_reference_strides(events, lengths),
        "fs_hz": GAITMAP_FS_HZ,
    }


# --- IPOL healthy gait --------------------------------------------------------------------------------------

IPOL_COLUMNS = (
    "PacketCounter",
    "Acc_X",
    "Acc_Y",
    "Acc_Z",
    "Gyr_X",
    "Gyr_Y",
    "Gyr_Z",
    "Mag_X",
    "Mag_Y",
    "Mag_Z",
)


def read_ipol_imu(path: str | os.PathLike[str], fill: str = "nan", origin: str = "counter") -> dict[str, object]:
    """One IPOL foot file (``*_lf.txt.gz`` / ``*_rf.txt.gz``) on a gap-free 100 Hz packet-counter grid.

    ``origin="counter"`` (default) places each row at sample ``PacketCounter`` itself: in the IPOL files the
    counter is one clock shared by the sensors of a trial (it starts at 0, 1 or 2 and the three files of a
    trial often end on the same value), and the JSON event indices are samples of that clock. A file whose
    first packet is ``p0 > 0`` therefore starts with ``p0`` gap samples. ``origin="first_row"`` places rows at
    ``PacketCounter - first PacketCounter`` instead, which shifts such a file ``p0`` samples early against the
    events (the bug this option is kept to document). Duplicated counters keep the first row. Missing packets
    are NaN (``fill="nan"``) or linearly interpolated (``fill="linear"``, edge values before the first packet);
    either way ``gap`` marks them.

    Returns dict: ``t`` (s), ``acc`` (n, 3) m/s², ``gyr`` (n, 3) rad/s, ``mag`` (n, 3) Xsens units, ``gap``
    (bool per sample), ``n_missing``, ``n_duplicates``, ``fs_hz``, ``first_packet``.
    """
    if fill not in ("nan", "linear"):
        raise ValueError(f"fill: allowed values are 'nan', 'linear', but got {fill!r}")
    if origin not in ("counter", "first_row"):
        raise ValueError(f"origin: allowed values are 'counter', 'first_row', but got {origin!r}")
    path = _check_file(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt") as fh:
            first = fh.readline().strip()
            if not first.startswith("Acquisition frequency"):
                raise ValueError(
                    f"{path.name}: not an IPOL IMU file (first line is not 'Acquisition frequency')"
                )
            fs = float(first.split(":")[1].split("Hz")[0])
            df = pd.read_csv(fh, sep="\t")
    except _PARSE_ERRORS as exc:
        if str(exc).startswith(path.name):
            raise
        raise ValueError(f"{path.name}: not an IPOL IMU file ({_why(exc)})") from None
    df.columns = [c.strip() for c in df.columns]
    if tuple(df.columns[: len(IPOL_COLUMNS)]) != IPOL_COLUMNS:
        raise ValueError(f"{path.name}: not an IPOL IMU file (header {list(df.columns)[:4]}...)")
    pc = df["PacketCounter"].to_numpy(dtype=float)
    if len(pc) == 0 or not np.isfinite(pc).all():
        raise ValueError(f"{path.name}: empty or non-numeric PacketCounter")
    if np.any(np.diff(pc) < 0):
        # the 16-bit Xsens counter wraps at 65536
        pc = pc + 65536 * np.concatenate([[0], np.cumsum(np.diff(pc) < -32768)])
    if origin == "first_row" or pc[0] < 0:
        pc = pc - pc[0]
    keep = np.concatenate([[True], np.diff(pc) > 0])
    n_dup = int((~keep).sum())
    idx = pc[keep].astype(int)
    vals = df.loc[keep, list(IPOL_COLUMNS[1:])].to_numpy(dtype=float)
    n = int(idx[-1]) + 1
    grid = np.full((n, 9), np.nan)
    grid[idx] = vals
    gap = np.ones(n, dtype=bool)
    gap[idx] = False
    if fill == "linear" and gap.any():
        k = np.arange(n)
        for j in range(9):
            grid[gap, j] = np.interp(k[gap], idx, vals[:, j])
    return {
        "t": np.arange(n) / fs,
        "acc": grid[:, 0:3],
        "gyr": grid[:, 3:6],
        "mag": grid[:, 6:9],
        "gap": gap,
        "n_missing": int(gap.sum()),
        "n_duplicates": n_dup,
        "fs_hz": fs,
        "first_packet": float(df["PacketCounter"].iloc[0]),
    }


def read_ipol_meta(path: str | os.PathLike[str]) -> dict[str, object]:
    """An IPOL ``<s>-<t>.json`` (tolerates the bare ``NaN`` token); checks the keys the validation needs."""
    path = _check_file(path)
    try:
        meta = json.loads(path.read_text())
    except _PARSE_ERRORS as exc:
        raise ValueError(f"{path.name}: not valid JSON ({_why(exc)})") from None
    need = ("TrialBoundaries", "UTurnBoundaries", "LeftFootEvents", "RightFootEvents")
    if not isinstance(meta, dict) or any(k not in meta for k in need):
        raise ValueError(f"{path.name}: not IPOL metadata (need keys {', '.join(need)})")
    return meta


@dataclass
class IpolTrial:
    """One IPOL trial: both feet on the packet-counter grid plus metadata (event indices at 100 Hz)."""

    trial_id: str
    imu: dict[str, dict[str, object]]
    meta: dict[str, object]
    fs_hz: float = IPOL_FS_HZ

    @property
    def reference(self) -> pd.DataFrame:
        """IC-based reference strides, see :func:`ipol_reference_strides`."""
        return ipol_reference_strides(self.meta, self.fs_hz)


def ipol_trial_ids(data_root: str | os.PathLike[str] | None = None) -> list[str]:
    """Trial ids (``"1-1"``, ...) present in the IPOL folder, in subject/trial order."""
    folder = dataset_dir(IPOL, data_root) / "GaitData"
    ids = [p.name[: -len(".json")] for p in folder.glob("*-*.json")]
    return sorted(ids, key=lambda s: tuple(int(x) for x in s.split("-")))


def load_ipol_trial(
    trial_id: str,
    data_root: str | os.PathLike[str] | None = None,
    fill: str = "nan",
    origin: str = "counter",
) -> IpolTrial:
    """Both feet and the metadata of one IPOL trial (e.g. ``"3-2"``); ``fill``/``origin``: :func:`read_ipol_imu`."""
    folder = dataset_dir(IPOL, data_root) / "GaitData"
    imu = {
        "left": read_ipol_imu(folder / f"{trial_id}_lf.txt.gz", fill=fill, origin=origin),
        "right": read_ipol_imu(folder / f"{trial_id}_rf.txt.gz", fill=fill, origin=origin),
    }
    return IpolTrial(trial_id, imu, read_ipol_meta(folder / f"{trial_id}.json"))


def ipol_reference_strides(meta: dict[str, object], fs_hz: float = IPOL_FS_HZ) -> pd.DataFrame:
    """IC-based reference strides of an IPOL trial.

    The JSON lists swing phases ``[TO, HS]`` per foot. Stride ``k`` runs from HS_k to HS_{k+1} with toe-off
    TO_{k+1}; contact time = TO_{k+1} - HS_k. The last HS of each foot gets a row with NaN next-IC / TO.
    ``straight`` is False for strides that overlap the U-turn or leave the trial boundaries.
    """
    t0, t1 = (float(v) / fs_hz for v in meta["TrialBoundaries"])  # type: ignore[union-attr]
    u0, u1 = (float(v) / fs_hz for v in meta["UTurnBoundaries"])  # type: ignore[union-attr]
    rows = []
    for side, key in (("left", "LeftFootEvents"), ("right", "RightFootEvents")):
        ev = np.asarray(meta[key], dtype=float).reshape(-1, 2) / fs_hz
        ev = ev[np.argsort(ev[:, 1])]
        to, hs = ev[:, 0], ev[:, 1]
        nxt_hs = np.append(hs[1:], np.nan)
        nxt_to = np.append(to[1:], np.nan)
        for k in range(len(hs)):
            rows.append((side, k, hs[k], nxt_to[k], nxt_hs[k]))
    df = pd.DataFrame(rows, columns=[SIDE, STRIDE_ID, IC_TIME, TO_TIME, NEXT_IC_TIME])
    df[STRIDE_TIME] = df[NEXT_IC_TIME] - df[IC_TIME]
    df[CONTACT_TIME] = df[TO_TIME] - df[IC_TIME]
    end = df[NEXT_IC_TIME].fillna(df[IC_TIME])
    overlaps_turn = (end > u0) & (df[IC_TIME] < u1)
    df["straight"] = ~overlaps_turn & (df[IC_TIME] >= t0) & (end <= t1)
    return df.sort_values([SIDE, IC_TIME]).reset_index(drop=True)


# --- adeptdata ----------------------------------------------------------------------------------------------


def load_adeptdata_ankle(data_root: str | os.PathLike[str] | None = None, path: str | None = None) -> dict:
    """The 25-min outdoor run, left-ankle accelerometer: ``t`` (s), ``acc`` (n, 3) **m/s²** (file is in g)."""
    path = Path(path) if path else dataset_dir(ADEPT, data_root) / "acc_running_left_ankle.csv.gz"
    path = _check_file(path)
    try:
        df = pd.read_csv(path)
    except _PARSE_ERRORS as exc:
        raise ValueError(f"{path.name}: not an adeptdata CSV ({_why(exc)})") from None
    need = ["time_s", "acc_x_g", "acc_y_g", "acc_z_g"]
    if [c for c in need if c not in df.columns]:
        raise ValueError(f"{path.name}: not an adeptdata CSV (need columns {', '.join(need)})")
    return {
        "t": df["time_s"].to_numpy(dtype=float),
        "acc": df[need[1:]].to_numpy(dtype=float) * GRAVITY,
        "fs_hz": ADEPT_FS_HZ,
        "side": "left",
    }


# --- Fukuchi 2017 -------------------------------------------------------------------------------------------


def read_fukuchi_markers(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], float]:
    """A Fukuchi marker text file (running or static): ``({name: (n, 3) metres}, fs_hz)``.

    Times come from the frame index (the file's ``Time`` column is rounded to 3 decimals); empty cells are
    NaN.
    """
    path = _check_file(path)
    try:
        df = pd.read_csv(path, sep="\t")
    except _PARSE_ERRORS as exc:
        raise ValueError(f"{path.name}: not a Fukuchi marker file ({_why(exc)})") from None
    cols = [c.strip() for c in df.columns]
    names = [c[:-1] for c in cols[1::3]]
    ok = (
        len(cols) > 1
        and cols[0] == "Time"
        and (len(cols) - 1) % 3 == 0
        and all(cols[1 + 3 * i : 4 + 3 * i] == [f"{n}X", f"{n}Y", f"{n}Z"] for i, n in enumerate(names))
    )
    if not ok:
        raise ValueError(f"{path.name}: not a Fukuchi marker file (want 'Time' then <marker>X/Y/Z columns)")
    values = df.iloc[:, 1:].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float) * MM
    markers = {n: values[:, 3 * i : 3 * i + 3] for i, n in enumerate(names)}
    return markers, FUKUCHI_MARKER_FS_HZ


def read_fukuchi_forces(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A Fukuchi treadmill force text file as a DataFrame in SI.

    Columns ``time_s`` ((sample - 1) / 300), ``fx_n fy_n fz_n`` (N, lab frame, ``fy`` vertical up),
    ``cop_x_m cop_y_m cop_z_m`` (m) and ``ty_raw`` (free moment, unit not stated by the source, likely N·mm).
    """
    path = _check_file(path)
    try:
        df = pd.read_csv(path, sep="\t")
    except _PARSE_ERRORS as exc:
        raise ValueError(f"{path.name}: not a Fukuchi force file ({_why(exc)})") from None
    want = ["Time", "Fx", "Fy", "Fz", "COPx", "COPy", "COPz", "Ty"]
    if [c.strip() for c in df.columns] != want:
        raise ValueError(f"{path.name}: not a Fukuchi force file (want header {' '.join(want)})")
    out = pd.DataFrame(
        {
            "time_s": (df["Time"].to_numpy(dtype=float) - 1.0) / FUKUCHI_FORCE_FS_HZ,
            "fx_n": df["Fx"].to_numpy(dtype=float),
            "fy_n": df["Fy"].to_numpy(dtype=float),
            "fz_n": df["Fz"].to_numpy(dtype=float),
            "cop_x_m": df["COPx"].to_numpy(dtype=float) * MM,
            "cop_y_m": df["COPy"].to_numpy(dtype=float) * MM,
            "cop_z_m": df["COPz"].to_numpy(dtype=float) * MM,
            "ty_raw": df["Ty"].to_numpy(dtype=float),
        }
    )
    return out


def read_fukuchi_c3d(
    path: str | os.PathLike[str],
) -> tuple[dict[str, np.ndarray], float, pd.DataFrame, float]:
    """A Fukuchi C3D file: ``(markers {name: (n, 3) m}, marker fs, force DataFrame as above, force fs)``.

    Uses ``ezc3d`` with ``extract_forceplat_data=True``, which applies the platform calibration matrix (the
    raw analog channels are not newtons). Markers at exactly (0, 0, 0) are treated as missing (NaN).
    """
    path = _check_file(path)
    with open(path, "rb") as fh:
        head = fh.read(2)
    if len(head) < 2 or head[1] != 0x50:
        raise ValueError(f"{path.name}: not a C3D file (bad header key)")
    try:
        import ezc3d
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("reading C3D needs the 'ezc3d' package: pip install ezc3d") from None
    try:
        c = ezc3d.c3d(str(path), extract_forceplat_data=True)
    except Exception as exc:  # ezc3d raises plain RuntimeError / IOError on bad files
        raise ValueError(f"{path.name}: unreadable C3D ({_why(exc)})") from None
    pars = c["parameters"]
    labels = [s.strip() for s in pars["POINT"]["LABELS"]["value"]]
    unit = pars["POINT"]["UNITS"]["value"][0].strip() if "UNITS" in pars["POINT"] else "mm"
    scale = {"mm": MM, "m": 1.0, "cm": 0.01}.get(unit)
    if scale is None:
        raise ValueError(f"{path.name}: unsupported POINT:UNITS {unit!r}")
    pts = np.asarray(c["data"]["points"][:3], dtype=float)  # (3, n_markers, n_frames)
    pts = np.transpose(pts, (2, 1, 0)) * scale
    pts[np.all(pts == 0.0, axis=2)] = np.nan
    markers = {name: pts[:, i, :] for i, name in enumerate(labels)}
    fs_m = float(pars["POINT"]["RATE"]["value"][0])
    if not c["data"]["platform"]:
        raise ValueError(f"{path.name}: C3D has no force platform")
    plat = c["data"]["platform"][0]
    if str(plat["unit_force"]).strip() != "N":
        raise ValueError(f"{path.name}: force platform unit is {plat['unit_force']!r}, expected N")
    f = np.asarray(plat["force"], dtype=float)
    cop = np.asarray(plat["center_of_pressure"], dtype=float)
    pscale = {"mm": MM, "m": 1.0}.get(str(plat["unit_position"]).strip(), MM)
    fs_f = float(pars["ANALOG"]["RATE"]["value"][0])
    force = pd.DataFrame(
        {
            "time_s": np.arange(f.shape[1]) / fs_f,
            "fx_n": f[0],
            "fy_n": f[1],
            "fz_n": f[2],
            "cop_x_m": cop[0] * pscale,
            "cop_y_m": cop[1] * pscale,
            "cop_z_m": cop[2] * pscale,
        }
    )
    return markers, fs_m, force, fs_f


def read_fukuchi_subjects(path: str | os.PathLike[str]) -> pd.DataFrame:
    """``RBDSinfo*.txt`` metadata (tab-separated); adds ``height_m`` and ``mass_kg`` (source: cm, kg)."""
    path = _check_file(path)
    try:
        df = pd.read_csv(path, sep="\t")
    except _PARSE_ERRORS as exc:
        raise ValueError(f"{path.name}: not a Fukuchi subject file ({_why(exc)})") from None
    if not {"Subject", "FileName", "Height", "Mass"} <= set(df.columns):
        raise ValueError(f"{path.name}: not a Fukuchi subject file (need Subject, FileName, Height, Mass)")
    df["height_m"] = df["Height"].astype(float) / 100.0
    df["mass_kg"] = df["Mass"].astype(float)
    return df


@dataclass
class FukuchiTrial:
    """One Fukuchi treadmill trial with its subject's static trial, in SI units.

    ``markers`` / ``static``: ``{name: (n, 3)}`` in metres, lab frame X forward, Y up, Z right
    (:data:`FUKUCHI_UP_AXIS`); ``force``: see :func:`read_fukuchi_forces`; ``speed_mps``: nominal belt speed.
    """

    name: str
    subject: str
    speed_mps: float
    markers: dict[str, np.ndarray]
    fs_markers: float
    force: pd.DataFrame
    fs_force: float
    static: dict[str, np.ndarray]
    subject_info: dict[str, object] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        """Number of marker frames."""
        return len(next(iter(self.markers.values())))

    def cluster(self, side: str, static: bool = False) -> np.ndarray:
        """The 4 shank-cluster markers of one side, (n, 4, 3) m."""
        prefix = {"right": "R", "left": "L"}[side]
        src = self.static if static else self.markers
        names = [f"{prefix}.Shank.{a}.{b}" for a in ("Top", "Bottom") for b in ("Lateral", "Medial")]
        return np.stack([src[n] for n in names], axis=1)


def load_fukuchi_trial(name: str, data_root: str | os.PathLike[str] | None = None) -> FukuchiTrial:
    """Load a Fukuchi trial by name (a key of :data:`FUKUCHI_TRIALS`, e.g. ``"RBDS001runT35"``)."""
    if name not in FUKUCHI_TRIALS:
        raise ValueError(f"trial: allowed values are {', '.join(FUKUCHI_TRIALS)}, but got {name!r}")
    folder = dataset_dir(FUKUCHI, data_root)
    subject, speed, mfile, ffile = FUKUCHI_TRIALS[name]
    if mfile.endswith(".c3d"):
        markers, fs_m, force, fs_f = read_fukuchi_c3d(folder / mfile)
    else:
        markers, fs_m = read_fukuchi_markers(folder / mfile)
        force, fs_f = read_fukuchi_forces(folder / str(ffile)), FUKUCHI_FORCE_FS_HZ
    static, _ = read_fukuchi_markers(folder / f"{subject}static.txt")
    info: dict[str, object] = {}
    info_path = folder / "RBDSinfo_subjects_001_008.txt"
    if info_path.is_file():
        subj = read_fukuchi_subjects(info_path)
        row = subj[subj["FileName"] == f"{subject}static.txt"]
        if len(row):
            info = row.iloc[0].to_dict()
    return FukuchiTrial(name, subject, speed, markers, fs_m, force, fs_f, static, info)


def _shank_joint_centres(trial: FukuchiTrial, side: str, cutoff_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Knee and ankle joint centres per frame (m): static midpoints carried by the cluster's rigid fit."""
    from gait.virtual_imu import fill_gaps, lowpass, rigid_fit

    p = {"right": "R", "left": "L"}[side]
    st = trial.static
    knee_s = np.nanmean((st[f"{p}.Knee"] + st[f"{p}.Knee.Medial"]) / 2, axis=0)
    ankle_s = np.nanmean((st[f"{p}.Ankle"] + st[f"{p}.Ankle.Medial"]) / 2, axis=0)
    ref = np.nanmean(trial.cluster(side, static=True), axis=0)
    x, _ = fill_gaps(trial.cluster(side), axis=0)
    x = lowpass(x, trial.fs_markers, cutoff_hz, axis=0)
    rot, t = rigid_fit(ref, x)
    knee = np.einsum("nij,j->ni", rot, knee_s) + t
    ankle = np.einsum("nij,j->ni", rot, ankle_s) + t
    return knee, ankle


def shank_angle_deg(knee: np.ndarray, ankle: np.ndarray) -> np.ndarray:
    """Sagittal (X-Y) shank angle from vertical, deg, positive when the ankle is ahead (+X) of the knee."""
    d = ankle - knee
    return np.rad2deg(np.arctan2(d[:, FUKUCHI_FORWARD_AXIS], -d[:, FUKUCHI_UP_AXIS]))


@dataclass
class FukuchiReference:
    """Force-plate reference of a Fukuchi trial: ``strides`` (one row per contact) and ``summary`` (dict)."""

    strides: pd.DataFrame
    summary: dict[str, object]
    shank_angle_deg: dict[str, np.ndarray]


def fukuchi_reference(
    trial: FukuchiTrial,
    threshold_n: float = 50.0,
    min_contact_s: float = 0.080,
    cutoff_hz: float = 20.0,
    angle_at_ic: str = "interp",
) -> FukuchiReference:
    """Reference gait events and metrics of a Fukuchi trial, as its README derives them.

    Contacts are runs of vertical force ``> threshold_n`` lasting at least ``min_contact_s``; runs touching
    the start or end of the recording are dropped (incomplete). IC = first sample above, TO = first sample
    below. The side is the foot whose heel-bottom / MT5 markers are lower at mid-contact. Per contact: stride
    time to the next IC of the same side, contact time, stride length = belt speed x stride time, shank angle
    at IC (joint centres from the static trial carried by a rigid fit of the 4 shank-cluster markers, markers
    low-passed ``cutoff_hz``), peak vertical force. Cadence = 60 / median step time (IC to the next IC of
    either side).

    ``angle_at_ic="interp"`` interpolates the 150 Hz shank angle linearly at the 300 Hz IC time (default, the
    more precise reference); ``"nearest"`` takes the nearest marker frame, which is what the dataset README's
    table used (medians differ by up to ~0.25 deg).
    """
    if angle_at_ic not in ("interp", "nearest"):
        raise ValueError(f"angle_at_ic: allowed values are 'interp', 'nearest', but got {angle_at_ic!r}")
    fy = trial.force["fy_n"].to_numpy(dtype=float)
    fs_f = trial.fs_force
    on = np.nan_to_num(fy, nan=0.0) > threshold_n
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)  # first sample below (exclusive end)
    long_enough = (ends - starts) >= math.ceil(min_contact_s * fs_f - 1e-9)
    complete = (starts > 0) & (ends < len(fy))
    sel = long_enough & complete
    starts, ends = starts[sel], ends[sel]
    ic = starts / fs_f
    to = ends / fs_f
    if len(ic) < 2:
        raise ValueError(f"{trial.name}: fewer than 2 complete contacts above {threshold_n} N")
    peak = np.array([fy[a:b].max() for a, b in zip(starts, ends, strict=True)])

    # side from foot-marker height at mid-contact
    mid_frame = np.clip(np.round((ic + to) / 2 * trial.fs_markers).astype(int), 0, trial.n_frames - 1)
    up = FUKUCHI_UP_AXIS

    def height(prefix: str) -> np.ndarray:
        hb = trial.markers[f"{prefix}.Heel.Bottom"][mid_frame, up]
        mt = trial.markers[f"{prefix}.MT5"][mid_frame, up]
        return np.nanmean(np.column_stack([hb, mt]), axis=1)

    side = np.where(height("R") < height("L"), "right", "left")

    angles: dict[str, np.ndarray] = {}
    ang_ic = np.full(len(ic), np.nan)
    t_m = np.arange(trial.n_frames) / trial.fs_markers
    for s in SIDES:
        knee, ankle = _shank_joint_centres(trial, s, cutoff_hz)
        angles[s] = shank_angle_deg(knee, ankle)
        m = side == s
        if angle_at_ic == "interp":
            ang_ic[m] = np.interp(ic[m], t_m, angles[s])
        else:
            frame = np.clip(np.round(ic[m] * trial.fs_markers).astype(int), 0, trial.n_frames - 1)
            ang_ic[m] = angles[s][frame]

    df = pd.DataFrame({SIDE: side, IC_TIME: ic, TO_TIME: to})
    df[NEXT_IC_TIME] = np.nan
    for s in SIDES:
        m = df[SIDE] == s
        df.loc[m, NEXT_IC_TIME] = df.loc[m, IC_TIME].shift(-1).to_numpy()
    df[STRIDE_TIME] = df[NEXT_IC_TIME] - df[IC_TIME]
    df[CONTACT_TIME] = df[TO_TIME] - df[IC_TIME]
    df[STRIDE_LENGTH] = trial.speed_mps * df[STRIDE_TIME]
    df[SPEED] = trial.speed_mps
    df[SHANK_ANGLE_IC] = ang_ic
    df["peak_fy_n"] = peak
    df.insert(1, STRIDE_ID, df.groupby(SIDE).cumcount())

    alternates = bool(np.all(side[1:] != side[:-1]))
    cadence = 60.0 / float(np.median(np.diff(ic)))
    df[CADENCE] = 2 * 60.0 / df[STRIDE_TIME]
    summary: dict[str, object] = {
        "trial": trial.name,
        "speed_mps": trial.speed_mps,
        "contacts": len(ic),
        "alternating": alternates,
        "cadence_spm": cadence,
        "peak_fy_median_n": float(np.median(peak)),
    }
    for s in SIDES:
        d = df[df[SIDE] == s]
        summary[f"full_strides_{s}"] = int(d[STRIDE_TIME].notna().sum())
        summary[f"stride_time_median_s_{s}"] = float(d[STRIDE_TIME].median())
        summary[f"contact_time_median_s_{s}"] = float(d[CONTACT_TIME].median())
        summary[f"stride_length_median_m_{s}"] = float(d[STRIDE_LENGTH].median())
        summary[f"shank_angle_ic_median_deg_{s}"] = float(d[SHANK_ANGLE_IC].median())
    return FukuchiReference(df, summary, angles)
