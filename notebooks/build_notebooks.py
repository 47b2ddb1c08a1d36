"""Write the notebooks of this folder from the cell sources below (no outputs are ever stored).

Why: notebooks are JSON, which reviews badly; the cells live here as plain Python and Markdown, and
``python notebooks/build_notebooks.py`` regenerates the ``.ipynb`` files. ``tests/test_notebooks.py`` executes
them (and checks they match this file).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

KERNEL = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip("\n"))


def code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(text.strip("\n"))


# --- 01: validation on the public datasets ---------------------------------------------------------------------
NB01 = [
    md(
        """
# 01 · Validating the engine on public data

How close are `gait.analyze`'s events and metrics to independent references? This notebook runs the validation
machinery of `gait.validation` on the public recordings that live **outside** the repository, in
`../shared/data` (or the folder named by `$GAIT_SHARED_DATA`):

| dataset | sensors | reference |
|---|---|---|
| `gaitmap_example_foot_walking` | foot IMUs, 204.8 Hz | motion-capture events and stride lengths |
| `ipol_healthy_gait_feet` | foot IMUs, 100 Hz | checked TO/HS events |
| `fukuchi2017_running_treadmill` | markers → virtual shank IMUs | force-plate contacts |
| `adeptdata_acc_running_ankle` | ankle accelerometer only | plausibility (cadence, coverage) |

plus a synthetic run with exact truth. Where the folder is absent every cell prints why it skips instead of failing.
"""
    ),
    code(
        """
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import gait
from gait.io.public import GAITMAP, shared_data_root

DATA = shared_data_root()
if DATA is None:
    print("SKIP: the public datasets were not found (looked for ../shared/data; set GAIT_SHARED_DATA to their "
          "folder). Only the synthetic validation runs below.")
else:
    print(f"public datasets in {DATA}:", ", ".join(sorted(p.name for p in DATA.iterdir() if p.is_dir())))
"""
    ),
    md(
        """
## 1 · Every dataset, one tidy table

`validate_all` builds a `gait.Session` from each dataset, runs `gait.analyze`, matches detected to reference strides
(by initial contact, ±100 ms) and scores them: detection F1, bias and 95 % limits of agreement, MAE, and a PASS/FAIL
against the engine's targets. A dataset whose folder is missing gives one "skipped" row.
"""
    ),
    code(
        """
from gait.validation import format_table, validate_all

results = validate_all(data_root=DATA)
print(format_table(results[results["dataset"] != "synthetic"]))  # the synthetic rows: results.query(...)
"""
    ),
    code(
        """
scored = results[results["pass"].notna()]
overview = scored.groupby("dataset")["pass"].agg(checks="size", passed="sum")
overview["pass_rate"] = (overview["passed"] / overview["checks"]).round(2)
skipped = results.loc[results["note"].fillna("").str.startswith("skipped"), ["dataset", "note"]]
print(overview.to_string())
if len(skipped):
    print("\\n" + skipped.to_string(index=False))
"""
    ),
    md(
        """
## 2 · A closer look: the gaitmap example walk

Foot-worn sensors in raw axes, motion-capture reference. We analyze the session ourselves, match strides with
`compare_strides`, and draw Bland–Altman plots of the event times and contact time.
"""
    ),
    code(
        """
HAS_GAITMAP = DATA is not None and (DATA / GAITMAP).is_dir()
if not HAS_GAITMAP:
    print("SKIP: gaitmap example data absent")
else:
    from gait.validation import compare_strides, gaitmap_session

    session, reference, raw = gaitmap_session(DATA)
    result = gait.analyze(session)
    span = {s: [(d["ic_time_s"].min() - 0.1, d["next_ic_time_s"].max() + 0.1)] for s, d in reference.groupby("side")}
    comparison = compare_strides(reference, result.strides, 0.1, window=span)
    print(session.describe())
    print("detection:", comparison.scores())
"""
    ),
    code(
        """
def bland_altman(ax, ref, err, title, unit):
    bias, sd = np.nanmean(err), np.nanstd(err, ddof=1)
    ax.scatter(ref, err, s=12, alpha=0.7)
    for y, style in ((bias, "-"), (bias - 1.96 * sd, "--"), (bias + 1.96 * sd, "--")):
        ax.axhline(y, color="tab:red", ls=style, lw=1)
    ax.set_title(f"{title}: bias {bias:.1f}, LoA ±{1.96 * sd:.1f} {unit}")
    ax.set_xlabel("reference")
    ax.set_ylabel(f"detected − reference ({unit})")


if HAS_GAITMAP:
    pairs = comparison.pairs
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), layout="constrained")
    bland_altman(axes[0], pairs["ref_ic_time_s"], comparison.errors("ic_ms"), "initial contact", "ms")
    bland_altman(axes[1], pairs["ref_to_time_s"], comparison.errors("to_ms"), "toe-off", "ms")
    bland_altman(
        axes[2], 1000 * pairs["ref_contact_time_s"], comparison.errors("contact_time_ms"), "contact time", "ms"
    )
    axes[0].set_xlabel("reference IC time (s)")
    axes[1].set_xlabel("reference TO time (s)")
    axes[2].set_xlabel("reference contact time (ms)")
    plt.show()
"""
    ),
    md(
        """
## 3 · Cross-check in gaitmap's own convention

`gait.io.export.to_gaitmap_stride_list` writes our strides the way *gaitmap* does (per sensor, `s_id` index,
sample indices; `min_vel` strides run mid-stance to mid-stance with `pre_ic`, `tc`, `ic` inside). The example's
reference file `stride_events_sample.csv` is in exactly that form, so the two can be compared index by index.
"""
    ),
    code(
        """
if HAS_GAITMAP:
    from gait.io.export import to_gaitmap_stride_list

    fs_hz = raw["fs_hz"]
    ours = to_gaitmap_stride_list(result.strides, fs_hz, stride_type="min_vel")
    ref_sl = pd.read_csv(DATA / GAITMAP / "stride_events_sample.csv")
    rows = []
    for side in ("left", "right"):
        mine, theirs = ours[f"{side}_sensor"], ref_sl[ref_sl["foot"] == side]
        for event in ("ic", "tc", "min_vel"):
            o = np.sort(mine[event].dropna().to_numpy(float))
            for r in theirs[event].to_numpy(float):
                k = np.abs(o - r).argmin()
                if abs(o[k] - r) <= 0.1 * fs_hz:  # same event within 100 ms
                    rows.append({"side": side, "event": event, "diff_samples": o[k] - r})
    diff = pd.DataFrame(rows)
    stats = diff.groupby("event")["diff_samples"].describe(percentiles=[0.5])[["count", "mean", "50%", "std"]]
    stats["mean_ms"] = (1000 * stats["mean"] / fs_hz).round(1)
    print(f"ours − gaitmap reference, in samples (1 sample = {1000 / fs_hz:.1f} ms), events within 100 ms:")
    print(stats.round(1).to_string())
    print("\\nour first strides as a gaitmap stride list:")
    print(ours["left_sensor"].head().to_string())
"""
    ),
    md(
        """
## 4 · Running: force-plate contacts (Fukuchi 2017)

Treadmill running markers turned into virtual shank IMUs (`gait.virtual_imu`), with contacts from the force plate.
"""
    ),
    code(
        """
fukuchi = results[(results["dataset"] == "fukuchi") & results["pass"].notna()]
if fukuchi.empty:
    print("SKIP: Fukuchi data absent")
else:
    pivot = fukuchi.pivot_table(index="metric", columns="trial", values="value", aggfunc="first")
    print(pivot.round(2).to_string())
"""
    ),
    md(
        """
**Reading the table.** Event-time rows give the median absolute error (ms), stride length the MAE (cm or %),
detection rows the F1 score. A FAIL is a finding to take to the engine issue, not a notebook error.
"""
    ),
]

# --- 02: weighted vs unweighted cohort --------------------------------------------------------------------------
NB02 = [
    md(
        """
# 02 · Weighted versus unweighted: a synthetic cohort on Dask

Twenty synthetic runners, each running four short runs in ABBA order (unweighted, 1 kg per ankle, 1 kg,
unweighted). We

1. write the cohort as session files (`gait.cohort.simulate_cohort`),
2. analyze the folder on a local Dask cluster with 2 worker processes (`gait.batch.run_batch`; the same as
   `gait batch FOLDER --out RESULT --workers 2`),
3. fit a linear mixed model per metric, `metric ~ load + speed + (1 | runner)` on run means (and the stride-level
   `(1 | runner/run)` version), and
4. plot the effects.

The runs are short (30 s of running each) so the notebook executes in well under two minutes.
"""
    ),
    code(
        """
import logging
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from distributed import Client, LocalCluster

from gait import conventions as C
from gait.batch import read_runs, read_strides, run_batch
from gait.cohort import fit_mixed_models, plot_load_effects, plot_runner_lines, simulate_cohort

WORK = Path(tempfile.mkdtemp(prefix="gait-cohort-"))
SESSIONS, RESULT = WORK / "sessions", WORK / "result"
"""
    ),
    md("## 1 · The cohort"),
    code(
        """
t0 = time.perf_counter()
design = simulate_cohort(SESSIONS, n_runners=20, runs_per_condition=2, load_kg=1.0, duration_s=30.0, seed=2024)
print(f"{len(design)} sessions of {design.subject.nunique()} runners written in {time.perf_counter() - t0:.1f} s")
design.head(8)
"""
    ),
    md(
        """
## 2 · Batch analysis on Dask

Each session file is one task: the worker reads it, runs `gait.analyze`, writes its own Parquet part and returns a
small status. Results land in a hive-partitioned dataset (`strides/subject=R01/...`, `runs/subject=R01/...`).
"""
    ),
    code(
        """
cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                       silence_logs=logging.ERROR)
client = Client(cluster)
report = run_batch(SESSIONS, RESULT, client=client)
print(report.summary())
print(f"{report.sessions_per_s:.1f} sessions/s")
"""
    ),
    code(
        """
again = run_batch(SESSIONS, RESULT, client=client, progress=False)  # a re-run skips what is done
print(again.summary())
client.close()
cluster.close()
"""
    ),
    code(
        """
runs = read_runs(RESULT)
strides = read_strides(RESULT)
print(f"{len(runs)} runs, {len(strides)} strides ({int(strides['valid'].sum())} valid)")
metrics = [C.CADENCE, C.STRIDE_LENGTH, C.CONTACT_TIME, C.SWING_TIME, C.SHANK_ANGLE_IC, C.PEAK_TIBIAL_ACCEL]
runs.groupby("label")[metrics].mean().round(3).T
"""
    ),
    md(
        """
## 3 · Mixed models

Run level: one row per run, a random intercept per runner, the set speed (`speed_ref_mps`) as a centred
covariate, and the load per ankle (kg) as the effect of interest. The table is tidy: one row per metric and term.
"""
    ),
    code(
        """
table = fit_mixed_models(runs, metrics)
effects = table[table.term == "load_kg"].set_index("metric")
effects[["estimate", "ci_low", "ci_high", "p_value", "converged"]].round(4)
"""
    ),
    code(
        """
fig = plot_load_effects(table)
plt.show()
"""
    ),
    code(
        """
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), layout="constrained")
for ax, metric in zip(axes, [C.CADENCE, C.CONTACT_TIME, C.SHANK_ANGLE_IC], strict=True):
    plot_runner_lines(runs, metric, ax=ax)
plt.show()
"""
    ),
    md(
        """
Stride level: every valid stride, with runner and run-within-runner variance components (`(1 | runner/run)`).
The load estimates agree with the run-level ones; the stride-level fit also separates the run-to-run variance
from the stride-to-stride scatter.
"""
    ),
    code(
        """
stride_metrics = [C.CADENCE, C.CONTACT_TIME, C.SHANK_ANGLE_IC]
stride_table = fit_mixed_models(strides, stride_metrics, level="stride")
both = pd.concat([table[table.metric.isin(stride_metrics)], stride_table])
both[both.term == "load_kg"].pivot_table(index="metric", columns="level", values=["estimate", "std_err"]).round(4)
"""
    ),
    code(
        """
stride_table[stride_table.term.str.startswith("var(")][["metric", "term", "estimate", "note"]]
"""
    ),
    md(
        """
**What the synthetic truth says.** `gait.synth` lowers cadence by about 1.5 % per kg per ankle (half the
pendulum bound), lengthens contact time with the stride, and lands the shank 0.3° more vertical per kg; the
tibial-shock response to load is left at zero. The mixed model should recover those signs and sizes, and find no
load effect on peak tibial acceleration.
"""
    ),
]

# --- 03: a tour of one session -----------------------------------------------------------------------------------
NB03 = [
    md(
        """
# 03 · A session, from raw signals to the stride table

One synthetic two-ankle session (shank IMUs, 200 Hz, 30 s of running) walked through the pipeline:
raw signals → alignment into the shank frame → events → the stride table, with plots of the detected events and
a check against the generator's truth.
"""
    ),
    code(
        """
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import gait
from gait import conventions as C
from gait.events import events_find
from gait.preprocess import imu_preprocess
from gait.synth import simulate_session

session, truth = simulate_session(seed=7, duration_s=30.0, speed_mps=3.3, subject="demo", label="unweighted")
print(session.describe())
"""
    ),
    md(
        """
## 1 · Raw signals

The session stores the sensors' own axes (acc in m/s², gyr in rad/s). The runner stands still first (used to find
gravity), then runs, then stands again.
"""
    ),
    code(
        """
raw = session.arrays("left")
fig, axes = plt.subplots(2, 1, figsize=(12, 5), sharex=True, layout="constrained")
for k, axis in enumerate("xyz"):
    axes[0].plot(raw["t"], raw["acc"][:, k], lw=0.6, label=f"acc_{axis}")
    axes[1].plot(raw["t"], raw["gyr"][:, k], lw=0.6, label=f"gyr_{axis}")
axes[0].set_ylabel("m/s²")
axes[1].set_ylabel("rad/s")
axes[1].set_xlabel("time (s)")
axes[0].set_title("left sensor, raw sensor axes")
for ax in axes:
    ax.legend(loc="upper right", ncol=3, fontsize=8)
plt.show()
"""
    ),
    md(
        """
## 2 · Into the shank frame

`imu_preprocess` checks the time base, removes the gyroscope bias and rotates the samples into the shank frame
(`ap`, `ml`, `si`), using gravity while standing and the swing axis while running.
"""
    ),
    code(
        """
fs = session.meta.sample_rate_hz["left"]
pre = imu_preprocess(raw["t"], raw["acc"], raw["gyr"], side="left", fs=fs)
print({k: v for k, v in pre.alignment.as_dict().items() if k != "rotation"})
print("rotation sensor -> anatomical:\\n", np.round(pre.alignment.rotation, 3))
pre.frame.head()
"""
    ),
    md(
        """
## 3 · Events

`events_find` finds, per stride, initial contact (IC), toe-off (TO), mid-stance and mid-swing on the sagittal
angular rate `gyr_ml` (positive when the shank swings forward).
"""
    ),
    code(
        """
events = events_find(pre.frame, pre.fs).events
t = pre.frame[C.TIME].to_numpy()
window = (12.0, 16.0)
sel = (t >= window[0]) & (t <= window[1])
fig, axes = plt.subplots(2, 1, figsize=(12, 5.5), sharex=True, layout="constrained")
axes[0].plot(t[sel], pre.frame["gyr_ml"].to_numpy()[sel], color="0.3", lw=1)
axes[1].plot(t[sel], pre.frame["acc_si"].to_numpy()[sel], color="0.3", lw=1)
marks = {C.IC_TIME: ("IC", "tab:red", "v"), C.TO_TIME: ("TO", "tab:blue", "^"),
         C.MID_SWING_TIME: ("mid-swing", "tab:green", "o"), C.MID_STANCE_TIME: ("mid-stance", "tab:purple", "s")}
for col, (name, color, marker) in marks.items():
    times = events[col].to_numpy()
    times = times[(times >= window[0]) & (times <= window[1])]
    for ax, ch in zip(axes, ("gyr_ml", "acc_si"), strict=True):
        ax.plot(times, np.interp(times, t, pre.frame[ch].to_numpy()), marker, color=color, ms=7, ls="",
                label=name if ax is axes[0] else None)
axes[0].set_ylabel("gyr_ml (rad/s)")
axes[1].set_ylabel("acc_si (m/s²)")
axes[1].set_xlabel("time (s)")
axes[0].legend(loc="upper right", ncol=4)
axes[0].set_title("left shank, detected events")
plt.show()
print(f"{len(events)} strides detected on the left")
"""
    ),
    md(
        """
## 4 · One call: `gait.analyze`

The whole chain for both legs (plus clock alignment, per-stride kinematics, summaries and asymmetry) is one call.
"""
    ),
    code(
        """
result = gait.analyze(session)
print(result)
result.strides.head()
"""
    ),
    code(
        """
result.summary[result.summary["side"] == "both"].set_index("metric")[["n", "mean", "sd", "cv_pct"]].round(3)
"""
    ),
    code(
        """
result.asymmetry.round(3)
"""
    ),
    md(
        """
## 5 · Against the truth

The generator knows every true event; `compare_strides` matches them to the detected strides by IC.
"""
    ),
    code(
        """
from gait.validation import compare_strides

comparison = compare_strides(truth[truth["valid"]], result.strides, 0.1, valid_only=True)
print("detection:", comparison.scores())
for metric in ("ic_ms", "to_ms", "contact_time_ms", "stride_length_cm", "shank_angle_ic_deg"):
    err = comparison.errors(metric)
    print(f"{metric:>20}: bias {np.nanmean(err):6.2f}, MAE {np.nanmean(np.abs(err)):6.2f} (n = {err.size})")
"""
    ),
    code(
        """
valid = result.strides[result.strides["valid"]]
fig, axes = plt.subplots(1, 3, figsize=(13, 3.5), layout="constrained")
for ax, metric in zip(axes, [C.CONTACT_TIME, C.STRIDE_LENGTH, C.SHANK_ANGLE_IC], strict=True):
    for side, color in (("left", "tab:blue"), ("right", "tab:orange")):
        d = valid[valid["side"] == side]
        ax.plot(d[C.IC_TIME], d[metric], ".", color=color, label=side)
    ax.set_title(C.METRICS[metric][0])
    ax.set_ylabel(C.METRICS[metric][1])
    ax.set_xlabel("time (s)")
axes[0].legend()
plt.show()
"""
    ),
    md(
        """
## 6 · Take it elsewhere

The stride table goes to CSV or Parquet, and to gaitmap's stride-list convention for cross-checking with that
library.
"""
    ),
    code(
        """
from gait.io.export import export_result, to_gaitmap_stride_list

out = Path(tempfile.mkdtemp(prefix="gait-tour-"))
print(export_result(result, out, fmt="csv", stem="demo"))
to_gaitmap_stride_list(result.strides, fs, stride_type="min_vel")["left_sensor"].head()
"""
    ),
]

NOTEBOOKS = {
    "01_validation_on_public_data.ipynb": NB01,
    "02_weighted_cohort.ipynb": NB02,
    "03_session_tour.ipynb": NB03,
}


def build(name: str) -> nbformat.NotebookNode:
    """The notebook ``name`` as a node (no outputs, no execution counts)."""
    nb = new_notebook(cells=NOTEBOOKS[name], metadata=KERNEL)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{Path(name).stem[:2]}-{i:02d}"  # stable ids: rebuilding gives the same bytes
    return nb


def main(argv: list[str]) -> int:
    for name in NOTEBOOKS:
        nb = build(name)
        nbformat.validate(nb)
        nbformat.write(nb, HERE / name)
        print(f"wrote {HERE / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
