"""Fixtures for the video tests: tiny index-coded clips built in `tmp_path`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from video_testkit import index_frame

from actionbias.video import write_video


@pytest.fixture
def index_video(tmp_path: Path) -> Callable[..., Path]:
    """Factory: write an index-coded video (default 60 frames, 25 fps, keyframe every 12).

    The default x264 preset (medium) is kept on purpose: it emits B-frames, so decode
    order differs from display order, as in real video.
    """
    counter = iter(range(1000))

    def make(num: int = 60, fps: float = 25.0, gop: int | None = 12, suffix: str = ".mp4", **kw):
        path = tmp_path / f"clip{next(counter)}{suffix}"
        return write_video(path, [index_frame(i) for i in range(num)], fps=fps, gop=gop, **kw)

    return make
