"""The decode pool: clips of the next batch decode in threads while the model runs.

Video decoding (PyAV) releases the GIL, so a thread pool one batch ahead keeps a
GPU model fed without worker processes. A video that cannot be read comes back
as a failure with its reason, and the audit records it as skipped instead of
stopping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from actionbias.audit.audit_data import AuditItem
from actionbias.errors import BadInputError


def auto_workers(todo: int) -> int:
    """Decoding threads when ``--workers`` is not given: one per CPU, at most 8."""
    return max(1, min(8, (os.cpu_count() or 2))) if todo > 0 else 1


def _decode(item: AuditItem, frames: int, short_side: int | None) -> np.ndarray | BadInputError:
    from actionbias.video import read_clip

    record = item.record
    try:
        clip = read_clip(
            record.path,
            num_frames=frames,
            sampling="uniform",
            start=record.start,
            end=record.end,
            short_side=short_side,
        )
    except BadInputError as err:
        return err
    return clip.frames


def _reason(err: BadInputError) -> str:
    return getattr(err, "reason", None) or str(err)


def decoded_batches(
    items: Sequence[AuditItem],
    batch_size: int,
    frames: int,
    short_side: int | None,
    workers: int,
) -> Iterator[tuple[list[AuditItem], list[np.ndarray], list[tuple[AuditItem, str]]]]:
    """(good items, their clips, failures) per batch; the next batch decodes meanwhile."""
    batches = [list(items[i : i + batch_size]) for i in range(0, len(items), batch_size)]
    if not batches:
        return
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:

        def submit(batch: list[AuditItem]) -> list[Future]:
            return [pool.submit(_decode, it, frames, short_side) for it in batch]

        pending = submit(batches[0])
        for index, batch in enumerate(batches):
            results = [f.result() for f in pending]
            pending = submit(batches[index + 1]) if index + 1 < len(batches) else []
            good, clips, failed = [], [], []
            for item, result in zip(batch, results, strict=True):
                if isinstance(result, BadInputError):
                    failed.append((item, _reason(result)))
                else:
                    good.append(item)
                    clips.append(result)
            yield good, clips, failed
