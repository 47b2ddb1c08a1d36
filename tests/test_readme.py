"""The README's Python API example runs as written (documentation that is also a test)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_python_api_example_runs(tmp_path, monkeypatch):
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Python API") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "<README Python API>", "exec"), namespace)  # noqa: S102 - our own documentation
    result = namespace["result"]
    assert len(result.strides) > 40 and {"left", "right"} == set(result.strides["side"])
    assert (tmp_path / "standing.parquet").exists()


def test_quick_start_shows_exactly_the_two_commands():
    text = README.read_text(encoding="utf-8")
    quick = text[text.index("## Quick start") : text.index("## The command line")]
    block = re.search(r"```sh\n(.*?)```", quick, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
