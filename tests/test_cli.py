"""The ``gait`` command line: help, simulate, info, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import gait
from gait import conventions as C
from gait.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("simulate", "info", "analyze", "validate"):
        assert command in out


def test_console_script_runs():
    done = subprocess.run([sys.executable, "-m", "gait.cli", "--help"], capture_output=True, text=True, check=True)
    assert "simulate" in done.stdout


def test_simulate_then_info(tmp_path, capsys):
    out = tmp_path / "run.parquet"
    code = main(
        [
            "simulate",
            "--out",
            str(out),
            "--duration",
            "40s",
            "--speed",
            "12km/h",
            "--load",
            "2lb",
            "--seed",
            "7",
            "--rate",
            "100",
        ]
    )
    assert code == 0
    session = gait.Session.load(out)
    assert session.meta.label == "weighted"
    assert session.meta.load_kg == pytest.approx({"left": 0.45359237 * 2, "right": 0.45359237 * 2})
    truth = pd.read_csv(tmp_path / "run.truth.csv")
    valid = truth[truth[C.VALID]]
    assert valid[C.SPEED].median() == pytest.approx(12 / 3.6, rel=0.05)
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "left:" in text and "right:" in text and "weighted" in text


def test_same_seed_same_session(tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    for path in (a, b):
        assert main(["simulate", "--out", str(path), "--duration", "20s", "--seed", "3", "--walk"]) == 0
    sa, sb = gait.Session.load(a), gait.Session.load(b)
    for side in C.SIDES:
        assert sa.samples[side].equals(sb.samples[side])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["info", "no-such-file.parquet"], "no such file"),
        (["simulate", "--out", "x.parquet", "--load", "heavy"], "cannot read the load"),
        (["simulate", "--out", "x.parquet", "--duration", "soon"], "cannot read the duration"),
    ],
)
def test_user_errors_are_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_info_on_a_file_that_is_not_a_session(tmp_path, capsys):
    bogus = tmp_path / "notes.parquet"
    bogus.write_text("hello")
    assert main(["info", str(bogus)]) == 2
    assert "not a readable session file" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["run_unweighted", "run_weighted_1kg", "walk"])
def test_samples_are_sessions_with_truth(name):
    session = gait.Session.load(SAMPLES / f"{name}.parquet")
    truth = pd.read_csv(SAMPLES / f"{name}.truth.csv")
    assert session.sides == C.SIDES and session.meta.subject == "sample-runner"
    assert session.meta.extra["synth"]["seed"] is not None
    assert list(truth.columns[: len(C.STRIDE_COLS)]) == list(C.STRIDE_COLS)
    assert truth[C.VALID].sum() > 50
    assert (session.meta.total_load_kg > 0) == ("weighted" in name and "unweighted" not in name)


def test_analyze_prints_summary_and_writes_table(tmp_path, capsys):
    out = tmp_path / "strides.parquet"
    assert main(["analyze", str(SAMPLES / "run_unweighted.parquet"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "stride length (m)" in text and "shank angle at contact (deg)" in text and "Left/right" in text
    strides = pd.read_parquet(out)
    assert set(C.STRIDE_COLS) <= set(strides.columns)
    assert set(strides[C.SIDE]) == {"left", "right"}
    csv = tmp_path / "strides.csv"
    assert main(["analyze", str(SAMPLES / "walk.parquet"), "--out", str(csv)]) == 0
    assert len(pd.read_csv(csv)) > 50


def test_analyze_refuses_an_unknown_table_format(tmp_path, capsys):
    assert main(["analyze", str(SAMPLES / "walk.parquet"), "--out", str(tmp_path / "x.xlsx")]) == 2
    assert "write .parquet or .csv" in capsys.readouterr().err
