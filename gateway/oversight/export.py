"""The processing log as CSV, streamed: rows are read in keyset pages (``seq`` below the last
one sent, newest first), each page in a short read of its own, and written out page by page.
Memory stays at one page however long the export; no lock or transaction is held between
pages, so writers (referrals, the export's own log entry) go on while it streams.

The export covers the log as it stood when it was asked for: entries up to ``head``, the newest
``seq`` read in the request's transaction, before the export's own entry was written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Engine, Row, Select

from gateway.oversight.queries import EntryFilter, entries_query
from gateway.platform.db.models import ProcessingLogEntry

PAGE_SIZE = 2000
CSV_LIMIT = 1_000_000
CSV_COLUMNS = ("seq", "id", "recorded_at", "kind", "action", "outcome", "activity_id",
               "purpose", "legal_basis", "actor_type", "actor_id", "acting_person",
               "acting_role", "acting_unit", "sender", "recipient",
               "recipient_role", "subject", "categories", "confidentiality",
               "retention_years", "request_id", "trace_id", "hash")
_LOG = ProcessingLogEntry


def read_page(reader: Engine, query: Select[Any]) -> Sequence[Row[Any]]:
    """One page in one short read (its own connection, released at once)."""
    with reader.connect() as connection:
        return connection.execute(query).all()


def pages(reader: Engine, where: EntryFilter, head: int,
          limit: int = CSV_LIMIT) -> Iterator[Sequence[Row[Any]]]:
    """Pages of at most ``PAGE_SIZE`` rows (the CSV columns), newest first, up to ``limit``."""
    columns = entries_query(where).with_only_columns(*(getattr(_LOG, c) for c in CSV_COLUMNS))
    below, left = head + 1, limit
    while left > 0:
        wanted = min(PAGE_SIZE, left)
        rows = read_page(reader, columns.where(_LOG.seq < below).limit(wanted))
        if rows:
            yield rows
        if len(rows) < wanted:
            return
        below, left = rows[-1].seq, left - len(rows)


def csv_chunks(rows: Iterator[Sequence[Row[Any]]]) -> Iterator[bytes]:
    """The header, then one chunk per page."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue().encode()
    for page in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(page)
        yield buffer.getvalue().encode()
