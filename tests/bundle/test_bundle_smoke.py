"""The PyInstaller bundle, built with scripts/build-kiosk and started as a shop would.

The bundle is rebuilt unless dist/cloudtab-kiosk is newer than every file that
goes into it (slow: about a minute here, several on a cold CI machine). It is
then run with a clean environment (no PYTHONPATH, no venv on PATH, a fresh
HOME) under a private Xvfb and under SDL's offscreen driver, through its smoke
mode (kiosk/smoke.py): it must exit 0, show the enrollment screen, and save a
screenshot that is not blank. The screenshot and the measured figures go to
artifacts/screenshots/bundle/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.services import service_missing

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "dist" / "cloudtab-kiosk"
EXE = BUNDLE / "cloudtab-kiosk"
ARTIFACTS = REPO / "artifacts" / "screenshots" / "bundle"
BUILD_TIMEOUT = 1500
RUN_TIMEOUT = 180
# Build inputs: a bundle older than any of these is rebuilt.
SOURCES = ("kiosk", "generated/cloudtab", "packaging/kiosk.spec", "scripts/build-kiosk", "constraints.txt", "setup.cfg")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(BUILD_TIMEOUT + 2 * RUN_TIMEOUT)]


def newest_source_mtime() -> float:
    newest = 0.0
    for name in SOURCES:
        path = REPO / name
        paths = (
            [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        )
        newest = max([newest, *(p.stat().st_mtime for p in paths)])
    return newest


@pytest.fixture(scope="module")
def kiosk_bundle() -> Path:
    """dist/cloudtab-kiosk, built now unless it is newer than every source file."""
    if EXE.is_file() and EXE.stat().st_mtime > newest_source_mtime():
        return BUNDLE
    python = REPO / ".venv" / "bin" / "python"
    check = subprocess.run([str(python), "-c", "import PyInstaller"], check=False, capture_output=True)
    if check.returncode != 0:
        service_missing("PyInstaller in .venv (pip install -c constraints.txt pyinstaller)")
    started = time.monotonic()
    result = subprocess.run(
        [str(REPO / "scripts" / "build-kiosk")],
        check=False,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        cwd=REPO,
    )
    assert result.returncode == 0, f"build failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    assert EXE.is_file()
    print(f"\nbuilt the bundle in {time.monotonic() - started:.0f} s: {result.stdout.strip()}")
    return BUNDLE


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """What a shop's desktop session gives the kiosk: no Python anywhere."""
    return {"HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", **extra}


def image_stats(path: Path) -> tuple[tuple[int, int], float, int]:
    """(size, grey-level standard deviation, number of distinct colours) of a PNG."""
    from PIL import Image, ImageStat

    with Image.open(path) as img:
        rgb = img.convert("RGB")
        deviation = ImageStat.Stat(rgb.convert("L")).stddev[0]
        colours = rgb.getcolors(maxcolors=1 << 20) or []
        return rgb.size, deviation, len(colours)


def run_smoke(home: Path, shot: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], dict, float]:
    t0 = time.time()
    result = subprocess.run(
        [str(EXE), "--smoke-test", str(shot), "--timeout", "120"],
        check=False,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        cwd=home,
        env=clean_env(home, CLOUDTAB_KIOSK_SMOKE_T0=repr(t0), **env),
    )
    wall = time.time() - t0
    report_path = shot.with_suffix(".json")
    assert report_path.is_file(), f"no smoke report; exit {result.returncode}\n{result.stderr[-4000:]}"
    return result, json.loads(report_path.read_text()), wall


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "home"
    path.mkdir()
    yield path


def check_run(result: subprocess.CompletedProcess[str], report: dict, shot: Path) -> None:
    assert result.returncode == 0, f"{report}\n{result.stderr[-4000:]}"
    assert report["ok"] is True, report
    assert report["frozen"] is True, "the smoke ran from source, not from the bundle"
    assert report["screen"] == "enrollment", f"a fresh kiosk must ask to enroll first: {report}"
    assert all(str(v).startswith("ok") for v in report["checks"].values()), report["checks"]
    assert {"pdfium", "heif", "crypto", "audio"} <= set(report["checks"])
    assert report["kiosk_version"], "the kiosk shows its version"
    size, deviation, colours = image_stats(shot)
    assert size == tuple(report["window_size"]) and size[0] >= 800 and size[1] >= 600
    assert deviation > 10, f"screenshot looks blank (grey stdev {deviation:.1f})"
    assert colours > 50, f"screenshot has only {colours} colours: no text drawn?"


def test_bundle_under_xvfb_shows_enrollment(kiosk_bundle: Path, xvfb_display: str, home: Path) -> None:
    shot = home / "enrollment.png"
    result, report, wall = run_smoke(home, shot, DISPLAY=xvfb_display)
    check_run(result, report, shot)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "enrollment-xvfb.png")
    files = [p for p in kiosk_bundle.rglob("*") if p.is_file() and not p.is_symlink()]
    size_mb = sum(p.stat().st_size for p in files) / 2**20
    figures = {
        **report,
        "screenshot": str(ARTIFACTS / "enrollment-xvfb.png"),
        "wall_seconds": round(wall, 2),
        "bundle_mib": round(size_mb, 1),
        "bundle_files": len(files),
    }
    (ARTIFACTS / "smoke-xvfb.json").write_text(json.dumps(figures, indent=2))
    print(
        f"\nbundle {size_mb:.0f} MiB; first frame after {report['first_frame_seconds']} s; "
        f"smoke run {wall:.1f} s in all"
    )


def test_bundle_offscreen_shows_enrollment(kiosk_bundle: Path, home: Path) -> None:
    """No X server at all: SDL renders through EGL (what a headless CI runner has)."""
    shot = home / "enrollment.png"
    result, report, _ = run_smoke(home, shot, SDL_VIDEODRIVER="offscreen")
    check_run(result, report, shot)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "enrollment-offscreen.png")


def test_bundle_smoke_fails_without_a_display(kiosk_bundle: Path, home: Path) -> None:
    """The smoke mode can fail: with no display and no offscreen driver it must not exit 0."""
    shot = home / "never.png"
    env = clean_env(home, SDL_VIDEODRIVER="x11")  # and no DISPLAY
    result = subprocess.run(
        [str(EXE), "--smoke-test", str(shot), "--timeout", "30"],
        check=False,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        cwd=home,
        env=env,
    )
    assert result.returncode != 0
    assert not shot.exists()


def test_bundle_configure_writes_settings(kiosk_bundle: Path, home: Path) -> None:
    """The installer's --configure path, through the frozen code (no display needed)."""
    data = home / "data"
    result = subprocess.run(
        [
            str(EXE),
            "--configure",
            "--data-dir",
            str(data),
            "--printer",
            "ipp://printer.local:631/ipp/print",
            "--relay",
            "relay.example.com:443",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=home,
        env=clean_env(home),
    )
    assert result.returncode == 0, result.stderr
    settings = json.loads((data / "settings.json").read_text())
    assert settings["printer"] == {**settings["printer"], "kind": "ipp", "uri": "ipp://printer.local:631/ipp/print"}
    assert settings["relay_address"] == "relay.example.com:443"
    assert oct((data / "settings.json").stat().st_mode & 0o777) == "0o600"

    bad = subprocess.run(
        [str(EXE), "--configure", "--data-dir", str(data), "--printer", "lpr://x"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=home,
        env=clean_env(home),
    )
    assert bad.returncode == 2 and "unknown printer" in bad.stderr


def test_bundle_carries_its_parts(kiosk_bundle: Path) -> None:
    """The .kv files, libpdfium and Kivy's fonts are inside; nothing points back at the venv."""
    internal = kiosk_bundle / "_internal"
    kv_in_repo = sorted(p.name for p in (REPO / "kiosk" / "ui").glob("*.kv"))
    assert sorted(p.name for p in (internal / "kiosk" / "ui").glob("*.kv")) == kv_in_repo
    assert list(internal.rglob("libpdfium*")), "libpdfium is missing"
    assert list((internal / "kivy_install" / "data" / "fonts").glob("Roboto*.ttf"))
    assert not list(internal.rglob("site-packages")), "a venv folder was copied in"
    assert os.access(EXE, os.X_OK)


def test_bundle_runs_the_kiosk_command_line(kiosk_bundle: Path, home: Path) -> None:
    """The unit's ExecStart path: kiosk.cli inside the bundle (version, and the core's imports)."""
    version = subprocess.run(
        [str(EXE), "--version"], check=False, capture_output=True, text=True, timeout=120, cwd=home, env=clean_env(home)
    )
    assert version.returncode == 0, version.stderr
    assert "cloudtab-kiosk" in version.stdout

    # Headless without enrollment stops at once with a sentence: grpc, cryptography and the
    # core all imported inside the frozen bundle to get there.
    headless = subprocess.run(
        [str(EXE), "--headless", "--data-dir", str(home / "data")],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=home,
        env=clean_env(home),
    )
    assert headless.returncode == 2, headless.stderr[-3000:]
    assert "not enrolled" in headless.stderr


def test_bundle_kiosk_keeps_running_in_a_session(kiosk_bundle: Path, xvfb_display: str, home: Path) -> None:
    """Started as the systemd unit starts it (data folder from the environment), it stays up."""
    data = home / "data"
    log = home / "kiosk.log"
    with open(log, "w") as log_file:  # a file, not a pipe nobody reads while it runs
        proc = subprocess.Popen(
            [str(EXE), "--windowed"],
            cwd=home,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=clean_env(home, DISPLAY=xvfb_display, CLOUDTAB_KIOSK_DATA_DIR=str(data)),
        )
    try:
        try:
            proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            pass
        assert proc.poll() is None, f"the kiosk exited with {proc.returncode}: {log.read_text()[-3000:]}"
        assert data.is_dir(), "the kiosk did not use CLOUDTAB_KIOSK_DATA_DIR"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_installed_bundle_starts(kiosk_bundle: Path, tmp_path: Path) -> None:
    """scripts/install-kiosk with the real bundle: the copy in ~/.local/opt starts and has the settings."""
    home = tmp_path / "shop-home"
    home.mkdir()
    install = subprocess.run(
        [
            str(REPO / "scripts" / "install-kiosk"),
            "--bundle",
            str(kiosk_bundle),
            "--root",
            str(home),
            "--printer",
            "cups:Front_Desk",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env=clean_env(home),
    )
    assert install.returncode == 0, install.stdout + install.stderr
    settings = json.loads((home / ".local/share/cloudtab/kiosk/settings.json").read_text())
    assert settings["printer"]["queue"] == "Front_Desk"

    installed = home / ".local/opt/cloudtab-kiosk/cloudtab-kiosk"
    shot = home / "installed.png"
    result = subprocess.run(
        [str(installed), "--smoke-test", str(shot), "--timeout", "120"],
        check=False,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        cwd=home,
        env=clean_env(home, SDL_VIDEODRIVER="offscreen", CLOUDTAB_KIOSK_SMOKE_T0=repr(time.time())),
    )
    check_run(result, json.loads(shot.with_suffix(".json").read_text()), shot)
