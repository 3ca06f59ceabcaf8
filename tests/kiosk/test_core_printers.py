"""Several printers per kiosk (issue 19 items 1-2): capabilities read from the printers, routing,
the published union, health in plain words, stalled prints and the customer's wait reason.

Domain tests use attribute dicts; the journey runs two real ippeveprinters with different
capabilities (colour two-sided A4, black-and-white A3) behind a real relay.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cloudtab.v1 import common_pb2

import envelope
from kiosk.core import events as ev
from kiosk.core.capabilities import shop_capabilities
from kiosk.core.config import Offer, PrinterSettings, RouteRule, Settings, load_settings, save_settings
from kiosk.core.demo import sample_pdf
from kiosk.core.errors import ConfigError
from kiosk.core.jobs import LocalState, PrintOptions
from kiosk.core.printing import PrintState
from kiosk.core.printing.caps import PrinterCaps, caps_from_attributes
from kiosk.core.printing.health import Marker, PrinterHealth, health_from_attributes
from kiosk.core.printing.routing import route
from kiosk.core.printing.wait import WaitReason
from kiosk.core.service import KioskCore
from tests.fixtures.faults import Customer, PlainFile
from tests.fixtures.printer import IppPrinterProcess, _kill, start_ipp_printer
from tests.kiosk.test_core_relay import job_in, wait_for
from web_bridge.serialize import job_to_dict

COLOUR_DUPLEX_A4 = {
    "color-supported": [True],
    "print-color-mode-supported": ["monochrome", "color"],
    "sides-supported": ["one-sided", "two-sided-long-edge", "two-sided-short-edge"],
    "media-supported": ["na_letter_8.5x11in", "iso_a4_210x297mm", "iso_dl_110x220mm"],
    "finishings-supported": [3, 4],
}
MONO_A3 = {
    "color-supported": [False],
    "print-color-mode-supported": ["monochrome"],
    "sides-supported": ["one-sided"],
    "media-supported": ["iso_a4_210x297mm", "iso_a3_297x420mm"],
    "number-up-supported": [(1, 16)],
}
MONO_A3_CONF = """\
ATTR mimeMediaType document-format-supported application/pdf
ATTR boolean color-supported false
ATTR keyword print-color-mode-supported monochrome
ATTR keyword print-color-mode-default monochrome
ATTR keyword sides-supported one-sided
ATTR keyword media-supported iso_a4_210x297mm,iso_a3_297x420mm
ATTR keyword media-default iso_a4_210x297mm
ATTR keyword media-ready iso_a4_210x297mm,iso_a3_297x420mm
ATTR rangeOfInteger number-up-supported 1-4
"""


def test_capabilities_are_read_from_printer_attributes() -> None:
    colour = caps_from_attributes(COLOUR_DUPLEX_A4)
    assert colour == PrinterCaps(
        media=("A4", "Letter"),
        color=("monochrome", "color"),
        sides=("one-sided", "two-sided-long-edge", "two-sided-short-edge"),
        pages_per_sheet=(1,),
        finishings=(4,),
    )
    mono = caps_from_attributes(MONO_A3)
    assert mono.media == ("A4", "A3") and mono.color == ("monochrome",) and mono.sides == ("one-sided",)
    assert mono.pages_per_sheet == (1, 2, 4)
    assert colour.summary == "colour, two-sided, A4 Letter, staple"
    assert not mono.supports(PrintOptions(color="color")) and mono.supports(PrintOptions(media="A3"))


def test_routing_follows_rules_then_what_printers_can_do() -> None:
    caps = {"Laser": caps_from_attributes(MONO_A3), "Colour": caps_from_attributes(COLOUR_DUPLEX_A4)}
    names = ["Laser", "Colour"]
    rules = (RouteRule("Colour", color="color"), RouteRule("Laser", color="monochrome"))
    assert route(PrintOptions(color="color"), names, caps, rules) == "Colour"
    assert route(PrintOptions(color="monochrome", media="A3"), names, caps, rules) == "Laser"
    # a rule whose printer cannot print the job is passed over (colour A3: nobody can; default)
    assert route(PrintOptions(color="color", media="A3"), names, caps, rules) == "Laser"
    # no rule: the first printer that can (two-sided needs the colour printer)
    assert route(PrintOptions(sides="two-sided-long-edge"), names, caps, ()) == "Colour"
    assert route(PrintOptions(sides="two-sided-long-edge"), names, caps, (RouteRule("Laser", sides="two-sided"),)) == (
        "Colour"
    )
    # capabilities not read yet: the rule is trusted
    assert route(PrintOptions(media="A3"), names, {}, (RouteRule("Colour", media="A3"),)) == "Colour"


def test_published_capabilities_are_the_printers_union_within_the_offer() -> None:
    settings = Settings(offer=Offer(media=("A4", "A3", "Legal")))
    caps = [caps_from_attributes(MONO_A3), caps_from_attributes(COLOUR_DUPLEX_A4)]
    published = shop_capabilities(settings, media_types=lambda: ("application/pdf",), printer_caps=caps)
    assert published.media == ("A4", "A3")  # Legal: no printer has it
    assert published.color == ("monochrome", "color")
    assert published.sides == ("one-sided", "two-sided-long-edge", "two-sided-short-edge")
    assert published.pages_per_sheet == (1, 2, 4)
    assert {p.media for p in published.prices.sheets} == {"A4", "A3"}
    only_mono = shop_capabilities(settings, media_types=lambda: (), printer_caps=caps[:1])
    assert only_mono.color == ("monochrome",) and only_mono.sides == ("one-sided",)
    assert shop_capabilities(settings, media_types=lambda: ()).media == ("A4", "A3", "Legal")  # none read yet


def test_old_single_printer_settings_keep_working_and_new_ones_round_trip(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text(json.dumps({"printer": {"kind": "ipp", "uri": "ipp://p:631/ipp/print"}}))
    old = load_settings(tmp_path)
    assert [(p.name, p.kind, p.uri) for p in old.all_printers()] == [("Printer 1", "ipp", "ipp://p:631/ipp/print")]
    new = old.replace(
        printers=(PrinterSettings(kind="cups", queue="laser", name="Laser"), PrinterSettings(kind="folder")),
        routes=(RouteRule("Laser", color="monochrome"),),
        stalled_after_seconds=120,
    )
    save_settings(tmp_path, new)
    again = load_settings(tmp_path)
    assert again == new and [p.name for p in again.all_printers()] == ["Laser", "Printer 2"]
    with pytest.raises(ConfigError, match="names no printer"):
        new.replace(routes=(RouteRule("Nobody"),))
    with pytest.raises(ConfigError, match="same name"):
        new.replace(printers=(PrinterSettings(name="A"), PrinterSettings(name="A")))


@pytest.mark.parametrize(
    ("state", "reasons", "words", "wait"),
    [
        (3, ["media-empty-report"], "The printer is out of paper", WaitReason.PRINTER_OUT_OF_PAPER),
        (5, ["media-jam-error"], "Paper is jammed in the printer", WaitReason.PRINTER_PAPER_JAM),
        (5, ["door-open-error"], "A printer door is open", WaitReason.PRINTER_DOOR_OPEN),
        (5, ["offline-report"], "The printer is offline", WaitReason.PRINTER_OFFLINE),
        (5, ["paused"], "The printer is paused", WaitReason.PRINTER_PAUSED),
        (3, ["toner-low-warning"], "Toner is low", None),
        (4, ["none"], "Printing", None),
    ],
)
def test_printer_health_in_plain_words(state: int, reasons: list[str], words: str, wait: WaitReason | None) -> None:
    health = health_from_attributes("Laser", {"printer-state": [state], "printer-state-reasons": reasons})
    assert health.words == words
    assert health.stopping_reason is wait and health.stopped is (wait is not None)
    assert "-" not in health.words.split(" - ")[0].replace("-sided", "")  # no IPP keyword on screen


def test_marker_levels_and_unreachable_in_words() -> None:
    health = health_from_attributes(
        "Colour",
        {
            "printer-state": [3],
            "printer-state-reasons": ["none"],
            "marker-names": ["Black toner", "Cyan toner"],
            "marker-levels": [4, 80],
            "marker-low-levels": [10, 10],
        },
    )
    assert health.low_supplies == (Marker("Black toner", 4, 10),)
    assert health.words == "Ready - Black toner is low (4%)" and not health.stopped
    gone = PrinterHealth("Laser", "unreachable")
    assert gone.stopping_reason is WaitReason.PRINTER_OFFLINE and "does not answer" in gone.words


# -- two real printers ---------------------------------------------------------------------------


@pytest.fixture
def two_printers() -> Iterator[tuple[IppPrinterProcess, IppPrinterProcess]]:
    """A colour two-sided A4 ippeveprinter and a black-and-white A3 one."""
    with tempfile.TemporaryDirectory(prefix="cloudtab-ipp2-") as tmp:
        (Path(tmp) / "colour").mkdir()
        (Path(tmp) / "mono").mkdir()
        colour, dbus_a = start_ipp_printer(Path(tmp) / "colour", "Colour Duplex")
        try:
            mono, dbus_b = start_ipp_printer(Path(tmp) / "mono", "Mono A3", attributes=MONO_A3_CONF)
        except BaseException:
            colour.stop()
            _kill(dbus_a)
            raise
        try:
            yield colour, mono
        finally:
            for printer, pid in ((colour, dbus_a), (mono, dbus_b)):
                printer.stop()
                _kill(pid)


@pytest.fixture
def customer(relay):  # type: ignore[no-untyped-def]
    channel = relay.channel()
    yield Customer(channel)
    channel.close()


def _two_printer_core(tmp_path: Path, relay: Any, colour: IppPrinterProcess, mono: IppPrinterProcess) -> Any:
    slug, code = relay.add_shop("Two Printers")
    core = KioskCore(tmp_path / "kiosk", print_timeout=60)
    core.health_poll = 0.3
    core.save_settings(
        core.settings.replace(
            printers=(
                PrinterSettings(kind="ipp", uri=mono.uri, name="Laser"),
                PrinterSettings(kind="ipp", uri=colour.uri, name="Colour"),
            ),
            routes=(RouteRule("Colour", color="color"), RouteRule("Laser", media="A3")),
            offer=Offer(media=("A4", "A3")),
        )
    )
    core.enroll(relay.address, code)
    return slug, core


def test_two_printers_route_publish_and_report_out_of_paper(relay, customer, tmp_path, two_printers) -> None:  # type: ignore[no-untyped-def]
    colour, mono = two_printers
    slug, core = _two_printer_core(tmp_path, relay, colour, mono)
    stopped: list[str] = []
    core.add_listener(lambda e: stopped.append(e.message) if e.kind == ev.PRINTER_STOPPED else None)
    try:
        core.start()
        caps = wait_for(lambda: all(core.printer_caps().values()) and core.printer_caps(), what="capabilities")
        assert caps["Laser"].media == ("A4", "A3") and caps["Laser"].color == ("monochrome",)
        assert caps["Colour"].color == ("monochrome", "color") and "two-sided-long-edge" in caps["Colour"].sides
        # the relay serves the union: A3 from one printer, colour and two-sided from the other
        shop = wait_for(
            lambda: (s := customer.shop(slug)).capabilities.media == ["A4", "A3"] and s, what="published union"
        )
        assert list(shop.capabilities.color) == ["monochrome", "color"]
        assert "two-sided-long-edge" in shop.capabilities.sides

        pdf = sample_pdf(1)
        a3 = customer.send(slug, [PlainFile("a3.pdf", "application/pdf", pdf)], options=envelope.JobOptions(media="A3"))
        col = customer.send(
            slug, [PlainFile("c.pdf", "application/pdf", pdf)], options=envelope.JobOptions(color="color")
        )
        for sent in (a3, col):
            wait_for(job_in(core, sent.job_id, LocalState.READY), what="ready")
        assert core.job_printer(a3.job_id) == "Laser" and core.job_printer(col.job_id) == "Colour"
        assert core.print_job(a3.job_id).state is PrintState.COMPLETED
        assert core.print_job(col.job_id).state is PrintState.COMPLETED
        assert [j.attributes["IPP_MEDIA"] for j in mono.wait_for_jobs(1)] == ["iso_a3_297x420mm"]
        assert [j.attributes["IPP_PRINT_COLOR_MODE"] for j in colour.wait_for_jobs(1)] == ["color"]
        # the shopkeeper sends the next print of the colour job to the laser instead
        core.choose_printer(col.job_id, "Laser")
        assert core.job_printer(col.job_id) == "Laser"

        # the colour printer runs out of paper; ippeveprinter then keeps a job processing until fed
        colour.set_paper(0)
        health = wait_for(
            lambda: (h := {x.name: x for x in core.printer_health()})["Colour"].stopped and h, what="out of paper"
        )
        assert health["Colour"].words == "The printer is out of paper" and not health["Laser"].stopped
        assert stopped == ["Colour"]
        waiting = customer.send(
            slug, [PlainFile("w.pdf", "application/pdf", pdf)], options=envelope.JobOptions(color="color")
        )
        wait_for(job_in(core, waiting.job_id, LocalState.READY), what="ready")
        result: list[Any] = []
        printing = threading.Thread(target=lambda: result.append(core.print_job(waiting.job_id)))
        printing.start()
        # the customer's side: the relay has the statement, the bridge's status JSON names the reason
        at_relay = wait_for(
            lambda: (j := customer.get(waiting)).kiosk_statement.wait_reason and j, what="wait reason at the relay"
        )
        assert at_relay.kiosk_statement.wait_reason == common_pb2.WAIT_REASON_PRINTER_OUT_OF_PAPER
        assert job_to_dict(at_relay)["statement"]["wait_reason"] == "printer_out_of_paper"
        assert core.job(waiting.job_id).state is LocalState.PRINTING
        assert core.cancel_print(waiting.job_id)
        printing.join(30)
        assert result and result[0].state is PrintState.FAILED
        # the print ended: the reason is taken back
        wait_for(lambda: not customer.get(waiting).kiosk_statement.wait_reason, what="wait reason cleared")
    finally:
        core.stop()


def test_a_print_not_finished_in_time_is_flagged_stalled(relay, customer, tmp_path, two_printers) -> None:  # type: ignore[no-untyped-def]
    colour, mono = two_printers
    slug, core = _two_printer_core(tmp_path, relay, colour, mono)
    try:
        core.start()
        core._settings = dataclasses.replace(core.settings, stalled_after_seconds=0)  # (>= 30 s when saved)
        sent = customer.send(slug, [PlainFile("s.pdf", "application/pdf", sample_pdf(1))])
        wait_for(job_in(core, sent.job_id, LocalState.READY), what="ready")
        mono.hold()
        result: list[Any] = []
        printing = threading.Thread(target=lambda: result.append(core.print_job(sent.job_id)))
        printing.start()
        wait_for(lambda: core.job(sent.job_id).stalled, what="stalled flag")
        wait_for(
            lambda: customer.get(sent).kiosk_statement.wait_reason == common_pb2.WAIT_REASON_PRINTING_SLOW,
            what="printing slow at the relay",
        )
        mono.hold(False)
        printing.join(30)
        assert result[0].state is PrintState.COMPLETED and not core.job(sent.job_id).stalled
    finally:
        mono.hold(False)
        core.stop()
