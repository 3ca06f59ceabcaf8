"""The Kivy-free parts of the kiosk UI: text formatting, price parsing, the chime, the X screen size."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import wave
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.core.config import PriceTable
from kiosk.core.jobs import FileInfo, LocalState, PrintOptions
from kiosk.core.pricing import compute_price
from kiosk.ui import format as fmt
from kiosk.ui.screen_size import x11_screen_size
from kiosk.ui.sound import RATE, chime_wav

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "expired"),
        (-5, "expired"),
        (59, "0:59 left"),
        (61, "1:01 left"),
        (1799, "29:59 left"),
        (3600, "1:00:00 left"),
        (3725, "1:02:05 left"),
    ],
)
def test_time_left(seconds: int, text: str) -> None:
    assert fmt.time_left_text(timedelta(seconds=seconds)) == text


def test_options_text() -> None:
    assert fmt.options_text(PrintOptions()) == "1 copy, B/W, 1-sided, A4"
    options = PrintOptions(copies=3, color="color", sides="two-sided-short-edge", page_ranges="1-3,5", media="A3")
    assert fmt.options_text(options) == "3 copies, Colour, 2-sided (short edge), A3, pages 1-3,5"
    photos = PrintOptions(photo_fit="fill", photo_size="10x15", photos_per_sheet=2)
    assert fmt.options_text(photos) == "1 copy, B/W, 1-sided, A4, photos 10x15 cm, 2 per sheet, filled (cropped)"


def test_files_and_pages_text() -> None:
    files = [FileInfo(f"f{i}.pdf", "application/pdf", 10) for i in range(5)]
    assert fmt.files_text(files[:1]) == "f0.pdf"
    assert fmt.files_text(files) == "f0.pdf, f1.pdf, f2.pdf +2 more"
    assert fmt.files_text([]) == "no files"
    assert fmt.pages_text(None) == "? pages"
    assert fmt.pages_text(1) == "1 page"
    assert fmt.pages_text(12) == "12 pages"


def test_state_text_covers_every_state() -> None:
    for state in LocalState:
        text = fmt.state_text(state)
        assert text and text[0].isupper(), state
    assert fmt.state_text(LocalState.FAILED) == "Cannot be opened"


def test_price_and_sheets_text_from_a_real_price() -> None:
    price = compute_price(
        5,
        PrintOptions(copies=2, sides="two-sided-long-edge", color="color"),
        PriceTable(bw_cents=10, colour_cents=45, currency="CHF"),
    )
    assert fmt.sheets_text(price) == "5 pages, 6 sheets (2 copies)"
    assert fmt.price_text(price) == "CHF 2.70"
    assert fmt.price_text(None) == "-"
    assert fmt.sheets_text(None) == ""
    single = compute_price(1, PrintOptions(), PriceTable())
    assert fmt.sheets_text(single) == "1 page, 1 sheet"


@pytest.mark.parametrize(("text", "cents"), [("0.10", 10), ("0,5", 50), ("2", 200), (" 1.005 ", 100), ("0", 0)])
def test_parse_cents(text: str, cents: int) -> None:
    assert fmt.parse_cents(text, "B/W price") == cents


@pytest.mark.parametrize("text", ["", "abc", "-1", "nan", "inf", "1e12"])
def test_parse_cents_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="B/W price"):
        fmt.parse_cents(text, "B/W price")


def test_chime_is_a_short_audible_wav() -> None:
    data = chime_wav()
    with wave.open(io.BytesIO(data)) as wav:
        assert wav.getframerate() == RATE
        assert wav.getnchannels() == 1
        frames = wav.readframes(wav.getnframes())
        duration = wav.getnframes() / RATE
    assert 0.1 < duration < 1.0
    samples = [int.from_bytes(frames[i : i + 2], "little", signed=True) for i in range(0, len(frames), 2)]
    assert max(samples) > 10_000 and min(samples) < -10_000
    assert abs(samples[0]) < 2_000 and abs(samples[-1]) < 2_000  # faded: no click


def test_screen_size_of_the_test_display(xvfb_display: str) -> None:
    assert x11_screen_size() == (1280, 800)


def test_screen_size_without_x(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    assert x11_screen_size() is None


def test_kivy_free_modules_do_not_import_kivy() -> None:
    code = (
        "import sys; import kiosk.ui.format, kiosk.ui.screen_size, kiosk.ui.sound; "
        "print(sorted(m for m in sys.modules if m == 'kivy' or m.startswith('kivy.')))"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "generated")]))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("this PDF is damaged", "This PDF is damaged."),
        ("Already a sentence.", "Already a sentence."),
        ("  what?  ", "What?"),
        ("", ""),
    ],
)
def test_sentence(raw: str, shown: str) -> None:
    assert fmt.sentence(raw) == shown


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("OFFLINE - offline (UNAVAILABLE: failed to connect to all addresses; Connection refused)", True),
        ("completed - completed", True),
        ("job-printing", True),
        ("media-empty-error", True),
        ("Traceback (most recent call last):", True),
        ("JOB_STATE_COMPLETED", True),
        ("RelayError: boom", True),
        ("Enter the one-time code from 'cloudtab-relay shop add'", True),
        ("the printer answered 0x040b", True),
        ("Printing - The printer is out of paper", False),
        ("Offline: cannot reach the relay. Retrying; new jobs arrive when it is back.", False),
        ("2 copies, Colour, 2-sided, A4", False),
        ("annual-report-2026-final.pdf: 3 pages, 3 sheets = EUR 0.30", False),
        ("Printed at 10:42.", False),
    ],
)
def test_protocol_words_are_caught(text: str, bad: bool) -> None:
    assert fmt.has_protocol_words(text) is bad
    assert (fmt.plain(text, "fallback") == "fallback") is bad


def test_connection_and_print_status_in_words() -> None:
    from kiosk.core.printing import PrintState, PrintStatus

    assert fmt.connection_text("offline", False, "offline (UNAVAILABLE: x)").startswith("Offline: cannot reach")
    assert fmt.connection_text("unauthorized", False).startswith("The relay no longer accepts this kiosk")
    assert fmt.connection_text("online", True) == "Online"
    done = PrintStatus(PrintState.COMPLETED, "Printed", ("job-completed-successfully",))
    assert (fmt.print_status_text(done), fmt.print_status_tone(done)) == ("Printed.", "success")
    raw = PrintStatus(PrintState.FAILED, "aborted: job-canceled-at-device")
    assert fmt.print_status_text(raw) == "The printer reports a problem."
    assert fmt.print_status_tone(raw) == "warning"


@pytest.mark.parametrize(
    ("size", "scale"),
    [
        ((800, 600), 0.625),
        ((1024, 600), 0.75),
        ((1280, 800), 1.0),
        ((1920, 1080), 1.35),
        ((1080, 1920), 0.844),
    ],
)
def test_ui_scale_follows_the_window(size: tuple[int, int], scale: float) -> None:
    from kiosk.ui.screen_size import ui_scale

    assert ui_scale(*size) == scale


def test_sound_card_listing(tmp_path: Path) -> None:
    from kiosk.ui.sound import sound_card_present

    none, one = tmp_path / "none", tmp_path / "one"
    none.write_text("--- no soundcards ---\n")
    one.write_text(" 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n")
    assert sound_card_present(str(none)) is False
    assert sound_card_present(str(one)) is True
    snd = tmp_path / "snd"
    assert sound_card_present(str(tmp_path / "missing"), str(snd)) is False  # no procfs, no devices
    snd.mkdir()
    (snd / "pcmC0D0p").touch()
    assert sound_card_present(str(tmp_path / "missing"), str(snd)) is True
