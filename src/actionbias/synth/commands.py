"""``actionbias synth``: generate SynthAct.

The handler only turns flags into the arguments of `actionbias.synth.generate`,
imported when the command runs. Its ``card`` sub-command writes a report page as
well, so its row lives in `actionbias.report.commands` (``parent="synth"``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from actionbias.argtypes import fraction, key_values, positive_int
from actionbias.commandline import Command, flags
from actionbias.errors import BadInputError

_SYNTH_HELP = """\
knobs of the scene shortcut (README, "SynthAct"):
  --correlation R     share of train/val/test clips filmed in their class's home set
  --scene-sets M      scenes per class: its own home scene + the next M-1 classes'
                      (every scene is then shared by M classes; 1 = one scene each)
  --home-weight W     share of a class's home-set clips on its own home scene
  --lighting V        per-clip lighting / colour / hue change of the scene, 0..1
  --props MIN,MAX     class-independent distractor props per clip
  --actor-height A,B  actor height as a fraction of the frame
  --set KEY=VALUE     any other preset field (e.g. --set camera_shake=0.5), among them:
      object_rate=R       share of an object class's train/val/test clips holding its object
      pair_objects=true   a time-reversed class holds its base class's object too
      scene_contrast=C, scene_blur=B   shallow depth of field behind the actor
      mimetic_scenes=unused|studios    scenes of the mimetic split
sub-command:
  actionbias synth card DATA   measure a generated folder's shortcut (benchmark card)
"""

# flags that set the preset field of the same name when given
_PRESET_FLAGS = (
    "correlation", "classes", "frames", "size", "fps", "train", "val", "test", "mimetic",
    "untrimmed", "crf", "scene_sets", "home_weight", "lighting", "props", "actor_height",
)  # fmt: skip


def add_synth_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of ``actionbias synth``: the output, the preset and its overrides."""
    p.add_argument("--out", type=Path, help="output directory (required to generate)")
    p.add_argument("--preset", default="default", help="default | legacy | tiny (%(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--correlation", type=fraction, help="fraction of clips on their home set")
    p.add_argument("--classes", type=positive_int, help="number of action classes")
    p.add_argument("--frames", type=positive_int, help="frames per trimmed clip")
    p.add_argument("--size", type=positive_int, help="frame height and width in pixels")
    p.add_argument("--fps", type=float, help="frames per second of the written videos")
    for split in ("train", "val", "test", "mimetic"):
        p.add_argument(f"--{split}", type=int, metavar="N", help=f"{split} clips per class")
    p.add_argument("--untrimmed", type=int, metavar="N", help="number of untrimmed videos")
    p.add_argument(
        "--hat-splits",
        help="comma-separated splits written as HAT ori/seg/inp PNG folders (e.g. test,swap)",
    )
    p.add_argument("--crf", type=int, help="H.264 quality (0 lossless .. 51)")
    p.add_argument("--scene-sets", type=positive_int, metavar="M", help="scenes per class")
    p.add_argument("--home-weight", type=fraction, metavar="W", help="own-scene share")
    p.add_argument("--lighting", type=fraction, metavar="V", help="scene lighting variety")
    p.add_argument("--props", metavar="MIN,MAX", help="distractor props per clip")
    p.add_argument("--actor-height", metavar="A,B", help="actor height, frame fraction")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets")
    p.add_argument("--workers", type=positive_int, help="parallel worker processes")
    p.add_argument("--force", action="store_true", help="regenerate even if OUT is up to date")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    """Preset overrides: ``--set`` pairs as text (the preset coerces them), then the flags."""
    overrides: dict[str, object] = key_values(args.sets, "--set", parse_json=False)
    overrides.update({k: getattr(args, k) for k in _PRESET_FLAGS if getattr(args, k) is not None})
    if args.hat_splits:
        overrides["hat_splits"] = [s.strip() for s in args.hat_splits.split(",") if s.strip()]
    return overrides


def cmd_synth(args: argparse.Namespace) -> int:
    """generate the SynthAct benchmark (videos, masks, swap/mimetic splits, untrimmed)

    Render SynthAct, the procedurally generated action benchmark with a controllable scene shortcut,
    in the real dataset formats (Kinetics CSV + mp4, HAT ori/seg/inp, swap pairs, ActionFormer
    JSON). Same seed and preset, same bytes (any worker count, any load). Presets: calibrated
    (default: the papers' regime, see the benchmark card), legacy (the first default: one home scene
    per class, an extreme shortcut), tiny (test fixture).
    """
    from actionbias.synth import generate

    if args.out is None:
        raise BadInputError("--out is required to generate (or use: actionbias synth card DATA)")
    summary = generate(
        args.out,
        **flags(args, "preset", "seed", "workers", "force"),
        progress=not args.no_progress,
        **_overrides(args),
    )
    print(json.dumps(summary, indent=2, sort_keys=True, default=str))
    return 0


COMMANDS: tuple[Command, ...] = (
    Command("synth", add_synth_arguments, cmd_synth, epilog=_SYNTH_HELP, raw_help=True),
)
