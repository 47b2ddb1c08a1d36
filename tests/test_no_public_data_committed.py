"""The public recordings in ../shared/data are read from there, never committed into the project.

Every file git tracks is compared with every shared file, by name and by content (raw, and decompressed for the
gzipped ones), so a copy (say, an IPOL trial un-gzipped into tests/data) fails here.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PROVENANCE = ("README.md", "SHA256SUMS", "__init__.py")  # names that every folder may have


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tracked() -> list[Path]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the committed files cannot be listed")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    return [REPO / p for p in out.decode().split("\0") if p and (REPO / p).is_file()]


@pytest.mark.shared_data
def test_no_public_recording_is_committed(shared_data: Path) -> None:
    shared = [p for p in shared_data.rglob("*") if p.is_file() and p.name not in PROVENANCE]
    assert shared, f"no recordings under {shared_data}"
    digests: dict[str, Path] = {}
    for p in shared:
        raw = p.read_bytes()
        digests[_sha256(raw)] = p
        if p.suffix == ".gz":
            digests[_sha256(gzip.decompress(raw))] = p
    names = {p.name for p in shared} | {p.name.removesuffix(".gz") for p in shared}
    found = []
    for f in _tracked():
        copy_of = digests.get(_sha256(f.read_bytes()))
        if copy_of is not None or f.name in names:
            found.append(f"{f.relative_to(REPO)} ~ {copy_of or f.name}")
    assert not found, "public recordings committed (read them from ../shared/data instead): " + "; ".join(found)
