"""Sales reports from other services, end to end on SQLite and PostgreSQL (issue 20).

Hand-computed with the pie of tests/reports_helpers.py: a master right pays the platform 15 %
(its distribution fee under the source's rule "master:*") and the split 85 %; R1's master is
a 50 % / b 50 %, R2's is c 100 %. The store CSV (docs/examples/reports/store-2026-01.csv),
converted to EUR, USD at the configured 0.92:
  FR R1 net 2.079000 EUR → platform 311 850, a 883 575, b 883 575
  US R1 net 0.900000 USD → 0.828000 EUR → platform 124 200, a 351 900, b 351 900
  DE "PX-1002" (no ISRC, nothing knows it) → suspense:unmatched-report 1 386 000
  BADISRC, territory XX → quarantined with their reasons.
"""

from __future__ import annotations

import sqlite3

import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.party import DomainError
from ledger.domain.period import Period
from ledger.reports.commands import link_identifier, set_rates
from ledger.reports.importer import UnreadableReport, import_report
from ledger.reports.queries import list_quarantine, list_reports
from ledger.reports.store import unpack_block
from ledger.reports.verify import verify_reports
from ledger.royalties import read_rights_history
from ledger.store.config import StoreConfig
from ledger.usage.store import UsageStore
from projections.statements.close import close_period, engine_for, replay_period
from projections.statements.money import verify_money_equation
from projections.statements.reports_queue import matching_queue
from projections.statements.statement import build_statement
from tests.reports_helpers import FIXTURES, R2, T, account_totals, catalogue, live_totals

JAN, FEB = Period(2026, 1), Period(2026, 2)
STORE = (FIXTURES / "store-2026-01.csv").read_bytes()
DSR = (FIXTURES / "wavestream-2026-01.tsv").read_bytes()


def _ledger(config: StoreConfig) -> RoyaltyLedger:
    ledger = RoyaltyLedger(config, clock=lambda: T(2026, 2, 10))
    catalogue(ledger)
    set_rates(ledger, {"USD/EUR": "0.92"}, T(2025, 1, 1), "ECB reference rate (test)", "t")
    return ledger


@pytest.fixture
def app(store_config: StoreConfig):
    """Both backends: the import, the supersession and the append-only tables run on each."""
    ledger = _ledger(store_config)
    yield ledger
    ledger.close()


@pytest.fixture
def sqlite_app(sqlite_config: StoreConfig):
    """Matching and the queue are the same queries on both backends (exercised above): SQLite only,
    for the suite's time."""
    ledger = _ledger(sqlite_config)
    yield ledger
    ledger.close()


def test_a_store_csv_is_matched_converted_and_distributed_to_the_micro_unit(app):
    result = import_report(app, STORE, source="store", actor="t", file_name="store.csv")
    assert result.lines == 3
    assert result.quarantined == {"malformed_isrc": 1, "unknown_territory": 1}
    assert result.totals["EUR"] == {
        "gross": 2_970_000 + 1_980_000,
        "net": 2_079_000 + 1_386_000,
        "service_fee": 1_485_000,
    }
    assert result.conversions == [
        {
            "currency": "USD",
            "target_currency": "EUR",
            "rate": "0.92",
            "origin": "rates:1",
            "lines": 1,
            "net_micros": 900_000,
            "converted_micros": 828_000,
            "fx_rest": "0/1",
        }
    ]
    assert account_totals(app, [JAN]) == {
        ("platform", "EUR"): 311_850 + 124_200,
        ("party:a", "EUR"): 883_575 + 351_900,
        ("party:b", "EUR"): 883_575 + 351_900,
        ("suspense:unmatched-report", "EUR"): 1_386_000,
    }
    assert live_totals(app) == account_totals(app, [JAN])  # live earnings include it at once
    # a's statement shows, beside its `master@store` lines, the report: original totals, the
    # service's fee, the rate and the converted amount (display-only, not hashed).
    doc = build_statement(engine_for(app, app.config), "party:a", JAN, app.head_position())
    [shown] = doc["sales_reports"]
    assert (shown["source"], shown["report_id"], shown["lines_in_period"]) == ("store", result.report_id, 3)
    assert shown["totals_micros"]["USD"] == {"gross": 1_290_000, "net": 900_000, "service_fee": 390_000}
    assert [(c["rate"], c["net_micros"], c["converted_micros"]) for c in shown["conversions"]] == [
        ("0.92", 900_000, 828_000)
    ]
    reasons = {q["line_no"]: (q["reason"], q["detail"]) for q in list_quarantine(app)}
    assert reasons[4] == ("malformed_isrc", "ISRC 'BADISRC'")
    assert reasons[5][0] == "unknown_territory" and "XX" in reasons[5][1]
    assert verify_money_equation(app, app.config)["ok"]
    assert verify_reports(app).ok  # the lines hash to the event's digest as stored on this backend


def test_re_importing_a_report_changes_nothing(sqlite_app):
    app = sqlite_app
    first = import_report(app, STORE, source="store", actor="t")
    head = app.head_position()
    again = import_report(app, STORE, source="store", actor="t")
    assert again.already_imported and again.report_id == first.report_id and again.position is None
    assert app.head_position() == head
    assert len(list_reports(app)) == 1
    assert len(list_quarantine(app)) == 2


def test_a_dsr_matches_by_isrc_and_spreads_a_release_line_over_its_tracks(sqlite_app):
    app = sqlite_app
    result = import_report(app, DSR, source="wavestream", actor="t", file_name="wavestream.tsv")
    assert result.period == "2026-01" and result.lines == 4 and result.quarantined == {}
    # EUR: R1 FR 3.5; R2 FR 0.525 (resource block of R2's ISRC); the UPC line 0.175 spread over
    # R1 and R2 (87 500 each); USD 1.75 → 1.61 EUR for R1 US.
    # R1 FR G = 3 587 500: platform 538 125, master 3 049 375 → a 1 524 688 (the tie's micro-unit
    # goes to the account that sorts first), b 1 524 687. R1 US G = 1 610 000: platform 241 500,
    # a 684 250, b 684 250. R2 FR G = 612 500: platform 91 875, c 520 625.
    assert account_totals(app, [JAN]) == {
        ("platform", "EUR"): 538_125 + 241_500 + 91_875,
        ("party:a", "EUR"): 1_524_688 + 684_250,
        ("party:b", "EUR"): 1_524_687 + 684_250,
        ("party:c", "EUR"): 520_625,
    }
    assert live_totals(app) == account_totals(app, [JAN])
    assert verify_money_equation(app, app.config)["ok"]


def test_a_dsr_whose_summary_does_not_add_up_is_refused_whole(sqlite_app):
    app = sqlite_app
    broken = DSR.replace(b"\t6.000000\t4.200000", b"\t6.000001\t4.200000")
    head = app.head_position()
    with pytest.raises(UnreadableReport, match="summary 1"):
        import_report(app, broken, source="wavestream", actor="t")
    assert app.head_position() == head


def test_an_operator_links_an_unmatched_line_once_and_the_source_remembers_it(sqlite_app):
    app = sqlite_app
    import_report(app, STORE, source="store", actor="t")
    history = read_rights_history(app)
    queue = matching_queue(app.config, history, app.head_position())
    assert [(e["link_kind"], e["link_value"], e["reason"], e["amount_micros"]) for e in queue] == [
        ("proprietary_id", "PX-1002", "unknown_proprietary_id", {"EUR": 1_386_000})
    ]
    assert queue[0]["suggestions"] == [R2]  # same title: offered, never applied by itself
    assert account_totals(app, [JAN])[("suspense:unmatched-report", "EUR")] == 1_386_000
    assert link_identifier(app, "store", "proprietary_id", "PX-1002", R2, "same title, checked", "op")
    assert not link_identifier(app, "store", "proprietary_id", "PX-1002", R2, "again", "op")
    totals = account_totals(app, [JAN])
    assert ("suspense:unmatched-report", "EUR") not in totals
    assert totals[("party:c", "EUR")] == 1_178_100 and totals[("platform", "EUR")] == 311_850 + 124_200 + 207_900
    assert matching_queue(app.config, read_rights_history(app), app.head_position()) == []
    assert live_totals(app) == totals  # the link moved the live figures too
    with pytest.raises(DomainError):
        link_identifier(app, "nosuch", "proprietary_id", "PX-1002", R2, "", "op")


def test_a_link_after_the_close_releases_suspense_through_adjustments_and_replay_still_matches(sqlite_app):
    app = sqlite_app
    import_report(app, STORE, source="store", actor="t")
    close_period(app, app.config, JAN, "acct")
    link_identifier(app, "store", "proprietary_id", "PX-1002", R2, "found it", "op")
    engine = engine_for(app, app.config)
    head = app.head_position()
    adjustments = {
        account: sum(
            a["amount_micros"]
            for sec in build_statement(engine, account, FEB, head)["currencies"].values()
            for a in sec["adjustments"]
        )
        for account in ("party:c", "platform", "suspense:unmatched-report")
    }
    assert adjustments == {"party:c": 1_178_100, "platform": 207_900, "suspense:unmatched-report": -1_386_000}
    assert replay_period(app, app.config, JAN).ok


def test_a_corrected_report_supersedes_the_old_one_with_adjustments_equal_to_the_difference(app):
    first = import_report(app, STORE, source="store", actor="t")
    close_period(app, app.config, JAN, "acct")
    corrected = STORE.replace(b"2.97,2.079,EUR", b"2.97,2.179,EUR")
    with pytest.raises(DomainError, match="not on record"):
        import_report(app, corrected, source="store", actor="t", supersedes="00000000-0000-0000-0000-000000000000")
    second = import_report(app, corrected, source="store", actor="t", supersedes=first.report_id)
    assert second.supersedes == first.report_id.replace("-", "")
    with pytest.raises(DomainError, match="already superseded"):
        import_report(app, STORE + b"\n", source="store", actor="t", supersedes=first.report_id)
    # FR key 2 079 000 → 2 179 000: platform 311 850 → 326 850, a and b 883 575 → 926 075.
    engine = engine_for(app, app.config)
    head = app.head_position()
    adjustments = {}
    for account in ("platform", "party:a", "party:b", "suspense:unmatched-report"):
        doc = build_statement(engine, account, FEB, head)
        adjustments[account] = sum(a["amount_micros"] for s in doc["currencies"].values() for a in s["adjustments"])
    assert adjustments == {"platform": 15_000, "party:a": 42_500, "party:b": 42_500, "suspense:unmatched-report": 0}
    assert sum(adjustments.values()) == 100_000
    assert replay_period(app, app.config, JAN).ok
    assert live_totals(app) == account_totals(app, [JAN])  # the old report's lines left the live figures
    assert verify_money_equation(app, app.config)["ok"]
    listed = {r["report_id"]: r for r in list_reports(app)}
    assert listed[first.report_id]["superseded_by"] == second.report_id


def test_the_report_tables_are_append_only_in_the_database(app):
    import_report(app, STORE, source="store", actor="t")
    store = UsageStore(app)
    for statement in (
        "UPDATE report_line_blocks SET line_count = 1",
        "DELETE FROM report_line_blocks",
        "INSERT OR REPLACE INTO report_line_blocks SELECT * FROM report_line_blocks"
        if app.config.backend == "sqlite"
        else "TRUNCATE report_line_blocks",
        "DELETE FROM report_quarantine",
        "UPDATE report_quarantine SET reason = 'x'",
    ):
        with pytest.raises(Exception, match="append-only"):
            if app.config.backend == "sqlite":
                with store.recorder.datastore.transaction(commit=True) as c:
                    c.execute(statement)
            else:
                with store.recorder.datastore.get_connection() as conn:
                    conn.execute(statement)


def test_a_society_report_matches_by_iswc_and_by_a_proprietary_id_kept_from_a_delivery(sqlite_app):
    app = sqlite_app
    from ledger.domain.alias import IdentifierAlias
    from ledger.reports.commands import set_mapping

    app.save(IdentifierAlias(kind="recording", identifier="DPID:PADPIDA2014120301U:trk-9", key=R2, actor="ern"))
    mapping = {
        "columns": {
            "iswc": "ISWC",
            "proprietary_id": "Id",
            "territory": "Territory",
            "units": "Units",
            "gross": "Amount",
            "right_type": "Right",
        },
        "defaults": {"currency": "EUR", "period": "2026-01"},
    }
    set_mapping(app, "society", mapping, "first", "t")
    data = (
        b"ISWC,Id,Territory,Units,Amount,Right\n"
        b"T-034.524.680-1,,FR,10,1.000000,performance\n"
        b",DPID:PADPIDA2014120301U:trk-9,FR,5,0.500000,neighbouring\n"
    )
    result = import_report(app, data, source="society", actor="t")
    assert result.lines == 2 and result.quarantined == {}
    # performance:* = platform 10 %, publishing 90 % → the work's publisher p; neighbouring
    # income has no rule of its own → *:* (platform 30 %, master 70 %) → c, R2's master.
    assert account_totals(app, [JAN]) == {
        ("platform", "EUR"): 100_000 + 150_000,
        ("party:p", "EUR"): 900_000,
        ("party:c", "EUR"): 350_000,
    }
    assert live_totals(app) == account_totals(app, [JAN])
    assert verify_money_equation(app, app.config)["ok"]


def test_audit_verify_recomputes_every_reports_lines_and_names_an_edited_one(sqlite_app):
    app = sqlite_app
    first = import_report(app, STORE, source="store", actor="t")
    import_report(app, DSR, source="wavestream", actor="t")
    audit = verify_reports(app)
    assert audit.ok and (audit.reports, audit.lines, audit.quarantine_rows) == (2, 7, 2), audit.as_dict()
    # Line 1's converted amount, 2 079 000 µ, one micro-unit more in its stored CSV (left
    # uncompressed: codec 'none').
    assert app.config.sqlite_path is not None
    with sqlite3.connect(app.config.sqlite_path) as conn:
        conn.execute("DROP TRIGGER report_line_blocks_no_update")
        packed, codec, size = conn.execute(
            "SELECT lines, codec, csv_size FROM report_line_blocks WHERE position = ?", (first.position,)
        ).fetchone()
        edited = unpack_block(packed, codec, size).replace(b",2079000\n", b",2079001\n", 1)
        conn.execute(
            "UPDATE report_line_blocks SET lines = ?, codec = 'none' WHERE position = ?", (edited, first.position)
        )
    audit = verify_reports(app)
    assert sorted(problem for _, problem in audit.problems) == [
        "the report's line groups (what statements sum) differ from its lines",
        "the stored lines do not hash to the report's lines_sha256",
    ]
    assert {position for position, _ in audit.problems} == {first.position}


def test_audit_verify_checks_each_line_block_against_the_lines_it_holds(sqlite_app, monkeypatch):
    """Since 0034 a report's lines are blocks of its canonical CSV: a block that says other line
    numbers than it holds, or holds no lines at all, is named too."""
    from ledger.reports import store as report_store

    app = sqlite_app
    monkeypatch.setattr(report_store, "BLOCK_LINES", 1)
    first = import_report(app, STORE, source="store", actor="t")
    blocks = "SELECT block_no, first_line_no, line_count FROM report_line_blocks ORDER BY block_no"
    assert UsageStore(app).query(blocks, blocks) == [(0, 1, 1), (1, 2, 1), (2, 3, 1)]  # lines 4, 5 quarantined
    assert verify_reports(app).ok
    with UsageStore(app).recorder.datastore.transaction(commit=True) as c:
        c.execute("DROP TRIGGER report_line_blocks_no_update")
        c.execute("UPDATE report_line_blocks SET first_line_no = 9 WHERE block_no = 1")
    assert verify_reports(app).problems == [
        (first.position, "line block 1 does not hold the lines it says (from line 9, 1 lines)")
    ]
    with UsageStore(app).recorder.datastore.transaction(commit=True) as c:
        c.execute("UPDATE report_line_blocks SET lines = X'00ff0a' WHERE block_no = 2")
    [(position, problem)] = verify_reports(app).problems
    assert position == first.position and "lz4_frame bytes do not decompress" in problem
    with UsageStore(app).recorder.datastore.transaction(commit=True) as c:
        c.execute("UPDATE report_line_blocks SET codec = 'none' WHERE block_no = 2")
    assert verify_reports(app).problems == [
        (first.position, "the stored line blocks are not the canonical CSV of report lines")
    ]


def test_audit_verify_names_a_line_row_added_beside_a_reports_blocks(sqlite_app):
    """report_lines is insert-only, not closed: a row added at a block report's position (the
    statements never read it) is named, not ignored."""
    app = sqlite_app
    first = import_report(app, STORE, source="store", actor="t")
    with UsageStore(app).recorder.datastore.transaction(commit=True) as c:
        c.execute(
            "INSERT INTO report_lines (position, line_no, right_type, occurred_at_us, territory, units, currency, "
            "gross_micros, net_micros, amount_micros) "
            f"VALUES ({first.position}, 9, 'master', 0, 'FR', 1, 'EUR', 1, 1, 1)"
        )
    assert verify_reports(app).problems == [
        (first.position, "the report's lines are stored twice: as line blocks and as report_lines rows")
    ]


def test_audit_verify_names_a_report_whose_line_groups_were_edited(sqlite_app):
    """Statements sum the groups written at import (report_line_groups): a group edited behind
    the triggers' back changes the money, so the audit regroups the lines and names it."""
    app = sqlite_app
    import_report(app, STORE, source="store", actor="t")
    dsr = import_report(app, DSR, source="wavestream", actor="t")
    with UsageStore(app).recorder.datastore.transaction(commit=True) as c:
        c.execute("DROP TRIGGER report_line_groups_no_update")
        c.execute("UPDATE report_line_groups SET amount_micros = amount_micros + 1 WHERE source = 'wavestream'")
    audit = verify_reports(app)
    assert audit.problems == [(dsr.position, "the report's line groups (what statements sum) differ from its lines")]


def test_withholding_tax_is_a_statement_line_held_in_its_territorys_account(app):
    from ledger.reports.commands import set_withholding

    set_withholding(app, {"a": {"US": 300_000}}, T(2025, 1, 1), "US withholding on royalties to a", "acct")
    import_report(app, STORE, source="store", actor="t")
    # US key G = 828 000: a's part 351 900, of which 30 % (105 570) is withheld into tax:US; the
    # FR key of a and every part of b are untaxed.
    assert account_totals(app, [JAN]) == {
        ("platform", "EUR"): 311_850 + 124_200,
        ("party:a", "EUR"): 883_575 + 351_900 - 105_570,
        ("party:b", "EUR"): 883_575 + 351_900,
        ("tax:US", "EUR"): 105_570,
        ("suspense:unmatched-report", "EUR"): 1_386_000,
    }
    doc = build_statement(engine_for(app, app.config), "party:a", JAN, app.head_position())
    [line] = [x for x in doc["currencies"]["EUR"]["earnings"] if x["right"] == "withholding"]
    assert (line["territory"], line["right_ppm"], line["amount_micros"]) == ("US", 300_000, -105_570)
    assert live_totals(app) == account_totals(app, [JAN])
    assert verify_money_equation(app, app.config)["ok"]
    close_period(app, app.config, JAN, "acct")
    assert replay_period(app, app.config, JAN).ok


def test_a_report_whose_every_line_is_quarantined_is_recorded_and_verifies(app):
    """No accepted line: no block, no group, the empty canonical form's digest, its quarantine."""
    bad = b"\n".join(STORE.splitlines()[:1] + [line for line in STORE.splitlines()[1:] if b"BADISRC" in line]) + b"\n"
    result = import_report(app, bad, source="store", actor="t")
    assert (result.lines, result.quarantined) == (0, {"malformed_isrc": 1})
    audit = verify_reports(app)
    assert audit.ok and (audit.reports, audit.lines, audit.quarantine_rows) == (1, 0, 1), audit.as_dict()
    assert [r["lines"] for r in list_reports(app)] == [0]
