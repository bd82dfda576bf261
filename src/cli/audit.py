"""`royalty audit`: record hash-chain checkpoints and verify the log was not altered."""

from __future__ import annotations

from typing import Any

import typer

from cli.context import actor, ledger, store_config
from cli.output import JSON_OPTION, console, report
from ledger.audit import record_checkpoint, verify_chain
from ledger.usage.verify import verify_usage
from projections.statements.money import verify_money_equation

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
    """Recompute the hash chain, the usage rows against their batches and the money equation;
    exit 1 on any mismatch."""
    app_ = ledger()
    chain = verify_chain(app_)
    usage = verify_usage(app_)
    money = verify_money_equation(app_, store_config())
    failed = [c for c in money["checks"] if not c.get("ok")]
    ok = chain.ok and usage.ok and bool(money["ok"])
    doc: dict[str, Any] = {"chain": chain.as_dict(), "usage_rows": usage.as_dict(), "money_equation": money, "ok": ok}

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
        if usage.ok:
            console.print(
                f"[green]usage rows ok[/]: {usage.lines} lines in {usage.batches} batches, "
                f"{usage.digests_recomputed} digests recomputed"
                + (
                    f", {usage.digests_not_recomputable} from before digest scheme 2"
                    if usage.digests_not_recomputable
                    else ""
                )
            )
        else:
            position, problem = usage.problems[0]
            console.print(f"[bold red]usage rows differ at position {position}[/]: {problem}")
        status = "[green]ok[/]" if money["ok"] else "[bold red]FAILED[/]"
        console.print(
            f"money_equation: {status} {len(money['checks'])} checks" + (f", {len(failed)} failed" if failed else "")
        )

    report(doc, as_json, render)
    if not ok:
        raise typer.Exit(1)
