"""`royalty audit`: record hash-chain checkpoints, anchor them outside the database, and verify
the log was not altered."""

from __future__ import annotations

from typing import Any

import typer

from cli.context import actor, ledger, store_config
from cli.output import JSON_OPTION, console, fail, report
from ledger.audit import record_checkpoint, verify_chain
from ledger.audit_anchor import (
    AnchorError,
    anchor,
    generate_signing_key,
    load_anchor_log,
    signing_key_path,
)
from ledger.pools.verify import verify_contributions
from ledger.reports.verify import verify_reports
from ledger.royalties.stored_facts import stored_facts_problems
from ledger.usage.verify import verify_usage
from projections.statements.money import verify_money_equation

app = typer.Typer(
    help="Tamper evidence: hash-chain checkpoints, signed anchors and verification.", no_args_is_help=True
)

_SHOWN_PROBLEMS = 20


@app.command("checkpoint")
def checkpoint(as_json: bool = JSON_OPTION) -> None:
    """Record a checkpoint of the hash chain at the current head of the log (in the database
    only; `royalty audit anchor` also signs it into the anchor file)."""
    cp = record_checkpoint(ledger(), actor())
    doc: dict[str, Any] = {"recorded": cp is not None}
    if cp is not None:
        doc.update(from_position=cp.from_position, upto_position=cp.upto_position, chain_hash=cp.chain_hash)
    report(
        doc,
        as_json,
        lambda: console.print(
            f"checkpoint up to position {cp.upto_position}: {cp.chain_hash}"
            if cp
            else "nothing new since the last checkpoint"
        ),
    )


@app.command("keygen")
def keygen(as_json: bool = JSON_OPTION) -> None:
    """Create the Ed25519 key that signs anchors (ROYALTY_AUDIT_SIGNING_KEY, default
    var/audit-signing.key, mode 0600) and its public key beside it (.pub). Never overwrites a
    key; the key itself is never printed."""
    try:
        private, public, kid = generate_signing_key(signing_key_path())
    except (AnchorError, OSError) as exc:
        fail(str(exc), as_json)
    report(
        {"ok": True, "signing_key": str(private), "public_key": str(public), "key_id": kid},
        as_json,
        lambda: console.print(
            f"signing key {private} (keep it off the database host), public key {public}, key id {kid}"
        ),
    )


@app.command("anchor")
def anchor_command(as_json: bool = JSON_OPTION) -> None:
    """Verify the log to the head, then append a signed line for everything since the last anchor
    to the anchor file (ROYALTY_AUDIT_ANCHORS, default var/audit-anchors.jsonl) and record the
    same checkpoint in the log. Refuses (exit 1) when the log or the anchor file does not verify."""
    try:
        done = anchor(ledger(), actor())
    except (AnchorError, OSError) as exc:
        fail(str(exc), as_json)
    entry = done.entry
    doc = {
        "ok": True,
        "anchors": str(done.path),
        "from_position": entry["from"],
        "upto_position": entry["upto"],
        "chain_hash": entry["chain_hash"],
        "key_id": entry["key"],
        "time": entry["time"],
        "checkpoint_recorded": done.checkpoint is not None,
    }
    report(
        doc,
        as_json,
        lambda: console.print(
            f"anchored positions {entry['from']}–{entry['upto']} in {done.path} "
            f"(key {entry['key']}): {entry['chain_hash']}"
        ),
    )


@app.command("verify")
def verify(as_json: bool = JSON_OPTION) -> None:
    """Recompute the hash chain over every position to the head (against the digests written
    with the events, the checkpoints and the signed anchors), the usage and quarantine rows
    against their batches, the split versions and recordings statements read against their
    events, and the money equation; exit 1 on any mismatch, naming its position."""
    app_ = ledger()
    chain = verify_chain(app_, load_anchor_log())
    usage = verify_usage(app_)
    pools = verify_contributions(app_)
    reports = verify_reports(app_)
    try:  # the split versions and recordings statements read (migration 0036) against the events
        rights: dict[str, Any] = {"problems": stored_facts_problems(store_config(), chain.head)}
    except Exception as exc:  # a malformed event the chain check names; report, don't crash
        rights = {"problems": [f"could not be checked: {type(exc).__name__}: {exc}"]}
    rights["ok"] = not rights["problems"]
    try:
        money = verify_money_equation(app_, store_config())
    except Exception as exc:  # a malformed event the chain check names; report, don't crash
        money = {"ok": False, "error": f"could not be checked: {type(exc).__name__}: {exc}", "checks": []}
    failed = [c for c in money["checks"] if not c.get("ok")]
    ok = chain.ok and usage.ok and pools.ok and reports.ok and rights["ok"] and bool(money["ok"])
    doc: dict[str, Any] = {
        "chain": chain.as_dict(),
        "usage_rows": usage.as_dict(),
        "pool_contributions": pools.as_dict(),
        "sales_reports": reports.as_dict(),
        "rights_facts": rights,
        "money_equation": money,
        "ok": ok,
    }

    def render() -> None:
        if chain.ok:
            anchored = (
                f", {chain.anchors} anchors (key {chain.anchor_key}) up to position {chain.anchored_upto}"
                if chain.anchors
                else ", not anchored"
            )
            console.print(
                f"[green]hash chain ok[/]: {chain.events_checked} events to the head ({chain.head}), "
                f"{chain.written_digests_checked} against their written digests, {chain.checkpoints} "
                f"checkpoints up to position {chain.covered_upto}{anchored}"
            )
        else:
            first = chain.first_mismatch
            assert first is not None
            console.print(f"[bold red]hash chain broken at position {first.position}[/]: {first.problem}")
            for more in sorted(chain.problems, key=lambda m: m.position)[1:_SHOWN_PROBLEMS]:
                console.print(f"  position {more.position}: {more.problem}")
        if usage.ok:
            console.print(
                f"[green]usage rows ok[/]: {usage.lines} lines and {usage.quarantine_rows} quarantine rows "
                f"in {usage.batches} batches, {usage.digests_recomputed} digests recomputed"
                + (
                    f", {usage.digests_not_recomputable} from before digest scheme 2"
                    if usage.digests_not_recomputable
                    else ""
                )
            )
        else:
            for position, problem in usage.problems[:_SHOWN_PROBLEMS]:
                console.print(f"[bold red]usage rows differ at position {position}[/]: {problem}")
        if pools.ok:
            console.print(
                f"[green]pool contributions ok[/]: {pools.rows} rows and {pools.quarantine_rows} quarantine rows "
                f"in {pools.batches} batches"
            )
        for position, problem in pools.problems[:_SHOWN_PROBLEMS]:
            console.print(f"[bold red]pool contributions differ at position {position}[/]: {problem}")
        if reports.ok:
            console.print(
                f"[green]sales reports ok[/]: {reports.lines} lines and {reports.quarantine_rows} quarantine rows "
                f"in {reports.reports} reports"
            )
        for position, problem in reports.problems[:_SHOWN_PROBLEMS]:
            console.print(f"[bold red]sales report lines differ at position {position}[/]: {problem}")
        if rights["ok"]:
            console.print("[green]rights facts ok[/]: split versions and recordings equal a fold of their events")
        for problem in rights["problems"][:_SHOWN_PROBLEMS]:
            console.print(f"[bold red]rights facts[/]: {problem}")
        status = "[green]ok[/]" if money["ok"] else "[bold red]FAILED[/]"
        console.print(
            f"money_equation: {status} {len(money['checks'])} checks"
            + (f", {len(failed)} failed" if failed else "")
            + (f" ({money['error']})" if money.get("error") else "")
        )

    report(doc, as_json, render)
    if not ok:
        raise typer.Exit(1)
