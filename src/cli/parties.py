"""`royalty parties`: list, create and update parties; verify or suspend one (a sender's trust)."""

from __future__ import annotations

from typing import Any

import typer

from api.positions import capture_writes
from api.routers.parties import put_party
from api.schemas.catalogue import ManagerCreate, PartyCreate, PartyPublic, PartyWritten
from api.schemas.common import Key, WriteResult
from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, fail, report, table
from cli.writes import operator, parse, perform
from ledger.application import NotFound, RoyaltyLedger
from ledger.contacts import set_party_email
from ledger.domain.party import DomainError
from ledger.ingest.parties import party_directory
from ledger.review import suspend_sender, verify_sender

app = typer.Typer(help="Parties and their verification.", no_args_is_help=True)


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """Every party with its kinds, identifiers and verification state."""
    parties = sorted(party_directory(ledger()).by_key.values(), key=lambda p: p.key)
    docs: list[dict[str, Any]] = [
        {"key": p.key, "name": p.name, "kinds": p.kinds, "identifiers": p.identifiers, "verification": p.verification}
        for p in parties
    ]
    report(
        {"parties": docs},
        as_json,
        lambda: console.print(
            table(
                f"{len(docs)} parties",
                ["key", "name", "kinds", "identifiers", "verification"],
                [
                    (
                        d["key"],
                        d["name"],
                        ",".join(d["kinds"]),
                        " ".join(f"{k}:{v}" for k, v in d["identifiers"].items()),
                        d["verification"],
                    )
                    for d in docs
                ],
            )
        ),
    )


@app.command("verify")
def verify(
    key: str = typer.Argument(..., help="The party's key."),
    reason: str = typer.Option(..., "--reason", help="Why it is trusted (contract, KYC…)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Verify a party. A verified sender's deliveries go live; its releases in review are approved."""
    app = ledger()
    try:
        approved = verify_sender(app, key, reason, actor())
    except (NotFound, DomainError) as exc:
        fail(str(exc), as_json)
    report(
        {"key": key, "verification": "verified", "approved_releases": approved, "position": app.head_position()},
        as_json,
        lambda: console.print(f"{key} verified; {len(approved)} release(s) in review approved"),
    )


@app.command("suspend")
def suspend(
    key: str = typer.Argument(..., help="The party's key."),
    reason: str = typer.Option(..., "--reason", help="Why."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Suspend a party: its future deliveries are refused (what is live stays live)."""
    app = ledger()
    try:
        suspend_sender(app, key, reason, actor())
    except (NotFound, DomainError) as exc:
        fail(str(exc), as_json)
    report(
        {"key": key, "verification": "suspended", "position": app.head_position()},
        as_json,
        lambda: console.print(f"{key} suspended"),
    )


KINDS = typer.Option(None, "--kind", help="artist, label, publisher, writer, distributor… (repeat for more).")
DPID = typer.Option(None, "--dpid", help="DDEX party id (a CSV sender needs one).")
ISNI = typer.Option(None, "--isni", help="ISNI (check digit verified).")
IPI = typer.Option(None, "--ipi", help="IPI name number (check digit verified).")


def _identifiers(dpid: str | None, isni: str | None, ipi: str | None) -> dict[str, str]:
    return {k: v for k, v in (("dpid", dpid), ("isni", isni), ("ipi", ipi)) if v is not None}


def _registered(app_: RoyaltyLedger, key: str) -> bool:
    try:
        app_.get_party(key)
    except NotFound:
        return False
    return True


def _written(doc: dict[str, Any]) -> str:
    p = doc["party"]
    ids = " ".join(f"{k}:{v}" for k, v in p["identifiers"].items())
    state = "recorded" if doc["changed"] else "unchanged"
    return f"party {p['key']} {state} at position {doc['position']}: {p['name']} ({', '.join(p['kinds'])}) {ids}"


@app.command("create")
def create(
    key: str = typer.Argument(..., help="The party's key (no slash), e.g. aria-lune."),
    name: str = typer.Option(..., "--name", help="The party's name."),
    kinds: list[str] = KINDS,
    dpid: str = DPID,
    isni: str = ISNI,
    ipi: str = IPI,
    as_json: bool = JSON_OPTION,
) -> None:
    """Register a party (as PUT /v1/parties/{key}); refused when the key is already registered."""
    app_ = ledger()

    def write() -> PartyWritten:
        party_key = parse(Key, key, "party_key")
        if _registered(app_, party_key):
            raise DomainError(f"party {party_key} is already registered; change it with `royalty parties update`")
        body = PartyCreate.model_validate(
            {"name": name, "kinds": kinds or [], "identifiers": _identifiers(dpid, isni, ipi)}
        )
        return put_party(party_key, body, app_, operator())

    perform(as_json, write, _written)


NEW_KINDS = typer.Option(None, "--kind", help="The party's kinds, replacing the current ones (repeat).")


@app.command("update")
def update(
    key: str = typer.Argument(..., help="The party's key."),
    name: str = typer.Option(None, "--name", help="A new name."),
    kinds: list[str] = NEW_KINDS,
    dpid: str = DPID,
    isni: str = ISNI,
    ipi: str = IPI,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change a registered party's name, kinds or identifiers (what is not given stays as it is)."""
    app_ = ledger()

    def write() -> PartyWritten:
        party = app_.get_party(parse(Key, key, "party_key"))
        body = PartyCreate.model_validate(
            {
                "name": party.name if name is None else name,
                "kinds": kinds or party.kinds,
                "identifiers": {**party.identifiers, **_identifiers(dpid, isni, ipi)},
            }
        )
        return put_party(party.key, body, app_, operator())

    perform(as_json, write, _written)


@app.command("add-manager")
def add_manager(
    key: str = typer.Argument(..., help="The party managed."),
    manager: str = typer.Argument(..., help="The label or distributor that may act for it."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Let a label or distributor act for a party (its party-scoped API keys then may)."""
    app_ = ledger()

    def write() -> PartyWritten:
        body = ManagerCreate.model_validate({"manager_key": manager})
        with capture_writes() as written:
            party = app_.add_party_manager(parse(Key, key, "party_key"), body.manager_key, actor())
        return PartyWritten(position=written.position(app_), changed=written.changed, party=PartyPublic.of(party))

    perform(as_json, write, lambda d: f"{d['party']['key']} managed by {', '.join(d['party']['managed_by'])}")


class PartyContactWritten(WriteResult):
    party: str
    email: str


@app.command("set-email")
def set_email(
    key: str = typer.Argument(..., help="The party's key."),
    email: str = typer.Argument(..., help="Where its monthly statements are sent."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Set the address a party's statements are emailed to (by the scheduler)."""
    app_ = ledger()

    def write() -> PartyContactWritten:
        with capture_writes() as written:
            contact, changed = set_party_email(app_, parse(Key, key, "party_key"), email, actor())
        return PartyContactWritten(
            position=written.position(app_), changed=changed, party=contact.party, email=contact.email
        )

    perform(as_json, write, lambda d: f"{d['party']}: statements go to {d['email']}")
