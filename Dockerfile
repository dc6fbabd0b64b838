# syntax=docker/dockerfile:1
#
# Images for the production Docker Compose deployment (docker-compose.yml, docs/deployment.md).
#
#   target "dagster"    dagster-webserver and dagster-daemon; no project code, so a code change only
#                       rebuilds and restarts the user_code service
#   target "user_code"  the fitbit_assets gRPC code server; DockerRunLauncher also starts every run
#                       container from this image (DAGSTER_CURRENT_IMAGE)
#
# Dagster core and its integration libraries move in lockstep (1.13.N <-> 0.29.N): keep these pins equal
# to pyproject.toml's. No secret is baked in: credentials arrive as environment variables at run time.

FROM python:3.11.14-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DAGSTER_HOME=/opt/dagster/dagster_home

# A fixed uid/gid, so files in the named volumes keep one owner across rebuilds.
RUN groupadd --system --gid 10001 dagster \
    && useradd --system --uid 10001 --gid dagster --home-dir /opt/dagster --no-create-home \
        --shell /usr/sbin/nologin dagster

RUN pip install --no-cache-dir \
        "dagster==1.13.27" \
        "dagster-postgres==0.29.27" \
        "dagster-docker==0.29.27"

COPY deploy/dagster.yaml deploy/workspace.yaml /opt/dagster/dagster_home/

# Mount points of the named volumes: a new volume takes the owner of the folder it is mounted on.
RUN mkdir -p /opt/dagster/dagster_home/storage /opt/dagster/app \
        /data/landing /data/parquet /data/roster /data/state \
    && chown -R dagster:dagster /opt/dagster /data


FROM base AS dagster

RUN pip install --no-cache-dir \
        "dagster-webserver==1.13.27" \
        "dagster-graphql==1.13.27"

# The daemon service's entry point (`dagster-daemon run` with a 2 s backfill loop): it imports only Dagster, so the
# image carries this one module of the project, not the project.
COPY fitbit_assets/__init__.py fitbit_assets/daemon.py /opt/dagster/app/fitbit_assets/
ENV PYTHONPATH=/opt/dagster/app

WORKDIR /opt/dagster/dagster_home
# Numeric (= dagster:dagster) so the host and Kubernetes-style checks can tell it is not root.
USER 10001:10001
EXPOSE 3000
CMD ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "/opt/dagster/dagster_home/workspace.yaml"]


FROM base AS user_code

WORKDIR /opt/dagster/app

# Only what the wheel needs (see .dockerignore); the wheel carries sql/ as fitbit_assets/sql/ (pyproject.toml).
COPY pyproject.toml README.md ./
COPY fitbit_assets ./fitbit_assets
COPY sql ./sql

RUN pip install --no-cache-dir \
        . \
        "dagster-docker==0.29.27" \
        "dagster-postgres==0.29.27" \
        "dagster-webserver==1.13.27"

# Defaults matching docker-compose.yml; the warehouse DSN has no default and must come from compose.
ENV FITBIT_STATE_DIR=/data/state \
    FITBIT_LANDING_DIR=/data/landing \
    FITBIT_PARQUET_DIR=/data/parquet \
    FITBIT_ROSTER_PATH=/data/roster/roster.csv

USER 10001:10001
EXPOSE 4000
# CMD, not ENTRYPOINT: DockerRunLauncher replaces the command with `dagster api execute_run ...`.
CMD ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", "4000", "-m", "fitbit_assets.definitions"]
