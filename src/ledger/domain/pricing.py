"""Pricing: versioned configuration of how usage becomes gross revenue (fixed rate, stream2own, sales).

Prices are never literals in code: each version is an event on the one PricingSchedule
aggregate, and every usage line records the version that priced it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import NAMESPACE
from ledger.domain.money import MICROS_PER_UNIT
from ledger.domain.party import DomainError

STREAM_MODELS = ("fixed_rate", "stream2own")
STREAM2OWN_PAID_PLAYS = 9  # the 9th counted play makes the listener an owner
PRICING_SCHEDULE_ID: UUID = uuid5(NAMESPACE, "pricing-schedule")


@dataclass(frozen=True)
class StreamRule:
    """Streams from `source` (None: any) in `territory` (None: any) are priced by `model`."""

    model: str
    source: str | None = None
    territory: str | None = None

    def matches(self, source: str, territory: str) -> bool:
        return self.source in (None, source) and self.territory in (None, territory)


@dataclass(frozen=True)
class PricingConfig:
    """One version's configuration; all amounts in micro-units of `stream_currency`."""

    stream_currency: str
    default_stream_model: str = "stream2own"
    rules: tuple[StreamRule, ...] = ()
    fixed_rate_default_micros: int = 0
    fixed_rate_by_territory: dict[str, int] = field(default_factory=dict)
    credit_micros: int = MICROS_PER_UNIT
    counted_after_seconds: int = 45
    min_price_by_release: dict[str, dict[str, int]] = field(default_factory=dict)
    # A release's minimum in one territory (UPC → territory → currency → micros), over its
    # minimum everywhere; set by the release's label in the dashboard or the API.
    min_price_by_release_territory: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    max_amount_micros: int = 10_000 * MICROS_PER_UNIT

    def validate(self) -> PricingConfig:
        models = [self.default_stream_model, *(r.model for r in self.rules)]
        bad = sorted(set(models) - set(STREAM_MODELS))
        if bad:
            raise DomainError(f"pricing: unknown stream model(s) {bad}; expected {STREAM_MODELS}")
        if self.credit_micros <= 0 or self.credit_micros % 1000:
            raise DomainError(
                "pricing: credit_micros must be a positive multiple of 1000, so that 2ⁿ "
                "thousandths of a credit are whole micro-units"
            )
        rates = [self.fixed_rate_default_micros, *self.fixed_rate_by_territory.values()]
        minimums = [m for per in self.min_price_by_release.values() for m in per.values()]
        minimums += [
            m
            for per in self.min_price_by_release_territory.values()
            for by_currency in per.values()
            for m in by_currency.values()
        ]
        if any(not isinstance(v, int) or v < 0 for v in (*rates, *minimums)):
            raise DomainError("pricing: rates and minimum prices are non-negative integer micros")
        if not 0 < self.counted_after_seconds <= 3600:
            raise DomainError("pricing: counted_after_seconds must be within 1…3600")
        if self.max_amount_micros <= 0:
            raise DomainError("pricing: max_amount_micros must be positive")
        return self

    def stream_model_for(self, source: str, territory: str) -> str:
        """The first matching rule wins; no rule matches → the default model."""
        for rule in self.rules:
            if rule.matches(source, territory):
                return rule.model
        return self.default_stream_model

    def fixed_rate_micros(self, territory: str) -> int:
        return self.fixed_rate_by_territory.get(territory, self.fixed_rate_default_micros)

    def minimum_price(self, upc: str, currency: str, territory: str | None = None) -> int:
        """The release's minimum in `territory` when one is set there, else its minimum everywhere."""
        if territory is not None:
            local = self.min_price_by_release_territory.get(upc, {}).get(territory, {})
            if currency in local:
                return local[currency]
        return self.min_price_by_release.get(upc, {}).get(currency, 0)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rules"] = [asdict(r) for r in self.rules]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PricingConfig:
        values = dict(data)
        values["rules"] = tuple(StreamRule(**r) for r in values.get("rules", ()))
        try:
            return cls(**values).validate()
        except TypeError as exc:
            raise DomainError(f"pricing: {exc}") from None


def stream2own_price_micros(play_number: int, credit_micros: int) -> int:
    """The n-th counted play costs 2ⁿ thousandths of a credit for n = 1…9, nothing after."""
    if 1 <= play_number <= STREAM2OWN_PAID_PLAYS:
        return int(2**play_number) * credit_micros // 1000
    return 0


class PricingSchedule(Aggregate):
    """The one aggregate holding every pricing version, in order."""

    @staticmethod
    def create_id(**_: Any) -> Any:
        return PRICING_SCHEDULE_ID

    @event("Opened")
    def __init__(self, actor: str) -> None:
        self.versions: list[dict[str, Any]] = []

    def set_version(self, config: PricingConfig, reason: str, actor: str) -> int:
        config.validate()
        self._version_set(number=len(self.versions) + 1, config=config.to_dict(), reason=reason, actor=actor)
        return len(self.versions)

    @event("VersionSet")
    def _version_set(self, number: int, config: dict[str, Any], reason: str, actor: str) -> None:
        self.versions.append({"version": number, "config": config, "reason": reason, "actor": actor})

    def current(self) -> tuple[int, PricingConfig] | None:
        if not self.versions:
            return None
        latest = self.versions[-1]
        return latest["version"], PricingConfig.from_dict(latest["config"])
