"""Helpers of the customer-page tests: a phone of a given size, screenshots under
artifacts/screenshots/page/, axe-core injected in the test context only, and the
bridge reached under a non-local name (an insecure context)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.bridge.conftest import CSP_LISTENER

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots" / "page"
AXE = ROOT / "tests" / "vendor" / "axe-core-4.14.1" / "axe.min.js"
AXE_URL_PATH = "/__test__/axe.min.js"
PHONES = {"360x740": (360, 740), "320x640": (320, 640)}


@contextmanager
def phone_context(browser: Any, size: str, **options: Any) -> Iterator[Any]:
    """A touch phone context of ``size`` ("360x740"); pages get ``.problems``."""
    width, height = PHONES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        **options,
    )
    context.add_init_script(CSP_LISTENER)
    # axe-core is served on the page's own origin by the test only (the bridge never
    # serves it), so the strict CSP stays as it is in production.
    context.route(
        f"**{AXE_URL_PATH}", lambda route: route.fulfill(body=AXE.read_bytes(), content_type="text/javascript")
    )
    try:
        yield context
    finally:
        context.close()


def new_page(context: Any) -> Any:
    """A page that collects console errors and page errors in ``page.problems``."""
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.problems = problems
    return page


def shot(page: Any, size: str, name: str) -> Path:
    """Save a full-page screenshot as artifacts/screenshots/page/<size>-<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{size}-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Any) -> list[str]:
    """axe-core's violations on the page as it is now ("rule: target" lines)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL_PATH)
    result = page.evaluate(
        "async () => (await axe.run(document)).violations.map((v) => "
        "({id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(' '))}))"
    )
    return [f"{v['id']} ({v['help']}): {json.dumps(v['nodes'][:3])}" for v in result]


def no_overflow(page: Any) -> bool:
    """True when nothing is wider than the screen."""
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))
