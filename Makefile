# One entry point for set-up, running, testing and the docker compose stack.
# `make run` and `make test` work on a machine with only python3, make and git.

SHELL := /bin/bash
PYTHON ?= python3
PORT ?= 8000
# `make worker WORKERS=16`: run_huey's --workers; unset, HUEY_WORKERS and HUEY_WORKER_TYPE
# from the environment (or their defaults, 4 threads) shape the consumer.
WORKERS ?=
# `make stack`: the file of variables honcho adds to the environment (/dev/null for none), and
# how many worker processes (consumers) it starts.
ENV_FILE ?= .env
CONSUMERS ?= 1
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
# Commands run in .venv as the install targets left it: a plain `uv run` would first sync the
# dev group into it, the tools `make run` means to leave out.
RUN := $(UV) run --frozen --no-sync
MANAGE := $(RUN) python manage.py
# The repository's own directory: `make reset` deletes under it and nowhere else.
ROOT := $(patsubst %/,%,$(dir $(abspath $(firstword $(MAKEFILE_LIST)))))
COMPOSE ?= docker compose
# The PostgreSQL and Redis that `make test-postgres` and the integration tests use.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/payouts
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# `make fuzz`: examples per API operation (the bounded run in `make test` uses 25).
FUZZ_EXAMPLES ?= 1000
# `make fuzz-live`: examples per operation and phase, tuned to stay under 5 minutes on 2 cores.
FUZZ_LIVE_EXAMPLES ?= 300

.PHONY: help install run api worker webhooks stack reset fake-provider migrate makemigrations shell api-key \
	revoke-api-key superuser test test-unit test-integration test-postgres fuzz fuzz-live verify-stack \
	lint lint-python typecheck lint-docker lint-ci check-deploy format schema up down build logs clean \
	bench

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.tools/bin/uv:
	@echo "uv not found: installing it into .tools/ (once)"
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

# Two installs, one sentinel each: the service's dependencies alone (`make run`, `api`,
# `worker`), and everything (tests, lint). The first syncs --inexact, so it never removes the
# tools the second installed and switching between `make run` and `make test` installs nothing;
# the second is exact, so a dependency dropped from uv.lock leaves .venv.
.venv/.synced-service: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --no-dev --inexact
	@touch $@

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@ .venv/.synced-service

# The browser tests drive Debian's Chromium (Playwright downloads no browser): installed with
# apt-get when missing and this user may; otherwise they skip, and under CI=true they fail.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y --no-install-recommends chromium \
			|| { apt-get update && apt-get install -y --no-install-recommends chromium; } \
			|| echo "Could not install chromium: the browser tests skip (they fail under CI=true)"; \
	else \
		echo "Chromium is missing: the browser tests skip (sudo apt-get install chromium)"; \
	fi

install: .venv/.synced ## Create .venv with every dependency from uv.lock, the dev tools too

# Each target that starts the service migrates first, so it works on a fresh checkout; the
# migration is a step that must succeed before any process starts, never a process beside them.
MIGRATE := $(MANAGE) migrate --no-input
URLS := echo ""; \
	echo "  REST API    http://127.0.0.1:$(PORT)/api/payouts/"; \
	echo "  Swagger UI  http://127.0.0.1:$(PORT)/api/docs/"; \
	echo "  ReDoc       http://127.0.0.1:$(PORT)/api/redoc/"; \
	echo "  GraphQL     http://127.0.0.1:$(PORT)/graphql/"; \
	echo "  Admin       http://127.0.0.1:$(PORT)/admin/  (create a user: make superuser)"; \
	echo ""
DEV_API_KEY := $(MANAGE) dev_api_key --base-url http://127.0.0.1:$(PORT)
# The Procfile's commands, read from it: what production, the image, compose and honcho run.
# gunicorn takes extra options from GUNICORN_CMD_ARGS: here, only loopback rather than 0.0.0.0.
PROCFILE_WEB := $(shell sed -n 's/^web: *//p' Procfile)
PROCFILE_WORKER := $(shell sed -n 's/^worker: *//p' Procfile)
PROCFILE_WEBHOOKS := $(shell sed -n 's/^webhooks: *//p' Procfile)
RUN_HUEY := $(RUN) $(PROCFILE_WORKER) $(if $(WORKERS),--workers $(WORKERS))
# The webhooks' own consumer: WEBHOOK_WORKERS and WEBHOOK_WORKER_TYPE shape it.
RUN_WEBHOOKS := $(RUN) $(PROCFILE_WEBHOOKS)
RUN_WEB := env PORT=$(PORT) GUNICORN_CMD_ARGS="--bind 127.0.0.1:$(PORT)" $(RUN) $(PROCFILE_WEB)
# What the local targets run with unless set: DEBUG on, and webhooks allowed to reach http:// and
# private addresses (a receiver on this machine), which production refuses.
LOCAL_ENV := export DEBUG=$${DEBUG:-true} WEBHOOK_ALLOW_HTTP=$${WEBHOOK_ALLOW_HTTP:-true} \
	WEBHOOK_ALLOW_PRIVATE_TARGETS=$${WEBHOOK_ALLOW_PRIVATE_TARGETS:-true}
# How `make run` and `make api` begin: the local environment, migrate, the URLs, the development key.
API_STEPS := $(LOCAL_ENV); \
	$(MIGRATE) || exit; \
	$(URLS); \
	$(DEV_API_KEY) || exit; \
	echo ""

# Each step must succeed before the next starts; once the three processes run, the first to end
# (or Ctrl-C, or a TERM) stops the others, and make waits for all: nothing outlives `make run`.
run: .venv/.synced-service ## Migrate, then serve the API on http://127.0.0.1:$(PORT) with the payouts' and the webhooks' consumers
	@$(API_STEPS); \
	echo "  Ctrl-C stops the API, the worker and the webhooks consumer."; \
	echo ""; \
	trap 'kill $$(jobs -p) 2>/dev/null; wait' EXIT; \
	trap 'exit 130' INT; \
	trap 'exit 143' TERM; \
	$(RUN_HUEY) & \
	$(RUN_WEBHOOKS) & \
	$(RUN_WEB) & \
	wait -n

api: .venv/.synced-service ## Migrate, then serve the API alone: no worker, so payouts stay PENDING (try PATCH, DELETE)
	@$(API_STEPS); \
	echo "  No worker runs: payouts stay PENDING until make worker starts one."; \
	echo ""; \
	exec $(RUN_WEB)

worker: .venv/.synced-service ## Migrate, then run a Huey consumer alone (HUEY_WORKER_TYPE=greenlet HUEY_WORKERS=1000 for greenlets)
	@$(LOCAL_ENV); \
	$(MIGRATE) || exit; \
	exec $(RUN_HUEY)

webhooks: .venv/.synced-service ## Migrate, then run the webhooks consumer alone (deliveries and their sweep)
	@$(LOCAL_ENV); \
	$(MIGRATE) || exit; \
	exec $(RUN_WEBHOOKS)

# honcho adds what ENV_FILE sets (when it exists) to the environment, over what is exported; the
# migration runs under it too. honcho stops every process when one ends, which is why the
# one-shot migration is a step before it and not a line of the Procfile.
# gunicorn binds 0.0.0.0:$$PORT under honcho: on this machine, loopback only unless
# GUNICORN_CMD_ARGS says otherwise (DEBUG is on by default here).
stack: install ## Migrate, then `honcho start`: the Procfile's web (on PORT), worker and webhooks, on DATABASE_URL / REDIS_URL
	@$(LOCAL_ENV) GUNICORN_CMD_ARGS="$${GUNICORN_CMD_ARGS:---bind 127.0.0.1:$(PORT)}"; \
	$(RUN) honcho run --env $(ENV_FILE) python manage.py migrate --no-input || exit; \
	exec $(RUN) honcho start --env $(ENV_FILE) --port $(PORT) --concurrency worker=$(CONSUMERS)

reset: ## Delete local state: data/ (SQLite databases, Huey's queue, logs, reports), staticfiles/, artifacts/
	rm -rf -- "$(ROOT)/data" "$(ROOT)/staticfiles" "$(ROOT)/artifacts"

fake-provider: .venv/.synced-service ## The fake payment provider on 127.0.0.1:8900 (options in FAKE_PROVIDER_ARGS)
	DEBUG=$${DEBUG:-true} $(MANAGE) fake_provider $(FAKE_PROVIDER_ARGS)

migrate: .venv/.synced-service ## Apply database migrations
	$(MIGRATE)

makemigrations: .venv/.synced-service ## Create migrations after a model change
	$(MANAGE) makemigrations

api-key: .venv/.synced-service ## Create an API key for CLIENT (created if new; EXPIRES_IN_DAYS optional): the last line printed
	@test -n "$(CLIENT)" || { echo "Usage: make api-key CLIENT=<client name> [EXPIRES_IN_DAYS=n]" >&2; exit 2; }
	@DEBUG=$${DEBUG:-true} $(MANAGE) create_api_key "$(CLIENT)" \
		$(if $(EXPIRES_IN_DAYS),--expires-in-days $(EXPIRES_IN_DAYS))

revoke-api-key: .venv/.synced-service ## Revoke the API key KEY (the whole key or its prefix)
	@test -n "$(KEY)" || { echo "Usage: make revoke-api-key KEY=<key or prefix>" >&2; exit 2; }
	@DEBUG=$${DEBUG:-true} $(MANAGE) revoke_api_key "$(KEY)"

superuser: .venv/.synced-service ## Create an admin user
	DEBUG=$${DEBUG:-true} $(MANAGE) createsuperuser

shell: .venv/.synced-service ## Django shell
	DEBUG=$${DEBUG:-true} $(MANAGE) shell

test: install | $(CHROMIUM) ## The whole suite: unit tests on SQLite, then the PostgreSQL + Redis integration tests
	$(UV) run --frozen pytest -m "not integration" $(PYTEST_ARGS)
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(UV) run --frozen pytest -m integration $(PYTEST_ARGS)

test-postgres: install | $(CHROMIUM) ## The whole suite again on PostgreSQL + Redis
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(UV) run --frozen pytest $(PYTEST_ARGS)

fuzz: install ## Long property-based fuzz of REST and GraphQL: FUZZ_EXAMPLES per operation, FUZZ_SEED
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(UV) run --frozen pytest tests/fuzz --timeout=3600 $(PYTEST_ARGS)

fuzz-live: install ## Schemathesis CLI, every check, on gunicorn + worker and a throwaway SQLite (< 5 min)
	FUZZ_LIVE_EXAMPLES=$(FUZZ_LIVE_EXAMPLES) $(UV) run --frozen .ci/fuzz-live

verify-stack: install ## The Procfile's processes (make stack) on PostgreSQL + Redis, checked by scripts/verify_setup.sh
	$(RUN) .ci/stack-verify

# Its own environment, with the bench group, so syncing .venv for tests never pulls it away.
BENCH_ENV := .tools/bench-venv

bench: | $(UV) ## Measure the real stack against its baselines (about 10 min): benchmarks/results/
	UV_PROJECT_ENVIRONMENT=$(BENCH_ENV) $(UV) sync --frozen --all-groups
	UV_PROJECT_ENVIRONMENT=$(BENCH_ENV) $(UV) run --frozen --all-groups python -m benchmarks $(BENCH_ARGS)

lint: lint-python typecheck lint-docker lint-ci ## All four below (what CI runs as separate jobs)

lint-python: install ## ruff check and ruff format --check
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

typecheck: install ## mypy, strict, with the Django and DRF stubs
	DEBUG=true $(UV) run --frozen mypy .

lint-docker: install ## hadolint on the Dockerfile, the compose files against the Compose specification
	$(UV) run --frozen hadolint Dockerfile
	$(UV) run --frozen check-jsonschema --builtin-schema vendor.compose-spec \
		docker-compose.yml docker-compose.override.example.yml

lint-ci: install ## shellcheck on the shell scripts, the GitHub workflow against its schema
	$(UV) run --frozen shellcheck .ci/run .ci/fuzz-live .ci/stack-verify scripts/*.sh
	$(UV) run --frozen check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

# Only DEBUG, a fresh strong SECRET_KEY and ALLOWED_HOSTS reach the check (env -i), so it
# proves the production defaults rather than whatever this shell exports.
check-deploy: install ## Django's deployment checklist on the production defaults; fails on any warning
	@python="$$($(UV) run --frozen python -c 'import sys; print(sys.executable)')" && \
	key="$$("$$python" -c 'from django.core.management.utils import get_random_secret_key as k; print(k())')" && \
	env -i DEBUG=false SECRET_KEY="$$key" ALLOWED_HOSTS=payouts.example.com \
		"$$python" manage.py check --deploy --fail-level WARNING

format: install ## Fix lint and formatting where ruff can
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

schema: install ## Regenerate the committed OpenAPI and GraphQL schema files
	DEBUG=true $(MANAGE) spectacular --validate --file openapi.yaml
	DEBUG=true $(MANAGE) shell --no-imports -c "from pathlib import Path; \
		from graphql_api.schema import schema_sdl; \
		Path('graphql_api/schema.graphql').write_text(schema_sdl())"

up: ## docker compose: build and start web, worker, webhooks, PostgreSQL and Redis
	$(COMPOSE) up -d --build

down: ## docker compose: stop and remove the containers
	$(COMPOSE) down

build: ## docker compose: rebuild the images
	$(COMPOSE) build

logs: ## docker compose: follow the logs of every service
	$(COMPOSE) logs -f

clean: ## docker compose: remove containers, volumes and images of this project
	$(COMPOSE) down --volumes --rmi local --remove-orphans
