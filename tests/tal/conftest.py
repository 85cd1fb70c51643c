"""Every TAL test runs on tiny tensors: one torch thread is faster, and on a machine whose cores
are busy with other work a second thread made some tests 10x slower (see `torch_threads`)."""

from __future__ import annotations

import pytest

from actionbias.tal.train import torch_threads


@pytest.fixture(autouse=True)
def _one_torch_thread():
    with torch_threads(1):
        yield
