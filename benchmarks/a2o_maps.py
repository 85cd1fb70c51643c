"""Likelihood maps per second for each A2O map backend, and what the cache saves.

Runs on a generated SynthAct set (default preset: 16 frames of 112x112 per clip):

* synth-oracle and pose through `MapStore` (decode + detect + downsample + write);
* OWLv2 with the real class and processor at its realistic 960 x 960 input but a tiny
  random-weight config (no hub access here: the figure is the pre/post-processing and
  map-building cost plus a toy network, NOT the cost of the real ViT-B/16);
* the cache: the same `load` again from a fresh store (disk) and from the same store
  (memory), against the first computation.

A "map" is one query on one frame. The load average is printed with the figures
because the machine is shared.

    python benchmarks/a2o_maps.py                  # generates SynthAct in a temp dir
    python benchmarks/a2o_maps.py --data runs/demo/synthact --clips 8
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

QUERIES = ["person", "arm", "leg", "head", "ball", "racket", "sky", "floor"]


def _rate(maps: int, seconds: float) -> str:
    return f"{maps / seconds:8.1f} maps/s ({maps} maps in {seconds:.2f} s)"


def _time_store(store, records, queries) -> tuple[float, int]:
    start = time.perf_counter()
    frames = 0
    for record in records:
        maps = store.load(record, [0], queries)
        frames += len(store._memory[(store.video_key(record), queries[0])].indices)
        assert maps.shape[0] == len(queries)
    return time.perf_counter() - start, frames * len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="an existing SynthAct folder")
    parser.add_argument("--clips", type=int, default=6, help="test clips to run on")
    parser.add_argument("--map-size", type=int, default=32)
    args = parser.parse_args()

    from actionbias.a2o.maps import MapStore, build_backend
    from actionbias.synth import generate, read_synthact

    tmp = Path(tempfile.mkdtemp(prefix="a2o_maps_bench_"))
    data = args.data
    if data is None:
        data = tmp / "synthact"
        generate(data, preset="default", seed=0, workers=2, progress=False, untrimmed=0)
    records = read_synthact(data)["test"].records[: args.clips]
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {len(records)} clips")

    # Warm the shared MiniLM so its one-off load is not billed to the first backend.
    from actionbias.a2o.maps.vocabulary import RegionVocabulary

    RegionVocabulary().match("warm up", ["sky"])

    oracle = MapStore("synth-oracle", tmp / "cache", map_size=args.map_size)
    seconds, maps = _time_store(oracle, records, QUERIES)
    print(f"synth-oracle  first   {_rate(maps, seconds)}")
    disk = MapStore("synth-oracle", tmp / "cache", map_size=args.map_size)
    hit_disk, _ = _time_store(disk, records, QUERIES)
    hit_mem, _ = _time_store(disk, records, QUERIES)
    print(f"synth-oracle  disk    {_rate(maps, hit_disk)}  speed-up {seconds / hit_disk:.1f}x")
    print(f"synth-oracle  memory  {_rate(maps, hit_mem)}  speed-up {seconds / hit_mem:.1f}x")

    from actionbias.segment.mediapipe_backend import mediapipe_available

    if mediapipe_available():
        pose = MapStore("pose", tmp / "cache", map_size=args.map_size, input_size=256)
        seconds, maps = _time_store(pose, records, QUERIES)
        print(f"pose (256px)  first   {_rate(maps, seconds)}")
        again, _ = _time_store(
            MapStore("pose", tmp / "cache", map_size=args.map_size, input_size=256),
            records,
            QUERIES,
        )
        print(f"pose          disk    {_rate(maps, again)}  speed-up {seconds / again:.1f}x")
    else:
        print("pose: mediapipe 0.10.14 not installed, skipped")

    sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "a2o"))
    from test_a2o_maps_detectors import tiny_owlv2

    model, processor = tiny_owlv2()
    processor.image_processor.size = {"height": 960, "width": 960}
    model.config.vision_config.image_size = 960
    owl_dir = tmp / "tiny-owlv2-960"
    from transformers import Owlv2Config, Owlv2ForObjectDetection

    config = Owlv2Config.from_dict(model.config.to_dict())
    config.vision_config.image_size = 960
    Owlv2ForObjectDetection(config).save_pretrained(owl_dir)
    processor.save_pretrained(owl_dir)
    backend = build_backend("owlv2", model=str(owl_dir), batch_size=4, input_size=None)
    frames = np.random.default_rng(0).integers(0, 256, (8, 112, 112, 3), dtype=np.uint8)
    backend.compute(None, frames[:1], QUERIES[:2])  # load
    start = time.perf_counter()
    backend.compute(None, frames, QUERIES)
    seconds = time.perf_counter() - start
    print(f"owlv2 tiny @960 {_rate(len(frames) * len(QUERIES), seconds)} (toy weights, see doc)")


if __name__ == "__main__":
    main()
