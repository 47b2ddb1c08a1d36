"""gait: running gait analysis from two ankle-worn IMUs.

Small public API, plain pandas DataFrames at the boundaries::

    import gait
    session = gait.Session.from_arrays(left=dict(t=t, acc=acc, gyr=gyr), right=..., placement="shank")
    session.save("run.session.parquet")
    result = gait.analyze("run.session.parquet")
    result.strides, result.summary, result.asymmetry

Heavy parts (analysis, synthesis, reports) are imported on first use, so ``import gait`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from gait.errors import AnalysisError, GaitError, RawLogError, SessionFileError
from gait.session import Session, SessionMeta, load_session

__version__ = "0.1.0"

_LAZY = {
    "analyze": "gait.analysis",
    "AnalysisResult": "gait.analysis",
    "simulate_run": "gait.synth",
    "simulate_session": "gait.synth",
    "RunParams": "gait.synth",
    "virtual_imu": "gait.virtual_imu",
    "read_rawlog": "gait.io.rawlog",
    "RawLogWriter": "gait.io.rawlog",
    "conventions": "gait.conventions",
    "compare_runs": "gait.compare",
    "Comparison": "gait.compare",
    "build_report": "gait.report",
    "run_batch": "gait.batch",
    "import_csv": "gait.io.importers",
    "import_sensor_csv": "gait.io.importers",
    "fit_mixed_models": "gait.cohort",
}

__all__ = [
    "AnalysisError",
    "GaitError",
    "RawLogError",
    "Session",
    "SessionFileError",
    "SessionMeta",
    "load_session",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = import_module(_LAZY[name])
        value = module if name == "conventions" else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gait' has no attribute {name!r}")
