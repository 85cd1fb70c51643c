"""Sweeps: one audit run per (model, frame count), the curves of the paper's Figure 1a/1b.

``run_sweep(["internvl:OpenGVLab/InternVL3-1B", "internvl:OpenGVLab/InternVL3-8B"],
[1, 2, 4, 8, 16, 32], data, "runs/sweep", "mcq")`` writes::

    runs/sweep/
      questions.jsonl                       drawn once: every run answers the same questions
      internvl-OpenGVLab-InternVL3-1B__f1/  an ordinary audit run directory
      ...
      sweep.json                            index: one entry per run with its key figures

Each run's config carries ``"sweep": {"axis", "value", "model", "frames"}``:
the axis is ``frames`` when several frame counts are swept (Figure 1b: one curve
per model) and ``model`` when one frame count is used with several models
(Figure 1a: model size). The report reads the run directories.

Resumable as a whole: a finished run (metrics.json says complete, with the same
sweep entry, protocol, data, seed and limit) is skipped without even loading its
model; an unfinished one resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from actionbias.audit.audit_data import load_audit_data
from actionbias.audit.questions import write_questions
from actionbias.audit.runner import run_audit
from actionbias.audit.scorers import describe
from actionbias.errors import BadInputError
from actionbias.fileio import atomic_write_text

log = logging.getLogger(__name__)

SWEEP_INDEX = "sweep.json"


def model_slug(model: Any) -> str:
    """A folder name for a model: ``clip:openai/clip-vit-base-patch32`` ->
    ``clip-openai-clip-vit-base-patch32``; a checkpoint ``runs/slow/checkpoints/best.ckpt``
    -> ``slow-best``."""
    if isinstance(model, dict):
        text = str(model.get("id") or model.get("checkpoint") or model.get("model") or "model")
        if model.get("type") == "classifier":
            return model_slug(str(model.get("checkpoint") or text))
        text = f"{model.get('type', 'model')}-{text}"
    elif isinstance(model, str):
        text = model
        path = Path(model)
        if ":" not in model.split("/")[0] or path.exists():
            parts = [p for p in path.with_suffix("").parts if p not in ("checkpoints", "/")]
            text = "-".join(parts[-2:]) if len(parts) >= 2 else (parts[-1] if parts else "model")
        else:
            text = re.sub(r"^([a-z0-9]+):", r"\1-", text)
            text = re.sub(r"https?://", "", text)
    else:
        text = describe(model)[0]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return slug or "model"


def _figures(metrics: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of each group (accuracy; SHAcc/SBErr on swap)."""
    out: dict[str, Any] = {}
    for name, group in metrics.get("summary", {}).get("groups", {}).items():
        entry = {"n": group.get("n"), "top1": group.get("top1", {}).get("value")}
        if "swap" in group:
            entry["shacc"] = group["swap"]["shacc"]["value"]
            entry["sberr"] = group["swap"]["sberr"]["value"]
        out[name] = entry
    return out


def _finished(run_dir: Path, expect: dict[str, Any]) -> dict[str, Any] | None:
    """The stored metrics when ``run_dir`` holds a complete run of exactly this sweep point."""
    path = run_dir / "metrics.json"
    if not path.is_file():
        return None
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    run = metrics.get("run", {})
    same = (
        metrics.get("complete") is True
        and metrics.get("limit") == expect["limit"]
        and run.get("sweep") == expect["sweep"]
        and run.get("protocol") == expect["protocol"]
        and run.get("seed") == expect["seed"]
        and (run.get("data") or {}).get("path") == expect["data_path"]
        and (run.get("data") or {}).get("splits") == expect["splits"]
    )
    return metrics if same else None


def run_sweep(
    models: Sequence[str | dict[str, Any] | Any],
    frames: Sequence[int],
    data: str | Path,
    out_root: str | Path,
    protocol: str = "mcq",
    *,
    splits: Sequence[str] | None = None,
    seed: int = 0,
    questions: str | Path | None = None,
    force: bool = False,
    progress: bool = True,
    **audit_options: Any,
) -> list[dict[str, Any]]:
    """Audit every model at every frame count under ``out_root``; returns the index entries.

    ``audit_options`` go to `run_audit` (batch_size, limit, device, prompt, n_boot,
    data_format, root, classes, ...). ``questions``: a questions file to use
    instead of drawing ``out_root/questions.jsonl`` from the seed.
    """
    if not models:
        raise BadInputError("no model to sweep", where="--models")
    if not frames:
        raise BadInputError("no frame count to sweep", where="--frames")
    if any(int(f) < 1 for f in frames):
        raise BadInputError(f"frame counts must be >= 1, got {list(frames)}", where="--frames")
    out = Path(out_root)
    out.mkdir(parents=True, exist_ok=True)
    data_keys = ("data_format", "root", "classes", "group")
    data_options = {k: audit_options[k] for k in data_keys if k in audit_options}
    audit_data = load_audit_data(
        data,
        splits,
        data_options.get("data_format", "auto"),
        data_options.get("root"),
        data_options.get("classes"),
        data_options.get("group"),
    )
    if protocol == "mcq" and questions is None:
        questions = write_questions(
            data,
            out / "questions.jsonl",
            seed,
            splits,
            label_space=audit_options.get("label_space"),
            **data_options,
        )
    axis = "frames" if len(frames) > 1 or len(models) == 1 else "model"
    slugs = [model_slug(m) for m in models]
    if len(set(slugs)) != len(slugs):
        raise BadInputError(f"two models share a folder name: {slugs}", where="--models")
    entries: list[dict[str, Any]] = []
    for model, slug in zip(models, slugs, strict=True):
        label = model if isinstance(model, str) else slug
        for count in frames:
            count = int(count)
            run_dir = out / f"{slug}__f{count}"
            sweep = {
                "axis": axis,
                "value": count if axis == "frames" else label,
                "model": label,
                "frames": count,
            }
            expect = {
                "sweep": sweep,
                "protocol": protocol,
                "seed": seed,
                "limit": audit_options.get("limit"),
                "data_path": audit_data.info.get("path"),
                "splits": audit_data.info.get("splits"),
            }
            metrics = None if force else _finished(run_dir, expect)
            reused = metrics is not None
            if metrics is None:
                log.info("sweep: %s with %d frames -> %s", label, count, run_dir)
                metrics = run_audit(
                    model,
                    data,
                    run_dir,
                    protocol=protocol,
                    frames=count,
                    splits=splits,
                    seed=seed,
                    questions=questions if protocol == "mcq" else None,
                    force=force,
                    progress=progress,
                    sweep=sweep,
                    **audit_options,
                )
            else:
                log.info("sweep: %s with %d frames already done (%s)", label, count, run_dir)
            entries.append(
                {
                    "model": label,
                    "frames": count,
                    "run_dir": run_dir.name,
                    "reused": reused,
                    "videos": metrics.get("videos"),
                    "skipped": metrics.get("skipped"),
                    "no_answer": metrics.get("no_answer"),
                    "groups": _figures(metrics),
                }
            )
            index = {
                "protocol": protocol,
                "axis": axis,
                "data": audit_data.info,
                "runs": [{k: v for k, v in e.items() if k != "reused"} for e in entries],
            }
            atomic_write_text(out / SWEEP_INDEX, json.dumps(index, indent=2) + "\n")
    return entries
