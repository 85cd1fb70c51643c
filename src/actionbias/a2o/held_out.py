"""The held-out test figure of an ICRL run, and the split that selected its object set.

The reward split (D_val) selects the object set, so its accuracy for the best
set is biased upward (the maximum of T noisy figures). As in the paper ("the
test split is never used during optimization"), the final model is scored once
on a `test` split that neither the search nor the selection saw: a test split
sharing a clip with D_train or D_val is refused, and ``test.json`` records which
weights, objects and clips (a fingerprint) the figure is for, so a rerun reuses
it only when all three still hold.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from actionbias.a2o.policy_base import Trial
from actionbias.errors import BadInputError
from actionbias.runstate import finished_record, write_record

TEST = "test.json"
TEST_AUDIT = "test"


def manifest_fingerprint(manifest: Any) -> str:
    """SHA-1 of a manifest's sorted (id, label) pairs: which clips a figure is on."""
    items = sorted((str(r.id), str(r.label or "")) for r in manifest.records)
    return hashlib.sha1(json.dumps(items).encode("utf-8")).hexdigest()


def _split_name(manifest: Any, default: str) -> str:
    return str(getattr(manifest, "name", "") or default)


def selection_split(env: Any) -> dict[str, Any] | None:
    """The split whose accuracy is the reward (``env.val``), as summary.json names it."""
    val = getattr(env, "val", None)
    if val is None or not hasattr(val, "records"):
        return None
    return {
        "split": _split_name(val, "val"),
        "source": str(getattr(val, "source", "") or ""),
        "clips": len(val.records),
        "role": "reward and model selection (every trial's accuracy; biased for the best set)",
    }


def check_test_split(env: Any, test: Any) -> None:
    """Refuse a test split that shares clips with what the search trained or selected on."""
    if not hasattr(env, "evaluate_checkpoint"):
        raise BadInputError(
            f"{type(env).__name__} has no evaluate_checkpoint: cannot score a test split",
            where="test",
        )
    if not getattr(test, "records", None):
        raise BadInputError("the test split is empty", source=getattr(test, "source", None))
    ids = {str(r.id) for r in test.records}
    paths = {(str(r.path), r.start, r.end) for r in test.records}
    for role in ("train", "val"):
        other = getattr(env, role, None)
        if other is None or not hasattr(other, "records"):
            continue
        shared = [
            r.id
            for r in other.records
            if str(r.id) in ids or (str(r.path), r.start, r.end) in paths
        ]
        if shared:
            raise BadInputError(
                f"the test split shares {len(shared)} clip(s) with the {role} split "
                f"(first: {shared[0]}); the final figure must come from clips the search "
                "never saw",
                source=getattr(test, "source", None) or None,
                where="test",
            )


def evaluate_on_test(
    env: Any,
    best: Trial,
    final: dict[str, Any] | None,
    test: Any,
    run_dir: Path,
    selection: dict[str, Any] | None,
) -> dict[str, Any]:
    """Score the final model once on the held-out split; reuse test.json when it still holds."""
    if final is not None:
        weights, model = final.get("weights"), f"final training ({final['epochs']} epochs)"
    else:
        weights, model = best.weights, f"best trial's weights (iteration {best.iteration})"
    if not weights:
        raise BadInputError(
            "the final model has no weights to score on the test split", where="test"
        )
    objects = list(best.objects)
    split = _split_name(test, "test")
    fingerprint = manifest_fingerprint(test)
    path = run_dir / TEST
    done = finished_record(path, weights=str(weights), objects=objects, fingerprint=fingerprint)
    if done is not None:
        return done
    audit_dir = run_dir / TEST_AUDIT
    shutil.rmtree(audit_dir, ignore_errors=True)  # stale: other weights or another split
    label = f"a2o-final [{split}: held-out test]"
    result = env.evaluate_checkpoint(weights, test, objects, out_dir=audit_dir, name=label)
    held_out = {
        "split": split,
        "source": str(getattr(test, "source", "") or ""),
        "role": "held-out test: never used by the search or the selection",
        "clips": int(result.clips),
        "skipped": int(result.skipped),
        "fingerprint": fingerprint,
        "model": model,
        "weights": str(weights),
        "objects": objects,
        "accuracy": float(result.accuracy),
        "classwise": {str(k): float(v) for k, v in result.classwise.items()},
        "selection_split": None if selection is None else selection["split"],
        "audit_dir": str(audit_dir),
    }
    write_record(path, held_out)
    return held_out
