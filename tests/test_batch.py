"""gait batch: one Dask task per session, failures listed with their reason, re-runs skip done sessions."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from gait import conventions as C
from gait.batch import analyze_session_file, find_sessions, read_runs, read_strides, run_batch
from gait.session import Session

distributed = pytest.importorskip("distributed")

# (file, subject, label, load per ankle)
SESSIONS = [
    ("a/s1.parquet", "01", "unweighted", 0.0),
    ("a/s2.parquet", "01", "weighted", 1.0),
    ("b/s3.parquet", "runner two", "unweighted", 0.0),
    ("b/s4.parquet", "runner two", "weighted", 1.0),
    ("s5.parquet", "R3", "unweighted", 0.0),
]
CORRUPT = "b/corrupt.parquet"


def synthetic_session(seed: int, *, subject: str, label: str, load_kg: float, duration_s: float) -> Session:
    """A short synthetic two-ankle session (gait.synth) with subject, label and load in its metadata."""
    from gait.synth import simulate_session

    session, _ = simulate_session(seed=seed, label=label, subject=subject, ankle_load_kg=load_kg, duration_s=duration_s)
    return session


def _make(path: Path, subject: str, label: str, load: float, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    synthetic_session(seed, subject=subject, label=label, load_kg=load, duration_s=12.0).save(path)


@pytest.fixture(scope="module")
def client():
    """One in-process cluster (threads) for the module: starting worker processes costs seconds."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None, silence_logs=50
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def analyzer():
    import gait

    return gait.analyze


@pytest.fixture
def cohort_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "sessions"
    for i, (name, subject, label, load) in enumerate(SESSIONS):
        _make(folder / name, subject, label, load, seed=i)
    (folder / CORRUPT).write_bytes(b"PAR1 this is not a parquet file at all")
    return folder


def test_batch_lists_the_failure_and_writes_a_partitioned_dataset(cohort_dir, tmp_path, client, analyzer):
    out = tmp_path / "result"
    stream = io.StringIO()
    report = run_batch(cohort_dir, out, client=client, analyzer=analyzer, progress_stream=stream)
    assert sorted(report.done) == sorted(s[0] for s in SESSIONS)
    assert list(report.failed) == [CORRUPT]
    reason = report.failed[CORRUPT]
    assert "\n" not in reason and "SessionFileError" in reason and "not a readable session file" in reason
    assert f"FAILED {CORRUPT}: SessionFileError" in report.summary()
    assert pd.read_csv(out / "_failed.csv")["file"].tolist() == [CORRUPT]
    assert "6/6 sessions (1 failed" in stream.getvalue()  # plain counter: the stream is not a terminal

    strides = pd.read_parquet(out / "strides")  # plain pandas reads the hive-partitioned dataset
    assert {"subject", "label", "load_kg", "session_id", "file", *C.STRIDE_COLS} <= set(strides.columns)
    assert len(strides) > 0
    strides = read_strides(out)  # our reader keeps partition values as text ("01" stays "01")
    assert set(strides["subject"]) == {"01", "runner two", "R3"}
    assert sorted(p.name for p in (out / "strides").iterdir()) == [
        "subject=01",
        "subject=R3",
        "subject=runner%20two",
    ]
    runs = read_runs(out)
    assert len(runs) == 5 and runs["session_id"].is_unique
    weighted = runs.set_index("file").loc["a/s2.parquet"]
    assert weighted["label"] == "weighted" and weighted["load_kg"] == 1.0
    assert weighted["n_strides"] > 0 and weighted[C.CONTACT_TIME] > 0
    per_file = strides.groupby("file")["load_kg"].first()
    assert per_file.sort_index().tolist() == runs.set_index("file")["load_kg"].sort_index().tolist()


def test_rerun_skips_done_sessions_and_redoes_changed_ones(cohort_dir, tmp_path, client, analyzer):
    out = tmp_path / "result"
    run_batch(cohort_dir, out, client=client, analyzer=analyzer, progress=False)
    again = run_batch(cohort_dir, out, client=client, analyzer=analyzer, progress=False)
    assert again.done == [] and sorted(again.skipped) == sorted(s[0] for s in SESSIONS)
    assert list(again.failed) == [CORRUPT]  # failures are retried, and fail again
    # a touched but unchanged file is still done (content hash); a changed file is redone
    (cohort_dir / "a/s1.parquet").touch()
    session = Session.load(cohort_dir / "s5.parquet")
    session.meta.subject = "R9"
    session.save(cohort_dir / "s5.parquet")
    third = run_batch(cohort_dir, out, client=client, analyzer=analyzer, progress=False)
    assert third.done == ["s5.parquet"] and "a/s1.parquet" in third.skipped
    runs = read_runs(out)
    assert len(runs) == 5 and set(runs["subject"]) == {"01", "runner two", "R9"}  # the R3 part was replaced
    entry = json.loads(next((out / "_manifest").glob("s5-*.json")).read_text())
    assert entry["subject"] == "R9" and len(entry["hash"]) == 32
    forced = run_batch(cohort_dir, out, client=client, analyzer=analyzer, progress=False, force=True)
    assert len(forced.done) == 5 and forced.skipped == []
    assert len(read_runs(out)) == 5  # redone parts replace the old ones


def test_partition_by_label(cohort_dir, tmp_path, client, analyzer):
    out = tmp_path / "by_label"
    report = run_batch(cohort_dir, out, client=client, analyzer=analyzer, partition_by="label", progress=False)
    assert len(report.done) == 5
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["label=unweighted", "label=weighted"]
    assert sorted(read_runs(out)["label"]) == ["unweighted"] * 3 + ["weighted"] * 2


def test_task_returns_a_small_status(cohort_dir, tmp_path, analyzer):
    status = analyze_session_file(
        str(cohort_dir / "s5.parquet"), "s5.parquet", str(tmp_path / "o"), "subject", analyzer
    )
    assert status["status"] == "done" and set(status) == {"file", "status", "n_strides", "seconds"}
    bad = analyze_session_file(str(cohort_dir / CORRUPT), CORRUPT, str(tmp_path / "o"), "subject", analyzer)
    assert bad["status"] == "failed" and str(cohort_dir) not in bad["reason"]
    assert find_sessions(cohort_dir, exclude=[tmp_path / "o"])[0].name == "s1.parquet"


def test_bad_options(tmp_path):
    with pytest.raises(ValueError, match="allowed values"):
        run_batch(tmp_path, tmp_path / "o", partition_by="side")
    with pytest.raises(FileNotFoundError):
        run_batch(tmp_path / "nope", tmp_path / "o")


def test_cli_on_an_existing_scheduler(cohort_dir, tmp_path, client, capsys):
    from gait.commands.batch import register

    parser = argparse.ArgumentParser(prog="gait")
    register(parser.add_subparsers(dest="command"))
    out = tmp_path / "cli"
    args = parser.parse_args(
        ["batch", str(cohort_dir), "--out", str(out), "--scheduler", client.scheduler.address, "--no-progress"]
    )
    assert args.handler(args) == 1  # one session failed
    text = capsys.readouterr().out
    assert "5 analyzed, 0 already done, 1 failed" in text and f"FAILED {CORRUPT}:" in text
    assert len(read_runs(out)) == 5


def test_a_file_given_as_folder_or_result_is_one_line(cohort_dir, tmp_path):
    from gait.errors import GaitError

    session_file = cohort_dir / "s5.parquet"
    with pytest.raises(GaitError, match="is a file; give the folder"):
        run_batch(session_file, tmp_path / "o", progress=False)
    with pytest.raises(GaitError, match="is a file; the result is a folder"):
        run_batch(cohort_dir, session_file, progress=False)
    assert not (tmp_path / "o").exists()


def test_an_unreachable_scheduler_is_one_line(cohort_dir, tmp_path):
    from gait.errors import GaitError

    with pytest.raises(GaitError, match="cannot use the Dask scheduler not-an-address") as exc:
        run_batch(cohort_dir, tmp_path / "o", scheduler="not-an-address", progress=False)
    assert "\n" not in str(exc.value)


def test_cli_on_a_folder_without_sessions(tmp_path, capsys):
    from gait.cli import main

    (tmp_path / "notes.txt").write_text("no sessions here")
    assert main(["batch", str(tmp_path), "--out", str(tmp_path / "res"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no session files (*.parquet)" in err and "\n" not in err
    assert not (tmp_path / "res").exists()


def test_a_session_without_subject_keeps_the_dataset_readable_by_pandas(tmp_path, analyzer):
    folder = tmp_path / "sessions"
    _make(folder / "a.parquet", "", "unweighted", 0.0, seed=1)
    _make(folder / "b.parquet", "S01", "unweighted", 0.0, seed=2)
    out = tmp_path / "o"
    for name in ("a.parquet", "b.parquet"):
        assert analyze_session_file(str(folder / name), name, str(out), "subject", analyzer)["status"] == "done"
    raw = pd.read_parquet(out / "runs")  # a null hive partition made this fail ("unify dictionaries with nulls")
    assert sorted(raw["subject"].astype(str)) == ["(none)", "S01"]
    runs = read_runs(out)
    assert runs["subject"].isna().sum() == 1 and (runs["subject"] == "S01").sum() == 1
    assert read_strides(out)["subject"].isna().any()
