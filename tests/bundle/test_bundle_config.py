"""The bundle's small helpers: printer specs, --configure, and how bundle_main routes arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.bundle_config import configure, main, parse_printer
from kiosk.bundle_main import kiosk_arguments, smoke_arguments
from kiosk.core.config import PrinterSettings, load_settings
from kiosk.core.errors import ConfigError


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("cups:Front_Desk", PrinterSettings(kind="cups", queue="Front_Desk", cups_server="localhost:631")),
        (
            "cups:lab-2@print.shop.lan:631",
            PrinterSettings(kind="cups", queue="lab-2", cups_server="print.shop.lan:631"),
        ),
        ("ipp://192.168.1.20:631/ipp/print", PrinterSettings(kind="ipp", uri="ipp://192.168.1.20:631/ipp/print")),
        ("ipps://printer.local/ipp/print", PrinterSettings(kind="ipp", uri="ipps://printer.local/ipp/print")),
        ("folder:/srv/prints", PrinterSettings(kind="folder", folder="/srv/prints")),
        ("demo", PrinterSettings(kind="folder")),
    ],
)
def test_printer_specs(spec: str, expected: PrinterSettings) -> None:
    assert parse_printer(spec) == expected


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "cups:",
        "cups:two words",
        "cups:a/b",
        "cups:q@bad server",
        "ipp://",
        "ipp://host:99999/x",
        "lpr://host/q",
        "http://printer/ipp",
        "folder:",
        "Front_Desk",
    ],
)
def test_bad_printer_specs(spec: str) -> None:
    with pytest.raises(ConfigError):
        parse_printer(spec)


def test_configure_keeps_other_settings(tmp_path: Path) -> None:
    configure(tmp_path, printer="cups:Front_Desk", relay="relay.example.com:443")
    raw = json.loads((tmp_path / "settings.json").read_text())
    raw["sound"] = False
    (tmp_path / "settings.json").write_text(json.dumps(raw))

    configure(tmp_path, printer="ipp://printer.local:631/ipp/print")
    settings = load_settings(tmp_path)
    assert settings.printer.kind == "ipp"
    assert settings.relay_address == "relay.example.com:443"
    assert settings.sound is False


def test_configure_main_check_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(tmp_path), "--printer", "cups:Q", "--check"]) == 0
    assert main(["--data-dir", str(tmp_path), "--printer", "nope", "--check"]) == 2
    assert "unknown printer" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_smoke_arguments() -> None:
    assert smoke_arguments(["--smoke-test", "a.png", "--timeout", "5"], {}) == ["a.png", "--timeout", "5"]
    assert smoke_arguments(["--timeout", "5"], {"CLOUDTAB_KIOSK_SMOKE": "b.png"}) == ["b.png", "--timeout", "5"]
    assert smoke_arguments(["--data-dir", "x"], {}) is None


def test_kiosk_arguments_take_the_data_dir_from_the_environment() -> None:
    env = {"CLOUDTAB_KIOSK_DATA_DIR": "/data"}
    assert kiosk_arguments([], env) == ["--data-dir", "/data"]
    assert kiosk_arguments(["--data-dir", "/mine"], env) == ["--data-dir", "/mine"]
    assert kiosk_arguments(["--data-dir=/mine"], env) == ["--data-dir=/mine"]
    assert kiosk_arguments(["--headless"], {}) == ["--headless"]
