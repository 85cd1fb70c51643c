"""`actionbias demo`: the background-bias study of "Seeing Beyond the Scene" on SynthAct.

``run_demo(out_dir)`` generates SynthAct, trains the Slow-only baseline and the four
mitigation models (segmented input, dual-branch sum/stack, weighted focus), each
without and with scene-swap augmentation, audits every model on the in-distribution
test split, the Action-Swap analogue (SHAcc, SBErr) and the Mimetics analogue, and
writes the Table 2 / Table 3 analogue with confidence intervals and the HTML report.
See `actionbias.demo.pipeline` for the run-directory layout and resume rules,
`actionbias.demo.runs` for the study's cells, `actionbias.demo.settings` for what a
rerun must match, `actionbias.demo.jobs` for the train-and-audit workers, and
`actionbias.demo.tables` for how the intervals are made.

Exports are loaded lazily: the command line imports `actionbias.demo.commands` to
build its parser, and that must not pull in torch and Lightning.
"""

from __future__ import annotations

from actionbias.lazy import lazy_exports

__all__ = [
    "DemoResult",
    "DemoRun",
    "DemoTables",
    "RunFigures",
    "add_demo_arguments",
    "build_tables",
    "cmd_demo",
    "run_demo",
]

_WHERE = {
    "DemoResult": "actionbias.demo.runs",
    "DemoRun": "actionbias.demo.runs",
    "run_demo": "actionbias.demo.pipeline",
    "DemoTables": "actionbias.demo.tables",
    "RunFigures": "actionbias.demo.tables",
    "build_tables": "actionbias.demo.tables",
    "add_demo_arguments": "actionbias.demo.commands",
    "cmd_demo": "actionbias.demo.commands",
}


__getattr__ = lazy_exports(globals(), _WHERE)
