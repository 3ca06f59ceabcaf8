"""Vendored browser libraries are exactly the pinned npm releases, and the bridge serves
pdf.js itself under the strict policy (worker-src 'self', no eval)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[2]
PINS = [
    ROOT / "web_bridge" / "static" / "vendor" / "VENDORED.json",
    ROOT / "tests" / "vendor" / "VENDORED.json",
]


def _pinned() -> list[tuple[Path, str]]:
    out = []
    for pins in PINS:
        for package in json.loads(pins.read_text()).values():
            for name, digest in package["files"].items():
                out.append((pins.parent / name, digest))
    return out


@pytest.mark.parametrize("path,digest", _pinned(), ids=lambda v: getattr(v, "name", ""))
def test_vendored_file_matches_its_pin(path: Path, digest: str) -> None:
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_every_vendored_file_is_pinned() -> None:
    pinned = {path for path, _ in _pinned()}
    on_disk = {p for pins in PINS for p in pins.parent.rglob("*") if p.is_file() and p.name != "VENDORED.json"}
    assert on_disk == pinned


def test_bridge_serves_pdfjs_as_javascript_under_the_strict_policy(client: FlaskClient) -> None:
    for name in ("pdf.min.mjs", "pdf.worker.min.mjs"):
        response = client.get(f"/static/vendor/pdfjs-5.7.284/{name}")
        assert response.status_code == 200
        assert response.mimetype == "text/javascript"
        csp = response.headers["Content-Security-Policy"]
        assert "worker-src 'self'" in csp
        assert "unsafe-eval" not in csp and "unsafe-inline" not in csp
