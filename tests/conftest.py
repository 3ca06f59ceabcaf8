"""Test configuration: registers every fixture plugin in tests/fixtures/.

Each module there starts one real service (PostgreSQL database, GCS emulator,
relay, Chromium, Xvfb, ippeveprinter) on 127.0.0.1 with free ports.
"""

from pathlib import Path

import pytest

# Fixture modules import each other; let pytest rewrite their asserts first.
pytest.register_assert_rewrite("tests.fixtures")

pytest_plugins = sorted(
    f"tests.fixtures.{path.stem}"
    for path in (Path(__file__).parent / "fixtures").glob("*.py")
    if path.stem != "__init__"
)
