# The two set-up commands a new user needs: `make demo` and `make test`. Each builds .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true
OUT ?= out

.PHONY: install demo test test-fast bench clean ui tiny-model

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first and pinned: several dependencies ask for torch with no upper bound.
	$(VENV)/bin/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) -m pipeline demo --config configs/default.yaml --out $(OUT)

ui: install
	$(PY) -m pipeline ui

tiny-model: install
	$(PY) scripts/make_tiny_model.py

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not integration and not slow"

bench: install
	$(PY) benchmarks/segment_speed.py
	$(PY) benchmarks/label_speed.py --all-backends

clean:
	rm -rf $(OUT) .pytest_cache
