"""One wording for results that both the terminal (``gait analyze``) and the HTML report put into plain words.

Kept apart so that a runner reads the same sentence for the same finding wherever it appears.
"""

from __future__ import annotations

import pandas as pd

from gait import conventions as C


def asymmetry_sentence(asym: pd.DataFrame) -> str:
    """The left/right findings of :func:`gait.metrics.asymmetry` (or ``gait.compare.asymmetry_table``) in one line.

    Only differences flagged ``exceeds_noise`` (statistically clear *and* larger than the stride-to-stride spread)
    are named, each with the leg that is higher, the difference with its unit and the symmetry angle.
    """
    from gait.compare import fmt_value

    if asym is None or len(asym) == 0:
        return "Left/right: not enough strides on both legs to compare."
    sa_col = "sa_pct" if "sa_pct" in asym.columns else "symmetry_angle_pct"
    flagged = asym[asym["exceeds_noise"].astype(bool)]
    if not len(flagged):
        return "Left/right: no difference beyond the stride-to-stride noise."
    items = []
    for r in flagged.itertuples():
        label, unit = C.METRICS.get(r.metric, (r.metric, ""))
        higher = "right" if r.diff_r_minus_l > 0 else "left"
        sa = getattr(r, sa_col)
        diff = fmt_value(abs(r.diff_r_minus_l), unit)
        items.append(f"{label} higher on the {higher} leg by {diff} (symmetry angle {sa:+.1f} %)")
    return "Left/right differences beyond the stride-to-stride noise: " + "; ".join(items) + "."
