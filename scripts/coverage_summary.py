"""Print line coverage per package from the combined coverage data (.ci/run calls it).

Every .py file of each package counts, imported or not. Usage:
    python scripts/coverage_summary.py [DATA_FILE]   (default: $COVERAGE_FILE or .coverage)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cloudtab_rpc", "envelope", "relay_grpc", "web_bridge", "kiosk/core", "kiosk/ui", "launcher")
TARGET = 90.0  # issue 12: envelope, relay_grpc, web_bridge, kiosk/core


def _files(package: str) -> list[Path]:
    return [p for p in sorted((ROOT / package).rglob("*.py")) if "migrations/versions" not in str(p)]


def main(argv: list[str]) -> int:
    data_file = argv[0] if argv else os.environ.get("COVERAGE_FILE", str(ROOT / ".coverage"))
    cov = coverage.Coverage(data_file=data_file, config_file=str(ROOT / "setup.cfg"))
    cov.load()  # the run's own data first: combine() alone would replace it with the children's files
    try:
        cov.combine(keep=False)  # children's .coverage.* files left over, added to it
    except coverage.exceptions.NoDataError:
        pass  # nothing left over to add
    print(f"{'package':<14}{'lines':>8}{'missed':>8}{'cover':>8}")
    for package in PACKAGES:
        lines = missed = 0
        for path in _files(package):
            _name, statements, _excluded, missing, _text = cov.analysis2(str(path))
            lines += len(statements)
            missed += len(missing)
        percent = 100.0 * (lines - missed) / lines if lines else 100.0
        print(f"{package:<14}{lines:>8}{missed:>8}{percent:>7.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
