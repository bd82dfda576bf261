"""`royalty audit`: record hash-chain checkpoints and verify the log was not altered."""

from __future__ import annotations

from typing import Any

import typer

from cli.context import actor, ledger, store_config
from cli.output import JSON_OPTION, console, report
from ledger.audit import record_checkpoint, verify_chain

app = typer.Typer(help="Tamper evidence: hash-chain checkpoints and verification.", no_args_is_help=True)


@app.command("checkpoint")
def checkpoint(as_json: bool = JSON_OPTION) -> None:
    """Record a checkpoint of the hash chain at the current head of the log."""
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


@app.command("verify")
def verify(as_json: bool = JSON_OPTION) -> None:
    """Recompute the hash chain (and the money equation, where recorded); exit 1 on any mismatch."""
    app_ = ledger()
    chain = verify_chain(app_)
    doc: dict[str, Any] = {"chain": chain.as_dict()}
    ok = chain.ok
    for name, check in _extra_checks():
        result = check(app_)
        doc[name] = result
        ok = ok and bool(result.get("ok", False))
    doc["ok"] = ok

    def render() -> None:
        if chain.ok:
            console.print(
                f"[green]hash chain ok[/]: {chain.events_checked} events, {chain.checkpoints} "
                f"checkpoints, covered up to position {chain.covered_upto} of {chain.head}"
            )
        else:
            assert chain.first_mismatch is not None
            console.print(
                f"[bold red]hash chain broken at position {chain.first_mismatch.position}[/]: "
                f"{chain.first_mismatch.problem}"
            )
        for name, _ in _extra_checks():
            status = "[green]ok[/]" if doc[name].get("ok") else "[bold red]FAILED[/]"
            console.print(f"{name}: {status} {doc[name].get('summary', '')}")

    report(doc, as_json, render)
    if not ok:
        raise typer.Exit(1)


def _money_equation(app_: Any) -> dict[str, Any]:
    """Σ gross = platform + Σ party balances + Σ payouts + escrow + suspense, per currency,
    at head and at every close (projections.statements.money)."""
    from projections.statements.money import verify_money_equation

    result = verify_money_equation(app_, store_config())
    failed = [c for c in result["checks"] if not c.get("ok")]
    result["summary"] = f"{len(result['checks'])} checks" + (f", {len(failed)} failed" if failed else "")
    return result


def _extra_checks() -> list[tuple[str, Any]]:
    """Checks beyond the hash chain: those the ledger registers (usage row hashes) and the money equation."""
    from ledger.audit_checks import registered_checks

    return [*registered_checks(), ("money_equation", _money_equation)]
