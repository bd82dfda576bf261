"""`royalty pools compare`: what every party would receive from the period's pools under each
rule, side by side, from the same data as known at the same position.

Each column distributes the same contributions (so every column's total is the same: the pools'
money of the period) and takes the recording money through the same rights pie and splits as a
statement does. "configured" is the rule version in force; "pro-rata", "user-centric" and
"equal-share" are those methods alone with the configured rule's fallback, eligible parties,
minimum plays and play scope (no floor, no cap). Equal share needs eligible parties: without
them its column is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.domain.period import Period
from ledger.domain.pool import METHODS, validate_rule
from ledger.pools.facts import PoolFact, RuleFact
from ledger.royalties import RightsHistory
from ledger.store.config import StoreConfig
from projections.statements.compute import PeriodResult
from projections.statements.pools import add_pool_lines, pool_periods

CONFIGURED = "configured"


def _pure(method: str) -> Any:
    def override(pool: PoolFact, fact: RuleFact | None) -> RuleFact:
        base = fact.rule if fact is not None else {}
        eligible = list(base.get("eligible", []))
        rule = {
            "method": method,
            "fallback": base.get("fallback", "pro-rata"),
            "eligible": eligible,
            "min_plays": base.get("min_plays", 0),
            "plays": base.get("plays", "contributors" if pool.kind == "subscription" else "all"),
        }
        return RuleFact(
            0, fact.version if fact else 0, str(fact.effective_from if fact else ""), validate_rule(rule, pool.kind)
        )

    return override


@dataclass
class Comparison:
    period: str
    as_of: int
    rules: list[str]
    pools: list[dict[str, Any]] = field(default_factory=list)
    # account → currency → rule → micro-units
    accounts: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)  # currency → rule → micro-units

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "as_of_position": self.as_of,
            "rules": self.rules,
            "pools": self.pools,
            "accounts": [
                {"account": account, "currency": cur, "micros": by_rule}
                for account, per in sorted(self.accounts.items())
                for cur, by_rule in sorted(per.items())
            ],
            "totals": self.totals,
            "equal_totals": all(len(set(by_rule.values())) == 1 for by_rule in self.totals.values()),
        }


def compare_pools(config: StoreConfig, history: RightsHistory, period: Period, as_of: int) -> Comparison:
    facts = [history.pools.rule_for(p.key, period, as_of) for p in history.pools.pools_as_of(as_of)]
    equal = all(f is not None and f.rule["eligible"] for f in facts)
    columns: dict[str, Any] = {CONFIGURED: None, **{m: _pure(m) for m in METHODS if m != "equal-share" or equal}}
    out = Comparison(str(period), as_of, [])
    for name, override in columns.items():
        periods = pool_periods(config, history, period, as_of, override)
        out.rules.append(name)
        if name == CONFIGURED:
            out.pools = [
                {
                    "pool": p.pool.key,
                    "kind": p.pool.kind,
                    "currency": p.pool.currency,
                    "rule_version": p.version,
                    "method": p.method,
                    "contributed_micros": p.inputs.untargeted + sum(p.inputs.targeted.values()),
                    "subscribers": p.inputs.uc.subscribers,
                    "counted_plays": sum(p.inputs.plays.values()),
                    "recordings": len(p.inputs.plays),
                }
                for p in periods
            ]
        result = PeriodResult(period, as_of)
        add_pool_lines(config, history, result, periods)
        for account in result.lines:
            for cur, micros in result.totals(account).items():
                out.accounts.setdefault(account, {}).setdefault(cur, {})[name] = micros
                out.totals.setdefault(cur, {})
                out.totals[cur][name] = out.totals[cur].get(name, 0) + micros
    for per in out.accounts.values():
        for by_rule in per.values():
            for name in out.rules:
                by_rule.setdefault(name, 0)
    return out
