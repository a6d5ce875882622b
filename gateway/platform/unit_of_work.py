"""Run each request's unit of work, and its commit, in one place.

FastAPI runs a sync handler in one worker thread and a yield-dependency's exit in another, with
an event-loop round trip between them; committing in the exit would hold the transaction (on
SQLite: the write lock) across that round trip. This route class commits right after the
handler returns, where the handler ran. Still one transaction per request.

Where it runs: on PostgreSQL (network I/O) in a worker thread. On SQLite, whose calls are local,
short and serialised by the write lock anyway, on the event loop itself: the thread hand-offs
would cost more than the work. A write lock held by another process (the delivery worker) makes
the loop wait for the busy timeout at most; those transactions last milliseconds.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

RUN_INLINE = "run_inline"  # Session.info key, set by the session dependency


def commit_after(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    if asyncio.iscoroutinefunction(endpoint):
        return endpoint

    def work(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        for value in kwargs.values():
            if isinstance(value, Session):
                value.commit()
        return result

    @functools.wraps(endpoint)
    async def handler(*args: Any, **kwargs: Any) -> Any:
        inline = any(isinstance(v, Session) and v.info.get(RUN_INLINE) for v in kwargs.values())
        if inline:
            return work(*args, **kwargs)
        return await run_in_threadpool(work, *args, **kwargs)

    return handler


class UnitOfWorkRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, commit_after(endpoint), **kwargs)
