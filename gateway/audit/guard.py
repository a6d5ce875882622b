"""Whether the database itself keeps the connected role from rewriting the log: on PostgreSQL
the role must not be a superuser (who ignores grants) nor hold UPDATE, DELETE or TRUNCATE on
the log's tables (docs/threat-model.md). SQLite has no roles: only the signatures guard it."""

from __future__ import annotations

from sqlalchemy import Connection, text

LOG_TABLES = ("processing_log", "processing_log_checkpoints", "processing_log_leaves")
_PRIVILEGES = ("UPDATE", "DELETE", "TRUNCATE")


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
