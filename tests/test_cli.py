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
        (["simulate", "--out", "x.parquet", "--cadence", "0"], "--cadence: steps per minute must be positive"),
        (["simulate", "--out", "x.parquet", "--rate", "0"], "--rate: the sample rate in Hz must be positive"),
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


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", str(SAMPLES / "walk.parquet"), "--out", "{missing}/strides.csv"],
        ["simulate", "--out", "{missing}/run.parquet", "--duration", "20s"],
        ["compare", str(SAMPLES / "run_unweighted.parquet"), str(SAMPLES / "run_weighted_1kg.parquet"),
         "--out", "{missing}/table.csv"],
        ["report", str(SAMPLES / "walk.parquet"), "--out", "{missing}/report.html"],
    ],
)
def test_out_in_a_missing_folder_is_refused_before_the_work(argv, tmp_path, capsys, monkeypatch):
    import gait.analysis

    def no_analysis(*args, **kwargs):
        raise AssertionError("analysed before checking --out")

    monkeypatch.setattr(gait, "analyze", no_analysis)  # first: gait.analyze is looked up lazily in gait.analysis
    monkeypatch.setattr(gait.analysis, "analyze", no_analysis)
    missing = tmp_path / "no-such-folder"
    assert main([a.format(missing=missing) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{missing}: no such folder" in err and "\n" not in err
    assert not missing.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", str(SAMPLES / "walk.parquet"), "--out", "{folder}"],
        ["compare", str(SAMPLES / "run_unweighted.parquet"), str(SAMPLES / "run_weighted_1kg.parquet"),
         "--out", "{folder}"],
        ["report", str(SAMPLES / "walk.parquet"), "--out", "{folder}"],
    ],
)
def test_out_that_is_a_folder_is_one_line(argv, tmp_path, capsys):
    assert main([a.format(folder=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{tmp_path}: is a folder" in err and "\n" not in err and "Traceback" not in err


@pytest.mark.parametrize(("name", "message"), [("r.pdf", "add --pdf"), ("r.txt", "write .html")])
def test_report_out_must_be_html(name, message, tmp_path, capsys):
    out = tmp_path / name
    assert main(["report", str(SAMPLES / "walk.parquet"), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_an_os_error_is_one_line_not_a_traceback(tmp_path, capsys, monkeypatch):
    from gait.commands import session as session_cmd

    def fails(args):
        raise IsADirectoryError(21, "Is a directory", str(tmp_path))

    monkeypatch.setattr(session_cmd, "_info", fails)
    assert main(["info", "whatever.parquet"]) == 2
    assert capsys.readouterr().err.strip() == f"gait info: {tmp_path}: Is a directory"
    with pytest.raises(IsADirectoryError):
        main(["--debug", "info", "whatever.parquet"])


def test_compare_errors_name_the_files_not_session_ids(capsys):
    walk = SAMPLES / "walk.parquet"
    assert main(["compare", str(walk), str(walk)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"gait compare: {walk} is given twice"  # not "session <id> is given twice"


def test_a_damaged_session_with_its_raw_log_beside_it_says_how_to_recover(tmp_path, capsys):
    damaged = tmp_path / "run.parquet"
    damaged.write_bytes((SAMPLES / "walk.parquet").read_bytes()[:5000])  # killed while saving
    (tmp_path / "run.rawlog").write_bytes(b"raw frames")
    for command in ("info", "analyze"):
        assert main([command, str(damaged)]) == 2
        err = capsys.readouterr().err.strip()
        assert f"gait recover {tmp_path / 'run.rawlog'} --overwrite" in err and "\n" not in err
    assert main(["info", str(tmp_path / "run.rawlog")]) == 2
    assert "a raw BLE log, not a session; run `gait recover" in capsys.readouterr().err
    (tmp_path / "left.csv").write_text("t,ax\n0,1\n")
    assert main(["analyze", str(tmp_path / "left.csv")]) == 2
    assert "a text table, not a session; import it first" in capsys.readouterr().err


def test_a_closed_pipe_ends_quietly(monkeypatch, capsys):
    from gait.commands import session as session_cmd

    def reader_left(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(session_cmd, "_info", reader_left)
    assert main(["info", "whatever.parquet"]) == 141
    assert capsys.readouterr().err == ""


def test_simulate_never_overwrites_a_session_unasked(tmp_path, capsys):
    precious = tmp_path / "recorded.parquet"
    precious.write_bytes((SAMPLES / "walk.parquet").read_bytes())
    before = precious.read_bytes()
    assert main(["simulate", "--out", str(precious), "--duration", "20s"]) == 2
    assert "already exists" in capsys.readouterr().err and precious.read_bytes() == before
    assert main(["simulate", "--out", str(precious), "--duration", "20s", "--overwrite", "--seed", "1"]) == 0
    assert precious.read_bytes() != before


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "{session}", "--out", "{session}"],
        ["analyze", str(SAMPLES / "walk.parquet"), "--out", "{session}"],
        ["compare", str(SAMPLES / "run_unweighted.parquet"), str(SAMPLES / "run_weighted_1kg.parquet"),
         "--out", "{session}"],
    ],
)
def test_a_derived_table_never_replaces_a_session(argv, tmp_path, capsys):
    session = tmp_path / "my_run.parquet"
    session.write_bytes((SAMPLES / "walk.parquet").read_bytes())
    before = session.read_bytes()
    assert main([a.format(session=session) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and ("is a session file and would be replaced" in err or "write .csv" in err)
    assert session.read_bytes() == before
