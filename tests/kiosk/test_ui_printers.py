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
