"""The README's researcher examples (import, analyze + export, cohort on Dask) run as written.

The examples live here and in the README between ``<!-- researcher examples ... -->`` and
``<!-- /researcher examples -->``; when the README has that section its ``python`` blocks must equal these, so the
published text is the tested text.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"

IMPORT_EXAMPLE = '''
from gait.io.importers import import_csv, import_sensor_csv

session = import_csv(
    left="left.csv",
    right="right.csv",
    columns={"time_s": "t_ms", "acc_x": "AX", "acc_y": "AY", "acc_z": "AZ",
             "gyr_x": "GX", "gyr_y": "GY", "gyr_z": "GZ"},
    time_unit="ms",
    acc_unit="g",
    gyr_unit="deg/s",
    subject="S01",
    label="unweighted",
    load_kg=0.0,
)
dot = import_sensor_csv(left="dot_left.csv", right="dot_right.csv", subject="S01", label="weighted", load_kg=1.0)
dot.save("S01_weighted.parquet")
print(dot.describe())
'''

ANALYZE_EXAMPLE = '''
import gait
from gait.io.export import export_gaitmap_stride_list, export_result, to_gaitmap_stride_list
from gait.synth import simulate_session

session, truth = simulate_session(seed=1, duration_s=30.0, subject="S01")
result = gait.analyze(session)
export_result(result, "out", fmt="parquet", stem="S01_run1")  # out/S01_run1.strides.parquet, .summary, .asymmetry
export_gaitmap_stride_list(result, "out/S01_run1.gaitmap.csv", sample_rate_hz=200.0, stride_type="min_vel")
stride_list = to_gaitmap_stride_list(result, 200.0)  # {"left_sensor": DataFrame, "right_sensor": DataFrame}
print(stride_list["left_sensor"].head())
'''

COHORT_EXAMPLE = '''
from gait.batch import read_runs, read_strides, run_batch
from gait.cohort import fit_mixed_models, plot_load_effects, simulate_cohort

if __name__ == "__main__":  # Dask starts worker processes: scripts need the main guard
    simulate_cohort("cohort", n_runners=4, runs_per_condition=1, duration_s=30.0, seed=1)
    report = run_batch("cohort", "results", workers=2)  # or scheduler="tcp://10.0.0.5:8786"
    print(report.summary())  # counts, then one "FAILED <file>: <reason>" line per failed session
    runs = read_runs("results")  # one row per run: subject, label, load_kg, speed_ref_mps, metric means
    strides = read_strides("results")  # one row per stride, every partition
    table = fit_mixed_models(runs, ["cadence_spm", "contact_time_s", "shank_angle_ic_deg"])
    print(table[table.term == "load_kg"][["metric", "estimate", "ci_low", "ci_high", "p_value"]])
    plot_load_effects(table).savefig("load_effects.png")
'''

EXAMPLES = [IMPORT_EXAMPLE, ANALYZE_EXAMPLE, COHORT_EXAMPLE]


def _run(code: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.chdir(folder)
    namespace: dict = {"__name__": "__main__"}
    exec(compile(code, f"<README example in {folder.name}>", "exec"), namespace)  # noqa: S102 - our own text
    return namespace


@pytest.fixture
def import_files(tmp_path: Path) -> Path:
    """The files the import example names: a generic CSV per side, and two Movella DOT exports."""
    generic = pd.read_csv(DATA / "generic_both_sides.csv", sep=";")
    for side, code in (("left", "L"), ("right", "R")):
        generic[generic["foot"] == code].drop(columns="foot").to_csv(tmp_path / f"{side}.csv", index=False)
    shutil.copy(DATA / "movella_dot_left.csv", tmp_path / "dot_left.csv")
    shutil.copy(DATA / "movella_dot_right.csv", tmp_path / "dot_right.csv")
    return tmp_path


def test_import_example(import_files, monkeypatch, capsys):
    ns = _run(IMPORT_EXAMPLE, import_files, monkeypatch)
    assert ns["session"].sides == ("left", "right") and ns["session"].meta.subject == "S01"
    assert ns["dot"].meta.load_kg == {"left": 1.0, "right": 1.0}
    assert (import_files / "S01_weighted.parquet").is_file()
    assert "Movella DOT" in capsys.readouterr().out


def test_analyze_and_export_example(tmp_path, monkeypatch):
    ns = _run(ANALYZE_EXAMPLE, tmp_path, monkeypatch)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "S01_run1.asymmetry.parquet",
        "S01_run1.gaitmap.csv",
        "S01_run1.strides.parquet",
        "S01_run1.summary.parquet",
    ]
    assert set(ns["stride_list"]) == {"left_sensor", "right_sensor"}
    gm = pd.read_csv(tmp_path / "out/S01_run1.gaitmap.csv")
    assert {"sensor", "s_id", "start", "end", "pre_ic", "min_vel", "tc", "ic"} <= set(gm.columns)


@pytest.mark.slow
def test_cohort_example(tmp_path, monkeypatch, capsys):
    ns = _run(COHORT_EXAMPLE, tmp_path, monkeypatch)
    out = capsys.readouterr().out
    assert "8 analyzed, 0 already done, 0 failed" in out
    assert len(ns["runs"]) == 8 and set(ns["runs"]["label"]) == {"weighted", "unweighted"}
    load = ns["table"].query("term == 'load_kg' and metric == 'cadence_spm'").iloc[0]
    assert load.estimate < 0  # the synthetic runners slow their cadence with ankle weights
    assert (tmp_path / "load_effects.png").stat().st_size > 0


def test_readme_blocks_are_the_tested_examples():
    readme = (REPO / "README.md").read_text(encoding="utf-8") if (REPO / "README.md").exists() else ""
    m = re.search(r"<!-- researcher examples.*?-->(.*?)<!-- /researcher examples -->", readme, re.S)
    if m is None:
        pytest.skip("README.md has no researcher-examples section yet")
    blocks = re.findall(r"```python\n(.*?)```", m.group(1), re.S)
    assert [b.strip() for b in blocks] == [e.strip() for e in EXAMPLES]
