"""``actionbias data check``: read a manifest in any supported format and count what it holds.

The handler reads through `actionbias.data.load_manifest`, the reader every other
command uses, so a manifest that passes here reads the same everywhere.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from actionbias.commandline import Command
from actionbias.errors import BadInputError


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of ``actionbias data check``."""
    p.add_argument("path", type=Path, help="manifest file or HAT root directory")
    p.add_argument(
        "--format",
        default="auto",
        help="auto | kinetics | mimetics | slowfast | rawframes | hat (default: %(default)s)",
    )
    p.add_argument("--root", type=Path, help="media root the manifest's paths are relative to")
    p.add_argument("--strict", action="store_true", help="exit 2 when any media file is missing")


def cmd_check(args: argparse.Namespace) -> int:
    """read a manifest, print class and split counts and missing media

    Read a manifest (format detected unless given), report how many records, classes and missing
    media files it has. Missing media are fatal with --strict.
    """
    from collections import Counter

    from actionbias.data import load_manifest

    manifest = load_manifest(args.path, format=args.format, root=args.root)
    missing = manifest.missing_media()
    if missing and args.strict:
        first = missing[0]
        raise BadInputError(
            f"{len(missing)} of {len(manifest)} media files missing (first: {first.path})",
            source=args.path,
            where=f"record {first.id}",
        )
    report = {
        "source": str(args.path),
        "records": len(manifest),
        "classes": len(manifest.classes),
        "splits": dict(Counter(r.split or "" for r in manifest)),
        "labels_used": len({r.label for r in manifest}),
        "missing_media": len(missing),
        "missing_examples": [r.path for r in missing[:5]],
    }
    print(json.dumps(report, indent=2))
    return 0


COMMANDS: tuple[Command, ...] = (
    Command(
        name="data",
        help="read and check dataset manifests in any supported format",
        description="Dataset manifests: Kinetics/Mimetics CSV, PySlowFast, MMAction2 lists, HAT.",
        subcommands=(Command("check", add_check_arguments, cmd_check),),
    ),
)
