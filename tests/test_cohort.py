"""Cohort mixed models recover a known load effect; the tidy table and the figures have the promised shape."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from gait.cohort import TIDY_COLS, fit_mixed_models, plot_load_effects, plot_runner_lines

TRUE_LOAD = 0.010  # s of contact time per kg per ankle
TRUE_SPEED = -0.030  # s per m/s


def _cohort(seed: int = 7, n_runners: int = 20, strides_per_run: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs (ABBA loads 0/1 kg) of runners with their own level and speed; strides around each run mean."""
    rng = np.random.default_rng(seed)
    runs, strides = [], []
    for r in range(n_runners):
        level = rng.normal(0.0, 0.02)
        speed_r = rng.normal(3.2, 0.3)
        for k, load in enumerate((0.0, 1.0, 1.0, 0.0)):
            sid = f"R{r:02d}-{k}"
            speed = speed_r + rng.normal(0, 0.05)
            mean = 0.24 + level + TRUE_LOAD * load + TRUE_SPEED * (speed - 3.2) + rng.normal(0, 0.004)
            ct = mean + rng.normal(0, 0.01, strides_per_run)
            base = {"subject": f"R{r:02d}", "session_id": sid, "load_kg": load, "speed_ref_mps": speed}
            runs.append({**base, "contact_time_s": ct.mean(), "cadence_spm": 170 - 3 * load + rng.normal(0, 1)})
            strides += [{**base, "contact_time_s": v, "valid": True} for v in ct]
    return pd.DataFrame(runs), pd.DataFrame(strides)


@pytest.fixture(scope="module")
def cohort() -> tuple[pd.DataFrame, pd.DataFrame]:
    return _cohort()


def test_run_level_recovers_load_and_speed_effects(cohort):
    runs, _ = cohort
    table = fit_mixed_models(runs, ["contact_time_s", "cadence_spm"])
    assert list(table.columns) == list(TIDY_COLS)
    load = table[(table.metric == "contact_time_s") & (table.term == "load_kg")].iloc[0]
    assert load.ci_low < TRUE_LOAD < load.ci_high
    assert load.p_value < 1e-4 and bool(load.converged)
    assert load.n_runners == 20 and load.n_obs == 80 and load.level == "run"
    speed = table[(table.metric == "contact_time_s") & (table.term == "speed_ref_mps")].iloc[0]
    assert speed.ci_low < TRUE_SPEED < speed.ci_high
    cad = table[(table.metric == "cadence_spm") & (table.term == "load_kg")].iloc[0]
    assert cad.ci_low < -3.0 < cad.ci_high
    var_runner = table[(table.metric == "contact_time_s") & (table.term == "var(subject)")].estimate.iloc[0]
    assert 0.0001 < var_runner < 0.0009  # true 0.02² = 0.0004


def test_stride_level_with_run_variance_component(cohort):
    _, strides = cohort
    table = fit_mixed_models(strides, ["contact_time_s"], level="stride")
    load = table[table.term == "load_kg"].iloc[0]
    assert load.ci_low < TRUE_LOAD < load.ci_high and load.p_value < 1e-4
    assert load.n_runs == 80 and load.n_obs == 80 * 40
    terms = set(table.term)
    assert {"var(subject)", "var(session_id)", "var(residual)"} <= terms
    resid = table[table.term == "var(residual)"].estimate.iloc[0]
    assert resid == pytest.approx(0.01**2, rel=0.15)


def test_no_effect_gives_a_ci_around_zero():
    runs, _ = _cohort(seed=3)
    runs["contact_time_s"] = runs["contact_time_s"] - TRUE_LOAD * runs["load_kg"]
    load = fit_mixed_models(runs, ["contact_time_s"]).query("term == 'load_kg'").iloc[0]
    assert load.ci_low < 0.0 < load.ci_high


def test_degenerate_inputs_give_a_note_not_an_error(cohort):
    runs, _ = cohort
    one = fit_mixed_models(runs[runs.subject == "R00"], ["contact_time_s"])
    assert not one.converged.iloc[0] and "two runners" in one.note.iloc[0]
    flat = fit_mixed_models(runs.assign(load_kg=1.0), ["contact_time_s"])
    assert "single load level" in flat.note.iloc[0]
    with pytest.raises(ValueError, match="lacks column"):
        fit_mixed_models(runs, ["peak_tibial_accel_g"])
    with pytest.raises(ValueError, match="allowed values"):
        fit_mixed_models(runs, level="runner")


def test_figures(cohort):
    runs, _ = cohort
    table = fit_mixed_models(runs, ["contact_time_s", "cadence_spm"])
    fig = plot_load_effects(table)
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["contact time", "cadence"]
    fig2 = plot_runner_lines(runs, "contact_time_s")
    assert isinstance(fig2, Figure) and "n = 20" in fig2.axes[0].get_title()
    assert fig2.axes[0].get_xlabel() == "load per ankle (kg)"


def test_runs_without_a_subject_are_counted_in_the_note(cohort):
    runs, _ = cohort
    two = runs[runs.subject.isin(["R00", "R01"])].copy()
    two["subject"] = two["subject"].astype("string")
    two.loc[two.subject == "R01", "subject"] = pd.NA  # recorded without --subject
    note = fit_mixed_models(two, ["contact_time_s"]).note.iloc[0]
    assert "two runners" in note and "4 row(s) left out for a missing value (4 without a subject)" in note
