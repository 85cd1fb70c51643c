# Two entry points do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OUT ?= runs/demo

.PHONY: demo demo-quick test test-slow lint bench clean

# The demo needs only the base package; the tests need the extras (Hugging Face,
# Optuna, mediapipe, the dev tools). Two stamps, so `make demo` on a fresh machine
# does not spend minutes installing what it never imports.
BASE_STAMP := $(VENV)/.base-stamp

# --no-compile: pip would otherwise byte-compile every module of every wheel (torch
# alone has thousands) at install time; Python compiles the few it imports on first
# use instead. Measured: torch's install 121 s -> 25 s on a loaded 2-core machine.
# 'pip>=23' upgrades only a pip too old for editable pyproject installs.
PIP := $(BIN)/python -m pip install -q --no-compile

$(BASE_STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) 'pip>=23'
	$(PIP) -c constraints.txt -e .
	touch $(BASE_STAMP)

$(STAMP): $(BASE_STAMP)
	$(PIP) -c constraints.txt -e '.[dev]'
	$(PIP) --no-deps -c constraints.txt mediapipe==0.10.14
	touch $(STAMP)

demo: $(BASE_STAMP)
	$(BIN)/actionbias demo --out $(OUT)

demo-quick: $(BASE_STAMP)
	$(BIN)/actionbias demo --out runs/demo-quick --quick

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/video_io.py
	$(BIN)/python benchmarks/synth.py
	$(BIN)/python benchmarks/segment.py
	$(BIN)/python benchmarks/model_cost.py
	$(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/llm_client.py
	$(BIN)/python benchmarks/tal_eval.py
	$(BIN)/python benchmarks/tal_detector.py
	$(BIN)/python benchmarks/a2o_maps.py
	$(BIN)/python benchmarks/a2o_model.py

clean:
	rm -rf $(VENV) .pytest_cache runs
