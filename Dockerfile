# syntax=docker/dockerfile:1
# One image for both processes: the API (gunicorn) and the Huey consumer.

FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH="/opt/venv/bin:$PATH"

WORKDIR /app

RUN pip install --no-cache-dir "uv==0.13.*"

COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
RUN DEBUG=true python manage.py collectstatic --no-input \
    && useradd --system --uid 10001 --user-group --home-dir /app app \
    && mkdir -p /app/data \
    && chown -R app:app /app/data

USER 10001
EXPOSE 8000

CMD ["gunicorn", "project.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
