"""``actionbias report`` and ``actionbias synth card``: the report package's command table.

``synth card`` is here rather than in `actionbias.synth.commands` because its
``--html`` page is a report page and synth sits below report; its row names
``parent="synth"`` so the command line still shows it as ``actionbias synth card``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from actionbias.argtypes import positive_int, seed_list
from actionbias.commandline import Command


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
    """one self-contained HTML report from audit/demo run directories

    Collect every run directory (config.json + metrics.json) under the given paths and write one
    HTML file with inline plots: accuracy, SHAcc and SBErr with 95 % intervals, per-class SBErr,
    mimetic accuracy per class, frame sweeps, Table 2/3 analogues and paired tests.
    """
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


def add_card_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of ``actionbias synth card``."""
    p.add_argument("data", type=Path, help="a generated SynthAct folder")
    p.add_argument("--json", type=Path, help="card JSON (default: DATA/card.json)")
    p.add_argument("--html", type=Path, help="also write the card as an HTML page")
    p.add_argument("--epochs", type=positive_int, default=14, help="probe epochs (14)")
    p.add_argument(
        "--seeds",
        "--seed",
        type=seed_list,
        default=[0],
        dest="card_seeds",
        metavar="S[,S...]",
        help="probe seeds; several train every probe once per seed on the same clips and "
        "give mean and t interval over seeds (0)",
    )
    p.add_argument("--workers", type=positive_int, default=2, help="render processes (2)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def cmd_synth_card(args: argparse.Namespace) -> int:
    """measure how strong a shortcut a generated SynthAct folder has

    Train the same small probe (the demo recipe's slow_tiny, 8x48x48, 14 epochs) on four views of
    the folder's clips: background only, human only, RGB with the scenes shuffled across classes (no
    shortcut) and RGB as generated (the baseline: test accuracy, swap SHAcc/SBErr, mimetic
    accuracy). With --seeds 0,1,2 every probe trains once per seed and each figure is the mean
    with a t interval over seeds: at this budget a training seed can move a figure by more than
    the clips' bootstrap interval says. Writes JSON (and an HTML page with --html); prints the
    card.
    """
    from actionbias.synth.card import benchmark_card, card_summary
    from actionbias.synth.quickfit import FitBudget

    out = args.json or args.data / "card.json"
    card = benchmark_card(
        args.data,
        out,
        budget=FitBudget(epochs=args.epochs, seed=args.card_seeds[0]),
        seeds=args.card_seeds,
        workers=args.workers,
        progress=not args.no_progress,
    )
    if args.html:
        from actionbias.report.card import write_card_page

        write_card_page(card, args.html)
    width = max(len(label) for label, _ in card_summary(card))
    for label, figure in card_summary(card):
        print(f"{label:<{width}}  {figure}")
    print(f"card: {out}" + (f", {args.html}" if args.html else ""))
    return 0


COMMANDS: tuple[Command, ...] = (
    Command("report", add_report_arguments, report_command),
    Command("card", add_card_arguments, cmd_synth_card, parent="synth"),
)
