# wijkgateway: one image for the API (`serve`), the delivery worker (`worker`) and the
# admin commands (`db upgrade`, `clients add`, ...). See deploy/ for compose and Kubernetes.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Install the package (pyproject.toml reads README.md), then drop the sources.
COPY pyproject.toml README.md /src/
COPY gateway /src/gateway
COPY adapters /src/adapters
COPY schemas /src/schemas
COPY consent /src/consent
RUN pip install /src && rm -rf /src

# Non-root user. The working directory is the only place it may write; production needs no
# writes at all (PostgreSQL, mounted signing key), so the root filesystem can be read-only.
RUN groupadd --system --gid 10001 wijkgateway \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/wijkgateway \
       --create-home --shell /usr/sbin/nologin wijkgateway
WORKDIR /var/lib/wijkgateway
USER 10001:10001

EXPOSE 8000
ENTRYPOINT ["wijkgateway"]
CMD ["serve", "--host", "0.0.0.0"]
