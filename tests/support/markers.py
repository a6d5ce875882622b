"""Shared test marks."""

from __future__ import annotations

import pytest

# Tests about request handling (scopes, fuzzing) run on SQLite only: the database fixture is
# parametrized over both backends, and the API tests already run each query on PostgreSQL.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
