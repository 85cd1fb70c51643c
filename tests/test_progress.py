"""`actionbias.progress`: the one bar helper and `quiet_lightning`."""

from __future__ import annotations

import logging
import warnings

import pytest

from actionbias.progress import progress_bar, quiet_lightning


def test_disabled_display_shows_nothing_and_accepts_every_call(capsys):
    with progress_bar(False, "title") as display:
        assert not display.enabled
        task = display.task("work", 3, completed=1)
        task.advance()
        task.advance(2)
        task.describe("other")
        display.print("a line")
    assert capsys.readouterr().out == ""


def test_enabled_bar_counts_from_completed_and_prints_above(capsys):
    with progress_bar(True, "SynthAct") as display:
        assert display.enabled
        task = display.task("render", 5, completed=2)
        task.advance(2)
        task.describe("written")
        display.print("one line above")
    out = capsys.readouterr().out
    assert "one line above" in out
    assert "SynthAct: written" in out
    assert "4/5" in out


def test_untitled_bar_shows_the_description():
    with progress_bar(True) as display:
        display.task("audit run-1", 2).advance()


def test_quiet_lightning_raises_the_level_and_restores_it():
    logger = logging.getLogger("lightning.pytorch")
    logger.setLevel(logging.DEBUG)
    try:
        with quiet_lightning():
            assert logger.level == logging.WARNING
            assert not logger.isEnabledFor(logging.INFO)
        assert logger.level == logging.DEBUG
    finally:
        logger.setLevel(logging.NOTSET)


def test_quiet_lightning_hides_only_advice_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet_lightning():
            warnings.warn("The dataloader does not have many workers", UserWarning, stacklevel=1)
            warnings.warn("something else went wrong", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["something else went wrong"]


def test_quiet_lightning_restores_levels_after_an_error():
    logger = logging.getLogger("lightning.fabric")
    before = logger.level
    with pytest.raises(RuntimeError), quiet_lightning():
        raise RuntimeError("boom")
    assert logger.level == before
