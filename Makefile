# Orchestrator: developer and CI entry points.  `make help` lists them.
#
# Every recipe runs as one bash script (.ONESHELL) with -euo pipefail, so a failing
# line stops the target.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Both cores: each test file runs whole in one xdist process (module-scoped workers and servers).
PYTEST_XDIST ?= -n 2 --dist loadfile

# `make test` defaults; the environment (or `make test DATABASE_URL=...`) overrides them.
TEST_DATABASE_URL := postgres://postgres@127.0.0.1:5432/orchestrator
TEST_REDIS_URL := redis://127.0.0.1:6379/0

.PHONY: help venv run test lint format services migrate clean distclean node-tools

help:
	@echo "make run        set up .venv, migrate, seed a demo tenant, serve API + worker + beat on PORT (8000)"
	@echo "make test       set up .venv, ensure PostgreSQL + Redis, lint, run the test suite (PYTEST_ARGS=...)"
	@echo "make lint       ruff check + ruff format --check"
	@echo "make format     ruff check --fix + ruff format"
	@echo "make services   ensure PostgreSQL and Redis answer (starts local ones where it can)"
	@echo "make migrate    apply migrations to DATABASE_URL (default: SQLite db.sqlite3)"
	@echo "make venv       create .venv and install requirements-dev.txt (only when they changed)"
	@echo "make clean      remove caches; make distclean also removes .venv, db.sqlite3 and .env.local"

# --- virtualenv -------------------------------------------------------------------
venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a requirements file is newer than the stamp.
$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	PIP_NO_INPUT=1 $(BIN)/python -m pip install --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# --- run --------------------------------------------------------------------------
# Foreground; DATABASE_URL unset → SQLite, REDIS_URL unset and no local Redis → embedded
# broker/worker/beat/channel layer. Precedence: environment > .env.local > defaults below.
# config/settings.py reads .env.local the same way, so manage.py commands run as make run did.
run: venv
	@if [ -z "$${ORCHESTRATOR_ENCRYPTION_KEYS:-}" ] && [ ! -f .env.local ]; then
		key="$$($(BIN)/python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"
		( umask 077; printf '%s\n' \
			'# Local settings for `make run` and manage.py in this directory (git-ignored); the environment wins.' \
			'# Keep this key: it decrypts stored secrets.' \
			"ORCHESTRATOR_ENCRYPTION_KEYS=$$key" \
			'DEBUG=true' \
			'ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS=true' > .env.local )
		echo "make run: generated a new encryption key into .env.local"
	fi
	if [ -f .env.local ]; then
		# Load KEY=VALUE lines, but never override a variable already set in the environment.
		while IFS= read -r line || [ -n "$$line" ]; do
			line="$${line#export }"
			case "$$line" in ''|'#'*) continue ;; *=*) ;; *) continue ;; esac
			name="$${line%%=*}"
			case "$$name" in ''|[0-9]*|*[!A-Za-z0-9_]*) continue ;; esac
			if [ -z "$${!name+x}" ]; then eval "export $$line"; fi
		done < .env.local
	fi
	export ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS="$${ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS:-true}"
	export DEBUG="$${DEBUG:-true}"
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	exec $(BIN)/python manage.py serve

# --- TypeScript tools (for the test of the TypeScript code export) -----------------
# tsc and the Node types in .cache/node, from the npm registry, when npm is there. Without them
# the TypeScript export test is skipped (and says so); nothing else needs them.
NODE_TOOLS := .cache/node/.installed

node-tools: $(NODE_TOOLS)

$(NODE_TOOLS):
	if command -v npm >/dev/null 2>&1; then
		mkdir -p .cache/node
		npm install --prefix .cache/node --no-audit --no-fund --loglevel=error typescript@5.6.3 @types/node@20.17.6 \
			&& touch $(NODE_TOOLS) \
			|| echo "make: could not install TypeScript into .cache/node; the TypeScript export test will be skipped"
	else
		echo "make: npm not found; the TypeScript export test will be skipped"
	fi

# --- test -------------------------------------------------------------------------
# Real PostgreSQL and Redis (local defaults, overridable); pytest-django creates test_<db>.
test: venv node-tools
	export DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}"
	export REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}"
	export ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS=true
	bash scripts/ensure_services.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

services:
	bash scripts/ensure_services.sh

migrate: venv
	$(BIN)/python manage.py migrate --noinput

clean:
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -print0 | xargs -0 -r rm -rf
	rm -rf .pytest_cache .ruff_cache staticfiles celerybeat-schedule*

distclean: clean
	rm -rf $(VENV) db.sqlite3 db.sqlite3-journal db.sqlite3-wal db.sqlite3-shm .env.local .cache
