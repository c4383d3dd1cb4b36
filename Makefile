# cohort-abstract: data/ -> data_checks/ -> analysis/ -> report.qmd -> _output/
# `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := report

VENV   := .venv
PY     := $(VENV)/bin/python
STUDY  := study.yml
OUT    := _output
BUILD  := .build
# The interpreter that creates the virtual environment.
PYTHON ?= $(shell command -v python3.11 || command -v python3)

# The cohort file: study.yml's `data:` unless DATA=path is given.
DATA     ?= $(shell sed -n 's/^  data: *//p' $(STUDY) | head -n 1)
RENDERER ?= auto
export DATA RENDERER

DICTIONARY := $(shell sed -n 's/^  dictionary: *//p' $(STUDY) | head -n 1)
ANALYSIS   := $(wildcard analysis/*.py)
CHECKS     := $(wildcard data_checks/*.py)
RENDER     := $(wildcard renderer/*.py) $(wildcard templates/*)
REPORT     := $(OUT)/report.html $(OUT)/report.pdf $(OUT)/report.docx

# What the data checks read. Content, not modification times, decides what
# is stale: a cohort replaced by an older file (mv, cp -p, unzip) is new data.
CHECKED := $(DATA) $(DICTIONARY) $(STUDY) $(CHECKS) analysis/cohort.py requirements.lock
DIGEST  := $(firstword $(shell cat $(CHECKED) 2>/dev/null | sha256sum))

# Which inputs and renderer the outputs were built with: rewritten at parse
# time only when they change (so an unchanged build runs nothing), which
# rebuilds the report when the cohort's content, DATA or RENDERER changes.
SETTINGS := DATA=$(DATA) RENDERER=$(RENDERER) INPUTS=$(DIGEST)
ifneq ($(shell cat $(BUILD)/settings 2>/dev/null),$(SETTINGS))
  $(shell mkdir -p $(BUILD) && echo '$(SETTINGS)' > $(BUILD)/settings)
endif

.PHONY: report check test bench reference example clean distclean help

report: $(REPORT) ## Validate the cohort, then render _output/report.{html,pdf,docx} (default)

check: $(VENV)/.installed $(DATA) ## Run the data checks alone (Data Docs in _output/validation/)
	@tools/stage.sh "data checks" $(PY) -m data_checks --data "$(DATA)" --study $(STUDY) --docs-dir $(OUT)/validation

test: $(VENV)/.installed ## Run the test suite
	$(PY) -m pytest

bench: $(VENV)/.installed ## Measure build times and scaling; writes bench/results.json
	$(PY) bench/run.py

reference: ## Regenerate the R reference values in tests/reference/ (needs R)
	for f in tests/reference/*.R; do Rscript "$$f" || exit 1; done

example: $(VENV)/.installed ## Regenerate the synthetic example cohort (byte-identical)
	$(PY) data/generate_example_cohort.py

clean: ## Remove outputs and build stamps (keeps .venv)
	rm -rf $(OUT) $(BUILD)

distclean: clean ## Also remove the virtual environment
	rm -rf $(VENV)

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z]+):.*## /  make \1\t/' | expand -t 20

# Only the lock decides what is installed (pyproject.toml holds the ranges and tool settings).
$(VENV)/.installed: requirements.lock
	@rm -rf $(VENV)
	@tools/stage.sh "environment" bash -c '$(PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.lock'
	@# The engine importable from any study folder (a kernel runs in the study's folder).
	@echo "$(CURDIR)" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/cohort_engine.pth"
	@touch $@

# The data checks gate the report: _quarto.yml declares them as the project's
# pre-render step, which Quarto and the built-in renderer both run before any
# cell executes (the built-in renderer starts its kernel meanwhile). They skip
# themselves when they passed on exactly these inputs.
$(REPORT) &: report.qmd _quarto.yml $(ANALYSIS) $(RENDER) $(CHECKED) $(BUILD)/settings $(VENV)/.installed
	@$(PY) -m renderer report.qmd --output-dir $(OUT)

# A missing cohort file is a user error, not a missing rule.
$(DATA):
	@echo "error: cohort file '$(DATA)' not found (set DATA=path/to/cohort.csv or study.yml's data:)" >&2; exit 2

# A new study folder drafted from a cohort file: dictionary, study.yml, report.qmd,
# _quarto.yml and a README, every guess marked REVIEW; never overwrites a folder.
.PHONY: new-study
new-study: $(VENV)/.installed ## Draft a study folder: make new-study DIR=path DATA=cohort.csv|.xlsx
	@if [ "$(origin DATA)" != "command line" ] || [ -z "$(DIR)" ]; then \
	  echo "usage: make new-study DIR=path/to/new/study DATA=path/to/cohort.csv (or .xlsx)" >&2; exit 2; fi
	@$(PY) -m scaffold "$(DIR)" "$(DATA)"
