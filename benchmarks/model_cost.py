"""Size, compute and CPU training speed of every registered model.

Two tables:

* parameters and GMACs (one clip, eval forward; conv + linear multiply-accumulates
  from FlopCounterMode / 2) for every registered model at its intended clip size
  (8x224x224 for the R50 models) and for the mitigation models on the CPU
  backbone ``slow_small`` at 8x112x112. Counted on the meta device: free.
* forward + backward clips/s on CPU (train mode, cross-entropy, batch of 2 at
  8x112x112 by default) for the small family, with ``torch.set_num_threads``
  set from ``--threads`` so the figure is reproducible on a shared machine.

Run: ``python benchmarks/model_cost.py --threads 1`` (about 15 s).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch
from torch.nn import functional as F

from actionbias.models import (
    build_model,
    count_macs,
    count_parameters,
    example_batch,
    list_models,
    model_entry,
)

NUM_CLASSES = 50
CPU_BACKBONE = "slow_small"


def variants(backbone: str | None) -> list[tuple[str, dict]]:
    """(model name, options) for every registered model; mitigation models on ``backbone``."""
    rows = []
    for name in list_models():
        takes_backbone = "backbone" in model_entry(name).options()
        if backbone is None:
            rows.append((name, {}))
        elif takes_backbone:
            rows.append((name, {"backbone": backbone}))
    return rows


def label(name: str, options: dict) -> str:
    return f"{name}[{options['backbone']}]" if "backbone" in options else name


def cost_table() -> None:
    print(f"{'model':<28} {'inputs':<14} {'clip':<10} {'params (M)':>10} {'GMACs':>8}")
    for backbone in (None, CPU_BACKBONE):
        for name, options in variants(backbone):
            with torch.device("meta"):
                model = build_model(name, NUM_CLASSES, **options)
            macs = count_macs(model, example_batch(model, batch_size=1, device="meta"))
            clip = "x".join(str(v) for v in model.clip_size)
            inputs = "+".join(model.required_inputs)
            print(
                f"{label(name, options):<28} {inputs:<14} {clip:<10} "
                f"{count_parameters(model) / 1e6:>10.3f} {macs / 1e9:>8.2f}"
            )


def train_step_speed(
    name: str, options: dict, batch_size: int, clip: tuple[int, int, int], iters: int, warmup: int
) -> float:
    torch.manual_seed(0)
    model = build_model(name, NUM_CLASSES, **options).train()
    batch = example_batch(model, batch_size=batch_size, clip_size=clip, seed=0)
    target = torch.arange(batch_size) % NUM_CLASSES
    times = []
    for step in range(warmup + iters):
        start = time.perf_counter()
        loss = F.cross_entropy(model(batch), target)
        loss.backward()
        model.zero_grad(set_to_none=True)
        if step >= warmup:
            times.append(time.perf_counter() - start)
    return batch_size / statistics.median(times)


def speed_table(args: argparse.Namespace) -> None:
    clip = tuple(args.clip)
    print(
        f"\nforward+backward on CPU: batch {args.batch_size}, clip {'x'.join(map(str, clip))}, "
        f"{args.threads} thread(s), median of {args.iters} steps after {args.warmup} warm-up"
    )
    rows = [("slow_tiny", {}), (CPU_BACKBONE, {}), *variants(CPU_BACKBONE)]
    for name, options in rows:
        clips_per_s = train_step_speed(
            name, options, args.batch_size, clip, args.iters, args.warmup
        )
        print(f"{label(name, options):<28} {clips_per_s:>8.2f} clips/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--clip", type=int, nargs=3, default=(8, 112, 112), metavar=("T", "H", "W"))
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--skip-speed", action="store_true", help="only the size/compute table")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}")
    cost_table()
    if not args.skip_speed:
        speed_table(args)


if __name__ == "__main__":
    main()
