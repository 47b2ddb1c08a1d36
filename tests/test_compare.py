"""Weighted-versus-unweighted comparison on synthetic stride tables with known, injected effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gait import conventions as C
from gait.compare import Comparison, ComparisonError, asymmetry_table, compare_runs, symmetry_index
from gait.errors import GaitError
from gait.metrics import symmetry_angle

#: Typical values of a recreational runner at about 3.3 m/s.
BASE = {C.CADENCE: 165.0, C.CONTACT_TIME: 0.25, C.SHANK_ANGLE_IC: 7.0, C.PEAK_TIBIAL_ACCEL: 8.0}
#: SD of the run means around the runner's true value (day-to-day), and of single strides within a run.
BETWEEN_SD = {C.CADENCE: 1.5, C.CONTACT_TIME: 0.004, C.SHANK_ANGLE_IC: 0.6, C.PEAK_TIBIAL_ACCEL: 0.4, C.SPEED: 0.04}
WITHIN_SD = {C.CADENCE: 2.5, C.CONTACT_TIME: 0.012, C.SHANK_ANGLE_IC: 1.5, C.PEAK_TIBIAL_ACCEL: 1.2, C.SPEED: 0.08}


def make_strides(
    seed: int,
    *,
    n: int = 200,
    speed: float = 3.3,
    effects: dict[str, float] | None = None,
    between: float = 1.0,
    asym: dict[str, float] | None = None,
    invalid_fraction: float = 0.03,
) -> pd.DataFrame:
    """A stride table (both legs, columns of conventions.STRIDE_COLS) for one run.

    Per-run random offsets (``between`` x BETWEEN_SD) + per-stride noise + known effects: ``effects`` adds to a
    metric (cadence as a fraction: {"cadence_spm": -0.03} is -3 %), ``asym`` adds +x/2 to right and -x/2 to left.
    """
    rng = np.random.default_rng(seed)
    effects, asym = dict(effects or {}), dict(asym or {})
    run = {m: BASE.get(m, 0.0) + between * BETWEEN_SD[m] * rng.standard_normal() for m in BETWEEN_SD}
    run[C.SPEED] += speed
    run[C.CADENCE] *= 1.0 + effects.pop(C.CADENCE, 0.0)
    for m, v in effects.items():
        run[m] += v
    parts = []
    for side, sgn in (("left", -0.5), ("right", 0.5)):
        t = np.arange(n) * 60.0 / run[C.CADENCE] * 2.0 + (0.0 if side == "left" else 0.36)
        # speed wanders slowly (pace changes) plus stride noise; cadence and contact time follow speed (the same
        # relation within and between runs), stride length = speed x stride time
        wander = 0.08 * np.sin(2 * np.pi * np.arange(n) / 97.0 + rng.uniform(0, 6))
        spd = run[C.SPEED] + wander + WITHIN_SD[C.SPEED] * rng.standard_normal(n)
        cad = run[C.CADENCE] + 6.0 * (spd - 3.3) + WITHIN_SD[C.CADENCE] * rng.standard_normal(n)
        cad = cad + sgn * asym.get(C.CADENCE, 0.0)
        stride_time = 120.0 / cad
        sl = spd * stride_time + sgn * asym.get(C.STRIDE_LENGTH, 0.0)
        ct = run[C.CONTACT_TIME] - 0.03 * (spd - 3.3) + WITHIN_SD[C.CONTACT_TIME] * rng.standard_normal(n)
        ct = ct + sgn * asym.get(C.CONTACT_TIME, 0.0)
        step = stride_time / 2.0
        sh = run[C.SHANK_ANGLE_IC] + WITHIN_SD[C.SHANK_ANGLE_IC] * rng.standard_normal(n)
        sh = sh + sgn * asym.get(C.SHANK_ANGLE_IC, 0.0)
        pta = run[C.PEAK_TIBIAL_ACCEL] + WITHIN_SD[C.PEAK_TIBIAL_ACCEL] * rng.standard_normal(n)
        valid = rng.random(n) > invalid_fraction
        parts.append(pd.DataFrame({
            C.SIDE: side, C.STRIDE_ID: np.arange(n), C.BOUT_ID: 0, C.IC_TIME: t, C.TO_TIME: t + ct,
            C.NEXT_IC_TIME: t + stride_time, C.STRIDE_TIME: stride_time, C.CONTACT_TIME: ct,
            C.SWING_TIME: stride_time - ct, C.FLIGHT_TIME: step - ct, C.STEP_TIME: step,
            C.DUTY_FACTOR: ct / stride_time, C.CADENCE: cad, C.STRIDE_LENGTH: sl, C.SPEED: spd,
            C.SHANK_ANGLE_IC: sh, C.FOOT_ANGLE_IC: np.nan, C.PEAK_TIBIAL_ACCEL: pta, C.VALID: valid,
            C.INVALID_REASON: np.where(valid, "", "implausible"), C.BRIDGED_S: 0.0,
        }))
    table = pd.concat(parts, ignore_index=True)
    return table[list(C.STRIDE_COLS)]


def meta(sid: str, label: str = "unweighted", load: float = 0.0, subject: str = "ann",
         placement: str = "shank") -> dict:
    """Session-like metadata as a mapping (load and placement per side, as in SessionMeta)."""
    return {"session_id": sid, "subject": subject, "label": label, "load_kg": {"left": load, "right": load},
            "placement": {"left": placement, "right": placement}}


def runs_for(conditions: list[tuple[str, float, int, dict]], seed: int = 0, **kw) -> list:
    """[(meta, strides)] for each (label, load, number of runs, effects)."""
    out, k = [], 0
    for label, load, n_runs, effects in conditions:
        for _ in range(n_runs):
            k += 1
            out.append((meta(f"s{k:02d}", label, load), make_strides(seed * 1000 + k, effects=effects, **kw)))
    return out


def row(cmp: Comparison, metric: str, load: float | None = None) -> pd.Series:
    t = cmp.table
    sel = t["metric"] == metric
    if load is not None:
        sel &= t["load_kg"] == load
    assert sel.sum() == 1, t.loc[sel, ["metric", "condition"]]
    return t[sel].iloc[0]


# --- formulas ------------------------------------------------------------------------------------------------
def test_symmetry_formulas_match_reference_table():
    # running-biomechanics.md 2.7: B = 52 % -> SI 8 %, SA 2.5 %; B = 55 % -> SI 20 %, SA 6.4 % (the table rounds
    # SA ~ SI/pi = 6.37; the exact formula gives 6.35)
    for balance, si, sa in ((52.0, 8.0, 2.5), (55.0, 20.0, 6.4)):
        left, right = 100.0 - balance, balance
        assert symmetry_index(left, right) == pytest.approx(si, abs=0.05)
        assert symmetry_angle(left, right) == pytest.approx(sa, abs=0.1)
    assert symmetry_angle(1.0, 1.0) == 0.0
    assert symmetry_angle(-1.0, 2.0) <= 100.0  # bounded even across a sign change


# --- injected effects ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def effect_cmp() -> Comparison:
    """3 unweighted + 3 weighted runs; weights add +3 deg shank angle and -3 % cadence."""
    runs = runs_for([("unweighted", 0.0, 3, {}),
                     ("weighted", 1.0, 3, {C.SHANK_ANGLE_IC: 3.0, C.CADENCE: -0.03})], seed=1)
    return compare_runs(runs, seed=3)


def test_injected_effects_found_with_right_sign_and_covered(effect_cmp):
    sh = row(effect_cmp, C.SHANK_ANGLE_IC)
    assert sh["diff"] > 0 and sh["diff_ci_low"] <= 3.0 <= sh["diff_ci_high"]
    assert sh["change"] and sh["exceeds_mdc"]
    cad = row(effect_cmp, C.CADENCE)
    assert cad["pct"] < 0 and cad["pct_ci_low"] <= -3.0 <= cad["pct_ci_high"]
    assert cad["change"]
    # metrics without an injected effect are not called a change
    for m in (C.CONTACT_TIME, C.PEAK_TIBIAL_ACCEL):
        assert not row(effect_cmp, m)["change"], row(effect_cmp, m)["verdict"]
    assert set(effect_cmp.table.columns) >= {
        "metric", "label", "load_kg", "baseline_mean", "mean", "diff", "diff_ci_low", "diff_ci_high", "pct",
        "pct_ci_low", "pct_ci_high", "effect_size", "mdc95", "n_runs_baseline", "n_runs", "exceeds_mdc",
        "adjusted_for_speed", "verdict"}
    assert sh["n_runs_baseline"] == 3 and sh["n_runs"] == 3
    assert np.isfinite(sh["effect_size"]) and sh["effect_size"] > 1.0


def test_verdict_wording(effect_cmp):
    v = row(effect_cmp, C.SHANK_ANGLE_IC)["verdict"]
    assert v.startswith("With 1 kg per ankle your shank angle at contact rose by ")
    assert "deg [" in v and "noise between your unweighted runs" in v and "overstriding" in v
    v = row(effect_cmp, C.CADENCE)["verdict"]
    assert "cadence fell by" in v and "steps/min" in v
    assert any("shank angle at contact rose" in s for s in effect_cmp.verdicts)
    assert all("symmetry index" not in s for s in effect_cmp.verdicts)
    text = effect_cmp.summary()
    assert "Baseline: runs labelled 'unweighted', 3 run(s)" in text


def test_asymmetry_rows_present(effect_cmp):
    t = effect_cmp.table
    sa = t[t["statistic"] == "symmetry_angle"]
    assert set(sa["base_metric"]) >= {C.CONTACT_TIME, C.SHANK_ANGLE_IC, C.CADENCE}
    assert C.SPEED not in set(sa["base_metric"])
    assert sa["pct"].isna().all()  # a % change of an asymmetry index is meaningless
    assert C.FOOT_ANGLE_IC not in set(t["base_metric"])  # all-NaN on a shank placement


def test_injected_asymmetry_change_is_found():
    runs = runs_for([("unweighted", 0.0, 3, {}), ("weighted", 1.0, 3, {})], seed=2)
    runs = [(m, s) for m, s in runs[:3]] + [
        (m, make_strides(500 + i, asym={C.CONTACT_TIME: 0.02})) for i, (m, _) in enumerate(runs[3:])]
    cmp = compare_runs(runs, seed=1)
    r = row(cmp, f"{C.CONTACT_TIME}_symmetry_angle_pct")
    assert r["change"] and r["diff"] > 0
    assert "more asymmetric" in r["verdict"]


def test_two_unweighted_groups_report_no_change():
    runs = runs_for([("unweighted", 0.0, 3, {}), ("unweighted-b", 0.0, 3, {})], seed=4)
    cmp = compare_runs(runs, seed=0)
    means = cmp.table[cmp.table["statistic"] == "mean"]
    for _, r in means.iterrows():
        covers = r["diff_ci_low"] <= 0.0 <= r["diff_ci_high"]
        assert covers or not r["exceeds_mdc"], r["verdict"]
        assert not r["change"], r["verdict"]
    assert row(cmp, C.CADENCE)["verdict"].startswith("In your 'unweighted-b' runs your cadence")


def naive_stride_ci(runs: list, metric: str, n_boot: int, seed: int) -> tuple[float, float]:
    """Pseudo-replication: pool all strides of a condition and resample strides, ignoring runs."""
    rng = np.random.default_rng(seed)

    def pooled(label: str) -> np.ndarray:
        vals = [s.loc[s[C.VALID], metric].to_numpy() for m, s in runs if m["label"] == label]
        return np.concatenate(vals)

    a, b = pooled("unweighted"), pooled("weighted")
    ma = a[rng.integers(0, a.size, (n_boot, a.size))].mean(1)
    mb = b[rng.integers(0, b.size, (n_boot, b.size))].mean(1)
    return tuple(np.percentile(mb - ma, [2.5, 97.5]))


def test_cluster_ci_wider_than_naive_stride_bootstrap():
    runs = runs_for([("unweighted", 0.0, 4, {}), ("weighted", 1.0, 4, {C.SHANK_ANGLE_IC: 1.0})], seed=5,
                    between=2.0)
    cmp = compare_runs(runs, seed=0, n_boot=1000)
    r = row(cmp, C.SHANK_ANGLE_IC)
    lo, hi = naive_stride_ci(runs, C.SHANK_ANGLE_IC, 1000, 0)
    assert (r["diff_ci_high"] - r["diff_ci_low"]) > 2.0 * (hi - lo)
    # without between-run variation, the two agree in width (within a factor that the few-run widening explains)
    flat = runs_for([("unweighted", 0.0, 4, {}), ("weighted", 1.0, 4, {})], seed=6, between=0.0)
    r0 = row(compare_runs(flat, seed=0, n_boot=1000), C.SHANK_ANGLE_IC)
    lo0, hi0 = naive_stride_ci(flat, C.SHANK_ANGLE_IC, 1000, 0)
    assert (r0["diff_ci_high"] - r0["diff_ci_low"]) < 2.5 * (hi0 - lo0)


def test_cluster_ci_coverage_is_near_nominal():
    """Coverage over repeated synthetic studies (3 runs per condition): the few-run widening matters here."""
    hits, n_sim = 0, 40
    for k in range(n_sim):
        runs = runs_for([("unweighted", 0.0, 3, {}), ("weighted", 1.0, 3, {C.SHANK_ANGLE_IC: 1.0})],
                        seed=100 + k, n=80)
        r = row(compare_runs(runs, seed=k, n_boot=400), C.SHANK_ANGLE_IC)
        hits += r["diff_ci_low"] <= 1.0 <= r["diff_ci_high"]
    assert hits >= 0.85 * n_sim


def test_one_run_per_condition_says_evidence_is_weak():
    runs = runs_for([("unweighted", 0.0, 1, {}), ("weighted", 1.0, 1, {C.SHANK_ANGLE_IC: 3.0})], seed=7)
    cmp = compare_runs(runs, seed=0)
    r = row(cmp, C.SHANK_ANGLE_IC)
    assert np.isnan(r["effect_size"]) and np.isnan(r["mdc95"])
    assert pd.isna(r["exceeds_mdc"]) and not r["change"]
    assert "cannot be called a change yet" in r["verdict"] and "weak evidence" in r["verdict"]
    assert any("weak evidence" in w for w in cmp.warnings)
    assert any("only one unweighted run" in w for w in cmp.warnings)


# --- speed ---------------------------------------------------------------------------------------------------
def slower_runs(factor: float, seed: int) -> list:
    """3 unweighted runs at 3.3 m/s and 3 weighted runs at ``factor`` x that speed, with no other change."""
    return runs_for([("unweighted", 0.0, 3, {})], seed=seed, between=0.3) + [
        (meta(f"w{i}", "weighted", 1.0), make_strides(seed * 100 + i, speed=3.3 * factor, between=0.3))
        for i in range(3)]


@pytest.mark.parametrize(("factor", "method", "words"), [
    (0.97, "auto", "overlapping speed range"),  # pace ranges overlap: compare there
    (0.90, "auto", "slope on local pace"),  # no overlap left: pooled within-run regression
    (0.97, "regression", "slope on local pace"),
])
def test_slower_weighted_runs_are_compared_at_matched_speed(factor, method, words):
    runs = slower_runs(factor, seed=8)
    cmp = compare_runs(runs, seed=0, speed_adjust=method)
    raw = compare_runs(runs, seed=0, speed_adjust="none")
    for m in (C.STRIDE_LENGTH, C.CADENCE):
        adj, unadj = row(cmp, m), row(raw, m)
        assert adj["adjusted_for_speed"] and words in adj["speed_adjustment"], adj["speed_adjustment"]
        assert not adj["change"], adj["verdict"]
        assert "matched speed" in adj["verdict"]
        assert not unadj["adjusted_for_speed"]
    # unadjusted, the slower runs show shorter strides: the adjustment removes most of that
    assert row(raw, C.STRIDE_LENGTH)["diff"] < 0
    assert abs(row(cmp, C.STRIDE_LENGTH)["diff"]) < 0.35 * abs(row(raw, C.STRIDE_LENGTH)["diff"])
    assert row(cmp, C.SPEED)["diff"] < 0 and not row(cmp, C.SPEED)["adjusted_for_speed"]
    assert any("also depend on speed" in w for w in cmp.warnings)


def test_matched_speed_needs_no_adjustment():
    runs = runs_for([("unweighted", 0.0, 2, {}), ("weighted", 1.0, 2, {})], seed=15, between=0.0)
    cmp = compare_runs(runs, seed=0)
    assert not row(cmp, C.STRIDE_LENGTH)["adjusted_for_speed"]
    assert "not needed" in next(iter(cmp.speed_adjustment.values()))


# --- load progression ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def progression_cmp() -> Comparison:
    """Loads 0, 0.5, 1, 2 kg, 3 runs each; only 2 kg changes the form (+3 deg shank angle, -3 % cadence)."""
    big = {C.SHANK_ANGLE_IC: 3.0, C.CADENCE: -0.03}
    runs = runs_for([("unweighted", 0.0, 3, {}), ("weighted", 0.5, 3, {}), ("weighted", 1.0, 3, {}),
                     ("weighted", 2.0, 3, big)], seed=9, n=150)
    return compare_runs(runs, seed=0, n_boot=1000)


def test_progression_finds_heaviest_load_that_held(progression_cmp):
    assert progression_cmp.heaviest_ok_load_kg == 1.0
    p = progression_cmp.progression.set_index("metric")
    assert p.loc[C.SHANK_ANGLE_IC, "slope_per_kg"] > 0
    assert p.loc[C.SHANK_ANGLE_IC, "slope_ci_low"] > 0
    assert p.loc[C.CADENCE, "slope_ci_high"] < 0
    advice = " ".join(progression_cmp.advice)
    assert "held up to 1 kg per ankle" in advice and "At 2 kg" in advice and "shank angle" in advice
    assert "one or two weighted runs a week" in advice


def test_progression_linear_dose_response_covers_truth():
    runs = runs_for([("unweighted", 0.0, 3, {}), ("weighted", 0.5, 3, {C.SHANK_ANGLE_IC: 1.0}),
                     ("weighted", 1.0, 3, {C.SHANK_ANGLE_IC: 2.0}), ("weighted", 2.0, 3, {C.SHANK_ANGLE_IC: 4.0})],
                    seed=10, n=120)
    cmp = compare_runs(runs, seed=0, n_boot=1000)
    p = cmp.progression.set_index("metric").loc[C.SHANK_ANGLE_IC]
    assert p["slope_ci_low"] <= 2.0 <= p["slope_ci_high"]


def test_advice_when_form_holds_at_every_load():
    # 6 runs per condition: intervals narrow enough to show that no change beyond the noise happened
    runs = runs_for([("unweighted", 0.0, 6, {}), ("weighted", 1.0, 6, {})], seed=11, n=100)
    cmp = compare_runs(runs, seed=0)
    assert cmp.heaviest_ok_load_kg == 1.0 and cmp.progression is None
    text = " ".join(cmp.advice)
    assert "held at every load you tried (up to 1 kg" in text
    assert "you may try 1.5 kg" in text


def test_advice_does_not_read_absence_of_evidence_as_held():
    # 2 runs per condition and a real +3 deg effect the intervals are too wide to call: no "try heavier"
    runs = runs_for([("unweighted", 0.0, 2, {}), ("weighted", 1.0, 2, {C.SHANK_ANGLE_IC: 3.0})], seed=3, n=300)
    text = " ".join(compare_runs(runs, seed=0).advice)
    assert "not shown yet" in text and "Stay at 1 kg per ankle or below" in text
    assert "you may try" not in text and "Re-test with 3 runs per load" in text


# --- bad input -----------------------------------------------------------------------------------------------
def test_bad_input_gives_one_line_errors():
    good = runs_for([("unweighted", 0.0, 2, {}), ("weighted", 1.0, 1, {})], seed=12)
    with pytest.raises(ComparisonError, match="only one run"):
        compare_runs(good[:1])
    with pytest.raises(ComparisonError, match="different runners"):
        compare_runs(good[:2] + [(meta("x", "weighted", 1.0, subject="bob"), good[2][1])])
    with pytest.raises(ComparisonError, match="different sensor placements"):
        compare_runs(good[:2] + [(meta("x", "weighted", 1.0, placement="foot"), good[2][1])])
    empty = good[2][1].assign(**{C.VALID: False})
    with pytest.raises(ComparisonError, match="s03 has no valid strides"):
        compare_runs(good[:2] + [(good[2][0], empty)])
    with pytest.raises(ComparisonError, match="all runs are baseline"):
        compare_runs(good[:2])
    with pytest.raises(ComparisonError, match="no baseline run"):
        compare_runs([(meta("a", "weighted", 1.0), good[0][1]), (meta("b", "weighted", 2.0), good[1][1])])
    with pytest.raises(ComparisonError, match="given twice"):
        compare_runs([good[0], good[0], good[2]])
    with pytest.raises(ComparisonError, match="allowed values"):
        compare_runs(good, speed_adjust="magic")
    try:
        compare_runs(good[:1])
    except GaitError as exc:
        assert isinstance(exc, ValueError) and "\n" not in str(exc)


def test_baseline_falls_back_to_load_zero_and_label_is_configurable():
    runs = runs_for([("easy", 0.0, 2, {}), ("heavy", 1.0, 2, {})], seed=13)
    cmp = compare_runs(runs, seed=0)
    assert cmp.baseline.startswith("runs without load")
    cmp2 = compare_runs(runs, baseline_label="easy", seed=0)
    assert cmp2.baseline.startswith("runs labelled 'easy'")


def test_accepts_session_meta_and_analysis_result_like_objects():
    from types import SimpleNamespace

    from gait.session import SessionMeta

    runs = []
    for i, (label, load) in enumerate((("unweighted", 0.0), ("unweighted", 0.0), ("weighted", 1.0))):
        m = SessionMeta(session_id=f"m{i}", subject="ann", label=label, load_kg={"left": load, "right": load},
                        placement={"left": "shank", "right": "shank"})
        runs.append((m, SimpleNamespace(strides=make_strides(i))))
    cmp = compare_runs(runs, seed=0, n_boot=300)
    assert list(cmp.runs["session_id"]) == ["m0", "m1", "m2"]


def test_bootstrap_is_seeded():
    runs = runs_for([("unweighted", 0.0, 3, {}), ("weighted", 1.0, 3, {})], seed=14, n=900)
    a = compare_runs(runs, seed=5)
    b = compare_runs(runs, seed=5)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_asymmetry_table_flags_only_beyond_noise():
    s = make_strides(21, n=400, asym={C.CONTACT_TIME: 0.03})
    t = asymmetry_table(s).set_index("metric")
    assert t.loc[C.CONTACT_TIME, "exceeds_noise"]
    assert not t.loc[C.SHANK_ANGLE_IC, "exceeds_noise"]
    # a tiny but consistent difference passes the Welch screen and is still not flagged (below the stride SD)
    tiny = asymmetry_table(make_strides(22, n=3000, asym={C.SHANK_ANGLE_IC: 0.4})).set_index("metric")
    assert tiny.loc[C.SHANK_ANGLE_IC, "welch_significant"] and not tiny.loc[C.SHANK_ANGLE_IC, "exceeds_noise"]
    assert t.loc[C.CONTACT_TIME, "symmetry_angle_pct"] > 0  # right larger


# --- integration with the analysis engine --------------------------------------------------------------------
def test_integration_with_analyze_and_synth():
    """Simulated sessions -> gait.analyze -> compare: the generator's load effect on cadence is recovered."""
    analysis = pytest.importorskip("gait.analysis", reason="gait.analysis (the engine) is not available yet")
    synth = pytest.importorskip("gait.synth", reason="gait.synth is not available yet")
    runs = []
    for i, load in enumerate((0.0, 0.0, 1.0, 1.0)):
        session, _truth = synth.simulate_session(seed=40 + i, ankle_load_kg=load, speed_mps=3.3, duration_s=60.0,
                                                 subject="ann")
        runs.append((session, analysis.analyze(session)))
    cmp = compare_runs(runs, seed=0, n_boot=500)
    assert set(cmp.table["load_kg"]) == {1.0} and cmp.baseline.startswith("runs labelled 'unweighted', 2")
    cad = row(cmp, C.CADENCE)
    params = synth.RunParams()
    expected = 100 * params.load_cadence_fraction * float(synth.pendulum_frequency_change(1.0))
    assert cad["pct"] < 0 and cad["pct_ci_low"] <= expected <= cad["pct_ci_high"], (expected, cad["verdict"])
    assert len(cmp.verdicts) >= 7


def test_walking_mixed_with_running_is_refused():
    good = runs_for([("unweighted", 0.0, 2, {}), ("weighted", 1.0, 1, {})], seed=12)
    walk = good[2][1].assign(**{C.DUTY_FACTOR: 0.62, C.FLIGHT_TIME: 0.0})
    with pytest.raises(ComparisonError, match=r"walking and running mixed \(walking: s03"):
        compare_runs(good[:2] + [(good[2][0], walk)])
    all_walks = [(m, t.assign(**{C.DUTY_FACTOR: 0.62})) for m, t in good]
    assert len(compare_runs(all_walks, n_boot=200).table) > 0  # walks with walks are fine
