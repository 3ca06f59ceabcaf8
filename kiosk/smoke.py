"""Smoke test of the kiosk as shipped: start the real app, save a frame, exit.

``python -m kiosk.smoke SHOT.png`` (or the bundle with ``--smoke-test SHOT.png`` /
``CLOUDTAB_KIOSK_SMOKE=SHOT.png``, see :mod:`kiosk.bundle_main`) runs
``kiosk.app.run_app`` on a fresh data folder (so the first screen is
enrollment), waits until the window has shown a few frames, saves the real
frame with ``Window.screenshot`` to ``SHOT.png`` and writes ``SHOT.json`` next
to it::

    {"ok": true, "screen": "enrollment", "screens": [...], "first_frame_seconds": 1.9,
     "screenshot": "...", "window_size": [1280, 800], "kiosk_version": "0.1.0",
     "frozen": true, "error": ""}

``first_frame_seconds`` counts from ``CLOUDTAB_KIOSK_SMOKE_T0`` (a Unix time
the caller sets just before starting the process) or else from the moment
this module was imported. Exit status 0 only when the screenshot was saved.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from kiosk.core.version import KIOSK_VERSION

log = logging.getLogger(__name__)

IMPORTED_AT = time.time()
SETTLE_FRAMES = 30  # frames drawn before the screenshot (screen transitions, kv rules) ...
SETTLE_SECONDS = 1.5  # ... or this long after the first frame, whichever comes first
DEFAULT_TIMEOUT = 90.0


def _kivy_defaults(kivy_home: Path) -> None:
    """Environment Kivy reads at import: no argv parsing, default config, private home."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_USE_DEFAULTCONFIG", "1")
    os.environ.setdefault("KIVY_HOME", str(kivy_home))
    # A kiosk-sized window (the app itself decides full screen or not).
    os.environ.setdefault("KCFG_GRAPHICS_WIDTH", "1280")
    os.environ.setdefault("KCFG_GRAPHICS_HEIGHT", "800")


def current_screens(root: Any) -> tuple[str, list[str]]:
    """Name of the screen shown by the first ScreenManager under ``root`` and all its screens."""
    from kivy.uix.screenmanager import ScreenManager

    if root is None:
        return "", []
    for widget in root.walk(restrict=False):
        if isinstance(widget, ScreenManager):
            return str(widget.current), [str(name) for name in widget.screen_names]
    return "", []


def bundle_checks() -> dict[str, Any]:
    """Check the parts a bundle can silently miss: libpdfium + Pillow, pillow-heif's libheif,
    OpenSSL, Kivy's audio.

    Turns a PNG into a PDF page and renders it with the kiosk's own render code.
    Never raises: each check reports "ok ..." or "error: ...".
    """
    checks: dict[str, Any] = {}
    try:
        import io

        from PIL import Image

        from kiosk.core.render import image_to_pdf, open_document

        png = io.BytesIO()
        Image.new("RGB", (60, 40), (200, 30, 30)).save(png, format="PNG")
        document = open_document(image_to_pdf(png.getvalue(), "image/png"), "application/pdf")
        try:
            page = document.render(0, 0.25)
        finally:
            document.close()
        checks["pdfium"] = f"ok {page.width}x{page.height}"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks["pdfium"] = f"error: {type(exc).__name__}: {exc}"
    try:
        import io

        import pillow_heif
        from PIL import Image

        from kiosk.core.images import photos_to_pdf

        pillow_heif.register_heif_opener()
        heic = io.BytesIO()
        Image.new("RGB", (64, 48), (30, 90, 200)).save(heic, format="HEIF")
        checks["heif"] = "ok" if photos_to_pdf(heic.getvalue(), "image/heic")[:5] == b"%PDF-" else "error: no PDF"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks["heif"] = f"error: {type(exc).__name__}: {exc}"
    try:
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        import envelope  # noqa: F401 - the job format; imports grpc-free crypto code

        key = ec.generate_private_key(ec.SECP256R1())
        shared = key.exchange(ec.ECDH(), ec.generate_private_key(ec.SECP256R1()).public_key())
        sealed = AESGCM(shared[:32]).encrypt(b"\0" * 12, b"check", None)
        checks["crypto"] = "ok" if AESGCM(shared[:32]).decrypt(b"\0" * 12, sealed, None) == b"check" else "error"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks["crypto"] = f"error: {type(exc).__name__}: {exc}"
    try:
        from kivy.core.audio import SoundLoader

        providers = list(dict.fromkeys(cls.__module__.rsplit(".", 1)[-1] for cls in SoundLoader._classes))
        checks["audio"] = f"ok {','.join(providers)}" if providers else "error: no audio provider"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks["audio"] = f"error: {type(exc).__name__}: {exc}"
    return checks


class SmokeProbe:
    """Waits for the app's first frames, saves a screenshot and stops the app.

    Lives on the Kivy main thread: every method is called by Kivy's Clock or
    the window's ``on_flip`` event.
    """

    def __init__(self, screenshot: Path, t0: float, timeout: float) -> None:
        self.screenshot = screenshot
        self.t0 = t0
        self.deadline = time.monotonic() + timeout
        self.frames = 0
        self.first_frame_at: float | None = None
        self.result: dict[str, Any] = {"ok": False, "error": "the app did not start"}
        self._window: Any = None
        self._event: Any = None
        self._armed = False

    def start(self) -> None:
        from kivy.clock import Clock

        self._event = Clock.schedule_interval(self._tick, 0)

    def _tick(self, _dt: float) -> None:
        from kivy.app import App

        if time.monotonic() > self.deadline:
            self._finish(error=f"timed out after {self.frames} frames")
            return
        app = App.get_running_app()
        if self._window is None and app is not None and app.root is not None:
            from kivy.core.window import Window

            self._window = Window
            Window.bind(on_flip=self._on_flip)
            return
        if self._armed or self.first_frame_at is None:
            return
        if self.frames >= SETTLE_FRAMES or time.time() - self.first_frame_at >= SETTLE_SECONDS:
            # Kivy draws only when something changed: ask for one more frame
            # and capture it as soon as it is on screen.
            self._armed = True
            self._window.canvas.ask_update()

    def _on_flip(self, window: Any) -> None:
        self.frames += 1
        if self.first_frame_at is None:
            self.first_frame_at = time.time()
        if not self._armed:
            return
        window.unbind(on_flip=self._on_flip)
        self._capture(window)

    def _capture(self, window: Any) -> None:
        from kivy.app import App

        # Window.screenshot appends a counter to the name: save in a private
        # folder, then move to the exact path asked for.
        tmp_dir = Path(tempfile.mkdtemp(prefix="smoke-shot-", dir=self.screenshot.parent))
        try:
            saved = window.screenshot(name=str(tmp_dir / "frame.png"))
            if not saved or not Path(saved).is_file():
                self._finish(error="Window.screenshot saved nothing")
                return
            os.replace(saved, self.screenshot)
        finally:
            shutil.rmtree(tmp_dir, ignore_errors=True)
        app = App.get_running_app()
        screen, screens = current_screens(app.root if app is not None else None)
        checks = bundle_checks()
        failed = sorted(name for name, outcome in checks.items() if not str(outcome).startswith("ok"))
        self._finish(
            ok=not failed,
            error=f"bundle checks failed: {', '.join(failed)}" if failed else "",
            screen=screen,
            screens=screens,
            window_size=[int(v) for v in window.size],
            frames=self.frames,
            checks=checks,
        )

    def _finish(self, ok: bool = False, error: str = "", **fields: Any) -> None:
        from kivy.app import App
        from kivy.clock import Clock

        if self._event is not None:
            self._event.cancel()
            self._event = None
        first = None if self.first_frame_at is None else round(self.first_frame_at - self.t0, 3)
        self.result = {
            "ok": ok,
            "error": error,
            "first_frame_seconds": first,
            "screenshot": str(self.screenshot) if self.screenshot.is_file() else "",
            **fields,
        }
        app = App.get_running_app()
        if app is not None:
            Clock.schedule_once(lambda _dt: app.stop(), 0)
        else:
            from kivy.base import stopTouchApp

            stopTouchApp()


def run_smoke(
    screenshot: Path, *, data_dir: Path | None = None, relay: str = "", timeout: float = DEFAULT_TIMEOUT
) -> dict[str, Any]:
    """Run the kiosk app until one frame is saved to ``screenshot``; return the result dict.

    The result is also written to ``screenshot.with_suffix(".json")``. Never raises
    for a failing app: the error is in ``result["error"]``.
    """
    screenshot = screenshot.resolve()
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.unlink(missing_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="cloudtab-kiosk-smoke-"))
    _kivy_defaults(scratch / "kivy-home")
    t0 = float(os.environ.get("CLOUDTAB_KIOSK_SMOKE_T0") or IMPORTED_AT)
    probe = SmokeProbe(screenshot, t0, timeout)
    try:
        from kiosk.app import run_app

        probe.start()
        run_app(data_dir or scratch / "data", relay or None, fullscreen=False)
        result = dict(probe.result)
    except Exception as exc:
        log.exception("kiosk smoke test: the app failed")
        result = {**probe.result, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result.update(kiosk_version=KIOSK_VERSION, frozen=bool(getattr(sys, "frozen", False)))
    screenshot.with_suffix(".json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


def exit_when_done(code: int) -> None:
    """Exit with ``code`` even if a non-daemon thread of the app is still running."""
    sys.stdout.flush()
    sys.stderr.flush()
    lingering = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if lingering:
        log.warning(
            "kiosk smoke test: %d thread(s) still running at exit: %s",
            len(lingering),
            ", ".join(t.name for t in lingering),
        )
        os._exit(code)
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m kiosk.smoke SHOT.png [--data-dir DIR] [--relay ADDR] [--timeout S]``."""
    parser = argparse.ArgumentParser(prog="cloudtab-kiosk-smoke", description=__doc__.split("\n")[0])
    parser.add_argument("screenshot", type=Path)
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="kiosk data folder (default: a fresh temporary one)"
    )
    parser.add_argument("--relay", default="", help="relay address passed to the app")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    args = parser.parse_args(argv)
    result = run_smoke(args.screenshot, data_dir=args.data_dir, relay=args.relay, timeout=args.timeout)
    print(json.dumps(result), flush=True)
    return 0 if result.get("ok") else 1


if __name__ == "__main__":
    exit_when_done(main())
