"""`MapStore`: likelihood maps per (video, query, backend options), computed once and cached.

Every ICRL iteration proposes a new object set that mostly repeats earlier queries,
and detection is the slow step, so maps are kept per query:

    <cache_root>/<backend name>/<config hash>/<video key>/<query slug>.npz

* config hash: SHA-1 of the backend's `cache_key()` + map size + detector input size
  (first 16 hex digits); `config.json` beside the videos says what it stands for;
* video key: `<record id>-<SHA-1 of (resolved path, size, mtime, window)>`, so a video
  that is replaced on disk is detected again, and a person can still find a file;
* each `.npz` holds the uint8-quantised maps of ONE query for EVERY decoded frame of
  the video (T_video x h x w, short side `map_size`, the video's aspect), the source
  frame numbers, and the full key, which is checked on load (a foreign, stale or
  corrupted file is recomputed, never served).

`load` decodes the video only when a query is missing, runs the backend once for all
missing queries, writes each query's file atomically (temp + rename, so parallel
workers can race safely), and indexes the requested frame numbers. Without a
`cache_root` the same works from a memory LRU. The detector sees the frames at short
side `backend.input_size` (or `map_size * INPUT_FACTOR`, never upscaled); the maps are
then reduced to `map_size` with area interpolation.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from actionbias.a2o.maps.backend import MapBackend, build_backend, detector_label
from actionbias.errors import BadInputError, VideoReadError
from actionbias.fileio import atomic_open, atomic_write_text
from actionbias.progress import progress_bar
from actionbias.video import read_all_frames
from actionbias.video.transforms import resize, short_side_shape

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
INPUT_FACTOR = 4
DEFAULT_MEMORY_BYTES = 256 * 2**20


def _sha1(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def slug(text: str, limit: int = 48) -> str:
    """A file-name-safe, readable prefix (the hash beside it decides identity)."""
    return re.sub(r"[^0-9a-zA-Z]+", "-", str(text).lower()).strip("-")[:limit] or "x"


def canonical_query(query: str) -> str:
    """Whitespace-normalised query: the identity of a query in the cache."""
    text = " ".join(str(query).split())
    if not text:
        raise BadInputError("an empty query cannot be detected", where="queries")
    return text


def query_slug(query: str) -> str:
    text = canonical_query(query)
    return f"{slug(text)}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:10]}"


class _Entry:
    """One query's maps for one video: source frame numbers + uint8 T x h x w."""

    __slots__ = ("indices", "maps", "position")

    def __init__(self, indices: np.ndarray, maps: np.ndarray) -> None:
        self.indices = np.asarray(indices, dtype=np.int64)
        self.maps = np.asarray(maps, dtype=np.uint8)
        self.position = {int(i): p for p, i in enumerate(self.indices)}

    @property
    def nbytes(self) -> int:
        return int(self.maps.nbytes + self.indices.nbytes)


class MapStore:
    """Cache + backend (see the module docstring); picklable for DataLoader workers.

    `backend` is a backend or its registry name (then `backend_options` build it).
    `calls` counts backend `compute` calls and `stats` computed/cached queries,
    which tests and benchmarks read.
    """

    def __init__(
        self,
        backend: MapBackend | str,
        cache_root: str | Path | None = None,
        map_size: int = 64,
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
        **backend_options: Any,
    ) -> None:
        if isinstance(backend, str):
            backend = build_backend(backend, **backend_options)
        elif backend_options:
            raise BadInputError(
                f"backend options {sorted(backend_options)} given with a built backend",
                where="backend options",
            )
        if int(map_size) < 1:
            raise BadInputError(f"map_size must be >= 1, got {map_size}", where="map_size")
        self.backend = backend
        self.map_size = int(map_size)
        self.cache_root = None if cache_root is None else Path(cache_root)
        self.memory_bytes = int(memory_bytes)
        self.calls = 0
        self.stats = {"computed": 0, "cached": 0}
        self._memory: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._memory_used = 0
        self._config_written = False
        # One store may serve several loader threads: the LRU, the counters and the
        # lazily loaded detector are not thread-safe, so store access is serialised.
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ identity
    @property
    def input_size(self) -> int:
        size = getattr(self.backend, "input_size", None)
        return int(size) if size else self.map_size * INPUT_FACTOR

    @property
    def detector(self) -> str:
        """What makes this store's maps, as the LLM policy's prompt names it."""
        return detector_label(self.backend)

    def config(self) -> dict[str, Any]:
        return {
            "format": CACHE_FORMAT,
            "backend": self.backend.name,
            "options": self.backend.cache_key(),
            "map_size": self.map_size,
            "input_size": self.input_size,
        }

    @property
    def config_hash(self) -> str:
        return _sha1(self.config())[:16]

    @property
    def directory(self) -> Path | None:
        if self.cache_root is None:
            return None
        return self.cache_root / self.backend.name / self.config_hash

    def video_key(self, record: Any) -> str:
        path = Path(record.path)
        try:
            resolved = path.resolve()
            stat = os.stat(resolved)
        except OSError as err:
            raise VideoReadError(path, "file not found") from err
        ident = [str(resolved), stat.st_size, stat.st_mtime_ns, record.start, record.end]
        return f"{slug(record.id)}-{_sha1(ident)[:16]}"

    def path_for(self, record: Any, query: str) -> Path | None:
        directory = self.directory
        if directory is None:
            return None
        return directory / self.video_key(record) / f"{query_slug(query)}.npz"

    # ------------------------------------------------------------------ public API
    def load(self, record: Any, indices: Sequence[int], queries: Sequence[str]) -> np.ndarray:
        """float32 Q x len(indices) x h x w in [0, 1] for those source frame numbers."""
        with self._lock:
            entries = self._ensure(record, queries)
        wanted = [int(i) for i in np.asarray(indices, dtype=np.int64).reshape(-1)]
        if not entries:
            return np.zeros((0, len(wanted), self.map_size, self.map_size), dtype=np.float32)
        first = entries[0]
        try:
            rows = [first.position[i] for i in wanted]
        except KeyError as err:
            raise BadInputError(
                f"frame {err.args[0]} is not among the {len(first.indices)} decoded frames "
                f"(numbers {int(first.indices.min())}..{int(first.indices.max())})",
                source=record.path,
                where=f"record {record.id}",
            ) from None
        out = np.stack([entry.maps[rows] for entry in entries]).astype(np.float32)
        out *= np.float32(1.0 / 255.0)
        return out

    def prefetch(
        self, records: Sequence[Any], queries: Sequence[str], progress: bool = False
    ) -> dict[str, int]:
        """Fill the cache for many records: counts of records computed / fully cached / failed.

        A broken video (or mask file) is logged and counted, never raised.
        """
        counts = {"computed": 0, "cached": 0, "failed": 0}
        with progress_bar(progress) as display:
            bar = display.task("maps", total=len(records))
            for record in records:
                before = self.calls
                try:
                    with self._lock:
                        self._ensure(record, queries)
                except BadInputError as err:
                    log.warning("maps: skipping %s: %s", getattr(record, "id", "?"), err)
                    counts["failed"] += 1
                else:
                    counts["computed" if self.calls > before else "cached"] += 1
                bar.advance()
        return counts

    # ------------------------------------------------------------------ internals
    def _ensure(self, record: Any, queries: Sequence[str]) -> list[_Entry]:
        queries = list(dict.fromkeys(canonical_query(q) for q in queries))
        vkey = self.video_key(record)
        found: dict[str, _Entry] = {}
        missing: list[str] = []
        for query in queries:
            entry = self._memory_get((vkey, query)) or self._disk_get(record, vkey, query)
            if entry is None:
                missing.append(query)
            else:
                found[query] = entry
        self.stats["cached"] += len(found)
        if missing:
            for query, entry in self._compute(record, vkey, missing).items():
                found[query] = entry
        return [found[q] for q in queries]

    def _compute(self, record: Any, vkey: str, queries: list[str]) -> dict[str, _Entry]:
        clip = read_all_frames(record.path, start=record.start, end=record.end)
        frames = clip.frames
        height, width = frames.shape[1:3]
        if min(height, width) > self.input_size:
            frames = resize(frames, short_side_shape(height, width, self.input_size))
        self.calls += 1
        maps = np.asarray(self.backend.compute(record, frames, queries, indices=clip.indices))
        expected = (len(queries), *frames.shape[:3])
        if maps.shape != expected:
            raise ValueError(
                f"backend {self.backend.name} returned maps {maps.shape}, expected {expected}"
            )
        mh, mw = short_side_shape(height, width, self.map_size)
        self.stats["computed"] += len(queries)
        out: dict[str, _Entry] = {}
        for query, qmaps in zip(queries, maps, strict=True):
            small = downsample(qmaps, mh, mw)
            entry = _Entry(clip.indices, np.round(np.clip(small, 0, 1) * 255).astype(np.uint8))
            self._disk_put(record, vkey, query, entry)
            self._memory_put((vkey, query), entry)
            out[query] = entry
        return out

    def _meta(self, vkey: str, query: str) -> dict[str, Any]:
        return {"config": self.config_hash, "video": vkey, "query": query, "format": CACHE_FORMAT}

    def _disk_get(self, record: Any, vkey: str, query: str) -> _Entry | None:
        directory = self.directory
        if directory is None:
            return None
        path = directory / vkey / f"{query_slug(query)}.npz"
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                entry = _Entry(data["indices"], data["maps"])
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as err:
            log.warning("maps: unreadable cache file %s (%s); recomputing", path, err)
            return None
        if meta != self._meta(vkey, query) or entry.maps.shape[0] != len(entry.indices):
            log.warning("maps: cache file %s does not match its key; recomputing", path)
            return None
        self._memory_put((vkey, query), entry)
        return entry

    def _disk_put(self, record: Any, vkey: str, query: str, entry: _Entry) -> None:
        directory = self.directory
        if directory is None:
            return
        if not self._config_written:
            atomic_write_text(directory / "config.json", json.dumps(self.config(), indent=2))
            self._config_written = True
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            maps=entry.maps,
            indices=entry.indices,
            meta=np.array(json.dumps(self._meta(vkey, query), sort_keys=True)),
        )
        with atomic_open(directory / vkey / f"{query_slug(query)}.npz") as handle:
            handle.write(buffer.getvalue())

    def _memory_get(self, key: tuple[str, str]) -> _Entry | None:
        entry = self._memory.get(key)
        if entry is not None:
            self._memory.move_to_end(key)
        return entry

    def _memory_put(self, key: tuple[str, str], entry: _Entry) -> None:
        old = self._memory.pop(key, None)
        if old is not None:
            self._memory_used -= old.nbytes
        self._memory[key] = entry
        self._memory_used += entry.nbytes
        while self._memory_used > self.memory_bytes and len(self._memory) > 1:
            _, dropped = self._memory.popitem(last=False)
            self._memory_used -= dropped.nbytes

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_memory"] = OrderedDict()
        state["_memory_used"] = 0
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()


def downsample(maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """T x H x W -> T x height x width; area interpolation (a pixel's mean likelihood)."""
    if maps.shape[1:] == (height, width):
        return maps.astype(np.float32, copy=False)
    shrink = height * width <= maps.shape[1] * maps.shape[2]
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    out = np.empty((maps.shape[0], height, width), dtype=np.float32)
    for t, m in enumerate(maps):
        out[t] = cv2.resize(np.asarray(m, np.float32), (width, height), interpolation=interp)
    return out
