"""The one shape of a command: a `Command` row in a package's ``COMMANDS`` table.

Every package that has commands (``synth``, ``train``, ``audit``, ``tal``, ``a2o`` ...)
exposes ``COMMANDS: tuple[Command, ...]`` in its ``commands.py``; `actionbias.cli`
only loops over those tables. A row names the command, says what it is for, adds its
arguments and points at a short handler (parse, call one library function, print). A
group (``tal``, ``a2o``) is a row whose ``subcommands`` hold further rows. The
words of ``--help`` are the handler's docstring, so they are written once. Keeping the
rows as plain data means a newcomer finds any command two hops from ``cli.py``, and
``--help`` imports no heavy package: handlers import what they need when they run.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

Handler = Callable[[argparse.Namespace], int]
AddArguments = Callable[[argparse.ArgumentParser], None]


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """A group's own parser takes no arguments besides its sub-commands."""


@dataclass(frozen=True)
class Command:
    """One row of a ``COMMANDS`` table: ``Command("swap", add_swap_arguments, cmd_swap)``.

    A command's words live once, in its handler's docstring, as click does it: the
    first paragraph is the line the parent's listing shows, the rest heads the
    command's own ``--help``. A pure group (``tal``, ``a2o``) has no handler and
    gives ``help`` and ``description`` here instead. A command that has both a
    handler and ``subcommands`` (``actionbias synth`` and ``actionbias synth card``)
    runs its own handler when no sub-command is named.

    ``parent`` names the top-level command a row belongs under when it cannot sit in
    that command's own table: ``synth card`` writes a report page, so its row lives in
    `actionbias.report.commands` (synth may not import report) with ``parent="synth"``.
    """

    name: str
    add_arguments: AddArguments = _no_arguments
    handler: Handler | None = None
    help: str | None = None
    description: str | None = None
    epilog: str | None = None
    raw_help: bool = False
    subcommands: tuple[Command, ...] = field(default=())
    parent: str | None = None

    def texts(self) -> tuple[str, str | None]:
        """(help line, description): the fields if given, else the handler's docstring."""
        if self.help is not None:
            return self.help, self.description
        doc = inspect.getdoc(self.handler) if self.handler is not None else None
        if not doc:
            raise TypeError(f"command {self.name!r} has neither help nor a handler docstring")
        first, _, rest = doc.partition("\n\n")
        return " ".join(first.split()), rest.strip() or None

    def add_to(self, sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
        """Add this command (and its sub-commands) to an argparse sub-parser group."""
        help_line, description = self.texts()
        kwargs: dict[str, object] = {"help": help_line, "description": description}
        if self.epilog is not None:
            kwargs["epilog"] = self.epilog
        if self.raw_help:
            kwargs["formatter_class"] = argparse.RawDescriptionHelpFormatter
        parser = sub.add_parser(self.name, **kwargs)
        self.add_arguments(parser)
        if self.handler is not None:
            parser.set_defaults(handler=self.handler)
        if self.subcommands:
            inner = parser.add_subparsers(
                dest=f"{self.name.replace('-', '_')}_command",
                metavar="COMMAND",
                required=self.handler is None,
            )
            add_commands(inner, self.subcommands)
        return parser


def flags(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """The named flags as keyword arguments of the library function they feed.

    A flag and the parameter it sets share a name, so a handler lists the names
    once (``run(args.out, **flags(args, "seed", "shard"))``) instead of a line of
    ``seed=args.seed`` each; a flag that is renamed on its way is still spelled out.
    """
    return {name: getattr(args, name) for name in names}


def add_commands(sub: argparse._SubParsersAction, commands: Sequence[Command]) -> None:
    """Add every row of a table to ``sub``."""
    for command in commands:
        command.add_to(sub)


def assemble(tables: Iterable[Sequence[Command]]) -> list[Command]:
    """The top-level rows of several tables, each row with a ``parent`` moved under it.

    A row whose parent is not among the tables is left out: the caller built only
    the tables of the command it runs, and that command is not the parent.
    """
    rows = [row for table in tables for row in table]
    children: dict[str, list[Command]] = {}
    for row in rows:
        if row.parent is not None:
            children.setdefault(row.parent, []).append(replace(row, parent=None))
    return [
        replace(row, subcommands=(*row.subcommands, *children.get(row.name, ())))
        for row in rows
        if row.parent is None
    ]
