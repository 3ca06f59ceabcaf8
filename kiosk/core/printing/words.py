"""Printer and print-job states in the words a shopkeeper uses (no IPP keywords on screen).

IPP reports a job state (pending, processing, completed, ...) and a list of
reason keywords ("media-empty-error", "job-printing"). The kiosk shows one
plain sentence instead; the keywords stay on ``PrintStatus.reasons`` for logs
and tests.
"""

from __future__ import annotations

from collections.abc import Iterable

# Reason keyword prefixes (IPP appends -report/-warning/-error) -> words, most urgent first.
PROBLEMS: tuple[tuple[str, str], ...] = (
    ("media-jam", "Paper is jammed in the printer"),
    ("media-empty", "The printer is out of paper"),
    ("media-needed", "The printer is out of paper"),
    ("input-tray-missing", "A paper tray is missing"),
    ("toner-empty", "The printer is out of toner"),
    ("marker-supply-empty", "The printer is out of ink or toner"),
    ("door-open", "A printer door is open"),
    ("cover-open", "A printer cover is open"),
    ("output-area-full", "The printer's output tray is full"),
    ("offline", "The printer is offline"),
    ("shutdown", "The printer is switched off"),
    ("connecting-to-device", "Connecting to the printer"),
    ("printer-stopped", "The printer is paused"),
    ("moving-to-paused", "The printer is pausing"),
    ("paused", "The printer is paused"),
    ("toner-low", "Toner is low"),
    ("marker-supply-low", "Ink or toner is low"),
    ("media-low", "Paper is low"),
    ("document-format-error", "The printer cannot read this document"),
    ("document-unprintable-error", "The printer cannot print this document"),
)

PRINTER_STATE_WORDS = {
    "idle": "Ready",
    "processing": "Printing",
    "stopped": "Paused or needs attention",
    "unknown": "State not known",
}


def problem_words(reasons: Iterable[str]) -> str:
    """The most urgent known problem among IPP reason keywords, in words ('' when none is known)."""
    keys = [str(r) for r in reasons]
    for prefix, words in PROBLEMS:
        if any(key.startswith(prefix) for key in keys):
            return words
    return ""


def job_words(state: int | None, reasons: Iterable[str]) -> str:
    """A sentence for an IPP job-state enum (3..9) and its reasons."""
    problem = problem_words(reasons)
    if state in (3, 4):
        return problem or "Waiting for the printer"
    if state in (5, 6):
        return f"Printing - {problem}" if problem else "Printing"
    if state == 9:
        return "Printed"
    if state == 7:
        return "Printing was cancelled"
    if state == 8:
        return f"The printer could not print it: {problem}" if problem else "The printer could not print it"
    return "Waiting for the printer"


def printer_words(state: str, reasons: Iterable[str] = ()) -> str:
    """A printer's state (idle | processing | stopped | unknown) in words, a problem first."""
    return problem_words(reasons) or PRINTER_STATE_WORDS.get(state, "State not known")


UNREACHABLE = "The printer does not answer: is it switched on and connected?"
STALLED = "Not finished after {minutes} min: check the printer"


def supply_words(name: str, level: int) -> str:
    """A low supply in words: 'Black toner is low (5%)', 'Ink or toner is empty'."""
    label = " ".join(name.split())[:40] or "Ink or toner"
    label = label[0].upper() + label[1:]
    if level == 0:
        return f"{label} is empty"
    return f"{label} is low ({level}%)"


def stalled_words(seconds: float) -> str:
    """The stalled-print flag in words."""
    return STALLED.format(minutes=max(1, round(seconds / 60)))
