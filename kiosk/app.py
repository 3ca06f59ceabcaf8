"""The kiosk's Kivy application: screens, navigation and the link to the core.

``run_app(data_dir, relay)`` is what ``cloudtab-kiosk`` calls. The App holds
the little state the screens share (online, shop name, version check) as Kivy
properties; everything else is read from :class:`kiosk.core.service.KioskCore`.
Core listeners are called from core threads and are marshalled here to the
main thread; blocking core calls run through :mod:`kiosk.ui.worker`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("KIVY_NO_ARGS", "1")

from kivy.app import App
from kivy.clock import Clock
from kivy.config import Config
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    ObjectProperty,
    StringProperty,
)

from kiosk.core.api import KioskCoreAPI
from kiosk.core.version import KIOSK_VERSION, update_needed
from kiosk.ui import format as fmt

log = logging.getLogger(__name__)

SCREENS = ("enrollment", "queue", "job_view", "settings", "poster", "daybook")


def configure_kivy(fullscreen: bool = True, keyboard: str = "dock") -> None:
    """Kivy settings a kiosk needs; call before the window exists (before importing kiosk.ui).

    Full screen, no red multitouch dots on right click, Esc does not quit,
    no pause when minimised. ``keyboard``: "dock" shows Kivy's on-screen
    keyboard docked at the bottom when a field is focused (touch-only
    kiosks) and still accepts a real keyboard; "system" uses only a real one.
    """
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    if fullscreen:
        from kiosk.ui.screen_size import x11_screen_size

        size = x11_screen_size()
        if size is not None:
            Config.set("graphics", "width", str(size[0]))
            Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "0" if fullscreen else "1")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "pause_on_minimize", "0")
    Config.set("kivy", "keyboard_mode", "systemanddock" if keyboard == "dock" else "system")


class KioskApp(App):
    """The kiosk UI. ``core`` is anything with the typed core interface
    ``kiosk.core.api.KioskCoreAPI`` (KioskCore, or the tests' fake)."""

    title = "CloudTab kiosk"
    core: Any = ObjectProperty(None)
    kiosk_version = StringProperty(KIOSK_VERSION)
    online = BooleanProperty(False)
    connection_message = StringProperty("Connecting to the relay...")
    unseen: Any = ListProperty([])  # ids of jobs that arrived and were not opened yet (NEW marks)
    next_expiry = StringProperty("")  # live "time left" of the most urgent job, on every screen
    audio_missing = BooleanProperty(False)
    chiming = BooleanProperty(False)  # the new-job chime repeats until acknowledged
    update_needed = BooleanProperty(False)
    min_kiosk_version = StringProperty("")
    shop_name = StringProperty("")
    relay_hint = StringProperty("")

    def __init__(self, core: KioskCoreAPI, relay_hint: str = "", fullscreen: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.core = core
        self.relay_hint = relay_hint
        self.fullscreen = fullscreen
        self._chime: Any = None
        self._chime_event: Any = None
        self._queue_refresh = Clock.create_trigger(self._refresh_queue, 0.05)
        self._listener = self._core_event_from_thread

    # -- building ------------------------------------------------------------
    def build(self) -> Any:
        from kivy.core.window import Window
        from kivy.metrics import Metrics
        from kivy.uix.floatlayout import FloatLayout
        from kivy.uix.screenmanager import NoTransition, ScreenManager

        from kiosk.ui import (  # noqa: F401  (classes used by .kv rules)
            daybook,
            enrollment,
            job_view,
            page_stage,
            page_viewer,
            poster,
            printers,
            queue,
            settings,
            watermark,
        )
        from kiosk.ui.screen_size import ui_scale
        from kiosk.ui.sound import Chime
        from kiosk.ui.widgets import BACKGROUND, Flash, load_kv

        # Every size from 800x600 to 1920x1080 and portrait: dp/sp follow the window.
        Metrics.density = ui_scale(*Window.size)
        Window.clearcolor = BACKGROUND
        Window.softinput_mode = "below_target"  # keep the focused field above the on-screen keyboard
        Window.bind(on_touch_down=self._acknowledge_touch)
        for name in ("widgets", "page_viewer", "printers", *SCREENS):
            load_kv(name)
        self._chime = Chime()
        self.audio_missing = not self._chime.available()
        self.screens = ScreenManager(transition=NoTransition())
        self.screens.add_widget(enrollment.EnrollmentScreen())
        self.screens.add_widget(queue.QueueScreen())
        self.screens.add_widget(job_view.JobViewScreen())
        self.screens.add_widget(settings.SettingsScreen())
        self.screens.add_widget(poster.PosterScreen())
        self.screens.add_widget(daybook.DayBookScreen())
        root = FloatLayout()
        root.add_widget(self.screens)
        self.flash = Flash()
        root.add_widget(self.flash)
        return root

    def on_start(self) -> None:
        self.core.add_listener(self._listener)
        if self.core.enrolled:
            self.shop_changed(self.core.shop)
            self.core.start()
            self.show("queue")
        else:
            self.online = False
            self.show("enrollment")
        self._update_connection()
        Clock.schedule_interval(self._tick, 1.0)

    def on_stop(self) -> None:
        from kiosk.ui import worker

        try:
            self.core.remove_listener(self._listener)
        except Exception:
            log.debug("remove_listener failed", exc_info=True)
        try:
            self.core.stop()
        except Exception:
            log.warning("core did not stop cleanly", exc_info=True)
        worker.shutdown()

    # -- navigation ----------------------------------------------------------
    def show(self, name: str) -> None:
        """Switch to a screen: enrollment, queue, job, settings or poster."""
        self.screens.current = name

    def open_job(self, job_id: str) -> None:
        """Open the job view on ``job_id``; its NEW mark goes."""
        if job_id in self.unseen:
            self.unseen.remove(job_id)
        self.acknowledge()
        view = self.screens.get_screen("job")
        self.show("job")
        view.load(job_id)

    def enrolled(self, shop: Any) -> None:
        """The enrollment screen succeeded: start receiving jobs."""
        self.shop_changed(shop)
        self.core.start()
        self.show("queue")

    def shop_changed(self, shop: Any) -> None:
        """Shop name and the version check follow the shop profile."""
        if shop is None:
            return
        self.shop_name = shop.display_name
        self.min_kiosk_version = shop.min_kiosk_version or ""
        self.update_needed = update_needed(self.min_kiosk_version) or self.update_needed

    # -- core events ---------------------------------------------------------
    def _core_event_from_thread(self, event: Any) -> None:
        Clock.schedule_once(lambda _dt: self._on_core_event(event))

    def _on_core_event(self, event: Any) -> None:
        kind = getattr(event, "kind", "")
        if kind == "connection":
            self._update_connection()
        elif kind == "enrolled":
            self.shop_changed(self.core.shop)
        elif kind == "job_added":
            self.new_job_alert(event.job_id)
        elif kind == "printer_stopped":
            from kiosk.ui.printers import printer_stopped

            printer_stopped(self)
        if kind in ("printers", "job_updated", "settings"):
            from kiosk.ui.printers import refresh_all

            refresh_all(self)
        if kind in ("job_added", "job_updated", "job_removed", "print_status", "connection"):
            self._queue_refresh()
        view = self.screens.get_screen("job")
        if kind in ("job_updated", "job_removed", "print_status") and event.job_id == view.job_id:
            view.refresh()

    def _update_connection(self) -> None:
        state = self.core.connection
        self.online = bool(state.online)
        status = state.status if self.core.enrolled else "not-enrolled"
        self.connection_message = fmt.connection_text(status, self.online)
        if state.update_needed:
            self.update_needed = True
            shop = self.core.shop
            if shop is not None and shop.min_kiosk_version:
                self.min_kiosk_version = shop.min_kiosk_version

    def new_job_alert(self, job_id: str | None = None) -> None:
        """Flash, mark the job NEW, and chime (repeating until acknowledged) when sound is on."""
        if job_id and job_id not in self.unseen:
            self.unseen.append(job_id)
        self.flash.flash()
        settings = self.core.settings
        if not settings.sound or self._chime is None:
            return
        self._chime.play()
        repeat = int(getattr(settings, "chime_repeat_seconds", 0) or 0)
        if repeat > 0 and self._chime_event is None:
            self.chiming = True
            self._chime_event = Clock.schedule_interval(self._chime_again, repeat)

    def _chime_again(self, _dt: float) -> None:
        if not self.unseen or not self.core.settings.sound:
            self.acknowledge()
            return
        self._chime.play()
        self.flash.flash(1)

    def acknowledge(self) -> None:
        """Someone is at the screen: stop repeating the chime (NEW marks stay until opened)."""
        if self._chime_event is not None:
            self._chime_event.cancel()
            self._chime_event = None
        self.chiming = False

    def _acknowledge_touch(self, _window: Any, _touch: Any) -> bool:
        if self.chiming:
            self.acknowledge()
        return False

    def _tick(self, _dt: float) -> None:
        """Once a second: the live "time left" shown on every screen."""
        jobs = [j for j in self.core.jobs() if not j.is_terminal] if self.core.enrolled else []
        still = [job_id for job_id in self.unseen if any(j.job_id == job_id for j in jobs)]
        if still != list(self.unseen):
            self.unseen = still
        if not jobs:
            self.next_expiry = ""
        else:
            soonest = min(jobs, key=lambda j: j.time_left())
            count = len(jobs)
            waiting = f"{count} job{'s' if count != 1 else ''} waiting"
            self.next_expiry = f"{waiting}, job {soonest.job_code}: {fmt.time_left_text(soonest.time_left())}"
        view = self.screens.get_screen("job")
        if self.screens.current == "job":
            view.tick()

    def _refresh_queue(self, *_: Any) -> None:
        self.screens.get_screen("queue").refresh()


def run_app(
    data_dir: Path | str | None,
    relay: str | None = None,
    fullscreen: bool = True,
    *,
    core: Any = None,
    keyboard: str = "dock",
) -> int:
    """Run the kiosk UI until it is closed; returns an exit status.

    ``relay`` pre-fills the enrollment screen's relay address; ``keyboard``
    is "dock" (on-screen keyboard for touch-only kiosks) or "system". Raises
    the core's ConfigError / KeyStoreError if the data folder cannot be used.
    """
    configure_kivy(fullscreen, keyboard)
    if core is None:
        from kiosk.core.service import KioskCore

        core = KioskCore(Path(data_dir) if data_dir is not None else None)
    hint = relay or getattr(getattr(core, "settings", None), "relay_address", "") or ""
    KioskApp(core, relay_hint=hint, fullscreen=fullscreen).run()
    return 0
