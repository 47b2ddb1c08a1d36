"""Simulated recordings sped up (``--speedup 20``) or run as fast as possible (``--speedup max``): the time axis.

The session's time must be the simulated time in both cases: ``duration_s`` simulated seconds recorded, both
sides on one clock, status lines in simulated seconds and Hz, dropouts and lost packets as holes of their size.
No wall-clock time is asserted.
"""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pytest

from gait.session import Session

try:
    from tests._simkit import TinyImuNoTime, make_radio, record, source_indices
except ImportError:  # tests/ itself on sys.path
    from _simkit import TinyImuNoTime, make_radio, record, source_indices

FS = 200.0


def rec(path, radio, left, right, **kw):
    return record(path, radio, left, right, timeout_s=120.0, **kw)


def test_as_fast_as_possible_records_the_simulated_duration_on_the_simulated_clock(tmp_path):
    radio, left, right, _ = make_radio(speedup=math.inf, duration_s=90.0)
    out = io.StringIO()
    res = rec(tmp_path / "run.parquet", radio, left, right, duration_s=60.0, out=out)
    s = res.session
    assert 60.0 <= res.duration_s < 61.0
    assert abs(res.duration_s - s.duration_s()) < 1.0
    for side in ("left", "right"):
        a = s.arrays(side)
        t, i = a["t"], source_indices(a["acc"])
        assert abs(t.size / FS - 60.0) < 1.5, side  # ~60 s of samples per side, not the whole source
        assert t[0] < 0.5 and 59.0 < t[-1] < 61.5, side  # from the start, on the simulated clock
        # the sensor clock (offset and drift) fitted to the simulated world: sample i was taken at i / FS
        assert np.abs(t - i / FS).max() < 0.01, side
        assert s.meta.gaps[side] == [], side
    lt, rt = s.arrays("left")["t"], s.arrays("right")["t"]
    assert min(lt[-1], rt[-1]) - max(lt[0], rt[0]) > 59.0  # both sides overlap
    # the status lines: simulated seconds and Hz
    lines = [ln for ln in out.getvalue().splitlines() if ln.startswith("[")]
    assert lines, out.getvalue()
    last = lines[-1]
    assert 59.5 < float(re.match(r"\[\s*([\d.]+) s\]", last).group(1)) < 61.0, last
    rates = [float(v) for v in re.findall(r"([\d.]+) Hz", "\n".join(lines[-2:]))]
    assert len(rates) == 2 and all(150 < r < 250 for r in rates), lines[-2:]


def test_as_fast_as_possible_matches_a_sped_up_recording(tmp_path):
    spans = {}
    for speedup in (20.0, math.inf):
        radio, left, right, _ = make_radio(speedup=speedup, duration_s=40.0)
        res = rec(tmp_path / f"run{speedup}.parquet", radio, left, right, duration_s=20.0)
        spans[speedup] = {side: res.session.arrays(side)["t"] for side in ("left", "right")}
    for side in ("left", "right"):
        a, b = spans[20.0][side], spans[math.inf][side]
        assert abs(a.size - b.size) < 0.05 * a.size, side
        assert abs((a[-1] - a[0]) - (b[-1] - b[0])) < 1.0, side


def test_as_fast_as_possible_a_dropout_lasts_its_simulated_time(tmp_path):
    # the host reconnects in host time: the simulated world must not race on meanwhile
    radio, left, right, _ = make_radio(speedup=math.inf, duration_s=60.0, faults={"left": {"drops": [(10.0, 5.0)]}})
    res = rec(tmp_path / "run.parquet", radio, left, right, duration_s=30.0)
    ((g0, g1),) = res.session.meta.gaps["left"]
    assert 9.5 < g0 < 10.5 and 4.5 < g1 - g0 < 8.0
    a = res.session.arrays("left")
    assert np.abs(a["t"] - source_indices(a["acc"]) / FS).max() < 0.02
    assert res.stats["left"]["reconnects"] == 1


@pytest.mark.parametrize("speedup", [20.0, math.inf])
def test_without_timestamps_a_lost_packet_leaves_a_hole_of_its_size(tmp_path, speedup):
    """No sensor time (WitMotion, MetaWear): samples are counted at the nominal rate; a lost packet must not shift
    every later sample earlier, the arrival times put it back as a hole."""
    radio, left, right, _ = make_radio(
        speedup=speedup, duration_s=60.0, family=TinyImuNoTime, faults={"left": {"loss_rate": 0.02, "seed": 4}}
    )
    res = rec(tmp_path / "run.parquet", radio, left, right, duration_s=30.0)
    a = res.session.arrays("left")
    t, i = a["t"], source_indices(a["acc"])
    assert left.n_lost > 15
    # on the simulated clock all along, a hole placed to within about half a radio tick (0.25 to 0.4 s here);
    # counting alone would put the last samples ~0.5 s too early
    err = t - i / FS
    dev = np.abs(err - np.median(err))
    assert dev.max() < 0.15 and np.quantile(dev, 0.9) < 0.025
    assert abs(np.median(err)) < 0.3
    holes = np.setdiff1d(np.arange(i[0], i[-1] + 1), i).size
    st = res.stats["left"]
    assert st["gaps"] > 0 and abs(st["missing_samples"] - holes) <= 0.15 * holes
    # the intact side: no hole invented
    assert res.stats["right"]["missing_samples"] == 0 and res.session.meta.gaps["right"] == []


def test_cli_record_as_fast_as_possible(tmp_path, capsys):
    from gait.cli import main

    path = tmp_path / "run.parquet"
    args = ["record", str(path), "--simulate", "--speedup", "max", "--duration", "40s", "--family", "witmotion"]
    assert main(args) == 0
    out = capsys.readouterr().out
    saved = float(re.search(r"Saved \S+ \(([\d.]+) s:", out).group(1))
    s = Session.load(path)
    assert abs(saved - s.duration_s()) < 0.05, out
    assert 39.0 < s.duration_s() < 42.0, out
    status = [ln for ln in out.splitlines() if ln.startswith("[")]
    assert status and all(re.search(r"[\d.]+ Hz", ln) for ln in status[-2:]), out
    assert 39.5 < float(re.match(r"\[\s*([\d.]+) s\]", status[-1]).group(1)) < 41.0, out
    for side in ("left", "right"):
        t = s.arrays(side)["t"]
        assert t[0] < 0.5 and abs(t.size / 200.0 - 40.0) < 1.5, side
