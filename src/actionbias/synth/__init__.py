"""SynthAct: a procedurally rendered action benchmark with a controllable scene shortcut.

What Colored-MNIST and Waterbirds are for image classifiers, SynthAct is for
video action recognition: the toolkit runs offline on CPU, and the phenomena of
the papers (background bias, HAT Action-Swap, Mimetics) appear under control.

* Actor: an articulated 3-D figure (head, neck, torso, pelvis, upper arms,
  forearms, hands, thighs, shins, feet) with random proportions, clothes, size,
  position and yaw, filmed by a slowly panning/zooming camera.
* Actions: 14 classes of joint-angle trajectories (`ACTIONS`); three pairs are
  time reversals of each other (`REVERSED_PAIRS`), so a single frame cannot
  tell them apart.
* Scenes: each class has a textured home scene (`HOME_SCENES`) made of named
  elements and is filmed in a scene set (its home scene plus those of the next
  `scene_sets - 1` classes, so scenes are shared between classes); `correlation`
  is the fraction of train/val/test clips filmed in their class's set, the rest
  go on another class's home scene. Per clip the scene re-draws its layout and
  colours, and may be relit, get distractor props and a shallow depth of field.
  Some classes carry a hand-held object (`OBJECTS`). `card.benchmark_card`
  measures how strong a configuration's shortcut is.
* Splits: train, val, test (in-distribution), swap (the human of a test clip
  of class A on the home-scene background of a test clip of class B != A, the
  HAT Action-Swap analogue) and mimetic (no objects, on scenes no class of the
  configuration is filmed in: the Mimetics analogue). Plus untrimmed videos
  with 2-6 instances each.

Output layout (`generate(out_dir)`)::

    OUT/
      synthact.json            format, preset, seed, config, classes, home scene and
                               object per class, counts, mask names (byte-stable)
      generation.json          status, start time, seconds, summary (not reproducible)
      classes.txt              one class per line, index order
      annotations/{train,val,test,swap,mimetic}.csv
                               Kinetics-400 CSV: label,youtube_id,time_start,time_end,split,
                               scene,object (+ swap: background_label,human_clip,background_clip);
                               annotations/classes.txt repeats the class list so the
                               generic Kinetics reader finds it
      videos/{split}/{class}/{youtube_id}_000000_{end:06d}.mp4
                               H.264 yuv420p; youtube_id "sa-{split}-{index:05d}"; the
                               Kinetics clip name is the clip id used everywhere below
      hat/{ori,inp}/{class}/{clip}/000001.png   frames / background-only frames (lossless,
                               the splits in config.hat_splits)
      hat/seg/{class}/{clip}/000001.png         person mask, one channel, 0/255
      hat/classes.txt, hat/swap_pairs.csv (human_clip,human_label,background_clip,
                               background_label,has_person; clips as "class/clip"),
      hat/actionswap_rand_1.pickle              the same pairs in HAT's pickle format
      masks/{split}/{clip}.npz one bool T x H x W array per mask name
      untrimmed/videos/{video_id}.mp4, untrimmed/annotations.json (ActionFormer),
      untrimmed/masks/{video_id}.npz (person only)

HAT folders are written for the splits in `config.hat_splits`: the evaluation
splits test, swap and mimetic by default (every split in the tiny preset, or
with `hat_splits="all"`); lossless PNGs of textured scenes cost ~16 kB a frame,
and train/val would add ~190 MB to the default preset. Every clip of every
split has its exact masks, so its human-only version is always `frames *
masks["person"]`; `render_clip(load_plan(out).clips[split][i].spec)` re-creates any
clip's frames, background-only frames and masks bit-exactly.

Mask names are plain English with no prefix: "person" (union of the body
parts), the body parts ("head", "left upper arm", "left forearm", "left hand",
"left thigh", ...), the clip's object ("ball", "flag", ...) and its scene
elements ("sky", "grass", "net", ...). The three vocabularies are disjoint;
`synthact.json["masks"]` lists which name belongs to which. Masks are *visible*
regions: every pixel belongs to exactly one of the scene elements, the object
or a body part. Objects are painted behind the body, so the person mask does
not depend on the object, and the swap split (which drops objects, as HAT
drops unsegmented objects) equals `ori * seg + inp_background * (1 - seg)`
exactly, frame for frame, on the lossless PNGs.
"""

from __future__ import annotations

from actionbias.synth.actions import ACTIONS, REVERSED_PAIRS, Action, MotionSpec, sample_motion
from actionbias.synth.config import PRESETS, SPLITS, SynthConfig, config_digest, resolve_config
from actionbias.synth.files import load_masks, save_masks
from actionbias.synth.generation import generate
from actionbias.synth.objects import OBJECTS, ObjectSpec
from actionbias.synth.plan import Plan, PlannedClip, PlannedVideo, make_plan
from actionbias.synth.reading import load_plan, read_description, read_synthact
from actionbias.synth.render import ClipSpec, RenderedClip, render_clip
from actionbias.synth.scenes import HOME_SCENES, NEUTRAL_SCENES, SCENES, SceneSpec, scene_elements

__all__ = [
    "ACTIONS",
    "HOME_SCENES",
    "NEUTRAL_SCENES",
    "OBJECTS",
    "PRESETS",
    "REVERSED_PAIRS",
    "SCENES",
    "SPLITS",
    "Action",
    "ClipSpec",
    "MotionSpec",
    "ObjectSpec",
    "Plan",
    "PlannedClip",
    "PlannedVideo",
    "RenderedClip",
    "SceneSpec",
    "SynthConfig",
    "config_digest",
    "generate",
    "load_masks",
    "load_plan",
    "make_plan",
    "read_description",
    "read_synthact",
    "render_clip",
    "resolve_config",
    "sample_motion",
    "save_masks",
    "scene_elements",
]
