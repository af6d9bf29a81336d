# syntax=docker/dockerfile:1
# One image for both of the Procfile's processes: `web` (its CMD) and `worker`
# (`python manage.py run_huey`, as docker-compose.yml runs it).

# Build: uv installs the locked dependencies, without the dev and bench groups, into /opt/venv.
FROM python:3.11-slim AS builder

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv

RUN pip install --no-cache-dir "uv==0.13.9"

WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

# Run: the same Python image, the built environment and the application; uv stays behind.
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:$PATH" \
    PORT=8000 \
    WEB_CONCURRENCY=3 \
    STATIC_COLLECTED=true

# An unprivileged user of its own, with a home for the tools that expect one.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/app app

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY . .

# Static files hashed and compressed once, here, for WhiteNoise to serve (STATIC_COLLECTED).
# The key only lets settings load for the command, and the SQLite files that loading them
# creates go to a directory thrown away: neither is kept in the image. /app/data is the
# app user's, for the SQLite files of a container run without DATABASE_URL and REDIS_URL.
RUN SECRET_KEY=collectstatic-only DATA_DIR=/tmp/collectstatic \
        python manage.py collectstatic --no-input --verbosity 0 \
    && rm -rf /tmp/collectstatic \
    && mkdir -p /app/data \
    && chown app:app /app/data

USER 10001:10001
EXPOSE 8000

# Liveness over plain HTTP on $PORT: /healthz is exempt from the HTTPS redirect, and the
# request's host, 127.0.0.1, must be in ALLOWED_HOSTS.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['PORT'] + '/healthz', timeout=2)"]

# The Procfile's `web`: gunicorn binds 0.0.0.0:$PORT and runs $WEB_CONCURRENCY workers itself.
CMD ["gunicorn", "project.asgi:application"]
