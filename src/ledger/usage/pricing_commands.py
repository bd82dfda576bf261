"""Pricing commands on the ledger application: record a pricing version, read the one in force."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from ledger.domain.money import MICROS_PER_UNIT
from ledger.domain.pricing import PRICING_SCHEDULE_ID, PricingConfig, PricingSchedule, StreamRule


class PricingCommands:
    """Mixed into RoyaltyLedger; the eventsourcing Application provides these two."""

    repository: Any
    save: Callable[..., Any]

    def _pricing_schedule(self) -> PricingSchedule | None:
        try:
            schedule = self.repository.get(PRICING_SCHEDULE_ID)
        except AggregateNotFoundError:
            return None
        assert isinstance(schedule, PricingSchedule)
        return schedule

    def set_pricing(self, config: PricingConfig, reason: str, actor: str) -> int:
        """Record a new pricing version; usage accepted from now on is priced by it."""
        config.validate()
        schedule = self._pricing_schedule() or PricingSchedule(actor=actor)
        current = schedule.current()
        if current is not None and current[1] == config:
            return current[0]
        number = schedule.set_version(config, reason, actor)
        self.save(schedule)
        return number

    def current_pricing(self) -> tuple[int, PricingConfig] | None:
        schedule = self._pricing_schedule()
        return schedule.current() if schedule else None

    def pricing_history(self) -> list[dict[str, Any]]:
        schedule = self._pricing_schedule()
        return list(schedule.versions) if schedule else []


def demo_pricing(currency: str = "EUR") -> PricingConfig:
    """A starting configuration for the demo and tests: stream2own everywhere except the
    `radio` source (fixed rate), 1 credit = 1 unit of `currency`."""
    return PricingConfig(
        stream_currency=currency,
        default_stream_model="stream2own",
        rules=(StreamRule(model="fixed_rate", source="radio"),),
        fixed_rate_default_micros=3_000,
        fixed_rate_by_territory={"US": 4_000, "GB": 3_500},
        credit_micros=MICROS_PER_UNIT,
    ).validate()
