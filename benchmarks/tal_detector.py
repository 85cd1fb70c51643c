"""Detector speed: training steps/s, inference ms per video, soft-NMS ms per video.

Full-size ActionFormer (THUMOS14 I3D setting: 2048-d features, 2304-step
input, 512-d, window 19, 2 stem + 5 downsampling blocks) on CPU, and on CUDA
when present. Inference time covers the forward pass plus decoding and soft-NMS
(2000 candidates per level before NMS, 200 segments kept).

A second part times one training step at the sizes of ``actionbias tal demo``
(batch 4 of 256-d SynthAct features, ~32 steps, 64-d detector with 3 downsampling
blocks, compact language model): the vision-only step, the ActionVLM
vision-language step (two detector pyramids, language model, text generation,
per-frame advantage targets), each with one torch thread and with torch's default
count -- on small tensors the thread count, not the arithmetic, decides the speed,
and the demo trains with one thread.

Run: ``python benchmarks/tal_detector.py [--device cuda] [--steps 5] [--batch 2]
[--threads N] [--skip-full] [--skip-demo]``; ``uptime`` is printed because the
figures move with the machine's load.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from actionbias.tal.inference import InferenceConfig, decode_video
from actionbias.tal.losses import detection_loss
from actionbias.tal.nms import soft_nms
from actionbias.tal.train import build_detector, build_optimizer


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _demo_step_ms(kind: str, threads: int, steps: int) -> float:
    """Mean ms of one training step at the quick demo's sizes (`kind` vision-only/actionvlm)."""
    from actionbias.tal.demo_settings import demo_settings
    from actionbias.tal.demo_training import build_demo_model
    from actionbias.tal.language.trainer import (
        VISION,
        VISION_LANGUAGE,
        ActionVLMTrainer,
        TALBatch,
    )
    from actionbias.tal.train import torch_threads

    settings = demo_settings(quick=True)
    classes, in_dim, length, batch = 6, 256, 32, settings.batch_size
    with torch_threads(threads):
        model = build_demo_model(kind, in_dim, classes, settings, seed=0)
        opt = build_optimizer(model, settings.lr, settings.weight_decay)
        trainer = ActionVLMTrainer(model, opt, classes)
        g = torch.Generator().manual_seed(0)
        feats = torch.randn(batch, in_dim, length, generator=g)
        mask = torch.ones(batch, length, dtype=torch.bool)
        mask[1, 22:] = False
        segs = [torch.tensor([[3.0, 9.0], [14.0, 20.0]])] * batch
        labels = [torch.tensor([1, 4])] * batch
        prompt = torch.randn(classes, 384, generator=g)
        tb = TALBatch(feats, mask, segs, labels, {"prompt": prompt, "targets": (segs, labels)})
        model.train()
        trainer.run_epoch([tb], 0)  # vision epoch: fills the class-wise table, warms up
        mode = VISION if kind == "vision-only" else VISION_LANGUAGE
        trainer.step(tb, mode)
        t0 = time.perf_counter()
        for _ in range(steps):
            trainer.step(tb, mode)
        return (time.perf_counter() - t0) / steps * 1e3


def demo_sizes(steps: int) -> None:
    default = torch.get_num_threads()
    print(f"demo-size training step (quick demo shapes), torch default threads {default}:")
    for kind in ("vision-only", "actionvlm"):
        cells = []
        for threads in sorted({1, default}):
            ms = _demo_step_ms(kind, threads, steps)
            cells.append(f"{threads} thread{'s' if threads > 1 else ''}: {ms:.0f} ms/step")
        print(f"  {kind:12s} " + ", ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--length", type=int, default=2304)
    parser.add_argument("--in-dim", type=int, default=2048)
    parser.add_argument("--classes", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--skip-full", action="store_true", help="only the demo-size step")
    parser.add_argument("--skip-demo", action="store_true", help="only the full-size model")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if hasattr(os, "getloadavg"):
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if not args.skip_demo:
        demo_sizes(max(args.steps, 10))
    if args.skip_full:
        return
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = build_detector(args.in_dim, args.classes, max_seq_len=args.length).to(device)
    params = sum(p.numel() for p in model.parameters())
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(f"device {device} ({name}), torch threads {torch.get_num_threads()}")
    print(f"ActionFormer: {params / 1e6:.1f} M parameters, input {args.in_dim} x {args.length}")

    feats = torch.randn(args.batch, args.in_dim, args.length, device=device)
    mask = torch.ones(args.batch, args.length, dtype=torch.bool, device=device)
    segs = [torch.tensor([[100.0, 160.0], [900.0, 1300.0]], device=device)] * args.batch
    labels = [torch.tensor([1, 3], device=device)] * args.batch
    opt = build_optimizer(model, 1e-4, 0.05)
    model.train()
    for step in range(args.steps + 1):
        if step == 1:  # first step warms up allocators and kernels
            _sync(device)
            t0 = time.perf_counter()
        loss = detection_loss(model(feats, mask), segs, labels)["total"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    _sync(device)
    train_s = (time.perf_counter() - t0) / args.steps
    print(f"training: {1 / train_s:.2f} steps/s (batch {args.batch}, {train_s * 1e3:.0f} ms/step)")

    model.eval()
    one, one_mask = feats[:1], mask[:1]
    cfg = InferenceConfig()
    with torch.no_grad():
        decode_video(model(one, one_mask), 0, cfg)
        times, nms_times, kept = [], [], 0
        for _ in range(args.steps):
            _sync(device)
            t0 = time.perf_counter()
            out = model(one, one_mask)
            seg, _, _ = decode_video(out, 0, cfg)
            _sync(device)
            times.append(time.perf_counter() - t0)
            kept = len(seg)
    print(
        f"inference: {min(times) * 1e3:.1f} ms per video (forward + decode + soft-NMS, "
        f"{kept} segments)"
    )

    g = torch.Generator().manual_seed(0)
    n = 2000 * 6
    start = torch.rand(n, generator=g) * args.length
    cand = torch.stack([start, start + 1 + torch.rand(n, generator=g) * 100], 1).to(device)
    scores = torch.rand(n, generator=g).to(device)
    labs = torch.randint(0, args.classes, (n,), generator=g).to(device)
    for _ in range(args.steps):
        _sync(device)
        t0 = time.perf_counter()
        soft_nms(cand, scores, labs, max_segments=200)
        _sync(device)
        nms_times.append(time.perf_counter() - t0)
    print(
        f"soft-NMS: {min(nms_times) * 1e3:.1f} ms per video ({n} candidates, "
        f"{args.classes} classes, 200 kept)"
    )


if __name__ == "__main__":
    main()
