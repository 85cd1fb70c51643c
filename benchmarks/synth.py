"""SynthAct generation speed: render-only throughput and the full generate() run.

Usage: python benchmarks/synth.py [--preset default] [--workers N] [--seed 0] [--out DIR]

Two passes over the same plan with the same worker count:

1. render only -- every trimmed clip and untrimmed video is rendered in a
   process pool and thrown away (no encoding, no files);
2. generate -- the real `generate()` into a fresh folder (render + H.264 +
   HAT PNGs + masks + annotations).

Prints videos/s (trimmed clips and untrimmed videos together) and frames/s of
both, the CPU seconds generate() spent rendering versus writing, and the size
of the output.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

from actionbias.synth import generate, make_plan, render_clip, resolve_config
from actionbias.synth.render import ClipSpec


def _render(spec: ClipSpec) -> int:
    return int(render_clip(spec).frames.shape[0])


def _folder_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=None, help="keep the output here")
    args = parser.parse_args(argv)

    config = resolve_config(args.preset)
    plan = make_plan(config, args.seed)
    specs = [v.spec for v in plan.videos] + [c.spec for clips in plan.clips.values() for c in clips]
    n_clips = sum(len(c) for c in plan.clips.values())
    print(
        f"preset {args.preset}: {n_clips} clips of {config.frames}x{config.size}x{config.size} "
        f"+ {len(plan.videos)} untrimmed videos, {args.workers} worker(s), {os.cpu_count()} CPUs"
    )

    t0 = time.perf_counter()
    if args.workers > 1:
        with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
            frames = sum(pool.imap_unordered(_render, specs, chunksize=1))
    else:
        frames = sum(_render(s) for s in specs)
    render_wall = time.perf_counter() - t0
    print(
        f"render only : {render_wall:7.1f} s  {len(specs) / render_wall:7.1f} videos/s  "
        f"{frames / render_wall:8.0f} frames/s"
    )

    with tempfile.TemporaryDirectory(prefix="synthact-bench-") as tmp:
        out = args.out if args.out is not None else Path(tmp) / "synthact"
        t0 = time.perf_counter()
        summary = generate(
            out,
            preset=args.preset,
            seed=args.seed,
            workers=args.workers,
            progress=False,
            force=True,
        )
        total = time.perf_counter() - t0
        n_files, n_bytes = _folder_size(out)
    print(
        f"generate    : {total:7.1f} s  {len(specs) / total:7.1f} videos/s  "
        f"{summary['frames_rendered'] / total:8.0f} frames/s"
    )
    print(
        f"generate CPU: render {summary['render_cpu_seconds']:.1f} s, "
        f"write {summary['write_cpu_seconds']:.1f} s (summed over workers)"
    )
    print(f"output      : {n_files} files, {n_bytes / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
