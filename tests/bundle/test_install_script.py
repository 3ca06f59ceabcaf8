"""scripts/install-kiosk and scripts/uninstall-kiosk, run for real into a temporary home.

The bundle is a stand-in folder whose ``cloudtab-kiosk`` runs ``kiosk.bundle_main``
from the source tree with the venv's Python, so ``--configure`` (the settings
file) goes through the same code as in the frozen bundle. Every file the
installer writes is listed, with its mode and content; the systemd unit is
checked with ``systemd-analyze --user verify`` when that binary exists, and
always with a small INI reader.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.services import service_missing

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "scripts" / "install-kiosk"
UNINSTALL = REPO / "scripts" / "uninstall-kiosk"
UNIT = "cloudtab-kiosk.service"


def run(script: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(script), *args], check=False, capture_output=True, text=True, timeout=120, env=env or base_env()
    )


def base_env() -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent-home", "LANG": "C.UTF-8"}


def parse_ini(text: str) -> dict[str, dict[str, list[str]]]:
    """systemd / desktop-entry INI: sections of keys, each key may repeat."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"line {number} outside a section: {raw!r}"
        assert "=" in line, f"line {number} is not key=value: {raw!r}"
        key, value = line.split("=", 1)
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def tree(root: Path) -> dict[str, int]:
    """Every file and folder under root (relative path -> permission bits)."""
    return {str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode) for p in sorted(root.rglob("*"))}


@pytest.fixture
def fake_bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "dist" / "cloudtab-kiosk"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "_internal" / "payload.bin").write_bytes(b"\x00bundle payload")
    exe = bundle / "cloudtab-kiosk"
    exe.write_text(
        f"#!/bin/sh\nPYTHONPATH='{REPO}:{REPO / 'generated'}' exec '{sys.executable}' -m kiosk.bundle_main \"$@\"\n"
    )
    exe.chmod(0o755)
    return bundle


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def install(fake_bundle: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = run(INSTALL, "--bundle", str(fake_bundle), "--root", str(home), *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_install_writes_exactly_these_files(fake_bundle: Path, home: Path) -> None:
    install(fake_bundle, home, "--printer", "cups:Front_Desk", "--relay", "relay.example.com:443")

    prefix = ".local/opt/cloudtab-kiosk"
    data = ".local/share/cloudtab/kiosk"
    files = {path: mode for path, mode in tree(home).items() if (home / path).is_file()}
    assert files == {
        f"{prefix}/cloudtab-kiosk": 0o755,
        f"{prefix}/_internal/payload.bin": 0o644,
        f"{prefix}/.installed-by-cloudtab": 0o644,
        f"{prefix}/cloudtab-kiosk-session": 0o755,
        f".config/systemd/user/{UNIT}": 0o644,
        ".config/autostart/cloudtab-kiosk.desktop": 0o644,
        ".local/share/applications/cloudtab-kiosk.desktop": 0o644,
        ".config/cloudtab-kiosk/install.env": 0o644,
        f"{data}/settings.json": 0o600,
    }
    assert tree(home)[data] == 0o700, "the data folder holds the shop's key: owner only"
    assert (home / prefix / "_internal" / "payload.bin").read_bytes() == b"\x00bundle payload"

    settings = json.loads((home / data / "settings.json").read_text())
    assert settings["printer"]["kind"] == "cups"
    assert settings["printer"]["queue"] == "Front_Desk"
    assert settings["printer"]["cups_server"] == "localhost:631"
    assert settings["relay_address"] == "relay.example.com:443"

    manifest = (home / ".config/cloudtab-kiosk/install.env").read_text()
    assert f"PREFIX='{home / prefix}'" in manifest
    assert f"DATA_DIR='{home / data}'" in manifest


def test_unit_has_the_keys_a_kiosk_needs(fake_bundle: Path, home: Path) -> None:
    install(fake_bundle, home)
    unit = parse_ini((home / ".config/systemd/user" / UNIT).read_text())

    assert "graphical-session.target" in unit["Unit"]["After"][0].split()
    assert unit["Unit"]["StartLimitIntervalSec"] == ["0"], "restarts must never be rate-limited away"
    service = unit["Service"]
    assert service["Restart"] == ["always"]
    assert 1 <= int(service["RestartSec"][0]) <= 30
    exec_start = service["ExecStart"][0].strip('"')
    assert exec_start == str(home / ".local/opt/cloudtab-kiosk/cloudtab-kiosk")
    assert os.access(exec_start, os.X_OK)
    envs = [value.strip('"') for value in service["Environment"]]
    assert f"CLOUDTAB_KIOSK_DATA_DIR={home / '.local/share/cloudtab/kiosk'}" in envs
    assert unit["Install"]["WantedBy"][0] in ("graphical-session.target", "default.target")
    text = (home / ".config/systemd/user" / UNIT).read_text()
    assert "@BUNDLE_DIR@" not in text and "@DATA_DIR@" not in text


def test_unit_passes_systemd_analyze_verify(fake_bundle: Path, home: Path, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        service_missing("systemd-analyze (Debian package systemd)")
    install(fake_bundle, home)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {**base_env(), "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}
    unit_file = home / ".config/systemd/user" / UNIT
    result = subprocess.run(
        [analyze, "--user", "verify", str(unit_file)], check=False, capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", f"systemd-analyze warned: {result.stderr}"

    # The check has teeth: a broken copy of the same unit is refused.
    broken = tmp_path / UNIT
    broken.write_text(
        unit_file.read_text().replace("Restart=always", "Restart=sometimes").replace(str(home), "/nonexistent")
    )
    bad = subprocess.run(
        [analyze, "--user", "verify", str(broken)], check=False, capture_output=True, text=True, timeout=60, env=env
    )
    assert bad.returncode != 0 or bad.stderr.strip(), "systemd-analyze accepted a broken unit"


def test_desktop_entries_start_the_session_launcher(fake_bundle: Path, home: Path) -> None:
    install(fake_bundle, home)
    session = home / ".local/opt/cloudtab-kiosk/cloudtab-kiosk-session"
    for name in (".config/autostart/cloudtab-kiosk.desktop", ".local/share/applications/cloudtab-kiosk.desktop"):
        entry = parse_ini((home / name).read_text())["Desktop Entry"]
        assert entry["Type"] == ["Application"]
        assert entry["Exec"] == [f'"{session}"']
        assert entry["Name"] == ["CloudTab kiosk"]
    autostart = parse_ini((home / ".config/autostart/cloudtab-kiosk.desktop").read_text())["Desktop Entry"]
    assert autostart["X-GNOME-Autostart-enabled"] == ["true"]
    desktop_validate = shutil.which("desktop-file-validate")
    if desktop_validate is None:  # scripts/bootstrap installs desktop-file-utils
        service_missing("desktop-file-validate (apt package desktop-file-utils)")
    for name in (".config/autostart/cloudtab-kiosk.desktop", ".local/share/applications/cloudtab-kiosk.desktop"):
        check = subprocess.run([desktop_validate, str(home / name)], check=False, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_reinstall_changes_printer_and_keeps_the_rest(fake_bundle: Path, home: Path) -> None:
    install(fake_bundle, home, "--printer", "cups:Front_Desk", "--relay", "relay.example.com:443")
    settings_file = home / ".local/share/cloudtab/kiosk/settings.json"
    edited = json.loads(settings_file.read_text())
    edited["prices"]["bw_cents"] = 15  # the shopkeeper changed a price on the kiosk
    settings_file.write_text(json.dumps(edited))

    install(fake_bundle, home, "--printer", "ipp://printer.local:631/ipp/print")
    settings = json.loads(settings_file.read_text())
    assert settings["printer"]["kind"] == "ipp"
    assert settings["printer"]["uri"] == "ipp://printer.local:631/ipp/print"
    assert settings["relay_address"] == "relay.example.com:443"
    assert settings["prices"]["bw_cents"] == 15
    assert not (home / ".local/opt/cloudtab-kiosk.new").exists()
    assert not (home / ".local/opt/cloudtab-kiosk.old").exists()


@pytest.mark.parametrize("spec", ["cups:two words", "ipp://", "lpr://host/queue", "folder:"])
def test_bad_printer_is_refused_before_anything_is_written(fake_bundle: Path, home: Path, spec: str) -> None:
    result = run(INSTALL, "--bundle", str(fake_bundle), "--root", str(home), "--printer", spec)
    assert result.returncode == 2
    assert "printer" in result.stderr
    assert tree(home) == {}


def test_dry_run_writes_nothing(fake_bundle: Path, home: Path) -> None:
    result = run(
        INSTALL, "--bundle", str(fake_bundle), "--root", str(home), "--dry-run", "--printer", "cups:Front_Desk"
    )
    assert result.returncode == 0, result.stderr
    assert "would write" in result.stdout and UNIT in result.stdout
    assert tree(home) == {}


def test_refuses_unsafe_paths_and_foreign_prefix(fake_bundle: Path, home: Path, tmp_path: Path) -> None:
    quoted = run(INSTALL, "--bundle", str(fake_bundle), "--root", str(home), "--prefix", str(tmp_path / "it's"))
    assert quoted.returncode == 2 and "unsupported character" in quoted.stderr

    foreign = tmp_path / "someone-elses"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me")
    result = run(INSTALL, "--bundle", str(fake_bundle), "--root", str(home), "--prefix", str(foreign))
    assert result.returncode == 2
    assert (foreign / "precious.txt").read_text() == "keep me"

    missing = run(INSTALL, "--bundle", str(tmp_path / "nothing"), "--root", str(home))
    assert missing.returncode == 2 and "build it with scripts/build-kiosk" in missing.stderr


def test_uninstall_removes_everything_but_the_data(fake_bundle: Path, home: Path) -> None:
    install(fake_bundle, home, "--printer", "demo")
    result = run(UNINSTALL, "--root", str(home))
    assert result.returncode == 0, result.stderr
    left = {path for path in tree(home) if (home / path).is_file()}
    assert left == {".local/share/cloudtab/kiosk/settings.json"}
    assert "kept the data folder" in result.stdout

    purged = run(UNINSTALL, "--root", str(home), "--purge")
    assert purged.returncode == 0, purged.stderr
    assert not any((home / path).is_file() for path in tree(home))


def test_uninstall_dry_run_and_foreign_prefix(fake_bundle: Path, home: Path, tmp_path: Path) -> None:
    install(fake_bundle, home)
    before = tree(home)
    dry = run(UNINSTALL, "--root", str(home), "--dry-run", "--purge")
    assert dry.returncode == 0, dry.stderr
    assert tree(home) == before

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    other_home = tmp_path / "other-home"
    other_home.mkdir()
    refused = run(UNINSTALL, "--root", str(other_home), "--prefix", str(foreign))
    assert refused.returncode == 2, refused.stdout
    assert "not installed by install-kiosk" in refused.stderr
    assert foreign.is_dir()


# -- the session launcher (autostart and menu entries) --------------------------------


def recording_bundle(tmp_path: Path, exit_code: int) -> Path:
    bundle = tmp_path / "rec-bundle"
    bundle.mkdir()
    exe = bundle / "cloudtab-kiosk"
    exe.write_text(
        '#!/bin/sh\n[ "$1" = --configure ] && exit 0  # the installer writing settings\n'
        f'echo "run data=$CLOUDTAB_KIOSK_DATA_DIR args=$*" >> "$KIOSK_LOG"\nexit {exit_code}\n'
    )
    exe.chmod(0o755)
    return bundle


def fake_systemctl(tmp_path: Path, enabled: bool) -> Path:
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    tool = bin_dir / "systemctl"
    status = 0 if enabled else 1
    tool.write_text(
        f'#!/bin/sh\necho "systemctl $*" >> "$KIOSK_LOG"\ncase "$*" in *" start "*) exit 0 ;; esac\nexit {status}\n'
    )
    tool.chmod(0o755)
    return bin_dir


def session_env(tmp_path: Path, bin_dir: Path, log: Path) -> dict[str, str]:
    runtime = tmp_path / "runtime"
    runtime.mkdir(exist_ok=True, mode=0o700)
    return {
        **base_env(),
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "KIOSK_LOG": str(log),
        "XDG_RUNTIME_DIR": str(runtime),
        "CLOUDTAB_KIOSK_MAX_RUNS": "2",
        "CLOUDTAB_KIOSK_RESTART_SEC": "0",
    }


def test_session_restarts_the_kiosk_without_systemd(tmp_path: Path, home: Path) -> None:
    bundle = recording_bundle(tmp_path, exit_code=3)
    install(bundle, home, "--no-systemd")
    log = tmp_path / "kiosk.log"
    env = session_env(tmp_path, fake_systemctl(tmp_path, enabled=False), log)
    session = home / ".local/opt/cloudtab-kiosk/cloudtab-kiosk-session"
    result = subprocess.run([str(session)], check=False, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 3
    runs = [line for line in log.read_text().splitlines() if line.startswith("run ")]
    data_dir = home / ".local/share/cloudtab/kiosk"
    assert runs == [f"run data={data_dir} args=", f"run data={data_dir} args="]
    assert "starting it again" in result.stderr
    assert not (home / ".config/systemd/user" / UNIT).exists()


def test_session_hands_over_to_systemd_when_the_unit_runs(tmp_path: Path, home: Path) -> None:
    bundle = recording_bundle(tmp_path, exit_code=0)
    install(bundle, home)
    log = tmp_path / "kiosk.log"
    env = session_env(tmp_path, fake_systemctl(tmp_path, enabled=True), log)
    session = home / ".local/opt/cloudtab-kiosk/cloudtab-kiosk-session"
    result = subprocess.run([str(session)], check=False, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    lines = log.read_text().splitlines()
    assert f"systemctl --user start {UNIT}" in lines
    assert not any(line.startswith("run ") for line in lines), "kiosk started twice"


def test_session_runs_one_kiosk_per_user(tmp_path: Path, home: Path) -> None:
    bundle = recording_bundle(tmp_path, exit_code=0)
    install(bundle, home, "--no-systemd")
    log = tmp_path / "kiosk.log"
    env = session_env(tmp_path, fake_systemctl(tmp_path, enabled=False), log)
    lock_path = Path(env["XDG_RUNTIME_DIR"]) / f"cloudtab-kiosk-{os.getuid()}.lock"
    session = home / ".local/opt/cloudtab-kiosk/cloudtab-kiosk-session"
    with open(lock_path, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another session's launcher
        result = subprocess.run([str(session)], check=False, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0
    assert "already running" in result.stderr
    assert not log.exists() or "run " not in log.read_text()
