"""``actionbias probe``: what a video file, frame folder or image holds, as JSON.

It lives with `actionbias.video.probe`, the function it prints, and imports it only
when it runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from actionbias.commandline import Command


def add_probe_arguments(p: argparse.ArgumentParser) -> None:
    """The one positional: the media to probe."""
    p.add_argument("paths", nargs="+", type=Path, help="video files, frame folders or images")


def cmd_probe(args: argparse.Namespace) -> int:
    """print a video's, frame folder's or image's metadata as JSON

    Print frame count, fps, duration, display size and rotation as JSON.
    """
    from dataclasses import asdict

    from actionbias.video import probe

    infos = [asdict(probe(path)) for path in args.paths]
    print(json.dumps(infos if len(infos) > 1 else infos[0], indent=2))
    return 0


COMMANDS: tuple[Command, ...] = (Command("probe", add_probe_arguments, cmd_probe),)
