"""Generated integrator pages match their sources."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_envelope_vectors_page_is_fresh(tmp_path: Path) -> None:
    """docs/envelope-vectors.md is what the generator makes from tests/data (it re-seals every file)."""
    target = tmp_path / "envelope-vectors.md"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_envelope_vectors_doc.py"), str(target)], check=True)
    assert target.read_text(encoding="utf-8") == (ROOT / "docs" / "envelope-vectors.md").read_text(encoding="utf-8"), (
        "run: python scripts/gen_envelope_vectors_doc.py"
    )


def test_envelope_page_links_the_vectors() -> None:
    assert "(envelope-vectors.md)" in (ROOT / "docs" / "envelope.md").read_text(encoding="utf-8")
