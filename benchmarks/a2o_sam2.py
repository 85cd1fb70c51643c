"""What SAM 2 mask refinement costs per frame for A2O maps (boxes -> masks), on this machine.

The real SAM 2.1 Hiera-T and Hiera-S architectures (`transformers.Sam2Model`,
1024 x 1024 input, the shapes of facebook/sam2.1-hiera-tiny / -small) with random
weights: no hub access here, and the cost of a forward pass does not depend on
the weight values. Timed through `Sam2Refiner.refine` (our preprocessing, one
image embedding per frame, one box-prompted decode per frame), against the box
map it replaces. The load average is printed because the machine is shared.

    python benchmarks/a2o_sam2.py                       # CPU, 4 frames, 3 boxes each
    python benchmarks/a2o_sam2.py --device cuda --frames 32
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def sam2_config(size: str):
    from transformers import Sam2Config
    from transformers.models.sam2.configuration_sam2 import Sam2HieraDetConfig, Sam2VisionConfig

    if size == "tiny":
        return Sam2Config()  # transformers' defaults are SAM 2.1 Hiera-T
    backbone = Sam2HieraDetConfig(
        blocks_per_stage=[1, 2, 11, 2], global_attention_blocks=[7, 10, 13]
    )
    return Sam2Config(vision_config=Sam2VisionConfig(backbone_config=backbone))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--boxes", type=int, default=3, help="detections per frame")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", nargs="+", default=["tiny", "small"])
    args = parser.parse_args()

    import torch
    from transformers import Sam2Model

    from actionbias.a2o.maps.backend import boxes_to_map
    from actionbias.a2o.maps.sam2 import Sam2Refiner

    print(
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; torch threads "
        f"{torch.get_num_threads()}; device {args.device}; {args.frames} frames of 480x640, "
        f"{args.boxes} boxes each"
    )
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (args.frames, 480, 640, 3), dtype=np.uint8)
    boxes = [
        np.sort(
            rng.uniform(0, 480, (args.boxes, 4)).astype(np.float32).reshape(-1, 2, 2), 1
        ).reshape(-1, 4)[:, [0, 2, 1, 3]]
        for _ in range(args.frames)
    ]
    start = time.perf_counter()
    for t in range(args.frames):
        for box in boxes[t]:
            boxes_to_map(box[None], np.array([0.5]), 480, 640)
    box_ms = 1000 * (time.perf_counter() - start) / args.frames
    print(f"boxes (mask=box)        {box_ms:8.2f} ms/frame")
    for size in args.sizes:
        torch.manual_seed(0)
        model = Sam2Model(sam2_config(size)).to(args.device)
        refiner = Sam2Refiner(f"random-{size}", device=args.device, dtype="float32")
        refiner.set_model(model)
        refiner.refine(frames[:1], boxes[:1])  # warm-up
        start = time.perf_counter()
        masks = refiner.refine(frames, boxes)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        weights = sum(p.numel() for p in model.parameters()) / 1e6
        assert masks[0].shape == (args.boxes, 480, 640)
        print(
            f"SAM 2.1 Hiera-{size[0].upper()} ({weights:.0f} M)  "
            f"{1000 * seconds / args.frames:8.1f} ms/frame (mask=sam2)"
        )


if __name__ == "__main__":
    main()
