"""Whether the database itself keeps the connected role from rewriting the log: on PostgreSQL
the role must not be a superuser (who ignores grants) nor hold UPDATE, DELETE or TRUNCATE on
the log's tables (docs/threat-model.md). SQLite has no roles: only the signatures guard it."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

LOG_TABLES = ("processing_log", "processing_log_checkpoints", "processing_log_leaves")
_PRIVILEGES = ("UPDATE", "DELETE", "TRUNCATE")


class LogUnguarded(RuntimeError):
    """Production on PostgreSQL refuses to start as a role that could rewrite the log."""


def require_guard(engine: Engine) -> None:
    """Start-up check for production on PostgreSQL: the role the gateway runs as must be the
    application role of docs/threat-model.md (SQLite, which has no roles, is not checked)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        if problem := guard_problem(connection):
            raise LogUnguarded(f"the processing log is not protected: {problem}; run the "
                               "gateway as the application role (WIJKGATEWAY_DATABASE_APP_ROLE, "
                               "docs/threat-model.md)")


def guard_problem(connection: Connection) -> str | None:
    """None when the connected role cannot change or remove log rows; else what it can do."""
    if connection.dialect.name != "postgresql":
        return "SQLite has no roles: whoever can write the file can change the log"
    if connection.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")):
        return "connected as a superuser, who ignores grants"
    held = [f"{privilege} on {table}" for table in LOG_TABLES for privilege in _PRIVILEGES
            if connection.scalar(text("SELECT has_table_privilege(current_user, :t, :p)"),
                                 {"t": table, "p": privilege})]
    return f"the connected role holds {', '.join(held)}" if held else None
