"""Fixtures for the envelope's browser tests: the harness page, served under a strict CSP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.browser import StaticServer

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "web_bridge" / "static" / "js"
HERE = Path(__file__).resolve().parent


def harness_routes() -> dict[str, Path]:
    """URL paths of the harness page and the modules under test."""
    routes = {
        "/": HERE / "browser_harness.html",
        "/harness.js": HERE / "browser_harness.js",
    }
    routes.update(
        {
            f"/js/{p.name}": p
            for p in JS.glob("*.js")
            if p.name.startswith(("envelope", "hpke", "sha256", "keyset", "receipt"))
        }
    )
    return routes


@pytest.fixture(scope="module")
def harness_url() -> Iterator[str]:
    with StaticServer(harness_routes()) as server:
        yield server.url + "/"


@pytest.fixture
def page(browser_page: Any, harness_url: str) -> Any:
    from playwright.sync_api import expect

    browser_page.goto(harness_url)
    expect(browser_page.locator("body")).to_have_attribute("data-ready", "1")
    return browser_page
