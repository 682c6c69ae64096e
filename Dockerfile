# The image the Helm chart runs (helm/admitone): `admitone serve` by default; the chart runs
# `admitone jobs` and `admitone migrate` from the same image.
#   docker build -t admitone:0.1.0 .
# Two stages: the first builds admitone and its dependencies into a virtualenv (compilers and
# caches stay there), the second copies only that virtualenv onto a slim Python and runs as an
# unprivileged user (uid 10001, the chart's podSecurityContext.runAsUser).

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/admitone
WORKDIR /src
COPY pyproject.toml README.md ./
COPY admitone ./admitone
RUN /opt/admitone/bin/pip install . \
 && /opt/admitone/bin/python -c "import admitone.gateway.app"

FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 admitone \
 && useradd --system --uid 10001 --gid admitone --home-dir /var/lib/admitone --no-create-home \
      --shell /usr/sbin/nologin admitone \
 && install -d -o admitone -g admitone -m 0750 /var/lib/admitone
COPY --from=build /opt/admitone /opt/admitone
ENV PATH=/opt/admitone/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ADMITONE_HOST=0.0.0.0 \
    ADMITONE_PORT=8000 \
    ADMITONE_DATA_DIR=/var/lib/admitone
USER 10001:10001
WORKDIR /var/lib/admitone
EXPOSE 8000
ENTRYPOINT ["admitone"]
CMD ["serve"]
