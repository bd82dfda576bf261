"""`royalty serve` runs the HTTP API under uvicorn; `royalty api openapi` exports its OpenAPI document."""

from __future__ import annotations

import errno
import json
import os
import socket
from pathlib import Path

import typer

from cli.output import JSON_OPTION, console, fail, report

api_app = typer.Typer(help="The HTTP API's published contract.", no_args_is_help=True)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="0 picks a free port (printed on start)."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Processes; each opens its own store connections."),
    log_level: str = typer.Option("warning", "--log-level"),
    projector: bool = typer.Option(
        None,
        "--projector/--no-projector",
        help="Follow the log with an in-process projector (default: on with one worker; with "
        "more, run `royalty project --follow` beside the server).",
    ),
) -> None:
    """Serve the API (store from ROYALTY_DATABASE_URL, as every command); prints its address."""
    from api.app import PROJECTOR_ENV  # imported here: other commands need no web stack

    if projector is None:
        projector = workers == 1
    os.environ[PROJECTOR_ENV] = "1" if projector else "0"
    sock = listening_socket(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    console.print(
        f"royalty API on {base_url(bound_host, bound_port)} (dashboard: /, docs: /docs; stop with Ctrl-C)",
        highlight=False,
    )
    console.file.flush()
    import uvicorn

    uvicorn.run(
        "api.app:create_app",
        factory=True,
        fd=sock.fileno(),
        workers=workers,
        log_level=log_level,
        access_log=False,
    )


def base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind the port here, so a taken port is one clear line and a non-zero exit, not a traceback."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        fail(f"cannot listen on {host}: {exc.strerror}", code=2)
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            fail(f"port {port} on {host} is already in use: stop what holds it or pass --port", code=2)
        fail(f"cannot listen on {host}:{port}: {exc.strerror}", code=2)
    sock.set_inheritable(True)
    return sock


def openapi_document() -> str:
    """The OpenAPI document as committed to schemas/openapi.json (stable key order)."""
    from api.app import build_app

    return json.dumps(build_app().openapi(), indent=2, sort_keys=True) + "\n"


OUT_OPTION = typer.Option(None, "--out", help="Write here (e.g. schemas/openapi.json); default: print it.")


@api_app.command("openapi")
def openapi(out: Path = OUT_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Export the OpenAPI document of the HTTP API."""
    text = openapi_document()
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text)
    report(
        {"ok": True, "out": str(out), "bytes": len(text)},
        as_json,
        lambda: console.print(f"wrote {out} ({len(text):,} bytes)"),
    )
