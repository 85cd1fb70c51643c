"""The HTML report: audit run directories -> one self-contained page with tables and plots.

Reads the run-directory format of `actionbias.audit.rundir` (config.json,
metrics.json, skipped.jsonl, predictions.jsonl for paired comparisons) and
writes a single HTML file with inline CSS and base64 PNG figures.
"""

from __future__ import annotations

from actionbias.lazy import lazy_exports

# Lazy exports: the command line builds its parser from `report.commands`, and
# importing matplotlib for that would cost every `actionbias` call half a second.
_EXPORTS = {
    "add_report_arguments": ".commands",
    "report_command": ".commands",
    "build_html": ".page",
    "write_report": ".page",
    "ReportRun": ".runs",
    "collect_run_dirs": ".runs",
    "load_run": ".runs",
    "ScreenshotError": ".screenshot",
    "find_browser": ".screenshot",
    "render_screenshot": ".screenshot",
}


__getattr__ = lazy_exports(globals(), _EXPORTS)


# Everything the package exports is lazy, so the table above is the export list.
__all__ = sorted(_EXPORTS)
