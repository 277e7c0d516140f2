# The public-security assistant. `make run` and `make test` are the whole set-up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
# Rasa's command line with vietnamese/speedups.py installed (same models, faster)
RASA := $(PY) -m vietnamese.cli
# Rasa 3.6 needs Python < 3.11: pyenv's 3.10, called by its path.
PYTHON310 ?= $(shell { ls -d "$$(pyenv root 2>/dev/null)"/versions/3.10.*/bin/python 2>/dev/null | sort -V | tail -1; command -v python3.10; } | head -1)
MODEL := models/current.tar.gz
TRAIN_INPUTS := config.yml domain.yml $(shell find data vietnamese -type f \( -name '*.yml' -o -name '*.py' \) 2>/dev/null)
ACTIONS_PORT ?= 5055
RASA_PORT ?= 5005
CONSOLE_PORT ?= 8080
# the sample unit whose sample applications `make seed` loads
SAMPLE_UNIT ?= XA-XUANHUONG
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: chromium help migrate seed setup run test train shell bench lint validate pytest test-server test-nlu test-core gates lock clean zalo-sim

help:
	@echo "make run    set everything up and start the assistant (REST on :$(RASA_PORT))"
	@echo "make test   set everything up and run every check"
	@echo "make setup | train | shell | bench | lint | validate | lock | clean"
	@echo "make zalo-sim   chat as a Zalo citizen with the running assistant (see README)"

# ---- environment -----------------------------------------------------------
$(VENV)/.installed: requirements.txt
	@test -n "$(PYTHON310)" || { echo "Python 3.10 not found: install it with pyenv (pyenv install 3.10)"; exit 1; }
	@echo "==> Python environment in $(VENV) ($(PYTHON310))"
	@test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --progress-bar on -q pip==24.0
	@echo "==> Installing pinned dependencies (first time: several minutes)"
	$(PY) -m pip install --disable-pip-version-check --progress-bar on -r requirements.txt
	@touch $@

var/api_token:
	@mkdir -p var && chmod 700 var
	@umask 077 && $(PY) -c "import secrets; print(secrets.token_urlsafe(32))" > $@
	@echo "==> Generated the Rasa API token in $@ (git-ignored; RASA_API_TOKEN overrides it)"

setup: $(VENV)/.installed var/api_token

lock: $(VENV)/.installed
	$(PY) -m pip install -r requirements.in
	{ echo "# Generated from requirements.in by 'make lock'. Every package is pinned."; \
	  $(PY) -m pip freeze --exclude-editable; } > requirements.txt

# ---- database -------------------------------------------------------------------
# SQLite under var/ unless DATABASE_URL is set; Alembic applies every migration.
migrate: setup
	@echo "==> Database schema (Alembic)"
	$(PY) -m services.db

# Content of knowledge/ into the database (validated first; re-running changes nothing).
seed: migrate
	@echo "==> Knowledge content (knowledge/ -> database)"
	$(PY) -m services.loader
	@echo "==> Sample applications (knowledge/applications_sample.csv, unit $(SAMPLE_UNIT))"
	$(PY) -m services.applications seed --unit $(SAMPLE_UNIT)

# ---- model ------------------------------------------------------------------
# Retrained only when an input is newer than the model.
$(MODEL): $(TRAIN_INPUTS) | $(VENV)/.installed
	@echo "==> Training the model (progress below)"
	$(RASA) train --fixed-model-name current --out models
	@touch $@

train: $(MODEL)

# ---- run ----------------------------------------------------------------------
run: setup migrate seed $(MODEL)
	@echo "==> Starting the action server (:$(ACTIONS_PORT)), Rasa (:$(RASA_PORT)) and the officers' console (:$(CONSOLE_PORT)). Ctrl-C stops all."
	@token="$${RASA_API_TOKEN:-$$(cat var/api_token)}"; \
	$(RASA) run actions --port $(ACTIONS_PORT) & actions=$$!; \
	$(RASA) run --model $(MODEL) --enable-api --auth-token "$$token" \
	  --port $(RASA_PORT) --credentials credentials.yml --endpoints endpoints.yml & rasa=$$!; \
	CONSOLE_PORT=$(CONSOLE_PORT) $(PY) -m console & console=$$!; \
	trap 'kill $$actions $$rasa $$console 2>/dev/null; wait; echo "==> Stopped."' INT TERM; \
	wait -n $$actions $$rasa $$console; status=$$?; \
	kill $$actions $$rasa $$console 2>/dev/null; wait; exit $$status

shell: setup seed $(MODEL)
	@$(RASA) run actions --port $(ACTIONS_PORT) >var/actions-shell.log 2>&1 & actions=$$!; \
	trap 'kill $$actions 2>/dev/null' EXIT; \
	$(RASA) shell --model $(MODEL) --endpoints endpoints.yml

# ---- checks ---------------------------------------------------------------------
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The console's browser tests drive Debian's Chromium (Playwright cannot download one here).
# Installed here when missing and this user may (root with apt-get).
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "==> Installing Debian's Chromium for the console's browser tests"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else \
	    echo "Chromium is missing: apt-get install chromium (the console's browser tests need /usr/bin/chromium)"; \
	    exit 1; \
	  fi; }

pytest: setup chromium
	$(VENV)/bin/pytest -m "not model"

# The assistant started as `make run` starts it, over REST (needs the model).
test-server: $(MODEL) chromium
	$(VENV)/bin/pytest -m model

validate: setup
	$(RASA) data validate --data data --domain domain.yml --config config.yml

test-nlu: $(MODEL)
	@echo "==> rasa test nlu on tests/nlu (as written)"
	$(RASA) test nlu --nlu tests/nlu --model $(MODEL) --out results/nlu
	@echo "==> rasa test nlu on a diacritic-stripped copy of tests/nlu"
	$(PY) -m tests.quality_gates strip tests/nlu results/nlu_stripped_data
	$(RASA) test nlu --nlu results/nlu_stripped_data --model $(MODEL) --out results/nlu_stripped

test-core: $(MODEL)
	$(RASA) test core --stories tests/stories --model $(MODEL) --out results/core \
	  --fail-on-prediction-errors

gates:
	$(PY) -m tests.quality_gates check results

test: setup
	$(MAKE) --no-print-directory lint seed pytest validate $(MODEL) test-nlu test-core test-server gates

bench: setup
	$(PY) bench/nlu.py
	$(PY) bench/zalo_webhook.py

# A citizen on Zalo, typed in the terminal: signed events through the real webhook
# of the assistant started by `make run` (with the variables the simulator prints).
zalo-sim: setup
	$(PY) -m connectors.zalo.sim

clean:
	rm -rf results .rasa graph.html story_graph.dot
