"""Which printer a job goes to: the shopkeeper's rules on the job's options, then what each printer can do.

Domain only. Rules (kiosk.core.config.RouteRule) are tried in order; the
first that matches the options and names a printer able to print them wins.
Otherwise the first printer that can print them, otherwise the default (the
first printer). A printer whose capabilities are not known yet counts as able.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kiosk.core.config import RouteRule
from kiosk.core.options import PrintOptions
from kiosk.core.printing.caps import PrinterCaps


def rule_matches(rule: RouteRule, options: PrintOptions) -> bool:
    """Whether every word the rule sets equals the options' ('two-sided' covers both edges)."""
    if rule.color and rule.color != options.color:
        return False
    if rule.media and rule.media != options.media:
        return False
    if rule.sides == "one-sided" and options.sides != "one-sided":
        return False
    return not (rule.sides == "two-sided" and options.sides == "one-sided")


def route(
    options: PrintOptions,
    printers: Sequence[str],
    caps: Mapping[str, PrinterCaps | None],
    rules: Sequence[RouteRule] = (),
) -> str:
    """The name of the printer for a job with these options (``printers`` in settings order, non-empty)."""

    def able(name: str) -> bool:
        known = caps.get(name)
        return known is None or known.supports(options)

    for rule in rules:
        if rule.printer in printers and rule_matches(rule, options) and able(rule.printer):
            return rule.printer
    for name in printers:
        if able(name):
            return name
    return printers[0]
