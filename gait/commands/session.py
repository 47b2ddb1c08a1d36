"""``gait simulate`` and ``gait info``: make a synthetic session, describe a session file."""

from __future__ import annotations

import argparse
from pathlib import Path

from gait.units import parse_duration_s, parse_load_kg, parse_speed_mps


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="write a synthetic two-ankle session with known truth",
        description="Generate a physically consistent synthetic run (or walk) from two shank IMUs and save it as "
        "a session file; the true stride table is written beside it (PATH with .truth.csv).",
    )
    p.add_argument("--out", required=True, type=Path, help="session file to write (.parquet)")
    p.add_argument("--duration", default="2m", help="running time, e.g. 90s, 2m, 1h (default 2m)")
    p.add_argument(
        "--speed", default=None, help="speed: 3.3 (m/s), 12km/h or 5:00/km (default 3.0 running, 1.3 walking)"
    )
    p.add_argument("--cadence", type=float, default=None, help="steps per minute (default: from speed)")
    p.add_argument("--load", default="0", help="mass per ankle, e.g. 1kg or 2lb (default 0)")
    p.add_argument("--label", default=None, help="session label (default: weighted/unweighted from --load)")
    p.add_argument("--walk", action="store_true", help="walking instead of running")
    p.add_argument("--shank-angle", type=float, default=None, help="shank angle at contact in deg")
    p.add_argument(
        "--asymmetry", type=float, default=0.0, help="step-time asymmetry (R - L) / mean in %% (default 0)"
    )
    p.add_argument("--rate", type=float, default=200.0, help="sample rate in Hz (default 200)")
    p.add_argument("--clock-offset", type=float, default=0.0, help="right sensor clock offset in s")
    p.add_argument("--clock-drift", type=float, default=0.0, help="right sensor clock drift in ppm")
    p.add_argument("--subject", default="synthetic-runner", help="subject name")
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed, same session)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing session file")
    p.set_defaults(handler=_simulate)

    p = sub.add_parser("info", help="print a session's metadata and a one-line summary per side")
    p.add_argument("session", type=Path, help="session file")
    p.set_defaults(handler=_info)


def _simulate(args: argparse.Namespace) -> int:
    from gait.commands.analysis import check_out_path
    from gait.errors import GaitError
    from gait.synth import simulate_session

    check_out_path(args.out, may_replace_session=True)  # --overwrite decides below
    if args.out.exists() and not args.overwrite:
        raise GaitError(f"{args.out} already exists; choose another name or pass --overwrite")
    if not args.rate > 0:
        raise GaitError(f"--rate: the sample rate in Hz must be positive, e.g. 200, not {args.rate:g}")
    if args.cadence is not None and not args.cadence > 0:
        raise GaitError(f"--cadence: steps per minute must be positive, e.g. 170, not {args.cadence:g}")
    load = parse_load_kg(args.load)
    overrides = {
        "duration_s": parse_duration_s(args.duration),
        "ankle_load_kg": load,
        "mode": "walk" if args.walk else "run",
        "sample_rate_hz": args.rate,
        "clock_offset_s": args.clock_offset,
        "clock_drift_ppm": args.clock_drift,
        "step_time_asym": args.asymmetry / 100.0,
    }
    if args.speed is not None:
        overrides["speed_mps"] = parse_speed_mps(args.speed)
    if args.cadence is not None:
        overrides["cadence_spm"] = args.cadence
    if args.shank_angle is not None:
        overrides["shank_angle_ic_deg"] = args.shank_angle
    label = args.label or ("weighted" if load > 0 else "unweighted")
    session, truth = simulate_session(seed=args.seed, label=label, subject=args.subject, **overrides)
    out = session.save(args.out)
    truth_path = out.with_name(out.name.removesuffix(".parquet") + ".truth.csv")
    truth.to_csv(truth_path, index=False)
    print(f"wrote {out} ({session.duration_s():.0f} s, {len(truth)} true strides in {truth_path.name})")
    return 0


def _info(args: argparse.Namespace) -> int:
    from gait.commands.analysis import load_session

    print(load_session(args.session).describe())
    return 0
