"""QA findings on pairing and recording, each pinned by a test: a host stall at the default speedup must not cost
the sensor closed first its data, a sample rate must be positive, a sensor cannot be both ankles, a footpod is not
an ankle sensor, a bad baseline is named, and a missing folder is refused rather than created.

No wall-clock time is asserted.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from bleak import BleakClient

from gait import acquire
from gait.cli import main

try:
    from tests._simkit import CONTROL, DATA, PROTOCOLS, TinyImu, make_radio
except ImportError:  # tests/ itself on sys.path
    from _simkit import CONTROL, DATA, PROTOCOLS, TinyImu, make_radio

REPO = Path(__file__).resolve().parents[1]
LEFT, RIGHT, POD = "0C:8C:DC:00:00:01", "0C:8C:DC:00:00:02", "C4:7C:8D:00:00:03"  # the simulation's addresses


# --- 1. a host stall, then the sensors are closed one by one -------------------------------------------------------
@pytest.mark.parametrize("how", ["stop command", "stop notify", "disconnect"])
def test_stopping_a_stream_delivers_what_was_ready_after_a_host_stall(how):
    """The radio ticks every 20 ms; when the host stalled (here 0.3 s: 6 simulated s at 20x) and then stops the
    sensor, what the sensor produced up to the stop must arrive, as from a real sensor, not be dropped."""
    from devices.simulated import SimulatedClient

    radio, left, _right, _ = make_radio(speedup=20.0, duration_s=60.0, stranger=False, start_after=1)

    async def go() -> tuple[int, int]:
        got: list[bytes] = []
        client = BleakClient(left.address, backend=SimulatedClient, radio=radio)
        await client.connect()
        await client.start_notify(DATA, lambda _c, d: got.append(bytes(d)))
        await client.write_gatt_char(CONTROL, TinyImu().start_commands()[0].data, response=True)
        await asyncio.sleep(0.1)
        time.sleep(0.3)  # the host is busy (e.g. a slow first import): the radio cannot tick
        ready = int(np.searchsorted(left._ready, radio.now(), side="right"))
        if how == "stop command":
            await client.write_gatt_char(CONTROL, TinyImu().stop_commands()[0].data, response=True)
        elif how == "stop notify":
            await client.stop_notify(DATA)
        else:
            await client.disconnect()
        return len(got), ready

    n_got, ready = asyncio.run(go())
    assert ready > 100  # several simulated seconds were ready
    assert n_got >= ready and left.n_lost == 0


def test_a_short_recording_at_the_default_speedup_holds_both_sides_for_the_whole_run(tmp_path):
    """`gait record --simulate --duration 5s` at 20x: the first import of the live stream clock (half a second)
    used to stall the event loop mid-recording; the world ran 10 s ahead, the recording stopped late, and the left
    sensor, closed first, lost everything after its last tick (2 s of 11). Now the recorder imports it before the
    sensors start, and a stopped sensor sends what was ready; both sides hold the whole run."""
    session = tmp_path / "r.parquet"
    script = textwrap.dedent(
        f"""
        import json, sys
        import devices.simulated as S
        seen = []
        orig = S.SimulatedRadio._stream_changed
        def changed(self, p, on):
            started = self.started
            orig(self, p, on)
            if self.started and not started:
                seen.append("gait.live" in sys.modules)
        S.SimulatedRadio._stream_changed = changed
        from gait.cli import main
        rc = main(["record", {str(session)!r}, "--simulate", "--duration", "5s"])
        from gait.session import Session
        s = Session.load({str(session)!r})
        print(json.dumps({{"rc": rc, "imported": seen, "n": {{k: len(s.arrays(k)["t"]) for k in ("left", "right")}}}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    res = json.loads(done.stdout.strip().splitlines()[-1])
    assert res["rc"] == 0 and res["imported"] == [True]  # no slow import while streaming
    n_left, n_right = res["n"]["left"], res["n"]["right"]
    assert min(n_left, n_right) >= 0.95 * 5.0 * 208  # at least the 5 s asked for, at the nominal rate
    assert abs(n_left - n_right) <= 0.03 * max(n_left, n_right)


# --- 2. the sample rate ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rate", [0.0, -5.0, math.nan])
def test_a_rate_that_is_not_positive_is_refused_by_pair(rate):
    radio, left, right, _ = make_radio(speedup=20.0, stranger=False)

    async def go():
        return await asyncio.wait_for(
            acquire.pair_async(
                left.address, right.address, backend=radio.backend(), protocols=PROTOCOLS, rate_hz=rate, save=False
            ),
            60,
        )

    with pytest.raises(acquire.AcquisitionError, match="positive"):
        asyncio.run(go())


def test_a_rate_that_is_not_positive_is_refused_in_one_line(tmp_path, capsys):
    # in a process of its own: `gait pair --rate 0` used to hang
    argv = ["pair", "--simulate", "--rate", "0", "--left", LEFT, "--right", RIGHT]
    done = subprocess.run(
        [sys.executable, "-m", "gait.cli", *argv], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "positive" in done.stderr and done.stderr.count("\n") == 1
    session = tmp_path / "r.parquet"
    assert main(["record", str(session), "--simulate", "--rate", "-5", "--duration", "2s"]) == 2
    err = capsys.readouterr().err
    assert "positive" in err and err.count("\n") == 1
    assert not session.exists() and not session.with_suffix(".rawlog").exists()
    with pytest.raises(acquire.AcquisitionError, match="positive"):
        acquire.simulation("stand", rate_hz=-5.0, duration_s=5.0)


# --- 3. / 4. which sensor is which --------------------------------------------------------------------------------
def test_the_same_sensor_for_both_ankles_is_refused_by_name(capsys):
    assert main(["pair", "--simulate", "--left", LEFT, "--right", LEFT.lower()]) == 2
    err = capsys.readouterr().err
    assert "left and right are the same sensor" in err and "did not answer" not in err


def test_a_footpod_given_as_an_ankle_is_named_a_footpod(tmp_path, capsys):
    assert main(["pair", "--simulate", "--left", POD, "--right", LEFT]) == 2
    err = capsys.readouterr().err
    assert "footpod (running speed and cadence sensor, no IMU)" in err and "--footpod" in err
    assert "nan" not in err
    session = tmp_path / "r.parquet"
    assert main(["record", str(session), "--simulate", "--left", LEFT, "--right", POD, "--duration", "2s"]) == 2
    err = capsys.readouterr().err
    assert f"right sensor {POD}" in err and "footpod" in err and "--footpod" in err
    assert not session.with_suffix(".rawlog").exists()


# --- 5. a baseline that cannot be used ----------------------------------------------------------------------------
def test_a_baseline_that_cannot_be_analysed_is_named(tmp_path, capsys):
    sim = acquire.simulation("stand", speedup=math.inf, duration_s=30.0, footpod=False, stranger=False)
    standing = tmp_path / "standing.parquet"
    acquire.record(standing, left=sim.left.address, right=sim.right.address, backend=sim.backend, duration_s=10.0)
    session = tmp_path / "x.parquet"
    assert main(["record", str(session), "--simulate", "--duration", "2s", "--baseline", str(standing)]) == 2
    err = capsys.readouterr().err
    assert f"baseline {standing}: " in err and err.count("\n") == 1
    assert not session.with_suffix(".rawlog").exists()


# --- 6. a missing folder ------------------------------------------------------------------------------------------
def test_record_refuses_a_missing_folder_instead_of_creating_it(tmp_path, capsys):
    folder = tmp_path / "no" / "such"
    assert main(["record", str(folder / "r.parquet"), "--simulate", "--duration", "2s"]) == 2
    err = capsys.readouterr().err
    assert f"{folder}: no such folder; create it first" in err
    assert not folder.exists() and not folder.parent.exists()
    radio, left, right, _ = make_radio(speedup=math.inf, stranger=False)
    with pytest.raises(acquire.AcquisitionError, match="no such folder"):
        acquire.record(
            folder / "r.parquet", left=left.address, right=right.address, backend=radio.backend(), protocols=PROTOCOLS
        )
    assert not folder.exists()
