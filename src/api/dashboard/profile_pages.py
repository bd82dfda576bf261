"""The dashboard's profile page: an artist or label edits its biography and links and uploads or
removes press images — the same ledger commands and checks as `PUT /v1/parties/{party}/profile`
and `POST …/profile/images`, the user recorded as actor. Images are served from this host only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from api.dashboard.session import same_token
from api.dashboard.site import Site, Viewer, html, not_found, viewer
from api.routers.profiles import IMAGE_HEADERS
from ledger.application import NotFound
from ledger.domain.party import DomainError
from ledger.domain.profile import MAX_IMAGE_BYTES
from ledger.profile_images import profile_image, upload_profile_image
from ledger.store.blobs import FileTooLarge, blob_store_from_env

router = APIRouter(include_in_schema=False)
ViewerDep = Annotated[Viewer, Depends(viewer)]
Csrf = Annotated[str, Form(max_length=200)]


def _site(request: Request) -> Site:
    site: Site = request.app.state.dashboard
    return site


def _readable(who: Viewer, party: str | None) -> str:
    """The party whose profile this is: the user's own, or one it manages; operators name one."""
    chosen = party or who.principal.party_key
    if chosen is None:
        raise not_found("party")
    if who.principal.is_party and chosen not in who.principal.scope:
        raise not_found(f"party {chosen}")
    try:
        who.app.get_party(chosen)
    except NotFound:
        raise not_found(f"party {chosen}") from None
    return chosen


def _editable(request: Request, who: Viewer, party: str, token: str) -> Response | None:
    """A party user edits its own parties' profiles, an admin any; a stale form is a 403."""
    _readable(who, party)
    if not (who.principal.is_party or who.principal.role == "admin"):
        raise not_found("page")
    if not same_token(token, who.session.csrf):
        return html(_site(request).render("error.html", who=who, message="The form expired: reload the page."), 403)
    return None


def _refused(request: Request, who: Viewer, message: str, status: int = 422) -> Response:
    return html(_site(request).render("error.html", who=who, message=message), status)


def parse_links(text: str) -> list[dict[str, str]]:
    """One link a line: `Label https://…` or just the URL (the URL is the last word)."""
    links = []
    for line in text.splitlines():
        words = line.strip().rsplit(None, 1)
        if not words:
            continue
        url = words[-1]
        label = words[0] if len(words) == 2 else ""
        links.append({"label": label, "url": url})
    return links


@router.get("/profile", response_class=HTMLResponse)
def profile(request: Request, who: ViewerDep, party: str | None = None, done: str | None = None) -> Response:
    chosen = _readable(who, party)
    found = who.app.get_party(chosen)
    editable = who.principal.is_party or who.principal.role == "admin"
    return html(
        _site(request).render(
            "profile.html",
            who=who,
            party=found,
            profile=found.profile,
            editable=editable,
            done=done,
            parties=sorted(who.principal.scope),
            max_mib=MAX_IMAGE_BYTES // (1024 * 1024),
        )
    )


@router.post("/profile")
def save_profile(
    request: Request,
    who: ViewerDep,
    party: Annotated[str, Form(max_length=200)],
    csrf_token: Csrf = "",
    biography: Annotated[str, Form(max_length=20_000)] = "",
    links: Annotated[str, Form(max_length=50_000)] = "",
) -> Response:
    stop = _editable(request, who, party, csrf_token)
    if stop is not None:
        return stop
    try:
        _, changed = who.app.update_profile(party, who.principal.actor, biography=biography, links=parse_links(links))
    except DomainError as exc:
        return _refused(request, who, str(exc))
    return RedirectResponse(f"/profile?party={party}&done={'saved' if changed else 'unchanged'}", status_code=303)


@router.post("/profile/images")
def add_image(
    request: Request,
    who: ViewerDep,
    party: Annotated[str, Form(max_length=200)],
    image: Annotated[UploadFile, File()],
    csrf_token: Csrf = "",
    caption: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    stop = _editable(request, who, party, csrf_token)
    if stop is not None:
        return stop
    try:
        upload_profile_image(who.app, blob_store_from_env(), party, image.file, caption, who.principal.actor)
    except FileTooLarge as exc:
        return _refused(request, who, f"The image is too large: {exc}.", 413)
    except DomainError as exc:
        return _refused(request, who, str(exc))
    return RedirectResponse(f"/profile?party={party}&done=image+added", status_code=303)


@router.post("/profile/images/remove")
def remove_image(
    request: Request,
    who: ViewerDep,
    party: Annotated[str, Form(max_length=200)],
    sha256: Annotated[str, Form(max_length=64)],
    csrf_token: Csrf = "",
) -> Response:
    stop = _editable(request, who, party, csrf_token)
    if stop is not None:
        return stop
    try:
        who.app.remove_profile_image(party, sha256, who.principal.actor)
    except DomainError as exc:
        return _refused(request, who, str(exc))
    return RedirectResponse(f"/profile?party={party}&done=image+removed", status_code=303)


@router.get("/profile/images/{party}/{sha256}")
def image(who: ViewerDep, party: str, sha256: str) -> Response:
    """An image of a profile the viewer may see, while the profile lists it; from this host."""
    chosen = _readable(who, party)
    found = profile_image(who.app.get_party(chosen), sha256)
    if found is None:
        raise not_found("image")
    path = blob_store_from_env().path(sha256)
    if not path.is_file():
        raise not_found("image")
    return FileResponse(path, media_type=str(found["content_type"]), headers=IMAGE_HEADERS)
