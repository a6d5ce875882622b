#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised: the role the gateway connects as.
# Not a superuser and not the owner; `wijkgateway db upgrade` (as the owner) grants it what it
# needs and no UPDATE, DELETE or TRUNCATE on the processing log (docs/threat-model.md).
set -eu
psql -v ON_ERROR_STOP=1 -v app_password="$APP_DB_PASSWORD" --username "$POSTGRES_USER" \
    --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE wijkgateway_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
SQL
