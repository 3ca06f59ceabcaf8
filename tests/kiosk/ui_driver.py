"""Runs the kiosk app in this (child) process and drives it like a shopkeeper.

Usage: ``python tests/kiosk/ui_driver.py CONFIG.json``. Kivy reads its
environment at import, so test_ui_*.py start this script in a subprocess with
the Xvfb display and the quiet-Kivy variables (tests/fixtures/display.py).

A scenario (ui_scenario_fake.py, ui_scenario_real.py) is a generator of steps run from the Kivy clock;
it taps widgets with real touch events, takes screenshots and records facts in
``result["checks"]``. The JSON result is written to ``config["result"]`` when
the scenario ends, fails or times out.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ui_helpers import Runner


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    from kiosk.app import KioskApp, configure_kivy

    configure_kivy(fullscreen=True)
    result_path = Path(config["result"])
    shot_dir = Path(config["screenshots"])
    if config["mode"] == "layout":
        from ui_fake_core import FakeCore
        from ui_scenario_layout import layout_scenario as scenario_factory

        core: Any = FakeCore(enrolled=False)
    elif config["mode"] == "fake":
        from ui_fake_core import FakeCore
        from ui_scenario_fake import fake_scenario as scenario_factory

        core = FakeCore(enrolled=False, min_version=config.get("min_version", ""))
    else:
        from ui_scenario_real import make_real_core
        from ui_scenario_real import real_scenario as scenario_factory

        core = make_real_core(config)
    app = KioskApp(core, relay_hint=config.get("relay_hint", ""), fullscreen=True)
    runner = Runner(app, result_path, float(config.get("timeout", 120)))
    runner.start(scenario_factory(app, core, runner, shot_dir, config))
    app.run()
    runner.finish_after_exit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
