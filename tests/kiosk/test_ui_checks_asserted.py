"""Every value a UI scenario records is asserted by a UI test (tests/kiosk/test_ui_*.py).

A ``runner.check("name", value)`` that no test reads claims more than it checks.
"""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).parent


def test_every_recorded_ui_check_is_asserted() -> None:
    recorded = set()
    for scenario in HERE.glob("ui_scenario_*.py"):
        recorded |= set(re.findall(r'runner\.check\(\s*"([a-z0-9_]+)"', scenario.read_text()))
    assert recorded, "no recorded checks found: did the runner API change?"
    tests = "".join(path.read_text() for path in HERE.glob("test_ui_*.py"))
    asserted = set(re.findall(r'checks\["([a-z0-9_]+)"\]', tests))
    assert sorted(recorded - asserted) == []
