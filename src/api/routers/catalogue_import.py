"""Deliveries: a distributor uploads one DDEX ERN message or catalogue CSV; the answer is the report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.auth import Forbidden, Principal
from api.conflicts import ConflictRetryRoute
from api.deps import LedgerDep, require
from api.errors import problem
from api.positions import capture_writes
from ledger.application import RoyaltyLedger
from ledger.ingest.catalogue_csv import check_catalogue_csv
from ledger.ingest.delivery import DeliveryMessage
from ledger.ingest.ern import check_ern
from ledger.ingest.importer import FileImport, import_document
from ledger.ingest.report import ValidationReport

router = APIRouter(prefix="/v1/deliveries", tags=["catalogue"], route_class=ConflictRetryRoute)

Distributor = Annotated[Principal, Depends(require("distributor"))]
CSV_TYPES = ("text/csv", "application/csv")
XML_TYPES = ("application/xml", "text/xml")


class DeliveryImported(BaseModel):
    """What the upload did: the validation report per release and what the import made of it."""

    ok: bool
    position: int
    source: str
    message_id: str
    kind: str
    ern_version: str
    message_errors: list[str]
    items: list[dict[str, Any]]


def _sender_dpid(app: RoyaltyLedger, principal: Principal) -> tuple[str, str]:
    if not principal.party_key:
        raise Forbidden("this distributor key acts for no party; deliveries need a sending party")
    party = app.get_party(principal.party_key)
    dpid = party.identifiers.get("dpid")
    if not dpid:
        raise Forbidden(f"party {party.key} has no DPID registered; deliveries are matched by DPID")
    return dpid, party.name


def _check(
    app: RoyaltyLedger, body: bytes, csv: bool, dpid: str, name: str
) -> tuple[DeliveryMessage | None, ValidationReport]:
    now = app.clock()
    if csv:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            from ledger.ingest.validate import report_unreadable

            return None, report_unreadable("upload.csv", "the CSV is not UTF-8 text")
        return check_catalogue_csv(
            text, sender_dpid=dpid, sender_name=name, created_at=now, now=now, source_name="upload.csv"
        )
    message, report = check_ern(body, source_name="upload.xml", now=now)
    if message is not None and message.sender_dpid != dpid:
        raise Forbidden(
            f"the message is sent by {message.sender_dpid or '(no DPID)'}, "
            f"but this key acts for the party with DPID {dpid}"
        )
    return message, report


def _import(app: RoyaltyLedger, principal: Principal, body: bytes, csv: bool) -> tuple[FileImport, int]:
    dpid, name = _sender_dpid(app, principal)
    message, report = _check(app, body, csv, dpid, name)
    with capture_writes() as written:
        result = import_document(app, report.source, message, report, principal.actor, body)
    return result, written.position(app)


@router.post(
    "",
    response_model=DeliveryImported,
    responses={
        413: {"description": "`too-large`: the body is over its limit"},
        415: {"description": "`unsupported-media-type`: neither XML nor CSV"},
        422: {"description": "`delivery-refused`: the file was refused, the report says why"},
    },
)
async def upload_delivery(
    request: Request,
    app: LedgerDep,
    principal: Distributor,
    content_type: Annotated[str, Header()] = "application/xml",
) -> DeliveryImported | JSONResponse:
    """Upload one delivery as the request body: a DDEX ERN 3.8.x / 4.1–4.3 message
    (`Content-Type: application/xml`) or a catalogue CSV (`text/csv`), sent by this key's party.

    Each release is imported whole or not at all. Releases from a verified sender go live; others
    wait in review. Re-uploading the same message changes nothing. A file that cannot be read
    (malformed, unsafe XML, unsupported message) answers 422 with its report.
    """
    media = content_type.split(";")[0].strip().lower()
    if media not in CSV_TYPES + XML_TYPES:
        return problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"send application/xml (ERN) or text/csv, not {media}",
            request,
        )
    body = await request.body()
    result, position = await run_in_threadpool(_import, app, principal, body, media in CSV_TYPES)
    doc = result.to_dict()
    items = [i.to_dict() for i in result.items]
    if result.refused:
        return problem(
            422, "delivery-refused", "Delivery refused", "; ".join(result.report.message_errors), request, report=doc
        )
    return DeliveryImported(
        ok=not any(i.result == "rejected" for i in result.items),
        position=position,
        source=result.source,
        message_id=result.report.message_id,
        kind=result.report.kind,
        ern_version=result.report.ern_version,
        message_errors=list(result.report.message_errors),
        items=items,
    )
