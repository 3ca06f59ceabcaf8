"""docs/operations.md shows the deployment files from deploy/ by reference, never a copy
that could drift from what the tests run."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_operations_doc_points_at_the_tested_files() -> None:
    doc = (ROOT / "docs" / "operations.md").read_text()
    for path in ("deploy/nginx/cloudtab.conf", "deploy/systemd"):
        assert f"](../{path})" in doc, f"docs/operations.md does not link {path}"
        assert (ROOT / path).exists()
    # No pasted nginx configuration: it lives in one file only.
    conf_lines = {
        line.strip()
        for line in (ROOT / "deploy/nginx/cloudtab.conf").read_text().splitlines()
        if line.strip().endswith(";") and not line.strip().startswith("#")
    }
    copied = [line for line in doc.splitlines() if line.strip() in conf_lines]
    assert copied == [], f"docs/operations.md copies nginx lines: {copied}"
    for unit in (ROOT / "deploy/systemd").glob("*.service"):
        assert f"`{unit.name}`" in doc, f"docs/operations.md does not mention {unit.name}"
    assert "cloudtab up --lan" in doc and "scripts/up --lan" in (ROOT / "README.md").read_text()
