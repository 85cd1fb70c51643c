"""The HTML report: sections, escaping, self-containment, determinism, bad input, CLI."""

from __future__ import annotations

import argparse
import html
import json
import re
from pathlib import Path

import numpy as np
import pytest
from report_testkit import SEEDS, SWEEP_FRAMES, make_run

from actionbias.errors import BadInputError
from actionbias.metrics.seeds import t_quantile
from actionbias.report import (
    add_report_arguments,
    collect_run_dirs,
    load_run,
    report_command,
    write_report,
)
from actionbias.report.runs import label_runs

CREATED = re.compile(r'<span class="created">[^<]*</span>')


def _section(text: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}">(.*?)</section>', text, re.S)
    assert match, f"section {section_id!r} missing"
    return match.group(1)


def _body_rows(fragment: str) -> list[str]:
    """Rows of the first table's body in an HTML fragment."""
    body = re.search(r"<tbody>(.*?)</tbody>", fragment, re.S)
    assert body
    return re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)


@pytest.fixture(scope="module")
def study_report(study_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("out") / "report.html"
    dirs = collect_run_dirs([study_root])
    write_report(dirs, out, title="study", baseline="baseline", study={"seeds": list(SEEDS)})
    return out, out.read_text(encoding="utf-8")


def test_all_sections_present_with_row_counts(study_report: tuple[Path, str]) -> None:
    _, text = study_report
    ids = re.findall(r'<section id="([a-z]+)">', text)
    assert ids == [
        "headline", "swap", "classes", "context", "sweep", "study", "compare", "provenance"
    ]  # fmt: skip
    assert len(_body_rows(_section(text, "headline"))) == 8 + len(SWEEP_FRAMES)
    study_rows = _body_rows(_section(text, "study"))
    assert len(study_rows) == 2  # baseline and segmented, baseline first
    assert "baseline" in study_rows[0] and "segmented" in study_rows[1]
    assert "2 seeds" in study_rows[0]
    # 6 tagged runs compared with the baseline of their own seed; the MCQ sweep is listed
    # as not compared (another protocol).
    compare = _section(text, "compare")
    rows = _body_rows(compare)
    assert len(rows) == 6
    assert all("baseline (seed " in row for row in rows)
    for row in rows:
        seed = re.search(r"\(seed (\d)\)", row).group(1)  # type: ignore[union-attr]
        assert f"baseline (seed {seed})" in row
    assert "Not compared" in compare and "InternVL3-1B (16 frames)" in compare
    # one per-class card per model name (first seed), 4 names + the sweep model
    assert _section(text, "classes").count('class="card"') == 5
    sweep = _section(text, "sweep")
    assert len(_body_rows(sweep)) == 1 and "16 frames" in sweep
    assert text.count("<details>") >= 8 + len(SWEEP_FRAMES)
    assert "moov atom not found" in _section(text, "provenance")


def test_headline_values_match_metrics(study_root: Path, study_report: tuple[Path, str]) -> None:
    _, text = study_report
    run = load_run(study_root / "demo" / "seed0" / "baseline-none")
    swap = run.metrics["summary"]["groups"]["swap"]["swap"]["sberr"]
    row = next(r for r in _body_rows(_section(text, "headline")) if "baseline (seed 0)" in r)
    cells = re.findall(r'<td class="num">(.*?)</td>', row, re.S)
    sberr = cells[7]  # chance, frames, videos, skipped, no answer, top-1, shacc, sberr
    shown = re.search(r'class="v">([\d.]+)<.*\[([\d.]+), ([\d.]+)\]', sberr)
    assert shown, sberr
    for text_value, key in zip(shown.groups(), ("value", "low", "high"), strict=True):
        assert float(text_value) == pytest.approx(100 * swap[key], rel=5e-3)


def test_study_cell_is_mean_and_t_interval_over_seeds(
    study_root: Path, study_report: tuple[Path, str]
) -> None:
    _, text = study_report
    values = [
        load_run(study_root / "demo" / f"seed{s}" / "segmented-none").figure("sberr")["value"]  # type: ignore[index]
        for s in SEEDS
    ]
    mean = np.mean(values)
    half = t_quantile(0.95, len(values) - 1) * np.std(values, ddof=1) / np.sqrt(len(values))
    row = _body_rows(_section(text, "study"))[1]
    cells = re.findall(r'<td class="num">(.*?)</td>', row, re.S)
    sberr_none = cells[4]  # test x2, shacc x2, then sberr (none, scene-swap)
    shown = re.search(r'<span class="v">([\d.]+)</span><span class="ci">± ([\d.]+)<', sberr_none)
    assert shown, sberr_none
    assert float(shown.group(1)) == pytest.approx(100 * mean, rel=5e-3)
    assert float(shown.group(2)) == pytest.approx(100 * half, rel=5e-3)
    assert "−" in sberr_none  # segmented lowers SBErr: a negative change from the baseline


def test_no_external_resources(study_report: tuple[Path, str]) -> None:
    _, text = study_report
    urls = re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', text, re.I)
    assert urls, "expected images and anchors"
    for url in urls:
        assert "http" not in url.lower()
        assert url.startswith(("data:image/png;base64,", "#")), url[:60]
    assert "<script" not in text.lower() and "<link" not in text.lower()
    assert "@import" not in text and "url(" not in text
    assert len(re.findall(r'<img src="data:image/png;base64,', text)) >= 2 + 5 + 1


def test_deterministic_except_timestamp(study_root: Path, tmp_path: Path) -> None:
    dirs = collect_run_dirs([study_root / "demo" / "seed0"])
    a = write_report(dirs, tmp_path / "a.html", baseline="baseline").read_text()
    b = write_report(dirs, tmp_path / "b.html", baseline="baseline").read_text()
    assert len(CREATED.findall(a)) == 2
    assert CREATED.sub("", a) == CREATED.sub("", b)


def test_everything_from_data_is_escaped(tmp_path: Path) -> None:
    evil_class = "<script>alert(1)</script>"
    classes = [evil_class, "tricky $x$ & \"quotes\" 'single'", "_hidden", "plain", "b<i>old"]
    evil_name = "\"&'<img src=x onerror=alert(2)>"
    run = make_run(
        tmp_path,
        "evil",
        evil_name,
        classes=classes,
        tags={"model": evil_name, "augment": "<b>aug</b>", "seed": 0},
        skipped=[("v<1>", "/x/<y>.mp4", "broken <moov> & 'atom'")],
    )
    other = make_run(tmp_path, "other", "other", classes=classes, seed=3)
    out = write_report([run, other], tmp_path / "r.html", title="<t>&", baseline=evil_name)
    text = out.read_text()
    for raw in (evil_class, evil_name, "<b>aug</b>", "<moov>", "<t>&", "b<i>old", "<y>.mp4"):
        assert raw not in text, raw
    assert html.escape(evil_class) in text
    assert html.escape(evil_name) in text
    assert html.escape("broken <moov> & 'atom'") in text
    assert "<title>&lt;t&gt;&amp;</title>" in text
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", text))
    allowed = {"html", "head", "meta", "title", "style", "body", "main", "header", "h1", "h2"}
    allowed |= {"p", "span", "strong", "nav", "a", "section", "div", "table", "thead", "tbody"}
    allowed |= {"tr", "th", "td", "caption", "figure", "img", "figcaption", "details", "summary"}
    allowed |= {"dl", "dt", "dd", "pre", "code", "ul", "li"}
    assert tags <= allowed, tags - allowed


def test_single_run_without_swap_has_only_headline_and_provenance(tmp_path: Path) -> None:
    run = make_run(tmp_path, "plain", "clip", groups=("test",), protocol="mcq")
    text = write_report([run], tmp_path / "r.html").read_text()
    assert re.findall(r'<section id="([a-z]+)">', text) == ["headline", "provenance"]
    row = _body_rows(_section(text, "headline"))[0]
    assert "20.0 (1 of 5)" in row  # MCQ chance
    assert row.count("–") == 4  # SHAcc, SBErr, other, mimetic missing


def test_chance_for_all_classes_protocol(tmp_path: Path) -> None:
    run = make_run(tmp_path, "r", "m")
    text = write_report([run], tmp_path / "r.html").read_text()
    assert "16.7 (1/6)" in _body_rows(_section(text, "headline"))[0]
    assert "The dashed line is chance (16.7 %)" in _section(text, "swap")


def test_labels_disambiguate_seeds_frames_and_folders(study_root: Path, tmp_path: Path) -> None:
    runs = [load_run(p) for p in collect_run_dirs([study_root])]
    label_runs(runs)
    labels = [r.label for r in runs]
    assert len(set(labels)) == len(labels)
    assert "baseline (seed 1)" in labels
    assert "OpenGVLab/InternVL3-1B (4 frames)" in labels
    a = make_run(tmp_path, "x1", "same")
    b = make_run(tmp_path, "x2", "same")
    twins = [load_run(a), load_run(b)]
    label_runs(twins)
    assert [r.label for r in twins] == ["same [x1]", "same [x2]"]


def test_collect_finds_nested_runs_in_natural_order(study_root: Path) -> None:
    found = collect_run_dirs([study_root / "sweep", study_root / "demo" / "seed0"])
    names = [p.name for p in found]
    assert names[:3] == ["vlm-f1", "vlm-f4", "vlm-f16"]  # 4 before 16
    assert len(found) == 3 + 4
    # a run dir given directly, twice, counts once
    again = collect_run_dirs([found[0], found[0], study_root / "sweep"])
    assert len(again) == 3


def test_bad_inputs_name_path_and_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BadInputError, match=r"empty.*no audit run directory"):
        collect_run_dirs([empty])
    with pytest.raises(BadInputError, match="no such file"):
        collect_run_dirs([tmp_path / "nope"])
    half = tmp_path / "half"
    half.mkdir()
    (half / "config.json").write_text("{}")
    with pytest.raises(BadInputError, match=r"half: missing metrics\.json"):
        collect_run_dirs([half])
    with pytest.raises(BadInputError, match=r"half: missing metrics\.json"):
        write_report([half], tmp_path / "r.html")
    with pytest.raises(BadInputError, match=r"empty: missing config\.json"):
        write_report([empty], tmp_path / "r.html")
    run = make_run(tmp_path, "ok", "ok")
    (run / "metrics.json").write_text('{"summary": ')
    with pytest.raises(BadInputError, match=r"ok/metrics\.json.*not valid JSON") as err:
        write_report([run], tmp_path / "r.html")
    assert "\n" not in str(err.value)
    (run / "metrics.json").write_text(json.dumps({"summary": {"groups": []}}))
    with pytest.raises(BadInputError, match="summary"):
        write_report([run], tmp_path / "r.html")
    good = make_run(tmp_path, "good", "good")
    with pytest.raises(BadInputError, match="baseline 'missing' is not among the runs"):
        write_report([good], tmp_path / "r.html", baseline="missing")
    assert not (tmp_path / "r.html").exists()


def test_command_collects_parent_folder(study_root: Path, tmp_path: Path, capsys) -> None:
    parser = argparse.ArgumentParser()
    add_report_arguments(parser)
    out = tmp_path / "sub" / "report.html"
    args = parser.parse_args([str(study_root / "sweep"), "--out", str(out), "--title", "Sweep"])
    assert report_command(args) == 0
    assert "wrote" in capsys.readouterr().out
    text = out.read_text()
    assert "<h1>Sweep</h1>" in text and 'id="sweep"' in text


def test_extreme_classes_never_overlap_and_ties_are_explained(tmp_path: Path) -> None:
    from actionbias.report.plots import ClassBar, Interval
    from actionbias.report.sections import extremes

    rows = [ClassBar(f"c{i}", 5, Interval(v), 0.0) for i, v in enumerate([1, 1, 1, 0.5, 0.2, 0])]
    high, low = extremes(rows)
    assert high == ["c0", "c1", "c2"] and low == ["c5", "c4", "c3"]
    many = [ClassBar(f"c{i:02d}", 5, Interval(1.0), 0.0) for i in range(12)]
    high, low = extremes(many)
    assert len(high) == len(low) == 5 and not set(high) & set(low)
    # a model that always answers the scene: SBErr 100 % for every background class
    run = make_run(tmp_path, "scene", "scene-only", human=0.0, scene=1.0)
    text = write_report([run], tmp_path / "r.html").read_text()
    classes = _section(text, "classes")
    assert "Every background class has the same SBErr (100 %)" in classes
    assert "Lowest SBErr" not in classes


def test_headline_says_what_the_swap_intervals_resampled(tmp_path: Path) -> None:
    from report_testkit import CLASSES, simulate_rows

    from actionbias.audit.rundir import RunDir

    rows = simulate_rows(CLASSES, per_group=60, groups=("test", "swap"))
    swap = [row for row in rows if row["dataset"] == "swap"]
    for i, row in enumerate(swap):
        row["human_clip"] = f"h{i // 3}"  # each human clip on 3 scenes
        row["background_clip"] = f"{row['background_label']}/b{i}"
        row["has_person"] = i >= 4
    config = {"kind": "audit", "name": "m", "model": {"type": "callable", "id": "m"}}
    config.update({"protocol": "all", "frames": 8, "seed": 0, "classes": CLASSES})
    run = RunDir.open(tmp_path / "run", config)
    run.append(rows)
    run.finalize(n_boot=200)
    text = write_report([tmp_path / "run"], tmp_path / "r.html").read_text()
    row = _body_rows(_section(text, "headline"))[0]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    group = metrics["summary"]["groups"]["swap"]
    assert group["resampling"] == {"unit": "human_clip", "videos": 56, "human_clip": 19}
    assert group["no_person"]["n"] == 4
    assert "human clip (19 human clips); 4 no-person videos apart" in row
    plain = make_run(tmp_path, "plain", "p")
    plain_row = _body_rows(
        _section(write_report([plain], tmp_path / "p.html").read_text(), "headline")
    )[0]
    assert re.search(r"<td>video</td>", plain_row)


def test_provenance_states_label_space_and_prompts(tmp_path: Path) -> None:
    from report_testkit import CLASSES, simulate_rows

    from actionbias.audit.rundir import RunDir

    config = {"kind": "audit", "name": "clip", "protocol": "all", "frames": 1, "seed": 0}
    config["model"] = {"type": "clip", "id": "tiny", "pooling": "center", "prompts": "label"}
    config["classes"] = CLASSES
    config["label_space"] = {"name": "dataset", "classes": 6, "reason": "auto: 6 <not K400>"}
    run = RunDir.open(tmp_path / "run", config)
    run.append(simulate_rows(CLASSES, per_group=12, groups=("test",)))
    run.finalize(n_boot=50)
    text = write_report([tmp_path / "run"], tmp_path / "r.html").read_text()
    provenance = _section(text, "provenance")
    assert (
        "Label space" in provenance
        and "dataset (6 classes; auto: 6 &lt;not K400&gt;)" in provenance
    )
    assert "the raw class label (the paper&#x27;s protocol)" in provenance or (
        "the raw class label (the paper's protocol)" in provenance
    )
