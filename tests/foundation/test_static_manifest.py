"""docs/static-manifest.json is the SHA-256 of exactly the static files in the tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cloudtab_verify import manifest

ROOT = Path(__file__).resolve().parents[2]


def test_committed_static_manifest_matches_the_tree() -> None:
    committed = (ROOT / "docs" / "static-manifest.json").read_text(encoding="utf-8")
    fresh = manifest.dumps(manifest.build(ROOT / "web_bridge" / "static"))
    assert committed == fresh, "docs/static-manifest.json is stale: run scripts/static-manifest"


def test_static_manifest_script_check_mode_passes_on_the_tree() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "static-manifest"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_manifest_names_every_served_file_and_skips_hidden(tmp_path: Path) -> None:
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "a.js").write_text("x")
    (tmp_path / ".hidden").write_text("y")
    files = manifest.build(tmp_path)["files"]
    assert list(files) == ["js/a.js"]
    assert manifest.sri(files["js/a.js"]) == "sha256-LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIE="
