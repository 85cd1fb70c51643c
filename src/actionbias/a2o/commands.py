"""The ``actionbias a2o run | maps | demo`` commands.

Heavy modules (torch, Lightning, transformers) are imported in the handlers so
``actionbias --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from actionbias.argtypes import key_values, positive_int
from actionbias.commandline import Command, flags
from actionbias.errors import BadInputError

POLICIES = ("search", "llm", "static", "pool", "fixed")


def _word_list(text: str | None, where: str) -> list[str]:
    """Comma-separated words, or @FILE with one word per line."""
    if text is None:
        return []
    if text.startswith("@"):
        path = Path(text[1:])
        if not path.is_file():
            raise BadInputError("word list file not found", source=path)
        words = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    else:
        words = [w.strip() for w in text.split(",")]
    words = [w for w in words if w and not w.startswith("#")]
    if not words:
        raise BadInputError("the word list is empty", where=where)
    return words


def _add_data(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        required=True,
        type=Path,
        help="a SynthAct folder (train/val splits used), or a training manifest with --val",
    )
    p.add_argument("--val", type=Path, help="validation manifest (with a manifest --data)")
    p.add_argument("--format", default="auto", help="manifest format (default: %(default)s)")
    p.add_argument("--root", type=Path, help="media root the manifests' paths are relative to")
    p.add_argument(
        "--backend",
        default="synth-oracle",
        help="likelihood maps: synth-oracle, pose, owlv2, grounding-dino (%(default)s)",
    )
    p.add_argument(
        "--backend-opt",
        action="append",
        metavar="KEY=VALUE",
        help="backend option, repeatable (e.g. model=google/owlv2-base-patch16-ensemble; "
        "sam2=facebook/sam2.1-hiera-small or mask=sam2: SAM 2 masks, mask=box: boxes)",
    )
    p.add_argument("--map-size", type=positive_int, default=64, help="map short side (64)")
    p.add_argument("--cache", type=Path, help="map cache folder (default: OUT/maps)")


def _manifests(args: argparse.Namespace) -> dict[str, Any]:
    from actionbias.data import load_manifest

    data = Path(args.data)
    if data.is_dir() and (data / "synthact.json").is_file():
        from actionbias.synth import read_synthact

        return read_synthact(data)
    if args.val is None:
        raise BadInputError("a manifest --data needs --val (the reward's split)", where="--val")
    train = load_manifest(data, format=args.format, root=args.root)
    val = load_manifest(args.val, format=args.format, root=args.root)
    splits = {"train": train, "val": val}
    if getattr(args, "test", None) is not None:
        splits["test"] = load_manifest(args.test, format=args.format, root=args.root)
    return splits


def _store(args: argparse.Namespace, out: Path) -> Any:
    from actionbias.a2o.maps import MapStore

    return MapStore(
        args.backend,
        cache_root=args.cache or out / "maps",
        map_size=args.map_size,
        **key_values(args.backend_opt, "--backend-opt"),
    )


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    _add_data(p)
    p.add_argument("--out", required=True, type=Path, help="run folder (resumed if it exists)")
    p.add_argument(
        "--policy",
        choices=POLICIES,
        help="who proposes object sets (default: llm with --llm, else the offline search)",
    )
    p.add_argument(
        "--llm",
        help="policy LLM for llm/static/pool: openai:MODEL[@BASE_URL] (key from OPENAI_API_KEY)",
    )
    p.add_argument("--objects", help="fixed policy's set / search's initial set: a,b,c or @FILE")
    p.add_argument("--vocabulary", help="search policy's vocabulary: a,b,c or @FILE")
    p.add_argument("--strategy", choices=("greedy", "evolutionary"), default="greedy")
    p.add_argument("--iterations", type=positive_int, default=5, help="ICRL iterations T (5)")
    p.add_argument("--max-objects", type=positive_int, default=15, help="C_max (15)")
    p.add_argument("--dataset-name", help="dataset name in the LLM's task description")
    p.add_argument("--initial-history", type=Path, help="history.jsonl of another run (OOD)")
    p.add_argument("--final-epochs", type=positive_int, help="train the best set this long")
    p.add_argument(
        "--test",
        type=Path,
        help="held-out test manifest for the final figure (a SynthAct folder uses its test "
        "split); never used by the search",
    )
    p.add_argument(
        "--no-test",
        action="store_true",
        help="report only the selection split's figures (biased for the chosen set)",
    )
    _add_training(p)


def _add_training(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backbone", default="slow_tiny", help="recogniser (slow_tiny, vjepa2, ...)")
    p.add_argument("--pretrained", help="backbone weights: checkpoint file or HF id/folder")
    p.add_argument("--epochs", type=positive_int, default=1, help="epochs per trial (1)")
    p.add_argument("--batch-size", type=positive_int, default=8, help="(8)")
    p.add_argument("--lr", type=float, default=1e-3, help="(1e-3)")
    p.add_argument("--weight-decay", type=float, default=0.0, help="(0)")
    p.add_argument("--adapter-depth", type=int, default=0, help="ReLU blocks before 1x1 (0)")
    p.add_argument("--frames", type=positive_int, default=8, help="frames per clip (8)")
    p.add_argument("--crop", type=positive_int, default=64, help="crop size (64; 256 for vjepa2)")
    p.add_argument("--shots", type=positive_int, help="few-shot: this many clips per class")
    p.add_argument("--seed", type=int, default=0, help="training and search seed (0)")
    p.add_argument("--accelerator", default="cpu", help="cpu, gpu or auto (cpu)")
    p.add_argument("--precision", default="32-true", help="Lightning precision (32-true)")
    p.add_argument("--force", action="store_true", help="start over when settings differ")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _policy(args: argparse.Namespace, out: Path) -> Any:
    from actionbias.a2o import policies
    from actionbias.a2o.demo import VOCABULARY
    from actionbias.a2o.search_policy import SearchPolicy

    if args.policy is None:
        args.policy = "llm" if args.llm else "search"
    if args.llm and args.policy in ("search", "fixed"):
        raise BadInputError(f"--llm has no use with the {args.policy} policy", where="--llm")
    if args.policy != "search" and (args.vocabulary or args.strategy != "greedy"):
        raise BadInputError("--vocabulary/--strategy are for --policy search", where="--policy")
    objects = _word_list(args.objects, "--objects")
    if objects and args.policy in ("llm", "static", "pool"):
        raise BadInputError(
            f"--objects has no use with the {args.policy} policy", where="--objects"
        )
    if args.policy == "fixed":
        if not objects:
            raise BadInputError("the fixed policy needs --objects", where="--objects")
        return policies.FixedPolicy(objects, name="fixed")
    if args.policy == "search":
        vocabulary = _word_list(args.vocabulary, "--vocabulary") or list(VOCABULARY)
        return SearchPolicy(
            vocabulary, strategy=args.strategy, seed=args.seed, initial=objects or None
        )
    if not args.llm:
        raise BadInputError(f"the {args.policy} policy needs --llm openai:MODEL", where="--llm")
    from actionbias.audit.scorers import DEFAULT_BASE_URL, parse_model_string
    from actionbias.llm import ChatClient

    spec = parse_model_string(args.llm)
    if spec.get("type") != "vlm-endpoint":
        raise BadInputError(f"expected openai:MODEL[@URL], got {args.llm!r}", where="--llm")
    client = ChatClient(
        str(spec.get("base_url") or DEFAULT_BASE_URL),
        str(spec["model"]),
        api_key_env=str(spec.get("api_key_env", "OPENAI_API_KEY")),
        cache_dir=out / "llm_cache",
    )
    if args.policy == "llm":
        from actionbias.a2o.llm_policy import LLMPolicy

        policy: Any = LLMPolicy(client)
    elif args.policy == "static":
        policy = policies.StaticPromptPolicy(client)
    else:
        policy = policies.PromptPoolPolicy(client, combinations=args.iterations)
    policy.seed = args.seed  # repeated runs (different --seed) sample their own replies
    return policy


def _environment(args: argparse.Namespace, out: Path) -> Any:
    """The training environment the run/tune options describe."""
    return _environment_and_splits(args, out)[0]


def _environment_and_splits(args: argparse.Namespace, out: Path) -> tuple[Any, dict[str, Any]]:
    """The training environment and every split read (a2o run also wants ``test``)."""
    from actionbias.a2o.config import A2OTrainConfig
    from actionbias.a2o.data import few_shot
    from actionbias.a2o.environment import TrainEnvironment

    key_values(args.backend_opt, "--backend-opt")  # bad options fail before any data is read
    if args.backbone == "vjepa2" and args.crop == 64:
        raise BadInputError("V-JEPA 2 needs its crop size (e.g. --crop 256)", where="--crop")
    splits = _manifests(args)
    train = splits["train"]
    if args.shots:
        train = few_shot(train, args.shots, seed=args.seed)
    config = A2OTrainConfig(
        **flags(
            args,
            "backbone",
            "pretrained",
            "epochs",
            "batch_size",
            "lr",
            "weight_decay",
            "adapter_depth",
            "seed",
            "accelerator",
            "precision",
        ),
        num_frames=args.frames,
        short_side=args.crop,
        crop_size=args.crop,
    )
    return TrainEnvironment(train, splits["val"], _store(args, out), config), splits


def cmd_run(args: argparse.Namespace) -> int:
    """Algorithm 1: search the object vocabulary (resumable)

    Propose -> train -> reward (val accuracy) for T iterations; keep the best; score the final model
    once on a held-out test split the search never saw.
    """
    from actionbias.a2o.loop import load_injected_history, run_icrl
    from actionbias.a2o.task import PAPER_DETECTOR, TaskDescription

    out = Path(args.out).resolve()  # trial weight paths stay valid from any directory
    if args.no_test and args.test is not None:
        raise BadInputError("--test and --no-test exclude each other", where="--no-test")
    synthact = Path(args.data).is_dir() and (Path(args.data) / "synthact.json").is_file()
    if synthact and args.test is not None:
        raise BadInputError("a SynthAct folder brings its own test split", where="--test")
    if not (synthact or args.no_test or args.test is not None or args.val is None):
        raise BadInputError(
            "the final figure needs a held-out test manifest (--test), or --no-test to "
            "report only the selection split's (biased) figures",
            where="--test",
        )
    env, splits = _environment_and_splits(args, out)
    train = env.train
    task = TaskDescription(
        dataset=args.dataset_name or Path(args.data).name,
        classes=list(train.classes),
        detector=env.detector or PAPER_DETECTOR,  # the prompt names what makes the maps
        max_objects=args.max_objects,
    )
    history = load_injected_history(args.initial_history) if args.initial_history else ()
    result = run_icrl(
        _policy(args, out),
        env,
        task,
        out,
        **flags(args, "iterations", "max_objects", "final_epochs", "force"),
        initial_history=history,
        test=None if args.no_test else splits.get("test"),
        progress=not args.no_progress,
    )
    best = result.best
    chosen_on = _split_text(env.val, "val")
    print(
        f"best (iteration {best.iteration}): {100 * best.accuracy:.1f}% on the selection split "
        f"{chosen_on} with {len(best.objects)} objects: {', '.join(best.objects)}"
    )
    if result.final:
        print(
            f"final training ({result.final['epochs']} epochs): "
            f"{100 * result.final['accuracy']:.1f}% on the selection split {chosen_on}"
        )
    if result.test:
        t = result.test
        print(
            f"test: {100 * t['accuracy']:.1f}% on the held-out split {t['split']} "
            f"({t['clips']} clips, never used by the search; model: {t['model']})"
        )
        print(f"test audit: {t['audit_dir']} (actionbias report {t['audit_dir']})")
    else:
        print(
            "no held-out test figure (--no-test): the selection split's accuracy above is "
            "biased upward for the chosen set"
        )
    print(f"history: {result.history_path}; summary: {out / 'summary.json'}")
    return 0


def _split_text(manifest: Any, default: str) -> str:
    return f"{manifest.name or default} ({len(manifest)} clips)"


def add_tune_arguments(p: argparse.ArgumentParser) -> None:
    _add_data(p)
    p.add_argument("--out", required=True, type=Path, help="study folder (resumed if it exists)")
    p.add_argument("--objects", help="object set to tune for: a,b,c or @FILE (none: plain)")
    p.add_argument("--trials", type=positive_int, default=20, help="Optuna trials (20)")
    p.add_argument("--lr-range", type=float, nargs=2, default=(1e-5, 1e-2), metavar=("LO", "HI"))
    p.add_argument("--wd-range", type=float, nargs=2, default=(1e-7, 1e-3), metavar=("LO", "HI"))
    _add_training(p)


def cmd_tune(args: argparse.Namespace) -> int:
    """Optuna search of learning rate and weight decay for one object set (resumable)

    Tune lr and weight decay (log-uniform, TPE) on the reward split (Sec. 4.3).
    """
    from actionbias.a2o.tuning import tune_optimiser

    out = Path(args.out).resolve()
    objects = _word_list(args.objects, "--objects")
    result = tune_optimiser(
        _environment(args, out),
        objects,
        out,
        n_trials=args.trials,
        lr=args.lr_range,
        weight_decay=args.wd_range,
        seed=args.seed,
    )
    params = ", ".join(f"{k}={v:.3g}" for k, v in result.best_params.items())
    print(f"best of {len(result.trials)} trials: {100 * result.best_accuracy:.1f}% with {params}")
    print(f"study: {out / 'optuna.db'}; summary: {out / 'tuning.json'}")
    return 0


def add_maps_arguments(p: argparse.ArgumentParser) -> None:
    _add_data(p)
    p.add_argument("--queries", required=True, help="object queries: a,b,c or @FILE")
    p.add_argument("--out", required=True, type=Path, help="folder for the cache (OUT/maps)")
    p.add_argument("--splits", nargs="+", help="SynthAct splits (default: all)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def cmd_maps(args: argparse.Namespace) -> int:
    """compute and cache likelihood maps for object queries

    Fill the map cache (per video, query and backend) ahead of training.
    """
    key_values(args.backend_opt, "--backend-opt")  # bad options fail before any data is read
    splits = _manifests(args)
    names = args.splits or list(splits)
    unknown = [n for n in names if n not in splits]
    if unknown:
        raise BadInputError(f"no split {unknown[0]!r} (have {', '.join(splits)})", where="--splits")
    records = [r for n in names for r in splits[n].records]
    counts = _store(args, Path(args.out)).prefetch(
        records, _word_list(args.queries, "--queries"), progress=not args.no_progress
    )
    print(json.dumps(counts))
    return 0


def add_demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("runs/a2o-demo"), help="(%(default)s)")
    p.add_argument("--quick", action="store_true", help="tiny SynthAct, short schedules")
    p.add_argument("--data", type=Path, help="use this SynthAct folder instead of generating")
    p.add_argument(
        "--pc3d", action="store_true", help="add the PC3D++ row (mediapipe pose maps; slower)"
    )
    p.add_argument("--seed", type=int, default=0, help="training and search seed (0)")
    p.add_argument("--force", action="store_true", help="start over when settings differ")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")


def cmd_demo(args: argparse.Namespace) -> int:
    """A2O on SynthAct end to end (plain vs fixed vs searched vocabulary)

    Generate SynthAct, search the object vocabulary offline, train the plain, fixed and searched
    recognisers, audit them on test/swap/mimetic, write report.html.
    """
    from actionbias.a2o.demo import run_a2o_demo

    result = run_a2o_demo(
        args.out,
        **flags(args, "quick", "seed", "force", "pc3d"),
        progress=not args.no_progress,
        data_dir=args.data,
    )
    for name, row in result.results["rows"].items():
        f = row["figures"]

        def pct(key: str, fig: dict = f) -> str:
            value = fig.get(key)
            return "–" if value is None else f"{100 * value['value']:.1f}"

        print(
            f"{name:8s} objects={len(row['objects']):2d} test={pct('test')} "
            f"SHAcc={pct('shacc')} SBErr={pct('sberr')} mimetic={pct('mimetic')}"
        )
    print(f"report: {result.report}  ({result.seconds:.0f} s)")
    return 0


#: The ``a2o`` group and its sub-commands.
COMMANDS: tuple[Command, ...] = (
    Command(
        name="a2o",
        help="A2O: object-centric features with an agent-chosen object vocabulary",
        description=(
            "Detector likelihood maps of chosen objects -> adapter -> video recogniser; the "
            "object vocabulary is chosen by in-context RL (an LLM policy, or an offline search)."
        ),
        subcommands=(
            Command("run", add_run_arguments, cmd_run),
            Command("tune", add_tune_arguments, cmd_tune),
            Command("maps", add_maps_arguments, cmd_maps),
            Command("demo", add_demo_arguments, cmd_demo),
        ),
    ),
)
