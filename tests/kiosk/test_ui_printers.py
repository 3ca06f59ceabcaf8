"""The settings screen's routing rows (kiosk/ui/printers.py), without a window."""

from __future__ import annotations

from kiosk.core.config import PrinterSettings, RouteRule, Settings


def test_settings_routing_rows_round_trip() -> None:
    """The settings screen's three rows (A3, colour, black-and-white) read and write RouteRules."""
    from kiosk.ui.printers import ANY, routes_from, rule_choices

    settings = Settings(
        printers=(PrinterSettings(name="Laser"), PrinterSettings(name="Colour")),
        routes=(RouteRule("Laser", sides="two-sided"), RouteRule("Colour", color="color")),
    )
    names, choices, others = rule_choices(settings)
    assert names == ["Laser", "Colour"] and choices == [ANY, "Colour", ANY]
    assert others == (RouteRule("Laser", sides="two-sided"),)
    routes = routes_from(names, ["Laser", "Colour", "Laser"], others)
    assert routes == (
        RouteRule("Laser", media="A3"),
        RouteRule("Colour", color="color"),
        RouteRule("Laser", color="monochrome"),
        RouteRule("Laser", sides="two-sided"),
    )
    settings.replace(routes=routes)  # valid
    assert rule_choices(Settings())[0] == []  # one printer: no rows shown


def test_printer_list_add_and_remove() -> None:
    """Settings > Printers: add by queue or ipp:// address, plain-word refusals, removing drops its rules."""
    import pytest

    from kiosk.core.errors import ConfigError
    from kiosk.core.printing.printer_list import add_printer, remove_printer
    from kiosk.ui.printers import ANY, rule_choices

    one = Settings()  # an old single-printer kiosk: its printer becomes "Printer 1" in the list
    two = add_printer(one, " Colour ", "ipp://192.0.2.7:631/ipp/print")
    assert [(p.name, p.kind, p.uri) for p in two.all_printers()] == [
        ("Printer 1", "folder", ""),
        ("Colour", "ipp", "ipp://192.0.2.7:631/ipp/print"),
    ]
    three = add_printer(two, "Laser", "Back_Room").replace(
        routes=(RouteRule("Colour", color="color"), RouteRule("Laser", media="A3"))
    )
    assert three.all_printers()[2] == PrinterSettings(kind="cups", queue="Back_Room", name="Laser")
    for name, address, words in (
        ("laser", "Other", "already a printer called laser"),
        ("", "Other", "Type a name"),
        ("Spare", "", "queue name or the printer's address"),
        ("Spare", "back room", "neither a queue name"),
        ("Spare", "http://printer/ipp", "neither a queue name"),
    ):
        with pytest.raises(ConfigError, match=words):
            add_printer(three, name, address)
    fewer = remove_printer(three, "Colour")
    assert [p.name for p in fewer.all_printers()] == ["Printer 1", "Laser"]
    assert fewer.routes == (RouteRule("Laser", media="A3"),)
    assert rule_choices(fewer)[1] == ["Laser", ANY, ANY]  # the colour row falls back to any printer
    only = remove_printer(fewer, "Printer 1")
    assert only.printer.kind == "cups" and only.printer.queue == "Back_Room"  # the default follows the list
    with pytest.raises(ConfigError, match="at least one printer"):
        remove_printer(only, "Laser")
    with pytest.raises(ConfigError, match="no printer called"):
        remove_printer(fewer, "Colour")
