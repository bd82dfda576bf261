"""Availability: takedowns and reinstatements, global or by territory, effective from an instant.

Both Recording and Release carry this history; a play of a taken-down recording after the
takedown's effective time is quarantined with the reason, never dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

WORLDWIDE = "WW"


def is_available(history: list[dict[str, Any]], territory: str, at: datetime) -> str | None:
    """None if available at `at` in `territory`, else the reason of the takedown in force."""
    blocked: str | None = None
    for change in sorted(history, key=lambda c: (c["effective_at"], c["seq"])):
        if change["effective_at"] > at:
            break
        if WORLDWIDE not in change["territories"] and territory not in change["territories"]:
            continue
        blocked = change["reason"] if change["action"] == "takedown" else None
    return blocked


class HasAvailability:
    """Mixin state and folding for takedown history; the aggregates declare the events."""

    availability: list[dict[str, Any]]

    def _record_availability(
        self, action: str, territories: list[str], reason: str, effective_at: datetime, actor: str
    ) -> None:
        self.availability.append(
            {
                "action": action,
                "territories": territories,
                "reason": reason,
                "effective_at": effective_at,
                "actor": actor,
                "seq": len(self.availability),
            }
        )

    def unavailable_reason(self, territory: str, at: datetime) -> str | None:
        return is_available(self.availability, territory, at)
