"""Training throughput (clips/s) and peak memory of the registered models.

One optimisation step = forward, cross-entropy, backward, Adam step, on random
batches with exactly each model's inputs (so decoding is not measured: the data
pipeline is benchmarked in benchmarks/video_io.py). Every model is run with fp32
and bf16 autocast, each with ``channels_last_3d`` off and on — the switches
``trainer.precision`` and ``trainer.channels_last`` control in `actionbias.train`.

* GPU (when CUDA is there): ``slow_r50`` at 8x224x224, batch 20 (the paper's setting),
  plus the demo models; peak memory is ``torch.cuda.max_memory_allocated``.
* CPU: ``slow_r50`` at a reduced 8x112x112 with batch 2, plus the demo models at their
  SynthAct size (8x64x64, batch 16); peak memory is the process's max RSS, so every
  configuration runs in a fresh subprocess (RSS only ever grows within one).

    python benchmarks/train_throughput.py            # everything, a few steps each
    python benchmarks/train_throughput.py --models slow_tiny dual_sum --steps 5
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

DEMO_MODELS = ("slow_tiny", "segmented", "dual_sum", "dual_stack", "weighted_focus")


@dataclass
class Case:
    model: str
    options: dict
    clip: tuple[int, int, int]
    batch: int
    precision: str  # "fp32" | "bf16"
    channels_last: bool
    device: str
    steps: int
    warmup: int


def run_case(case: Case) -> dict:
    """Time ``case.steps`` optimisation steps after ``case.warmup`` untimed ones."""
    import resource

    import torch
    import torch.nn.functional as F

    from actionbias.models import build_model, count_parameters, example_batch

    torch.manual_seed(0)
    device = torch.device(case.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    model = build_model(case.model, 10, **case.options).to(device).train()
    if case.channels_last:
        model = model.to(memory_format=torch.channels_last_3d)
    batch = example_batch(model, case.batch, case.clip, device=device, seed=0)
    if case.channels_last:
        batch = {k: v.contiguous(memory_format=torch.channels_last_3d) for k, v in batch.items()}
    labels = torch.arange(case.batch, device=device) % 10
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    dtype = torch.bfloat16 if case.precision == "bf16" else None

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            logits = model(batch)
        F.cross_entropy(logits.float(), labels).backward()
        optimizer.step()

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(case.warmup):
        step()
    sync()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    for _ in range(case.steps):
        step()
    sync()
    seconds = time.perf_counter() - started
    if device.type == "cuda":
        peak_mb = torch.cuda.max_memory_allocated() / 2**20
        memory = "cuda max_memory_allocated"
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        memory = "process max RSS"
    return {
        **asdict(case),
        "parameters": count_parameters(model),
        "clips_per_s": case.steps * case.batch / seconds,
        "step_ms": 1000 * seconds / case.steps,
        "peak_mb": peak_mb,
        "memory": memory,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }


def cases(args: argparse.Namespace, device: str) -> list[Case]:
    gpu = device == "cuda"
    plans: list[tuple[str, dict, tuple[int, int, int], int]] = []
    if "slow_r50" in args.models:
        plans.append(("slow_r50", {}, (8, 224, 224) if gpu else (8, 112, 112), 20 if gpu else 2))
    for name in args.models:
        if name == "slow_r50":
            continue
        options = {} if name.startswith("slow_") else {"backbone": args.demo_backbone}
        size = 112 if args.demo_backbone == "slow_small" or name == "slow_small" else 64
        plans.append((name, options, (8, size, size), args.demo_batch))
    out = []
    for name, options, clip, batch in plans:
        for precision in ("fp32", "bf16"):
            for channels_last in (False, True):
                out.append(
                    Case(
                        name,
                        options,
                        clip,
                        batch,
                        precision,
                        channels_last,
                        device,
                        args.steps,
                        args.warmup,
                    )
                )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--models", nargs="+", default=["slow_r50", *DEMO_MODELS])
    parser.add_argument("--demo-backbone", default="slow_tiny", help="backbone of the demo models")
    parser.add_argument("--demo-batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--out", help="also write the rows as JSON here")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one case, print JSON
    args = parser.parse_args()

    if args.one:
        print(json.dumps(run_case(Case(**json.loads(args.one)))))
        return

    import torch

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    rows = []
    header = (
        f"{'model':<15}{'clip':<11}{'B':>3} {'prec':<5}{'CL':<4}"
        f"{'clips/s':>9}{'step ms':>10}{'peak MB':>9}"
    )
    print(f"device: {device}" + (f" ({torch.cuda.get_device_name()})" if device == "cuda" else ""))
    print(header)
    for case in cases(args, device):
        if device == "cuda":
            row = run_case(case)  # max_memory_allocated resets per case; no subprocess needed
        else:
            done = subprocess.run(
                [sys.executable, __file__, "--one", json.dumps(asdict(case))],
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row)
        clip = "x".join(str(v) for v in row["clip"])
        print(
            f"{row['model']:<15}{clip:<11}{row['batch']:>3} {row['precision']:<5}"
            f"{'on' if row['channels_last'] else 'off':<4}{row['clips_per_s']:>9.2f}"
            f"{row['step_ms']:>10.1f}{row['peak_mb']:>9.0f}",
            flush=True,
        )
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
