"""Recording, decoding, recovery, pairing and clock alignment (gait.acquire) on the simulated backend."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gait import acquire
from gait.acquire import recorder
from gait.clocksync import fit_clock, unwrap_sensor_time
from gait.io.rawlog import read_rawlog
from gait.session import Session

try:
    from tests._simkit import (
        PROTOCOLS,
        SPP,
        TinyImu,
        TinyImuNoTime,
        make_radio,
        make_standing_radio,
        record,
        source_indices,
    )
except ImportError:  # tests/ itself on sys.path
    from _simkit import (
        PROTOCOLS,
        SPP,
        TinyImu,
        TinyImuNoTime,
        make_radio,
        make_standing_radio,
        record,
        source_indices,
    )

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
HAS_SYSTEM_BUS = Path("/run/dbus/system_bus_socket").exists() or bool(os.environ.get("DBUS_SYSTEM_BUS_ADDRESS"))


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    d = tmp_path / "config"
    monkeypatch.setenv("GAIT_CONFIG_DIR", str(d))
    return d


def rec(path, radio, left, right, **kw):
    kw.setdefault("duration_s", 30.0)
    return record(path, radio, left, right, **kw)


def runs(missing: np.ndarray) -> list[tuple[int, int]]:
    if missing.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(missing) > 1)
    starts = np.r_[missing[0], missing[cuts + 1]]
    ends = np.r_[missing[cuts], missing[-1]]
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


# --- clock alignment ----------------------------------------------------------------------------------------------
def ble_arrivals(seed: int, drift_ppm: float, offset_s: float, duration_s: float = 3600.0, ci: float = 0.015):
    """A sensor's packets (208 Hz, 8 samples each) through a BLE link: connection events every ``ci`` s at a random
    phase, 10 % retransmitted one event later, OS jitter, 5 % delayed up to 80 ms; host clock 5000 s ahead."""
    rng = np.random.default_rng(seed)
    fs, spp = 208.0, 8
    n = int(duration_s * fs) // spp * spp
    t = np.arange(n) / fs
    sensor = offset_s + t * (1 + drift_ppm * 1e-6)
    ready = t[spp - 1 :: spp] + 0.001
    phase = rng.uniform(0, ci)
    event = np.ceil((ready - phase) / ci) * ci + phase + ci * (rng.random(ready.size) < 0.1)
    late = (rng.random(ready.size) < 0.05) * rng.uniform(0, 0.08, ready.size)
    arrival = np.maximum.accumulate(event + rng.exponential(0.0005, ready.size) + late)
    return t, sensor, sensor[spp - 1 :: spp], arrival + 5000.0


def test_two_ankles_stay_aligned_within_2ms_over_an_hour_with_50ppm_drift():
    err = {}
    fits = {}
    for side, (seed, ppm, off) in {"left": (1, 0.0, 12.3), "right": (2, 50.0, 1000.7)}.items():
        t, sensor, last, arrival = ble_arrivals(seed, ppm, off)
        fits[side] = fit_clock(last, arrival)
        err[side] = fits[side].to_host(sensor) - (t + 5000.0)
    misalign = np.abs(err["left"] - err["right"])
    print(
        f"\n50 ppm over 1 h: left/right misalignment max {misalign.max() * 1e3:.2f} ms, "
        f"p99 {np.percentile(misalign, 99) * 1e3:.2f} ms; fitted drift {fits['right'].drift_ppm:.2f} ppm"
    )
    assert misalign.max() < 0.002
    assert abs(fits["right"].drift_ppm - 50.0) < 1.0 and abs(fits["left"].drift_ppm) < 1.0
    # without correction the right ankle would be 180 ms off by the end
    assert 50e-6 * 3600 > 0.17


def test_clock_fit_follows_a_changing_drift_and_unwraps_counters():
    t = np.arange(0, 7200, 0.05)
    drift = np.where(t < 3600, 20e-6, 60e-6)  # warms up after an hour
    sensor = np.cumsum(np.r_[0, np.diff(t) * (1 + drift[1:])])
    rng = np.random.default_rng(0)
    arrival = t + rng.exponential(0.004, t.size)
    fit = fit_clock(sensor, arrival)
    assert np.abs(fit.to_host(sensor) - t).max() < 0.01  # one line would be ~70 ms off at the ends
    wrapped = np.mod(sensor[::10] + 4000.0, 2**32 * 1e-6)  # u32 µs counter, wraps at 4295 s
    assert np.allclose(unwrap_sensor_time(wrapped), sensor[::10] + 4000.0)


# --- recording end to end ---------------------------------------------------------------------------------------
def test_record_end_to_end_samples_exact_and_ankles_aligned(tmp_path):
    radio, left, right, other = make_radio(
        speedup=20.0,
        duration_s=60.0,
        faults={"left": {"offset_s": 3.0, "drift_ppm": 0.0}, "right": {"offset_s": 11.0, "drift_ppm": 50.0}},
    )
    out = io.StringIO()
    res = rec(tmp_path / "run.parquet", radio, left, right, duration_s=30.0, label="unweighted", out=out)
    assert res.session_path.exists() and res.rawlog_path == tmp_path / "run.rawlog" and res.rawlog_path.exists()
    s = Session.load(res.session_path)
    assert s.meta.label == "unweighted" and s.meta.sample_rate_hz == {"left": 200.0, "right": 200.0}
    assert s.meta.gaps == {"left": [], "right": []}
    assert s.meta.extra["acquisition"]["stats"]["left"]["battery_pct"] == 85
    idx = {}
    for side, p in (("left", left), ("right", right)):
        a = s.arrays(side)
        idx[side] = source_indices(a["acc"])
        assert np.all(np.diff(idx[side]) == 1)  # every sample once, in order
        src = p.source["acc"][idx[side]]
        assert np.allclose(a["acc"], src.astype(np.float32), atol=1e-5)
        assert np.allclose(a["gyr"], p.source["gyr"][idx[side]].astype(np.float32), atol=1e-5)
        assert a["t"].size > 0.9 * 30 * 200
    common, il, ir = np.intersect1d(idx["left"], idx["right"], return_indices=True)
    dt = s.arrays("left")["t"][il] - s.arrays("right")["t"][ir]
    # the same world instant on both ankles, despite 8 s of offset and 50 ppm (1.5 ms here) between the clocks;
    # at 20x a 20 ms radio tick is 0.4 simulated s of arrival jitter, so this bound is loose (see the 1-h test)
    assert np.abs(dt - np.median(dt)).max() < 0.005 and abs(np.median(dt)) < 0.05
    assert other.n_connects == 0  # the neighbour's sensor was never touched
    text = out.getvalue()
    assert "left" in text and "right" in text and "\x1b" not in text  # plain lines: not a terminal


def test_a_link_dropped_for_5s_reconnects_and_only_the_gap_is_missing(tmp_path):
    radio, left, right, _ = make_radio(
        speedup=20.0, duration_s=60.0, faults={"left": {"drops": [(10.0, 5.0)], "offset_s": 2.0}}
    )
    res = rec(tmp_path / "run.parquet", radio, left, right, duration_s=30.0)
    st = res.stats["left"]
    assert st["disconnects"] == 1 and st["reconnects"] == 1 and st["duplicates"] == 0
    assert [w for _, w in left.writes].count(TinyImu().start_commands()[0].data) == 2
    sides = {d.side: d for d in acquire.decode_rawlog(res.rawlog_path, protocols=PROTOCOLS)}
    i = source_indices(sides["left"].acc)
    assert np.all(np.diff(i) > 0)  # nothing duplicated, in order
    missing = np.setdiff1d(np.arange(i[0], i[-1] + 1), i)
    (a, b), *more = runs(missing)
    assert not more  # one hole: the dropout, nothing lost around it
    assert 9.95 <= a / 200 <= 10.05 and 5.0 <= (b - a + 1) / 200 < 10.0
    # sensor time says the same
    assert np.allclose(sides["left"].sensor_time, left.source["sensor_t"][i], atol=2e-6)
    ir = source_indices(sides["right"].acc)
    assert np.all(np.diff(ir) == 1)
    s = res.session
    ((g0, g1),) = s.meta.gaps["left"]
    assert 9.5 < g0 < 10.5 and 5.0 <= g1 - g0 < 10.0
    assert s.meta.gaps["right"] == []
    events = [e["event"] for e in s.meta.extra["acquisition"]["events"] if e["side"] == "left"]
    assert events == ["connect", "disconnect", "reconnect"]


def test_packet_loss_duplication_and_corruption_are_counted_and_handled(tmp_path):
    radio, left, right, _ = make_radio(
        speedup=20.0,
        duration_s=60.0,
        faults={"left": {"loss_rate": 0.03, "duplicate_rate": 0.03, "corrupt_rate": 0.03, "seed": 5}},
    )
    res = rec(tmp_path / "run.parquet", radio, left, right, duration_s=30.0)
    st = res.stats["left"]
    assert left.n_lost > 0 and left.n_duplicated > 0 and left.n_corrupted > 0
    assert st["bad_payloads"] == left.n_corrupted
    assert st["duplicates"] == SPP * left.n_duplicated_clean  # removed by sensor timestamp
    i = source_indices(res.session.arrays("left")["acc"])
    assert np.all(np.diff(i) > 0)
    # exactly the samples of the packets that arrived intact
    sent = np.asarray(left.sent_index)
    intact = sent[~np.asarray(left._lost)[sent] & ~np.asarray(left._corrupt)[sent]]
    expected = (intact[:, None] * SPP + np.arange(SPP)).ravel()
    assert np.array_equal(i, expected)
    holes = np.setdiff1d(np.arange(i[0], i[-1] + 1), i).size
    assert st["missing_samples"] == holes
    assert len(res.session.meta.gaps["left"]) == len(runs(np.setdiff1d(np.arange(i[0], i[-1] + 1), i)))
    assert res.stats["right"]["bad_payloads"] == 0 and res.stats["right"]["missing_samples"] == 0


def test_a_protocol_without_timestamps_uses_the_nominal_rate_per_connection(tmp_path):
    radio, left, right, _ = make_radio(
        speedup=20.0, duration_s=60.0, family=TinyImuNoTime, faults={"left": {"drops": [(8.0, 4.0)]}}
    )
    res = rec(tmp_path / "run.parquet", radio, left, right, duration_s=20.0)
    a = res.session.arrays("left")
    i = source_indices(a["acc"])
    assert np.all(np.diff(i) > 0)
    ((g0, g1),) = res.session.meta.gaps["left"]
    assert 3.5 < g1 - g0 < 9.0
    # within each connection, times step at the nominal rate
    dt = np.diff(a["t"])
    assert np.allclose(np.median(dt), 1 / 200, rtol=1e-3)
    assert res.session.meta.extra["acquisition"]["clock"]["left"]["method"].startswith("nominal rate")


def test_recording_with_the_real_protocols(tmp_path):
    """Each IMU family's real byte format through the whole path: encode -> radio -> raw log -> decode."""
    from devices.protocols import PROTOCOLS as REGISTRY

    for family, cls in REGISTRY.items():
        if not cls().is_imu:
            continue
        sim = acquire.simulation("run", family=family, speedup=50.0, duration_s=20.0, seed=1, footpod=False)
        res = asyncio.run(
            acquire.record_async(
                tmp_path / f"{family}.parquet",
                left=sim.left.address,
                right=sim.right.address,
                backend=sim.backend,
                duration_s=10.0,
                handle_sigint=False,
            )
        )
        fs = sim.left.protocol.rate_hz
        for side in ("left", "right"):
            a = res.session.arrays(side)
            assert 0.8 * 10 * fs < a["t"].size < 1.3 * 10 * fs, family
            assert 9.0 < np.nanmedian(np.linalg.norm(a["acc"], axis=1)) < 40.0, family
            assert res.stats[side]["bad_payloads"] == 0, family


# --- crash safety -------------------------------------------------------------------------------------------------
KILL_SCRIPT = r"""
import sys
sys.path.insert(0, {tests!r})
from _simkit import PROTOCOLS, make_radio
from gait import acquire
radio, left, right, _ = make_radio(speedup=1.0, duration_s=120.0)
acquire.record({path!r}, left=left.address, right=right.address, backend=radio.backend(), protocols=PROTOCOLS,
               duration_s=100.0)
"""


def test_sigkill_loses_at_most_the_last_second_and_recover_keeps_the_rest(tmp_path):
    path = tmp_path / "run.parquet"
    rawlog = acquire.rawlog_path_for(path)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT.format(tests=str(TESTS), path=str(path))],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait for 3 s of streaming (real time: speedup 1)
            time.sleep(0.2)
            if rawlog.exists():
                raw = read_rawlog(rawlog)
                if raw.t_ns.size and raw.t_ns.max() - raw.t_ns.min() > 3e9:
                    break
        assert proc.poll() is None, proc.stderr.read().decode()
        killed_ns = time.monotonic_ns()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not path.exists()
    raw = read_rawlog(rawlog)
    lost_s = (killed_ns - int(raw.t_ns.max())) * 1e-9
    assert lost_s < 1.0  # CLOCK_MONOTONIC is shared between processes
    res = acquire.recover(rawlog, protocols=PROTOCOLS)
    assert res.session_path == tmp_path / "run.parquet" and res.session_path.exists()
    assert "raw log" in res.message and "left" in res.message
    for side in ("left", "right"):
        i = source_indices(res.session.arrays(side)["acc"])
        assert i.size > 2.5 * 200 and np.all(np.diff(i) == 1)  # everything before the kill, no holes
    print(f"\nSIGKILL: the last {lost_s * 1e3:.0f} ms before the kill were lost; {res.message}")


def test_ctrl_c_ends_the_recording_cleanly_and_saves_the_session(tmp_path):
    path = tmp_path / "run.parquet"
    rawlog = acquire.rawlog_path_for(path)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT.format(tests=str(TESTS), path=str(path))],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not rawlog.exists():
            time.sleep(0.2)
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()
    s = Session.load(path)
    assert s.arrays("left")["t"].size > 100 and s.arrays("right")["t"].size > 100
    raw = read_rawlog(rawlog)
    assert not raw.torn_end and raw.events[-1]["event"] == "stop"


def test_recover_a_torn_raw_log_and_say_what_was_cut(tmp_path):
    radio, left, right, _ = make_radio(speedup=50.0, duration_s=30.0)
    res = rec(tmp_path / "run.parquet", radio, left, right, duration_s=10.0)
    data = res.rawlog_path.read_bytes()
    torn = tmp_path / "torn.rawlog"
    torn.write_bytes(data[: len(data) - 77])
    out = acquire.recover(torn, tmp_path / "recovered.parquet", protocols=PROTOCOLS)
    assert "could not be read (its end was torn)" in out.message
    n_full = res.session.arrays("left")["t"].size + res.session.arrays("right")["t"].size
    n_rec = out.session.arrays("left")["t"].size + out.session.arrays("right")["t"].size
    assert n_full - 2 * SPP <= n_rec < n_full
    with pytest.raises(acquire.AcquisitionError, match="already exists"):
        acquire.recover(torn, tmp_path / "recovered.parquet", protocols=PROTOCOLS)


# --- pairing ------------------------------------------------------------------------------------------------------
def test_interactive_pairing_assigns_the_tapped_sensor_to_each_side(config_dir):
    radio, first, second, stranger = make_standing_radio()
    taps = []

    def prompt(step, message):  # the runner wears the SECOND sensor on the left ankle
        taps.append(step)
        if step == "tap-left":
            second.jolt(delay_s=0.5)
        elif step == "tap-right":
            first.jolt(delay_s=0.5)

    res = acquire.pair(backend=radio.backend(), protocols=PROTOCOLS, prompt=prompt, scan_s=0.5, stand_s=3.0)
    assert taps == ["tap-left", "tap-right", "stand"]
    assert (res.left.address, res.right.address) == (second.address, first.address)
    assert res.problems == [] and res.saved and res.path == config_dir / "pair-simulated.json"
    saved = acquire.load_pair(simulated=True)
    assert saved["left"]["address"] == second.address and saved["left"]["family"] == "tinyimu"
    assert abs(res.left.gravity_ms2 - 9.81) < 0.1 and res.left.vertical_axis == "+x" and res.left.tilt_deg < 10
    assert abs(res.left.rate_hz - 200) < 5 and res.left.battery == 85
    assert stranger.n_connects == 0  # weak signal: someone else's sensor
    assert not (config_dir / "pair.json").exists()  # the real pair is untouched


def test_mounting_check_flags_an_upside_down_sensor(config_dir):
    radio, left, right, _ = make_standing_radio(right_up="-x", stranger=False)
    kw = dict(left=left.address, right=right.address, backend=radio.backend(), protocols=PROTOCOLS, stand_s=2.0)
    res = acquire.pair(**kw)
    assert res.left.problems == []
    assert res.problems == ["right: the sensor is upside down (its x axis points down the shin): turn it over"]
    assert not res.saved and not (config_dir / "pair-simulated.json").exists()
    forced = acquire.pair(**kw, force=True)
    assert forced.saved


def test_standing_checks_say_plainly_what_to_fix():
    rng = np.random.default_rng(0)
    g = np.array([9.80665, 0.0, 0.0])
    still = g + 0.02 * rng.standard_normal((600, 3))
    quiet = 0.002 * rng.standard_normal((600, 3))
    ok = acquire.check_standing(still, quiet, rate_hz=200, nominal_rate_hz=200, battery=80)
    assert ok["problems"] == [] and ok["warnings"] == [] and ok["vertical_axis"] == "+x"
    tilt = np.radians(50)
    tilted = np.array([np.cos(tilt), np.sin(tilt), 0]) * 9.80665 + 0 * still
    r = acquire.check_standing(tilted, quiet, rate_hz=200, nominal_rate_hz=200)
    assert "no sensor axis runs along the shin" in r["problems"][0] and "y, is 40° off vertical" in r["problems"][0]
    r = acquire.check_standing(still * 0.5, quiet, rate_hz=200, nominal_rate_hz=200)
    assert "reads 4.9 m/s² while standing instead of about 9.81" in r["problems"][0]
    r = acquire.check_standing(still, quiet + 0.3 * rng.standard_normal((600, 3)), rate_hz=200, nominal_rate_hz=200)
    assert "gyroscope is not quiet" in r["problems"][0]
    r = acquire.check_standing(still, quiet, rate_hz=150, nominal_rate_hz=200, battery=12)
    assert "streams at 150 Hz instead of 200 Hz" in r["problems"][0] and "battery at 12 %" in r["warnings"][0]
    r = acquire.check_standing(still, quiet, rate_hz=200, nominal_rate_hz=200, up_axis="+z")
    assert "rotated" in r["problems"][0]


def test_record_uses_the_remembered_pair_and_keeps_footpod_values(tmp_path):
    sim = acquire.simulation("stand", family="movesense", speedup=50.0, duration_s=600.0, seed=2)
    res = acquire.pair(
        backend=sim.backend, prompt=sim.jolt_prompt(echo=None), scan_s=0.5, stand_s=2.0, footpod=sim.footpod.address
    )
    assert res.saved and res.left.address == sim.left.address and res.footpod["family"] == "rsc"
    run = acquire.simulation("run", family="movesense", speedup=50.0, duration_s=30.0, seed=2)
    out = asyncio.run(
        acquire.record_async(tmp_path / "run.parquet", backend=run.backend, duration_s=15.0, handle_sigint=False)
    )
    s = out.session
    assert s.meta.extra["acquisition"]["devices"]["left"]["address"] == sim.left.address
    pod = s.meta.extra["footpod"]
    assert pod["family"] == "rsc" and len(pod["t"]) >= 10 and abs(np.mean(pod["speed_mps"]) - 3.3) < 0.1
    assert run.stranger.n_connects == 0 and run.footpod.n_connects == 1


def test_nothing_paired_and_missing_sensors_give_one_line_errors(tmp_path):
    radio, left, right, _ = make_radio()
    with pytest.raises(acquire.AcquisitionError, match="run `gait pair` first"):
        asyncio.run(acquire.record_async(tmp_path / "a.parquet", backend=radio.backend(), protocols=PROTOCOLS))
    left.switch_off()
    t0 = time.monotonic()
    with pytest.raises(acquire.AcquisitionError) as err:
        rec(tmp_path / "b.parquet", radio, left, right, scan_timeout_s=1.0)
    assert time.monotonic() - t0 < 5.0
    assert str(err.value).startswith(f"left sensor {left.address} was not found after 1 s of scanning")
    assert not (tmp_path / "b.rawlog").exists()


# --- command line -------------------------------------------------------------------------------------------------
def test_cli_simulated_pair_record_recover(tmp_path, capsys):
    from gait.cli import main

    assert main(["pair", "--simulate", "--speedup", "50", "--stand", "2s"]) == 0
    assert "Pair saved" in capsys.readouterr().out
    session = tmp_path / "run.parquet"
    argv = [
        "record",
        str(session),
        "--simulate",
        "--speedup",
        "50",
        "--duration",
        "20s",
        "--load-kg",
        "1",
        "--sim-drop",
        "5:2",
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "link lost" in text and "reconnected" in text and "Saved" in text
    s = Session.load(session)
    assert (
        s.meta.label == "weighted" and s.meta.load_kg == {"left": 1.0, "right": 1.0} and len(s.meta.gaps["left"]) == 1
    )
    assert "footpod" in s.meta.extra
    assert main(argv) == 2  # exists: one line, no traceback
    assert "already exists" in capsys.readouterr().err
    assert main(["recover", str(session.with_suffix(".rawlog")), "--out", str(tmp_path / "again.parquet")]) == 0
    assert "the raw log is complete" in capsys.readouterr().out


@pytest.mark.skipif(HAS_SYSTEM_BUS, reason="this machine has a D-Bus system bus")
def test_cli_without_bluetooth_prints_one_line(capsys):
    from gait.cli import main

    assert main(["scan", "--timeout", "1s"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--simulate" in err and "Bluetooth is not available" in err


def test_status_lines_redraw_on_a_terminal_and_are_plain_otherwise():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    live = recorder._Live("left", "AA:00:00:00:00:01", TinyImu(), 0, battery=77)
    for out, escapes in ((io.StringIO(), False), (Tty(), True)):
        st = recorder._Status(out, [live], 1.0)
        st.tick(1.0, force=True)
        st.tick(2.0, force=True)
        text = out.getvalue()
        assert ("\x1b[" in text) is escapes and "77 %" in text and text.count("left") == 2
