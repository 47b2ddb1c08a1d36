"""Decode throughput per sensor protocol.

Encodes ``--minutes`` of ``--rate`` Hz synthetic samples with each protocol's own encoder (the bytes a real
sensor would send), then times ``decode`` on the whole payload list and prints samples per second (best of
``--repeat``). Run: ``python benchmarks/bench_decode.py`` (10 minutes of 200 Hz data by default).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.protocols import PROTOCOLS  # noqa: E402
from devices.protocols.rsc import RSC  # noqa: E402

G = 9.80665


class Args(argparse.Namespace):
    minutes: float
    rate: float
    repeat: int


def payloads_for(family: str, n: int, rate: float) -> list[bytes]:
    """The notifications for ``n`` samples of a running-like signal (or ``n`` footpod measurements)."""
    rng = np.random.default_rng(0)
    t = np.arange(n) / rate
    phase = 2 * np.pi * 1.4 * t
    acc = np.column_stack([3 * np.sin(phase), 2 * np.cos(phase), G + 5 * np.sin(2 * phase)])
    acc += rng.normal(0, 0.2, acc.shape)
    gyr = np.column_stack([0.5 * np.sin(phase), 4 * np.cos(phase), 0.3 * np.sin(phase)])
    gyr += rng.normal(0, 0.02, gyr.shape)
    if family == "rsc":
        return RSC().encode_measurements(3.2 + 0.1 * np.sin(t), 172 + np.sin(t), 1.1, 5 * t)
    proto = PROTOCOLS[family](rate_hz=rate)
    return proto.encode(acc, gyr, 7e8 + t)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the synthetic recording")
    parser.add_argument("--rate", type=float, default=200.0, help="sample rate in Hz")
    parser.add_argument("--repeat", type=int, default=3, help="timing repetitions (best is reported)")
    args = parser.parse_args(argv, namespace=Args())
    n = int(args.minutes * 60 * args.rate)
    print(f"{args.minutes:g} min at {args.rate:g} Hz = {n} samples per protocol")
    print(f"{'protocol':<12} {'payloads':>9} {'MB':>6} {'decode s':>9} {'samples/s':>12} {'bad':>4}")
    for family, cls in PROTOCOLS.items():
        payloads = payloads_for(family, n, args.rate)
        proto = cls(rate_hz=args.rate)
        best = np.inf
        for _ in range(args.repeat):
            start = time.perf_counter()
            decoded = proto.decode(payloads)
            best = min(best, time.perf_counter() - start)
        count = decoded.n_samples if proto.is_imu else len(decoded.extra_payload_index)
        mb = sum(map(len, payloads)) / 1e6
        print(f"{family:<12} {len(payloads):>9} {mb:>6.2f} {best:>9.4f} {count / best:>12.3g} {decoded.n_bad:>4}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
