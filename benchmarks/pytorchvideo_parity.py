"""Parity of `build_model("slow_r50", pretrained=FILE)` with pytorchvideo's own network.

Not a test (pytorchvideo is not a dependency): a one-off check against the real
library. Builds pytorchvideo's hub ``slow_r50`` (``create_resnet`` with the hub's
arguments) with random weights and random BN statistics, saves its state dict as
its model zoo does (``{"model_state": ...}``), loads that file into our
``slow_r50`` and compares logits at 8x224x224 and 8x256x256.

    pip install --no-deps --target /tmp/pvlib pytorchvideo fvcore iopath portalocker \
        yacs tabulate termcolor
    PYTHONPATH=/tmp/pvlib .venv/bin/python benchmarks/pytorchvideo_parity.py

pytorchvideo imports torchvision only for the detection heads' ``RoIAlign``;
torchvision does not install beside this project's torch wheel, so a stand-in
module is registered for that import (slow_r50 never uses it).
"""

from __future__ import annotations

import sys
import tempfile
import time
import types
from pathlib import Path

import torch

from actionbias.models import build_model


def _pytorchvideo_builder():
    if "torchvision" not in sys.modules:
        vision, ops = types.ModuleType("torchvision"), types.ModuleType("torchvision.ops")
        ops.RoIAlign = type("RoIAlign", (), {})
        vision.ops = ops
        sys.modules.update({"torchvision": vision, "torchvision.ops": ops})
    try:
        from pytorchvideo.models.resnet import create_resnet
    except ImportError as err:
        sys.exit(f"pytorchvideo is not importable ({err}); see the module docstring")
    return create_resnet


def main() -> None:
    torch.set_num_threads(2)
    create_resnet = _pytorchvideo_builder()
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    reference = create_resnet(
        stem_conv_kernel_size=(1, 7, 7), head_pool_kernel_size=(8, 7, 7), model_depth=50
    ).eval()
    with torch.no_grad():
        for name, tensor in reference.state_dict().items():
            if name.endswith("running_var") or ("norm" in name and name.endswith("weight")):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            elif name.endswith("running_mean") or ("norm" in name and name.endswith("bias")):
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "SLOW_8x8_R50.pyth"
        torch.save({"model_state": reference.state_dict(), "epoch": 1}, path)
        for size, options in ((224, {}), (256, {"head_pool_kernel": (8, 7, 7)}), (256, {})):
            ours = build_model("slow_r50", 400, pretrained=path, **options).eval()
            report = ours.pretrained_report
            clip = torch.randn(2, 3, 8, size, size, generator=generator)
            started = time.perf_counter()
            with torch.no_grad():
                theirs, mine = reference(clip), ours({"video": clip})
            relative = ((theirs - mine).abs().max() / theirs.abs().max()).item()
            print(
                f"8x{size}x{size} {options or 'default head'}: {len(report.loaded)} tensors "
                f"loaded, {len(report.missing)} missing, {len(report.unexpected)} unexpected; "
                f"max |logit difference| / max |logit| = {relative:.2e}; same argmax: "
                f"{bool((theirs.argmax(1) == mine.argmax(1)).all())} "
                f"({time.perf_counter() - started:.1f} s)"
            )


if __name__ == "__main__":
    main()
