"""`actionbias report`: the functions cli.py wires in (arguments + handler)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """Define the `report` sub-command's flags on `parser`."""
    parser.add_argument(
        "run_dirs",
        nargs="+",
        type=Path,
        metavar="RUN_DIR",
        help=(
            "audit run directories, or folders to search for them (every folder below "
            "holding config.json and metrics.json, in path order)"
        ),
    )
    parser.add_argument("--out", required=True, type=Path, help="the HTML file to write")
    parser.add_argument(
        "--baseline", metavar="NAME", help="run name every other run is compared with (paired)"
    )
    parser.add_argument("--title", default="actionbias report", help="page title (%(default)s)")
    parser.add_argument(
        "--card",
        type=Path,
        metavar="JSON",
        help="a SynthAct benchmark card (actionbias synth card) shown as a section",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="also render the page in headless chromium and save a PNG of it",
    )
    parser.add_argument(
        "--screenshot-height",
        type=int,
        default=2400,
        metavar="PX",
        help="height of the screenshot in pixels (width 1280; default %(default)s)",
    )


def report_command(args: argparse.Namespace) -> int:
    """Collect the run dirs, write the report (and its screenshot), print where it went."""
    from actionbias.report.page import write_report
    from actionbias.report.runs import collect_run_dirs

    run_dirs = collect_run_dirs(args.run_dirs)
    extra = []
    if args.card is not None:
        from actionbias.report.card import card_section, read_card

        extra.append(card_section(read_card(args.card)))
    out = write_report(
        run_dirs, args.out, title=args.title, baseline=args.baseline, extra_sections=extra
    )
    print(f"wrote {out} ({len(run_dirs)} run{'s' if len(run_dirs) != 1 else ''})")
    if args.screenshot is not None:
        from actionbias.report.screenshot import render_screenshot

        shot = render_screenshot(out, args.screenshot, height=args.screenshot_height)
        print(f"wrote {shot}")
    return 0
