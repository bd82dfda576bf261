"""The `royalty` command: one sub-command group per module, registered here.

Sub-commands are loaded when they are asked for: `royalty statements show` imports the statements
commands and what they need, not the API server, the PDF writer, Stripe and the rest. Every `royalty`
call pays its imports, so this is most of its start-up (importing every module took 3.1–3.5 s here).
`royalty --help` and `tools/gen_cli_docs.py` still load all of them.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator
from functools import cache
from importlib import import_module
from typing import Any

import typer
import typer.core
import typer.main


def _sub_app(module: str, attr: str = "app", extra: tuple[tuple[str, str, str], ...] = ()) -> Callable[[], Any]:
    """A loader for a group of sub-commands: `module.attr` (a Typer), with `extra` commands
    (name, module, function) added to it, as `catalogue search` or `payouts run` are."""

    @cache
    def load() -> Any:
        sub = getattr(import_module(f"cli.{module}"), attr)
        for name, other, function in extra:
            sub.command(name)(getattr(import_module(f"cli.{other}"), function))
        return sub

    return lambda: typer.main.get_group(load())


def _command(module: str, function: str) -> Callable[[], Any]:
    """A loader for one top-level command, `royalty init`."""

    def load() -> Any:
        single = typer.Typer(add_completion=False)
        single.command()(getattr(import_module(f"cli.{module}"), function))
        return typer.main.get_command(single)

    return load


# In the order `royalty --help` lists them.
COMMANDS: dict[str, Callable[[], Any]] = {
    "init": _command("init", "init"),
    "demo": _command("demo", "demo"),
    "catalogue": _sub_app("catalogue", extra=(("search", "browse", "search"),)),
    "splits": _sub_app("splits"),
    "disputes": _sub_app("disputes"),
    "trail": _command("trail", "trail"),
    "audit": _sub_app("audit"),
    "statements": _sub_app("statements"),
    "payouts": _sub_app(
        "payouts",
        extra=(
            ("run", "payouts_stripe", "run"),
            ("reconcile", "payouts_stripe", "reconcile"),
            ("link-account", "payouts_stripe", "link_account"),
        ),
    ),
    "pie": _sub_app("pie"),
    "pools": _sub_app("pools"),
    "usage": _sub_app("usage"),
    "reports": _sub_app("reports"),
    "pricing": _sub_app("pricing"),
    "review": _sub_app("review"),
    "parties": _sub_app("parties"),
    "profile": _sub_app("profiles"),
    "serve": _command("serve", "serve"),
    "run": _command("run", "run"),
    "scheduler": _sub_app("run"),
    "api": _sub_app("serve", "api_app"),
    "keys": _sub_app("keys"),
    "users": _sub_app("users"),
    "media": _sub_app("media"),
    "project": _sub_app("project"),
    "webhooks": _sub_app("webhooks"),
    "earnings": _command("reads", "earnings"),
    "stats": _command("reads", "stats"),
}


class LazyCommands(dict[str, Any]):  # click.Command values (typer vendors its own click)
    """The root group's commands by name; a command is built the first time it is looked up."""

    def __init__(self, loaders: dict[str, Callable[[], Any]]) -> None:
        super().__init__()
        self._loaders = loaders
        for name in loaders:
            dict.__setitem__(self, name, None)

    def __getitem__(self, name: str) -> Any:
        command = dict.__getitem__(self, name)
        if command is None:
            command = self._loaders[name]()
            command.name = name
            dict.__setitem__(self, name, command)
        return command

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def items(self) -> ItemsView[str, Any]:  # type: ignore[override]
        return {name: self[name] for name in self}.items()

    def values(self) -> Any:
        return [self[name] for name in self]

    def __iter__(self) -> Iterator[str]:
        return iter(list(dict.keys(self)))


class LazyGroup(typer.core.TyperGroup):
    """The root `royalty` group: knows every command's name, imports a command's module when used."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        commands = LazyCommands(COMMANDS)
        for name, command in self.commands.items():
            dict.__setitem__(commands, name, command)
        self.commands = commands

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)


app = typer.Typer(
    name="royalty",
    help="Event-sourced rights and royalty ledger. Every reporting command takes --json.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
)


@app.callback()
def root() -> None:
    """Event-sourced rights and royalty ledger. Every reporting command takes --json."""


if __name__ == "__main__":
    app()
