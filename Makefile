# Two commands do all the set-up: `make synth` and `make test`. Every step is a file
# target, so a second run skips what is already done.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
MODEL := model_code/dist/model.tar.gz

# No network, no banner: notices, telemetry and the version check off; Node 20 EOL banner off.
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: synth test e2e review model serve setup venv lint clean help
.DEFAULT_GOAL := help

help:
	@echo "make synth   set up, build the model and write every environment's templates to cdk.out/"
	@echo "make test    set up, build the model and run the whole test suite"
	@echo "make review  synthesize, then write a review bundle people can read to review/ (start at review/index.md)"
	@echo "make e2e     set up, then bootstrap, deploy, update and destroy dev on a local AWS emulator"
	@echo "make model   build model_code/dist/model.tar.gz"
	@echo "make serve   serve it locally like a SageMaker container on 127.0.0.1:8080 (Ctrl-C stops)"
	@echo "make lint    ruff over the code"
	@echo "make clean   remove cdk.out/ and build outputs (keeps .venv and node_modules)"

$(VENV)/.installed: requirements.txt
	@echo "==> Creating $(VENV) from pinned requirements.txt with $(PYTHON)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo "==> Installing the pinned CDK CLI and diagram renderer (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(MODEL): $(VENV)/.installed model_code/build.py model_code/code/inference.py
	@echo "==> Building the model artifact"
	@$(PY) -m model_code.build --output $@

setup: $(VENV)/.installed node_modules/.installed $(MODEL)

venv: $(VENV)/.installed

model: $(MODEL)

serve: $(VENV)/.installed $(MODEL)
	@$(PY) -m model_code.serve --artifact $(MODEL)

synth: setup
	@echo "==> Synthesizing every environment into cdk.out/"
	@rm -rf cdk.out
	@npx cdk synth --quiet --no-notices "**"
	@echo "==> Templates written:"
	@find cdk.out -name '*.template.json' | sort | sed 's/^/    /'

# The bundle is read from what synth just wrote, never from an older cdk.out/.
review: synth
	@echo "==> Writing the review bundle to review/"
	@rm -rf review
	@$(PY) -m review_bundle --cdk-out cdk.out --output review

test: setup
	@echo "==> Running the test suite"
	@# One worker per core: the suite's cost is spread over many files (servers, emulators, synths).
	@# loadgroup: the tests of the in-process shipped app share one worker (tests/conftest.py).
	@$(PY) -m pytest -n auto --dist loadgroup

e2e: setup
	@echo "==> Deploy round trip on a local AWS emulator (moto): bootstrap, deploy, update, destroy"
	@$(PY) -m pytest -m e2e tests/e2e

lint: $(VENV)/.installed
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .

clean:
	rm -rf cdk.out review model_code/dist .pytest_cache
