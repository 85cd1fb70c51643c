"""``actionbias train``: train a registered model from a recipe, flags and ``--set`` overrides.

Flags are shorthands for recipe keys (``--epochs`` is ``trainer.max_epochs=``); the
handler turns them into overrides, calls `actionbias.train.train` and prints the run's
result. `actionbias.train` (torch, Lightning) is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import json

from actionbias.argtypes import positive_int
from actionbias.commandline import Command

# flag -> the recipe key it sets
_FLAG_KEYS = {
    "model": "model.name",
    "data": "data.train",
    "val": "data.val",
    "epochs": "trainer.max_epochs",
    "devices": "trainer.devices",
    "num_nodes": "trainer.num_nodes",
    "seed": "seed",
}


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of ``actionbias train``."""
    p.add_argument("--config", default="synthact", help="recipe name or YAML (%(default)s)")
    p.add_argument("--model", help="registered model name (e.g. slow_r50, dual_sum)")
    p.add_argument("--data", help="training data: manifest, SynthAct dir or HAT root")
    p.add_argument("--val", help="validation data (default: the training data's val split)")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--epochs", type=positive_int, help="maximum epochs")
    p.add_argument("--devices", help="Lightning devices (e.g. 1, 4, auto)")
    p.add_argument("--num-nodes", type=positive_int, help="Lightning nodes for DDP")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="config override"
    )


def _overrides(args: argparse.Namespace) -> list[str]:
    """The recipe overrides the flags stand for, ``--set`` last so that it wins."""
    out = [f"run_dir={args.out}"]
    for flag, key in _FLAG_KEYS.items():
        if getattr(args, flag) is not None:
            out.append(f"{key}={getattr(args, flag)}")
    if args.data is not None and args.val is None:
        out.append(f"data.val={args.data}")
    return out + list(args.set)


def cmd_train(args: argparse.Namespace) -> int:
    """train a registered model (Lightning; checkpoints every epoch, resumes)

    Train a model from the registry on any manifest or a SynthAct directory. Config = recipe (paper
    | synthact | a YAML file) <- flags <- --set KEY=VALUE. Running again with the same --out resumes
    from last.ckpt.
    """
    from actionbias.train import load_config, train

    result = train(load_config(args.config, _overrides(args)))
    summary = {
        "run_dir": str(result.run_dir),
        "best_checkpoint": str(result.best_checkpoint),
        "best_score": result.best_score,
        "monitor": result.monitor,
        "epochs": result.epochs,
        "resumed_from": str(result.resumed_from) if result.resumed_from else None,
        "skipped": result.skipped,
    }
    print(json.dumps(summary, indent=2))
    return 0


COMMANDS: tuple[Command, ...] = (Command("train", add_train_arguments, cmd_train),)
