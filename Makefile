# Test harness for the hwcloud.dbss collection.
#
#   make test         everything, from a fresh machine: pinned venvs, build copy,
#                     then for ansible-core 2.19 (Python 3.11) and 2.21 (Python 3.13):
#                     sanity, units, integration; then the system suite
#   make sanity | units | integration | system    one kind of test (set-up included)
#   make setup        only the venvs, python3.X links and get-pip stand-ins
#   make build        ansible-galaxy collection build into build/
#   make copy         only the build copy (build/collections/ansible_collections/hwcloud/dbss)
#   make docs         the module and role reference (antsibull-docs, Sphinx) into build/docs
#   make pytest T=tests/unit/plugins/module_utils/test_dbss_waiter.py
#                     one unit test file (or folder) in seconds, straight from the checkout
#                     (needs .venv/ansible-2.19 from `make setup` once; no build copy)
#   make lint | demo | bench | tools-venv | clean | clean-all
#
# Knobs (environment or make VAR=...): HARNESS_VERSIONS="2.19 2.21", SANITY_ARGS,
# UNITS_ARGS, INTEGRATION_ARGS, SYSTEM_ARGS, HARNESS_KEEP_GOING=1, HARNESS_STEP_TIMEOUT,
# SYSTEM_TEST_TIMEOUT, HARNESS_TOOLS, HARNESS_HOME; see tools/harness.py.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

# Any Python 3.8+ can drive the harness; the venvs get their own interpreters.
PYTHON ?= python3
HARNESS := $(PYTHON) tools/harness.py
GALAXY_VENV := .venv/ansible-2.19

export HARNESS_VERSIONS HARNESS_TOOLS HARNESS_KEEP_GOING HARNESS_HOME SANITY_ARGS UNITS_ARGS INTEGRATION_ARGS SYSTEM_ARGS HARNESS_STEP_TIMEOUT SYSTEM_TEST_TIMEOUT

PYTEST_ROOT := build/pytest
T ?= tests/unit

.PHONY: pytest test sanity units integration system setup copy build lint docs demo bench tools-venv clean clean-all

test:
	$(HARNESS) all

sanity:
	$(HARNESS) sanity

# The checkout itself, seen through a link at .../ansible_collections/hwcloud/dbss
# (pytest, unlike ansible-test, accepts a link), so an edit is tested at once.
pytest:
	@test -x $(GALAXY_VENV)/bin/python || bash tools/setup_venvs.sh ansible-2.19
	@mkdir -p $(PYTEST_ROOT)/ansible_collections/hwcloud
	@ln -sfn "$(CURDIR)" $(PYTEST_ROOT)/ansible_collections/hwcloud/dbss
	cd $(PYTEST_ROOT) && ../../$(GALAXY_VENV)/bin/python -m pytest -q -p no:cacheprovider \
		$(addprefix ansible_collections/hwcloud/dbss/,$(T))

units:
	$(HARNESS) units

integration:
	$(HARNESS) integration

system:
	$(HARNESS) system

setup:
	$(HARNESS) setup

copy:
	$(HARNESS) copy

# Collection artifact, built from the build copy (exactly git's file list) so ignored
# local files never end up in it.
build:
	bash tools/setup_venvs.sh ansible-2.19
	dest="$$(bash tools/prepare_build.sh | tail -n 1)"; \
	$(GALAXY_VENV)/bin/ansible-galaxy collection build --force --output-path "$(CURDIR)/build" "$$dest"

# Tooling venv .venv/tools (ansible-lint, antsibull-docs + Sphinx, antsibull-changelog,
# ansible-builder), pinned in tools/requirements-tools.txt; `make test` builds it too.
tools-venv:
	bash tools/setup_venvs.sh tools

# Linters from .venv/tools, run on the build copy (git's file list only). The system
# suite (tests/system/test_lint.py) runs the same checks as part of `make test`.
lint: tools-venv
	@dest="$$(bash tools/prepare_build.sh | tail -n 1)"; cd "$$dest"; \
	export PATH="$(CURDIR)/.venv/tools/bin:$$PATH" ANSIBLE_COLLECTIONS_PATH="$(CURDIR)/build/collections"; status=0; \
	echo "== antsibull-changelog lint"; antsibull-changelog lint || status=1; \
	echo "== ansible-lint (production profile)"; ansible-lint --offline --profile production --nocolor roles/ docs/examples/ || status=1; \
	echo "== antsibull-docs lint-collection-docs"; \
	antsibull-docs lint-collection-docs --plugin-docs . || status=1; \
	exit $$status

# Module and role reference (antsibull-docs + Sphinx) into build/docs; fails if an option is missing.
docs:
	bash tools/setup_venvs.sh tools
	.venv/tools/bin/python tools/docs.py

demo:
	bash tools/demo.sh

bench:
	$(HARNESS) setup && .venv/ansible-2.19/bin/python tools/bench.py

# Removes the build copy, logs and artifacts; keeps the venvs (use clean-all for those).
clean:
	rm -rf build tests/output

clean-all: clean
	rm -rf .venv
