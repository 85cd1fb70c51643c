"""The "Mimetic accuracy by class" section: pooled over seeds, weakest classes first."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_testkit import CLASSES, make_run

from actionbias.report import collect_run_dirs, load_run, write_report
from actionbias.report.cells import Styles
from actionbias.report.context import MAX_ROWS, context_section
from actionbias.report.runs import label_runs


def _section(html: str) -> str:
    match = re.search(r'<section id="context">(.*?)</section>', html, re.S)
    assert match, "context section missing"
    return match.group(1)


def _rows(fragment: str) -> list[list[str]]:
    body = re.search(r"<tbody>(.*?)</tbody>", fragment, re.S)
    assert body
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    return [
        [
            re.sub(r"<[^>]+>", " ", c).split("[")[0].strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in rows
    ]


@pytest.fixture(scope="module")
def two_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("context")
    for seed in (0, 1):
        make_run(root, f"base-s{seed}", "baseline", tags={"seed": seed}, accuracy=0.4, seed=seed)
        make_run(
            root, f"seg-s{seed}", "segmented", tags={"seed": seed}, accuracy=0.9, seed=9 + seed
        )
    return root


def test_cells_pool_every_seed_of_a_model_and_rows_start_with_the_weakest(two_models, tmp_path):
    out = tmp_path / "r.html"
    write_report(collect_run_dirs([two_models]), out)
    fragment = _section(out.read_text(encoding="utf-8"))
    assert '<img src="data:image/png;base64,' in fragment and "<details>" in fragment
    rows = _rows(fragment)
    assert len(rows) == len(CLASSES)
    # the expected figures, from the two baseline runs' predictions, pooled
    right: dict[str, int] = {}
    total: dict[str, int] = {}
    for seed in (0, 1):
        table = load_run(two_models / f"base-s{seed}").predictions()
        for label, pred, group in zip(table.labels, table.predictions, table.datasets, strict=True):
            if group == "mimetic":
                name = CLASSES[int(label)]
                total[name] = total.get(name, 0) + 1
                right[name] = right.get(name, 0) + int(label == pred)
    shown = [row[0] for row in rows]
    acc = {c: right[c] / total[c] for c in CLASSES}
    assert shown == sorted(CLASSES, key=lambda c: (acc[c], c))
    for row in rows:
        name, n, base, seg, wrong = row
        assert int(n) == total[name] == 20  # 60 mimetic rows of 6 classes, two seeds
        assert float(base) == pytest.approx(100 * acc[name], abs=0.051)
        assert float(seg) > 50 and (wrong == "none" or wrong.split(" (")[0] in CLASSES)


def test_long_class_lists_show_the_extremes_only(tmp_path):
    classes = [f"class{i:02d}" for i in range(MAX_ROWS + 10)]
    make_run(tmp_path / "runs", "one", "model", classes=classes, per_group=3 * len(classes))
    run = load_run(tmp_path / "runs" / "one")
    label_runs([run])
    section = context_section([run], Styles([run]))
    assert section is not None
    html = str(section.body)
    assert len(_rows(html)) == MAX_ROWS and "(10 not shown)" in html


def test_runs_without_a_mimetic_group_leave_the_section_out(tmp_path):
    make_run(tmp_path / "runs", "one", "model", groups=("test", "swap"))
    run = load_run(tmp_path / "runs" / "one")
    assert context_section([run], Styles([run])) is None


def test_the_baseline_leads_and_ambiguous_names_carry_their_frames(two_models, tmp_path):
    for frames in (4, 16):
        make_run(tmp_path, f"vlm-f{frames}", "vlm", frames=frames, seed=frames)
    runs = [load_run(p) for p in [*collect_run_dirs([two_models]), *collect_run_dirs([tmp_path])]]
    label_runs(runs)
    section = context_section(runs, Styles(runs), first="segmented")
    assert section is not None
    html = str(section.body)
    heads = re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)
    titles = [re.sub(r"<[^>]+>", "", h).strip() for h in heads]
    assert titles[2:6] == ["segmented", "baseline", "vlm (4 frames)", "vlm (16 frames)"]
    assert titles[-1] == "segmented: most frequent wrong answer"
    firsts = [float(row[2]) for row in _rows(html)]
    assert firsts == sorted(firsts)  # rows follow the leading model's accuracy


def test_a_run_reads_its_predictions_once(two_models):
    run = load_run(two_models / "base-s0")
    assert run.predictions() is run.predictions()  # kept for the sections that need it
