"""The `actionbias` command: one parser built from the packages' command tables.

Every package with commands exposes ``COMMANDS`` in its ``commands.py``: rows of
`actionbias.commandline.Command` (name, help, arguments, handler). This module only
lists those tables, builds the parser from them and turns what a handler raises
into an exit code: 0 ok, 1 failure, 2 bad input (a one-line message naming the
file, row or field), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from actionbias import __version__
from actionbias.commandline import Command, Handler, add_commands, assemble
from actionbias.errors import BadInputError

#: Each package's command table, in the order ``actionbias --help`` lists them, with the
#: top-level commands it adds rows to. A run imports only the tables of the command it
#: names, so ``actionbias tal eval`` loads no other package's commands.
TABLES: dict[str, tuple[str, ...]] = {
    "actionbias.synth.commands": ("synth",),
    "actionbias.video.commands": ("probe",),
    "actionbias.data.commands": ("data",),
    "actionbias.segment.commands": ("segment", "inpaint", "swap"),
    "actionbias.train.commands": ("train",),
    "actionbias.audit.commands": ("audit", "sweep", "evaluate", "metrics"),
    "actionbias.report.commands": ("report", "synth"),  # synth card writes a report page
    "actionbias.demo.commands": ("demo",),
    "actionbias.prompting.commands": ("prompt-tune", "prompt-eval"),
    "actionbias.tal.commands": ("tal",),
    "actionbias.a2o.commands": ("a2o",),
}


def command_tables(command: str | None = None) -> list[Sequence[Command]]:
    """The tables that hold `command` (all of them for None or an unknown name)."""
    modules = [module for module, names in TABLES.items() if command in names] or list(TABLES)
    return [importlib.import_module(module).COMMANDS for module in modules]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with `command`, only the parts that command needs."""
    parser = argparse.ArgumentParser(
        prog="actionbias",
        description=(
            "Measure and mitigate shortcut bias (scene, objects, language prior) "
            "in video action understanding."
        ),
    )
    parser.add_argument("--version", action="version", version=f"actionbias {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on failure")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_commands(sub, assemble(command_tables(command)))
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The sub-command named on the line (global options take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(_command_of(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler: Handler = args.handler
    try:
        return handler(args)
    except BadInputError as err:
        if args.debug:
            raise
        print(f"actionbias {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"actionbias {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if args.debug:
            raise
        message = " ".join(str(err).split()) or type(err).__name__
        print(
            f"actionbias {args.command}: failed: {type(err).__name__}: {message} "
            "(run with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
