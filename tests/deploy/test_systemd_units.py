"""deploy/systemd: the units an operator installs as they are.

`systemd-analyze verify` checks them in a throwaway root holding the system's own
units, the files from deploy/ and the programs where the units expect them (it fails
on unknown keys, bad dependencies and missing programs); `systemd-analyze security`
scores their sandbox; and the start order is migrate, then the relays, then the bridge.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.services import service_missing

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
INSTANCES = (
    "cloudtab-migrate.service",
    "cloudtab-relay@50051.service",
    "cloudtab-relay@50052.service",
    "cloudtab-bridge.service",
)
MAX_EXPOSURE = 2.0


def _analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        service_missing("systemd-analyze (apt: systemd)")
    return str(path)


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(re.sub(r"\\\n\s*", " ", (UNITS / name).read_text()))
    return parser


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree("/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for unit in UNITS.glob("*.service"):
        shutil.copy(unit, root / "etc/systemd/system" / unit.name)
    for program in ("cloudtab-relay", "gunicorn"):
        stub = root / "opt/cloudtab/.venv/bin" / program
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text("#!/bin/sh\n")
        stub.chmod(0o755)
    return root


def test_units_verify_clean(tmp_path: Path) -> None:
    analyze = _analyze()
    root = _root(tmp_path)
    done = subprocess.run(
        [analyze, "verify", f"--root={root}", *INSTANCES], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0 and done.stderr.strip() == "" and done.stdout.strip() == "", done.stdout + done.stderr
    # The check can fail: a misspelt key is reported.
    broken = root / "etc/systemd/system/cloudtab-bridge.service"
    broken.write_text(broken.read_text().replace("ProtectSystem=strict", "ProtectSytem=strict"))
    bad = subprocess.run(
        [analyze, "verify", f"--root={root}", "cloudtab-bridge.service"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Unknown key 'ProtectSytem'" in bad.stderr


@pytest.mark.parametrize("unit", ["cloudtab-relay@.service", "cloudtab-bridge.service", "cloudtab-migrate.service"])
def test_units_are_sandboxed(unit: str, tmp_path: Path) -> None:
    service = _unit(unit)["Service"]
    for key, value in (
        ("ProtectSystem", "strict"),
        ("PrivateTmp", "yes"),
        ("NoNewPrivileges", "yes"),
        ("DynamicUser", "yes"),
        ("ProtectHome", "yes"),
        ("CapabilityBoundingSet", ""),
    ):
        assert service.get(key) == value, f"{unit}: {key}={service.get(key)!r}"
    assert service.get("StateDirectory"), f"{unit} has no StateDirectory"
    instance = tmp_path / unit.replace("@.", "@50051.")
    shutil.copy(UNITS / unit, instance)
    done = subprocess.run(
        [_analyze(), "security", "--offline=true", str(instance)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert match, done.stdout[-2000:] + done.stderr
    score = float(match.group(1))
    print(f"{unit}: exposure {score}")
    assert score <= MAX_EXPOSURE, done.stdout[-3000:]


def test_start_order_is_migrate_then_relays_then_bridge() -> None:
    migrate = _unit("cloudtab-migrate.service")
    relay = _unit("cloudtab-relay@.service")
    bridge = _unit("cloudtab-bridge.service")
    assert migrate["Service"]["Type"] == "oneshot" and migrate["Service"]["RemainAfterExit"] == "yes"
    assert migrate["Service"]["ExecStart"].endswith("cloudtab-relay db upgrade")
    assert "cloudtab-migrate.service" in relay["Unit"]["Requires"].split()
    assert "cloudtab-migrate.service" in relay["Unit"]["After"].split()
    assert " serve --no-migrate " in relay["Service"]["ExecStart"]
    after = bridge["Unit"]["After"].split()
    assert "cloudtab-relay@50051.service" in after and "cloudtab-relay@50052.service" in after
    for unit in (migrate, relay):
        assert unit["Service"]["EnvironmentFile"] == "/etc/cloudtab/relay.env"
    assert bridge["Service"]["EnvironmentFile"] == "/etc/cloudtab/bridge.env"


def test_example_environment_files_name_real_settings() -> None:
    from relay_grpc.config import ENV_FIELDS
    from web_bridge import DEFAULTS

    relay_vars = {"CLOUDTAB_" + v for v in ENV_FIELDS.values()} | {"GOOGLE_APPLICATION_CREDENTIALS"}
    bridge_vars = {"CLOUDTAB_BRIDGE_" + k for k in DEFAULTS}
    for name, known in (("relay.env.example", relay_vars), ("bridge.env.example", bridge_vars)):
        lines = [line for line in (UNITS / name).read_text().splitlines() if line and not line.startswith("#")]
        assert lines, name
        for line in lines:
            key = line.split("=", 1)[0]
            assert key in known, f"{name}: {key} is not a setting"
