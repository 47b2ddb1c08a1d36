"""Packet loss: how many strides survive, and how accurate they are, when short holes are bridged.

Synthetic 2-minute runs (``gait.synth``, 208 Hz like a Movesense) lose a fraction of random 8-sample packets on
each side independently (0, 1, 2, 5 %); each is analysed with bridging (``bridge_max_s=0.1``, the default) and
without (``bridge_max_s=0``: every hole splits the recording, the old behaviour). Printed per loss level: valid
strides matched to the steady truth strides, strides invalidated for data missing at their contact or at the IC
that ends them, valid strides with bridged samples (in the swing), and the errors of stride time, stride length,
contact time and shank angle at IC against the truth (mean absolute / 95th percentile) over all valid strides,
then only over those with bridged samples.

Run: ``.venv/bin/python benchmarks/bench_packet_loss.py [n_seeds]``.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

import gait
from gait import conventions as C
from gait.synth import simulate_run
from gait.validation import match_events

FS = 208.0
PACKET = 8
LOSSES = (0.0, 0.01, 0.02, 0.05)


def drop_packets(side: dict, loss: float, rng: np.random.Generator) -> dict:
    """The samples of one side with a fraction ``loss`` of whole 8-sample packets removed at random."""
    n = side["t"].size
    lost = rng.random(int(np.ceil(n / PACKET))) < loss
    keep = ~np.repeat(lost, PACKET)[:n]
    return {k: np.asarray(v)[keep] for k, v in side.items() if k in ("t", "acc", "gyr")}


def errors(truth: pd.DataFrame, det: pd.DataFrame) -> pd.DataFrame:
    """One row per detected stride matched (IC within 50 ms) to a steady truth stride, with the errors."""
    rows = []
    for side in C.SIDES:
        tr = truth[(truth[C.SIDE] == side) & truth[C.VALID].astype(bool)].reset_index(drop=True)
        de = det[det[C.SIDE] == side].reset_index(drop=True)
        ri, di = match_events(tr[C.IC_TIME].to_numpy(), de[C.IC_TIME].to_numpy(), 0.05)
        m = de.iloc[di].reset_index(drop=True)
        t = tr.iloc[ri].reset_index(drop=True)
        rows.append(
            pd.DataFrame(
                {
                    "valid": m[C.VALID].to_numpy(bool),
                    "reason": m[C.INVALID_REASON].to_numpy(object),
                    "bridged_s": m[C.BRIDGED_S].to_numpy(float),
                    "st_err_ms": 1000 * (m[C.STRIDE_TIME] - t[C.STRIDE_TIME]).to_numpy(float),
                    "sl_err_m": (m[C.STRIDE_LENGTH] - t[C.STRIDE_LENGTH]).to_numpy(float),
                    "ct_err_ms": 1000 * (m[C.CONTACT_TIME] - t[C.CONTACT_TIME]).to_numpy(float),
                    "angle_err_deg": (m[C.SHANK_ANGLE_IC] - t[C.SHANK_ANGLE_IC]).to_numpy(float),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _fmt(x: pd.Series) -> str:
    a = np.abs(x.dropna().to_numpy(float))
    return f"{a.mean():6.3f} /{np.percentile(a, 95):6.3f}" if a.size else "     -        "


def main(n_seeds: int = 3) -> pd.DataFrame:
    out = []
    for loss in LOSSES:
        for bridge in (0.1, 0.0):
            if loss == 0.0 and bridge == 0.0:
                continue
            parts, n_truth, contact, ending = [], 0, 0, 0
            for seed in range(n_seeds):
                run = simulate_run(duration_s=120.0, sample_rate_hz=FS, seed=seed, speed_mps=3.5 + 0.5 * seed)
                rng = np.random.default_rng(1000 + seed)
                data = {s: drop_packets(getattr(run, s), loss, rng) for s in C.SIDES}
                res = gait.analyze(data, sample_rate_hz=FS, bridge_max_s=bridge)
                n_truth += int(run.truth[C.VALID].astype(bool).sum())
                why = res.strides[C.INVALID_REASON].fillna("")
                contact += int(why.str.startswith("data missing at contact").sum())
                ending += int(why.str.startswith("data missing at next contact").sum())
                parts.append(errors(run.truth, res.strides))
            e = pd.concat(parts, ignore_index=True)
            v = e[e["valid"]]
            vb = v[v["bridged_s"] > 0]
            out.append(
                {
                    "loss_pct": 100 * loss,
                    "bridge_max_s": bridge,
                    "truth": n_truth,
                    "valid": len(v),
                    "inv_contact": contact,
                    "inv_next_ic": ending,
                    "valid_bridged": len(vb),
                    "st_err_ms": _fmt(v["st_err_ms"]),
                    "sl_err_m": _fmt(v["sl_err_m"]),
                    "ct_err_ms": _fmt(v["ct_err_ms"]),
                    "angle_err_deg": _fmt(v["angle_err_deg"]),
                    "sl_err_m(bridged)": _fmt(vb["sl_err_m"]),
                    "ct_err_ms(bridged)": _fmt(vb["ct_err_ms"]),
                    "angle_err_deg(bridged)": _fmt(vb["angle_err_deg"]),
                }
            )
    table = pd.DataFrame(out)
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(f"{n_seeds} synthetic 2-min runs at {FS:g} Hz, random {PACKET}-sample packets lost per side;")
        print("errors: mean absolute / 95th percentile, over valid strides matched to steady truth strides")
        print(table.to_string(index=False))
    return table


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
