"""GCS bucket lifecycle rule for the relay's blobs: a production backstop only.

The relay's own reaper deletes finished and abandoned uploads; this rule deletes
whatever it missed after N days. Pure functions, so the merge is tested directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def delete_rule(days: int, prefix: str) -> dict[str, Any]:
    """The rule "delete objects under ``prefix`` older than ``days``" (whole bucket if "").

    Raises:
        ValueError: ``days`` < 1.
    """
    if days < 1:
        raise ValueError("lifecycle days must be >= 1")
    condition: dict[str, Any] = {"age": days}
    if prefix:
        condition["matchesPrefix"] = [prefix]
    return {"action": {"type": "Delete"}, "condition": condition}


def merge_delete_rule(existing: Iterable[Mapping[str, Any]], days: int, prefix: str) -> list[dict[str, Any]] | None:
    """Rules with our delete rule in place, or None when it is already there.

    An older rule of ours (same prefix, only age/prefix conditions) is replaced;
    every other rule on the bucket is kept as it is.

    Raises:
        ValueError: ``days`` < 1.
    """
    wanted = delete_rule(days, prefix)
    rules = [dict(rule) for rule in existing]
    if wanted in rules:
        return None
    ours = wanted["condition"].get("matchesPrefix")
    kept = [
        rule
        for rule in rules
        if not (
            rule.get("action", {}).get("type") == "Delete"
            and rule.get("condition", {}).get("matchesPrefix") == ours
            and set(rule.get("condition", {})) <= {"age", "matchesPrefix"}
        )
    ]
    return [*kept, wanted]
