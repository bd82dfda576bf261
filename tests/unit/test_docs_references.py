"""Every `royalty …` command the README and docs/ show names a real command and only its real
options, so an example cannot fall behind the CLI unnoticed (docs/cli.md itself is generated and
checked by test_cli_docs). Commands are read from inline code spans and from code blocks; prose
("royalty-ledger is …") is not a command. Likewise every `GET /v1/…` they show is a route of the
OpenAPI document with that method."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer import _click as click

from cli.main import app

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "cli.md")]
_SPAN = re.compile(r"`([^`\n]+)`")
_COMMAND = re.compile(r"(?:^|[\s$(|;&])royalty (?!royalty )((?:[a-z][\w:.-]*)(?:[ ]+[^\n|;&)#]*)?)")
_OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def _code(text: str) -> list[tuple[int, str]]:
    """(line number, code) for each inline code span and each line of a fenced block."""
    out: list[tuple[int, str]] = []
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.startswith("    "):
            out.append((number, line))
        else:
            out += [(number, span) for span in _SPAN.findall(line)]
    return out


def _sub(command: Any, name: str) -> Any:
    if not hasattr(command, "list_commands"):
        return None
    context = click.Context(command)
    return command.get_command(context, name) if name in command.list_commands(context) else None


def problems(text: str, root: Any) -> list[str]:
    """What the code in `text` gets wrong about the command tree `root`."""
    found = []
    for number, code in _code(text):
        for match in _COMMAND.finditer(code):
            tokens, command, path = match.group(1).split(), root, []
            while tokens and _sub(command, tokens[0]) is not None:
                command = _sub(command, tokens[0])
                path.append(tokens.pop(0))
            if hasattr(command, "list_commands"):
                if tokens and re.fullmatch(r"[a-z][a-z-]*", tokens[0]):
                    found.append(f"line {number}: no command `royalty {' '.join([*path, tokens[0]])}`")
                continue
            options = {"--help"}
            for param in command.params:
                options.update(param.opts)
                options.update(param.secondary_opts)
            for token in tokens:
                for option in _OPTION.findall(token):
                    if option not in options:
                        found.append(f"line {number}: `royalty {' '.join(path)}` has no option {option}")
    return found


ROOT_COMMAND = typer.main.get_command(app)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_documented_commands_exist_with_their_options(path: Path) -> None:
    assert problems(path.read_text(), ROOT_COMMAND) == []


def test_the_check_finds_a_renamed_command_and_a_stale_option() -> None:
    text = (
        "Run `royalty statements close 2026-01 --json`, then\n"
        "```sh\nroyalty statements closes 2026-01\nroyalty usage ingest f.csv --batchsize 10\n```\n"
        "royalty-ledger is a ledger, and royalty is prose outside code;\n"
        "`podman run --rm royalty royalty init` names the image, then the command.\n"
    )
    assert problems(text, ROOT_COMMAND) == [
        "line 3: no command `royalty statements closes`",
        "line 4: `royalty usage ingest` has no option --batchsize",
    ]


_ROUTE = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) (/v1/[^\s`),;?]*)")


def route_problems(text: str, spec: dict[str, Any]) -> list[str]:
    """Each `METHOD /v1/…` in `text` must match a path of the OpenAPI document with that method; a
    placeholder in the docs ({id}, <id>, ISRC) matches any one segment."""
    routes = [
        (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"), {m.upper() for m in ops})
        for path, ops in spec["paths"].items()
    ]
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for method, path in _ROUTE.findall(line):
            path = path.rstrip(".:")
            concrete = re.sub(r"\{[^}]+\}|<[^>]+>|[A-Z_]{2,}", "x", path)
            methods = [ms for pattern, ms in routes if pattern.match(concrete)]
            if not methods:
                found.append(f"line {number}: no route {path}")
            elif not any(method in ms for ms in methods):
                found.append(f"line {number}: {path} has no {method}")
    return found


SPEC = json.loads((ROOT / "schemas" / "openapi.json").read_text())


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_documented_routes_exist_with_their_methods(path: Path) -> None:
    assert route_problems(path.read_text(), SPEC) == []


def test_the_route_check_finds_a_missing_route_and_a_wrong_method() -> None:
    text = "GET /v1/statements/{period}/nothing-here\nDELETE /v1/health\nGET /v1/health\n"
    assert route_problems(text, SPEC) == [
        "line 1: no route /v1/statements/{period}/nothing-here",
        "line 2: /v1/health has no DELETE",
    ]
