# Alliance practice: the service image.
#
#   docker build -t alliance .
#   docker run -p 8000:8000 -e ALLIANCE_SECRET_KEY=... -e ALLIANCE_DATABASE_URL=... alliance
#
# Two stages: the builder turns the project and every dependency into wheels (any compiler
# stays there); the final image installs those wheels into python:3.11-slim, runs as an
# unprivileged user, applies the database migrations and starts the service.
# Examples with PostgreSQL, a sign-in proxy and a local model server are in deploy/.

# --- builder --------------------------------------------------------------------------------
FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY app ./app
RUN pip wheel --wheel-dir /wheels .

# --- final ----------------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # The service runs from /app, where its migrations, templates, prompts and personas live.
    PYTHONPATH=/app \
    ALLIANCE_ENVIRONMENT=production \
    ALLIANCE_HOST=0.0.0.0 \
    ALLIANCE_PORT=8000 \
    ALLIANCE_LOG_FORMAT=json \
    ALLIANCE_PERSONAS_DIR=/app/personas \
    ALLIANCE_PROMPTS_DIR=/app/prompts

RUN groupadd --system --gid 10001 alliance \
    && useradd --system --uid 10001 --gid alliance --home-dir /app --shell /usr/sbin/nologin alliance

COPY --from=builder /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-index --find-links=/tmp/wheels alliance \
    && rm -rf /tmp/wheels

WORKDIR /app
# Owned by root and read-only to the service: only the database changes at run time.
COPY app ./app
COPY frontend ./frontend
COPY personas ./personas
COPY prompts ./prompts

USER alliance:alliance
EXPOSE 8000

# Liveness only (/readyz also checks the database and the model servers).
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('ALLIANCE_PORT', '8000') + '/healthz', timeout=4)"]

# Migrations on every start; replicas starting together take turns (an advisory lock).
CMD ["sh", "-c", "alliance db upgrade && exec alliance serve"]
