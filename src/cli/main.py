"""The `royalty` command: one sub-command group per module, registered here."""

from __future__ import annotations

import typer

from cli import (
    audit,
    browse,
    catalogue,
    demo,
    disputes,
    init,
    keys,
    media,
    parties,
    payouts,
    payouts_stripe,
    pie,
    pools,
    pricing,
    profiles,
    project,
    reads,
    reports,
    review,
    run,
    serve,
    splits,
    statements,
    trail,
    usage,
    users,
    webhooks,
)

app = typer.Typer(
    name="royalty",
    help="Event-sourced rights and royalty ledger. Every reporting command takes --json.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("init")(init.init)
app.command("demo")(demo.demo)
app.add_typer(catalogue.app, name="catalogue")
catalogue.app.command("search")(browse.search)
app.add_typer(splits.app, name="splits")
app.add_typer(disputes.app, name="disputes")
app.command("trail")(trail.trail)
app.add_typer(audit.app, name="audit")
app.add_typer(statements.app, name="statements")
app.add_typer(payouts.app, name="payouts")
payouts.app.command("run")(payouts_stripe.run)
payouts.app.command("reconcile")(payouts_stripe.reconcile)
payouts.app.command("link-account")(payouts_stripe.link_account)
app.add_typer(pie.app, name="pie")
app.add_typer(pools.app, name="pools")
app.add_typer(usage.app, name="usage")
app.add_typer(reports.app, name="reports")
app.add_typer(pricing.app, name="pricing")
app.add_typer(review.app, name="review")
app.add_typer(parties.app, name="parties")
app.add_typer(profiles.app, name="profile")
app.command("serve")(serve.serve)
app.command("run")(run.run)
app.add_typer(run.app, name="scheduler")
app.add_typer(serve.api_app, name="api")
app.add_typer(keys.app, name="keys")
app.add_typer(users.app, name="users")
app.add_typer(media.app, name="media")
app.add_typer(project.app, name="project")
app.add_typer(webhooks.app, name="webhooks")
app.command("earnings")(reads.earnings)
app.command("stats")(reads.stats)


if __name__ == "__main__":
    app()
