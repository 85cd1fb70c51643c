"""`actionbias a2o demo`: A2O end to end on SynthAct, offline, on CPU.

What it answers: does choosing *which objects the recogniser is told about*
change what it learns from a scene-biased training set? Three recognisers are
trained with the same backbone, schedule and seed and audited on SynthAct's
test (in distribution), swap (person of one class in the scene of another) and
mimetic (no scene objects) splits:

* ``plain``   - the recogniser alone (no maps, no adapter);
* ``pc3d++``  - the skeleton baseline of Table 2: mediapipe pose landmarks drawn as
  body-part maps (person, head, torso, arm, forearm, hand, leg, foot) through the
  same adapter;
* ``initial`` - a fixed vocabulary: the paper's Listing 1 "before ICRL" set;
* ``icrl``    - the set chosen by Algorithm 1 with the *offline search policy*
  (no LLM endpoint here; every record and the report say so), each trial a short
  schedule, then one full training with the best set.

Maps come from the ``synth-oracle`` backend (SynthAct's named masks answered by
text matching), with missed detections and jitter so it behaves like a detector
rather than ground truth. The reward of the search is validation accuracy, as
in the paper; SynthAct's validation split shares the training set's scene
correlation, so the search is free to reward scene objects — whether it does,
and what that costs on swap, is one of the things the report shows.

Every step is resumable: trials and final trainings keep their ``reward.json``,
the ICRL loop its ``history.jsonl``, audits their run directories. A rerun with
other settings is refused (the differing keys are named) unless ``force``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actionbias.a2o.config import A2OTrainConfig
from actionbias.a2o.environment import Reward, TrainEnvironment
from actionbias.a2o.policies import LISTING1_BEFORE, PC3D_PLUS_PLUS
from actionbias.a2o.scorer import A2OScorer
from actionbias.data import Manifest
from actionbias.errors import BadInputError
from actionbias.fileio import atomic_write_json
from actionbias.runstate import StateFile, check_settings, clear_outputs, read_record, timed

log = logging.getLogger(__name__)

FORMAT = "actionbias-a2o-demo-1"
STATE = "a2o_demo.json"
ROWS = ("plain", "pc3d++", "initial", "icrl")
EVAL_SPLITS = ("test", "swap", "mimetic")
#: What the offline search may choose from: SynthAct's body parts, its props and
#: its scene regions, plus Listing 1's sports objects SynthAct does not have (the
#: oracle answers those with empty maps, like a detector finding nothing).
VOCABULARY = (
    "person", "head", "torso", "arm", "forearm", "hand", "leg", "foot",
    "racket", "dumbbell", "baton", "net", "ball", "hoop", "goalpost",
    "floor", "court", "grass", "track", "water", "snow", "sky", "wall", "crowd", "road",
)  # fmt: skip
MANAGED = ("synthact", "maps", "icrl", "rows", "audit", STATE, "report.html", "results.json")


@dataclass(frozen=True)
class A2ODemoSettings:
    """Everything that decides the demo's numbers (stored in ``a2o_demo.json``)."""

    data_preset: str = "default"
    data_overrides: dict[str, Any] = field(default_factory=lambda: {"untrimmed": 0})
    data_seed: int = 0
    backend: str = "synth-oracle"
    backend_options: dict[str, Any] = field(
        default_factory=lambda: {"miss_rate": 0.1, "jitter": 1.0, "seed": 0}
    )
    map_size: int = 64
    iterations: int = 5
    max_objects: int = 15
    strategy: str = "greedy"
    search_epochs: int = 5
    final_epochs: int = 20
    #: The reward's split. "swap-half": a seeded half of SynthAct's swap videos (the
    #: paper's "held-out, diverse validation split"), the other half evaluated;
    #: "val": the in-distribution validation split, which shares the training set's
    #: scene correlation (a scene-reading model scores the correlation there).
    reward_split: str = "swap-half"
    #: Add the PC3D++ row (mediapipe pose maps). Off by default: pose runs at about
    #: 25 frames/s on one CPU core, ~7 extra minutes for the default SynthAct.
    pc3d: bool = False
    initial: tuple[str, ...] = LISTING1_BEFORE
    vocabulary: tuple[str, ...] = VOCABULARY
    train: dict[str, Any] = field(
        default_factory=lambda: {
            "backbone": "slow_tiny",
            "num_frames": 8,
            "short_side": 64,
            "crop_size": 64,
            "batch_size": 16,
            "optimizer": "adam",
            "lr": 1e-2,
            "scheduler": "cosine",
            "adapter_depth": 0,
            "adapter_features": 16,
        }
    )
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        from actionbias.synth import config_digest

        data = dataclasses.asdict(self)
        data["initial"] = list(self.initial)
        data["vocabulary"] = list(self.vocabulary)
        # the preset's name survives a recalibration; what it resolves to does not
        data["data_sha256"] = config_digest(self.data_preset, self.data_overrides)
        return data

    def train_config(self, epochs: int) -> A2OTrainConfig:
        return A2OTrainConfig(**{**self.train, "epochs": epochs, "seed": self.seed})


def demo_settings(quick: bool = False, seed: int = 0, pc3d: bool = False) -> A2ODemoSettings:
    """The full demo (tens of minutes on 2 CPU cores; README, "A2O") or ``quick`` (< 1 minute)."""
    if not quick:
        return A2ODemoSettings(seed=seed, pc3d=pc3d)
    return A2ODemoSettings(
        data_preset="tiny",
        iterations=3,
        search_epochs=1,
        final_epochs=3,
        seed=seed,
        pc3d=pc3d,
        train={**A2ODemoSettings().train, "batch_size": 8},
    )


@dataclass
class A2ODemoResult:
    out: Path
    results: dict[str, Any]
    report: Path
    seconds: float


# ----------------------------------------------------------------------------- state
def _check_state(out: Path, settings: A2ODemoSettings, force: bool, data: Path | None) -> None:
    """The settings guard: resume, refuse other settings, or with `force` start over."""
    state = StateFile(out / STATE, FORMAT, indent=1, sort_keys=True)
    wanted = {"format": FORMAT, "settings": settings.to_dict()}
    wanted["settings"]["data_dir"] = None if data is None else str(data.resolve())
    # generation is deterministic and checks its own settings: the data is kept
    owned = [name for name in MANAGED if name != "synthact"]
    check_settings(
        state,
        wanted["settings"],
        holds="an A2O demo",
        remedy="use another --out or --force to start over",
        discard=(lambda: clear_outputs(out, owned)) if force else None,
    )
    out.mkdir(parents=True, exist_ok=True)
    state.write(wanted)


def _reward_of(trial_dir: Path) -> Reward | None:
    """The reward of a finished training whose weights are still there, else None."""
    data = read_record(trial_dir / "reward.json")
    if data is None or not Path(str(data.get("weights"))).is_file():
        return None
    return Reward(**data)


def _train_row(
    env: TrainEnvironment, objects: Sequence[str], trial_dir: Path, epochs: int
) -> Reward:
    done = _reward_of(trial_dir)
    same = done is not None and done.extra.get("objects") == list(objects)
    if same and done.extra.get("epochs") == epochs:
        return done
    return env.evaluate(list(objects), trial_dir, epochs=epochs)


def _audit_row(
    env: TrainEnvironment,
    name: str,
    reward: Reward,
    objects: Sequence[str],
    data: Mapping[str, Manifest],
    out_dir: Path,
    tags: Mapping[str, Any],
) -> dict[str, Any]:
    """Audit one row's weights; the forward time per clip is kept beside the run.

    A finished audit computes nothing on a rerun, so the timing of its first run
    is stored in ``inference.json`` and read back.
    """
    from actionbias.a2o.environment import load_trial_model
    from actionbias.audit import run_audit

    model = load_trial_model(str(reward.weights), len(objects))
    scorer = A2OScorer(
        model,
        env.classes,
        env.spec,
        list(objects),
        env.store,
        name=name,
        spec_info={"weights": str(reward.weights), "backbone": env.config.backbone},
    )
    metrics = run_audit(
        scorer,
        data,
        out_dir,
        batch_size=env.config.eval_batch_size or env.config.batch_size,
        frames=env.spec.num_frames,
        seed=env.config.seed,
        progress=False,
        name=name,
        tags=dict(tags),
        workers=0,
    )
    timing = out_dir / "inference.json"
    if scorer.results:
        ms = 1000.0 * scorer.forward_seconds / len(scorer.results)
        atomic_write_json(timing, {"inference_ms_per_clip": ms}, indent=None)
    else:
        ms = (read_record(timing) or {}).get("inference_ms_per_clip")
    metrics["inference_ms_per_clip"] = ms
    return metrics


def _figures(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Point estimates and 95 % bootstrap intervals per split (the audit's own figures)."""
    groups = (metrics.get("summary") or {}).get("groups", {})

    def point(group: str, key: str) -> dict[str, float] | None:
        g = groups.get(group) or {}
        value = (g.get("swap") or {}).get(key) if key in ("shacc", "sberr") else g.get(key)
        if value is None:
            return None
        return {k: float(value[k]) for k in ("value", "low", "high")}

    return {
        "test": point("test", "top1"),
        "swap_top1": point("swap", "top1"),
        "shacc": point("swap", "shacc"),
        "sberr": point("swap", "sberr"),
        "mimetic": point("mimetic", "top1"),
    }


def reward_and_evaluation(
    splits: Mapping[str, Manifest], settings: A2ODemoSettings
) -> tuple[Manifest, dict[str, Manifest]]:
    """The reward's manifest and the evaluation groups, never overlapping.

    "swap-half" draws half of the swap videos per (human class, scene class) pair
    order by a seeded hash, so both halves cover the same pairs as evenly as the
    counts allow; the evaluation's swap group is the other half.
    """
    evaluation = {name: splits[name] for name in EVAL_SPLITS}
    if settings.reward_split == "val":
        return splits["val"], evaluation
    if settings.reward_split != "swap-half":
        raise BadInputError(
            f"unknown reward split {settings.reward_split!r} (val, swap-half)",
            where="reward_split",
        )
    swap = splits["swap"]

    def key(record: Any) -> str:
        return hashlib.sha1(f"{settings.seed}:{record.id}".encode()).hexdigest()

    ordered = sorted(swap.records, key=key)
    tune_ids = {r.id for r in ordered[: len(ordered) // 2]}
    tune = [r for r in swap.records if r.id in tune_ids]
    rest = [r for r in swap.records if r.id not in tune_ids]
    reward = Manifest(tune, list(swap.classes), name="swap-reward", source=swap.source)
    evaluation["swap"] = Manifest(rest, list(swap.classes), name="swap", source=swap.source)
    return reward, evaluation


# ------------------------------------------------------------------------------ main
def run_a2o_demo(
    out: str | Path,
    quick: bool = False,
    seed: int = 0,
    force: bool = False,
    pc3d: bool = False,
    progress: bool = True,
    settings: A2ODemoSettings | None = None,
    data_dir: str | Path | None = None,
) -> A2ODemoResult:
    """Run (or resume) the demo into ``out``; returns the figures and the report path.

    ``data_dir``: an existing SynthAct folder to use instead of generating one
    (e.g. the main demo's ``runs/demo/synthact``); it must have named masks.
    """
    from actionbias.a2o.loop import run_icrl
    from actionbias.a2o.maps import MapStore
    from actionbias.a2o.report import write_a2o_report
    from actionbias.a2o.search_policy import SearchPolicy
    from actionbias.a2o.task import TaskDescription

    started = time.perf_counter()
    out = Path(out).resolve()  # stored weight paths stay valid from any working directory
    settings = settings or demo_settings(quick, seed, pc3d)
    _check_state(out, settings, force, None if data_dir is None else Path(data_dir))
    timings: dict[str, float] = {}

    with timed(timings, "generate"):
        splits = _synthact(out, settings, data_dir, progress)
    store = MapStore(
        settings.backend,
        cache_root=out / "maps",
        map_size=settings.map_size,
        **settings.backend_options,
    )
    with timed(timings, "maps"):
        store.prefetch(
            [r for name in ("train", "val", *EVAL_SPLITS) for r in splits[name].records],
            sorted(set(settings.vocabulary) | set(settings.initial)),
            progress=progress,
        )

    classes = list(splits["train"].classes)
    reward_set, held_out = reward_and_evaluation(splits, settings)
    env = TrainEnvironment(
        splits["train"], reward_set, store, settings.train_config(settings.search_epochs)
    )
    task = TaskDescription(
        dataset="SynthAct (procedurally rendered actions with a scene shortcut)",
        classes=classes,
        detector=f"{settings.backend} likelihood maps",
        max_objects=settings.max_objects,
    )
    policy = SearchPolicy(
        list(settings.vocabulary),
        strategy=settings.strategy,
        seed=settings.seed,
        initial=list(settings.initial),
    )
    with timed(timings, "icrl"):
        icrl = run_icrl(
            policy,
            env,
            task,
            out / "icrl",
            iterations=settings.iterations,
            max_objects=settings.max_objects,
            final_epochs=settings.final_epochs,
            force=force,
            progress=progress,
        )
    timings["icrl_search"] = sum(t.seconds for t in icrl.trials)
    assert icrl.final is not None

    names = [n for n in ROWS if settings.pc3d or n != "pc3d++"]
    envs = {name: env for name in ROWS}
    if settings.pc3d:
        # PC3D++ reads skeleton maps from its own store; same training, reward and seed.
        pose_store = MapStore("pose", cache_root=out / "maps", map_size=settings.map_size)
        with timed(timings, "pose_maps"):
            pose_store.prefetch(
                [r for name in ("train", *EVAL_SPLITS) for r in splits[name].records],
                list(PC3D_PLUS_PLUS),
                progress=progress,
            )
        envs["pc3d++"] = TrainEnvironment(
            splits["train"], reward_set, pose_store, settings.train_config(settings.search_epochs)
        )
    with timed(timings, "training"):
        rows = _train_rows(envs, names, icrl, settings, out / "rows")
    audits = out / "audit"
    with timed(timings, "audits"):
        for name in names:
            row = rows[name]
            metrics = _audit_row(
                envs[name],
                name,
                row["reward"],
                row["objects"],
                held_out,
                audits / name,
                {"model": name, "seed": settings.seed, "objects": row["objects"]},
            )
            row["figures"] = _figures(metrics)
            row["inference_ms_per_clip"] = metrics.get("inference_ms_per_clip")

    results = _results(settings, reward_set, held_out, classes, rows, icrl, timings)
    results["timings"]["total"] = time.perf_counter() - started
    atomic_write_json(out / "results.json", results, indent=1)
    report = write_a2o_report(results, [audits / name for name in names], out / "report.html")
    return A2ODemoResult(out, results, report, time.perf_counter() - started)


def _synthact(
    out: Path, settings: A2ODemoSettings, data_dir: str | Path | None, progress: bool
) -> dict[str, Manifest]:
    """SynthAct's splits: the given folder's, or generated into ``out/synthact`` (once)."""
    from actionbias.synth import generate, read_synthact

    if data_dir is not None:
        return read_synthact(Path(data_dir))
    data = out / "synthact"
    generate(
        data,
        preset=settings.data_preset,
        seed=settings.data_seed,
        progress=progress,
        **settings.data_overrides,
    )
    return read_synthact(data)


def _train_rows(
    envs: Mapping[str, TrainEnvironment],
    names: Sequence[str],
    icrl: Any,
    settings: A2ODemoSettings,
    rows_dir: Path,
) -> dict[str, dict[str, Any]]:
    """Objects and reward per row: the fixed rows trained (or found done), ICRL's final run."""
    best = list(icrl.best.objects)
    row_objects = {
        "plain": [],
        "pc3d++": list(PC3D_PLUS_PLUS),
        "initial": list(settings.initial),
        "icrl": best,
    }
    rows: dict[str, dict[str, Any]] = {}
    for name in [n for n in names if n != "icrl"]:
        reward = _train_row(envs[name], row_objects[name], rows_dir / name, settings.final_epochs)
        rows[name] = {"objects": row_objects[name], "reward": reward}
    final = icrl.final
    rows["icrl"] = {
        "objects": best,
        "reward": Reward(
            final["accuracy"], final["classwise"], final["weights"], final["seconds"], {}
        ),
    }
    return rows


def _results(
    settings: A2ODemoSettings,
    reward_set: Manifest,
    held_out: Mapping[str, Manifest],
    classes: list[str],
    rows: Mapping[str, Mapping[str, Any]],
    icrl: Any,
    timings: dict[str, float],
) -> dict[str, Any]:
    """The results.json object (the report reads it)."""
    return {
        "format": FORMAT,
        "settings": settings.to_dict(),
        "policy": "offline search, not an LLM",
        "reward_split": {"name": settings.reward_split, "clips": len(reward_set)},
        "evaluation": {name: len(m) for name, m in held_out.items()},
        "classes": classes,
        "rows": {
            name: {
                "objects": row["objects"],
                "val_accuracy": row["reward"].accuracy,
                "val_classwise": row["reward"].classwise,
                "figures": row["figures"],
                "inference_ms_per_clip": row["inference_ms_per_clip"],
                "train_seconds": row["reward"].seconds,
            }
            for name, row in rows.items()
        },
        "icrl": {
            "trials": [t.to_json() for t in icrl.trials],
            "best_iteration": icrl.best.iteration,
            "best_objects": list(icrl.best.objects),
            "best_val_accuracy": icrl.best.accuracy,
            "final": icrl.final,
            "search_seconds": timings["icrl_search"],
        },
        "timings": timings,
    }
