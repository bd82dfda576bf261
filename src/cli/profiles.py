"""`royalty profile`: a party's biography, links and press images — show, set, add or remove an image.
The same ledger commands and checks as `PUT /v1/parties/{party}/profile` and the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.context import actor, ledger
from cli.output import JSON_OPTION, console, fail, report, table
from ledger.application import NotFound
from ledger.domain.party import DomainError
from ledger.profile_images import upload_profile_image
from ledger.store.blobs import FileTooLarge, blob_store_from_env

app = typer.Typer(help="A party's profile: biography, links, press images.", no_args_is_help=True)


def _doc(party: Any) -> dict[str, Any]:
    return {"party": party.key, "name": party.name, **party.profile}


def _show(doc: dict[str, Any], as_json: bool) -> None:
    def render() -> None:
        console.print(f"[bold]{doc['name']}[/] ({doc['party']})")
        console.print(doc["biography"] or "(no biography)", highlight=False)
        if doc["links"]:
            console.print(table("Links", ["label", "url"], [(lk["label"], lk["url"]) for lk in doc["links"]]))
        if doc["images"]:
            rows = [(i["sha256"], i["content_type"], i["size_bytes"], i["caption"]) for i in doc["images"]]
            console.print(table("Press images", ["sha256", "type", "bytes", "caption"], rows))

    report(doc, as_json, render)


@app.command("show")
def show(party: str = typer.Argument(..., help="The party's key."), as_json: bool = JSON_OPTION) -> None:
    """A party's biography, links and press images."""
    try:
        found = ledger().get_party(party)
    except NotFound as exc:
        fail(str(exc), as_json)
    _show(_doc(found), as_json)


@app.command("set")
def set_profile(
    party: str = typer.Argument(..., help="The party's key."),
    biography: str = typer.Option(None, "--biography", help="The biography (text)."),
    biography_file: Annotated[
        Path | None, typer.Option("--biography-file", help="The biography, from a UTF-8 file.")
    ] = None,
    link: Annotated[
        list[str] | None, typer.Option("--link", help="LABEL=URL (http or https); repeat; replaces all.")
    ] = None,
    no_links: bool = typer.Option(False, "--no-links", help="Remove every link."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Change the biography and/or the links (an event with the operator as actor)."""
    app_ = ledger()
    try:
        text = biography_file.read_text(encoding="utf-8") if biography_file else biography
        links = None
        if link:
            links = [
                dict(zip(("label", "url"), item.split("=", 1), strict=True)) if "=" in item else {"url": item}
                for item in link
            ]
        if no_links:
            links = []
        found, changed = app_.update_profile(party, actor(), biography=text, links=links)
    except (NotFound, DomainError, OSError, UnicodeDecodeError) as exc:
        fail(str(exc), as_json)
    _show({**_doc(found), "changed": changed, "position": app_.head_position()}, as_json)


@app.command("add-image")
def add_image(
    party: Annotated[str, typer.Argument(help="The party's key.")],
    image: Annotated[Path, typer.Argument(help="A PNG, JPEG, GIF or WebP file (≤ 5 MiB; the bytes decide).")],
    caption: str = typer.Option("", "--caption", help="What the image shows."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Store a press image in the media blob store and add it to the profile."""
    app_ = ledger()
    try:
        with image.open("rb") as stream:
            found, sha, changed = upload_profile_image(app_, blob_store_from_env(), party, stream, caption, actor())
    except (NotFound, DomainError, FileTooLarge, OSError) as exc:
        fail(str(exc), as_json)
    _show({**_doc(found), "sha256": sha, "changed": changed, "position": app_.head_position()}, as_json)


@app.command("remove-image")
def remove_image(
    party: str = typer.Argument(..., help="The party's key."),
    sha256: str = typer.Argument(..., help="The image's SHA-256, as `royalty profile show` lists it."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Take an image off the profile."""
    app_ = ledger()
    try:
        found, changed = app_.remove_profile_image(party, sha256, actor())
    except (NotFound, DomainError) as exc:
        fail(str(exc), as_json)
    _show({**_doc(found), "changed": changed, "position": app_.head_position()}, as_json)
