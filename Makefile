# Two commands do all the set-up: `make synth` and `make test`. Every step is a file
# target, so a second run skips what is already done.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# AWS's serving stack runs in its own environment: the scikit-learn 1.4-2 image's Python (3.10)
# and pins (Flask 1.1.1, ...), which conflict with ours. python3.10 on PATH, else pyenv's.
SERVING_VENV := .venv-serving
SERVING_PYTHON ?= $(shell for candidate in python3.10 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.10.*/bin/python3.10; do \
	"$$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && { command -v "$$candidate"; break; }; done)
MODEL := model_code/dist/model.tar.gz
# Extra context for cdk synth, e.g. the pipeline's resolved model packages (stacks/model_approval.py).
SYNTH_CONTEXT ?=

# No network, no banner: notices, telemetry and the version check off; Node 20 EOL banner off.
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: synth test e2e review prices model serve setup venv serving-venv lint clean help
.DEFAULT_GOAL := help

help:
	@echo "make synth   set up, build the model and write every environment's templates to cdk.out/"
	@echo "make test    set up, build the model and run the whole test suite"
	@echo "make review  synthesize, then write a review bundle people can read to review/ (start at review/index.md)"
	@echo "make e2e     set up, then bootstrap, deploy, update and destroy dev on a local AWS emulator"
	@echo "make prices  rebuild review_bundle/prices.yaml from the AWS Price List API (needs AWS credentials)"
	@echo "make model   build model_code/dist/model.tar.gz"
	@echo "make serve   serve it on 127.0.0.1:8080 with AWS's own serving stack, as the sklearn image does (Ctrl-C stops)"
	@echo "make lint    ruff over the code"
	@echo "make clean   remove cdk.out/ and build outputs (keeps .venv and node_modules)"

$(VENV)/.installed: requirements.txt
	@echo "==> Creating $(VENV) from pinned requirements.txt with $(PYTHON)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# The image's serving library (sagemaker-containers 2.8.6.post2) needs the image's one-line
# Python 3.10 patch (docker/1.4-2/final/Dockerfile.cpu): collections.Mapping moved to collections.abc.
# Without Python 3.10 this step only warns on a developer's machine (the tests that need the
# stack then say why they skip); in CI (CI set) it fails, so CI never skips them silently.
$(SERVING_VENV)/.installed: requirements-serving.txt
	@if [ -z "$(SERVING_PYTHON)" ] && [ -n "$$CI" ]; then \
		echo "error: no Python 3.10 (the image's Python) found; CI must run the tests of AWS's serving stack"; exit 1; \
	elif [ -z "$(SERVING_PYTHON)" ]; then \
		echo "WARNING: no Python 3.10 (the image's Python) found: $(SERVING_VENV) not built; tests of AWS's serving stack will be skipped"; \
	else \
		echo "==> Creating $(SERVING_VENV) (AWS's serving stack at the image's pins) with $(SERVING_PYTHON)"; \
		rm -rf $(SERVING_VENV) && $(SERVING_PYTHON) -m venv $(SERVING_VENV) && \
		$(SERVING_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "$$(grep '^pip==' requirements-serving.txt)" && \
		$(SERVING_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-serving.txt && \
		sed -i 's/collections\.Mapping/collections.abc.Mapping/' $(SERVING_VENV)/lib/python3.10/site-packages/sagemaker_containers/_mapping.py && \
		touch $@; \
	fi

node_modules/.installed: package.json package-lock.json
	@echo "==> Installing the pinned CDK CLI and diagram renderer (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(MODEL): $(VENV)/.installed model_code/build.py model_code/code/inference.py
	@echo "==> Building the model artifact"
	@$(PY) -m model_code.build --output $@

setup: $(VENV)/.installed node_modules/.installed $(MODEL) $(SERVING_VENV)/.installed

venv: $(VENV)/.installed

serving-venv: $(SERVING_VENV)/.installed

model: $(MODEL)

# The image's own start-up (pip install of code/, gunicorn + gevent), bound to loopback.
# SERVE_ARGS passes launcher options, e.g. SERVE_ARGS="--env SAGEMAKER_MODEL_SERVER_WORKERS=1".
serve: $(MODEL) $(SERVING_VENV)/.installed
	@test -f $(SERVING_VENV)/.installed || { echo "error: make serve needs Python 3.10 (the image's Python)"; exit 1; }
	@$(SERVING_VENV)/bin/python -m model_code.serving.launcher --artifact $(MODEL) $(SERVE_ARGS)

synth: setup
	@echo "==> Synthesizing every environment into cdk.out/"
	@rm -rf cdk.out
	@npx cdk synth --quiet --no-notices $(SYNTH_CONTEXT) "**"
	@echo "==> Templates written:"
	@find cdk.out -name '*.template.json' | sort | sed 's/^/    /'
	@echo "==> Checking the templates against AWS's own rules (python -m aws_rules)"
	@$(PY) -m aws_rules cdk.out

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

# The one target that calls AWS: the Price List API, with the caller's credentials (pricing:GetProducts).
prices: $(VENV)/.installed $(MODEL)
	@$(PY) -m review_bundle.prices refresh

e2e: setup
	@echo "==> Deploy round trip on a local AWS emulator (moto): bootstrap, deploy, update, destroy"
	@$(PY) -m pytest -m e2e tests/e2e

lint: $(VENV)/.installed
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .

clean:
	rm -rf cdk.out review model_code/dist .pytest_cache
