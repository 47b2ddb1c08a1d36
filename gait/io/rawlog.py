"""Crash-safe, append-only log of raw BLE notifications.

Each notification is stored as it arrived, ``(host monotonic ns, device, payload bytes)``, so decoding can be redone
later and a killed process loses at most what was not yet flushed (at most ``flush_interval_s``, default 0.5 s).

Layout (little-endian)::

    file   := MAGIC (8 bytes) header_len:u32 header_json  frame*
    frame  := SYNC (2 bytes) kind:u8 t_ns:i64 device:u16 length:u16 payload[length] crc32:u32

``crc32`` covers ``kind .. payload``. ``kind`` is DATA (a notification), DEVICE (JSON describing device number
``device``: address, protocol family, side, configuration) or EVENT (JSON: start, stop, disconnect, reconnect, ...).
A reader accepts a torn last frame (it stops there and reports the bytes it dropped) and resynchronises on the SYNC
marker after a corrupt frame in the middle, so everything that was written intact is kept.
"""

from __future__ import annotations

import json
import os
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gait.errors import RawLogError

MAGIC = b"GAITRAW\x01"
SYNC = b"\xa5\x5a"
_FRAME_HEAD = struct.Struct("<BqHH")  # kind, t_ns, device, length
_CRC = struct.Struct("<I")
_HEADER_LEN = struct.Struct("<I")
FRAME_OVERHEAD = len(SYNC) + _FRAME_HEAD.size + _CRC.size
MAX_PAYLOAD = 0xFFFF

KIND_DATA = 0
KIND_DEVICE = 1
KIND_EVENT = 2
_KINDS = (KIND_DATA, KIND_DEVICE, KIND_EVENT)


def _frame(kind: int, t_ns: int, device: int, payload: bytes) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds the raw-log limit of {MAX_PAYLOAD}")
    head = _FRAME_HEAD.pack(kind, t_ns, device, len(payload))
    crc = zlib.crc32(payload, zlib.crc32(head))
    return SYNC + head + payload + _CRC.pack(crc)


class RawLogWriter:
    """Append frames to a raw log; flushes to the operating system at least every ``flush_interval_s``.

    A flushed frame survives the process being killed (SIGKILL); ``fsync_interval_s`` bounds what a power loss
    can take. Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        path: str | Path,
        header: dict[str, Any] | None = None,
        *,
        flush_interval_s: float = 0.5,
        fsync_interval_s: float = 5.0,
    ):
        self.path = Path(path)
        self.flush_interval_s = flush_interval_s
        self.fsync_interval_s = fsync_interval_s
        exists = self.path.exists() and self.path.stat().st_size > 0
        self._fh = open(self.path, "ab", buffering=1 << 16)  # noqa: SIM115 - closed in close()
        if not exists:
            head = json.dumps(header or {}, sort_keys=True).encode()
            self._fh.write(MAGIC + _HEADER_LEN.pack(len(head)) + head)
            self._fh.flush()
        self._last_flush = time.monotonic()
        self._last_fsync = self._last_flush
        self.n_frames = 0
        self.n_bytes = 0
        self._n_devices = 0

    def add_device(self, info: dict[str, Any], t_ns: int | None = None) -> int:
        """Declare a device (address, family, side, config); returns its number for :meth:`write`."""
        number = self._n_devices
        self._n_devices += 1
        self._append(KIND_DEVICE, t_ns, number, json.dumps(info, sort_keys=True).encode())
        self.flush()
        return number

    def event(self, kind: str, t_ns: int | None = None, device: int = 0xFFFF, **details: Any) -> None:
        """Record an event (start, stop, disconnect, reconnect, note ...) with JSON-serialisable details."""
        self._append(KIND_EVENT, t_ns, device, json.dumps({"event": kind, **details}, sort_keys=True).encode())
        self.flush()

    def write(self, t_ns: int, device: int, payload: bytes) -> None:
        """Append one notification."""
        self._append(KIND_DATA, t_ns, device, bytes(payload))

    def write_many(self, frames: Iterator[tuple[int, int, bytes]] | list[tuple[int, int, bytes]]) -> None:
        """Append many notifications at once (one buffered write)."""
        chunk = b"".join(_frame(KIND_DATA, t, d, bytes(p)) for t, d, p in frames)
        self._fh.write(chunk)
        self.n_bytes += len(chunk)
        self._maybe_flush()

    def _append(self, kind: int, t_ns: int | None, device: int, payload: bytes) -> None:
        data = _frame(kind, time.monotonic_ns() if t_ns is None else int(t_ns), device, payload)
        self._fh.write(data)
        self.n_frames += 1
        self.n_bytes += len(data)
        self._maybe_flush()

    def _maybe_flush(self) -> None:
        now = time.monotonic()
        if now - self._last_flush >= self.flush_interval_s:
            self._fh.flush()
            self._last_flush = now
            if now - self._last_fsync >= self.fsync_interval_s:
                os.fsync(self._fh.fileno())
                self._last_fsync = now

    def flush(self, fsync: bool = False) -> None:
        """Hand everything written so far to the operating system (and to the disk with ``fsync``)."""
        self._fh.flush()
        self._last_flush = time.monotonic()
        if fsync:
            os.fsync(self._fh.fileno())
            self._last_fsync = self._last_flush

    def close(self) -> None:
        if not self._fh.closed:
            self.flush(fsync=True)
            self._fh.close()

    def __enter__(self) -> RawLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class RawLog:
    """Everything a raw log held that was intact.

    ``t_ns``, ``device`` are per DATA frame; ``payloads`` the matching bytes. ``dropped_bytes`` counts bytes that
    could not be read (a torn end or a corrupt stretch), ``torn_end`` says whether the last frame was incomplete.
    """

    path: Path
    header: dict[str, Any]
    devices: dict[int, dict[str, Any]]
    events: list[dict[str, Any]]
    t_ns: np.ndarray
    device: np.ndarray
    payloads: list[bytes]
    dropped_bytes: int = 0
    torn_end: bool = False
    n_corrupt: int = 0
    file_bytes: int = 0
    notes: list[str] = field(default_factory=list)

    def payloads_for(self, device: int) -> tuple[np.ndarray, list[bytes]]:
        """Arrival times (ns) and payloads of one device, in file order."""
        idx = np.flatnonzero(self.device == device)
        return self.t_ns[idx], [self.payloads[i] for i in idx]

    def describe_loss(self) -> str:
        """One line for the user about what could not be read."""
        if not self.dropped_bytes:
            return "the raw log is complete"
        what = "its end was torn" if self.torn_end else "part of it was corrupt"
        extra = f", {self.n_corrupt} corrupt stretch(es) skipped" if self.n_corrupt else ""
        return f"{self.dropped_bytes} of {self.file_bytes} bytes could not be read ({what}{extra})"


def read_rawlog(path: str | Path) -> RawLog:
    """Read a raw log, keeping every intact frame; a torn end or corrupt middle is skipped and counted."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RawLogError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise RawLogError(f"{path}: is a folder, not a raw log") from None
    if len(data) < len(MAGIC) + _HEADER_LEN.size or not data.startswith(MAGIC):
        raise RawLogError(f"{path}: not a gait raw log (wrong or missing file signature)")
    (hlen,) = _HEADER_LEN.unpack_from(data, len(MAGIC))
    pos = len(MAGIC) + _HEADER_LEN.size
    try:
        header = json.loads(data[pos : pos + hlen].decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RawLogError(f"{path}: the raw log's header is unreadable") from None
    pos += hlen

    devices: dict[int, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    t_list: list[int] = []
    d_list: list[int] = []
    payloads: list[bytes] = []
    dropped = 0
    n_corrupt = 0
    torn = False
    n = len(data)
    head_size = _FRAME_HEAD.size
    while pos < n:
        ok = data.startswith(SYNC, pos) and pos + FRAME_OVERHEAD <= n
        if ok:
            kind, t_ns, dev, length = _FRAME_HEAD.unpack_from(data, pos + 2)
            end = pos + 2 + head_size + length + _CRC.size
            if end > n:
                # incomplete frame: torn end if nothing valid can follow
                ok = False
            elif kind in _KINDS:
                body = data[pos + 2 : pos + 2 + head_size + length]
                (crc,) = _CRC.unpack_from(data, end - _CRC.size)
                ok = zlib.crc32(body) == crc
            else:
                ok = False
        if not ok:
            nxt = data.find(SYNC, pos + 1)
            while nxt != -1 and not _valid_frame_at(data, nxt):
                nxt = data.find(SYNC, nxt + 1)
            if nxt == -1:
                dropped += n - pos
                torn = True
                break
            dropped += nxt - pos
            n_corrupt += 1
            pos = nxt
            continue
        payload = data[pos + 2 + head_size : end - _CRC.size]
        if kind == KIND_DATA:
            t_list.append(t_ns)
            d_list.append(dev)
            payloads.append(payload)
        else:
            try:
                info = json.loads(payload.decode())
            except (UnicodeDecodeError, json.JSONDecodeError):
                info = None
            if isinstance(info, dict):
                if kind == KIND_DEVICE:
                    devices[dev] = info
                else:
                    events.append({"t_ns": t_ns, "device": dev, **info})
        pos = end
    return RawLog(
        path=path,
        header=header,
        devices=devices,
        events=events,
        t_ns=np.asarray(t_list, dtype=np.int64),
        device=np.asarray(d_list, dtype=np.uint16),
        payloads=payloads,
        dropped_bytes=dropped,
        torn_end=torn,
        n_corrupt=n_corrupt,
        file_bytes=n,
    )


def _valid_frame_at(data: bytes, pos: int) -> bool:
    if pos + FRAME_OVERHEAD > len(data):
        return False
    kind, _, _, length = _FRAME_HEAD.unpack_from(data, pos + 2)
    end = pos + 2 + _FRAME_HEAD.size + length + _CRC.size
    if kind not in _KINDS or end > len(data):
        return False
    (crc,) = _CRC.unpack_from(data, end - _CRC.size)
    return zlib.crc32(data[pos + 2 : end - _CRC.size]) == crc
