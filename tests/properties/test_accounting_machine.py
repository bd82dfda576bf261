"""A Hypothesis state machine drives usage, split changes, disputes, closes and payouts against a
small reference model, and after every step checks: money conserved per currency (at head and
at every close), every issued statement replays to its recorded hash, and the ledger's totals
equal the reference's — which allocates each key from its rows, knowing nothing of batches.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ledger.application import RoyaltyLedger
from ledger.domain.money import allocate_largest_remainder
from ledger.domain.party import DomainError
from ledger.domain.period import Period
from ledger.royalties import to_us
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations
from projections.statements.close import close_period, engine_for, replay_period
from projections.statements.money import verify_money_equation
from projections.statements.payouts import payable, record_payout_checked
from tests.accounting_fixtures import Play, insert_usage
from tests.strategies import ppm_shares

ISRCS = ("USRC17607839", "GBAYE0601498")
PARTIES = ("party-00", "party-01", "party-02", "party-03", "claimant")
MONTHS = [Period(2026, m) for m in (1, 2, 3)]
PIE = (300_000, 700_000, 0)  # platform, master, publishing: no works, so no publishing cut


class Reference:
    """Obviously-correct (slow) statement arithmetic straight from the rows and the rules."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, str, str, str, int]] = []  # pos, t, isrc, cur, kind, gross
        self.versions: dict[str, list[tuple[int, int, dict[str, int]]]] = {i: [] for i in ISRCS}
        self.disputes: dict[str, dict[str, object]] = {}

    def version(self, isrc: str, t: int, as_of: int) -> tuple[int, int, dict[str, int]] | None:
        known = [v for v in self.versions[isrc] if v[0] <= as_of and v[1] <= t]
        return max(known, key=lambda v: (v[1], v[0])) if known else None

    def claims(self, isrc: str, t: int, as_of: int, activated: int) -> list[dict[str, object]]:
        out = []
        for d in sorted(self.disputes.values(), key=lambda d: d["opened"]):  # type: ignore[arg-type, return-value]
            resolved = d["resolved"] if d["resolved"] is not None and d["resolved"] <= as_of else None  # type: ignore[operator]
            if (
                d["isrc"] == isrc
                and d["opened"] <= as_of
                and d["effective"] <= t
                and (  # type: ignore[operator]
                    resolved is None or activated < resolved  # type: ignore[operator]
                )
            ):
                out.append({**d, "state": d["outcome"] if resolved is not None else None})
        return out

    def allocate(self, gross: int, shares: dict[str, int], claims: list[dict[str, object]]) -> dict[str, int]:
        pie = allocate_largest_remainder(gross, [("platform", PIE[0]), ("master", PIE[1]), ("publishing", PIE[2])])
        out = {"platform": pie["platform"]}
        weights = dict(shares)
        held = []
        for c in claims:
            resp, claimed = c["respondent"], int(c["claimed"])  # type: ignore[call-overload]
            if resp in weights and weights[resp] > 0 and resp != c["claimant"]:  # type: ignore[index, operator]
                taken = {resp: min(claimed, weights[resp])}  # type: ignore[index, dict-item]
            else:
                holders = sorted((p, s) for p, s in weights.items() if p != c["claimant"] and s > 0)
                want = min(claimed, sum(s for _, s in holders))
                taken = allocate_largest_remainder(want, holders) if want else {}
            for p, v in taken.items():
                weights[p] -= v
            held.append((c, taken))
        accounts = {f"party:{p}": s for p, s in weights.items() if s > 0}
        accounts |= {f"escrow:{c['id']}": sum(t.values()) for c, t in held if sum(t.values())}
        parts = allocate_largest_remainder(pie["master"], sorted(accounts.items()))
        for c, taken in held:
            key = f"escrow:{c['id']}"
            if c["state"] is None or key not in parts:
                continue
            escrowed = parts.pop(key)
            if c["state"] == "upheld":
                parts[f"party:{c['claimant']}"] = parts.get(f"party:{c['claimant']}", 0) + escrowed
            else:
                for p, v in allocate_largest_remainder(escrowed, sorted(taken.items())).items():
                    parts[f"party:{p}"] = parts.get(f"party:{p}", 0) + v
        for a, v in parts.items():
            out[a] = out.get(a, 0) + v
        return out

    def totals(self, period: Period, as_of: int) -> dict[tuple[str, str], int]:
        keys: dict[tuple[object, ...], int] = {}
        contexts: dict[tuple[object, ...], tuple[dict[str, int] | None, list[dict[str, object]]]] = {}
        for pos, t, isrc, cur, kind, gross in self.rows:
            if pos > as_of or not to_us(period.start) <= t < to_us(period.end):
                continue
            v = self.version(isrc, t, as_of)
            claims = self.claims(isrc, t, as_of, v[0]) if v else []
            key = (cur, isrc, kind, v[0] if v else None, tuple((c["id"], c["state"]) for c in claims))
            keys[key] = keys.get(key, 0) + gross
            contexts[key] = (v[2] if v else None, claims)
        out: dict[tuple[str, str], int] = {}
        for key, signed in keys.items():
            shares, claims = contexts[key]
            gross, sign = (-signed, -1) if key[2] == "refund" else (signed, 1)  # refunds: LR(|G|), negated
            if shares is None:
                pie = allocate_largest_remainder(
                    gross, [("platform", PIE[0]), ("master", PIE[1]), ("publishing", PIE[2])]
                )
                parts = {"platform": pie["platform"], "suspense:no-master-split": pie["master"]}
            else:
                parts = self.allocate(gross, shares, claims)
            for a, v in parts.items():
                if v:
                    out[(str(key[0]), a)] = out.get((str(key[0]), a), 0) + sign * v
        return {k: v for k, v in out.items() if v}


class AccountingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.config = StoreConfig.from_url(str(Path(self.tmp.name) / "r.db"))
        apply_migrations(self.config)
        self.app = RoyaltyLedger(self.config, clock=lambda: datetime(2027, 1, 1, tzinfo=UTC))
        self.ref = Reference()
        self.closed: list[Period] = []
        self.serial = 0
        for party in PARTIES:
            self.app.upsert_party(party, party, ["artist"], "t")
        for isrc in ISRCS:
            self.app.upsert_recording(isrc, isrc, "x", 1000, "t")
        self.app.set_rights_pie(
            {"*:*": dict(zip(("platform", "master", "publishing"), PIE, strict=True))},
            datetime(2020, 1, 1, tzinfo=UTC),
            "fixed",
            "t",
        )
        for index, isrc in enumerate(ISRCS):
            self.split_change(isrc, {f"party-0{index}": 500_000, "party-03": 500_000}, 0, 0)

    def teardown(self) -> None:
        self.app.close()
        self.tmp.cleanup()

    @rule(
        isrc=st.sampled_from(ISRCS),
        month=st.integers(0, 2),
        day=st.integers(0, 27 * 24),
        currency=st.sampled_from(["EUR", "USD"]),
        grosses=st.lists(st.integers(-2_000_000, 9_000_000), min_size=1, max_size=4),
    )
    def plays(self, isrc, month, day, currency, grosses):
        at = MONTHS[month].start + timedelta(hours=day)
        plays = []
        for gross in grosses:
            self.serial += 1
            plays.append(Play(f"u{self.serial}", isrc, at, gross, currency, kind="refund" if gross < 0 else "stream"))
        position = self.app.head_position()
        insert_usage(self.config, position, plays)
        for p in plays:
            self.ref.rows.append((position, to_us(at), isrc, currency, p.kind, p.gross_micros))

    @rule(
        isrc=st.sampled_from(ISRCS), shares=ppm_shares(max_parties=3), month=st.integers(0, 2), day=st.integers(0, 27)
    )
    def split_change(self, isrc, shares, month, day):
        named = {PARTIES[int(k[-2:])] if k.startswith("party-") else k: v for k, v in shares.items()}
        effective = MONTHS[month].start + timedelta(days=day)
        self.app.set_split("master", isrc, named, effective, "t", "change")
        self.ref.versions[isrc].append((self.app.head_position(), to_us(effective), named))

    @rule(
        isrc=st.sampled_from(ISRCS),
        respondent=st.sampled_from(PARTIES[:4]),
        claimed=st.integers(1, 1_000_000),
        month=st.integers(0, 2),
        day=st.integers(0, 27),
    )
    def open_dispute(self, isrc, respondent, claimed, month, day):
        effective = MONTHS[month].start + timedelta(days=day)
        try:
            d = self.app.open_dispute(
                "master", isrc, "claimant", claimed, effective, "mine", "t", respondent=respondent, by_operator=True
            )
        except DomainError as refused:  # a claim over what the respondent ever holds from then on
            assert "holds" in str(refused)
            return
        self.ref.disputes[str(d.id)] = {
            "id": str(d.id),
            "isrc": isrc,
            "claimant": "claimant",
            "respondent": respondent,
            "claimed": claimed,
            "effective": to_us(effective),
            "opened": self.app.head_position(),
            "resolved": None,
            "outcome": None,
        }

    @precondition(lambda self: any(d["resolved"] is None for d in self.ref.disputes.values()))
    @rule(data=st.data(), outcome=st.sampled_from(["upheld", "rejected"]))
    def resolve_dispute(self, data, outcome):
        open_ = sorted(k for k, d in self.ref.disputes.items() if d["resolved"] is None)
        dispute = data.draw(st.sampled_from(open_))
        self.app.resolve_dispute(UUID(dispute), outcome, "decided", "t")
        self.ref.disputes[dispute].update(resolved=self.app.head_position(), outcome=outcome)

    @precondition(lambda self: len(self.closed) < len(MONTHS))
    @rule()
    def close_next_month(self):
        period = MONTHS[len(self.closed)]
        close_period(self.app, self.config, period, "t")
        self.closed.append(period)

    @precondition(lambda self: bool(self.closed))
    @rule(party=st.sampled_from(PARTIES), currency=st.sampled_from(["EUR", "USD"]))
    def payout(self, party, currency):
        available = payable(engine_for(self.app, self.config).history, party, currency)
        if available.payable_micros > 0:
            record_payout_checked(self.app, party, available.payable_micros, currency, "t", minimum_micros=0)

    @invariant()
    def money_is_conserved_at_head_and_at_every_close(self):
        audit = verify_money_equation(self.app, self.config)
        assert audit["ok"], [c for c in audit["checks"] if not c["ok"]]

    @invariant()
    def every_issued_statement_replays_to_its_hash(self):
        for period in self.closed:
            assert replay_period(self.app, self.config, period).ok

    @invariant()
    def totals_equal_the_reference_whatever_the_batches(self):
        engine = engine_for(self.app, self.config)
        head = self.app.head_position()
        for period in MONTHS:
            result = engine.period_result(period, head)
            ours = {
                (cur, account): total
                for account in result.lines
                for cur, total in result.totals(account).items()
                if total
            }
            assert ours == self.ref.totals(period, head), period


AccountingMachine.TestCase.settings = settings(
    max_examples=10,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_accounting_machine = AccountingMachine.TestCase
