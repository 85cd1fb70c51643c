"""Open the manifest a config or a command line names, whatever form it takes.

A manifest is given as a path: any file `actionbias.data.load_manifest` reads
(Kinetics/Mimetics CSV, PySlowFast or MMAction2 list), a HAT root, or a SynthAct
folder. SynthAct goes through `actionbias.synth.read_synthact`, which itself reads
the Kinetics CSVs SynthAct writes and only adds the mask/HAT paths to each
record, so training code sees real and synthetic data through the same records.
"""

from __future__ import annotations

import logging
from pathlib import Path

from actionbias.data import Manifest, load_manifest
from actionbias.errors import BadInputError

log = logging.getLogger(__name__)

SYNTHACT_MARKER = "synthact.json"


def is_synthact(path: str | Path) -> bool:
    return (Path(path) / SYNTHACT_MARKER).is_file()


def open_manifest(
    path: str | Path,
    split: str | None = None,
    *,
    default_split: str | None = None,
    format: str = "auto",
    root: str | Path | None = None,
    classes: str | Path | None = None,
    field: str = "data",
) -> Manifest:
    """The records of ``path`` (only those of ``split`` when given).

    ``default_split`` applies to SynthAct folders, which hold every split: the
    training manifest defaults to ``train``, validation to ``val``. A plain file
    whose records carry no split keeps all records whatever ``split`` says.
    ``field`` names the config field in error messages.
    """
    path = Path(path)
    if not path.exists():
        raise BadInputError("manifest not found", source=path, where=f"field {field}")
    if path.is_dir() and is_synthact(path):
        from actionbias.synth import read_synthact

        manifests = read_synthact(path, strict=False)
        name = split or default_split
        if name is None:
            raise BadInputError(
                f"a SynthAct folder holds several splits ({', '.join(manifests)}); name one",
                source=path,
                where=f"field {field}",
            )
        if name not in manifests:
            raise BadInputError(
                f"no split {name!r} (has {', '.join(manifests)})",
                source=path,
                where=f"field {field}",
            )
        manifest = manifests[name]
    else:
        kwargs: dict[str, object] = {}
        if root is not None:
            kwargs["root"] = root
        if classes is not None:
            kwargs["classes"] = classes
        manifest = load_manifest(path, format=format, **kwargs)
        if split is not None:
            if manifest.splits():
                manifest = manifest.by_split(split)
            else:
                log.info("%s: records carry no split; using all of them as %r", path, split)
    if len(manifest) == 0:
        raise BadInputError(
            f"no records{f' in split {split!r}' if split else ''}",
            source=path,
            where=f"field {field}",
        )
    return manifest


def require_labels(manifest: Manifest, source: str) -> None:
    """Training and evaluation need a class index for every record."""
    for record in manifest:
        if record.label_id is None:
            raise BadInputError("record has no label", source=source, where=f"record {record.id}")
