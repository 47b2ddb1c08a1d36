"""Skip helpers for tests that read the public recordings in ``../shared/data`` (not a conftest: import it).

Usage::

    from conftest_shared import requires_shared

    @requires_shared("fukuchi2017_running_treadmill")
    def test_something(): ...
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from gait.io.public import shared_data_root


def shared_dataset(name: str) -> Path | None:
    """Folder of one public dataset, or None when absent."""
    root = shared_data_root()
    if root is None or not (root / name).is_dir():
        return None
    return root / name


def requires_shared(name: str) -> pytest.MarkDecorator:
    """Mark a test as needing a shared dataset and skip it, with the reason, when the folder is absent."""
    reason = f"public dataset {name!r} not found (../shared/data or $GAIT_SHARED_DATA)"
    skip = pytest.mark.skipif(shared_dataset(name) is None, reason=reason)

    def deco(obj):  # type: ignore[no-untyped-def]
        return pytest.mark.shared_data(skip(obj))

    return deco  # type: ignore[return-value]


def fukuchi_trials_readable() -> list[str]:
    """Fukuchi trial names whose reader is installed (the C3D trial needs ``ezc3d``)."""
    from gait.io.public import FUKUCHI_TRIALS

    have_c3d = importlib.util.find_spec("ezc3d") is not None
    return [n for n, spec in FUKUCHI_TRIALS.items() if have_c3d or not spec[2].endswith(".c3d")]
