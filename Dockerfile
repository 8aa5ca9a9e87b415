# Firebreak container image.
#
#   docker build -t registry.example.com/firebreak:0.1.0 .
#
# Web (default):  gunicorn -c gunicorn.conf.py wsgi:app     (listens on 0.0.0.0:$PORT, 8000)
# Worker:         docker run IMAGE firebreak worker --with-scheduler
# Reconciler:     docker run IMAGE firebreak reconcile --once
# Migrations:     docker run IMAGE firebreak db upgrade
#
# The runtime stage has no compilers or package manager caches, runs as uid/gid 10001 and
# writes nothing outside /tmp, so it works with readOnlyRootFilesystem and an emptyDir on /tmp.
# Needs BuildKit (the default builder since Docker 23) for the RUN --mount in the final stage.

ARG PYTHON_VERSION=3.11.14
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------------------------------------
# builder: turn the project and all of its dependencies into wheels
# ---------------------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src

# Only what the build needs (see .dockerignore); the metadata first for better layer caching.
COPY pyproject.toml README.md ./
COPY service/ service/
COPY workers/ workers/

RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# ---------------------------------------------------------------------------------------------
# runtime: slim Python, the installed wheels, migrations and playbooks; nothing else
# ---------------------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS runtime

ARG APP_UID=10001
ARG APP_GID=10001

LABEL org.opencontainers.image.title="firebreak" \
      org.opencontainers.image.description="Crisis escalation and incident workflow service" \
      org.opencontainers.image.licenses="Proprietary"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONFAULTHANDLER=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    PORT=8000 \
    FIREBREAK_PLAYBOOKS_DIR=/app/playbooks

RUN groupadd --system --gid "${APP_GID}" firebreak \
    && useradd --system --uid "${APP_UID}" --gid "${APP_GID}" \
       --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin firebreak

# Install from the builder's wheels without copying them into a layer (this gives the
# dependencies and the `firebreak` console script). The project's own packages are then served
# from /app (PYTHONPATH) rather than site-packages: service.config.PROJECT_ROOT is the parent of
# the `service` package, and the CLI finds alembic.ini and migrations/ there.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels /wheels/*.whl \
    && purelib="$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
    && rm -rf "${purelib}/service" "${purelib}/workers"

WORKDIR /app
ENV PYTHONPATH=/app

# Owned by root and read-only for the app user: the process never writes here.
COPY alembic.ini gunicorn.conf.py wsgi.py ./
COPY migrations/ migrations/
COPY playbooks/ playbooks/
COPY service/ service/
COPY workers/ workers/
# Byte-compile now: with a read-only root filesystem nothing can be compiled at run time.
RUN python -m compileall -q service workers migrations

USER 10001:10001

EXPOSE 8000

# Kubernetes probes /healthz and /readyz; no Docker HEALTHCHECK on purpose.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
