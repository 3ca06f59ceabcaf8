"""Fixtures of the web bridge tests: the app on a fake relay (unit tests).

The browser tests' fixtures (real relay, served bridge, kiosk-side client) live in
``live.py`` and are imported by the browser test modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.bridge.fake_relay import FakeRelay
from web_bridge import create_app


@pytest.fixture
def fake_relay() -> FakeRelay:
    """An in-memory relay with one shop, ``demo``."""
    relay = FakeRelay()
    relay.add_shop("demo")
    return relay


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Settings of the test app; tests may change them before using ``app``."""
    return {"TESTING": True, "JOB_CREATE_LIMIT": "100 per minute"}


@pytest.fixture
def app(fake_relay: FakeRelay, app_config: dict[str, Any]) -> Iterator[Flask]:
    """The bridge wired to ``fake_relay``."""
    yield create_app({**app_config, "RELAY_CLIENT": fake_relay})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of ``app``."""
    return app.test_client()


# --- browser tests: a real relay, the bridge on a free port, a kiosk, a phone ----------

CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


@pytest.fixture
def bridge(relay: Any) -> Iterator[Any]:
    """The bridge served on 127.0.0.1 as production serves it (ASGI), talking to ``relay``."""
    from tests.bridge.live import BridgeServer

    server = BridgeServer(relay.address)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def kiosk(relay: Any) -> Iterator[Any]:
    """A shop on ``relay`` with an enrolled kiosk-side client."""
    from tests.bridge.live import Kiosk

    slug, code = relay.add_shop("Corner Copy")
    client = Kiosk(relay.address, code)
    client.slug = slug  # type: ignore[attr-defined]
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def phone(chromium_browser: Any) -> Iterator[Any]:
    """A 360x740 touch page; ``page.problems`` collects console errors and CSP violations."""
    from tests.bridge.live import PHONE

    context = chromium_browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.add_init_script(CSP_LISTENER)
    page.problems = problems
    try:
        yield page
    finally:
        context.close()
