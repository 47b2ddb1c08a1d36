"""Raw BLE log: append-only frames that survive a torn end and corrupt stretches."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gait.errors import RawLogError
from gait.io.rawlog import FRAME_OVERHEAD, RawLogWriter, read_rawlog


def _write(path, frames, header=None):
    with RawLogWriter(path, header or {"app": "test"}) as w:
        dev = w.add_device({"address": "AA:BB", "family": "witmotion", "side": "left"}, t_ns=0)
        w.event("start", t_ns=1)
        for t, payload in frames:
            w.write(t, dev, payload)
    return dev


payloads = st.lists(st.binary(min_size=0, max_size=300), min_size=1, max_size=40)


@settings(max_examples=50, deadline=None)
@given(payloads)
def test_round_trip(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("log") / "x.rawlog"
    frames = [(1000 + i, p) for i, p in enumerate(data)]
    dev = _write(path, frames)
    log = read_rawlog(path)
    assert log.header == {"app": "test"}
    assert log.devices[dev]["family"] == "witmotion"
    assert [e["event"] for e in log.events] == ["start"]
    assert log.payloads == [p for _, p in frames]
    np.testing.assert_array_equal(log.t_ns, [t for t, _ in frames])
    assert log.dropped_bytes == 0 and not log.torn_end


@settings(max_examples=50, deadline=None)
@given(payloads, st.integers(1, 10_000))
def test_torn_end_keeps_every_complete_frame(tmp_path_factory, data, cut):
    path = tmp_path_factory.mktemp("log") / "x.rawlog"
    _write(path, [(i, p) for i, p in enumerate(data)])
    full = path.read_bytes()
    cut = min(cut, sum(len(p) + FRAME_OVERHEAD for p in data))
    path.write_bytes(full[: len(full) - cut])
    log = read_rawlog(path)
    assert log.file_bytes == len(full) - cut
    # every frame that lies wholly before the cut is kept, in order, and the rest is counted as dropped
    kept = len(log.payloads)
    assert log.payloads == data[:kept]
    whole = sum(len(p) + FRAME_OVERHEAD for p in data[:kept])
    assert log.dropped_bytes == len(full) - cut - (len(full) - sum(len(p) + FRAME_OVERHEAD for p in data)) - whole
    assert (log.dropped_bytes > 0) == log.torn_end
    assert "bytes could not be read" in log.describe_loss() or log.dropped_bytes == 0


def test_corrupt_middle_is_skipped_and_the_rest_kept(tmp_path):
    path = tmp_path / "x.rawlog"
    data = [bytes([i]) * 20 for i in range(50)]
    _write(path, list(enumerate(data)))
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte inside some frame
    path.write_bytes(bytes(raw))
    log = read_rawlog(path)
    assert len(log.payloads) == 49 and log.n_corrupt == 1 and not log.torn_end
    assert all(p in data for p in log.payloads)
    assert "corrupt" in log.describe_loss()


def test_not_a_rawlog(tmp_path):
    p = tmp_path / "x.rawlog"
    p.write_bytes(b"hello world, not a log")
    with pytest.raises(RawLogError, match="not a gait raw log"):
        read_rawlog(p)
    with pytest.raises(RawLogError, match="no such file"):
        read_rawlog(tmp_path / "missing")


def test_appending_to_an_existing_log(tmp_path):
    path = tmp_path / "x.rawlog"
    _write(path, [(1, b"a")])
    with RawLogWriter(path) as w:
        w.write(2, 0, b"b")
    log = read_rawlog(path)
    assert log.payloads == [b"a", b"b"] and log.header == {"app": "test"}


_WRITER = """
import sys, time
from gait.io.rawlog import RawLogWriter
w = RawLogWriter(sys.argv[1], {}, flush_interval_s=0.2)
dev = w.add_device({"address": "x"})
i = 0
start = time.monotonic()
while True:
    w.write(time.monotonic_ns(), dev, i.to_bytes(4, "little") * 5)
    i += 1
    if i % 200 == 0:
        print(i, flush=True)
    time.sleep(0.001)
"""


def test_sigkill_loses_at_most_the_unflushed_tail(tmp_path):
    """A writer killed with SIGKILL keeps everything older than its flush interval."""
    path = tmp_path / "killed.rawlog"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    last_reported = 0
    deadline = time.monotonic() + 30
    while last_reported < 1000 and time.monotonic() < deadline:
        last_reported = int(proc.stdout.readline())
    time.sleep(0.5)  # > flush interval: what was reported is certainly flushed
    os.kill(proc.pid, 9)
    proc.wait()
    log = read_rawlog(path)
    counters = [int.from_bytes(p[:4], "little") for p in log.payloads]
    assert counters == list(range(len(counters)))  # nothing lost or reordered before the cut
    assert len(counters) >= last_reported
