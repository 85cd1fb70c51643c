"""Background images for scene-swap training (paper, appendix A.4 and Table 3).

The paper pasted each Kinetics-50 training person onto a random Places365 image,
the same image for the whole clip, resized to the video, doubling the training
set. Here the images come from a folder (Places365 or any other) or are painted
by SynthAct's scene library at the training crop size:

* ``synthact:home`` — the 14 class "home" scenes. Drawn at random for every clip,
  a scene stops predicting the class, which is the point of the augmentation;
  like Places365 it contains scenes that also occur in the data. Default, because
  it keeps the mimetic split's studios unseen;
* ``synthact:neutral`` — the two neutral studios (the mimetic split's scenes, so
  mimetic accuracy then also measures familiarity with its backgrounds);
* ``synthact:all`` — both.

Each scene is rendered ``variants`` times (colour, layout and texture vary with
the seed), centre-cropped from the camera canvas to the frame.
"""

from __future__ import annotations

import numpy as np

from actionbias.errors import BadInputError

SYNTHACT_SCENE_SETS = ("synthact:home", "synthact:neutral", "synthact:all")


def scene_backgrounds(
    spec: str, size: int, variants: int = 4, seed: int = 0, data_dir: str | None = None
) -> list:
    """Backgrounds for `actionbias.segment.SceneSwapAugment`: image paths or uint8 arrays.

    With ``data_dir`` a SynthAct folder, SynthAct scenes are painted in that
    dataset's look (its scene contrast, blur and lighting, as Places365 photos
    share the look of the videos they are pasted into) and the scenes of its
    mimetic split are left out (so mimetic accuracy never measures familiarity).
    """
    if spec.startswith("synthact:"):
        style, exclude = _synthact_style(data_dir)
        return synthact_scenes(spec, size, variants, seed, style, exclude)
    from actionbias.segment import list_scene_images

    try:
        return list(list_scene_images(spec))
    except BadInputError as err:
        raise BadInputError(err.reason, source=spec, where="field data.scenes") from None


def _synthact_style(data_dir: str | None) -> tuple[dict[str, float], set[str]]:
    """(scene look, mimetic scenes) of a SynthAct folder; defaults for anything else."""
    import json
    from pathlib import Path

    if data_dir is None:
        return {}, set()
    path = Path(data_dir) / "synthact.json"
    try:
        description = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, set()
    config = description.get("config") or {}
    style = {
        "lighting": float(config.get("lighting", 0.0)),
        "contrast": float(config.get("scene_contrast", 1.0)),
        "blur": float(config.get("scene_blur", 0.0)),
    }
    return style, set(description.get("mimetic_scenes") or [])


def synthact_scenes(
    spec: str,
    size: int,
    variants: int = 4,
    seed: int = 0,
    style: dict[str, float] | None = None,
    exclude: set[str] | frozenset[str] = frozenset(),
) -> list[np.ndarray]:
    """SynthAct scenes painted for ``size x size`` frames, ``variants`` seeds each.

    ``style`` holds `SceneSpec` look fields (lighting, contrast, blur); ``exclude``
    names scenes to leave out.
    """
    from actionbias.synth import HOME_SCENES, NEUTRAL_SCENES
    from actionbias.synth.scenes import SceneSpec, build_scene

    if spec not in SYNTHACT_SCENE_SETS:
        raise BadInputError(
            f"unknown scene set {spec!r}; choose {', '.join(SYNTHACT_SCENE_SETS)} or a folder",
            where="field data.scenes",
        )
    names = {
        "synthact:home": list(HOME_SCENES),
        "synthact:neutral": list(NEUTRAL_SCENES),
        "synthact:all": [*HOME_SCENES, *NEUTRAL_SCENES],
    }[spec]
    images = []
    for name in [n for n in names if n not in exclude]:
        for variant in range(variants):
            scene = build_scene(SceneSpec(name, seed * 1000 + variant, **(style or {})), size)
            canvas = scene.image
            top = (canvas.shape[0] - size) // 2
            left = (canvas.shape[1] - size) // 2
            images.append(np.ascontiguousarray(canvas[top : top + size, left : left + size]))
    return images
