"""Live form feedback while recording (gait.acquire.recorder + gait.live + gait.live_view) on the simulated backend.

The recordings run at 5x real time (live feedback is on automatically up to 10x), ~40 simulated seconds each.
"""

from __future__ import annotations

import asyncio
import io
import time

import numpy as np
import pytest

from gait import acquire
from gait.acquire import recorder
from gait.live import LiveAnalyzer

try:
    from tests._simkit import TinyImu
except ImportError:  # tests/ itself on sys.path
    from _simkit import TinyImu

SPEEDUP = 5.0
DURATION_S = 40.0


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    d = tmp_path / "config"
    monkeypatch.setenv("GAIT_CONFIG_DIR", str(d))
    return d


def record_sim(path, duration_s=DURATION_S, speedup=SPEEDUP, faults=None, **kw):
    sim = acquire.simulation(
        "run", speedup=speedup, duration_s=duration_s + 5, seed=3, footpod=False, stranger=False, faults=faults
    )
    res = asyncio.run(
        asyncio.wait_for(
            acquire.record_async(
                path,
                left=sim.left.address,
                right=sim.right.address,
                backend=sim.backend,
                duration_s=duration_s,
                handle_sigint=False,
                **kw,
            ),
            60,
        )
    )
    return res


def sensor_samples(rawlog):
    return {d.side: d for d in acquire.decode_rawlog(rawlog) if d.side in ("left", "right")}


def test_live_strides_while_recording_and_the_session_is_the_same_as_without(tmp_path):
    tty = Tty()
    on = record_sim(tmp_path / "on.parquet", out=tty)
    off = record_sim(tmp_path / "off.parquet", live=False, out=io.StringIO())
    # live: calibrated, both legs analysed, every stride emitted once
    assert on.live is not None and on.live_note == ""
    assert on.live.status == "live" and on.live.stats["emitted"] >= 50
    summary = on.live.summary()
    assert min(summary.n_strides.values()) >= 20
    assert 150 < summary.value("cadence_spm", "left") < 185
    assert off.live is None and off.live_note == "live form feedback off"
    # the live block replaced the status lines on the terminal
    text = tty.getvalue()
    assert "gait live" in text and " LIVE " in text and "link drops" in text
    assert "drops 0 link" not in text
    # the recording itself is unchanged: every sample once, no gaps, the same samples as without live feedback
    a, b = sensor_samples(on.rawlog_path), sensor_samples(off.rawlog_path)
    for side in ("left", "right"):
        assert on.session.meta.gaps[side] == [] and on.stats[side]["missing_samples"] == 0
        assert on.stats[side]["duplicates"] == 0 and on.stats[side]["bad_payloads"] == 0
        st_on, st_off = a[side].sensor_time, b[side].sensor_time
        assert np.all(np.diff(st_on) > 0)
        assert abs(st_on.size - st_off.size) <= 0.02 * st_off.size  # the stop instant differs by a radio tick
        common, i_on, i_off = np.intersect1d(np.round(st_on, 6), np.round(st_off, 6), return_indices=True)
        assert common.size >= 0.97 * min(st_on.size, st_off.size)
        assert np.array_equal(a[side].acc[i_on], b[side].acc[i_off])
        assert np.array_equal(a[side].gyr[i_on], b[side].gyr[i_off])


def test_a_dropout_while_live_is_shown_in_the_view_and_only_the_gap_is_missing(tmp_path):
    tty = Tty()
    res = record_sim(tmp_path / "run.parquet", duration_s=30.0, faults={"left": {"drops": [(16.0, 3.0)]}}, out=tty)
    text = tty.getvalue()
    assert "link lost, reconnecting" in text and "reconnected" in text and "gait live" in text
    assert res.stats["left"]["disconnects"] == 1 and res.stats["left"]["reconnects"] == 1
    ((g0, g1),) = res.session.meta.gaps["left"]
    assert 15.0 < g0 < 17.0 and 3.0 <= g1 - g0 < 6.0 and res.session.meta.gaps["right"] == []
    assert res.live_note == "" and res.live.stats["emitted"] > 20  # the analysis went on after the gap


def test_an_error_in_the_live_path_does_not_stop_the_recording(tmp_path, monkeypatch):
    calls = []

    def boom(self, side, t, acc, gyr=None):
        calls.append(side)
        raise RuntimeError("boom")

    monkeypatch.setattr(LiveAnalyzer, "feed", boom)
    out = io.StringIO()
    res = record_sim(tmp_path / "run.parquet", duration_s=10.0, out=out)
    assert len(calls) == 1  # switched off at the first error
    lines = [line for line in out.getvalue().splitlines() if "live form feedback" in line]
    assert lines == ["live form feedback stopped (RuntimeError: boom); the recording goes on"]
    assert "boom" in res.live_note
    for side in ("left", "right"):
        n = res.session.arrays(side)["t"].size
        assert 0.95 * 10 * 200 < n and res.session.meta.gaps[side] == []
    # on a terminal the status lines come back
    monkeypatch.setattr(LiveAnalyzer, "feed", boom)
    tty = Tty()
    record_sim(tmp_path / "tty.parquet", duration_s=5.0, out=tty)
    text = tty.getvalue()
    assert text.count("live form feedback stopped") == 1 and "drops 0 link" in text


def test_live_is_off_when_sped_up_and_no_live_switches_it_off(tmp_path, capsys):
    out = io.StringIO()
    res = record_sim(tmp_path / "fast.parquet", duration_s=5.0, speedup=40.0, out=out)
    assert res.live is None and "off: the simulation runs at 40x real time" in res.live_note
    assert out.getvalue().count("live form feedback") == 1
    forced = record_sim(tmp_path / "forced.parquet", duration_s=5.0, speedup=40.0, live=True)
    assert forced.live is not None and forced.live.stats["feeds"] > 0

    from gait.cli import main

    argv = ["record", str(tmp_path / "cli.parquet"), "--simulate", "--speedup", "5", "--duration", "3s"]
    assert main([*argv, "--no-live"]) == 0
    text = capsys.readouterr().out
    assert "Saved" in text and "live form feedback" not in text and "waiting" not in text
    assert main([argv[0], str(tmp_path / "cli2.parquet"), *argv[2:]]) == 0
    text = capsys.readouterr().out
    assert "waiting" in text and "Saved" in text  # the live view's plain lines (stdout is not a terminal here)
    assert main([argv[0], str(tmp_path / "cli3.parquet"), *argv[2:], "--baseline", str(tmp_path / "no.parquet")]) == 2
    assert "--baseline" in capsys.readouterr().err and not (tmp_path / "cli3.rawlog").exists()


def test_status_counts_on_across_a_sensor_counter_rollover():
    """TinyImu stamps packets with a u32 µs counter (wraps at 4295 s): the status line keeps counting and the
    live analysis gets continuous times."""
    proto = TinyImu()
    n = 200 * 20  # 20 s at 200 Hz across the wrap
    t = 4285.0 + np.arange(n) / 200.0
    payloads = proto.encode(np.zeros((n, 3)), np.zeros((n, 3)), sensor_time_s=t)

    class Recorder:
        active = True

        def __init__(self):
            self.t = []

        def feed(self, side, tt, acc, gyr):
            self.t.append(np.asarray(tt))

    fb = Recorder()
    live = recorder._Live("left", "AA:00:00:00:00:01", proto, 0, feedback=fb)
    for i in range(0, len(payloads), 10):
        live.add(payloads[i : i + 10])
    assert live.samples == n and live.lost_samples == 0 and live.holes == 0
    fed = np.concatenate(fb.t)
    assert fed.size == n and np.allclose(np.diff(fed), 1 / 200.0, atol=2e-6)


def test_live_feedback_that_cannot_keep_up_is_switched_off(tmp_path, monkeypatch):
    def slow(self, side, t, acc, gyr=None):
        time.sleep(0.2)

    monkeypatch.setattr(LiveAnalyzer, "feed", slow)
    monkeypatch.setattr(recorder, "LIVE_WATCH_S", 0.5)
    out = io.StringIO()
    res = record_sim(tmp_path / "run.parquet", duration_s=10.0, out=out)
    assert "cannot keep up" in res.live_note
    assert out.getvalue().count("live form feedback stopped (it cannot keep up") == 1
    for side in ("left", "right"):
        assert res.session.arrays(side)["t"].size > 0.95 * 10 * 200 and res.session.meta.gaps[side] == []


def test_live_step_times_agree_with_the_offline_analysis_of_the_saved_session(tmp_path, monkeypatch):
    """The recorder puts both sensors on the host clock for the live analysis (lower envelope of the arrivals, as
    the decoded session), so live needs no IC-alternation offset: with the default simulated clocks (seconds apart,
    12 and -30 ppm) the live step times and step-time asymmetry match the offline analysis of the same session.
    Before, the live offset was estimated from the contacts and was 5-30 ms off (a few % of step asymmetry)."""
    import pandas as pd

    import gait
    from gait import conventions as C

    emitted = []
    feed, flush = LiveAnalyzer.feed, LiveAnalyzer.flush

    def keep(fn):
        def wrapped(self, *a, **k):
            out = fn(self, *a, **k)
            emitted.append(out)
            return out

        return wrapped

    monkeypatch.setattr(LiveAnalyzer, "feed", keep(feed))
    monkeypatch.setattr(LiveAnalyzer, "flush", keep(flush))
    res = record_sim(tmp_path / "run.parquet", duration_s=60.0, speedup=3.0)
    assert res.live is not None and res.live_note == "" and res.live.status == "live"
    # both sides on host time: the offset left between them is far below the 20 ms that would be applied
    co = res.live.clock
    assert co is not None and not co.applied and abs(co.offset_s) < 0.005
    live = pd.concat([e for e in emitted if e is not None and len(e)], ignore_index=True)
    offline = gait.analyze(res.session).strides
    # the recording stops mid-stride: the last second is an end effect (offline has no IC after the last one, so
    # its last step time is empty, while live flushes what it has), so both are compared before it
    t_stop = min(res.session.arrays(s)["t"][-1] for s in ("left", "right")) - 1.0
    live_all, live = live, live[live[C.IC_TIME] < t_stop]
    off = offline[(offline[C.IC_TIME] >= live[C.IC_TIME].min() - 0.1) & (offline[C.IC_TIME] < t_stop)]
    steps = {}
    for name, df in (("live", live), ("offline", off)):
        both = df[df[C.VALID] & df[C.STEP_TIME].notna()]
        steps[name] = {s: both.loc[both[C.SIDE] == s, C.STEP_TIME] for s in ("left", "right")}
    for side in ("left", "right"):
        a = live[live[C.VALID] & (live[C.SIDE] == side)].sort_values(C.IC_TIME)
        b = off[off[C.VALID] & (off[C.SIDE] == side)].sort_values(C.IC_TIME).rename(columns={C.IC_TIME: "ic_off"})
        # the same strides: every live stride has an offline one within 30 ms (a tenth of a step) and vice versa
        pairs = pd.merge_asof(
            a[[C.IC_TIME, C.STEP_TIME]],
            b[["ic_off", C.STEP_TIME]],
            left_on=C.IC_TIME,
            right_on="ic_off",
            direction="nearest",
            tolerance=0.03,
            suffixes=("", "_off"),
        )
        assert len(a) >= 40 and pairs["ic_off"].notna().mean() > 0.95 and abs(len(a) - len(b)) <= 1, side
        # the same contacts: the live clock (an online fit) and the offline one (whole session) differ by a few ms,
        # and a contact may land a sample apart (5 ms at 200 Hz)
        d_ic = (pairs[C.IC_TIME] - pairs["ic_off"]).abs().dropna()
        assert d_ic.median() <= 0.003 and (d_ic <= 0.006).mean() >= 0.9, side
        # stride by stride, the live step time is the offline one
        diff = (pairs[C.STEP_TIME] - pairs[C.STEP_TIME + "_off"]).dropna()
        assert len(diff) >= 0.9 * len(a) and abs(diff.median()) < 0.002 and abs(diff.mean()) < 0.002, side
        # the mean live step time within 5 ms of offline (the median is not compared: the step times of the
        # simulated runner cluster on either side of it, a sample apart)
        assert abs(steps["live"][side].mean() - steps["offline"][side].mean()) < 0.005, side

    def si(d):
        lm, rm = d["left"].mean(), d["right"].mean()
        return (rm - lm) / (0.5 * (rm + lm)) * 100

    # step-time asymmetry (symmetry index, %) within 1.5 percentage points of offline
    assert abs(si(steps["live"]) - si(steps["offline"])) < 1.5
    # and the rolling live summary agrees with the offline strides of the same window
    summary = res.live.summary()
    t_end = live_all[C.IC_TIME].max()
    win = offline[offline[C.IC_TIME] > t_end - summary.window_s]
    for side in ("left", "right"):
        w = win[win[C.VALID] & (win[C.SIDE] == side)][C.STEP_TIME].mean()
        assert abs(summary.value(C.STEP_TIME, side) - w) < 0.005, side
