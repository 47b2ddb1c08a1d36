"""Acquisition: pair two ankle sensors, record them into a crash-safe raw log, decode the log into a session.

The radio work is done by :mod:`devices.ble` (imported lazily, only here). This package adds what needs gait, one
idea per module:

* :mod:`~gait.acquire.recorder` - :func:`record` streams both ankles (and optionally a footpod) into
  ``PATH.rawlog`` beside the session ``PATH``, with live status lines and live form feedback, and decodes the raw
  log into a :class:`gait.Session` at the end.
* :mod:`~gait.acquire.decode` - :func:`decode_rawlog` / :func:`session_from_rawlog` turn a raw log into sensor
  streams on the host clock and a session; :func:`recover` does it for a raw log whose end is torn.
* :mod:`~gait.acquire.hostclock` - the online host-clock fit that puts the live analysis on the session's clock.
* :mod:`~gait.acquire.pairing` - :func:`pair` picks the left and right sensor (by address, or the one that jolts
  when the runner taps an ankle), checks them while standing and remembers the pair in the user's config folder.
* :mod:`~gait.acquire.simulated` - :func:`simulation` builds the virtual sensors (:mod:`devices.simulated`) fed
  by :mod:`gait.synth` for ``--simulate``.
* :mod:`~gait.acquire.common` - the error, protocol construction and defaults they share.
"""

from __future__ import annotations

from gait.acquire.common import DEFAULT_RATE_HZ, AcquisitionError
from gait.acquire.decode import DecodedSide, RecoverResult, decode_rawlog, recover, session_from_rawlog
from gait.acquire.pairing import (
    PairResult,
    SensorCheck,
    check_standing,
    config_dir,
    load_pair,
    pair,
    pair_async,
    pair_path,
    save_pair,
)
from gait.acquire.recorder import RecordResult, rawlog_path_for, record, record_async
from gait.acquire.simulated import DEFAULT_SIM_FAMILY, Simulation, simulation

__all__ = [
    "DEFAULT_RATE_HZ",
    "DEFAULT_SIM_FAMILY",
    "AcquisitionError",
    "DecodedSide",
    "PairResult",
    "RecordResult",
    "RecoverResult",
    "SensorCheck",
    "Simulation",
    "check_standing",
    "config_dir",
    "decode_rawlog",
    "load_pair",
    "pair",
    "pair_async",
    "pair_path",
    "rawlog_path_for",
    "record",
    "record_async",
    "recover",
    "save_pair",
    "session_from_rawlog",
    "simulation",
]
