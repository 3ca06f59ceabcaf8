"""The UI's test fake implements the same typed core interface as the real core.

mypy proves ``KioskCore`` implements ``kiosk.core.api.KioskCoreAPI`` (see the end of
that module); this checks the fake the UI tests drive: every member exists, and
every method takes the interface's parameters by the same names.
"""

from __future__ import annotations

import inspect

import pytest

from kiosk.core.api import KioskCoreAPI
from tests.kiosk.ui_fake_core import FakeCore

MEMBERS = sorted(name for name in vars(KioskCoreAPI) if not name.startswith("_"))


def test_the_interface_is_not_empty() -> None:
    assert {"jobs", "print_job", "shop", "settings"} <= set(MEMBERS)


@pytest.mark.parametrize("name", MEMBERS)
def test_fake_core_has_the_member(name: str) -> None:
    fake = FakeCore()
    assert hasattr(fake, name), f"FakeCore lacks {name}"
    wanted = inspect.getattr_static(KioskCoreAPI, name)
    if isinstance(wanted, property):
        return
    expected = [p for p in inspect.signature(wanted).parameters if p != "self"]
    given = list(inspect.signature(getattr(fake, name)).parameters)
    assert given[: len(expected)] == expected, (name, given)
