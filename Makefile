# cohort-abstract: data/ -> data_checks/ -> analysis/ -> report.qmd -> _output/
# `make help` lists the targets.
#
# A study is a folder (a Quarto project: _quarto.yml, report.qmd, study.yml,
# dictionary, data); STUDY=path names it, the top level by default. Make only
# sets up the environment: what is up to date is decided by the renderer, on
# the content of every input (build.json in the output folder records them),
# so a cohort replaced by an older file is new data, and paths with spaces or
# quotes in study.yml are read as YAML, not by make.

SHELL := /bin/bash
.DEFAULT_GOAL := report

VENV  := .venv
PY    := $(VENV)/bin/python
STUDY ?= .
# The interpreter that creates the virtual environment.
PYTHON ?= $(shell command -v python3.11 || command -v python3)

# DATA=path replaces study.yml's data, REDCAP_DICTIONARY=path its
# redcap_dictionary (paths relative to where make runs);
# RENDERER=builtin|quarto|auto chooses the renderer.
RENDERER ?= auto
export RENDERER
PORT ?= 4848
ifdef DATA
export DATA
endif
ifdef REDCAP_DICTIONARY
export REDCAP_DICTIONARY
endif

.PHONY: report preview check test bench reference example clean distclean help

report: $(VENV)/.installed ## Validate the cohort, then render _output/report.{html,pdf,docx} (default; STUDY=folder)
	@$(PY) -m renderer "$(STUDY)/report.qmd"

preview: $(VENV)/.installed ## Serve the HTML report on 127.0.0.1:$(PORT), updated as you edit (STUDY=folder, PORT=4848)
	@$(PY) -m renderer.preview "$(STUDY)/report.qmd" --port $(PORT)

check: $(VENV)/.installed ## Run the data checks alone (Data Docs in .build/data-docs/; STUDY=folder)
	@tools/stage.sh "data checks" $(PY) -m data_checks --study "$(STUDY)/study.yml" --docs-dir "$(STUDY)/.build/data-docs"

test: $(VENV)/.installed ## Run the test suite
	$(PY) -m pytest

bench: $(VENV)/.installed ## Measure build times and scaling; writes bench/results.json
	$(PY) bench/run.py

reference: ## Regenerate the R reference values in tests/reference/ (needs R)
	for f in tests/reference/*.R; do Rscript "$$f" || exit 1; done

example: $(VENV)/.installed ## Regenerate the synthetic example cohort (byte-identical)
	$(PY) data/generate_example_cohort.py

clean: ## Remove the study's outputs and build state (keeps .venv; STUDY=folder)
	rm -rf "$(STUDY)/_output" "$(STUDY)/.build" "$(STUDY)"/._output.*

distclean: clean ## Also remove the virtual environment
	rm -rf $(VENV)

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /  make \1\t/' | expand -t 20

# Only the lock decides what is installed (pyproject.toml holds the ranges and tool settings).
$(VENV)/.installed: requirements.lock
	@rm -rf $(VENV)
	@# pip's own lines go to $(VENV)/pip.log, shown whole if it fails; the terminal gets a dot per package.
	@tools/stage.sh "environment" bash -c 'set -o pipefail; $(PYTHON) -m venv $(VENV) && \
	  $(VENV)/bin/pip install --disable-pip-version-check --progress-bar off -r requirements.lock 2>&1 | tee $(VENV)/pip.log | \
	  awk -v n=$$(grep -c "==" requirements.lock) "BEGIN{printf \"  one-time set-up of $(VENV), a few minutes: %d packages from requirements.lock \", n} \
	    /^(Collecting|Processing) /{printf \".\"; fflush()} /^Installing collected/{printf \" installing\"; fflush()} END{print \"\"}" \
	  || { echo "environment: pip failed; its output ($(VENV)/pip.log):"; cat $(VENV)/pip.log; exit 1; } >&2'
	@# The engine importable from any study folder (a kernel runs in the study's folder).
	@echo "$(CURDIR)" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/cohort_engine.pth"
	@touch $@

# A new study folder drafted from a cohort file: dictionary, study.yml, report.qmd,
# _quarto.yml and a README, every guess marked REVIEW; never overwrites a folder.
.PHONY: new-study
new-study: $(VENV)/.installed ## Draft a study folder: make new-study DIR=path DATA=cohort.csv|.xlsx|.sav|.dta [REDCAP_DICTIONARY=...]
	@if [ "$(origin DATA)" != "command line" ] || [ -z "$(DIR)" ]; then \
	  echo "usage: make new-study DIR=path/to/new/study DATA=path/to/cohort (.csv, .xlsx, .sav, .zsav, .dta; a REDCap export with REDCAP_DICTIONARY=its data dictionary)" >&2; exit 2; fi
	@$(PY) -m scaffold "$(DIR)" "$(DATA)" $(if $(filter command line,$(origin REDCAP_DICTIONARY)),--redcap-dictionary "$(REDCAP_DICTIONARY)")

# The record of printed numbers (issue 15): snapshots of it, comparisons with them, the local audit.
.PHONY: snapshot changes audit

snapshot: $(VENV)/.installed ## Freeze the current record of printed numbers as snapshots/NAME.json (NAME=name; STUDY=folder)
	@$(PY) -m analysis.changes snapshot --study "$(STUDY)" --name "$(NAME)"

changes: $(VENV)/.installed ## Compare the current build with a snapshot (SINCE=name): .build/changes/, with a highlighted DOCX
	@$(PY) -m analysis.changes changes --study "$(STUDY)" --since "$(SINCE)"

audit: report ## Build, then list the local audit pages (they name patients: keep them on this machine)
	@$(PY) -m analysis.changes audit --study "$(STUDY)"

# make report CHANGES_SINCE=name: the build compares with that snapshot too.
export CHANGES_SINCE
