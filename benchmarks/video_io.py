"""Benchmark: reading 8 uniformly sampled frames from a ~340p H.264 clip, seek vs decode-all.

Paths compared in one run, on the same file (all must return identical pixels):

* seek                  -- `read_clip` as shipped: a keyframe seek when the keyframe
                           before a target is ahead of the decoder, decode forward
                           otherwise, non-reference frames before a target not decoded
* seek, no NONREF skip  -- the same without the skip_frame trick (ablation)
* decode-all            -- `read_clip(..., seek=False)`: decode every frame from the
                           start to the last target, convert only the targets to RGB;
                           timed with slice threads (as shipped) and with frame threads
                           ("AUTO"); the faster of the two is the baseline
* naive                 -- PyAV defaults, every frame decoded and converted to RGB

The clip is written to a temporary directory: a textured background panning under
moving shapes plus sensor-like noise, 604x340 at 30 fps, libx264 preset medium CRF 23
yuv420p, with a keyframe every `--gop` frames (default 60 = 2 s, common for web
video; x264's own default keyint is 250, phones often use ~1 s). Pass several, e.g.
``--gop 30,60,250``, to see how the gain depends on keyframe spacing.

Usage: python benchmarks/video_io.py [--duration 10] [--gop 60] [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

from actionbias.video import decode, read_clip, sample_indices, write_video


def synthetic_frames(num: int, height: int, width: int, seed: int = 0):
    """Camera-pan-like content so the encoder produces a realistic mix of I/P/B frames."""
    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 256, (height * 2, width * 2, 3), dtype=np.uint8)
    texture = cv2.GaussianBlur(texture, (0, 0), 4)
    texture = cv2.normalize(texture, None, 0, 255, cv2.NORM_MINMAX)
    for i in range(num):
        x, y = (3 * i) % width, int(height / 2 + height / 4 * np.sin(i / 40))
        frame = texture[y : y + height, x : x + width].copy()
        cx = int(width / 2 + width / 3 * np.sin(i / 25))
        cy = int(height / 2 + height / 4 * np.cos(i / 17))
        cv2.circle(frame, (cx, cy), height // 8, (230, 40, 40), -1)
        cv2.rectangle(
            frame, (cx // 2, height - cy), (cx // 2 + 40, height - cy + 60), (20, 200, 60), -1
        )
        noise = rng.integers(-6, 7, frame.shape, dtype=np.int16)
        yield np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def timed_round_robin(runs: dict, repeats: int) -> dict[str, tuple[float, object]]:
    """Median wall time per path, the paths interleaved so machine drift hits all alike."""
    results = {name: fn() for name, fn in runs.items()}  # warm-up, keep outputs
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: (statistics.median(times[name]), results[name]) for name in runs}


def naive_read(path: Path, wanted: np.ndarray) -> np.ndarray:
    """PyAV defaults, every frame converted: the loop most hand-written loaders use."""
    with av.open(str(path)) as container:
        every = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return np.stack([every[i] for i in wanted])


def read_raw(path: Path, wanted: np.ndarray, threads: str, **kwargs) -> np.ndarray:
    with decode.open_video(path, threads) as video:
        return np.stack([r.rgb for r in video.read_indices(wanted, **kwargs)])


def make_clip(path: Path, args: argparse.Namespace, gop: int) -> str:
    num = round(args.duration * args.fps)
    t0 = time.perf_counter()
    frames = synthetic_frames(num, args.height, args.width)
    write_video(path, frames, fps=args.fps, crf=23, preset="medium", gop=gop)
    encode_s = time.perf_counter() - t0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        keyframes = sum(1 for e in stream.index_entries if e.is_keyframe)
        kinds = [int(f.pict_type) for f in container.decode(stream)]  # 1=I, 2=P, 3=B
    kbits = path.stat().st_size * 8 / 1000 / args.duration
    return (
        f"clip: {args.width}x{args.height}, {num} frames @ {args.fps} fps "
        f"({args.duration:g} s), libx264 preset medium crf 23 yuv420p, keyint {gop} "
        f"({gop / args.fps:g} s): {keyframes} keyframes, I/P/B frames "
        f"{kinds.count(1)}/{kinds.count(2)}/{kinds.count(3)}, {kbits:.0f} kbit/s "
        f"(encoded in {encode_s:.1f} s)"
    )


def bench_one(path: Path, args: argparse.Namespace) -> float:
    num = round(args.duration * args.fps)
    wanted = sample_indices(num, args.frames, "uniform")
    seek_threads = decode.RANDOM_ACCESS_THREADS
    runs = {
        f"seek ({seek_threads} threads)": lambda: read_clip(path, args.frames).frames,
        "seek, no NONREF skipping": lambda: read_raw(path, wanted, seek_threads, skip_nonref=False),
        f"decode-all ({seek_threads} threads)": lambda: read_raw(
            path, wanted, seek_threads, seek=False
        ),
        "decode-all (AUTO threads)": lambda: read_raw(path, wanted, "AUTO", seek=False),
        "naive decode+convert all": lambda: naive_read(path, wanted),
    }
    results = timed_round_robin(runs, args.repeats)
    reference = results[f"decode-all ({seek_threads} threads)"][1]
    identical = all(np.array_equal(frames, reference) for _, frames in results.values())

    names = list(results)
    seek_s = results[names[0]][0]
    base_name = min(names[2:4], key=lambda n: results[n][0])  # the faster decode-all
    base_s = results[base_name][0]
    print(f"  {'path':<30}{'ms/read':>9}{'frames/s':>10}{'speed-up':>10}")
    for name, (seconds, _) in results.items():
        print(
            f"  {name:<30}{seconds * 1e3:>9.1f}{args.frames / seconds:>10.1f}"
            f"{base_s / seconds:>9.2f}x"
        )
    ratio = base_s / seek_s
    print(
        f"  => seek {args.frames / seek_s:.1f} frames/s vs decode-all "
        f"{args.frames / base_s:.1f} frames/s ({base_name}): {ratio:.2f}x faster; "
        f"all paths returned identical frames: {identical}"
    )
    if not identical:
        raise SystemExit("the read paths returned different frames")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="clip length, seconds")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--width", type=int, default=604)
    parser.add_argument("--height", type=int, default=340)
    parser.add_argument(
        "--gop", default="60", help="keyframe interval(s) in frames, comma-separated"
    )
    parser.add_argument("--frames", type=int, default=8, help="frames sampled per read")
    parser.add_argument("--repeats", type=int, default=15, help="timed reads per path")
    parser.add_argument(
        "--seek-threads",
        default=decode.RANDOM_ACCESS_THREADS,
        help="decoder threading on the seek path: SLICE, FRAME, AUTO or NONE",
    )
    args = parser.parse_args()
    decode.RANDOM_ACCESS_THREADS = args.seek_threads

    print(
        f"{args.frames} uniformly sampled frames per read; median of {args.repeats} reads, "
        f"paths interleaved, warm page cache; speed-up relative to the faster decode-all row"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for gop in (int(g) for g in args.gop.split(",")):
            path = Path(tmp) / f"bench_gop{gop}.mp4"
            print(make_clip(path, args, gop))
            bench_one(path, args)


if __name__ == "__main__":
    main()
