"""What the A2O adapter costs: slow_tiny plain vs slow_tiny + adapter (Q = 8 and 15 maps).

Train step = forward, cross-entropy, backward, AdamW step on random batches holding
exactly the model's inputs (decoding and map loading are not measured; see
benchmarks/a2o_maps.py for the maps). Inference = eval-mode forward under
``torch.inference_mode``, reported per clip. The configurations are timed in
interleaved rounds and each figure is the median over all timed steps, so a burst
of load from another process hits every configuration alike instead of one.
Prints one line per configuration and the ratio to the plain model: the overhead
the paper's Table 9 accounts for at recogniser level.

    python benchmarks/a2o_model.py                      # CPU, 8x64x64, batch 8
    python benchmarks/a2o_model.py --clip 8 112 112 --batch 4 --rounds 5
    python benchmarks/a2o_model.py --device cuda --clip 8 224 224 --batch 16
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from actionbias.models import build_model, count_parameters, example_batch

MAPS = (0, 8, 15)


def _timer(device: str) -> Callable[[Callable[[], object]], float]:
    def timed(step: Callable[[], object]) -> float:
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        started = time.perf_counter()
        step()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - started

    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=int, nargs=3, default=(8, 64, 64), metavar=("T", "H", "W"))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per round")
    parser.add_argument("--depth", type=int, default=0, help="adapter depth (Table 10: 0, 3, 4)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    clip = tuple(args.clip)
    device = args.device
    timed = _timer(device)
    print(
        f"slow_tiny on {device}, clips {clip[0]}x{clip[1]}x{clip[2]}, batch {args.batch}, "
        f"{args.rounds} rounds x {args.steps} steps, adapter depth {args.depth}, "
        f"{torch.get_num_threads()} threads"
    )
    setups = {}
    for num_maps in MAPS:
        torch.manual_seed(0)
        model = build_model(
            "a2o", 10, backbone="slow_tiny", num_maps=num_maps, adapter_depth=args.depth
        ).to(device)
        data = example_batch(model, args.batch, clip, device=device, seed=0)
        labels = torch.randint(0, 10, (args.batch,), device=device)
        optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3)

        def train_step(model=model, data=data, labels=labels, optimiser=optimiser) -> None:
            model.train()
            loss = F.cross_entropy(model(data), labels)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()

        def infer_step(model=model, data=data) -> None:
            model.eval()
            with torch.inference_mode():
                model(data)

        train_step()  # warm-up: allocator, kernels
        infer_step()
        setups[num_maps] = (model, train_step, infer_step)
    train_times: dict[int, list[float]] = {q: [] for q in MAPS}
    infer_times: dict[int, list[float]] = {q: [] for q in MAPS}
    for _ in range(args.rounds):
        for num_maps, (_, train_step, infer_step) in setups.items():
            train_times[num_maps] += [timed(train_step) for _ in range(args.steps)]
            infer_times[num_maps] += [timed(infer_step) for _ in range(args.steps)]
    train = {q: args.batch / statistics.median(v) for q, v in train_times.items()}
    infer = {q: 1000.0 * statistics.median(v) / args.batch for q, v in infer_times.items()}
    print(
        f"{'model':<12}{'params':>9}{'train clips/s':>15}{'infer ms/clip':>15}"
        f"{'train x':>9}{'infer x':>9}"
    )
    for num_maps in MAPS:
        name = "plain" if num_maps == 0 else f"a2o Q={num_maps}"
        params = count_parameters(setups[num_maps][0])
        print(
            f"{name:<12}{params:>9}{train[num_maps]:>15.2f}{infer[num_maps]:>15.2f}"
            f"{train[0] / train[num_maps]:>9.2f}{infer[num_maps] / infer[0]:>9.2f}"
        )
    print("train x / infer x: time per clip relative to the plain recogniser (1.00 = no cost)")


if __name__ == "__main__":
    main()
