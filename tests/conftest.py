"""Shared fixtures: where the public recordings live (../shared/data), and a clean config folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GAIT_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of public recordings; tests that need it skip with a reason where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public recordings not found at {SHARED_DATA} (set GAIT_SHARED_DATA to their folder)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read or write the user's real pairing config from a test."""
    monkeypatch.setenv("GAIT_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
