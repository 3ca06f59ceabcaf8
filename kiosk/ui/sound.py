"""A short two-tone chime for new jobs, synthesised in memory.

Kivy's audio loaders read files, so the generated WAV (no document data, just
a tone) is written once to a private temporary file that is removed at exit.
Audio is optional: without a sound device the chime is skipped and the
settings screen says so once.
"""

from __future__ import annotations

import atexit
import io
import logging
import math
import os
import struct
import sys
import tempfile
import wave
from typing import Any

log = logging.getLogger(__name__)

RATE = 22050


def chime_wav(tones: tuple[float, ...] = (880.0, 1320.0), tone_ms: int = 140, volume: float = 0.5) -> bytes:
    """A 16-bit mono WAV of the given tones, each faded in and out to avoid clicks."""
    samples = bytearray()
    per_tone = RATE * tone_ms // 1000
    fade = max(1, per_tone // 10)
    for freq in tones:
        for i in range(per_tone):
            envelope = min(1.0, i / fade, (per_tone - i) / fade)
            value = volume * envelope * math.sin(2 * math.pi * freq * i / RATE)
            samples += struct.pack("<h", int(value * 32767))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(samples))
    return buffer.getvalue()


def sound_card_present(cards: str = "/proc/asound/cards", devices: str = "/dev/snd") -> bool | None:
    """Whether Linux has a sound card (None when it cannot tell: not Linux, or a network sound server).

    Kivy's audio provider loads the chime even without a device and then
    plays nothing; the card list (or, without ALSA's procfs, the device
    folder) tells the shop the truth.
    """
    if not sys.platform.startswith("linux") or os.environ.get("PULSE_SERVER"):
        return None
    try:
        with open(cards, encoding="ascii", errors="replace") as listing:
            text = listing.read()
    except OSError:
        return os.path.isdir(devices) and bool(os.listdir(devices))
    return bool(text.strip()) and "no soundcards" not in text


class Chime:
    """Plays the chime; loads lazily and gives up quietly when audio is unavailable."""

    def __init__(self) -> None:
        self._sound: Any = None
        self._failed = False
        self._path: str | None = None

    def available(self) -> bool:
        """Whether a sound device plays the chime (loads it once; False without audio)."""
        if sound_card_present() is False:
            self._failed = True
        if self._failed:
            return False
        if self._sound is None:
            self._sound = self._load()
            if self._sound is None:
                self._failed = True
                return False
        return True

    def play(self) -> bool:
        """Play once; False when there is no audio."""
        if self._failed:
            return False
        if self._sound is None:
            self._sound = self._load()
            if self._sound is None:
                self._failed = True
                return False
        try:
            self._sound.stop()
            self._sound.play()
        except Exception as exc:  # noqa: BLE001  (an audio backend error must never reach the UI)
            log.info("chime failed: %s", type(exc).__name__)
            self._failed = True
            return False
        return True

    def _load(self) -> Any:
        try:
            from kivy.core.audio import SoundLoader

            fd, path = tempfile.mkstemp(prefix="cloudtab-chime-", suffix=".wav")
            with os.fdopen(fd, "wb") as out:
                out.write(chime_wav())
            self._path = path
            atexit.register(self._cleanup)
            return SoundLoader.load(path)
        except Exception as exc:  # noqa: BLE001  (no audio device / provider: stay silent)
            log.info("no audio for the chime: %s", type(exc).__name__)
            return None

    def _cleanup(self) -> None:
        if self._path:
            try:
                os.unlink(self._path)
            except OSError:
                pass
            self._path = None
