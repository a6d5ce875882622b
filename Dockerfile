# wijkgateway: one image for the API (`serve`), the delivery worker (`worker`), the one-shot
# commands (`db upgrade`, `audit verify`, ...) and key generation (`wijkgateway-init-keys`).
# Build it from the repository root: `make image` (or `docker build -t wijkgateway:local .`).
# deploy/ runs it with compose (production and development) and on Kubernetes.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Install the package from this repository (pyproject.toml reads README.md), then drop the
# sources: the image runs the installed package only.
COPY pyproject.toml README.md /src/
COPY gateway /src/gateway
COPY adapters /src/adapters
COPY schemas /src/schemas
COPY consent /src/consent
RUN pip install /src && rm -rf /src

COPY deploy/init-keys.sh /usr/local/bin/wijkgateway-init-keys

# Non-root user. It may write only its home (the working directory) and the two key
# directories, which compose mounts as volumes and Kubernetes as Secrets; production writes
# nothing else (PostgreSQL), so the root filesystem can be read-only.
RUN groupadd --system --gid 10001 wijkgateway \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/wijkgateway \
       --create-home --shell /usr/sbin/nologin wijkgateway \
    && mkdir -p /etc/wijkgateway/signing-key /etc/wijkgateway/audit-key \
    && chown 10001:10001 /etc/wijkgateway/signing-key /etc/wijkgateway/audit-key \
    && chmod 0700 /etc/wijkgateway/signing-key /etc/wijkgateway/audit-key

# Where every deployment in deploy/ keeps the keys (the Kubernetes ConfigMap names the same),
# and the home as the data folder (SQLite and keys by default, when nothing else is set).
ENV WIJKGATEWAY_SIGNING_KEY_PATH=/etc/wijkgateway/signing-key/signing-key.json \
    WIJKGATEWAY_AUDIT_SIGNING_KEY_PATH=/etc/wijkgateway/audit-key/audit-key \
    WIJKGATEWAY_DATA_DIR=/var/lib/wijkgateway

WORKDIR /var/lib/wijkgateway
USER 10001:10001

EXPOSE 8000
# Ready means the database answers (/readyz); the image has no curl. Containers that do not
# serve HTTP (the worker) switch it off in compose.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/readyz', timeout=3)"]
ENTRYPOINT ["wijkgateway"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
