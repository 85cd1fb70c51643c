"""`TALDemoSettings`: the stored identity of a TAL demo folder."""

from __future__ import annotations

import dataclasses

from actionbias.tal.demo_settings import demo_settings


def test_settings_hold_a_digest_of_the_resolved_synthact_config(monkeypatch):
    import actionbias.synth.config as synth_config

    before = demo_settings(quick=True).to_json()
    assert len(before["synth_sha256"]) == 16
    assert demo_settings(quick=True).to_json() == before
    # A recalibrated preset keeps its name; the digest tells the two apart.
    tiny = synth_config.PRESETS["tiny"]
    monkeypatch.setitem(synth_config.PRESETS, "tiny", dataclasses.replace(tiny, correlation=0.5))
    after = demo_settings(quick=True).to_json()
    assert after["preset"] == before["preset"]
    assert after["synth_sha256"] != before["synth_sha256"]
