"""A terminal live view for ``gait record``: running form per leg, sensor health, baseline warnings.

Plain ANSI escape codes (no extra dependency; ``rich`` is not installed in the project's environment). On a
terminal the block below is redrawn in place at most every ``refresh_s`` seconds and fits 80 columns::

    gait live   LIVE   elapsed 00:04:12   last 30 s: 40 L / 40 R strides    bell on
    ------------------------------------------------------------------------------
                                   LEFT     RIGHT       R-L     asym   baseline
    cadence          steps/min    163.5     163.6      +0.1    +0.1%
    ...

When the stream is not a terminal (a log file, CI) it writes one plain status line every ``plain_every_s`` seconds
of stream time instead, plus a line whenever a warning turns on or off. Warnings are shown in red on a terminal and
ring the terminal bell when they turn on (``bell=True``).

API: ``LiveView(stream=sys.stdout, bell=False)``, ``update(summary, health)``, ``message(text)``, ``close()``;
``run_live_demo(duration_s, speedup)`` plays a synthetic run through :class:`gait.live.LiveAnalyzer` and this view
(``python -m gait.live_view --help``).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

import pandas as pd

from gait import conventions as C
from gait.live import LiveAnalyzer, LiveSummary, interleaved_chunks
from gait.live_baseline import METRIC_INFO, unit_label

__all__ = ["DemoResult", "LiveView", "health_row", "run_live_demo"]

WIDTH = 80
#: Rows of the table: metric, label, and how the R-L difference is shown ("si" adds the symmetry index).
ROWS: tuple[tuple[str, str, bool], ...] = (
    (C.CADENCE, "cadence", True),
    (C.CONTACT_TIME, "contact time", True),
    (C.STRIDE_LENGTH, "stride length", True),
    (C.SHANK_ANGLE_IC, "shank angle IC", False),
    (C.FOOT_ANGLE_IC, "foot angle IC", False),
    (C.PEAK_TIBIAL_ACCEL, "tibial shock", True),
    (C.STEP_TIME, "step time", True),
    (C.FLIGHT_TIME, "flight time", True),
    (C.SPEED, "speed", False),
)

_RESET, _BOLD, _DIM, _RED, _YELLOW, _GREEN, _INV = (
    "\x1b[0m",
    "\x1b[1m",
    "\x1b[2m",
    "\x1b[31m",
    "\x1b[33m",
    "\x1b[32m",
    "\x1b[7m",
)


def _hms(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        seconds = 0.0
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _fmt(metric: str, value: float, signed: bool = False) -> str:
    """A metric value in display units (times in ms)."""
    if value is None or not math.isfinite(value):
        return "-"
    unit = METRIC_INFO.get(metric, ("", ""))[1]
    sign = "+" if signed else ""
    if unit == "s":
        text = f"{value * 1000:{sign}.0f}"
    elif unit in ("m", "m/s"):
        text = f"{value:{sign}.2f}"
    else:
        text = f"{value:{sign}.1f}"
    return _no_negative_zero(text, signed)


def _no_negative_zero(text: str, signed: bool = True) -> str:
    """``-0``, ``-0.0``, ``-0.0%`` -> ``+0.0`` (signed) or ``0.0``: a value that rounds to zero has no sign."""
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        return ("+" if signed else "") + text[1:]
    return text


def health_row(h: Any) -> dict[str, Any]:
    """Normalise one sensor's health (a dict or an object such as the recorder's per-sensor state) to
    ``rate_hz, disconnects, lost_samples, battery_pct, state``. Accepted names: ``rate_hz``/``rate``,
    ``disconnects``/``drops``, ``lost_samples``/``lost``, ``battery_pct``/``battery``, ``state``."""

    def get(*names: str) -> Any:
        for n in names:
            v = h.get(n) if isinstance(h, Mapping) else getattr(h, n, None)
            if v is not None:
                return v
        return None

    return {
        "rate_hz": get("rate_hz", "rate"),
        "disconnects": get("disconnects", "drops", "link_drops"),
        "lost_samples": get("lost_samples", "lost", "missing_samples"),
        "battery_pct": get("battery_pct", "battery"),
        "state": get("state", "status") or "",
    }


class LiveView:
    """Terminal view of a :class:`gait.live.LiveSummary` plus sensor health.

    Parameters
    ----------
    stream
        Where to write (default ``sys.stdout``). A terminal gets the redrawn block; anything else plain lines.
    bell
        Ring the terminal bell when a warning turns on.
    refresh_s
        Minimum wall time between two redraws on a terminal (a new warning redraws at once).
    plain_every_s
        Stream seconds between two plain status lines (not a terminal).
    color
        ANSI colours; default: on a terminal unless ``NO_COLOR`` is set.
    """

    def __init__(
        self,
        stream: IO[str] | None = None,
        bell: bool = False,
        *,
        refresh_s: float = 0.25,
        plain_every_s: float = 5.0,
        color: bool | None = None,
        tty: bool | None = None,
    ):
        self.stream = stream if stream is not None else sys.stdout
        self.bell = bool(bell)
        self.refresh_s = float(refresh_s)
        self.plain_every_s = float(plain_every_s)
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            try:
                tty = bool(isatty and isatty())
            except (OSError, ValueError):
                tty = False
        self.tty = tty
        self.color = (self.tty and "NO_COLOR" not in os.environ) if color is None else bool(color)
        self._drawn = 0
        self._last_draw = -math.inf
        self._next_plain = -math.inf
        self._active: dict[str, str] = {}
        self._status = ""
        self._summary: LiveSummary | None = None
        self._health: Mapping[str, Any] = {}
        self._closed = False

    # --- public ---------------------------------------------------------------------------------------------
    def update(self, summary: LiveSummary | None, health: Mapping[str, Any] | None = None) -> None:
        """Show the latest summary and sensor health (``{"left": {...}, "right": {...}}``; see :func:`health_row`).
        Cheap to call often: the terminal is redrawn at most every ``refresh_s``."""
        if self._closed:
            return
        self._summary = summary
        if health is not None:
            self._health = health
        now = time.monotonic()
        warns = {w.key: w.text for w in (summary.warnings if summary is not None else [])}
        new = [k for k in warns if k not in self._active]
        gone = [k for k in self._active if k not in warns]
        status = summary.status if summary is not None else "waiting"
        changed = bool(new or gone) or status != self._status
        if self.tty:
            if changed or now - self._last_draw >= self.refresh_s:
                self._draw()
                self._last_draw = now
            if new and self.bell:
                self._write("\a")
        else:
            elapsed = summary.elapsed_s if summary is not None else 0.0
            for k in new:
                self._write(f"[{_hms(elapsed)}] WARNING {warns[k]}\n" + ("\a" if self.bell else ""))
            for k in gone:
                self._write(f"[{_hms(elapsed)}] cleared: {self._active[k]}\n")
            if status != self._status or elapsed >= self._next_plain:
                self._write(self.plain_line(summary, self._health) + "\n")
                self._next_plain = elapsed + self.plain_every_s
        self._active = warns
        self._status = status

    def message(self, text: str) -> None:
        """A one-off line (a dropout, a reconnect) printed above the live block."""
        if self._closed:
            return
        if self.tty and self._drawn:
            self._write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0
        self._write(text + "\n")
        if self.tty and self._summary is not None:
            self._draw()

    def close(self) -> None:
        """Final state: the block stays on screen (terminal) or a last status line is written."""
        if self._closed:
            return
        if self.tty:
            if self._summary is not None:
                self._draw()
        elif self._summary is not None:
            self._write(self.plain_line(self._summary, self._health) + "\n")
        self._closed = True

    def __enter__(self) -> LiveView:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- rendering ------------------------------------------------------------------------------------------
    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.stream.write(text)
            self.stream.flush()

    def _c(self, text: str, *codes: str) -> str:
        return "".join(codes) + text + _RESET if self.color and codes else text

    def _draw(self) -> None:
        lines = self.render(self._summary, self._health)
        cols = shutil.get_terminal_size((WIDTH, 24)).columns if self.tty else WIDTH
        width = max(20, min(cols, WIDTH) - 1)
        out = [self._clip(line, width) for line in lines]
        up = f"\x1b[{self._drawn}F" if self._drawn else ""
        self._write(up + "".join(f"\x1b[2K{line}\n" for line in out) + "\x1b[J")
        self._drawn = len(out)

    @staticmethod
    def _clip(line: str, width: int) -> str:
        """Cut a line to ``width`` visible characters (ANSI codes do not count) so it never wraps."""
        out, vis, i = [], 0, 0
        while i < len(line):
            if line[i] == "\x1b":
                j = line.find("m", i)
                if j < 0:
                    break
                out.append(line[i : j + 1])
                i = j + 1
                continue
            if vis >= width:
                break
            out.append(line[i])
            vis += 1
            i += 1
        return "".join(out) + (_RESET if "\x1b[" in line else "")

    def render(self, summary: LiveSummary | None, health: Mapping[str, Any] | None) -> list[str]:
        """The block as a list of lines (at most 79 visible characters each)."""
        c = self._c
        rule = c("-" * (WIDTH - 1), _DIM)
        if summary is None:
            head = f"{c('gait live', _BOLD)}   waiting for data"
            return [head, rule, *self._health_lines(health), rule]
        n = summary.n_strides
        state = {"live": c(" LIVE ", _BOLD, _GREEN, _INV), "calibrating": c(" CALIBRATING ", _BOLD, _YELLOW, _INV)}
        head = (
            f"{c('gait live', _BOLD)}  {state.get(summary.status, summary.status.upper())}  "
            f"elapsed {_hms(summary.elapsed_s)}  "
        )
        if summary.status == "live":
            head += f"last {summary.window_s:.0f} s: {n.get('left', 0)} L / {n.get('right', 0)} R strides"
        head += f"   bell {'on' if self.bell else 'off'}" if summary.status == "live" else ""
        lines = [head, rule]
        if summary.status != "live":
            lines.append(summary.message)
            lines.append("")
        warned = {(w.metric, w.side) for w in summary.warnings}
        lines.append(c(f"{'':29s}{'LEFT':>8s}{'RIGHT':>10s}{'R-L':>10s}{'asym':>9s}  baseline", _BOLD))
        legs = summary.legs
        skip = C.FOOT_ANGLE_IC if summary.placement == "shank" else C.SHANK_ANGLE_IC
        for metric, label, si in ROWS:
            if metric == skip:
                continue
            row = legs.loc[metric] if metric in legs.index else None
            lv = float(row["left"]) if row is not None else math.nan
            rv = float(row["right"]) if row is not None else math.nan
            diff = rv - lv
            asym = ""
            if si and math.isfinite(diff):
                asym = _no_negative_zero(f"{diff / (0.5 * (lv + rv)) * 100:+.1f}%")
            cells = []
            for side, v in (("left", lv), ("right", rv)):
                text = _fmt(metric, v)
                cells.append(c(f"{text:>8s}", _BOLD, _RED) if (metric, side) in warned else f"{text:>8s}")
            d_text = _fmt(metric, diff, signed=True)
            d_cell = c(f"{d_text:>10s}", _BOLD, _RED) if (metric, "r-l") in warned else f"{d_text:>10s}"
            base = self._baseline_text(summary, metric)
            unit = unit_label(metric)
            lines.append(f"{label:<16s} {unit:<10s}  {cells[0]}  {cells[1]}{d_cell}{asym:>9s}  {base}")
        lines.append(rule)
        lines.extend(self._health_lines(health))
        lines.append(rule)
        if summary.warnings:
            for w in summary.warnings:
                lines.append(c(f"!! {w.short}", _BOLD, _RED))
        elif summary.status == "live":
            lines.append(c("form within your baseline" if summary.baseline else "no baseline given", _DIM))
        return lines

    @staticmethod
    def _baseline_text(summary: LiveSummary, metric: str) -> str:
        base = summary.baseline
        lv, rv, dv = base.get((metric, "left")), base.get((metric, "right")), base.get((metric, "r-l"))
        if lv is not None and rv is not None:
            return f"{_fmt(metric, lv)}/{_fmt(metric, rv)}"
        if dv is not None:
            return f"R-L {_fmt(metric, dv, signed=True)}"
        return ""

    def _health_lines(self, health: Mapping[str, Any] | None) -> list[str]:
        c = self._c
        lines = [
            c(
                f"{'sensor':<8s}{'rate':>10s}   {'link drops':>10s}  {'lost samples':>12s}  {'battery':>7s}  state",
                _BOLD,
            )
        ]
        for side in C.SIDES:
            h = health_row((health or {}).get(side, {}))
            rate = f"{h['rate_hz']:.1f} Hz" if h["rate_hz"] is not None and math.isfinite(h["rate_hz"]) else "-"
            drops = "-" if h["disconnects"] is None else str(h["disconnects"])
            lost = "-" if h["lost_samples"] is None else str(h["lost_samples"])
            bat = "-" if h["battery_pct"] is None else f"{h['battery_pct']:.0f} %"
            state = str(h["state"])
            low = h["battery_pct"] is not None and h["battery_pct"] < 20
            bat_cell = c(f"{bat:>7s}", _YELLOW) if low else f"{bat:>7s}"
            bad = state and state.lower() not in ("streaming", "ok", "connected")
            state_cell = c(state, _BOLD, _YELLOW) if bad else state
            lines.append(f"{side:<8s}{rate:>10s}   {drops:>10s}  {lost:>12s}  {bat_cell}  {state_cell}")
        return lines

    @staticmethod
    def plain_line(summary: LiveSummary | None, health: Mapping[str, Any] | None) -> str:
        """One status line for logs: ``[hh:mm:ss] live | cadence L/R ... | sensors ...``."""
        if summary is None:
            return "[00:00:00] waiting for data"
        head = f"[{_hms(summary.elapsed_s)}] {summary.status}"
        if summary.status != "live":
            return f"{head} | {summary.message}"
        parts = [head]
        legs = summary.legs
        short = {
            C.CADENCE: "cadence",
            C.CONTACT_TIME: "contact",
            C.STRIDE_LENGTH: "stride",
            C.SHANK_ANGLE_IC: "shank",
            C.FOOT_ANGLE_IC: "foot",
            C.PEAK_TIBIAL_ACCEL: "shock",
        }
        for metric, name in short.items():
            if metric in legs.index:
                r = legs.loc[metric]
                u = unit_label(metric)
                parts.append(f"{name} {_fmt(metric, r['left'])}/{_fmt(metric, r['right'])}{' ' + u if u else ''}")
        if C.STEP_TIME in legs.index:
            r = legs.loc[C.STEP_TIME]
            with_si = (r["right"] - r["left"]) / (0.5 * (r["right"] + r["left"])) * 100
            if math.isfinite(with_si):
                parts.append(f"step asym {with_si:+.1f}%")
        sens = []
        for side in C.SIDES:
            h = health_row((health or {}).get(side, {}))
            rate = f"{h['rate_hz']:.0f}Hz" if h["rate_hz"] is not None and math.isfinite(h["rate_hz"]) else "-"
            bat = f" {h['battery_pct']:.0f}%" if h["battery_pct"] is not None else ""
            drops = f" {h['disconnects']} drops" if h["disconnects"] else ""
            state = f" {h['state']}" if h["state"] and str(h["state"]).lower() != "streaming" else ""
            sens.append(f"{side[0].upper()} {rate}{bat}{drops}{state}")
        parts.append(" ".join(sens))
        parts.append(f"{len(summary.warnings)} warning(s)" if summary.warnings else "no warnings")
        return " | ".join(parts)


# --- demo ---------------------------------------------------------------------------------------------------------
@dataclass
class DemoResult:
    """What :func:`run_live_demo` did: every emitted stride, the last summary, wall and CPU seconds."""

    strides: pd.DataFrame
    summary: LiveSummary | None
    wall_s: float
    cpu_s: float
    simulated_s: float


def _demo_baseline(seed: int) -> Any:
    """Two short unweighted synthetic runs of the same runner, analysed offline, as the baseline."""
    import gait
    from gait.synth import simulate_run

    return [gait.analyze(simulate_run(duration_s=40.0, stand_s=3.0, seed=seed + 1000 + k)).strides for k in range(2)]


def run_live_demo(
    duration_s: float = 60.0,
    speedup: float = 1.0,
    *,
    stream: IO[str] | None = None,
    bell: bool = False,
    seed: int = 0,
    shank_shift_deg: float = 0.0,
    baseline: bool = True,
    chunk_s: float = 0.05,
    clock_offset_s: float = 0.25,
    clock_drift_ppm: float = 30.0,
    analyzer: LiveAnalyzer | None = None,
    view: LiveView | None = None,
) -> DemoResult:
    """Play a synthetic two-ankle run through :class:`gait.live.LiveAnalyzer` and :class:`LiveView` at
    ``speedup`` x real time (``math.inf``: as fast as possible).

    The runner stands 5 s, then runs; the right sensor's clock is offset and drifts (as real sensors do);
    ``shank_shift_deg`` lands every stride with a more reaching shin than the baseline runs (+4 shows the
    overstriding warning). Samples arrive in ``chunk_s`` chunks per sensor, the two sensors interleaved, as from the
    recorder. Ctrl-C stops the demo cleanly.
    """
    from gait.synth import RunParams, simulate_run

    t_wall0, t_cpu0 = time.monotonic(), time.process_time()
    base_angle = RunParams().resolved().shank_angle_ic_deg
    base_angle = float(base_angle[0] if isinstance(base_angle, tuple) else base_angle)
    stand = 5.0
    run = simulate_run(
        duration_s=max(duration_s - stand, 12.0),
        stand_s=stand,
        seed=seed,
        with_world=False,
        shank_angle_ic_deg=base_angle + shank_shift_deg,
        clock_offset_s=clock_offset_s,
        clock_drift_ppm=clock_drift_ppm,
    )
    live = analyzer or LiveAnalyzer(
        sample_rate_hz=run.sample_rate_hz, baseline=_demo_baseline(seed) if baseline else None
    )
    own_view = view is None
    view = view or LiveView(stream, bell=bell)
    arrays = {"left": run.left, "right": run.right}
    true = {s: run.world[s]["t"] for s in arrays}
    chunks = [(s, sl) for s, sl in interleaved_chunks(arrays, chunk_s, true) if true[s][sl.start] < duration_s]
    battery = {"left": 86.0, "right": 74.0}
    counts = {s: 0 for s in arrays}
    rates: dict[str, float] = {s: math.nan for s in arrays}
    t_rate = 0.0
    out = []
    t_play0 = time.monotonic()
    try:
        for side, sl in chunks:
            t_true = float(true[side][sl.stop - 1])
            if math.isfinite(speedup):
                delay = t_play0 + t_true / speedup - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            a = arrays[side]
            new = live.feed(side, a["t"][sl], a["acc"][sl], a["gyr"][sl])
            if len(new):
                out.append(new)
            counts[side] += sl.stop - sl.start
            if t_true >= t_rate + 1.0:  # samples per second of recording, over the last second
                for s in arrays:
                    rates[s] = counts[s] / (t_true - t_rate)
                    counts[s] = 0
                t_rate = t_true
            health = {
                s: {
                    "rate_hz": rates[s],
                    "disconnects": 0,
                    "lost_samples": 0,
                    "battery_pct": battery[s] - t_true / 600.0,
                    "state": "streaming",
                }
                for s in arrays
            }
            view.update(live.summary(), health)
    except KeyboardInterrupt:
        view.message("demo stopped")
    finally:
        if own_view:
            view.close()
    strides = pd.concat(out, ignore_index=True) if out else pd.DataFrame()
    return DemoResult(
        strides=strides,
        summary=live.summary(),
        wall_s=time.monotonic() - t_wall0,
        cpu_s=time.process_time() - t_cpu0,
        simulated_s=float(min(duration_s, run.left["t"][-1])),
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m gait.live_view",
        description="Play a synthetic run through the live analysis and the terminal view.",
    )
    p.add_argument("--duration", type=float, default=60.0, help="seconds of simulated recording (default 60)")
    p.add_argument("--speedup", type=float, default=1.0, help="simulated seconds per real second (default 1)")
    p.add_argument("--shift", type=float, default=0.0, help="shank angle at contact above the baseline, deg")
    p.add_argument("--bell", action="store_true", help="ring the terminal bell when a warning turns on")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-baseline", action="store_true", help="run without a baseline (no warnings)")
    a = p.parse_args(argv)
    res = run_live_demo(
        a.duration, a.speedup, bell=a.bell, seed=a.seed, shank_shift_deg=a.shift, baseline=not a.no_baseline
    )
    print(
        f"{len(res.strides)} strides emitted; {res.cpu_s:.1f} s CPU for {res.simulated_s:.0f} s of recording "
        f"in {res.wall_s:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
