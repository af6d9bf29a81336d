# One entry point for set-up, running, testing and the docker compose stack.
# `make run` and `make test` work on a machine with only python3, make and git.

SHELL := /bin/bash
PYTHON ?= python3
PORT ?= 8000
# `make worker WORKERS=16`: run_huey's --workers; unset, HUEY_WORKERS and HUEY_WORKER_TYPE
# from the environment (or their defaults, 4 threads) shape the consumer.
WORKERS ?=
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
MANAGE := $(UV) run --frozen python manage.py
COMPOSE ?= docker compose
# The PostgreSQL and Redis that `make test-postgres` and the integration tests use.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/payouts
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# `make fuzz`: examples per API operation (the bounded run in `make test` uses 25).
FUZZ_EXAMPLES ?= 1000
# `make fuzz-live`: examples per operation and phase, tuned to stay under 5 minutes on 2 cores.
FUZZ_LIVE_EXAMPLES ?= 300

.PHONY: help install run worker fake-provider migrate makemigrations shell api-key revoke-api-key superuser test test-unit test-integration \
	test-postgres fuzz fuzz-live lint check-deploy format schema up down build logs clean bench

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.tools/bin/uv:
	@echo "uv not found: installing it into .tools/ (once)"
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

install: .venv/.synced ## Create .venv with every dependency from uv.lock

run: install ## Migrate, then serve the API on http://127.0.0.1:$(PORT) with a Huey consumer
	@export DEBUG=$${DEBUG:-true}; \
	$(MANAGE) migrate --no-input && \
	echo "" && \
	echo "  REST API    http://127.0.0.1:$(PORT)/api/payouts/" && \
	echo "  Swagger UI  http://127.0.0.1:$(PORT)/api/docs/" && \
	echo "  ReDoc       http://127.0.0.1:$(PORT)/api/redoc/" && \
	echo "  GraphQL     http://127.0.0.1:$(PORT)/graphql/" && \
	echo "  Admin       http://127.0.0.1:$(PORT)/admin/  (create a user: make superuser)" && \
	echo "" && \
	$(MANAGE) dev_api_key --base-url http://127.0.0.1:$(PORT) && \
	echo "" && \
	echo "  Ctrl-C stops the API and the worker." && \
	echo "" && \
	trap 'kill $$(jobs -p) 2>/dev/null; wait' INT TERM EXIT; \
	$(MANAGE) run_huey $(if $(WORKERS),--workers $(WORKERS)) & \
	$(MANAGE) runserver --noreload 127.0.0.1:$(PORT) & \
	wait -n

worker: install ## Run the Huey consumer alone (HUEY_WORKER_TYPE=greenlet HUEY_WORKERS=1000 for greenlets)
	$(MANAGE) run_huey $(if $(WORKERS),--workers $(WORKERS))

fake-provider: install ## The fake payment provider on 127.0.0.1:8900 (options in FAKE_PROVIDER_ARGS)
	DEBUG=$${DEBUG:-true} $(MANAGE) fake_provider $(FAKE_PROVIDER_ARGS)

migrate: install ## Apply database migrations
	$(MANAGE) migrate --no-input

makemigrations: install ## Create migrations after a model change
	$(MANAGE) makemigrations

api-key: install ## Create an API key for CLIENT (created if new; EXPIRES_IN_DAYS optional): the last line printed
	@test -n "$(CLIENT)" || { echo "Usage: make api-key CLIENT=<client name> [EXPIRES_IN_DAYS=n]" >&2; exit 2; }
	@DEBUG=$${DEBUG:-true} $(MANAGE) create_api_key "$(CLIENT)" \
		$(if $(EXPIRES_IN_DAYS),--expires-in-days $(EXPIRES_IN_DAYS))

revoke-api-key: install ## Revoke the API key KEY (the whole key or its prefix)
	@test -n "$(KEY)" || { echo "Usage: make revoke-api-key KEY=<key or prefix>" >&2; exit 2; }
	@DEBUG=$${DEBUG:-true} $(MANAGE) revoke_api_key "$(KEY)"

superuser: install ## Create an admin user
	DEBUG=$${DEBUG:-true} $(MANAGE) createsuperuser

shell: install ## Django shell
	DEBUG=$${DEBUG:-true} $(MANAGE) shell

test: install ## The whole suite: unit tests on SQLite, then the PostgreSQL + Redis integration tests
	$(UV) run --frozen pytest -m "not integration" $(PYTEST_ARGS)
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(UV) run --frozen pytest -m integration $(PYTEST_ARGS)

test-postgres: install ## The whole suite again on PostgreSQL + Redis
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(UV) run --frozen pytest $(PYTEST_ARGS)

fuzz: install ## Long property-based fuzz of REST and GraphQL: FUZZ_EXAMPLES per operation, FUZZ_SEED
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(UV) run --frozen pytest tests/fuzz --timeout=3600 $(PYTEST_ARGS)

fuzz-live: install ## Schemathesis CLI, every check, on gunicorn + worker and a throwaway SQLite (< 5 min)
	FUZZ_LIVE_EXAMPLES=$(FUZZ_LIVE_EXAMPLES) $(UV) run --frozen .ci/fuzz-live

# Its own environment, with the bench group, so syncing .venv for tests never pulls it away.
BENCH_ENV := .tools/bench-venv

bench: | $(UV) ## Measure the real stack against its baselines (< 10 min): benchmarks/results/
	UV_PROJECT_ENVIRONMENT=$(BENCH_ENV) $(UV) sync --frozen --all-groups
	UV_PROJECT_ENVIRONMENT=$(BENCH_ENV) $(UV) run --frozen --all-groups python -m benchmarks $(BENCH_ARGS)

lint: install ## ruff check, ruff format --check, mypy, hadolint and the compose file
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	DEBUG=true $(UV) run --frozen mypy .
	$(UV) run --frozen hadolint Dockerfile
	$(UV) run --frozen check-jsonschema --builtin-schema vendor.compose-spec \
		docker-compose.yml docker-compose.override.example.yml

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

up: ## docker compose: build and start web, worker, PostgreSQL and Redis
	$(COMPOSE) up -d --build

down: ## docker compose: stop and remove the containers
	$(COMPOSE) down

build: ## docker compose: rebuild the images
	$(COMPOSE) build

logs: ## docker compose: follow the logs of every service
	$(COMPOSE) logs -f

clean: ## docker compose: remove containers, volumes and images of this project
	$(COMPOSE) down --volumes --rmi local --remove-orphans
