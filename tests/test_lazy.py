"""`lazy_exports`: a package's names load their module on first use, and only then."""

from __future__ import annotations

import subprocess
import sys

import pytest

from actionbias.lazy import lazy_exports


def test_an_export_loads_its_module_once_and_is_kept():
    namespace = {"__name__": "actionbias"}
    getattr_ = lazy_exports(namespace, {"atomic_write_text": ".fileio", "Path": "pathlib"})
    from pathlib import Path

    from actionbias.fileio import atomic_write_text

    assert getattr_("atomic_write_text") is atomic_write_text
    assert getattr_("Path") is Path
    assert namespace["atomic_write_text"] is atomic_write_text


def test_an_unknown_name_is_an_attribute_error():
    getattr_ = lazy_exports({"__name__": "actionbias.demo"}, {})
    with pytest.raises(AttributeError, match=r"module 'actionbias\.demo' has no attribute 'nope'"):
        getattr_("nope")


def test_the_packages_export_lazily():
    code = (
        "import sys, actionbias.demo, actionbias.report, actionbias.audit\n"
        "heavy = [m for m in ('torch', 'matplotlib') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "from actionbias.report import collect_run_dirs\n"
        "from actionbias.demo import DemoRun\n"
        "assert actionbias.demo.DemoRun.__module__ == 'actionbias.demo.runs'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
