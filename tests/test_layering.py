"""Layering: ``devices`` never imports ``gait``; offline analysis never imports bleak; ``import gait`` is light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True, cwd=REPO,
    ).stdout
    return set(out.split())


def test_devices_never_imports_gait():
    for path in (REPO / "devices").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import gait" not in text and "from gait" not in text, path
    mods = _modules_after("import devices.ble, devices.simulated, devices.protocols")
    assert not any(m == "gait" or m.startswith("gait.") for m in mods)


def test_offline_analysis_never_imports_bleak():
    mods = _modules_after(
        "import gait, gait.analysis, gait.compare, gait.report, gait.batch, gait.cohort, gait.synth, gait.validation\n"
        "from gait.cli import build_parser; build_parser()"
    )
    assert not any(m == "bleak" or m.startswith("bleak.") for m in mods)
    assert not any(m == "devices" or m.startswith("devices.") for m in mods)


def test_import_gait_is_light():
    mods = _modules_after("import gait")
    for heavy in ("matplotlib", "scipy", "dask", "statsmodels", "bleak"):
        assert heavy not in mods, heavy
