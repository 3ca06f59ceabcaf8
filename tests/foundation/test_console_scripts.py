"""Every console script of the distribution is installed and answers --help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

VENV_BIN = Path(sys.executable).parent
SCRIPTS = ["cloudtab", "cloudtab-relay", "cloudtab-bridge", "cloudtab-kiosk", "cloudtab-envelope"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_console_script_answers_help(script: str) -> None:
    path = VENV_BIN / script
    assert path.exists(), f"{script} is not installed in {VENV_BIN} (pip install -e .)"
    result = subprocess.run(
        [str(path), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": f"{VENV_BIN}:/usr/bin:/bin", "KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout.lower()


def test_every_package_is_listed_in_setup_cfg() -> None:
    """A package missing from setup.cfg would be left out of the distribution."""
    import configparser

    root = Path(__file__).resolve().parents[2]
    config = configparser.ConfigParser()
    config.read(root / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    found = {
        ".".join(init.parent.relative_to(root).parts)
        for top in ("envelope", "kiosk", "launcher", "relay_grpc", "web_bridge")
        for init in (root / top).rglob("__init__.py")
    }
    assert found - listed == set()


# The whole tree is kept in `ruff format` style (pyproject.toml [tool.ruff.format]).
FORMATTED = ["."]


@pytest.mark.parametrize(
    "command",
    [
        [
            "ruff",
            "check",
            "cloudtab_rpc",
            "envelope",
            "relay_grpc",
            "web_bridge",
            "kiosk",
            "launcher",
            "bench",
            "scripts",
            "tests",
        ],
        ["mypy", "cloudtab_rpc", "envelope", "relay_grpc", "web_bridge", "kiosk", "launcher"],
        ["ruff", "format", "--check", *FORMATTED],
    ],
    ids=["ruff", "mypy", "ruff-format"],
)
def test_static_checks_are_clean(command: list[str]) -> None:
    """ruff on everything we write, mypy on the project's own packages."""
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [str(VENV_BIN / command[0]), *command[1:]], cwd=root, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
