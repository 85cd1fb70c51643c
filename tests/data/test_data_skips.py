from __future__ import annotations

import json
import logging
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest

from actionbias.data import Manifest, SkipLog, VideoRecord, iter_clips
from actionbias.errors import BadInputError, VideoReadError


def record(name: str, path: str | Path, **kw) -> VideoRecord:
    return VideoRecord(id=name, path=str(path), label="archery", label_id=0, **kw)


def test_skip_log_counts_once_and_serialises(tmp_path, caplog):
    log = SkipLog()
    with caplog.at_level(logging.WARNING):
        log.add(record("a", "/v/a.mp4"), "zero bytes")
        log.add(record("a", "/v/a.mp4"), "zero bytes")
        log.add(record("b", "/v/b.mp4"), "truncated")
        log.add(record("c", "/v/c.mp4"), "zero bytes")
    assert log.count == len(log) == 3
    assert "a" in log and "z" not in log
    assert [item.id for item in log.items] == ["a", "b", "c"]
    assert log.reasons() == {"zero bytes": 2, "truncated": 1}
    assert caplog.text.count("skipping /v/a.mp4 (a): zero bytes") == 1
    data = json.loads(log.to_json())
    assert data["count"] == 3
    assert data["items"][1] == {"id": "b", "path": "/v/b.mp4", "reason": "truncated"}
    path = tmp_path / "run" / "skipped.json"
    log.save(path)
    assert SkipLog.load(path).to_dict() == log.to_dict()
    path.write_text("{}")
    with pytest.raises(BadInputError, match="not a skip log"):
        SkipLog.load(path)


def test_iter_clips_skips_broken_media(monkeypatch, caplog):
    calls = []

    def fake_read_clip(path, **kwargs):
        calls.append((path, kwargs))
        if "broken" in path:
            raise VideoReadError(path, "truncated file")
        return SimpleNamespace(source=path)

    monkeypatch.setattr("actionbias.video.read_clip", fake_read_clip)
    manifest = Manifest(
        [
            record("ok1", "/v/ok1.mp4"),
            record("bad", "/v/broken.mp4"),
            record("win", "/v/long.mp4", start=3.0, end=5.0),
        ],
        ["archery"],
    )
    skip_log = SkipLog()
    with caplog.at_level(logging.WARNING):
        out = list(iter_clips(manifest, skip_log, num_frames=4))
    assert [r.id for r, _ in out] == ["ok1", "win"]
    assert [clip.source for _, clip in out] == ["/v/ok1.mp4", "/v/long.mp4"]
    assert skip_log.count == 1 and skip_log.items[0].reason == "truncated file"
    assert "/v/broken.mp4" in caplog.text and "truncated file" in caplog.text
    assert calls[0][1] == {"num_frames": 4}
    assert calls[2][1] == {"num_frames": 4, "start": 3.0, "end": 5.0}
    # An explicit window from the caller wins over the record's.
    calls.clear()
    list(iter_clips(manifest[2:], SkipLog(), start=0.0))
    assert calls[0][1] == {"start": 0.0, "end": 5.0}


def test_iter_clips_propagates_other_errors(monkeypatch):
    def bug(path, **kwargs):
        raise ZeroDivisionError

    monkeypatch.setattr("actionbias.video.read_clip", bug)
    with pytest.raises(ZeroDivisionError):
        list(iter_clips([record("a", "/v/a.mp4")], SkipLog()))


def encode_tiny(path: Path, frames: int = 12, fps: int = 6) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(frames):
            image = np.full((32, 32, 3), i * 20, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_iter_clips_on_real_files(tmp_path):
    good = encode_tiny(tmp_path / "good.mp4")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"this is not a video" * 10)
    manifest = Manifest(
        [
            record("good", good),
            record("missing", tmp_path / "nope.mp4"),
            record("empty", empty),
            record("garbage", garbage),
            record("window", good, start=1.0, end=2.0),
        ],
        ["archery"],
    )
    skip_log = SkipLog()
    out = list(iter_clips(manifest, skip_log, num_frames=4))
    assert [r.id for r, _ in out] == ["good", "window"]
    assert out[0][1].frames.shape == (4, 32, 32, 3)
    assert all(1.0 <= t < 2.0 for t in out[1][1].timestamps)
    assert [item.id for item in skip_log.items] == ["missing", "empty", "garbage"]
