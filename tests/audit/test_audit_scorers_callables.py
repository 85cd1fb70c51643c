"""`CallableScorer`: any function ``clips -> scores`` as an audited model."""

from __future__ import annotations

import numpy as np
import pytest

from actionbias.audit.scorers import CallableScorer, ClipScorer, MCQAnswerer, describe


def test_callable_scorer_checks_shapes():
    scorer = CallableScorer(lambda clips: np.zeros((len(clips), 3)), ["a", "b", "c"], name="zeros")
    clips = [np.zeros((2, 8, 8, 3), np.uint8)] * 2
    assert scorer.score(clips).shape == (2, 3)
    assert isinstance(scorer, ClipScorer) and not isinstance(scorer, MCQAnswerer)
    assert describe(scorer) == ("zeros", {"type": "callable", "id": "zeros"})
    with pytest.raises(ValueError, match="4 classes"):
        CallableScorer(lambda c: np.zeros((len(c), 3)), ["a", "b", "c", "d"]).score(clips)
    with pytest.raises(ValueError, match="shape"):
        CallableScorer(lambda c: np.zeros(3)).score(clips)
