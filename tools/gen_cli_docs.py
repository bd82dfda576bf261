"""Write docs/cli.md from the `royalty` command tree itself, so the CLI docs stay true.

Run: .venv/bin/python tools/gen_cli_docs.py   (tests/unit/test_cli_docs.py fails when stale)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer.main

from cli.main import app

HEADER = """# CLI reference

Generated from the command tree by `tools/gen_cli_docs.py` — do not edit by hand.
Every command that reports something takes `--json` and prints one JSON document.
The store is chosen by `ROYALTY_DATABASE_URL` (see the README).
"""


def walk(command: Any, path: list[str]) -> list[str]:
    lines: list[str] = []
    if hasattr(command, "commands"):  # a group (typer vendors its own click)
        for name in sorted(command.commands):
            lines += walk(command.commands[name], [*path, name])
        return lines
    usage = " ".join(path)
    lines.append(f"\n## `{usage}`\n")
    lines.append((command.help or "").strip().split("\n\n")[0] + "\n")
    params = [p for p in command.params if p.name != "help"]
    if params:
        lines.append("| argument / option | help |\n|---|---|")
        for p in params:
            is_option = getattr(p, "param_type_name", "") == "option"
            names = ", ".join(f"`{o}`" for o in p.opts) if is_option else f"`{p.name.upper()}`"
            lines.append(f"| {names} | {(getattr(p, 'help', '') or '').replace('|', '/')} |")
    return lines


def render() -> str:
    root = typer.main.get_command(app)
    return HEADER + "\n".join(walk(root, ["royalty"])) + "\n"


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
    target.write_text(render())
    sys.stdout.write(f"wrote {target}\n")
