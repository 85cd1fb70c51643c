"""The label space zero-shot models and video LLMs are audited in."""

from __future__ import annotations

import pytest

from actionbias.errors import BadInputError
from actionbias.synth import read_synthact


def test_label_space_choice_and_errors(synthact):
    from actionbias.audit.label_space import choose_label_space
    from actionbias.data import mimetics_classes

    mimetics = choose_label_space(None, mimetics_classes())
    assert mimetics.name == "kinetics400" and len(mimetics.classes) == 400
    synth = read_synthact(synthact)["test"].classes
    assert choose_label_space("auto", synth).name == "dataset"
    assert choose_label_space("dataset", mimetics_classes()).classes == mimetics_classes()
    with pytest.raises(BadInputError, match="not Kinetics-400 classes") as err:
        choose_label_space("kinetics400", synth)
    assert "--label-space kinetics400" in str(err.value)
    with pytest.raises(BadInputError, match="label space must be one of"):
        choose_label_space("imagenet", synth)
