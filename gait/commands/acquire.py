"""``gait scan``, ``gait pair``, ``gait record`` and ``gait recover``: the sensors, from advert to session file.

Every command takes ``--simulate`` (virtual sensors speaking a real protocol, fed by :mod:`gait.synth`) and
``--speedup`` (simulated seconds per real second; ``max`` for as fast as the machine allows).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from pathlib import Path
from typing import Any

from gait.units import parse_duration_s, parse_load_kg

SIM_FAMILIES = ("movesense", "polar_pmd", "movella_dot", "metawear", "witmotion")


def _speedup(text: str) -> float:
    if text.strip().lower() in ("max", "inf", "fastest"):
        return math.inf
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--speedup: a number or 'max', not {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("--speedup must be positive")
    return value


def _add_sim(p: argparse.ArgumentParser, speedup: str = "20") -> None:
    g = p.add_argument_group("simulation")
    g.add_argument("--simulate", action="store_true", help="use virtual sensors instead of Bluetooth")
    g.add_argument(
        "--family",
        choices=SIM_FAMILIES,
        default=None,
        help="sensor protocol of the virtual sensors (default: the simulated pair's, else movesense)",
    )
    g.add_argument(
        "--speedup",
        type=_speedup,
        default=_speedup(speedup),
        help=f"simulated seconds per real second, or 'max' (default {speedup})",
    )
    g.add_argument("--seed", type=int, default=0, help="seed of the simulated run (default 0)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan",
        help="list nearby sensors the project can talk to",
        description="Scan for Bluetooth sensors and print name, model, address, signal and battery (battery for "
        "paired sensors, which are briefly connected to; no other sensor is ever connected to).",
    )
    p.add_argument("--timeout", default="5s", help="how long to scan, e.g. 5s (default 5 s)")
    p.add_argument("--all", action="store_true", help="also list devices that are not supported sensors")
    _add_sim(p, speedup="1")
    p.set_defaults(handler=_scan)

    p = sub.add_parser(
        "pair",
        help="choose the left and right ankle sensor and check them",
        description="Assign one sensor to each ankle (by address, or interactively: tap the ankle you are asked "
        "for), check battery, sample rate and mounting while you stand still, and remember the pair.",
    )
    p.add_argument("--left", help="address of the left sensor (skip the tapping)")
    p.add_argument("--right", help="address of the right sensor")
    p.add_argument("--footpod", help="address of a running footpod (RSC) to record as well")
    p.add_argument("--rate", type=float, default=200.0, help="sample rate in Hz (default 200; the sensor's nearest)")
    p.add_argument("--stand", default="3s", help="standing check duration (default 3 s)")
    p.add_argument("--force", action="store_true", help="remember the pair even when a check fails")
    _add_sim(p)
    p.set_defaults(handler=_pair)

    p = sub.add_parser(
        "record",
        help="record both ankles into a session file",
        description="Stream both ankle sensors (the remembered pair, or --left/--right) until Ctrl-C or --duration, "
        "with live form feedback (cadence, contact time, stride length, shank angle, asymmetry per leg, sensor "
        "health; warnings against --baseline runs) on a terminal and status lines elsewhere; the raw BLE log is "
        "kept beside the session (PATH with .rawlog) and survives a crash (`gait recover`).",
    )
    p.add_argument("session", type=Path, help="session file to write (.parquet)")
    p.add_argument("--left", help="address of the left sensor (default: the remembered pair)")
    p.add_argument("--right", help="address of the right sensor")
    p.add_argument("--footpod", help="address of a footpod (RSC) to record beside the IMUs")
    p.add_argument("--duration", default=None, help="stop after this long, e.g. 30m (default: Ctrl-C)")
    p.add_argument("--label", default=None, help="session label (default: weighted/unweighted from --load-kg)")
    p.add_argument("--load-kg", "--load", dest="load", default="0", help="mass per ankle, e.g. 1.0 or 1kg")
    p.add_argument("--subject", default="", help="who is running")
    p.add_argument("--notes", default="", help="free text kept with the session")
    p.add_argument("--placement", choices=("shank", "foot"), default="shank", help="where the sensors sit")
    p.add_argument("--rate", type=float, default=None, help="sample rate in Hz (default: the pair's, else 200)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing session and raw log")
    g = p.add_argument_group("live form feedback")
    g.add_argument(
        "--live",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="live stride analysis while recording (default: on; with --simulate only up to 10x real time)",
    )
    g.add_argument(
        "--baseline",
        type=Path,
        nargs="+",
        default=None,
        metavar="RUN.parquet",
        help="your unweighted session(s): warn when the form drifts beyond them",
    )
    g.add_argument("--bell", action="store_true", help="ring the terminal bell when a warning turns on")
    _add_sim(p)
    g = p.add_argument_group("simulated faults (with --simulate)")
    g.add_argument(
        "--sim-drop",
        action="append",
        default=[],
        metavar="AT:FOR",
        help="drop the left sensor's link at AT s for FOR s (repeatable)",
    )
    g.add_argument("--sim-loss", type=float, default=0.0, help="fraction of packets lost (default 0)")
    g.add_argument("--sim-drift", type=float, default=None, help="right sensor clock drift in ppm")
    p.set_defaults(handler=_record)

    p = sub.add_parser(
        "recover",
        help="turn a raw log (e.g. of a crashed recording) into a session",
        description="Decode everything intact in a raw BLE log, even one whose end was torn by a crash, into a "
        "session file, and say how much was cut.",
    )
    p.add_argument("rawlog", type=Path, help="the raw log (.rawlog)")
    p.add_argument("--out", type=Path, default=None, help="session file to write (default: RAWLOG with .parquet)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing session file")
    p.set_defaults(handler=_recover)


# --- helpers ------------------------------------------------------------------------------------------------------
def _sim_family(args: argparse.Namespace) -> str:
    from gait import acquire

    if args.family:
        return args.family
    try:
        pair = acquire.load_pair(simulated=True)
    except acquire.AcquisitionError:
        pair = None
    fam = (pair or {}).get("left", {}).get("family")
    return fam if fam in SIM_FAMILIES else acquire.DEFAULT_SIM_FAMILY


def _bars(rssi: int | None) -> str:
    if rssi is None:
        return "?"
    n = 4 if rssi >= -60 else 3 if rssi >= -70 else 2 if rssi >= -80 else 1
    return "#" * n + "." * (4 - n)


# --- handlers -----------------------------------------------------------------------------------------------------
def _scan(args: argparse.Namespace) -> int:
    return asyncio.run(_scan_async(args))


async def _scan_async(args: argparse.Namespace) -> int:
    from devices import ble
    from gait import acquire
    from gait.acquire.common import device_errors

    timeout = parse_duration_s(args.timeout)
    if args.simulate:
        sim = acquire.simulation(
            "stand", family=_sim_family(args), speedup=args.speedup, duration_s=60.0, seed=args.seed
        )
        backend = sim.backend
    else:
        backend = ble.PLATFORM
    with device_errors():
        found = await ble.scan(timeout, backend=backend, include_unknown=args.all)
    try:
        pair = acquire.load_pair(simulated=backend.simulated) or {}
    except acquire.AcquisitionError:
        pair = {}
    paired = {str(v.get("address", "")).lower(): k for k, v in pair.items() if isinstance(v, dict)}
    for f in found:  # battery: only for our own (paired) sensors, by a short connection
        if f.address.lower() in paired and f.battery is None:
            try:
                f.battery = await ble.read_battery(f, backend=backend, timeout_s=5.0)
            except Exception:  # noqa: BLE001 - a battery we cannot read is shown as unknown
                f.battery = None
    if not found:
        print(
            f"No supported sensors found in {timeout:g} s. Switch them on (a sensor connected to a phone app "
            "does not advertise) and scan again."
        )
        return 1
    rows = [("NAME", "MODEL", "ADDRESS", "SIGNAL", "BATTERY", "")]
    for f in found:
        rows.append(
            (
                f.name or "-",
                f.model or "(not supported)",
                f.address,
                f"{f.rssi} dBm {_bars(f.rssi)}" if f.rssi is not None else "?",
                f"{f.battery} %" if f.battery is not None else "-",
                f"paired ({paired[f.address.lower()]})" if f.address.lower() in paired else "",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


def _pair(args: argparse.Namespace) -> int:
    from gait import acquire
    from gait.acquire.common import check_rate_hz

    check_rate_hz(args.rate)
    kwargs: dict[str, Any] = {
        "left": args.left,
        "right": args.right,
        "footpod": args.footpod,
        "rate_hz": args.rate,
        "stand_s": parse_duration_s(args.stand),
        "force": args.force,
    }
    if args.simulate:
        # pairing is interactive: at most 20x, so 10 simulated minutes of standing last long enough
        sim = acquire.simulation(
            "stand", family=_sim_family(args), speedup=min(args.speedup, 20.0), duration_s=600.0, seed=args.seed
        )
        kwargs.update(backend=sim.backend, prompt=sim.jolt_prompt(), family=sim.left.protocol.family, scan_s=1.0)
        named = {a.strip().lower() for a in (args.left, args.right) if a}
        if args.footpod is None and sim.footpod is not None and sim.footpod.address.lower() not in named:
            kwargs["footpod"] = sim.footpod.address
    else:
        print("Looking for sensors ... (put both on, switched on, and keep still)")
    res = acquire.pair(**kwargs)
    for check in (res.left, res.right):
        print(check.summary())
    for w in res.warnings:
        print(f"warning: {w}")
    for p in res.problems:
        print(f"fix: {p}")
    if res.saved:
        print(f"Pair saved to {res.path}" + (" (despite the problems above)" if res.problems else "") + ".")
        return 0
    print("The pair was not saved: fix the above and run `gait pair` again (or add --force).")
    return 1


def _record(args: argparse.Namespace) -> int:
    from gait import acquire
    from gait.acquire.common import check_rate_hz
    from gait.acquire.recorder import check_session_path

    if args.rate is not None:
        check_rate_hz(args.rate)
    check_session_path(args.session, overwrite=args.overwrite)  # before the baseline and the sensors
    load = parse_load_kg(args.load)
    duration = parse_duration_s(args.duration) if args.duration else None
    kwargs: dict[str, Any] = {
        "left": args.left,
        "right": args.right,
        "footpod": args.footpod,
        "duration_s": duration,
        "rate_hz": args.rate,
        "label": args.label or ("weighted" if load > 0 else "unweighted"),
        "load_kg": load,
        "subject": args.subject,
        "notes": args.notes,
        "placement": args.placement,
        "overwrite": args.overwrite,
        "out": sys.stdout,
        "live": args.live,
        "bell": args.bell,
    }
    if args.baseline and args.live is not False:
        kwargs["baseline"] = _baseline(args.baseline)
    if args.simulate:
        faults: dict[str, dict[str, Any]] = {"left": {}, "right": {}}
        drops = []
        for spec in args.sim_drop:
            try:
                at, dur = (float(v) for v in spec.split(":"))
            except ValueError:
                raise acquire.AcquisitionError(
                    f"--sim-drop: expected AT:FOR in seconds, e.g. 60:5, not {spec!r}"
                ) from None
            drops.append((at, dur))
        faults["left"]["drops"] = drops
        for side in faults:
            faults[side]["loss_rate"] = args.sim_loss
        if args.sim_drift is not None:
            faults["right"]["drift_ppm"] = args.sim_drift
        family = _sim_family(args)
        sim = acquire.simulation(
            "run",
            family=family,
            speedup=args.speedup,
            duration_s=(duration or 600.0) + 5,
            seed=args.seed,
            load_kg=load,
            faults=faults,
            rate_hz=args.rate or acquire.DEFAULT_RATE_HZ,
        )
        kwargs["backend"] = sim.backend
        pair = None if args.family else acquire.load_pair(simulated=True)
        names = {s: getattr(sim, s).address for s in ("left", "right")}
        if pair is None or any(pair.get(s, {}).get("address") != names[s] for s in names):
            kwargs["left"] = kwargs["left"] or names["left"]
            kwargs["right"] = kwargs["right"] or names["right"]
        kwargs["pair_config"] = pair
        print(
            f"Simulated run: two {sim.left.protocol.model} sensors at {sim.left.protocol.rate_hz:g} Hz, "
            f"{'as fast as possible' if math.isinf(args.speedup) else f'{args.speedup:g}x real time'}"
            + ("" if duration else "; Ctrl-C to stop")
        )
    else:
        print("Connecting ... (Ctrl-C stops the recording)" if duration is None else "Connecting ...")
    res = acquire.record(args.session, **kwargs)
    if res.session is None:
        print(f"Stopped; the raw log is in {res.rawlog_path}: run `gait recover {res.rawlog_path}` to decode it.")
        return 130
    parts = []
    for side in ("left", "right"):
        st = res.stats.get(side, {})
        parts.append(
            f"{side} {st.get('samples', 0)} samples, {st.get('gaps', 0)} gap(s), {st.get('disconnects', 0)} dropout(s)"
        )
    # the length of what was saved (as `gait info` reports it), in the sensors' (simulated) seconds
    span = res.session.duration_s()
    print(f"Saved {res.session_path} ({span:.1f} s: {'; '.join(parts)}); raw log {res.rawlog_path}")
    if res.live is not None:
        print(f"Live form feedback: {res.live.stats.get('emitted', 0)} strides analysed while recording.")
    return 0


def _baseline(paths: list[Path]) -> Any:
    """The runner's baseline from their (unweighted) sessions, each analysed offline."""
    import gait
    from gait.errors import GaitError
    from gait.live_baseline import Baseline

    print(f"Analysing {len(paths)} baseline run(s) ...")
    results = []
    for p in paths:
        if not p.exists():
            raise FileNotFoundError(f"--baseline: {p} does not exist")
        try:
            results.append(gait.analyze(p).strides)
        except (GaitError, ValueError) as exc:  # say which baseline file (the recording has not started yet)
            raise GaitError(f"baseline {p}: {exc}") from exc
    return Baseline.from_strides(results)


def _recover(args: argparse.Namespace) -> int:
    from gait import acquire

    res = acquire.recover(args.rawlog, args.out, overwrite=args.overwrite)
    print(f"Recovered {res.session_path}: {res.message}")
    return 0
