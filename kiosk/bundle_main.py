"""Entry point of the bundled kiosk (PyInstaller's script; see packaging/kiosk.spec).

What it does before handing over to ``kiosk.cli.main``:

* ``--smoke-test SHOT.png [--timeout S]`` as the first arguments, or
  ``CLOUDTAB_KIOSK_SMOKE=SHOT.png`` in the environment, runs
  :mod:`kiosk.smoke` instead of the kiosk (CI's check that the bundle starts).
* ``--configure [--data-dir D] [--printer SPEC] [--relay ADDR]`` writes the
  settings file and exits (:mod:`kiosk.bundle_config`; used by scripts/install-kiosk).
* ``CLOUDTAB_KIOSK_DATA_DIR`` becomes ``--data-dir`` when no ``--data-dir`` is
  given (the systemd unit and the autostart entry set it).
* A windowed Windows build has no console: ``sys.stdout``/``sys.stderr`` are
  None there, and Kivy's logger writes to them, so they go to
  ``%LOCALAPPDATA%\\CloudTab\\kiosk\\kiosk-console.log`` instead.
* ``KIVY_NO_ARGS=1`` so Kivy never parses the kiosk's own arguments.
* Windows: ``KIVY_GL_BACKEND=angle_sdl2`` unless set: OpenGL through ANGLE
  (Direct3D), which works on PCs with poor OpenGL drivers and on CI runners
  without a GPU; it is the configuration the Windows smoke test runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SMOKE_ENV = "CLOUDTAB_KIOSK_SMOKE"
DATA_DIR_ENV = "CLOUDTAB_KIOSK_DATA_DIR"
SMOKE_FLAG = "--smoke-test"
CONFIGURE_FLAG = "--configure"


def _console_fallback() -> None:
    """Give a console-less process somewhere to write (Windows ``console=False`` build)."""
    if sys.stdout is not None and sys.stderr is not None:
        return
    try:
        from kiosk.core.config import default_data_dir

        folder = Path(os.environ.get(DATA_DIR_ENV) or default_data_dir())
        folder.mkdir(parents=True, exist_ok=True)
        stream = open(folder / "kiosk-console.log", "a", encoding="utf-8", buffering=1)  # noqa: SIM115
    except OSError:
        stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    if sys.stdout is None:
        sys.stdout = stream
    if sys.stderr is None:
        sys.stderr = stream


def smoke_arguments(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> list[str] | None:
    """Arguments for ``kiosk.smoke.main`` if this run is a smoke test, else None."""
    if argv[:1] == [SMOKE_FLAG]:
        return argv[1:]
    shot = environ.get(SMOKE_ENV, "")
    if shot:
        return [shot, *argv]
    return None


def kiosk_arguments(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> list[str]:
    """The kiosk's own arguments, with ``--data-dir`` from the environment when missing."""
    has_data_dir = any(a == "--data-dir" or a.startswith("--data-dir=") for a in argv)
    data_dir = environ.get(DATA_DIR_ENV, "")
    if data_dir and not has_data_dir:
        return ["--data-dir", data_dir, *argv]
    return list(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the kiosk (or its smoke test); returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    _console_fallback()
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    if sys.platform == "win32":
        os.environ.setdefault("KIVY_GL_BACKEND", "angle_sdl2")
    if argv[:1] == [CONFIGURE_FLAG]:
        from kiosk import bundle_config

        return bundle_config.main(kiosk_arguments(argv[1:], os.environ))
    smoke = smoke_arguments(argv, os.environ)
    if smoke is not None:
        from kiosk import smoke as smoke_module

        return smoke_module.main(smoke)
    from kiosk.cli import main as kiosk_main

    return int(kiosk_main(kiosk_arguments(argv, os.environ)) or 0)


if __name__ == "__main__":
    code = main()
    if smoke_arguments(sys.argv[1:], os.environ) is not None:
        from kiosk.smoke import exit_when_done

        exit_when_done(code)
    sys.exit(code)
