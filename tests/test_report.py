"""The HTML/PDF form report: sections, escaping, embedded images, no network, and a real headless-browser check."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import struct
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_compare import make_strides, meta, runs_for

from gait import conventions as C
from gait.compare import compare_runs
from gait.errors import GaitError
from gait.report import (
    Report,
    ReportError,
    build_report,
    leg_table,
    plot_asymmetry,
    plot_distribution,
    plot_forest,
    plot_overstriding,
    plot_progression,
    plot_trend,
)

MALICIOUS = "<script>alert(1)</script>"


class _Tags(HTMLParser):
    """Collects start tags with their attributes, and the text of <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def parse(html_text: str) -> _Tags:
    p = _Tags()
    p.feed(html_text)
    return p


@pytest.fixture(scope="module")
def two_sessions() -> tuple[list, object, float]:
    """An unweighted and a weighted session (the weighted one with a malicious label and notes), compared."""
    strides_a = make_strides(1, n=600)
    strides_b = make_strides(2, n=600, effects={C.SHANK_ANGLE_IC: 3.0, C.CADENCE: -0.03},
                             asym={C.CONTACT_TIME: 0.03})
    meta_b = meta("s02", MALICIOUS, 1.0) | {"notes": "felt <b>heavy</b> & \"slow\"", "start_time": "2025-05-01T07:00"}
    results = [(meta("s01"), strides_a), (meta_b, strides_b)]
    cmp = compare_runs(results, seed=0, baseline_label="unweighted")
    t0 = time.perf_counter()
    rep = build_report(results, cmp)
    return results, rep, time.perf_counter() - t0


@pytest.fixture(scope="module")
def progression_report() -> Report:
    """A comparison over loads 0 / 0.5 / 1 / 2 kg (2 runs each), reported with one session's details."""
    runs = runs_for([("unweighted", 0.0, 2, {}), ("weighted", 0.5, 2, {}), ("weighted", 1.0, 2, {}),
                     ("weighted", 2.0, 2, {C.SHANK_ANGLE_IC: 3.0})], seed=3, n=150)
    cmp = compare_runs(runs, seed=0, n_boot=500)
    assert cmp.progression is not None
    return build_report(runs[:1], cmp)


def test_two_session_report_keeps_to_a_dozen_figures(two_sessions):
    _, rep, _ = two_sessions
    assert len(rep.figures) <= 12


def test_html_has_every_section(two_sessions, progression_report):
    html_text = two_sessions[1].html
    for heading in ("Summary", "Per-leg metrics", "Over the run", "Left versus right", "Asymmetry",
                    "Overstriding", "Weighted versus unweighted", "What to do with the weights", "Changes",
                    "Change per metric", "Change in asymmetry", "Methods"):
        assert f">{heading}</h" in html_text, heading
    for unit in ("steps/min", "ms", "deg", "m/s", ">g<"):
        assert unit in html_text, unit
    assert "no validated cutoff" in html_text and "5-10 deg" in html_text
    prog = progression_report.html
    assert ">Load progression</h3>" in prog and "Dose-response (per kg per ankle)" in prog
    assert "heaviest load at which every form metric held" in prog


def test_summary_is_plain_words_at_the_top(two_sessions):
    rep = two_sessions[1]
    html_text = rep.html
    assert html_text.index("id='summary'") < html_text.index("Per-leg metrics")
    joined = " ".join(rep.summary)
    assert "shank angle at contact +" in joined
    assert "noise between runs is unknown" in joined  # one unweighted run: no change can be called
    # the injected asymmetry of the weighted run: contact time 30 ms longer on the right (± the stride noise)
    assert re.search(r"contact time higher on the right leg by (2[6-9]|3[0-4]) ms \(symmetry angle \+", joined), joined


def test_session_text_is_escaped(two_sessions):
    html_text = two_sessions[1].html
    assert MALICIOUS not in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert "<b>heavy</b>" not in html_text and "&lt;b&gt;heavy&lt;/b&gt; &amp; &quot;slow&quot;" in html_text
    tags = parse(html_text)
    scripts = [a for t, a in tags.tags if t == "script"]
    assert len(scripts) == 1 and "src" not in scripts[0]  # only the inline self-check
    assert "alert" not in "".join(tags.scripts)


def test_images_are_embedded_with_alt_text_and_no_network(two_sessions, progression_report):
    for rep in (two_sessions[1], progression_report):
        html_text = rep.html
        imgs = [a for t, a in parse(html_text).tags if t == "img"]
        assert len(imgs) == len(rep.figures) >= 5
        for a in imgs:
            assert a.get("src", "").startswith("data:image/png;base64,")
            assert len(a.get("alt") or "") > 40, a.get("alt")
        assert not re.search(r"https?://", html_text)
        assert not re.search(r"""(?:src|href)\s*=\s*['"](?!data:|#)""", html_text)
        assert "default-src 'none'" in html_text  # the page cannot load anything even if text slipped through


def test_save_never_overwrites_unasked_and_never_opens_a_browser(two_sessions, tmp_path, monkeypatch):
    import webbrowser

    monkeypatch.setattr(webbrowser, "open", lambda *a, **k: pytest.fail("a browser was opened"))
    monkeypatch.setattr("builtins.input", lambda *a, **k: pytest.fail("the user was prompted"))
    rep = two_sessions[1]
    path = rep.save(tmp_path / "r.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(ReportError, match="exists"):
        rep.save(path)
    assert isinstance(ReportError("x"), GaitError)
    rep.save(path, overwrite=True)
    with pytest.raises(ReportError, match="no such folder"):
        rep.save(tmp_path / "missing" / "r.html")


def test_pdf_has_summary_page_and_every_figure(progression_report, tmp_path):
    path = progression_report.save_pdf(tmp_path / "r.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    assert pages >= 1 + len(progression_report.figures)
    with pytest.raises(ReportError):
        progression_report.save_pdf(path)


def test_single_session_report_has_no_comparison(tmp_path):
    rep = build_report([(meta("solo"), make_strides(5, n=200))])
    assert "Weighted versus unweighted" not in rep.html
    assert len(rep.summary) == 1 and "solo" in rep.summary[0]
    with pytest.raises(ReportError, match="nothing to report"):
        build_report([])


def test_foot_placement_reports_the_foot_angle():
    s = make_strides(6, n=200)
    s = s.assign(**{C.FOOT_ANGLE_IC: s[C.SHANK_ANGLE_IC] + 10.0, C.SHANK_ANGLE_IC: np.nan})
    rep = build_report([(meta("f", placement="foot"), s)])
    assert "Foot angle at contact" in rep.html and "Overstriding: foot angle" not in rep.summary[0]


def test_plot_functions_return_figures_and_accept_ax(progression_report):
    from matplotlib.figure import Figure

    s = make_strides(7, n=200)
    for fig in (plot_trend(s, C.CADENCE), plot_distribution(s, C.CONTACT_TIME), plot_overstriding(s)):
        assert isinstance(fig, Figure)
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_trend(s, C.STRIDE_LENGTH, ax=ax) is fig
    assert ax.get_xlabel() == "time in run (min)" and "(m)" in ax.get_ylabel()
    from gait.compare import asymmetry_table

    assert isinstance(plot_asymmetry(asymmetry_table(s)), Figure)
    runs = runs_for([("unweighted", 0.0, 2, {}), ("weighted", 1.0, 2, {})], seed=8, n=100)
    cmp = compare_runs(runs, seed=0, n_boot=300)
    assert isinstance(plot_forest(cmp), Figure)
    assert isinstance(plot_progression(cmp, C.CADENCE), Figure)


def test_leg_table_has_units_and_both_legs():
    t = leg_table(make_strides(9, n=200))
    row = t.set_index("metric").loc["contact time"]
    assert row["unit"] == "ms" and 200 < row["left_mean"] < 300  # seconds shown in ms
    assert {"left_mean", "right_sd", "both_n"} <= set(t.columns)


# --- the command line ----------------------------------------------------------------------------------------
def _run_cli(argv: list[str]) -> int:
    from gait.commands import reporting

    parser = argparse.ArgumentParser(prog="gait")
    reporting.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.handler(args)


@pytest.fixture(scope="module")
def session_files(tmp_path_factory) -> list[Path]:
    synth = pytest.importorskip("gait.synth", reason="gait.synth is not available yet")
    pytest.importorskip("gait.analysis", reason="gait.analysis (the engine) is not available yet")
    folder = tmp_path_factory.mktemp("sessions")
    paths = []
    for i, load in enumerate((0.0, 0.0, 1.0)):
        session, _ = synth.simulate_session(seed=60 + i, ankle_load_kg=load, speed_mps=3.3, duration_s=40.0,
                                            subject="ann", session_id=f"run{i}")
        paths.append(session.save(folder / f"run{i}.parquet"))
    return paths


def test_cli_compare_prints_verdicts_and_writes_csv(session_files, tmp_path, capsys):
    out = tmp_path / "table.csv"
    assert _run_cli(["compare", *map(str, session_files), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "With 1 kg per ankle your cadence" in text and "change [95% CI]" in text
    table = pd.read_csv(out)
    assert {"metric", "diff_ci_low", "verdict"} <= set(table.columns)


def test_cli_report_writes_html_and_pdf(session_files, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert _run_cli(["report", *map(str, session_files[::2]), "--out", str(out), "--pdf"]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out}" in text and out.with_suffix(".pdf").exists()
    assert "Weighted versus unweighted" in out.read_text(encoding="utf-8")
    with pytest.raises(ReportError, match="--overwrite"):
        _run_cli(["report", str(session_files[0]), "--out", str(out)])


def test_cli_bad_session_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(GaitError) as exc:
        _run_cli(["compare", str(bad), str(bad)])
    assert "\n" not in str(exc.value)


# --- a real browser --------------------------------------------------------------------------------------------
def _chromium() -> str | None:
    for name in (os.environ.get("GAIT_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome",
                 "google-chrome-stable", "chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _browser(binary: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--window-size=1280,4000"]
    return subprocess.run([binary, *flags, *extra], capture_output=True, timeout=120, check=False)


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_report_renders_in_headless_chromium(two_sessions, tmp_path):
    """Every image decodes and nothing overflows horizontally at 1280 px, in a real browser."""
    binary = _chromium()
    if binary is None:
        pytest.skip("no chromium binary on PATH (apt-get install chromium, or set GAIT_CHROMIUM)")
    rep = two_sessions[1]
    page = rep.save(tmp_path / "report.html")
    url = page.resolve().as_uri()
    dom = _browser(binary, tmp_path / "profile", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    body = re.search(r"<body([^>]*)>", dom.stdout.decode())
    assert body, "no <body> in the dumped DOM"
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))
    assert attrs.get("checked") == "true", f"the page's load check did not run: {attrs}"
    assert attrs.get("image-count") == str(len(rep.figures))
    assert attrs.get("images-ok") == "true", "an image did not load"
    assert attrs.get("overflow") == "false", "the page overflows horizontally at 1280 px"
    shot = tmp_path / "report.png"
    res = _browser(binary, tmp_path / "profile2", f"--screenshot={shot}", url)
    assert res.returncode == 0 and shot.exists(), res.stderr.decode(errors="replace")[-2000:]
    assert _png_size(shot) == (1280, 4000)
    assert shot.stat().st_size > 100_000  # a rendered page, not a blank one
    keep = os.environ.get("GAIT_REPORT_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)


def test_a_one_ankle_report_says_which_ankle_is_missing() -> None:
    import gait
    from gait.synth import simulate_run

    run = simulate_run(duration_s=30, seed=1)
    session = gait.Session.from_arrays(left=run.left, placement="shank", sample_rate_hz=run.sample_rate_hz)
    rep = build_report([(session, gait.analyze(session))])
    assert "Only the left ankle has valid strides (no right data)" in rep.summary[0]
